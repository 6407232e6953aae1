r"""Compare inpainting methods on the same images and the same fixed masks.

* :func:`eval_masks`: seeded masks of four kinds, the same every time: ``center`` (a centred box of
  half the side, 25 % of the image, Yeh et al.'s centre block), ``half`` (the left half, sem_inpainting's
  "left" mask), ``random_boxes`` and ``strokes`` (free-form brush strokes).
* :func:`compare`: every method on every (image, mask) pair, metrics from :func:`inpaintkit.metrics.evaluate`
  (hole L1/PSNR, whole-image L1/PSNR, SSIM with a 7×7 window), wall time per image.
* :func:`paired_difference`: mean and median per-image difference of two methods' scores, with a
  95 % bootstrap interval: whether a test set this small can tell them apart;
  :func:`where_decided`: how much of a mean PSNR difference comes from near-perfect images.
* :func:`frechet_distance`: FID's formula over the kit classifier's penultimate features (``pool5``,
  the global average pool before ``logits``) instead of Inception-v3 ImageNet features, which would
  need a download. It is an *offline stand-in* for FID: comparable between methods here, not with
  published FID values, and biased upwards for small sets (a few dozen images against
  hundreds of feature dimensions): compare methods on the same number of images.
  :func:`evaluator_frechet` does the same on the *independent evaluator*'s features
  (:mod:`inpaintkit.evaluator`), next to the distance between two real sets for scale.
* :func:`bootstrap_mean`: a mean with a 95 % bootstrap interval.

The large-hole protocol of issue 15 (held-out cars, large holes, the independent evaluator) is
:mod:`inpaintkit.large_holes`.

.. math:: d^2 = \lVert \mu_a - \mu_b \rVert^2 + \mathrm{Tr}\big(\Sigma_a + \Sigma_b - 2(\Sigma_a \Sigma_b)^{1/2}\big)
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np

from . import masks as masklib
from . import metrics
from .errors import InpaintkitError, check_images, check_int, check_masks

KINDS = ("center", "half", "random_boxes", "strokes")
SEED = 2017          # fixed: the evaluation masks never change between runs


def eval_masks(n: int, size: int, kinds=KINDS, seed: int = SEED) -> dict:
    """``{kind: (n, size, size, 1) masks}``; the same ``(n, size, kinds, seed)`` always gives the same masks."""
    n = check_int("n", n, minimum=1)
    out = {}
    for k, kind in enumerate(kinds):
        if kind == "center":
            out[kind] = masklib.batch("center_box", n, size, seed=seed + k, frac=0.5)
        elif kind == "half":
            out[kind] = masklib.batch("half", n, size, seed=seed + k, side="left")
        elif kind in ("random_boxes", "strokes", "random_pixels"):
            out[kind] = masklib.batch(kind, n, size, seed=seed + k)
        else:
            raise InpaintkitError(f"kinds: expected names among {', '.join(KINDS)}, random_pixels; got {kind!r}")
    return out


def batched(fn: Callable) -> Callable:
    """Mark ``fn(images (N,H,W,3), masks (N,H,W,1)) -> (N,H,W,3)`` as taking a whole batch at once
    (latent searches inpaint a batch in one compiled step); unmarked methods get one image at a time."""
    fn.batched = True
    return fn


def _take_reused_seconds(fn) -> float:
    """Seconds of reused work ``fn`` recorded in ``fn.reused_seconds`` since the last call (then reset)."""
    sec = float(getattr(fn, "reused_seconds", 0.0))
    if sec:
        fn.reused_seconds = 0.0
    return sec


def run_method(fn: Callable, images: np.ndarray, holes: np.ndarray) -> np.ndarray:
    if getattr(fn, "batched", False):
        out = np.asarray(fn(images, holes), np.float32)
    else:
        out = np.stack([np.asarray(fn(im, m), np.float32) for im, m in zip(images, holes)])
    if out.shape != images.shape:
        raise InpaintkitError(f"method: expected output of shape {images.shape}, got {out.shape}")
    return np.clip(out, 0, 1)


def compare(methods: dict, images, masks, *, verbose: bool = True) -> dict:
    """Run every method on every image under every mask kind.

    ``methods``: ``{name: fn}`` (see :func:`batched`); ``masks``: ``{kind: (N, H, W, 1)}`` (e.g.
    :func:`eval_masks`) or one array. Returns ``{"metrics": {kind: {method: {metric: mean}}},
    "per_image": {kind: {method: {metric: (N,)}}}, "outputs": {kind: {method: (N, H, W, 3)}},
    "seconds_per_image": {kind: {method: s}}}``.
    """
    images = check_images("images", images, batched=True)
    if not isinstance(masks, dict):
        masks = {"mask": masks}
    if not methods:
        raise InpaintkitError("methods: expected a non-empty dict {name: fn}, got an empty one")
    res = {"metrics": {}, "per_image": {}, "outputs": {}, "seconds_per_image": {}}
    for kind, m in masks.items():
        m = (check_masks(f"masks[{kind!r}]", m, like=images) >= 0.5).astype(np.float32)
        corrupted = images * (1 - m)
        for key in res:
            res[key][kind] = {}
        for name, fn in methods.items():
            t0 = time.perf_counter()
            out = run_method(fn, corrupted, m)
            out = np.where(m >= 0.5, out, images)       # every method keeps the known pixels
            # a method that reused another's work (large_holes: ilo starts from semantic's search)
            # says how long that work took, so its time per image is its whole cost
            sec = (time.perf_counter() - t0 + _take_reused_seconds(fn)) / len(images)
            per = [metrics.evaluate(o, t, h) for o, t, h in zip(out, images, m)]
            res["per_image"][kind][name] = {k: np.array([p[k] for p in per]) for k in per[0]}
            res["metrics"][kind][name] = {k: float(np.nanmean(v)) for k, v in res["per_image"][kind][name].items()}
            res["outputs"][kind][name] = out
            res["seconds_per_image"][kind][name] = sec
            if verbose:
                r = res["metrics"][kind][name]
                print(f"{kind:>12} {name:<12} hole PSNR {r['hole_psnr']:6.2f} dB  SSIM {r['ssim']:.3f}  "
                      f"{sec:7.3f} s/image")
    return res


def _paired(a, b, minimum: int, what: str):
    """Two per-image score arrays of the same images, as float64; a clear error otherwise."""
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 1 or a.shape != b.shape or len(a) < minimum:
        at_least = f" >= {minimum}" if minimum > 1 else ""
        raise InpaintkitError(f"a, b: expected two 1-D arrays of the same length{at_least} (one {what} per image), "
                              f"got shapes {a.shape} and {b.shape}")
    return a, b


def paired_difference(a, b, *, resamples: int = 2000, seed: int = 0) -> dict:
    """How sure is "method A beats method B"? Per-image scores ``a`` and ``b`` of the same images
    (e.g. hole PSNR): the mean and median of ``a - b``, and a 95 % percentile bootstrap interval
    of the mean (``resamples`` draws of the images with replacement, seeded). An interval that
    contains 0 means this test set cannot tell the two apart."""
    a, b = _paired(a, b, minimum=2, what="score")
    resamples = check_int("resamples", resamples, minimum=100)
    seed = check_int("seed", seed, 0)
    d = a - b
    idx = np.random.default_rng(seed).integers(0, len(d), (resamples, len(d)))
    lo, hi = np.percentile(d[idx].mean(axis=1), [2.5, 97.5])
    return {"mean": round(float(d.mean()), 3), "median": round(float(np.median(d)), 3),
            "ci95": [round(float(lo), 3), round(float(hi), 3)], "n": int(len(d))}


def where_decided(a, b, *, near_perfect: float = 40.0) -> dict:
    """Where is a mean PSNR difference decided? Splits the per-image PSNRs ``a`` and ``b`` (dB) of
    the same images at ``near_perfect``: images where either method reaches it (an RMS error
    below ~1 % of the range: differences nobody sees) and the rest, with the mean of ``a - b`` on
    each part and the mean difference of PSNRs capped at ``near_perfect``. A mean decided by the
    near-perfect few says little about the fills one can see."""
    a, b = _paired(a, b, minimum=1, what="PSNR")
    d, top = a - b, np.maximum(a, b) >= near_perfect
    part = lambda sel: round(float(d[sel].mean()), 3) if sel.any() else None
    return {"near_perfect_db": near_perfect, "n_near_perfect": int(top.sum()), "mean_near_perfect": part(top),
            "n_rest": int((~top).sum()), "mean_rest": part(~top),
            "mean_capped": round(float((np.minimum(a, near_perfect) - np.minimum(b, near_perfect)).mean()), 3)}


def frechet_distance(a, b) -> float:
    """Fréchet distance between Gaussians fitted to feature sets ``a`` (N, D) and ``b`` (M, D)."""
    from scipy import linalg
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    if a.ndim != 2 or b.ndim != 2 or a.shape[1] != b.shape[1] or min(len(a), len(b)) < 2:
        raise InpaintkitError(f"features: expected two (N, D) arrays with the same D and N >= 2, "
                              f"got {a.shape} and {b.shape}")
    mu_a, mu_b = a.mean(0), b.mean(0)
    ca, cb = np.cov(a, rowvar=False), np.cov(b, rowvar=False)
    import warnings
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")            # singular products are handled below
        covmean = linalg.sqrtm(ca @ cb)
    if not np.isfinite(covmean).all():            # singular product: regularise as FID code does
        eps = np.eye(len(ca)) * 1e-6
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            covmean = linalg.sqrtm((ca + eps) @ (cb + eps))
    covmean = np.real(covmean)
    d = float(np.sum((mu_a - mu_b) ** 2) + np.trace(ca) + np.trace(cb) - 2 * np.trace(covmean))
    return max(d, 0.0)


def classifier_features(classifier, images, layer: str = "pool5") -> np.ndarray:
    """Penultimate features ``(N, D)`` of the kit classifier (images resized to its input size)."""
    from . import googlenet
    images = check_images("images", images, batched=True)
    s = int(classifier.input_shape[1])
    if images.shape[1:3] != (s, s):
        import cv2
        images = np.stack([cv2.resize(im, (s, s), interpolation=cv2.INTER_AREA) for im in images])
        images = np.clip(images, 0, 1).astype(np.float32)
    f = googlenet.features(classifier, images, [layer])[layer]
    return f.reshape(len(f), -1)


def frechet_table(results: dict, images, classifier) -> dict:
    """``{kind: {method: d}}``: Fréchet distance of each method's outputs to the real images."""
    images = check_images("images", images, batched=True)
    keys = [(kind, name) for kind, per in results["outputs"].items() for name in per]
    outs = [check_images(f"results['outputs'][{k!r}][{n!r}]", results["outputs"][k][n], batched=True) for k, n in keys]
    feats = classifier_features(classifier, np.concatenate([images, *outs]))    # one batched pass for all
    cuts = np.cumsum([len(images)] + [len(o) for o in outs])
    real, parts = feats[:cuts[0]], np.split(feats[cuts[0]:], cuts[1:-1] - cuts[0])
    table = {kind: {} for kind in results["outputs"]}
    for (kind, name), f in zip(keys, parts):
        table[kind][name] = frechet_distance(real, f)
    return table


