r"""Large holes on held-out toy cars (issue 15): can a method complete the *car*, not just the pixels?

The protocol of ``scripts/eval_large_holes.py`` and ``scripts/sweep_guided.py``:

* :func:`split`: fixed held-out toy cars, "val" for choosing and "test" for reporting;
* :func:`mask` / :func:`masks`: three large holes, ``center`` (a centred box of half the side),
  ``lower`` (the lower body and both wheels) and ``half`` (the left half);
* :func:`methods`: Telea, GLCIC, semantic inpainting, ilo (semantic, then a search of the generator's
  feature map: :mod:`inpaintkit.ilo`) and guided inpainting as batched functions (the latent searches
  run a batch of images at a time, each image from its own seeded codes);
* :func:`compare`: hole PSNR, SSIM and the independent evaluator's accuracy on the completed image
  (:mod:`inpaintkit.evaluator`: "is it still the same kind of car?"), each with a 95 % bootstrap
  interval, and paired differences against Telea and (for guided and ilo) semantic inpainting;
* :func:`table`: the markdown table of ``docs/large_holes``.

The generic tools (running methods on fixed masks, bootstrap intervals, Fréchet distances) are in
:mod:`inpaintkit.evaluation`.
"""
from __future__ import annotations

import time
from typing import Callable

import numpy as np

from . import evaluation
from . import masks as masklib
from .errors import InpaintkitError, check_choice, check_float, check_images, check_int

# Held-out toy cars for the large-hole comparison (issue 15): two sequences no model of the kit trains
# or is tested on (training uses seed 0, the GoogLeNet's test seed 10 000, the evaluator 31 415/31 416,
# the notebooks 1, 7, 123, 424 242). Choose hyper-parameters on "val", report on "test".
SEEDS = {"val": 8_101, "test": 8_102}
KINDS = ("center", "lower", "half")


def split(split: str = "test", n: int = 64, size: int = 64):
    """``(images (n, size, size, 3), labels (n,))``: the fixed held-out toy cars of ``split`` ("val" or
    "test"). Image ``i`` never depends on ``n``: a larger ``n`` extends the same set."""
    from .data import toycars
    check_choice("split", split, tuple(SEEDS))
    n = check_int("n", n, minimum=1)
    return toycars.generate(n, size=size, seed=SEEDS[split])


def mask(kind: str, size: int = 64) -> np.ndarray:
    """One ``(size, size, 1)`` large hole: ``center`` a centred box of half the side (25 % of the image);
    ``lower`` a box over the lower body and both wheels (rows 0.6-0.96 of the height, all but 1/16 of
    the width at each side: toy cars stand on a road at 0.80-0.93 of the height with their wheels
    between ~0.1 and ~0.9 of the width, so the hole covers the wheels, sills and bumpers of every car;
    ~31 % of the image); ``half`` the left half."""
    check_choice("kind", kind, KINDS)
    size = check_int("size", size, minimum=16)
    if kind == "center":
        return masklib.center_box(size, frac=0.5)
    if kind == "half":
        return masklib.half(size, side="left")
    top, side = round(0.6 * size), round(size / 16)
    return masklib.box(size, top, side, round(0.96 * size) - top, size - 2 * side)


def masks(n: int, size: int = 64, kinds=KINDS) -> dict:
    """``{kind: (n, size, size, 1)}``: the same large hole for every image of a kind."""
    n = check_int("n", n, minimum=1)
    return {k: np.repeat(mask(k, size)[None], n, axis=0) for k in kinds}


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
    return evaluation.batched(run)


def _searcher(search, seed: int) -> Callable:
    """``fn(images, holes, start) -> SearchResult`` running one :class:`~inpaintkit.semantic.LatentSearch`
    (compiled once per batch size) with image ``start + j`` starting from the codes of
    ``seed + start + j``, so the result does not depend on how the images are chunked."""
    def fn(images, holes, start):
        search.seed = seed + start
        return search.run(images, holes)
    return fn


