"""Hole masks with explicit parameters (1 = hole), in the spirit of LaMa's mask generators.

Every generator returns one ``float32`` mask of shape ``(H, W, 1)``; ``size`` is an int
(square) or ``(H, W)``. Random generators take ``rng`` as a ``numpy.random.Generator`` or
an int seed, so the same seed gives the same mask::

    masks.center_box(64)                       # Yeh et al.: centre block, 25 % of the image
    masks.half(64, "left")                     # Yeh et al.: left/right half
    masks.random_boxes(64, rng)                # GLCIC: a box with sides in [3/8, 1/2] of the image
    masks.strokes(64, rng)                     # DeepFill v2 / LaMa free-form brush strokes
    masks.random_pixels(64, rng, frac=0.8)     # Yeh et al.: 80 % of the pixels missing
    masks.batch("random_boxes", 16, 64, seed=0)  # (16, 64, 64, 1), deterministic

GLCIC's local discriminator sees a ``patch x patch`` window centred on the hole:
:func:`local_box` finds it, :func:`crop` cuts it out of a batch (NumPy or ``keras.ops``).
"""
from __future__ import annotations

import numpy as np

from .errors import InpaintkitError, check_choice, check_float, check_int, check_masks, describe, fail

KINDS = ("center_box", "half", "random_boxes", "strokes", "random_pixels")
SIDES = ("left", "right", "top", "bottom")


# --------------------------------------------------------------------------- helpers
def _size(size) -> tuple[int, int]:
    if isinstance(size, (tuple, list)) and len(size) == 2:
        return check_int("size[0]", size[0], 1), check_int("size[1]", size[1], 1)
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        s = check_int("size", size, 1)
        return s, s
    fail("size", "an int >= 1 or a pair (H, W)", describe(size))


def _rng(rng) -> np.random.Generator:
    if isinstance(rng, np.random.Generator):
        return rng
    if isinstance(rng, (int, np.integer)) and not isinstance(rng, bool) and rng >= 0:
        return np.random.default_rng(int(rng))
    fail("rng", "a numpy.random.Generator or an int seed >= 0", describe(rng))


def _range(name: str, value, lo: float, hi: float, integer: bool = False) -> tuple:
    """A (min, max) pair with lo <= min <= max <= hi; a single number means (v, v)."""
    if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
        value = (value, value)
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        fail(name, f"a number or a pair (min, max) within [{lo}, {hi}]", describe(value))
    check = check_int if integer else check_float
    a, b = check(f"{name}[0]", value[0], lo, hi), check(f"{name}[1]", value[1], lo, hi)
    if a > b:
        fail(name, "a pair (min, max) with min <= max", value)
    return a, b


def _frac(name: str, value) -> float:
    v = check_float(name, value)
    if not 0 < v < 1:
        fail(name, "a fraction strictly between 0 and 1", value)
    return v


def _empty(h: int, w: int) -> np.ndarray:
    return np.zeros((h, w, 1), np.float32)


# --------------------------------------------------------------------------- generators
def box(size, top: int, left: int, height: int, width: int) -> np.ndarray:
    """A rectangular hole at an explicit position (clipped to the image)."""
    h, w = _size(size)
    top, left = check_int("top", top), check_int("left", left)
    height, width = check_int("height", height, 0), check_int("width", width, 0)
    m = _empty(h, w)
    m[max(top, 0):max(top + height, 0), max(left, 0):max(left + width, 0)] = 1
    return m