def interval_table(data: dict, label: str, scale: float = 1.0, digits: int = 2) -> str:
    """Markdown: one row per method, one column per mask kind, each cell ``mean [lo, hi]`` from
    ``{kind: {method: {"mean", "ci95": [lo, hi]}}}`` (e.g. :func:`bootstrap_mean` results; ``scale=100``
    writes shares as percentages)."""
    kinds = list(data)
    names = list(dict.fromkeys(n for k in kinds for n in data[k]))

    def cell(v):
        if v is None:
            return "–"
        lo, hi = v["ci95"]
        return f"{v['mean'] * scale:.{digits}f} [{lo * scale:.{digits}f}, {hi * scale:.{digits}f}]"
    rows = [f"| {label} | " + " | ".join(kinds) + " |", "|---|" + "---:|" * len(kinds)]
    for n in names:
        rows.append(f"| {n} | " + " | ".join(cell(data[k].get(n)) for k in kinds) + " |")
    return "\n".join(rows)


def table(results: dict, metric: str = "hole_psnr", extra: dict | None = None, digits: int = 2) -> str:
    """Markdown: one row per method, one column per mask kind, for ``metric`` (or a ``{kind: {method: v}}``
    table passed as ``extra``, e.g. :func:`frechet_table`)."""
    data = extra if extra is not None else {k: {m: r[metric] for m, r in v.items()}
                                            for k, v in results["metrics"].items()}
    kinds = list(data)
    names = list(dict.fromkeys(n for k in kinds for n in data[k]))
    label = metrics.LABELS.get(metric, metric) if extra is None else metric
    rows = [f"| {label} | " + " | ".join(kinds) + " |", "|---|" + "---:|" * len(kinds)]
    for n in names:
        rows.append(f"| {n} | " + " | ".join(f"{data[k].get(n, float('nan')):.{digits}f}" for k in kinds) + " |")
    return "\n".join(rows)


