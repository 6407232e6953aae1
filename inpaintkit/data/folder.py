"""Your own images: read and write single files, or load a whole folder as a training set.

    image = load_image("car.jpg")                # float32 (H, W, 3) in [0, 1], any format Pillow reads
    save_image("out/car_filled.png", image)
    images = load_folder("my_photos/", size=64)  # every image below the folder, centre-cropped to 64²
"""
from __future__ import annotations

import warnings
from pathlib import Path

import cv2
import numpy as np

from ..errors import InpaintkitError, check_choice, check_images, check_int, describe, fail
from .pipeline import to_uint8

EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp")


def load_image(path, name: str = "image") -> np.ndarray:
    """Read an image file as float32 RGB ``(H, W, 3)`` in [0, 1].

    Grey images are repeated to three channels, an alpha channel is dropped, 16-bit images keep their
    precision, the EXIF orientation of camera photos is applied. A missing, unreadable or corrupt
    file raises ``InpaintkitError`` naming it.
    """
    from PIL import Image, ImageOps, UnidentifiedImageError
    p = Path(path)
    if not p.is_file():
        fail(name, "an existing image file", f"{str(path)!r} ({'a folder' if p.is_dir() else 'no such file'})")
    try:
        with Image.open(p) as im:
            im.load()
            im = ImageOps.exif_transpose(im)
            if im.mode in ("I;16", "I;16B", "I;16L", "I"):
                grey = np.asarray(im, dtype=np.float32) / 65535.0
                return np.repeat(np.clip(grey, 0, 1)[..., None], 3, axis=2)
            if im.mode == "F":
                grey = np.asarray(im, dtype=np.float32)
                return np.repeat(np.clip(grey, 0, 1)[..., None], 3, axis=2)
            rgb = np.asarray(im.convert("RGB"))
    except Image.DecompressionBombError as e:   # a header claiming billions of pixels: refused before decoding
        raise InpaintkitError(f"{name}: expected an image of at most {2 * Image.MAX_IMAGE_PIXELS:,} pixels (Pillow's "
                              f"decompression-bomb limit), got {str(path)!r} ({_pixels(e)})") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError) as e:
        raise InpaintkitError(f"{name}: expected a readable image file, got {str(path)!r} ({type(e).__name__}: "
                              f"{str(e).splitlines()[0] if str(e) else 'corrupt or unsupported'})") from None
    return rgb.astype(np.float32) * np.float32(1 / 255)


def _pixels(bomb: Exception) -> str:
    import re
    m = re.search(r"\((\d+) pixels\)", str(bomb))
    return f"{int(m.group(1)):,} pixels" if m else str(bomb).splitlines()[0][:80]


def save_image(path, image, name: str = "image") -> Path:
    """Write a [0, 1] image ``(H, W, 3)``, ``(H, W, 1)`` or ``(H, W)`` as an 8-bit file (format from the suffix)."""
    from PIL import Image
    p = Path(path)
    check_choice(f"{name} path suffix", p.suffix.lower(), (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp"))
    x = np.asarray(image)
    if x.ndim == 3 and x.shape[-1] == 1:
        x = x[..., 0]
    if x.ndim == 3:
        x = check_images(name, x, batched=False)
    elif x.ndim != 2:
        fail(name, "an image of shape (H, W, 3), (H, W, 1) or (H, W)", describe(x))
    p.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(to_uint8(x)).save(p)
    return p


def fit(image: np.ndarray, size: int, mode: str = "crop") -> np.ndarray:
    """Resize one image to ``size`` x ``size``: ``crop`` the central square first, or ``stretch`` it."""
    h, w = image.shape[:2]
    if mode == "crop":
        s = min(h, w)
        y, x = (h - s) // 2, (w - s) // 2
        image = image[y:y + s, x:x + s]
    interp = cv2.INTER_AREA if min(image.shape[:2]) >= size else cv2.INTER_CUBIC
    out = cv2.resize(np.ascontiguousarray(image, dtype=np.float32), (size, size), interpolation=interp)
    return np.clip(out, 0.0, 1.0)


def image_files(path, recursive: bool = True) -> list:
    """Sorted image files (by suffix, case-insensitive) in a folder, searched recursively by default."""
    root = Path(path)
    if not root.is_dir():
        what = "a file" if root.is_file() else "no such folder"
        fail("path", "an existing folder of images", f"{str(path)!r} ({what})")
    it = root.rglob("*") if recursive else root.glob("*")
    return sorted(p for p in it if p.is_file() and p.suffix.lower() in EXTENSIONS and not p.name.startswith("."))


def load_folder(path, size: int = 64, limit: int | None = None, recursive: bool = True,
                on_error: str = "skip") -> np.ndarray:
    """All images in a folder (recursively, sorted by path), centre-cropped and resized: ``(N, size, size, 3)``.

    ``limit`` keeps the first ``limit`` files. ``on_error="skip"`` skips unreadable files with a
    warning; ``"raise"`` stops at the first one.
    """
    size = check_int("size", size, 8, 4096)
    check_choice("on_error", on_error, ("skip", "raise"))
    files = image_files(path, recursive)
    if not files:
        fail("path", f"a folder containing images ({', '.join(EXTENSIONS)})", f"{str(path)!r} with none")
    if limit is not None:
        files = files[:check_int("limit", limit, 1)]
    out, bad = [], []
    for f in files:
        try:
            out.append(fit(load_image(f), size))
        except InpaintkitError:
            if on_error == "raise":
                raise
            bad.append(f.name)
    if bad:
        warnings.warn(f"load_folder: skipped {len(bad)} unreadable file(s): {', '.join(bad[:5])}"
                      + (" ..." if len(bad) > 5 else ""), stacklevel=2)
    if not out:
        fail("path", "a folder with at least one readable image", f"{str(path)!r} ({len(bad)} unreadable)")
    return np.stack(out).astype(np.float32)
