"""Is the latent search or the generator the limit? Yeh et al.'s search on the generator's own cars.

    INPAINTKIT_PRESET=class python scripts/own_samples_search.py --n 64 --json docs/large_holes/own_samples_n64.json
    python scripts/own_samples_search.py --n 4 --iters 5            # a smoke run

For each large hole (``large_holes.mask``) the search runs twice with the same settings: on ``--n``
of the generator's own images (``semantic.search_own_samples``: a code that draws the image exactly
exists, with context loss 0) and on ``--n`` real toy cars of the ``--split``. It prints, per hole,
the loss the search ends at (median and quartiles) on both, the share of own images where it found
a code at least as good as the true one, how far the found code is from the true one, hole PSNR and
how often the evaluator (``inpaintkit.evaluator``) still names the class it gives the intact image,
for the search and for Telea on the same own images (with the paired difference and its interval).
A search that works ends near 0 on its own images; a generator that cannot draw the real cars
leaves a much higher loss on them than on its own.
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


def _quartiles(x) -> dict:
    import numpy as np
    return {"median": round(float(np.median(x)), 4),
            "quartiles": [round(float(np.percentile(x, 25)), 4), round(float(np.percentile(x, 75)), 4)]}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=64, help="images per hole kind (own and real each)")
    p.add_argument("--kinds", nargs="+", default=["center", "lower", "half"], choices=("center", "lower", "half"))
    p.add_argument("--split", default="val", choices=("val", "test"), help="real toy cars to compare with")
    p.add_argument("--preset", default=None, help="search iterations and restarts (default: the active preset)")
    p.add_argument("--iters", type=int, default=None)
    p.add_argument("--restarts", type=int, default=None)
    p.add_argument("--lr", type=float, default=0.01, help="Adam's step on z (the kit's default 0.01)")
    p.add_argument("--candidates", type=int, default=None, help="best-of-N start codes (semantic.LatentSearch)")
    p.add_argument("--generator", default=None, help="a generator .weights.h5 or shipped name (default: the kit's)")
    p.add_argument("--seed", type=int, default=123, help="codes of the own images")
    p.add_argument("--json", default=None, help="write the results here")
    a = p.parse_args(argv)
    for name in ("n", "iters", "restarts", "candidates"):
        v = getattr(a, name)
        if v is not None and v < 1:
            p.error(f"--{name}: expected an integer >= 1, got {v}")
    if a.lr <= 0:
        p.error(f"--lr: expected a number > 0, got {a.lr}")

    import numpy as np

    from inpaintkit import backend, baselines, evaluation, evaluator, large_holes, metrics, presets, semantic

    P = presets.get(a.preset) if a.preset else presets.active()
    iters = P.latent_iters if a.iters is None else a.iters
    restarts = P.restarts if a.restarts is None else a.restarts
    G, D = semantic.load_models(a.generator)
    E = evaluator.load()
    real, _ = large_holes.split(a.split, a.n, 64)
    masks = large_holes.masks(a.n, 64, a.kinds)
    print(f"{a.n} own images (code seed {a.seed}) and {a.n} {a.split} toy cars x {len(a.kinds)} holes; "
          f"search {iters} it x {restarts} restarts, lr {a.lr}, candidates {a.candidates}; backend {backend.NAME}",
          flush=True)
    t0 = time.perf_counter()
    out: dict = {}
    search = semantic.LatentSearch(G, semantic.default_terms(D), iters=iters, restarts=restarts, lr=a.lr,
                                   candidates=a.candidates, seed=0)      # compiled once, fresh codes every run
    for kind in a.kinds:
        own = semantic.search_own_samples(search, masks[kind], seed=a.seed)
        res = own["result"]
        labels = evaluator.predict(E, own["images"]).argmax(1)
        kept = evaluator.predict(E, res.blended).argmax(1) == labels
        psnr = [metrics.hole_psnr(b, x, m) for b, x, m in zip(res.blended, own["images"], masks[kind])]
        telea = np.stack([baselines.telea(x, m) for x, m in zip(own["images"], masks[kind])])
        telea_kept = evaluator.predict(E, telea).argmax(1) == labels
        telea_psnr = [metrics.hole_psnr(t, x, m) for t, x, m in zip(telea, own["images"], masks[kind])]
        real_loss = search.run(real, masks[kind]).losses["total"]
        row = {"own_found_loss": _quartiles(own["found_loss"]), "own_true_loss": _quartiles(own["true_loss"]),
               "share_found_at_most_true": round(float(np.mean(own["found_loss"] <= own["true_loss"])), 4),
               "z_error": _quartiles(own["z_error"]), "z_error_random": round(float(np.sqrt(2 / 3)), 4),
               "own_hole_psnr": round(float(np.mean(psnr)), 3), "own_class_kept": round(float(kept.mean()), 4),
               "own_telea_hole_psnr": round(float(np.mean(telea_psnr)), 3),
               "own_telea_class_kept": round(float(telea_kept.mean()), 4),
               "own_class_kept_minus_telea": evaluation.paired_difference(kept.astype(float), telea_kept.astype(float)),
               "real_found_loss": _quartiles(real_loss)}
        out[kind] = row
        print(f"{kind:>6}: loss found {row['own_found_loss']['median']:.2f} (true code "
              f"{row['own_true_loss']['median']:.3f}; found <= true in {row['share_found_at_most_true']:.0%}), "
              f"z error {row['z_error']['median']:.2f} (random {row['z_error_random']:.2f}), hole PSNR "
              f"{row['own_hole_psnr']:.1f} dB, class kept {row['own_class_kept']:.0%} (Telea {row['own_telea_hole_psnr']:.1f} dB, "
              f"{row['own_telea_class_kept']:.0%}); "
              f"real cars: loss found {row['real_found_loss']['median']:.2f}", flush=True)
    wall = time.perf_counter() - t0
    if a.json:
        command = "python scripts/own_samples_search.py " + " ".join(shlex.quote(s) for s in (argv or sys.argv[1:]))
        doc = {"command": command.strip(), "preset": P.name, "backend": backend.NAME, "iters": iters,
               "restarts": restarts, "lr": a.lr, "candidates": a.candidates, "n": a.n, "split": a.split,
               "generator": a.generator or semantic.GENERATOR, "wall_s": round(wall, 1), "results": out}
        Path(a.json).parent.mkdir(parents=True, exist_ok=True)
        Path(a.json).write_text(json.dumps(doc, indent=1) + "\n")
        print(f"wrote {a.json}")
    print(f"wall time {wall:.0f} s")
    return 0


if __name__ == "__main__":
    from inpaintkit.errors import run_main
    run_main(main)
