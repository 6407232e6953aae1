r"""Network interpolation between the MSE-trained and the GAN-trained completion network.

Not in GLCIC's paper; from Wang et al. (2018), ESRGAN §3.4. Phase 3 starts from phase 1's
weights, so C after phase 1 (masked MSE: the best PSNR, blurry) and C after phase 3 (MSE +
α·GAN: sharper, lower PSNR) lie in one basin and every weight can be mixed:

.. math:: \theta(t) = (1 - t)\,\theta_{\mathrm{MSE}} + t\,\theta_{\mathrm{GAN}}, \qquad t \in [0, 1]

``t = 0`` is the MSE network, ``t = 1`` the GAN one; in between trades PSNR for detail without
retraining (Blau & Michaeli's perception-distortion trade-off, one network per point)::

    from inpaintkit.glcic import interpolation
    net = interpolation.interpolate("glcic_photos_phase1", "glcic_photos", 0.5)
    interpolation.curve(net_mse, net_gan, images, masks)     # {t: hole PSNR, sharpness}

BatchNorm's moving statistics are mixed the same way; they are then an approximation of the
mixed network's own statistics (measured, not assumed: docs/benchmarks.md).
"""
from __future__ import annotations

import keras
import numpy as np

from ..errors import check_float, check_images, check_masks, describe, fail
from .completion import ATTRIBUTES, DEFAULT_MEAN_PIXEL, clone

TS = (0.0, 0.25, 0.5, 0.75, 1.0)


def _network(name: str, net):
    """A completion network from a model or a shipped GLCIC name."""
    from .inference import load_shipped, shipped
    if isinstance(net, str):
        if net not in shipped():
            fail(name, f"a completion network or a shipped GLCIC name ({', '.join(shipped())})", repr(net))
        return load_shipped(net)
    if not isinstance(net, keras.Model):
        fail(name, "a completion network (keras.Model) or a shipped GLCIC name", describe(net))
    return net


def check_pair(mse, gan):
    """The two networks, checked to be one architecture run the same way (same weight shapes,
    mean pixel, context padding and self-ensemble)."""
    mse, gan = _network("mse", mse), _network("gan", gan)
    shapes = _shapes(mse), _shapes(gan)
    if shapes[0] != shapes[1]:
        fail("gan", f"a network with the architecture of mse ({len(shapes[0])} weights, "
                    f"{mse.count_params():,} parameters)", f"{len(shapes[1])} weights, {gan.count_params():,} parameters")
    for attr, default in zip(ATTRIBUTES, (DEFAULT_MEAN_PIXEL, 0, False)):
        a, b = getattr(mse, attr, default), getattr(gan, attr, default)
        if not np.allclose(a, b, atol=1e-6):
            fail("gan", f"{attr} {a} like mse (both must be run the same way)", b)
    return mse, gan


def interpolate(mse, gan, t: float, into=None):
    """The completion network with weights ``(1 - t)·mse + t·gan`` (``t`` in [0, 1]).

    ``mse``, ``gan``: completion networks of one architecture or shipped GLCIC names
    (``"glcic_photos_phase1"``, ``"glcic_photos"``). ``into``: a network of that architecture to
    overwrite (a slider re-mixes without rebuilding); default a new one. It runs as ``mse`` does
    (``mean_pixel``, ``context_pad``, ``self_ensemble``)."""
    t = check_float("t", t, minimum=0.0, maximum=1.0)
    mse, gan = check_pair(mse, gan)
    if into is not None and (not isinstance(into, keras.Model) or _shapes(into) != _shapes(mse)):
        fail("into", "a network with the architecture of mse", describe(into))
    return _mix(mse, gan, t, into)


def _shapes(model) -> list:
    return [tuple(w.shape) for w in model.weights]


def _mix(mse, gan, t: float, into=None, weights=None):
    """:func:`interpolate` without the checks (for loops over t after one :func:`check_pair`);
    ``weights``: ``(mse.get_weights(), gan.get_weights())`` fetched once for such a loop."""
    into = clone(mse) if into is None else into
    wa, wb = weights if weights is not None else (mse.get_weights(), gan.get_weights())
    into.set_weights([(1 - t) * a + t * b for a, b in zip(wa, wb)])
    for attr in ATTRIBUTES:
        if hasattr(mse, attr):
            setattr(into, attr, getattr(mse, attr))
    return into


