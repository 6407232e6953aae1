"""Inpainting with a trained completion network, at any image size.

    from inpaintkit.glcic import inference
    out = inference.inpaint(image, mask)                  # shipped photo model, Telea + Poisson
    out = inference.inpaint(image, mask, model=net, postprocess=False)

Steps: pad the image to a multiple of 4 (C downsamples twice; reflection padding, the padding
counts as known), fill the hole with the training set's mean pixel, run C, crop, keep the
known pixels (composite) and, optionally, the official code's post-processing: OpenCV Telea
(radius 1) then ``seamlessClone`` of C's output into the hole (:func:`blending.glcic_postprocess`).
"""
from __future__ import annotations

import numpy as np

from .. import backend
from ..errors import InpaintkitError, check_float, check_images, check_int, check_masks
from .completion import check_context_pad, mirror_pad, prepare_input

DEFAULT = "glcic_photos"
_CACHE: dict = {}


def load_shipped(name: str = DEFAULT):
    """The shipped completion network ``name`` (``glcic_photos`` or ``glcic_toycars``), checked
    against the manifest's sha256; ``model.mean_pixel`` is its training set's mean colour."""
    from .. import weights
    if name not in _CACHE:
        if name in weights.glcic_names():
            weights.path(name, verify=False)    # a deleted shipped file: one line naming it, how to restore
        if not weights.available(name):
            raise InpaintkitError(f"name: expected shipped GLCIC weights ({', '.join(shipped()) or 'none shipped'}), "
                                  f"got {name!r}; train them with scripts/train_glcic.py")
        _CACHE[name] = weights.load(name)
    return _CACHE[name]


def shipped() -> list[str]:
    from .. import weights
    return weights.glcic_names()


def load_file(path, like: str = DEFAULT):
    """A completion network with the architecture of shipped ``like`` and the weights in ``path``
    (your own ``.weights.h5`` from :mod:`scripts/train_glcic.py` or a phase's checkpoint)."""
    from .. import weights
    model = weights.build(like)
    weights.load_file(model, path, what="weights")
    return model


def _pad4(x, mode):
    h, w = x.shape[1:3]
    ph, pw = (-h) % 4, (-w) % 4
    return np.pad(x, ((0, 0), (0, ph), (0, pw), (0, 0)), mode=mode)


def complete(model, images, masks, mean_pixel=None, context_pad: int | None = None,
             self_ensemble: bool | None = None, batch_size: int = 32) -> np.ndarray:
    """C's raw output (N, H, W, 3) for images of any size (padded to a multiple of 4 inside),
    ``batch_size`` images per forward pass (memory stays bounded for any N).

    ``context_pad``: mirror the image *and its hole* by this many pixels on every side before C
    sees it (:func:`~inpaintkit.glcic.completion.mirror_pad`), so that a hole at the border has
    context on both sides instead of C's zero padding (not in the paper). Default: the padding
    the network was trained with, ``model.context_pad`` (0 for the paper's networks).

    ``self_ensemble``: average C's output on the image and on its mirror image (left-right,
    the flip the training data had), flipped back -- the "geometric self-ensemble" of Lim et al.
    (2017, EDSR), not in GLCIC's paper; it halves the variance of C's errors that are not
    mirror-symmetric at twice the cost. Default ``model.self_ensemble`` (False for the paper's
    networks). Both are measured in docs/benchmarks.md."""
    mean_pixel = getattr(model, "mean_pixel", (0.5, 0.5, 0.5)) if mean_pixel is None else mean_pixel
    h, w = images.shape[1:3]
    p = getattr(model, "context_pad", 0) if context_pad is None else context_pad
    if isinstance(p, (int, np.integer)) and not isinstance(p, bool) and 0 < min(h, w) <= p:
        raise InpaintkitError(f"image: expected at least {p + 1} x {p + 1} pixels (the network mirrors {p} px of "
                              f"context on every side; context_pad=0 runs smaller images), got {h} x {w}")
    p = check_context_pad(p, min(h, w), even=False)
    images, masks = mirror_pad(images, masks, p)
    x = _pad4(images, "reflect" if min(h, w) > 4 else "edge")
    m = _pad4(masks, "constant")
    step = check_int("batch_size", batch_size, 1)
    ens = getattr(model, "self_ensemble", False) if self_ensemble is None else self_ensemble
    if not isinstance(ens, (bool, np.bool_)):
        raise InpaintkitError(f"self_ensemble: expected True or False, got {ens!r}")

    def run(x, m):
        return np.concatenate([backend.to_numpy(model(prepare_input(x[i:i + step], m[i:i + step], mean_pixel),
                                                      training=False)) for i in range(0, len(x), step)])
    out = run(x, m)
    if ens:
        out = 0.5 * (out + run(x[:, :, ::-1], m[:, :, ::-1])[:, :, ::-1])
    return out[:, p:p + h, p:p + w].astype(np.float32)


