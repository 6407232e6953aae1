"""Large holes on held-out toy cars: hole PSNR, SSIM and the independent evaluator's accuracy per method.

    nice -n 10 python scripts/eval_large_holes.py --methods telea glcic --split test --n 64
    python scripts/eval_large_holes.py --methods semantic guided --split val --n 64 --iters 300 \\
        --lambda-cat 1e3 --json runs/sweep_cat1e3.json              # a sweep point, chosen on val
    python scripts/eval_large_holes.py --n 4 --iters 5 --methods telea semantic guided   # a smoke run

Images: the first ``--n`` toy cars of the split (``large_holes.SEEDS``: val for choosing
hyper-parameters, test for reporting), every one under each of three large holes
(``large_holes.mask``): ``center`` (a centred box of half the side), ``lower`` (the lower
body and both wheels) and ``half`` (the left half). The evaluator (``inpaintkit.evaluator``, a ResNet
trained on other toy cars, not the GoogLeNet that guides) says whether each completed image still
shows its true class. Every figure comes with a 95 % bootstrap interval over the images.
Prints a Markdown table; ``--json`` writes every number (and per-image scores), ``--outputs`` an
``.npz`` of the completed images (for figures).
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--methods", nargs="+", default=["telea", "glcic", "semantic", "guided"],
                   choices=("telea", "glcic", "semantic", "guided", "ilo"),
                   help="ilo: semantic inpainting's search over z, then over a feature map of the generator")
    p.add_argument("--split", default="test", choices=("val", "test"))
    p.add_argument("--n", type=int, default=64, help="images per mask kind (the same images for every kind)")
    p.add_argument("--kinds", nargs="+", default=["center", "lower", "half"], choices=("center", "lower", "half"))
    p.add_argument("--preset", default=None, help="semantic/guided iterations and restarts (default: the active preset)")
    p.add_argument("--iters", type=int, default=None, help="semantic (and guided) search iterations")
    p.add_argument("--guided-iters", type=int, default=None, help="guided iterations, if not --iters")
    p.add_argument("--restarts", type=int, default=None)
    p.add_argument("--batch", type=int, default=32, help="images per latent search (16-64)")
    p.add_argument("--lambda-sem", type=float, default=None)
    p.add_argument("--lambda-cat", type=float, default=None)
    p.add_argument("--lambda-inp", type=float, default=None)
    p.add_argument("--window", type=int, default=None,
                   help="importance window of the context loss, odd (default: semantic.WINDOW, Yeh et al.'s 7)")
    p.add_argument("--prior-weight", type=float, default=None,
                   help="semantic inpainting's λ on the prior loss (default: Yeh et al.'s 0.003)")
    p.add_argument("--lr", type=float, default=None,
                   help="semantic inpainting's Adam learning rate on z (default: the kit's 0.01)")
    p.add_argument("--candidates", type=int, default=None,
                   help="semantic inpainting: start each image's restarts from the best of this many random codes "
                        "(lowest context loss; default: Yeh et al.'s plain random start)")
    p.add_argument("--ilo-resolution", type=int, default=None,
                   help="ilo: side of the generator's feature map searched (default: ilo.RESOLUTION)")
    p.add_argument("--ilo-leash", type=float, default=None, help="ilo: weight mu of ||h - h0||^2 (default: ilo.LEASH)")
    p.add_argument("--ilo-iters", type=int, default=None, help="ilo: Adam steps on the feature map (default: ilo.ITERS)")
    p.add_argument("--layers", nargs="+", default=None, help="guided layers, e.g. inception_3b softmax")
    p.add_argument("--generator", default=None,
                   help="a DCGAN generator .weights.h5, or a shipped name such as dcgan_toycars_generator (the "
                        "first one), instead of the kit's (semantic.GENERATOR)")
    p.add_argument("--glcic", default="glcic_toycars", help="shipped GLCIC network")
    p.add_argument("--glcic-raw", action="store_true", help="GLCIC without Telea + Poisson post-processing")
    p.add_argument("--seed", type=int, default=0, help="latent search seed")
    p.add_argument("--resamples", type=int, default=2000, help="bootstrap resamples")
    p.add_argument("--json", default=None, help="write the results here")
    p.add_argument("--outputs", default=None, help="write the completed images here (.npz)")
    a = p.parse_args(argv)
    if a.window is not None and (a.window < 1 or a.window % 2 == 0):
        p.error(f"--window: expected an odd integer >= 1, got {a.window}")
    if a.lr is not None and a.lr <= 0:
        p.error(f"--lr: expected a number > 0, got {a.lr}")
    if a.candidates is not None and a.candidates < 1:
        p.error(f"--candidates: expected an integer >= 1, got {a.candidates}")
    if a.ilo_leash is not None and a.ilo_leash < 0:
        p.error(f"--ilo-leash: expected a number >= 0, got {a.ilo_leash}")
    if a.ilo_iters is not None and a.ilo_iters < 1:
        p.error(f"--ilo-iters: expected an integer >= 1, got {a.ilo_iters}")
    if a.prior_weight is not None and a.prior_weight < 0:
        p.error(f"--prior-weight: expected a number >= 0, got {a.prior_weight}")

    import numpy as np

    from inpaintkit import backend, evaluator, large_holes, presets, semantic
    from inpaintkit import weights as registry

    P = presets.get(a.preset) if a.preset else presets.active()
    t0 = time.perf_counter()
    images, labels = large_holes.split(a.split, a.n, 64)
    masks = large_holes.masks(a.n, 64, a.kinds)
    E = evaluator.load()
    print(f"{a.split}: {a.n} toy cars (seed {large_holes.SEEDS[a.split]}) x {len(a.kinds)} hole kinds; "
          f"methods {', '.join(a.methods)}; backend {backend.NAME}; preset {P.name}", flush=True)
    methods = large_holes.methods(
        a.methods, preset=P, iters=a.iters, restarts=a.restarts, guided_iters=a.guided_iters, batch=a.batch,
        generator_weights=a.generator, glcic=a.glcic, glcic_postprocess=not a.glcic_raw, layers=a.layers,
        lambda_sem=a.lambda_sem, lambda_cat=a.lambda_cat, lambda_inp=a.lambda_inp, seed=a.seed,
        window=a.window, prior_weight=a.prior_weight, lr=a.lr, candidates=a.candidates,
        ilo_resolution=a.ilo_resolution, ilo_leash=a.ilo_leash, ilo_iters=a.ilo_iters)
    res = large_holes.compare(methods, images, labels, masks, model=E, resamples=a.resamples)
    wall = time.perf_counter() - t0
    table = large_holes.table(res)
    print("\n" + table)
    for kind, per in res["results"].items():
        for name in ("guided", "ilo"):
            gap = per.get(name, {}).get("vs_semantic")
            if gap:
                print(f"{name} - semantic, {kind}: hole PSNR {gap['hole_psnr']['mean']:+.2f} dB {gap['hole_psnr']['ci95']}, "
                      f"class kept {gap['correct']['mean']:+.3f} {gap['correct']['ci95']}")
    command = "python scripts/eval_large_holes.py " + " ".join(shlex.quote(s) for s in (argv or sys.argv[1:]))
    latent = any(m in a.methods for m in ("semantic", "guided", "ilo"))
    settings = {"split": a.split, "seed_images": large_holes.SEEDS[a.split], "n": a.n, "kinds": a.kinds,
                "methods": a.methods, "preset": P.name, "backend": backend.NAME,
                "hole_fraction": {k: round(float(masks[k][0].mean()), 4) for k in a.kinds},
                "evaluator": {"name": evaluator.SHIPPED, "sha256": registry.entry(evaluator.SHIPPED)["sha256"]},
                "glcic": None if "glcic" not in a.methods else {"name": a.glcic, "postprocess": not a.glcic_raw}}
    if latent:
        settings.update({
            "iters": a.iters if a.iters is not None else P.latent_iters,
            "guided_iters": a.guided_iters if a.guided_iters is not None else (a.iters if a.iters is not None else P.latent_iters),
            "restarts": a.restarts if a.restarts is not None else P.restarts, "batch": a.batch, "seed": a.seed,
            "generator": a.generator or "shipped " + registry.entry(semantic.GENERATOR)["sha256"][:12],
            "lambda_sem": a.lambda_sem, "lambda_cat": a.lambda_cat, "lambda_inp": a.lambda_inp, "layers": a.layers})
        if a.window is not None:
            settings["window"] = a.window
        if a.prior_weight is not None:
            settings["prior_weight"] = a.prior_weight
        for k in ("lr", "candidates"):
            if getattr(a, k) is not None:
                settings[k] = getattr(a, k)
        if "ilo" in a.methods:
            from inpaintkit import ilo
            settings["ilo"] = {"resolution": a.ilo_resolution or ilo.RESOLUTION,
                               "leash": ilo.LEASH if a.ilo_leash is None else a.ilo_leash,
                               "iters": a.ilo_iters or ilo.ITERS}
    if a.json:
        doc = {"command": command.strip(), "settings": settings, "wall_s": round(wall, 1),
               "intact_accuracy": res["intact_accuracy"], "results": res["results"], "per_image": res["per_image"],
               "labels": labels.tolist(), "table": table}
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(doc, indent=1) + "\n")
        print(f"wrote {a.json}")
    if a.outputs:
        np.savez_compressed(a.outputs, images=images, labels=labels,
                            **{f"mask_{k}": masks[k][0] for k in a.kinds},
                            **{f"{k}__{m}": (np.clip(o, 0, 1) * 255).round().astype(np.uint8)
                               for k, per in res["outputs"].items() for m, o in per.items()})
        print(f"wrote {a.outputs}")
    print(f"wall time {wall:.0f} s")
    return 0


if __name__ == "__main__":
    from inpaintkit.errors import run_main
    run_main(main)