def center_box(size, frac: float = 0.5) -> np.ndarray:
    """A centred rectangle covering ``frac`` of each side (frac 0.5 -> 25 % of the area)."""
    h, w = _size(size)
    frac = _frac("frac", frac)
    bh, bw = max(1, round(frac * h)), max(1, round(frac * w))
    return box((h, w), (h - bh) // 2, (w - bw) // 2, bh, bw)


def half(size, side: str = "left") -> np.ndarray:
    """The left, right, top or bottom half of the image is missing."""
    h, w = _size(size)
    check_choice("side", side, SIDES)
    m = _empty(h, w)
    if side == "left":
        m[:, : w // 2] = 1
    elif side == "right":
        m[:, w // 2:] = 1
    elif side == "top":
        m[: h // 2] = 1
    else:
        m[h // 2:] = 1
    return m


def random_boxes(size, rng=0, n=(1, 1), side_range=(3 / 8, 1 / 2)) -> np.ndarray:
    """``n`` (an int or a range) boxes, each side uniform in ``side_range`` x the image side.

    GLCIC (Iizuka et al. 2017) trains on 256² crops with one hole whose sides are in
    [96, 128] pixels, i.e. ``side_range=(3/8, 1/2)``. Position uniform inside the image.
    """
    h, w = _size(size)
    rng = _rng(rng)
    n_lo, n_hi = _range("n", n, 0, 1000, integer=True)
    lo, hi = _range("side_range", side_range, 0, 1)
    if hi <= 0:
        fail("side_range", "a pair (min, max) with max > 0", side_range)
    m = _empty(h, w)
    for _ in range(int(rng.integers(n_lo, n_hi + 1))):
        bh = int(rng.integers(max(1, round(lo * h)), max(1, round(hi * h)) + 1))
        bw = int(rng.integers(max(1, round(lo * w)), max(1, round(hi * w)) + 1))
        top, left = int(rng.integers(0, h - bh + 1)), int(rng.integers(0, w - bw + 1))
        m[top:top + bh, left:left + bw] = 1
    return m


def strokes(size, rng=0, n=(1, 4), width=(0.04, 0.12), length=(0.1, 0.3), vertices=(2, 6),
            max_angle: float = 2.5) -> np.ndarray:
    """Free-form brush strokes (DeepFill v2 / LaMa style).

    Each of ``n`` strokes starts at a random point and makes ``vertices`` segments of random
    ``length`` (fraction of the image side) turning by up to ``max_angle`` radians, drawn
    with a round brush of ``width`` (fraction of the side). LaMa's "thin" masks at 256² use
    widths up to ~10 px (0.04); DeepFill's brush is 12-40 px (0.05-0.16).
    """
    import cv2

    h, w = _size(size)
    rng = _rng(rng)
    n_lo, n_hi = _range("n", n, 0, 1000, integer=True)
    w_lo, w_hi = _range("width", width, 0, 1)
    l_lo, l_hi = _range("length", length, 0, 2)
    v_lo, v_hi = _range("vertices", vertices, 1, 100, integer=True)
    max_angle = check_float("max_angle", max_angle, 0, np.pi)
    side = min(h, w)
    canvas = np.zeros((h, w), np.uint8)
    for _ in range(int(rng.integers(n_lo, n_hi + 1))):
        x, y = rng.uniform(0, w), rng.uniform(0, h)
        angle = rng.uniform(0, 2 * np.pi)
        brush = max(1, round(rng.uniform(w_lo, w_hi) * side))
        for _ in range(int(rng.integers(v_lo, v_hi + 1))):
            angle += rng.uniform(-max_angle, max_angle)
            step = rng.uniform(l_lo, l_hi) * side
            nx = float(np.clip(x + step * np.cos(angle), 0, w - 1))
            ny = float(np.clip(y + step * np.sin(angle), 0, h - 1))
            cv2.line(canvas, (round(x), round(y)), (round(nx), round(ny)), 1, brush, lineType=cv2.LINE_8)
            cv2.circle(canvas, (round(nx), round(ny)), brush // 2, 1, -1)
            x, y = nx, ny
    return canvas.astype(np.float32)[..., None]


def random_pixels(size, rng=0, frac: float = 0.8) -> np.ndarray:
    """Exactly ``round(frac * H * W)`` pixels, chosen uniformly, are missing (Yeh et al.: 80 %)."""
    h, w = _size(size)
    rng = _rng(rng)
    frac = _frac("frac", frac)
    m = np.zeros(h * w, np.float32)
    m[rng.choice(h * w, size=round(frac * h * w), replace=False)] = 1
    return m.reshape(h, w, 1)


_GENERATORS = {"center_box": center_box, "half": half, "random_boxes": random_boxes,
               "strokes": strokes, "random_pixels": random_pixels}


def batch(kind: str, n: int, size, seed: int = 0, **params) -> np.ndarray:
    """``n`` masks of one ``kind`` (see ``KINDS``) as ``(n, H, W, 1)``; same seed -> same masks.

    ``params`` go to the generator (e.g. ``frac=0.8`` for ``random_pixels``). For ``half``,
    ``side=None`` (default) picks a random side per mask.
    """
    check_choice("kind", kind, KINDS)
    n = check_int("n", n, 0)
    seed = check_int("seed", seed, 0)
    h, w = _size(size)
    rng = np.random.default_rng(seed)
    out = np.zeros((n, h, w, 1), np.float32)
    try:
        for i in range(n):
            if kind == "center_box":
                out[i] = center_box((h, w), **params)
            elif kind == "half":
                p = dict(params)
                side = p.pop("side", None)
                out[i] = half((h, w), side if side is not None else SIDES[int(rng.integers(4))], **p)
            else:
                out[i] = _GENERATORS[kind]((h, w), rng, **params)
    except TypeError as e:  # an unknown keyword
        raise InpaintkitError(f"params: {kind!r} masks do not accept these parameters ({e})") from None
    return out


# --------------------------------------------------------------------------- statistics and local patches
def hole_fraction(mask) -> float:
    """Fraction of pixels that are holes (over the whole batch for a batch)."""
    m = check_masks("mask", mask)
    return float(m.mean()) if m.size else 0.0


def bounding_box(mask) -> tuple[int, int, int, int] | None:
    """``(top, left, height, width)`` of the hole pixels of one mask, or None if there is no hole."""
    m = check_masks("mask", mask)
    if m.ndim != 3:
        fail("mask", "one mask of shape (H, W, 1)", describe(m))
    rows, cols = np.nonzero(m[..., 0] > 0.5)
    if rows.size == 0:
        return None
    return int(rows.min()), int(cols.min()), int(rows.max() - rows.min() + 1), int(cols.max() - cols.min() + 1)


def local_box(mask, patch: int) -> tuple[int, int] | np.ndarray:
    """Top-left corner of the ``patch x patch`` window centred on the hole's bounding box,
    shifted to lie inside the image (GLCIC's local discriminator; paper: 128 for 256² images).

    One mask (H, W, 1) -> ``(top, left)``; a batch (N, H, W, 1) -> int array ``(N, 2)``.
    A mask without hole gives the centred window.
    """
    m = check_masks("mask", mask)
    if m.ndim == 4:
        return np.array([local_box(mi, patch) for mi in m], np.int32).reshape(-1, 2)
    h, w = m.shape[:2]
    patch = check_int("patch", patch, 1, min(h, w))
    bb = bounding_box(m)
    cy, cx = (h / 2, w / 2) if bb is None else (bb[0] + bb[2] / 2, bb[1] + bb[3] / 2)
    top = int(np.clip(round(cy - patch / 2), 0, h - patch))
    left = int(np.clip(round(cx - patch / 2), 0, w - patch))
    return top, left


def crop(images, boxes, patch: int):
    """Cut ``patch x patch`` windows at ``boxes`` (N, 2) = (top, left) out of a batch (N, H, W, C).

    NumPy in -> NumPy out. Tensors (or ``boxes`` as a tensor) use ``keras.ops.take_along_axis``,
    so the crop can run inside a compiled training step on any backend.
    """
    patch = check_int("patch", patch, 1)
    if isinstance(images, np.ndarray) and isinstance(boxes, (np.ndarray, list, tuple)):
        boxes = np.asarray(boxes, np.int64).reshape(-1, 2)
        if images.ndim != 4 or len(boxes) != len(images):
            fail("boxes", f"one (top, left) per image of a batch (N, H, W, C), N = {len(images)}",
                 describe(boxes))
        n, h, w = images.shape[:3]
        if (boxes < 0).any() or (boxes[:, 0] + patch > h).any() or (boxes[:, 1] + patch > w).any():
            fail("boxes", f"windows of {patch}x{patch} inside the {h}x{w} images", boxes.tolist())
        return np.stack([im[t:t + patch, l:l + patch] for im, (t, l) in zip(images, boxes)])
    from keras import ops

    images = ops.convert_to_tensor(images)
    boxes = ops.cast(ops.convert_to_tensor(boxes), "int32")
    n, w, c = ops.shape(images)[0], ops.shape(images)[2], ops.shape(images)[3]
    offsets = ops.arange(patch, dtype="int32")
    rows = boxes[:, 0:1] + offsets[None, :]                       # (N, patch)
    cols = boxes[:, 1:2] + offsets[None, :]
    rows = ops.broadcast_to(rows[:, :, None, None], (n, patch, w, c))
    x = ops.take_along_axis(images, rows, axis=1)                 # (N, patch, W, C)
    cols = ops.broadcast_to(cols[:, None, :, None], (n, patch, patch, c))
    return ops.take_along_axis(x, cols, axis=2)                   # (N, patch, patch, C)