def inpaint(image, mask, model=None, mean_pixel=None, postprocess: bool = True, context_pad: int | None = None,
            self_ensemble: bool | None = None) -> np.ndarray:
    """Fill the hole (``mask`` = 1) of ``image`` (H, W, 3) or a batch (N, H, W, 3).

    Pixels outside the hole are returned unchanged. ``model``: a completion network (default:
    the shipped photo model); ``mean_pixel``: its training set's mean colour (default
    ``model.mean_pixel``); ``postprocess``: Telea + Poisson blending as the official code;
    ``context_pad``, ``self_ensemble``: see :func:`complete` (default: as the network says).
    """
    image = check_images("image", image)
    mask = check_masks("mask", mask, like=image)
    single = image.ndim == 3
    images, masks = (image[None], mask[None]) if single else (image, mask)
    if min(images.shape[1:3]) < 4:
        raise InpaintkitError(f"image: expected at least 4 x 4 pixels, got {images.shape[1:3]}")
    if model is None:
        model = load_shipped()
    out = _finish(np.clip(complete(model, images, masks, mean_pixel, context_pad, self_ensemble), 0.0, 1.0),
                  images, masks, postprocess)
    return out[0] if single else out


def _finish(fill, images, masks, postprocess: bool) -> np.ndarray:
    """C's clipped output ``fill`` put into ``images``' holes, optionally with the official
    post-processing (Telea + Poisson blending); known pixels exactly the image's."""
    if postprocess:
        from ..blending import glcic_postprocess
        fill = np.stack([glcic_postprocess(o, im, m) if m.any() else im for o, im, m in zip(fill, images, masks)])
    return images * (1 - masks) + fill * masks


def inpaint_image(image, mask, *, weights=None, seed: int = 0) -> np.ndarray:
    """The kit's learned-method signature (``python -m inpaintkit inpaint --method glcic``):
    shipped photo model by default; ``weights``: another shipped GLCIC name (``glcic_photos_phase1``,
    the MSE-only network with the higher hole PSNR) or your own ``.weights.h5`` (same architecture).
    Runs on each hole's neighbourhood only (:func:`inpaint_regions`), so memory depends on the
    holes, not on the photo."""
    image = check_images("image", image, batched=False)
    mask = check_masks("mask", mask, like=image)
    model = load_shipped() if weights is None else \
        load_shipped(weights) if weights in shipped() else load_file(weights)
    return inpaint_regions(image, mask, model)


# Half of C's receptive field (the paper's layers: 301 px at full resolution), rounded up to a
# multiple of 4: a hole pixel's output depends only on input pixels this close to it.
CONTEXT_MARGIN = 152
# The most pixels C runs on at once in inpaint_regions (memory grows with them, about 3 KB per pixel
# for the shipped photo network with self-ensemble on TensorFlow's CPU); bigger neighbourhoods are
# downscaled to fit. benchmarks/bench_large_photo.py measures the whole command.
MAX_PIXELS = 384 * 384


