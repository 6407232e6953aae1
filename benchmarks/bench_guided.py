"""Classifier-guided inpainting speed (sem_inpainting, https://github.com/amarisch/sem_inpainting): seconds per image at 1, 16 and 64 images.

    python benchmarks/bench_guided.py                                 # class and paper configurations
    python benchmarks/bench_guided.py --configs class --batches 1 16 64
    python benchmarks/bench_guided.py --configs class class_resize --batches 16 --lambdas sem_inpainting tuned
    KERAS_BACKEND=torch python benchmarks/bench_guided.py --configs class
    python benchmarks/bench_guided.py --compare 8 --out notebooks/10_comparison_results.json

``--compare N`` instead runs notebook 10's protocol on N held-out toy cars per mask kind with the
shipped models and the active preset's search (every method of the kit, metrics, Fréchet distance,
guided - semantic hole PSNR on each mask kind) and writes the JSON notebook 10 shows.
``--only ilo semantic`` adds those methods to the stored JSON (the same cars, masks and preset).

One iteration is one compiled step over all N x restarts codes: G forward, D on G(z) and on the
composite, GoogLeNet on G(z) and on the composite (one batched call), the gradient w.r.t. z, Adam,
clip. Seconds per image = iterations x median seconds per step / N (the full search extrapolated
from timed steps). FLOPs per code and step ≈ 2 (f_G + 2 f_D + 2 f_C): a forward pass and a backward
pass that propagates gradients to the input only (no weight gradients are needed to optimise z, so
the backward pass costs about one forward pass, not two).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("INPAINTKIT_NO_PROGRESS", "1")


from inpaintkit import backend, benchmarking, dcgan, googlenet, guided, masks, presets, semantic  # noqa: E402

CONFIGS = {
    "class": dict(width=presets.CLASS.dcgan_width, cwidth=presets.CLASS.classifier_width,
                  iters=presets.CLASS.latent_iters, restarts=presets.CLASS.restarts),
    "paper": dict(width=1.0, cwidth=presets.PAPER.classifier_width, iters=presets.PAPER.latent_iters,
                  restarts=presets.PAPER.restarts),
    # the class preset's search with the kit's resize-convolution generator (semantic.GENERATOR)
    "class_resize": dict(width=presets.CLASS.dcgan_width, cwidth=presets.CLASS.classifier_width,
                         iters=presets.CLASS.latent_iters, restarts=presets.CLASS.restarts, upsample="resize"),
}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--configs", nargs="+", default=["class", "paper"], choices=sorted(CONFIGS))
    p.add_argument("--batches", nargs="+", type=int, default=[1, 16, 64], help="images per search")
    p.add_argument("--jit", choices=("on", "off"), default="off", help="TensorFlow only: XLA-compile the step")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--lambdas", nargs="+", default=["sem_inpainting"], choices=sorted(guided.WEIGHT_SETS),
                   help="named weight sets to time (sem_inpainting: all three terms, what the FLOP count assumes)")
    p.add_argument("--max-seconds", type=float, default=30.0,
                   help="a single timed step for configurations slower than this per step")
    p.add_argument("--compare", type=int, default=0, help="run the method comparison on N cars per mask kind")
    p.add_argument("--out", default=None, help="JSON file for --compare")
    p.add_argument("--guided-sets", nargs="+", default=[guided.DEFAULT_WEIGHTS], choices=sorted(guided.WEIGHT_SETS),
                   help="with --compare: the guided searches to run, by weight set (the kit's default set is the "
                        "method 'guided', any other 'guided <set>')")
    p.add_argument("--only", nargs="+", default=None,
                   help="with --compare: run only these methods and merge them into the existing --out file")
    args = p.parse_args(argv)
    if args.compare:
        return compare(args.compare, args.out, argv, only=args.only, guided_sets=args.guided_sets)
    jit = args.jit == "on" and backend.NAME == "tensorflow"
    from inpaintkit.data import toycars
    out = []
    for name in args.configs:
        c = CONFIGS[name]
        backend.seed(0)
        G = dcgan.generator(64, c["width"], upsample=c.get("upsample", "transposed"))
        D = dcgan.discriminator(64, c["width"])
        C = googlenet.googlenet(64, len(toycars.CLASSES), width=c["cwidth"])
        fg, fd, fc = (benchmarking.forward_flops(m) for m in (G, D, C))
        for n, lambdas in ((n, lam) for n in args.batches for lam in args.lambdas):
            # "sem_inpainting": all of its terms (the classifier's included, which the FLOP count assumes),
            # the cost of the full method; a set with λ_sem = λ_cat = 0 skips the classifier's passes
            search = guided.guided_search(G, D, C, iters=c["iters"], restarts=c["restarts"], seed=0, jit=jit,
                                          lambdas=lambdas)
            b = n * c["restarts"]
            uses_c = any(guided.WEIGHT_SETS[lambdas][t] for t in ("sem", "cat"))     # GoogLeNet passes at all?
            secs, first = benchmarking.time_latent_search(
                search, toycars.generate(n, 64, seed=1)[0], masks.batch("center_box", n, 64), c["restarts"],
                repeats=args.repeats, max_seconds=args.max_seconds)
            r = benchmarking.report(
                "guided_latent_step",
                {"preset": name, "images": n, "restarts": c["restarts"], "codes_per_step": b, "lambdas": lambdas,
                 "upsample": c.get("upsample", "transposed"),
                 "dcgan_width": c["width"], "classifier_width": c["cwidth"], "iters": c["iters"],
                 "jit": jit, "threads": backend.threads()},
                secs, items=1, unit="it/s", flops=int(2 * b * (fg + 2 * fd + (2 * fc if uses_c else 0))))
            r["seconds_per_image"] = round(c["iters"] * secs["median_s"] / n, 3)
            r["first_step_s"] = round(first, 2)
            print("  -> seconds per image (full search, extrapolated):", r["seconds_per_image"], flush=True)
            out.append(r)
    return out


def compare(n: int, out, argv, only=None, guided_sets=(guided.DEFAULT_WEIGHTS,)) -> dict:
    """Notebook 10's comparison on ``n`` held-out cars per mask kind; JSON without images."""
    import json
    import shlex

    from inpaintkit import baselines, evaluation, weights
    from inpaintkit.data import toycars
    P = presets.active()
    G, D, C, note = guided.available_models(P)
    S = G.output_shape[1]
    cars, labels = toycars.generate(n, size=S, seed=424_242)     # notebook 10's held-out seed
    masks_ = evaluation.eval_masks(n, S)

    def latent(search):
        return evaluation.batched(lambda x, m: search.run(x, m).blended)

    methods = {"telea": baselines.telea, "ns": baselines.navier_stokes, "biharmonic": baselines.biharmonic}
    name = "glcic_toycars" if weights.available("glcic_toycars") else "glcic_photos"
    if weights.available(name):
        from inpaintkit.glcic import inference
        model = inference.load_shipped(name)
        methods["glcic"] = evaluation.batched(lambda x, m: inference.inpaint(x, m, model=model))
    latent_names = [m for m in ("semantic", "ilo") if not only or m in only]
    if note.startswith("shipped") and latent_names:
        # semantic inpainting (the preset's search, seed 0), then the search of the generator's feature
        # map (notebook 07 §4c), which starts from semantic's codes: one search over z for both
        from inpaintkit import large_holes
        methods.update(large_holes.methods(latent_names, preset=P, batch=n, verbose=False))
    else:
        methods["semantic"] = latent(semantic.LatentSearch(G, semantic.default_terms(D), iters=P.latent_iters,
                                                           restarts=P.restarts, jit=googlenet.auto_jit()))
    if only:                                   # skip the searches nobody asked for
        methods = {k: v for k, v in methods.items() if k in only}
        return _merge(n, out, argv, only, methods, cars, labels, masks_, C, note, P, name)
    # "guided": the kit's default weights (chosen on validation cars, notebook 09 §3b); other named
    # sets (--guided-sets sem_inpainting: the source project's balance) as "guided <name>"
    for name_ in guided_sets:
        key = "guided" if name_ == guided.DEFAULT_WEIGHTS else f"guided {name_}"
        methods[key] = latent(guided.guided_search(G, D, C, iters=P.latent_iters, restarts=P.restarts, lambdas=name_))
    t0 = time.perf_counter()
    res = evaluation.compare(methods, cars, masks_)
    fd = evaluation.frechet_table(res, cars, C)
    delta = {}
    for variant in (m for m in methods if m.startswith("guided")):
        for kind in masks_:
            a, b = res["per_image"][kind][variant]["hole_psnr"], res["per_image"][kind]["semantic"]["hole_psnr"]
            d = a - b
            delta.setdefault(variant, {})[kind] = {"mean": round(float(d.mean()), 3), "wins": int((d > 0).sum()),
                                                   "n": int(len(d)),
                                                   "ci95": evaluation.paired_difference(a, b)["ci95"]}
    intervals, kept, fd_eval = _judged(res, cars, labels)
    report = {"command": "python benchmarks/bench_guided.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:])),
              "preset": P.name, "n_images": n, "models": note + (f" + {name}" if "glcic" in methods else ""),
              "backend": backend.NAME, "wall_s": round(time.perf_counter() - t0, 1),
              "metrics": {k: {m: {q: round(v, 4) for q, v in r.items()} for m, r in per.items()}
                          for k, per in res["metrics"].items()},
              "seconds_per_image": {k: {m: round(v, 3) for m, v in per.items()}
                                    for k, per in res["seconds_per_image"].items()},
              "frechet": {k: {m: round(v, 3) for m, v in per.items()} for k, per in fd.items()},
              "guided_minus_semantic": delta,
              "hole_psnr_ci95": intervals, "evaluator_keeps_class": kept,
              "evaluator_frechet": fd_eval}
    print(json.dumps(report, indent=1))
    if out:                                   # replaced only once the whole run has finished
        tmp = Path(out).with_name(f".{Path(out).name}.tmp")
        tmp.write_text(json.dumps(report, indent=1) + "\n")
        os.replace(tmp, out)
    return report