def _shared(fn: Callable, users: int) -> Callable:
    """``run(images, holes, start) -> (value, reused_seconds)`` for ``users`` callers of one computation
    ``fn(images, holes, start)`` (semantic inpainting and ilo share one search over z): the first call
    with an input computes it (reused seconds 0); each later call gets the same value and the seconds
    it took, so every caller can report its whole cost. After ``users`` calls the entry is dropped, so
    nothing is kept longer than both callers need it (``users=1``: no cache at all)."""
    import hashlib
    users = check_int("users", users, minimum=1)
    done: dict = {}

    def run(images, holes, start):
        key = (start, hashlib.sha1(np.ascontiguousarray(images).tobytes() + np.ascontiguousarray(holes).tobytes()).hexdigest())
        if key in done:
            entry, seconds = done[key], done[key][1]
        else:
            t0 = time.perf_counter()
            entry, seconds = [fn(images, holes, start), 0.0, 0], 0.0
            entry[1] = time.perf_counter() - t0
            done[key] = entry
        entry[2] += 1
        if entry[2] >= users:
            del done[key]
        return entry[0], seconds
    return run


def _shared_search(search, seed: int, users: int) -> Callable:
    """:func:`_shared` over one latent search (:func:`_searcher`): ``run(images, holes, start) ->
    ((z, blended), reused_seconds)``, the codes it found and its Poisson-blended fill."""
    run = _searcher(search, seed)
    return _shared(lambda x, m, start: (lambda r: (r.z, r.blended))(run(x, m, start)), users)


def _reusing(name: str, shared: Callable, finish: Callable, batch: int, verbose: bool) -> Callable:
    """A chunked method ``name`` that takes the shared search's result and ``finish(images, holes, z,
    blended)`` -> images, adding the reused seconds to its own time (``fn.reused_seconds``, read by
    :func:`inpaintkit.evaluation.compare`)."""
    def fn(images, holes, start):
        (z, blended), seconds = shared(images, holes, start)
        method.reused_seconds = getattr(method, "reused_seconds", 0.0) + seconds
        return finish(images, holes, z, blended)
    method = _chunked(name, fn, batch, verbose)
    return method


