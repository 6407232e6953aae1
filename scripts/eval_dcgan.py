"""Does a DCGAN cover the data? Class coverage and Fréchet distance of its samples, one row per generator.

    python scripts/eval_dcgan.py dcgan_toycars_generator runs/dc_G/best_generator.weights.h5 --json out.json

For each generator (a shipped name or a ``.weights.h5`` file of ``dcgan.generator(64, --width)``):
coverage = the class histogram of ``--n`` samples (seed ``--seed``) under the shipped GoogLeNet toy-car
classifier (normalised entropy, rarest class, the 0.97 / 9 % bar: ``dcgan.coverage``) and the
classifier's mean confidence; and the Fréchet distance between the samples and held-out real toy
cars on the *independent* evaluator's features (``evaluation.evaluator_frechet``), printed next to
the distance between two disjoint real sets of the same sizes (the scale of "as close as real").
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from inpaintkit import backend, classifier, dcgan, evaluation, weights  # noqa: E402
from inpaintkit.data import toycars  # noqa: E402


def load_generator(spec: str, width: float, size: int = 64):
    if Path(spec).suffix == ".h5":
        G = dcgan.run_generator(spec, size, width)       # a training run's file: its own width and upsampling
        weights.load_file(G, spec, what="generators")
        return G
    return weights.load(spec)


def evaluate(G, C, n: int, seed: int, frechet: bool = True, E=None) -> dict:
    cov = dcgan.coverage(G, C, n=n, seed=seed, class_names=toycars.CLASSES, keep=True)
    samples, probs = cov.pop("samples"), cov.pop("probs")
    row = {"coverage": cov, "confidence": round(float(probs.max(1).mean()), 4),
           "diversity": round(dcgan.diversity(samples[:256]), 4)}
    if E is not None:
        row["second_opinion"] = second_opinion(samples, probs, E)
        if frechet:
            row["frechet"] = evaluation.evaluator_frechet(samples, model=E)
    return row


def second_opinion(images, probs, E) -> dict:
    """The class histogram of the same images under the independent evaluator (another architecture,
    other training cars) and how often the two classifiers name the same class: on real cars they
    agree almost always; on generated cars disagreement means cars that are no clear kind of car, and
    the GoogLeNet histogram then depends on which classifier reads it."""
    from inpaintkit import evaluator
    other = evaluator.predict(E, images)
    return {"coverage": dcgan.coverage_stats(dcgan.class_shares(other)), "agreement": dcgan.agreement(probs, other)}


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("generators", nargs="+", help="shipped names or .weights.h5 files")
    p.add_argument("--width", type=float, default=0.25, help="width of generators given as files")
    p.add_argument("--n", type=int, default=2048)
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--real", action="store_true", help="also score real held-out toy cars the same way")
    p.add_argument("--json", default=None)
    args = p.parse_args(argv)
    C = classifier.shipped()
    from inpaintkit import evaluator
    E = evaluator.load() if weights.available(evaluator.SHIPPED) else None     # loaded once for every row
    out = {"n": args.n,
           "seed": args.seed, "command": "python scripts/eval_dcgan.py " + " ".join(argv or sys.argv[1:]),
           "rows": {}}
    if args.real:
        real, _ = toycars.generate(args.n, size=C.input_shape[1], seed=evaluation.FRECHET_SEEDS["reference"] + 1)
        probs = np.concatenate([backend.to_numpy(C(real[i:i + 256], training=False)) for i in range(0, len(real), 256)])
        row = {"coverage": dcgan.coverage_stats(dcgan.class_shares(probs)),
               "confidence": round(float(probs.max(1).mean()), 4)}
        if E is not None:
            row["second_opinion"] = second_opinion(real, probs, E)
            row["frechet"] = evaluation.evaluator_frechet(real, model=E)
        out["rows"]["real toy cars"] = row
    for spec in args.generators:
        out["rows"][spec] = evaluate(load_generator(spec, args.width), C, args.n, args.seed, E=E)
    for name, r in out["rows"].items():
        c = r["coverage"]
        f = r.get("frechet", {})
        print(f"{name}: entropy {c['entropy']:.3f} rarest {100 * c['min_share']:.1f} % "
              f"shares {[round(100 * s, 1) for s in c['shares']]} confidence {r['confidence']:.3f} "
              f"Fréchet {f.get('frechet', float('nan')):.2f} (real vs real {f.get('real_vs_real', float('nan')):.2f})",
              flush=True)
        if "second_opinion" in r:
            e = r["second_opinion"]
            print(f"    evaluator: entropy {e['coverage']['entropy']:.3f} rarest {100 * e['coverage']['min_share']:.1f} % "
                  f"shares {[round(100 * s, 1) for s in e['coverage']['shares']]}; the two classifiers agree on "
                  f"{100 * e['agreement']:.1f} % of the images", flush=True)
    if args.json:
        Path(args.json).write_text(json.dumps(out, indent=1))
    return 0


if __name__ == "__main__":
    from inpaintkit.errors import run_main
    run_main(main)