def _judged(res, cars, labels) -> tuple[dict, dict, dict]:
    """With intervals: hole PSNR per method, and (independent ResNet evaluator, never used by a method)
    whether the completed car is still seen as its own class; Fréchet distance on its features."""
    from inpaintkit import evaluation, evaluator, weights
    intervals, kept, fd_eval = {}, {}, {}
    E = evaluator.load() if weights.available(evaluator.SHIPPED) else None
    for kind, per in res["per_image"].items():
        for m in per:
            intervals.setdefault(kind, {})[m] = evaluation.bootstrap_mean(per[m]["hole_psnr"])
            if E is not None:
                _, right = evaluator.accuracy(E, res["outputs"][kind][m], labels)
                kept.setdefault(kind, {})[m] = evaluation.bootstrap_mean(right.astype(float))
                fd_eval.setdefault(kind, {})[m] = evaluation.evaluator_frechet(res["outputs"][kind][m], model=E)
    if E is not None:
        _, right = evaluator.accuracy(E, cars, labels)
        kept["intact"] = {"original": evaluation.bootstrap_mean(right.astype(float))}
    return intervals, kept, fd_eval


def _merge(n, out, argv, only, methods, cars, labels, masks_, C, note, P, glcic_name) -> dict:
    """Add the ``only`` methods' numbers to an existing comparison JSON (same cars, masks, preset)."""
    import json
    import shlex

    from inpaintkit import evaluation
    old = json.loads(Path(out).read_text())
    if old["n_images"] != n or old["preset"] != P.name:
        raise SystemExit(f"--only: {out} holds n={old['n_images']} preset={old['preset']}; run without --only")
    res = evaluation.compare(methods, cars, masks_)
    fd = evaluation.frechet_table(res, cars, C)
    cmd = "python benchmarks/bench_guided.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    timed = old.setdefault("seconds_per_image_merged", {}).setdefault(cmd, {})
    for kind in masks_:
        for m in methods:
            old["metrics"][kind][m] = {q: round(v, 4) for q, v in res["metrics"][kind][m].items()}
            old["frechet"][kind][m] = round(fd[kind][m], 3)
            sec = round(res["seconds_per_image"][kind][m], 3)
            timed.setdefault(kind, {})[m] = sec     # this run's times, comparable with each other only
            # a method already in the file keeps the time of the run it was first measured in, so the
            # times of one run are never mixed with another's
            old["seconds_per_image"][kind].setdefault(m, sec)
    intervals, kept, fd_eval = _judged(res, cars, labels)        # the judged numbers too, when stored
    for key, new in (("hole_psnr_ci95", intervals), ("evaluator_keeps_class", kept), ("evaluator_frechet", fd_eval)):
        if key in old:
            for kind, per in new.items():
                old[key].setdefault(kind, {}).update(per)
    if cmd not in old.setdefault("merged", []):
        old["merged"].append(cmd)
    if "glcic" in methods and "+ glcic" not in old["models"]:
        old["models"] += f" + {glcic_name}"
    tmp = Path(out).with_name(f".{Path(out).name}.tmp")     # replaced only once the whole run has finished
    tmp.write_text(json.dumps(old, indent=1) + "\n")
    os.replace(tmp, out)
    print(json.dumps(old["metrics"], indent=1))
    return old


if __name__ == "__main__":
    main()
