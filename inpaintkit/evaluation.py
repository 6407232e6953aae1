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
* Large holes on held-out toy cars (``scripts/eval_large_holes.py``): :func:`large_hole_split` (fixed
  "val" and "test" cars), :func:`large_hole_mask` (``center``, ``lower`` body and wheels, ``half``),
  :func:`large_hole_methods` (Telea, GLCIC, semantic, guided; latent searches batched),
  :func:`large_hole_compare` (hole PSNR, SSIM and the evaluator's accuracy on the completed image,
  each with a 95 % bootstrap interval, :func:`bootstrap_mean`) and :func:`large_hole_table`.

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
            sec = (time.perf_counter() - t0) / len(images)
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


# --------------------------------------------------------------------------- large holes on toy cars
# Held-out toy cars for the large-hole comparison (issue 15): two sequences no model of the kit trains
# or is tested on (training uses seed 0, the GoogLeNet's test seed 10 000, the evaluator 31 415/31 416,
# the notebooks 1, 7, 123, 424 242). Choose hyper-parameters on "val", report on "test".
LARGE_HOLE_SEEDS = {"val": 8_101, "test": 8_102}
LARGE_HOLE_KINDS = ("center", "lower", "half")


def large_hole_split(split: str = "test", n: int = 64, size: int = 64):
    """``(images (n, size, size, 3), labels (n,))``: the fixed held-out toy cars of ``split`` ("val" or
    "test"). Image ``i`` never depends on ``n``: a larger ``n`` extends the same set."""
    from .data import toycars
    from .errors import check_choice
    check_choice("split", split, tuple(LARGE_HOLE_SEEDS))
    n = check_int("n", n, minimum=1)
    return toycars.generate(n, size=size, seed=LARGE_HOLE_SEEDS[split])


def large_hole_mask(kind: str, size: int = 64) -> np.ndarray:
    """One ``(size, size, 1)`` large hole: ``center`` a centred box of half the side (25 % of the image);
    ``lower`` a box over the lower body and both wheels (rows 0.6-0.96 of the height, all but 1/16 of
    the width at each side: toy cars stand on a road at 0.80-0.93 of the height with their wheels
    between ~0.1 and ~0.9 of the width, so the hole covers the wheels, sills and bumpers of every car;
    ~31 % of the image); ``half`` the left half."""
    from .errors import check_choice
    check_choice("kind", kind, LARGE_HOLE_KINDS)
    size = check_int("size", size, minimum=16)
    if kind == "center":
        return masklib.center_box(size, frac=0.5)
    if kind == "half":
        return masklib.half(size, side="left")
    top, side = round(0.6 * size), round(size / 16)
    return masklib.box(size, top, side, round(0.96 * size) - top, size - 2 * side)


def large_hole_masks(n: int, size: int = 64, kinds=LARGE_HOLE_KINDS) -> dict:
    """``{kind: (n, size, size, 1)}``: the same large hole for every image of a kind."""
    n = check_int("n", n, minimum=1)
    return {k: np.repeat(large_hole_mask(k, size)[None], n, axis=0) for k in kinds}


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


def _chunked(name: str, fn: Callable, batch: int, verbose: bool) -> Callable:
    """A batched method that runs ``fn(images, holes, start)`` on ``batch`` images at a time (``start``:
    the index of the chunk's first image), printing progress."""
    def run(images, holes):
        out, t0 = [], time.perf_counter()
        for i in range(0, len(images), batch):
            out.append(np.asarray(fn(images[i:i + batch], holes[i:i + batch], i), np.float32))
            if verbose:
                done = min(i + batch, len(images))
                print(f"    {name}: {done}/{len(images)} images, {time.perf_counter() - t0:.0f} s", flush=True)
        return np.concatenate(out)
    return batched(run)


