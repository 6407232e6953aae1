"""Notebook widgets built on ``ipywidgets.interactive``.

``baseline_explorer(image)`` returns ``(widget, state)``: display ``widget`` in a notebook;
``state`` holds the controls and the last result, so a test (or a student) can move a slider
from Python and read what changed::

    w, state = baseline_explorer(image)
    state["controls"]["size"].value = 0.6      # fires the callback, no browser needed
    state["hole_psnr"], state["result"]
"""
from __future__ import annotations

import numpy as np

from . import masks, metrics
from .errors import check_choice, check_images

EXPLORER_KINDS = ("box", "strokes", "random pixels")
EXPLORER_METHODS = ("telea", "ns", "biharmonic")


def explorer_mask(shape, kind: str, size: float, x: float, y: float, seed: int = 0) -> np.ndarray:
    """The widget's mask: a square ``box`` of side ``size`` x the image side centred at (x, y)
    (fractions of the width/height), ``strokes`` whose brush is ``size / 3`` of the side, or
    ``random pixels`` with ``size`` of the pixels missing."""
    check_choice("kind", kind, EXPLORER_KINDS)
    h, w = shape[:2]
    if kind == "box":
        side_h, side_w = max(1, round(size * h)), max(1, round(size * w))
        top = int(np.clip(round(y * h - side_h / 2), 0, h - side_h))
        left = int(np.clip(round(x * w - side_w / 2), 0, w - side_w))
        return masks.box((h, w), top, left, side_h, side_w)
    if kind == "strokes":
        return masks.strokes((h, w), seed, n=(2, 2), width=size / 3)
    return masks.random_pixels((h, w), seed, frac=float(np.clip(size, 0.01, 0.99)))


def baseline_explorer(image, method: str = "telea", kind: str = "box", size: float = 0.3,
                      show: bool = True):
    """Mask type, size and position -> live classical inpainting and its hole PSNR.

    Returns ``(widget, state)``; ``state`` has ``controls`` (name -> widget), and after each
    update ``mask``, ``result``, ``hole_psnr``, ``ssim`` and ``calls`` (number of updates).
    """
    import ipywidgets as W

    from . import methods

    image = check_images("image", image, batched=False)
    check_choice("method", method, EXPLORER_METHODS)
    check_choice("kind", kind, EXPLORER_KINDS)
    state: dict = {"calls": 0}
    opts = dict(continuous_update=False, style={"description_width": "initial"})
    controls = {
        "method": W.Dropdown(options=EXPLORER_METHODS, value=method, description="method"),
        "kind": W.Dropdown(options=EXPLORER_KINDS, value=kind, description="mask"),
        "size": W.FloatSlider(value=size, min=0.05, max=0.9, step=0.05, description="size", **opts),
        "x": W.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="x (box)", **opts),
        "y": W.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="y (box)", **opts),
        "seed": W.IntSlider(value=0, min=0, max=20, description="seed", **opts),
    }
    state["controls"] = controls

    def update(method, kind, size, x, y, seed):
        mask = explorer_mask(image.shape, kind, size, x, y, seed)
        result = methods.inpaint(image, mask, method)
        state.update(mask=mask, result=result, calls=state["calls"] + 1,
                     hole_psnr=metrics.hole_psnr(result, image, mask), ssim=metrics.ssim(result, image))
        if show:
            from .plotting import show_images
            show_images([image, image * (1 - mask) + 0.5 * mask, result],
                        ["original", f"hole {100 * mask.mean():.0f}%",
                         f"{method}: hole PSNR {state['hole_psnr']:.1f} dB, SSIM {state['ssim']:.2f}"],
                        size=2.4)

    widget = W.interactive(update, **controls)   # runs update once now
    return widget, state


def remembered(fill, size: int = 32):
    """``fill(image, mask, method)`` that remembers its last ``size`` results, for widgets that redraw
    every ticked method whenever one control changes (notebook 10's own photo): ticking one more
    method then runs only that one, and going back to a hole already seen costs nothing. A result is
    recomputed when the image, the mask or the method differs; callers get copies;
    ``has(image, mask, method)`` says whether a call would be instant."""
    import hashlib
    from collections import OrderedDict

    from .errors import check_int
    size = check_int("size", size, minimum=1)
    memo: OrderedDict = OrderedDict()

    def key(image, mask, method):
        image, mask = np.ascontiguousarray(image, np.float32), np.ascontiguousarray(mask, np.float32)
        return (method, image.shape, mask.shape, hashlib.sha1(image.tobytes() + mask.tobytes()).hexdigest())

    def run(image, mask, method):
        k = key(image, mask, method)
        if k in memo:
            memo.move_to_end(k)
        else:
            memo[k] = np.array(fill(image, mask, method), copy=True)     # never a view of the caller's data
            if len(memo) > size:
                memo.popitem(last=False)
        return memo[k].copy()
    run.has = lambda image, mask, method: key(image, mask, method) in memo    # computed already?
    run.memo = memo
    return run
