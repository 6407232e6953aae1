"""Choose the guided search's weights on the validation split: sem_inpainting's λs times a scale.

    INPAINTKIT_PRESET=class python scripts/sweep_guided.py --out docs/guided_sweep/val_n32.json
    python scripts/sweep_guided.py --n 4 --iters 5 --scales 1e-4 1 --out /tmp/sweep.json   # a smoke run

Every point is guided inpainting (``inpaintkit.guided``) with λ_sem, λ_cat, λ_inp = ``scale`` × the
kit's rescaling of sem_inpainting's (``guided.seed_weights``), on the first ``--n`` toy cars of the
**val** split under each large hole (``large_holes.masks``). Scale 0 is plain semantic
inpainting (Yeh et al.): the same search without the classifier's terms, the reference of every
point. Per point: hole PSNR and the independent evaluator's accuracy (does the completed car still
show its class?) with 95 % bootstrap intervals, and the paired difference to semantic.
``guided.choose_scale`` picks the setting, ``plotting.lambda_sweep`` draws it (notebook 09).

Each point is written to ``--out`` when it finishes (atomically): a rerun skips the points already
there, so an interrupted sweep resumes. The test split is for the report, never for choosing.
"""
from __future__ import annotations

import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

SCALES = (0.0, 1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1.0)


def _write(path: Path, doc: dict) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(json.dumps(doc, indent=1) + "\n")
    os.replace(tmp, path)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--scales", nargs="+", type=float, default=list(SCALES),
                   help="multiples of sem_inpainting's λs (0: semantic inpainting, always run)")
    p.add_argument("--n", type=int, default=32, help="val images per hole kind")
    p.add_argument("--kinds", nargs="+", default=["center", "lower", "half"], choices=("center", "lower", "half"))
    p.add_argument("--iters", type=int, default=None, help="search iterations (default: the preset's)")
    p.add_argument("--restarts", type=int, default=None)
    p.add_argument("--batch", type=int, default=32)
    p.add_argument("--generator", default=None, help="a DCGAN generator .weights.h5, or a shipped name, instead of the kit's (semantic.GENERATOR)")
    p.add_argument("--terms", nargs="+", default=["sem", "cat", "inp"], choices=("sem", "cat", "inp"),
                   help="which of sem_inpainting's terms the scale switches on (the others get λ = 0)")
    p.add_argument("--window", type=int, default=None,
                   help="importance window of the context loss, odd (default: semantic.WINDOW)")
    p.add_argument("--layers", nargs="+", default=None,
                   help="GoogLeNet layers of the feature term (default: guided.DEFAULT_LAYERS)")
    p.add_argument("--reference", default=None,
                   help="a sweep file on the same images and search whose scale-0 point (semantic "
                        "inpainting) this one reuses instead of rerunning it")
    p.add_argument("--out", required=True, help="JSON file; points already in it are not rerun")
    a = p.parse_args(argv)
    if any(s < 0 for s in a.scales):
        p.error(f"--scales: expected numbers >= 0, got {a.scales}")
    if a.window is not None and (a.window < 1 or a.window % 2 == 0):
        p.error(f"--window: expected an odd integer >= 1, got {a.window}")
    if a.reference and not Path(a.reference).is_file():
        p.error(f"--reference: expected an existing sweep file, got {a.reference}")

    from inpaintkit import backend, evaluator, guided, large_holes, presets, semantic
    from inpaintkit import weights as registry

    P = presets.active()
    out = Path(a.out)
    settings = {"split": "val", "seed_images": large_holes.SEEDS["val"], "n": a.n, "kinds": a.kinds,
                "preset": P.name, "iters": a.iters or P.latent_iters, "restarts": a.restarts or P.restarts,
                "batch": a.batch, "backend": backend.NAME,
                "generator": a.generator or "shipped " + registry.entry(semantic.GENERATOR)["sha256"][:12],
                "seed_lambdas_64": guided.seed_weights(64)}
    window = semantic.WINDOW if a.window is None else a.window
    if window != 7:                      # files from before the window was a setting hold Yeh et al.'s 7
        settings["window"] = window
    if sorted(a.terms) != ["cat", "inp", "sem"]:
        settings["terms"] = sorted(a.terms)
    if a.layers is not None:
        settings["layers"] = list(a.layers)
    doc = json.loads(out.read_text()) if out.is_file() else {}
    if doc and doc.get("settings") != settings:
        raise SystemExit(f"--out: {out} holds a sweep with other settings {doc.get('settings')}; "
                         "give another file (nothing was overwritten)")
    doc.setdefault("command", "python scripts/sweep_guided.py " + " ".join(shlex.quote(s) for s in (argv or sys.argv[1:])))
    doc["settings"] = settings
    doc.setdefault("points", {})
    if a.reference and repr(0.0) not in doc["points"]:
        ref = json.loads(Path(a.reference).read_text())
        same = {k: v for k, v in ref.get("settings", {}).items() if k not in ("terms", "layers")}
        if same != {k: v for k, v in settings.items() if k not in ("terms", "layers")} or repr(0.0) not in ref.get("points", {}):
            raise SystemExit(f"--reference: expected a sweep with a scale-0 point on the same images and search "
                             f"{settings}, got {ref.get('settings')}")
        doc["points"][repr(0.0)] = ref["points"][repr(0.0)]
        doc["intact_accuracy"] = ref["intact_accuracy"]
    images, labels = large_holes.split("val", a.n, 64)
    masks = large_holes.masks(a.n, 64, a.kinds)
    E = evaluator.load()
    for s in sorted({0.0, *a.scales}):
        key = repr(float(s))
        if key in doc["points"]:
            print(f"scale {s:g}: done already", flush=True)
            continue
        lam = {f"lambda_{k}": (v * s if k in a.terms else 0.0) for k, v in guided.seed_weights(64).items()}
        name = "semantic" if s == 0 else "guided"
        methods = large_holes.methods(
            [name], preset=P, iters=a.iters, restarts=a.restarts, batch=a.batch, generator_weights=a.generator,
            layers=a.layers, window=window, **({} if s == 0 else lam))
        t0 = time.perf_counter()
        res = large_holes.compare(methods, images, labels, masks, model=E)
        point = {"scale": float(s), "lambdas": lam if s else None, "wall_s": round(time.perf_counter() - t0, 1),
                 "results": {k: res["results"][k][name] for k in a.kinds},
                 "per_image": {k: res["per_image"][k][name] for k in a.kinds}}
        doc["points"][key] = point
        doc["intact_accuracy"] = res["intact_accuracy"]           # the same val cars at every point
        _write(out, doc)
        summary = ", ".join(f"{k} {point['results'][k]['hole_psnr']['mean']:.2f} dB "
                            f"{point['results'][k]['accuracy']['mean']:.2f}" for k in a.kinds)
        print(f"scale {s:g}: {summary} ({point['wall_s']:.0f} s)", flush=True)
    doc["choice"] = guided.choose_scale(doc)
    _write(out, doc)
    print(json.dumps(doc["choice"], indent=1))
    return 0


if __name__ == "__main__":
    from inpaintkit.errors import run_main
    run_main(main)