def regions(hole: np.ndarray, margin: int = CONTEXT_MARGIN, max_parts: int = 256) -> list[tuple]:
    """The neighbourhoods C needs for ``hole`` (H, W) bool: boxes ``(y0, y1, x0, x1)`` around each
    group of holes, ``margin`` px beyond them (clipped to the image, the top-left corner on C's
    stride-4 grid); boxes that would overlap are merged. More than ``max_parts`` separate holes
    give one box around all of them."""
    import cv2
    h, w = hole.shape
    n, _, stats, _ = cv2.connectedComponentsWithStats(hole.astype(np.uint8), connectivity=8)
    parts = [tuple(st[:4]) for st in stats[1:]]                         # x, y, width, height
    if len(parts) > max_parts:
        ys, xs = np.nonzero(hole)
        parts = [(xs.min(), ys.min(), xs.max() - xs.min() + 1, ys.max() - ys.min() + 1)]

    def box(y0, y1, x0, x1):
        y0, x0 = max(0, y0 - margin) // 4 * 4, max(0, x0 - margin) // 4 * 4
        return y0, min(h, y1 + margin), x0, min(w, x1 + margin)

    boxes = [box(int(y), int(y + bh), int(x), int(x + bw)) for x, y, bw, bh in parts]
    merged = True
    while merged:
        merged = False
        for i in range(len(boxes)):
            for j in range(i + 1, len(boxes)):
                a, b = boxes[i], boxes[j]
                if a[0] < b[1] and b[0] < a[1] and a[2] < b[3] and b[2] < a[3]:
                    boxes[i] = (min(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), max(a[3], b[3]))
                    del boxes[j]
                    merged = True
                    break
            if merged:
                break
    return boxes


def inpaint_regions(image, mask, model, postprocess: bool = True, margin: int = CONTEXT_MARGIN,
                    max_pixels: int = MAX_PIXELS) -> np.ndarray:
    """:func:`inpaint` of one image (H, W, 3) of any size, run on each hole's neighbourhood only
    (:func:`regions`: the hole's bounding box plus ``margin`` px of context, C's receptive field)
    and pasted back, so memory and time depend on the holes, not on the photo. A neighbourhood of
    more than ``max_pixels`` (a huge hole) is downscaled to fit, C's fill upscaled back (bicubic)
    and post-processed at full resolution. Pixels outside the hole are ``image``'s exactly."""
    import cv2
    image = check_images("image", image, batched=False)
    mask = check_masks("mask", mask, like=image)
    hole = mask[..., 0] >= 0.5
    out = image.copy()
    for y0, y1, x0, x1 in regions(hole, check_int("margin", margin, 0)):
        im, m = image[y0:y1, x0:x1], hole[y0:y1, x0:x1, None].astype(np.float32)
        ch, cw = im.shape[:2]
        scale = min(1.0, float(np.sqrt(check_int("max_pixels", max_pixels, 64) / (ch * cw))))
        if scale == 1.0:
            fill = inpaint(im, m, model=model, postprocess=postprocess)
        else:
            sh, sw = max(4, int(ch * scale)), max(4, int(cw * scale))
            small = np.clip(cv2.resize(im, (sw, sh), interpolation=cv2.INTER_AREA), 0, 1)
            small_hole = (cv2.resize(m[..., 0], (sw, sh), interpolation=cv2.INTER_AREA) > 0)[..., None]
            raw = inpaint(small, small_hole.astype(np.float32), model=model, postprocess=False)
            fill = np.clip(cv2.resize(raw, (cw, ch), interpolation=cv2.INTER_CUBIC), 0, 1)
            if postprocess:
                from ..blending import glcic_postprocess
                fill = glcic_postprocess(fill, im, m)
        out[y0:y1, x0:x1] = np.where(m >= 0.5, fill, im)
    return out


def evaluate(model, images, masks, postprocess: bool = False, *, also_postprocessed: bool = False) -> dict:
    """Metrics of C (composite, optional post-processing) and of OpenCV Telea on the same holes:
    ``{'glcic': {...}, 'telea': {...}}`` with ``inpaintkit.metrics.evaluate``'s keys;
    ``also_postprocessed`` adds ``'glcic_postprocessed'`` from the same run of C."""
    from ..baselines import telea
    from ..metrics import evaluate as ev
    images = check_images("images", images, batched=True)
    masks = check_masks("masks", masks, like=images)
    raw = np.clip(complete(model, images, masks), 0.0, 1.0)
    out = {"glcic": ev(_finish(raw, images, masks, postprocess), images, masks)}
    if also_postprocessed:
        out["glcic_postprocessed"] = ev(_finish(raw, images, masks, True), images, masks)
    return out | {"telea": ev(telea(images, masks), images, masks)}