def bootstrap_mean(values, *, resamples: int = 2000, seed: int = 0) -> dict:
    """Mean of per-image ``values`` (e.g. hole PSNR, or 1/0 for "evaluator still sees the true class")
    with a 95 % percentile bootstrap interval (``resamples`` draws of the images with replacement,
    seeded). NaNs are dropped first. ``{"mean", "ci95": [lo, hi], "n"}``."""
    v = np.asarray(values, np.float64).ravel()
    v = v[np.isfinite(v)]
    resamples = check_int("resamples", resamples, minimum=100)
    if len(v) == 0:
        raise InpaintkitError("values: expected at least one finite value per image, got none")
    idx = np.random.default_rng(seed).integers(0, len(v), (resamples, len(v)))
    lo, hi = np.percentile(v[idx].mean(axis=1), [2.5, 97.5])
    return {"mean": round(float(v.mean()), 4), "ci95": [round(float(lo), 4), round(float(hi), 4)], "n": int(len(v))}


# Fréchet distance on the independent evaluator's features (inpaintkit.evaluator): the real cars
# are held-out toy cars of their own sequences (not used by any model or by the large-hole splits).
FRECHET_SEEDS = {"real": 8_201, "reference": 8_202}


def evaluator_frechet(images, real=None, reference=None, *, model=None, n_real: int | None = None) -> dict:
    """Fréchet distance between ``images`` (e.g. DCGAN samples or completed images, [0, 1]) and real
    toy cars on the evaluator's global-pool features, next to the distance between two disjoint real
    sets (the scale: what "as close as real cars are to each other" reads as at these sample sizes).

    ``real``: the real set (default: ``n_real`` held-out toy cars of ``FRECHET_SEEDS["real"]``, ``n_real``
    defaults to ``max(len(images), 1024)``); ``reference``: a second real set, disjoint from ``real``
    (default: ``len(images)`` toy cars of ``FRECHET_SEEDS["reference"]``: the same number as ``images``,
    because the distance is biased upwards for small sets). ``model``: the evaluator (default: shipped).
    Returns ``{"frechet", "real_vs_real", "n_images", "n_real", "n_reference", "dim"}``.
    """
    from . import evaluator
    from .data import toycars
    images = check_images("images", images, batched=True)
    model = evaluator.load() if model is None else model
    size = int(model.input_shape[1])
    if real is None:
        n_real = max(len(images), 1024) if n_real is None else check_int("n_real", n_real, minimum=2)
        real = toycars.generate(n_real, size=size, seed=FRECHET_SEEDS["real"])[0]
    if reference is None:
        reference = toycars.generate(len(images), size=size, seed=FRECHET_SEEDS["reference"])[0]
    f_img, f_real, f_ref = (evaluator.features(model, x) for x in (images, real, reference))
    return {"frechet": round(frechet_distance(f_img, f_real), 4),
            "real_vs_real": round(frechet_distance(f_ref, f_real), 4),
            "n_images": int(len(f_img)), "n_real": int(len(f_real)), "n_reference": int(len(f_ref)),
            "dim": int(f_img.shape[1])}
