"""Choose the feature search's layer and leash (``inpaintkit.ilo``) on val: one search over z, every setting after it.

    INPAINTKIT_PRESET=class python scripts/ilo_sweep.py --split val --n 64 --json docs/large_holes/val_ilo_sweep_n64.json
    python scripts/ilo_sweep.py --n 4 --iters 5 --ilo-iters 5 --resolutions 8 --leashes 0.01   # a smoke run

For each large hole (``large_holes.mask``) Yeh et al.'s search over z runs once on the first ``--n``
cars of the split (the same codes and seeds as ``eval_large_holes.py --methods semantic``); then
:class:`inpaintkit.ilo.FeatureSearch` refines its codes at every ``--resolutions`` x ``--leashes``
setting. Telea, the search over z and every setting are scored as in ``eval_large_holes.py`` (hole
PSNR, SSIM, the evaluator's class kept, 95 % bootstrap intervals), with paired differences against the
search over z and against Telea, per hole and pooled over the holes. Prints a Markdown table, best
pooled class kept first; ``--json`` writes every number.
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
    p.add_argument("--split", default="val", choices=("val", "test"))
    p.add_argument("--n", type=int, default=64, help="images per hole kind")
    p.add_argument("--kinds", nargs="+", default=["center", "lower", "half"], choices=("center", "lower", "half"))
    p.add_argument("--preset", default=None, help="iterations and restarts of the search over z (default: active)")
    p.add_argument("--iters", type=int, default=None, help="iterations of the search over z")
    p.add_argument("--restarts", type=int, default=None)
    p.add_argument("--resolutions", nargs="+", type=int, default=[4, 8, 16], help="feature map sides to try")
    p.add_argument("--leashes", nargs="+", type=float, default=[0.001, 0.003, 0.01], help="mu values to try")
    p.add_argument("--ilo-iters", type=int, default=None, help="Adam steps on the feature map (default: ilo.ITERS)")
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--resamples", type=int, default=2000)
    p.add_argument("--json", default=None)
    a = p.parse_args(argv)
    a.resolutions, a.leashes = list(dict.fromkeys(a.resolutions)), list(dict.fromkeys(a.leashes))   # once each
    if a.n < 2:
        p.error(f"--n: expected at least 2 images (paired intervals), got {a.n}")
    if any(mu < 0 for mu in a.leashes):
        p.error(f"--leashes: expected numbers >= 0, got {a.leashes}")
    if a.ilo_iters is not None and a.ilo_iters < 1:
        p.error(f"--ilo-iters: expected an integer >= 1, got {a.ilo_iters}")

    import numpy as np

    from inpaintkit import backend, baselines, evaluation, evaluator, ilo, large_holes, presets, semantic

    P = presets.get(a.preset) if a.preset else presets.active()
    t0 = time.perf_counter()
    images, labels = large_holes.split(a.split, a.n, 64)
    masks = large_holes.masks(a.n, 64, a.kinds)
    G, D = semantic.load_models()
    for r in a.resolutions:
        if r not in ilo.resolutions(G):
            p.error(f"--resolutions: expected sides of the generator's feature maps {ilo.resolutions(G)}, got {r}")
    search = semantic.LatentSearch(G, semantic.default_terms(D), iters=P.latent_iters if a.iters is None else a.iters,
                                   restarts=P.restarts if a.restarts is None else a.restarts, seed=a.seed)
    settings = [(r, mu) for r in a.resolutions for mu in a.leashes]
    # one search over z per chunk, shared by semantic and every setting (each one's time includes it)
    shared = large_holes._shared_search(search, a.seed, 1 + len(settings))
    methods = {"telea": lambda im, m: baselines.telea(im, m),
               "semantic": large_holes._reusing("semantic", shared, lambda x, m, z, blended: blended, a.batch, True)}
    names = {}
    for r, mu in settings:
        fs = ilo.FeatureSearch(G, D, resolution=r, leash=mu, **({"iters": a.ilo_iters} if a.ilo_iters else {}))
        name = f"ilo r{r} mu{mu:g}"
        names[name] = {"resolution": r, "leash": mu}
        methods[name] = large_holes._reusing(name, shared, lambda x, m, z, blended, fs=fs: fs.run(x, m, z).blended,
                                             a.batch, False)
    print(f"{a.split}: {a.n} toy cars x {len(a.kinds)} holes; {len(names)} settings; backend {backend.NAME}; "
          f"preset {P.name}", flush=True)
    res = large_holes.compare(methods, images, labels, masks, model=evaluator.load(), resamples=a.resamples, verbose=False)

    def pooled(name, ref):
        cat = {k: np.concatenate([res["per_image"][kind][name][k] for kind in a.kinds]) for k in ("hole_psnr", "correct")}
        if ref is None:
            return {k: evaluation.bootstrap_mean(v, resamples=a.resamples, seed=0) for k, v in cat.items()}
        base = {k: np.concatenate([res["per_image"][kind][ref][k] for kind in a.kinds]) for k in ("hole_psnr", "correct")}
        return {k: evaluation.paired_difference(cat[k], base[k], resamples=a.resamples, seed=0) for k in cat}

    rows = []
    for name in ["telea", "semantic", *names]:
        per = {kind: round(res["results"][kind][name]["accuracy"]["mean"], 4) for kind in a.kinds}
        row = {"method": name, **names.get(name, {}), "class_kept": per,
               "hole_psnr": {kind: round(res["results"][kind][name]["hole_psnr"]["mean"], 3) for kind in a.kinds},
               "pooled": pooled(name, None)}
        if name != "telea":
            row["minus_telea"] = pooled(name, "telea")
        if name in names:
            row["minus_semantic"] = pooled(name, "semantic")
        rows.append(row)
    order = sorted(rows[2:], key=lambda r: (-r["pooled"]["correct"]["mean"], -r["pooled"]["hole_psnr"]["mean"]))

    def fmt(d):
        return f"{d['mean']:+.3f} [{d['ci95'][0]:+.3f}, {d['ci95'][1]:+.3f}]"
    lines = ["| method | class kept (" + " / ".join(a.kinds) + ") | pooled class kept | pooled hole PSNR | "
             "− semantic: class kept | − semantic: hole PSNR | − Telea: class kept |", "|---|---|---:|---:|---:|---:|---:|"]
    for r in rows[:2] + order:
        lines.append(f"| {r['method']} | {' / '.join(f'{v:.2f}' for v in r['class_kept'].values())} | "
                     f"{r['pooled']['correct']['mean']:.3f} | {r['pooled']['hole_psnr']['mean']:.2f} | "
                     f"{fmt(r['minus_semantic']['correct']) if 'minus_semantic' in r else ''} | "
                     f"{fmt(r['minus_semantic']['hole_psnr']) if 'minus_semantic' in r else ''} | "
                     f"{fmt(r['minus_telea']['correct']) if 'minus_telea' in r else ''} |")
    table = "\n".join(lines)
    wall = time.perf_counter() - t0
    print("\n" + table + f"\n\nbest on {a.split}: {order[0]['method']}\nwall time {wall:.0f} s")
    if a.json:
        doc = {"command": ("python scripts/ilo_sweep.py " + " ".join(shlex.quote(s) for s in (argv or sys.argv[1:]))).strip(),
               "settings": {"split": a.split, "seed_images": large_holes.SEEDS[a.split], "n": a.n, "kinds": a.kinds,
                            "preset": P.name, "backend": backend.NAME,
                            "iters": search.iters, "restarts": search.restarts, "seed": a.seed,
                            "ilo_iters": a.ilo_iters or ilo.ITERS},
               "wall_s": round(wall, 1), "rows": rows, "best": order[0]["method"], "table": table,
               "per_image": res["per_image"], "labels": labels.tolist()}
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(doc, indent=1, default=float) + "\n")
        print(f"wrote {a.json}")
    return 0


if __name__ == "__main__":
    from inpaintkit.errors import run_main
    run_main(main)