def versus_telea(model, images, kinds=("random_boxes", "strokes"), context_pad: int | None = None,
                 self_ensemble: bool | None = None, near_perfect: float | None = None) -> dict:
    """Hole PSNR and SSIM of C (raw, and with the paper's post-processing) against OpenCV Telea on
    :func:`inpaintkit.evaluation.eval_masks` (fixed seeded boxes and strokes) at the images' size:
    ``{kind: {method: {'hole_psnr', 'ssim', 'sharpness', 'wins', 'vs_telea'}, 'hole_fraction': f}}``
    (``sharpness``: :func:`inpaintkit.metrics.hole_sharpness`); ``wins`` is the share
    of images whose hole PSNR beats Telea's, ``vs_telea`` (two or more images) the per-image hole
    PSNR difference to Telea's with a 95 % bootstrap interval
    (:func:`inpaintkit.evaluation.paired_difference`); with ``near_perfect=DB`` also
    ``where_decided`` (:func:`inpaintkit.evaluation.where_decided`). The bar the shipped photo
    weights are held to (by default run as the network says, ``model.context_pad`` and
    ``model.self_ensemble``; see :func:`complete`)."""
    from ..baselines import telea
    from ..evaluation import eval_masks, paired_difference, where_decided
    from ..metrics import hole_psnr, hole_sharpness, ssim
    images = check_images("images", images, batched=True)
    if near_perfect is not None:
        near_perfect = check_float("near_perfect", near_perfect, minimum=0.0)
    out = {}
    for kind, m in eval_masks(len(images), images.shape[1], kinds).items():
        x = images * (1 - m)
        raw = np.clip(complete(model, x, m, context_pad=context_pad, self_ensemble=self_ensemble), 0.0, 1.0)
        fills = {"glcic": _finish(raw, x, m, postprocess=False), "glcic_postprocessed": _finish(raw, x, m, True),
                 "telea": telea(x, m)}
        per = {k: np.array([hole_psnr(f[i], images[i], m[i]) for i in range(len(images))]) for k, f in fills.items()}
        out[kind] = {}
        for k, f in fills.items():
            r = out[kind][k] = {"hole_psnr": round(float(per[k].mean()), 3), "ssim": round(ssim(f, images), 4),
                                "sharpness": round(hole_sharpness(f, images, m), 3)}
            if k == "telea":
                continue
            r["wins"] = round(float((per[k] > per["telea"]).mean()), 3)
            if len(images) > 1:
                r["vs_telea"] = paired_difference(per[k], per["telea"])
            if near_perfect is not None:
                r["where_decided"] = where_decided(per[k], per["telea"], near_perfect=near_perfect)
        out[kind]["hole_fraction"] = round(float(m.mean()), 4)
    return out


def explorer(models: dict, image, size: float = 0.4, postprocess: bool = False, show: bool = True):
    """Widget: a square hole's size and position -> each model's completion and Telea's, live.

    ``models``: name -> completion network. Returns ``(widget, state)``; ``state['controls']``
    holds the sliders (set ``.value`` from Python to update) and ``state['hole_psnr']`` the scores.
    """
    import ipywidgets as W

    from ..baselines import telea
    from ..metrics import hole_psnr
    from ..widgets import explorer_mask

    image = check_images("image", image, batched=False)
    state: dict = {"calls": 0}
    opts = dict(continuous_update=False, step=0.05)
    controls = {"size": W.FloatSlider(value=size, min=0.1, max=0.7, description="hole size", **opts),
                "x": W.FloatSlider(value=0.5, min=0.0, max=1.0, description="x", **opts),
                "y": W.FloatSlider(value=0.5, min=0.0, max=1.0, description="y", **opts)}
    state["controls"] = controls

    def update(size, x, y):
        mask = explorer_mask(image.shape, "box", size, x, y)
        results = {name: inpaint(image, mask, model=m, postprocess=postprocess) for name, m in models.items()}
        results["telea"] = telea(image, mask)
        state.update(mask=mask, results=results, calls=state["calls"] + 1,
                     hole_psnr={k: hole_psnr(v, image, mask) for k, v in results.items()})
        if show:
            from ..plotting import show_images
            show_images([image * (1 - mask) + 0.5 * mask, *results.values()],
                        ["input"] + [f"{k}\n{state['hole_psnr'][k]:.1f} dB" for k in results], size=1.8)

    return W.interactive(update, **controls), state
