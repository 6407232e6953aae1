r"""Classical (non-learned) inpainting: the baselines every deep method must beat.

* ``telea``: Telea (2004), fast marching. The hole is filled from its boundary inwards;
  each new pixel is a weighted average of the known pixels within ``radius``, weighted by
  distance, direction (along the boundary normal) and level-set closeness. (OpenCV)
* ``navier_stokes``: Bertalmio, Bertozzi & Sapiro (2001): propagate image smoothness
  (the Laplacian) along the isophotes, like a 2-D fluid's vorticity. (OpenCV)
* ``mean_fill``: the known pixels' mean colour -- not a method, the floor to beat.
* ``biharmonic``: solve the biharmonic equation :math:`\nabla^4 u = 0` in the hole with the
  known pixels as boundary values: the smoothest surface that fits. (scikit-image)

All take [0, 1] float images ``(H, W, 3)`` or a batch ``(N, H, W, 3)`` and masks with
1 = hole (values >= 0.5 count as hole) and return float32 images whose pixels outside the
hole are exactly the input's. OpenCV works on 8-bit images, so its fill is quantised to 1/255.
"""
from __future__ import annotations

import numpy as np

from .errors import InpaintkitError, check_images, check_int, check_masks


def _prepare(image, mask):
    image = check_images("image", image)
    mask = check_masks("mask", mask, like=image)
    return image, mask


def _per_image(fn, image, mask, need_known: bool = True):
    """Apply fn(image (H,W,3), hole bool (H,W)) -> (H,W,3) to each image, then composite."""
    single = image.ndim == 3
    images, masks = (image[None], mask[None]) if single else (image, mask)
    out = images.copy()
    for i, (im, m) in enumerate(zip(images, masks)):
        hole = m[..., 0] >= 0.5
        if need_known and hole.all():
            raise InpaintkitError("mask: expected at least one known pixel to propagate, got a mask that is "
                                  "all hole" + ("" if single else f" (image {i} of the batch)"))
        if hole.any():
            fill = np.asarray(fn(im, hole), np.float32)
            out[i] = np.where(hole[..., None], np.clip(fill, 0, 1), im)
    return out[0] if single else out


def _to_u8(image):
    return np.clip(np.round(image * 255), 0, 255).astype(np.uint8)


def _opencv(image, mask, radius, flag):
    import cv2

    return _per_image(lambda im, hole: cv2.inpaint(_to_u8(im), hole.astype(np.uint8) * 255, radius, flag) / 255.0,
                      image, mask)


def telea(image, mask, radius: int = 3) -> np.ndarray:
    """OpenCV ``cv2.inpaint(..., cv2.INPAINT_TELEA)`` (fast marching; ``radius`` in pixels)."""
    import cv2

    image, mask = _prepare(image, mask)
    return _opencv(image, mask, check_int("radius", radius, 1), cv2.INPAINT_TELEA)


def navier_stokes(image, mask, radius: int = 3) -> np.ndarray:
    """OpenCV ``cv2.inpaint(..., cv2.INPAINT_NS)`` (Navier-Stokes; ``radius`` in pixels)."""
    import cv2

    image, mask = _prepare(image, mask)
    return _opencv(image, mask, check_int("radius", radius, 1), cv2.INPAINT_NS)


def biharmonic(image, mask) -> np.ndarray:
    """scikit-image ``inpaint_biharmonic`` (channel_axis=-1): smoothest fill, ∇⁴u = 0 in the hole."""
    from skimage.restoration import inpaint_biharmonic

    image, mask = _prepare(image, mask)
    return _per_image(lambda im, hole: inpaint_biharmonic(im, hole, channel_axis=-1), image, mask)


def mean_fill(image, mask) -> np.ndarray:
    """The hole painted with the mean colour of the known pixels: the floor any method must beat
    (GLCIC pre-fills its input holes with the training set's mean pixel)."""
    image, mask = _prepare(image, mask)
    return _per_image(lambda im, hole: np.broadcast_to(im[~hole].mean(0) if (~hole).any() else 0.5, im.shape),
                      image, mask, need_known=False)


BASELINES = {"telea": telea, "ns": navier_stokes, "biharmonic": biharmonic}
