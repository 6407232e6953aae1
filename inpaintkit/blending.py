r"""Putting a fill back into an image: plain compositing and Poisson blending.

* ``composite(fill, image, mask) = image * (1 - mask) + fill * mask`` -- what the
  discriminators of GLCIC see, and what every method returns in the end.
* ``poisson_blend(fill, image, mask)`` (Pérez et al. 2003): find the pixels :math:`u` of the
  hole whose gradients are closest to the fill's, with the image's pixels as boundary values,

  .. math:: \min_u \sum_{\text{hole}} \lVert \nabla u - \nabla f \rVert^2
            \;\Leftrightarrow\; \Delta u = \Delta f \text{ in the hole},\quad u = y \text{ on its boundary}.

  A fill that is right up to a colour offset is corrected exactly. Both GLCIC (as
  post-processing) and Yeh et al. (to blend :math:`G(\hat z)` into :math:`y`) use it. Done
  with OpenCV's ``seamlessClone(..., NORMAL_CLONE)`` (8-bit, so quantised to 1/255).
* ``glcic_postprocess``: GLCIC's official post-processing -- OpenCV Telea (radius 1) of the
  hole first, then ``seamlessClone`` of the network output into it.

Every function returns the image's pixels outside the hole exactly.
"""
from __future__ import annotations

import numpy as np

from .errors import check_images, check_int, check_masks, fail


def _check(fill, image, mask):
    image = check_images("image", image)
    fill = check_images("fill", fill)
    if fill.shape != image.shape:
        fail("fill", f"shape {image.shape} like image", fill.shape)
    return fill, image, check_masks("mask", mask, like=image)


def composite(fill, image, mask) -> np.ndarray:
    """``image * (1 - mask) + fill * mask`` (the image outside the hole, the fill inside)."""
    fill, image, mask = _check(fill, image, mask)
    return (image * (1 - mask) + fill * mask).astype(np.float32)


def _u8(x):
    return np.clip(np.round(x * 255), 0, 255).astype(np.uint8)


def _seamless_one(fill, dst, hole, dilate: int = 4):
    """seamlessClone of ``fill`` into ``dst`` over ``hole`` (bool HxW), at the same position.

    What OpenCV does (measured, see tests/test_baselines.py): it zeroes the mask's outermost
    pixel ring, takes the mask's tight bounding box, *erodes the mask by 3 px* and solves the
    Poisson equation in the box with the box border as boundary values and the destination's
    gradients wherever the eroded mask is 0. So (1) with ``dilate=4`` the mask grows by 4 px:
    the box border lies on known pixels and no gradient touching the destination's hole pixels
    is used (``dilate=0`` is GLCIC's way: the outer 3 px of the hole follow ``dst``'s Telea
    fill); (2) a hole near the image border is mirrored across it by padding (fill, image,
    mask) symmetrically -- the mirrored solution has zero normal derivative there (a free
    boundary) instead of a made-up boundary value; (3) the centre passed to OpenCV is
    ``(x0 + w // 2, y0 + h // 2)`` of the box: OpenCV puts the box's top-left at centre - size // 2.
    """
    import cv2

    h, w = hole.shape
    rows, cols = np.nonzero(hole)
    top, bottom = rows.min(), h - 1 - rows.max()
    left, right = cols.min(), w - 1 - cols.max()
    ext_r, ext_c = rows.max() - rows.min() + 1, cols.max() - cols.min() + 1
    near = dilate + 2
    pads = [(ext_r + near if top < near else 0, ext_r + near if bottom < near else 0),
            (ext_c + near if left < near else 0, ext_c + near if right < near else 0)]
    pad3 = pads + [(0, 0)]
    f = np.pad(fill, pad3, mode="symmetric")
    d = np.pad(dst, pad3, mode="symmetric")
    m = np.pad(hole, pads, mode="symmetric").astype(np.uint8) * 255
    if dilate:
        m = cv2.dilate(m, np.ones((3, 3), np.uint8), iterations=dilate)
    m[[0, -1], :] = 0
    m[:, [0, -1]] = 0
    x0, y0, bw, bh = cv2.boundingRect(m)
    out = cv2.seamlessClone(_u8(f), _u8(d), m, (x0 + bw // 2, y0 + bh // 2), cv2.NORMAL_CLONE)
    out = out[pads[0][0]:pads[0][0] + h, pads[1][0]:pads[1][0] + w]
    return out.astype(np.float32) / 255


def _blend(fill, image, mask, dst_fn, dilate):
    single = image.ndim == 3
    fills, images, masks = (fill[None], image[None], mask[None]) if single else (fill, image, mask)
    out = images.copy()
    for i, (f, im, m) in enumerate(zip(fills, images, masks)):
        hole = m[..., 0] >= 0.5
        if hole.all():          # no boundary at all: nothing to blend against
            out[i] = f
        elif hole.any():
            out[i] = np.where(hole[..., None], _seamless_one(f, dst_fn(im, m), hole, dilate), im)
    return out[0] if single else out


def poisson_blend(fill, image, mask) -> np.ndarray:
    """Poisson-blend ``fill`` into ``image`` over the hole (gradients of the fill inside,
    the image on the boundary). Pixels outside the hole are the image's, exactly."""
    fill, image, mask = _check(fill, image, mask)
    return _blend(fill, image, mask, lambda im, m: np.where(m >= 0.5, 0.5, im), dilate=4)


def glcic_postprocess(fill, image, mask, dilate: int = 0) -> np.ndarray:
    """GLCIC's official post-processing: Telea (radius 1) fills the hole, then the network
    output ``fill`` is seamlessly cloned into that (NORMAL_CLONE, centred on the hole).

    With the official ``dilate=0`` OpenCV's 3-px mask erosion makes the hole's outer ring follow
    the Telea fill; ``dilate=4`` gives pure Poisson blending against the known pixels."""
    from .baselines import telea

    fill, image, mask = _check(fill, image, mask)
    return _blend(fill, image, mask, lambda im, m: telea(im, m, radius=1),
                  dilate=check_int("dilate", dilate, 0, 32))