def _searcher(search, seed: int) -> Callable:
    """``fn(images, holes, start)`` running one :class:`~inpaintkit.semantic.LatentSearch` (compiled once
    per batch size) with image ``start + j`` starting from the codes of ``seed + start + j``, so the
    result does not depend on how the images are chunked."""
    def fn(images, holes, start):
        search.seed = seed + start
        return search.run(images, holes).blended
    return fn


def large_hole_methods(names=("telea", "glcic", "semantic", "guided"), *, preset=None, iters: int | None = None,
                       restarts: int | None = None, guided_iters: int | None = None, batch: int = 32,
                       generator_weights=None, glcic: str = "glcic_toycars", glcic_postprocess: bool = True,
                       layers=None, lambda_sem=None, lambda_cat=None, lambda_inp=None, seed: int = 0,
                       verbose: bool = True) -> dict:
    """``{name: batched fn(images, holes) -> images}`` for :func:`large_hole_compare`.

    ``telea``: OpenCV Telea (radius 5, the kit's default); ``glcic``: the shipped ``glcic`` network
    (with the official Telea + Poisson post-processing unless ``glcic_postprocess=False``);
    ``semantic``: Yeh et al.'s search (:func:`inpaintkit.semantic.inpaint`, Poisson-blended result) and
    ``guided``: the classifier-guided search (:func:`inpaintkit.guided.inpaint`), both on the shipped
    DCGAN or the generator file ``generator_weights``, ``iters``/``restarts`` from the preset unless given
    (``guided_iters``: a different count for guided), ``batch`` images per search; ``layers`` and the
    ``lambda_*`` go to guided (None: guided's defaults)."""
    from .errors import check_choice
    known = ("telea", "glcic", "semantic", "guided")
    names = [names] if isinstance(names, str) else list(names)
    for n in names:
        check_choice("methods", n, known)
    batch = check_int("batch", batch, minimum=1)
    out: dict = {}
    if "telea" in names:
        from . import baselines
        out["telea"] = lambda im, m: baselines.telea(im, m)
    if "glcic" in names:
        from .glcic import inference
        net = inference.load_shipped(glcic)
        out["glcic"] = batched(lambda x, m: inference.inpaint(x, m, model=net, postprocess=glcic_postprocess))
    if "semantic" in names or "guided" in names:
        from . import presets, semantic
        P = presets.active() if preset is None else (presets.get(preset) if isinstance(preset, str) else preset)
        iters = P.latent_iters if iters is None else iters
        restarts = P.restarts if restarts is None else restarts
        G, D = semantic.load_models(generator_weights)
        if "semantic" in names:
            search = semantic.LatentSearch(G, semantic.default_terms(D), iters=iters, restarts=restarts, seed=seed)
            out["semantic"] = _chunked("semantic", _searcher(search, seed), batch, verbose)
        if "guided" in names:
            from . import classifier, guided
            kw = {k: v for k, v in (("lambda_sem", lambda_sem), ("lambda_cat", lambda_cat),
                                    ("lambda_inp", lambda_inp)) if v is not None}
            search = guided.guided_search(G, D, classifier.shipped(), guided.DEFAULT_LAYERS if layers is None else layers,
                                          iters=iters if guided_iters is None else guided_iters, restarts=restarts,
                                          seed=seed, **kw)
            out["guided"] = _chunked("guided", _searcher(search, seed), batch, verbose)
    return {n: out[n] for n in names}