def curve(mse, gan, images, masks, ts=TS, postprocess: bool = False) -> dict:
    """Hole PSNR and :func:`inpaintkit.metrics.hole_sharpness` of the interpolated network at each
    ``t`` in ``ts``, on ``images`` with holes ``masks``: ``{t: {'hole_psnr', 'sharpness'}}``."""
    from ..metrics import hole_psnr, hole_sharpness
    from .inference import inpaint
    images = check_images("images", images, batched=True)
    masks = check_masks("masks", masks, like=images)
    ts = [check_float("ts", t, 0.0, 1.0) for t in np.atleast_1d(ts)]
    mse, gan = check_pair(mse, gan)
    net, out, both = None, {}, (mse.get_weights(), gan.get_weights())
    for t in ts:
        net = _mix(mse, gan, t, into=net, weights=both)
        fill = inpaint(images * (1 - masks), masks, model=net, postprocess=postprocess)
        out[t] = {"hole_psnr": hole_psnr(fill, images, masks), "sharpness": hole_sharpness(fill, images, masks)}
    return out


def explorer(mse, gan, images, masks, t: float = 0.5, postprocess: bool = False, show: bool = True,
             gain: float = 4.0):
    """Widget: a slider ``t`` from the MSE network (0) to the GAN network (1) -> each image's fill,
    its hole PSNR and the batch's sharpness, live, and below each fill the difference map
    ``|fill(t) - fill(0)|`` (mean over channels, times ``gain``) so that a change of a few grey
    levels is visible.

    Returns ``(widget, state)``; ``state['controls']['t']`` is the slider (set ``.value`` from
    Python to update), ``state['results']`` the fills, ``state['hole_psnr']`` (per image),
    ``state['sharpness']`` and ``state['change']``: the mean absolute change per channel inside the
    holes against ``t = 0``, in grey levels (/255)."""
    import ipywidgets as W

    from ..metrics import hole_psnr, hole_sharpness
    from .inference import inpaint
    images = check_images("images", images, batched=True)
    masks = check_masks("masks", masks, like=images)
    mse, gan = check_pair(mse, gan)
    t = check_float("t", t, 0.0, 1.0)
    gain = check_float("gain", gain, minimum=1.0)
    state: dict = {"calls": 0, "net": None}
    both = (mse.get_weights(), gan.get_weights())          # fetched once, not on every slider move
    slider = W.FloatSlider(value=t, min=0.0, max=1.0, step=0.125, continuous_update=False,
                           description="t: MSE → GAN", style={"description_width": "initial"})
    state["controls"] = {"t": slider}
    hole = np.broadcast_to(masks, images.shape) > 0.5
    start = inpaint(images * (1 - masks), masks, model=mse, postprocess=postprocess)     # t = 0, the reference

    def update(t):
        state["net"] = _mix(mse, gan, t, into=state["net"], weights=both)
        fill = inpaint(images * (1 - masks), masks, model=state["net"], postprocess=postprocess)
        diff = np.abs(fill - start)
        state.update(results=fill, calls=state["calls"] + 1, sharpness=hole_sharpness(fill, images, masks),
                     hole_psnr=[hole_psnr(f, im, m) for f, im, m in zip(fill, images, masks)],
                     change=float(diff[hole].mean() * 255))
        if show:
            from ..plotting import show_images
            maps = list(np.clip(gain * diff.mean(axis=-1), 0, 1))
            show_images(list(fill) + maps,
                        [f"{p:.1f} dB" for p in state["hole_psnr"]]
                        + [f"change ×{gain:g}" if i == 0 else "" for i in range(len(maps))],
                        ncols=len(fill), size=2.0, cmap="magma",
                        suptitle=f"t = {t:.3f}: sharpness {state['sharpness']:.2f} (real = 1); "
                                 f"fill changed by {state['change']:.1f}/255 vs t = 0")

    return W.interactive(update, t=slider), state