def methods(names=("telea", "glcic", "semantic", "guided"), *, preset=None, iters: int | None = None,
                       restarts: int | None = None, guided_iters: int | None = None, batch: int = 32,
                       generator_weights=None, glcic: str = "glcic_toycars", glcic_postprocess: bool = True,
                       layers=None, lambda_sem=None, lambda_cat=None, lambda_inp=None, seed: int = 0,
                       window: int | None = None, prior_weight: float | None = None, lr: float | None = None,
                       candidates: int | None = None, ilo_resolution: int | None = None,
                       ilo_leash: float | None = None, ilo_iters: int | None = None, verbose: bool = True) -> dict:
    """``{name: batched fn(images, holes) -> images}`` for :func:`compare`.

    ``telea``: OpenCV Telea (radius 5, the kit's default); ``glcic``: the shipped ``glcic`` network
    (with the official Telea + Poisson post-processing unless ``glcic_postprocess=False``);
    ``semantic``: Yeh et al.'s search (:func:`inpaintkit.semantic.inpaint`, Poisson-blended result) and
    ``guided``: the classifier-guided search (:func:`inpaintkit.guided.inpaint`), both on the shipped
    DCGAN or the generator file ``generator_weights``, ``iters``/``restarts`` from the preset unless given
    (``guided_iters``: a different count for guided), ``batch`` images per search; ``layers`` and the
    ``lambda_*`` go to guided (None: guided's defaults); ``window``: the importance window of both
    searches' context loss (None: :data:`inpaintkit.semantic.WINDOW`); ``prior_weight``: semantic
    inpainting's λ on the prior loss (None: Yeh et al.'s, ``PriorLoss.weight``); ``lr`` and ``candidates``:
    semantic inpainting's Adam step on z and best-of-N start (:class:`~inpaintkit.semantic.LatentSearch`;
    None: its defaults); ``ilo``: the same search over z, then over the generator's feature map
    (:class:`inpaintkit.ilo.FeatureSearch` with ``ilo_resolution``, ``ilo_leash``, ``ilo_iters``; None: its
    defaults), started from the codes the search over z found (run once when both are asked for; each
    method's time includes it)."""
    known = ("telea", "glcic", "semantic", "guided", "ilo")
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
        out["glcic"] = evaluation.batched(lambda x, m: inference.inpaint(x, m, model=net, postprocess=glcic_postprocess))
    if {"semantic", "guided", "ilo"} & set(names):
        from . import presets, semantic
        P = presets.active() if preset is None else (presets.get(preset) if isinstance(preset, str) else preset)
        iters = P.latent_iters if iters is None else iters
        restarts = P.restarts if restarts is None else restarts
        G, D = semantic.load_models(generator_weights)
        window = semantic.WINDOW if window is None else window
        prior = semantic.PriorLoss.weight if prior_weight is None else prior_weight
        users = [n for n in ("semantic", "ilo") if n in names]
        if users:
            extra = {k: v for k, v in (("lr", lr), ("candidates", candidates)) if v is not None}
            search = semantic.LatentSearch(G, semantic.default_terms(D, prior), iters=iters, restarts=restarts,
                                           seed=seed, window=window, **extra)
            shared = _shared_search(search, seed, len(users))
        if "semantic" in names:
            out["semantic"] = _reusing("semantic", shared, lambda x, m, z, blended: blended, batch, verbose)
        if "ilo" in names:
            from . import ilo
            if ilo_resolution is not None and ilo_resolution not in ilo.resolutions(G):
                raise InpaintkitError(f"ilo_resolution: expected the side of one of the generator's feature maps "
                                      f"({', '.join(map(str, ilo.resolutions(G)))}), got {ilo_resolution!r}")
            features = ilo.FeatureSearch(
                G, D, prior_weight=prior, window=window,
                resolution=ilo.RESOLUTION if ilo_resolution is None else check_int("ilo_resolution", ilo_resolution),
                leash=ilo.LEASH if ilo_leash is None else check_float("ilo_leash", ilo_leash, minimum=0),
                iters=ilo.ITERS if ilo_iters is None else check_int("ilo_iters", ilo_iters, minimum=1))
            out["ilo"] = _reusing("ilo", shared, lambda x, m, z, blended: features.run(x, m, z).blended, batch, verbose)
        if "guided" in names:
            from . import classifier, guided
            kw = {k: v for k, v in (("lambda_sem", lambda_sem), ("lambda_cat", lambda_cat),
                                    ("lambda_inp", lambda_inp)) if v is not None}
            search = guided.guided_search(G, D, classifier.shipped(), guided.DEFAULT_LAYERS if layers is None else layers,
                                          iters=iters if guided_iters is None else guided_iters, restarts=restarts,
                                          seed=seed, window=window, **kw)
            guided_run = _searcher(search, seed)
            out["guided"] = _chunked("guided", lambda x, m, start: guided_run(x, m, start).blended, batch, verbose)
    return {n: out[n] for n in names}