def large_hole_compare(methods: dict, images, labels, masks: dict | None = None, *, model=None,
                       resamples: int = 2000, seed: int = 0, verbose: bool = True) -> dict:
    """Every method on every large-hole kind, scored three ways per image, each with a 95 % bootstrap
    interval: hole PSNR, SSIM (whole image, 7×7 window: :func:`inpaintkit.metrics.evaluate`) and the
    evaluator's accuracy on the completed image (1 if its top class is ``labels[i]``, the true class).

    ``masks``: ``{kind: (N, H, W, 1)}`` (default :func:`large_hole_masks`); ``model``: the evaluator
    (default: shipped). Returns ``{"intact_accuracy", "results": {kind: {method: {"hole_psnr",
    "ssim", "accuracy": {"mean", "ci95", "n"}, "seconds_per_image", "vs_telea": {...}}}},
    "per_image": {kind: {method: {"hole_psnr", "ssim", "correct": lists}}}, "outputs": {kind: {method:
    (N, H, W, 3)}}}``. ``vs_telea`` (when Telea is among the methods): paired differences of hole PSNR
    and accuracy against Telea on the same images (:func:`paired_difference`); ``vs_semantic`` the
    same for guided against semantic inpainting.
    """
    from . import evaluator
    images = check_images("images", images, batched=True)
    labels = np.asarray(labels)
    if labels.shape != (len(images),):
        raise InpaintkitError(f"labels: expected {len(images)} class indices (one per image), got shape {labels.shape}")
    masks = large_hole_masks(len(images), images.shape[1]) if masks is None else masks
    model = evaluator.load() if model is None else model
    _, intact = evaluator.accuracy(model, images, labels)
    res = compare(methods, images, masks, verbose=verbose)
    out = {"intact_accuracy": bootstrap_mean(intact, resamples=resamples, seed=seed),
           "results": {}, "per_image": {}, "outputs": res["outputs"]}
    for kind, per_method in res["per_image"].items():
        out["results"][kind], out["per_image"][kind] = {}, {}
        for name, per in per_method.items():
            _, correct = evaluator.accuracy(model, res["outputs"][kind][name], labels)
            scores = {"hole_psnr": per["hole_psnr"], "ssim": per["ssim"], "correct": correct.astype(np.float64)}
            out["per_image"][kind][name] = {k: [round(float(x), 4) for x in v] for k, v in scores.items()}
            r = {"hole_psnr": bootstrap_mean(per["hole_psnr"], resamples=resamples, seed=seed),
                 "ssim": bootstrap_mean(per["ssim"], resamples=resamples, seed=seed),
                 "accuracy": bootstrap_mean(scores["correct"], resamples=resamples, seed=seed),
                 "seconds_per_image": round(res["seconds_per_image"][kind][name], 4)}
            out["results"][kind][name] = r
            if verbose:
                print(f"{kind:>12} {name:<10} evaluator accuracy {r['accuracy']['mean']:.3f} "
                      f"[{r['accuracy']['ci95'][0]:.3f}, {r['accuracy']['ci95'][1]:.3f}]", flush=True)
        for ref, others in (("telea", [n for n in per_method if n != "telea"]), ("semantic", ["guided"])):
            if ref not in per_method or len(images) < 2:
                continue
            t = out["per_image"][kind][ref]
            for name in others:
                if name in per_method:
                    p = out["per_image"][kind][name]
                    out["results"][kind][name][f"vs_{ref}"] = {
                        m: paired_difference(p[m], t[m], resamples=resamples, seed=seed) for m in ("hole_psnr", "correct")}
    return out


def large_hole_table(results: dict) -> str:
    """Markdown: one row per (mask kind, method), hole PSNR / SSIM / evaluator accuracy with 95 % intervals."""
    fmt = lambda r, d: f"{r['mean']:.{d}f} [{r['ci95'][0]:.{d}f}, {r['ci95'][1]:.{d}f}]"
    rows = ["| hole | method | hole PSNR (dB) | SSIM | evaluator accuracy | s / image |",
            "|---|---|---:|---:|---:|---:|"]
    for kind, per in results["results"].items():
        for name, r in per.items():
            rows.append(f"| {kind} | {name} | {fmt(r['hole_psnr'], 2)} | {fmt(r['ssim'], 3)} | "
                        f"{fmt(r['accuracy'], 3)} | {r['seconds_per_image']:.3f} |")
    ia = results["intact_accuracy"]
    rows.append(f"\nEvaluator accuracy on the intact images: {fmt(ia, 3)} (n = {ia['n']}).")
    return "\n".join(rows)
