"""Photo patches: random crops of the real colour photos that ship inside scikit-image (no download).

Real textures (skin, fur, metal, stars, tissue) for training GLCIC-style completion networks:

    x = patches(512, size=64, seed=0, split="train")    # float32 (512, 64, 64, 3) in [0, 1]

Splits never overlap: every photo is cut along its longer side into three bands, the first 70 %
for ``train``, the next 15 % for ``val`` and the last 15 % for ``test``, and a patch is always cropped
from inside one band. Cutting every photo (rather than giving each split different photos) keeps all
three splits drawn from the same mix of textures, so validation measures generalisation to new
regions, not to a new kind of picture. Only one of scikit-image's two stereo motorcycle views is
used: the other shows the same scene shifted, so its bands would leak across the splits.
"""
from __future__ import annotations

import functools

import cv2
import numpy as np

from ..errors import InpaintkitError, check_choice, check_int

# name -> how to get it from skimage.data (all bundled with scikit-image; none needs pooch or a network)
_SOURCES = {
    "astronaut": ("astronaut", None),
    "chelsea": ("chelsea", None),
    "coffee": ("coffee", None),
    "rocket": ("rocket", None),
    "motorcycle_left": ("stereo_motorcycle", 0),
    "hubble_deep_field": ("hubble_deep_field", None),
    "immunohistochemistry": ("immunohistochemistry", None),
    "retina": ("retina", None),
}
PHOTOS = tuple(_SOURCES)
SPLITS = ("train", "val", "test")
FRACTIONS = (0.70, 0.15, 0.15)
MAX_ZOOM_OUT = 4.0      # a patch covers between 1x and 4x its size in photo pixels (random scale)


@functools.lru_cache(maxsize=None)
def photo(name: str) -> np.ndarray:
    """The whole photo ``name`` as uint8 ``(H, W, 3)`` (cached)."""
    check_choice("photo", name, PHOTOS)
    import skimage.data
    fn, index = _SOURCES[name]
    try:
        x = getattr(skimage.data, fn)()
    except Exception as e:  # noqa: BLE001 - a broken or trimmed scikit-image install
        raise InpaintkitError(f"photo: expected scikit-image's bundled {name!r}, got {type(e).__name__}: {e}") from None
    x = x[index] if index is not None else x
    x = np.ascontiguousarray(x[..., :3])
    x.setflags(write=False)
    return x


def region(name: str, split: str) -> tuple:
    """``(y0, y1, x0, x1)`` of the band of photo ``name`` that ``split`` may crop from."""
    check_choice("split", split, SPLITS)
    h, w = photo(name).shape[:2]
    long = max(h, w)
    edges = np.round(np.cumsum((0.0,) + FRACTIONS) * long).astype(int)
    k = SPLITS.index(split)
    a, b = int(edges[k]), int(edges[k + 1])
    return (0, h, a, b) if w >= h else (a, b, 0, w)


def _patch(rng: np.random.Generator, names, split: str, size: int) -> np.ndarray:
    name = names[rng.integers(len(names))]
    img = photo(name)
    y0, y1, x0, x1 = region(name, split)
    room = min(y1 - y0, x1 - x0)
    lo = min(size, room)                      # a band narrower than the patch is upsampled
    hi = min(room, int(size * MAX_ZOOM_OUT))
    side = int(round(lo * (hi / lo) ** rng.random()))     # log-uniform scale
    y = y0 + int(rng.integers(0, y1 - y0 - side + 1))
    x = x0 + int(rng.integers(0, x1 - x0 - side + 1))
    crop = img[y:y + side, x:x + side]
    interp = cv2.INTER_AREA if side >= size else cv2.INTER_CUBIC
    out = cv2.resize(crop, (size, size), interpolation=interp)
    return cv2.flip(out, 1) if rng.random() < 0.5 else out


def patches(n: int, size: int = 64, seed: int = 0, split: str = "train", photos=None) -> np.ndarray:
    """``n`` random square crops (random photo, scale 1-4x, horizontal flip) as float32 ``(n, size, size, 3)``.

    Patch ``i`` depends only on ``(seed, split, i, size, photos)``. ``photos``: a subset of ``PHOTOS``.
    """
    n = check_int("n", n, 0)
    size = check_int("size", size, 8, 512)
    seed = check_int("seed", seed, 0)
    check_choice("split", split, SPLITS)
    names = PHOTOS if photos is None else tuple(photos)
    if not names:
        raise InpaintkitError("photos: expected a non-empty list of names from PHOTOS, got []")
    for name in names:
        check_choice("photos", name, PHOTOS)
    k = SPLITS.index(split)
    out = np.empty((n, size, size, 3), np.uint8)
    for i in range(n):
        out[i] = _patch(np.random.default_rng([seed, k, i]), names, split, size)
    return out.astype(np.float32) * np.float32(1 / 255)