def compare(methods: dict, images, labels, masks: dict | None = None, *, model=None,
                       resamples: int = 2000, seed: int = 0, verbose: bool = True) -> dict:
    """Every method on every large-hole kind, scored three ways per image, each with a 95 % bootstrap
    interval: hole PSNR, SSIM (whole image, 7×7 window: :func:`inpaintkit.metrics.evaluate`) and the
    evaluator's accuracy on the completed image (1 if its top class is ``labels[i]``, the true class).

    ``masks``: ``{kind: (N, H, W, 1)}`` (default :func:`masks`); ``model``: the evaluator
    (default: shipped). Returns ``{"intact_accuracy", "results": {kind: {method: {"hole_psnr",
    "ssim", "accuracy": {"mean", "ci95", "n"}, "seconds_per_image", "vs_telea": {...}}}},
    "per_image": {kind: {method: {"hole_psnr", "ssim", "correct": lists}}}, "outputs": {kind: {method:
    (N, H, W, 3)}}}``. ``vs_telea`` (when Telea is among the methods): paired differences of hole PSNR
    and accuracy against Telea on the same images (:func:`inpaintkit.evaluation.paired_difference`); ``vs_semantic`` the
    same for guided and ilo against semantic inpainting.
    """
    from . import evaluator
    images = check_images("images", images, batched=True)
    labels = np.asarray(labels)
    if labels.shape != (len(images),):
        raise InpaintkitError(f"labels: expected {len(images)} class indices (one per image), got shape {labels.shape}")
    masks = _default_masks(len(images), images.shape[1]) if masks is None else masks
    model = evaluator.load() if model is None else model
    _, intact = evaluator.accuracy(model, images, labels)
    res = evaluation.compare(methods, images, masks, verbose=verbose)
    out = {"intact_accuracy": evaluation.bootstrap_mean(intact, resamples=resamples, seed=seed),
           "results": {}, "per_image": {}, "outputs": res["outputs"]}
    for kind, per_method in res["per_image"].items():
        out["results"][kind], out["per_image"][kind] = {}, {}
        for name, per in per_method.items():
            _, correct = evaluator.accuracy(model, res["outputs"][kind][name], labels)
            scores = {"hole_psnr": per["hole_psnr"], "ssim": per["ssim"], "correct": correct.astype(np.float64)}
            out["per_image"][kind][name] = {k: [round(float(x), 4) for x in v] for k, v in scores.items()}
            r = {"hole_psnr": evaluation.bootstrap_mean(per["hole_psnr"], resamples=resamples, seed=seed),
                 "ssim": evaluation.bootstrap_mean(per["ssim"], resamples=resamples, seed=seed),
                 "accuracy": evaluation.bootstrap_mean(scores["correct"], resamples=resamples, seed=seed),
                 "seconds_per_image": round(res["seconds_per_image"][kind][name], 4)}
            out["results"][kind][name] = r
            if verbose:
                print(f"{kind:>12} {name:<10} evaluator accuracy {r['accuracy']['mean']:.3f} "
                      f"[{r['accuracy']['ci95'][0]:.3f}, {r['accuracy']['ci95'][1]:.3f}]", flush=True)
        for ref, others in (("telea", [n for n in per_method if n != "telea"]), ("semantic", ["guided", "ilo"])):
            if ref not in per_method or len(images) < 2:
                continue
            t = out["per_image"][kind][ref]
            for name in others:
                if name in per_method:
                    p = out["per_image"][kind][name]
                    out["results"][kind][name][f"vs_{ref}"] = {
                        m: evaluation.paired_difference(p[m], t[m], resamples=resamples, seed=seed) for m in ("hole_psnr", "correct")}
    return out


def table(results: dict, methods=None) -> str:
    """Markdown: one row per (mask kind, method), hole PSNR / SSIM / evaluator accuracy with 95 % intervals
    (``methods``: only these, in the results' order)."""
    fmt = lambda r, d: f"{r['mean']:.{d}f} [{r['ci95'][0]:.{d}f}, {r['ci95'][1]:.{d}f}]"
    rows = ["| hole | method | hole PSNR (dB) | SSIM | evaluator accuracy | s / image |",
            "|---|---|---:|---:|---:|---:|"]
    for kind, per in results["results"].items():
        for name, r in per.items():
            if methods is not None and name not in methods:
                continue
            rows.append(f"| {kind} | {name} | {fmt(r['hole_psnr'], 2)} | {fmt(r['ssim'], 3)} | "
                        f"{fmt(r['accuracy'], 3)} | {r['seconds_per_image']:.3f} |")
    ia = results["intact_accuracy"]
    rows.append(f"\nEvaluator accuracy on the intact images: {fmt(ia, 3)} (n = {ia['n']}).")
    return "\n".join(rows)


_default_masks = masks      # for compare(), whose argument ``masks`` hides the function
