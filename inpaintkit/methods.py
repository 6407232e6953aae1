"""Every inpainting method of the kit behind one name, for notebooks and the command line.

``METHODS`` maps a name to ``"module:function"``, imported only when used. Learned methods
follow one signature, ``fn(image (H, W, 3), mask (H, W, 1), *, weights=None, seed=0) -> (H, W, 3)``
(``weights``: a ``.weights.h5`` file instead of the shipped one; for ``glcic`` also a shipped
name); the classical ones are
:mod:`inpaintkit.baselines` and take no weights::

    methods.inpaint(image, mask, "telea")              # -> image, exact outside the hole
    methods.inpaint_file("car.png", "hole.png", "out.png", method="biharmonic")
    python -m inpaintkit inpaint car.png --mask hole.png --method ns --out out.png

Files: IMAGE is any image Pillow reads (PNG, JPEG, BMP, TIFF, ...; alpha dropped, EXIF rotation
applied; read with ``inpaintkit.data.folder.load_image``). MASK is an image of the same size where a
non-zero pixel (in any colour channel; alpha is ignored) is a hole. OUT is written as 8-bit RGB
with IMAGE's size, and its pixels outside the hole are IMAGE's exactly (for 8-bit inputs; a 16-bit
image comes out 8-bit) -- so OUT must be lossless (.png, .bmp, .tif, .tiff): a JPEG would change
them, and is refused rather than silently breaking that promise.
"""
from __future__ import annotations

import importlib
from pathlib import Path

import numpy as np

from .errors import InpaintkitError, check_images, check_int, check_masks, fail

METHODS: dict[str, str] = {
    "telea": "inpaintkit.baselines:telea",
    "ns": "inpaintkit.baselines:navier_stokes",
    "biharmonic": "inpaintkit.baselines:biharmonic",
    "glcic": "inpaintkit.glcic.inference:inpaint_image",
    "semantic": "inpaintkit.semantic:inpaint_image",
    "guided": "inpaintkit.guided:inpaint_image",
}
CLASSICAL = ("telea", "ns", "biharmonic")
LOSSLESS = (".png", ".bmp", ".tif", ".tiff")


def register(name: str, target) -> None:
    """Add a method: ``target`` is ``"module:function"`` or a callable with the learned signature."""
    if not isinstance(name, str) or not name.isidentifier():
        fail("name", "a method name made of letters, digits and _", repr(name))
    if not (callable(target) or (isinstance(target, str) and target.count(":") == 1)):
        fail("target", "'module:function' or a callable", repr(target))
    METHODS[name] = target


def get(name: str):
    """The function behind a method name (importing its module now)."""
    if name not in METHODS:
        fail("method", "one of " + ", ".join(METHODS), repr(name))
    target = METHODS[name]
    if callable(target):
        return target
    module, _, attr = target.partition(":")
    try:
        fn = getattr(importlib.import_module(module), attr)
    except ModuleNotFoundError as e:
        if e.name and (module == e.name or module.startswith(e.name + ".")):
            raise InpaintkitError(f"method {name!r} is not available in this version") from None
        raise InpaintkitError(f"method {name!r} needs the package {e.name!r}: install it") from None
    except AttributeError:
        raise InpaintkitError(f"method {name!r} is not available in this version") from None
    return fn


def available() -> list[str]:
    """Names of the methods that can run here."""
    out = []
    for name in METHODS:
        try:
            get(name)
            out.append(name)
        except InpaintkitError:
            pass
    return out


def inpaint(image, mask, method: str = "telea", *, weights=None, seed: int = 0, **kw) -> np.ndarray:
    """Fill the hole(s) of ``image`` (H, W, 3) or a batch with ``method``.

    Returns float32 [0, 1] images with the input's pixels outside the hole exactly; an empty
    mask returns the image unchanged (no method is run). ``kw`` goes to the method (e.g.
    ``radius=5`` for Telea).
    """
    image = check_images("image", image)
    mask = check_masks("mask", mask, like=image)
    seed = check_int("seed", seed, 0)
    fn = get(method)
    if method in CLASSICAL and weights is not None:
        fail("weights", f"None for the classical method {method!r}", repr(weights))
    if image.ndim == 4:
        return np.stack([inpaint(im, m, method, weights=weights, seed=seed, **kw) for im, m in zip(image, mask)])
    hole = mask[..., 0] >= 0.5
    if not hole.any():
        return image.copy()
    out = fn(image, mask, **kw) if method in CLASSICAL else fn(image, mask, weights=weights, seed=seed, **kw)
    out = np.asarray(out, np.float32)
    if out.shape != image.shape:
        raise InpaintkitError(f"method {method!r}: returned shape {out.shape}, expected {image.shape}")
    return np.where(hole[..., None], np.clip(out, 0, 1), image)


# --------------------------------------------------------------------------- files
def read_image(path) -> np.ndarray:
    """An image file as float32 RGB in [0, 1], (H, W, 3) (``inpaintkit.data.folder.load_image``)."""
    from .data.folder import load_image

    return load_image(path, name="image")


def read_mask(path) -> np.ndarray:
    """A mask file as float32 (H, W, 1): 1 where any colour channel is non-zero (alpha is ignored)."""
    from .data.folder import load_image

    return (load_image(path, name="mask") > 0).any(axis=-1, keepdims=True).astype(np.float32)


def _check_out(path) -> Path:
    p = Path(path)
    if p.suffix.lower() not in LOSSLESS:
        fail("out", "a lossless image file (" + ", ".join(LOSSLESS) + "); JPEG would change the pixels "
             "outside the hole", repr(str(path)))
    if not p.parent.is_dir():
        fail("out", "a path in an existing folder", repr(str(path)))
    return p


def write_image(path, image) -> Path:
    """Write a [0, 1] RGB image losslessly as 8-bit (.png, .bmp, .tif)."""
    from .data.folder import save_image

    return save_image(_check_out(path), check_images("image", image, batched=False))


def inpaint_file(image_path, mask_path, out_path, method: str = "telea", weights=None, seed: int = 0) -> Path:
    """Read IMAGE and MASK (non-zero = hole), inpaint with ``method``, write OUT (same size,
    IMAGE's pixels outside the hole exactly). Every bad input raises one clear InpaintkitError."""
    if method not in METHODS:
        fail("method", "one of " + ", ".join(METHODS), repr(method))
    _check_out(out_path)
    if weights is not None and not Path(weights).is_file():
        names = []
        if method == "glcic":                   # the shipped GLCIC names (without importing a backend)
            from .weights import glcic_names
            names = glcic_names()
        if str(weights) not in names:
            fail("weights", "an existing .weights.h5 file" + (f" or a shipped name ({', '.join(names)})" if names else ""),
                 repr(str(weights)))
    image = read_image(image_path)
    mask = read_mask(mask_path)
    if mask.shape[:2] != image.shape[:2]:
        fail("mask", f"an image of the same size as IMAGE ({image.shape[1]}x{image.shape[0]} pixels)",
             f"{mask.shape[1]}x{mask.shape[0]} pixels in {str(mask_path)!r}")
    out = inpaint(image, mask, method, weights=weights, seed=seed)
    return write_image(out_path, out)
