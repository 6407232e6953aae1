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
non-zero pixel (in any colour channel; alpha is ignored) is a hole; a JPEG mask is lossy (its edges
carry faint non-zero noise), so it is binarised at 0.5 instead (a pixel is a hole if any channel is
>= 128) and a warning says so. A mask covering more than half of the image is warned about (an
inverted mask: 0 must be known, non-zero the hole); one that is all hole is refused.
OUT is written as 8-bit RGB with IMAGE's size, and its pixels outside the hole are IMAGE's exactly
(for 8-bit inputs; a 16-bit image comes out 8-bit) -- so OUT must be lossless (.png, .bmp, .tif,
.tiff, or .webp, written as lossless WebP): a JPEG would change them, and is refused rather than
silently breaking that promise. OUT is written atomically (a temporary file in the same folder,
then renamed), so a failed write (full disk, read-only folder) leaves a previous OUT intact; OUT
may not be IMAGE or MASK unless ``overwrite=True``.
"""
from __future__ import annotations

import importlib
import os
import warnings
from pathlib import Path

import numpy as np

from .errors import InpaintkitError, check_images, check_int, check_masks, fail

METHODS: dict[str, str] = {
    "telea": "inpaintkit.baselines:telea",
    "ns": "inpaintkit.baselines:navier_stokes",
    "biharmonic": "inpaintkit.baselines:biharmonic",
    "glcic": "inpaintkit.glcic.inference:inpaint_image",
    "semantic": "inpaintkit.semantic:inpaint_image",
    "ilo": "inpaintkit.ilo:inpaint_image",
    "guided": "inpaintkit.guided:inpaint_image",
}
CLASSICAL = ("telea", "ns", "biharmonic")
LOSSLESS = (".png", ".bmp", ".tif", ".tiff", ".webp")
LOSSY_MASKS = (".jpg", ".jpeg", ".jfif")


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
        if not len(image):
            fail("image", "a batch of at least one image", f"an empty batch of shape {image.shape}")
        return np.stack([inpaint(im, m, method, weights=weights, seed=seed, **kw) for im, m in zip(image, mask)])
    hole = mask[..., 0] >= 0.5
    if not hole.any():
        return image.copy()
    out = fn(image, mask, **kw) if method in CLASSICAL else fn(image, mask, weights=weights, seed=seed, **kw)
    out = np.asarray(out, np.float32)
    if not out.flags.writeable or np.may_share_memory(out, image):
        out = out.copy()                                # filled in place below: never the caller's array
    if out.shape != image.shape:
        raise InpaintkitError(f"method {method!r}: returned shape {out.shape}, expected {image.shape}")
    np.clip(out, 0, 1, out=out)
    np.copyto(out, image, where=~hole[..., None])
    return out


# --------------------------------------------------------------------------- files
def read_image(path) -> np.ndarray:
    """An image file as float32 RGB in [0, 1], (H, W, 3) (``inpaintkit.data.folder.load_image``)."""
    from .data.folder import load_image

    return load_image(path, name="image")


def read_mask(path) -> np.ndarray:
    """A mask file as float32 (H, W, 1): 1 where any colour channel is non-zero (alpha is ignored);
    a JPEG mask (lossy: faint non-zero noise around every edge) is binarised at 0.5 instead, with
    a warning."""
    from .data.folder import load_image

    m = load_image(path, name="mask")
    if Path(path).suffix.lower() in LOSSY_MASKS:
        warnings.warn(f"mask: {Path(path).name!r} is a JPEG (lossy), binarised at 0.5 (hole where a channel "
                      ">= 128); save masks as PNG to keep them exact", stacklevel=2)
        return (m >= 0.5).any(axis=-1, keepdims=True).astype(np.float32)
    return (m > 0).any(axis=-1, keepdims=True).astype(np.float32)


def _check_out(path) -> Path:
    p = Path(path)
    if p.is_dir():
        fail("out", "a file name, not a folder", repr(str(path)))
    if p.suffix.lower() not in LOSSLESS:
        why = "; JPEG would change the pixels outside the hole" if p.suffix.lower() in LOSSY_MASKS else ""
        fail("out", "an image file ending in " + ", ".join(LOSSLESS) + " (lossless)" + why, repr(str(path)))
    if not p.parent.is_dir():
        fail("out", "a path in an existing folder", repr(str(path)))
    return p


def _same_file(a, b) -> bool:
    a, b = Path(a), Path(b)
    try:
        return a.exists() and b.exists() and os.path.samefile(a, b)
    except OSError:
        return a.resolve() == b.resolve()


def write_image(path, image) -> Path:
    """Write a [0, 1] RGB image losslessly as 8-bit (.png, .bmp, .tif, .webp as lossless WebP),
    atomically: into a temporary file in the same folder, then renamed over ``path``, so a failed
    write leaves a previous file intact. An OS error (read-only folder, full disk) raises one
    InpaintkitError naming ``out``."""
    import tempfile

    from PIL import Image

    from .data.pipeline import to_uint8
    p = _check_out(path)
    pixels = to_uint8(check_images("image", image, batched=False))
    fmt = {".png": "PNG", ".bmp": "BMP", ".tif": "TIFF", ".tiff": "TIFF", ".webp": "WEBP"}[p.suffix.lower()]
    opts = {"lossless": True, "exact": True, "quality": 100} if fmt == "WEBP" else {}
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{p.name}.", suffix=".tmp", dir=p.parent)
        with os.fdopen(fd, "wb") as f:
            Image.fromarray(pixels).save(f, format=fmt, **opts)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, p)
        tmp = None
    except OSError as e:
        kept = ", the previous file is unchanged" if p.exists() else ""
        fail("out", "a writable file path", f"{str(path)!r} ({e.strerror or type(e).__name__}; nothing was written{kept})")
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
    return p


def inpaint_file(image_path, mask_path, out_path, method: str = "telea", weights=None, seed: int = 0,
                 overwrite: bool = False) -> Path:
    """Read IMAGE and MASK (non-zero = hole), inpaint with ``method``, write OUT (same size,
    IMAGE's pixels outside the hole exactly; atomically). Every bad input raises one clear
    InpaintkitError; OUT may be IMAGE or MASK only with ``overwrite=True``."""
    if method not in METHODS:
        fail("method", "one of " + ", ".join(METHODS), repr(method))
    seed = check_int("seed", seed, 0)
    _check_out(out_path)
    for what, other in (("IMAGE", image_path), ("MASK", mask_path)):
        if not overwrite and _same_file(out_path, other):
            fail("out", f"a file other than {what} (pass --overwrite / overwrite=True to replace it)",
                 repr(str(out_path)))
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
    share = float(mask.mean())
    if share == 1.0:
        fail("mask", "some known pixels (0 = known, non-zero = hole)",
             f"a mask that is all hole in {str(mask_path)!r}; is it inverted?")
    if share > 0.5:
        warnings.warn(f"mask: {share:.0%} of the image is hole (non-zero = hole, 0 = known); if your mask marks "
                      "the pixels to keep, it is inverted", stacklevel=2)
    out = inpaint(image, mask, method, weights=weights, seed=seed)
    return write_image(out_path, out)
