"""Does guidance help once the generator is loosened? Guided search, then the feature search (ilo), on val.

    INPAINTKIT_PRESET=class python scripts/guided_ilo_val.py --n 64 --json docs/large_holes/val_guided_ilo_n64.json
    python scripts/guided_ilo_val.py --n 2 --iters 3 --ilo-iters 3 --sweep none          # a smoke run

The classifier-guided search (``inpaintkit.guided``, the kit's default weights and layers) runs on the
first ``--n`` val cars under each large hole, with the same seeds as ``eval_large_holes.py --methods
guided``; ``inpaintkit.ilo.FeatureSearch`` (the kit's setting) then refines its codes, as ``ilo``
refines semantic inpainting's. Both are scored by the evaluator and paired, image by image, with
``semantic`` and the kit's ``ilo`` setting of ``scripts/ilo_sweep.py``'s JSON (``--sweep``: the same
cars, split and preset), pooled over the holes.
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
    p.add_argument("--n", type=int, default=64)
    p.add_argument("--iters", type=int, default=None, help="guided search iterations (default: the preset's)")
    p.add_argument("--ilo-iters", type=int, default=None)
    p.add_argument("--sweep", default="docs/large_holes/val_ilo_sweep_n64.json",
                   help="ilo_sweep.py's JSON to pair with, or 'none'")
    p.add_argument("--json", default=None)
    a = p.parse_args(argv)
    if a.n < 2:
        p.error(f"--n: expected at least 2 images (paired intervals), got {a.n}")

    import numpy as np

    from inpaintkit import backend, classifier, evaluation, evaluator, guided, ilo, large_holes, presets, semantic

    P = presets.active()
    t0 = time.perf_counter()
    images, labels = large_holes.split("val", a.n, 64)
    masks = large_holes.masks(a.n, 64)
    sweep = None if a.sweep == "none" else json.loads(Path(a.sweep).read_text())
    if sweep is not None and (sweep["settings"]["n"] != a.n or sweep["settings"]["preset"] != P.name
                              or sweep["settings"]["split"] != "val"):
        p.error(f"--sweep: expected ilo_sweep.py's JSON of the same {a.n} val cars and preset {P.name}, got {a.sweep}")
    G, D = semantic.load_models()
    search = guided.guided_search(G, D, classifier.shipped(), guided.DEFAULT_LAYERS, restarts=P.restarts, seed=0,
                                  iters=P.latent_iters if a.iters is None else a.iters)
    features = ilo.FeatureSearch(G, D, **({"iters": a.ilo_iters} if a.ilo_iters else {}))
    shared = large_holes._shared_search(search, 0, 2)
    methods = {"guided": large_holes._reusing("guided", shared, lambda x, m, z, b: b, 32, True),
               "guided_ilo": large_holes._reusing("guided_ilo", shared,
                                                  lambda x, m, z, b: features.run(x, m, z).blended, 32, False)}
    res = large_holes.compare(methods, images, labels, masks, model=evaluator.load(), verbose=False)
    kinds = list(masks)

    def pooled(per_image, name, key):
        return np.concatenate([np.asarray(per_image[k][name][key], float) for k in kinds])

    out = {"class_kept": {m: {k: round(float(np.mean(res["per_image"][k][m]["correct"])), 4) for k in kinds}
                          for m in methods}, "paired": {}}
    if sweep is not None:
        kit = f"ilo r{ilo.RESOLUTION} mu{ilo.LEASH:g}"
        for name in methods:
            for ref in ("semantic", kit):
                d = {key: evaluation.paired_difference(pooled(res["per_image"], name, key),
                                                       pooled(sweep["per_image"], ref, key))
                     for key in ("correct", "hole_psnr")}
                out["paired"][f"{name} - {ref}"] = d
                print(f"{name} - {ref}, pooled over {len(kinds) * a.n}: class kept {d['correct']['mean']:+.3f} "
                      f"{d['correct']['ci95']}, hole PSNR {d['hole_psnr']['mean']:+.2f} dB {d['hole_psnr']['ci95']}")
    print("class kept per hole:", out["class_kept"])
    wall = time.perf_counter() - t0
    if a.json:
        doc = {"command": ("python scripts/guided_ilo_val.py " + " ".join(shlex.quote(s) for s in (argv or sys.argv[1:]))).strip(),
               "settings": {"split": "val", "seed_images": large_holes.SEEDS["val"], "n": a.n, "kinds": kinds,
                            "preset": P.name, "backend": backend.NAME, "guided": guided.DEFAULT_WEIGHTS,
                            "ilo": {"resolution": ilo.RESOLUTION, "leash": ilo.LEASH, "iters": features.iters}},
               "wall_s": round(wall, 1), **out, "per_image": res["per_image"]}
        Path(a.json).write_text(json.dumps(doc, indent=1, default=float) + "\n")
        print(f"wrote {a.json}")
    print(f"wall time {wall:.0f} s")
    return 0


if __name__ == "__main__":
    from inpaintkit.errors import run_main
    run_main(main)
