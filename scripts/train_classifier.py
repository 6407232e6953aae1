"""Train the shipped GoogLeNet toy-car classifier and record it in the weights manifest.

    nice -n 10 python scripts/train_classifier.py --preset class            # ~15-20 min on 2 CPU cores
    python scripts/train_classifier.py --preset quick --no-ship              # a smoke run

Resumable: interrupt it and run the same command again (checkpoints in ``runs/classifier_<data>``).
With ``--data stanford_cars --root PATH`` it trains on Stanford Cars instead (not shipped).
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
    from inpaintkit import classifier, googlenet, presets, training, weights

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="class")
    p.add_argument("--data", default="toycars", choices=("toycars", "stanford_cars"))
    p.add_argument("--root", default=None, help="Stanford Cars devkit folder")
    p.add_argument("--steps", type=int, default=None, help="default: the preset's classifier_steps")
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--width", type=float, default=None)
    p.add_argument("--n-train", type=int, default=None)
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--run-dir", default=None)
    p.add_argument("--no-ship", action="store_true", help="do not write inpaintkit/weights/")
    a = p.parse_args(argv)
    weights.use_directory()          # $INPAINTKIT_SHIP_DIR set: ship there instead (tests)

    P = presets.get(a.preset)
    steps = a.steps or P.classifier_steps
    batch = a.batch or P.classifier_batch
    width = a.width or P.classifier_width
    n_train = a.n_train or P.n_train
    t0 = time.perf_counter()
    x, y, xt, yt, names = classifier.dataset(a.data, n=n_train, size=P.classifier_size, seed=a.seed, root=a.root)
    print(f"data: {x.shape} train, {xt.shape} test, {len(names)} classes ({time.perf_counter() - t0:.0f}s)")
    config = {"size": P.classifier_size, "n_classes": len(names), "width": width}
    model = googlenet.googlenet(**config)
    print(f"GoogLeNet x{width}: {model.count_params():,} parameters")
    run_dir = Path(a.run_dir or ROOT / "runs" / f"classifier_{a.data}_{a.preset}")
    same = {"--data": a.data, "--root": a.root, "--batch": batch, "--width": width, "--n-train": n_train,
            "--lr": a.lr, "--seed": a.seed, "--size": P.classifier_size, "--steps": steps}   # steps: the lr schedule
    try:
        classifier.train(model, x, y, steps=steps, batch_size=batch, lr=a.lr, seed=a.seed,
                         directory=run_dir, checkpoint_every=P.checkpoint_every,
                         log_dir=run_dir.with_name(run_dir.name + "_logs"), config=same)
    except training.TrainingInterrupted as e:       # never ship a half-trained model
        print(e, file=sys.stderr)
        return 130
    report = classifier.evaluate(model, xt, yt, names)
    wall = time.perf_counter() - t0
    print(json.dumps({"test_accuracy": report["accuracy"], "per_class": report["per_class"],
                      "wall_s": round(wall, 1)}, indent=1))
    print("confusion (rows true, cols predicted):\n", report["confusion"])
    if a.no_ship or a.data != "toycars":
        return 0
    file = weights.HERE / f"{classifier.SHIPPED}.weights.h5"
    command = "python scripts/train_classifier.py " + " ".join(shlex.quote(s) for s in (argv or sys.argv[1:]))
    with training.deferred_interrupt():             # Ctrl-C waits: the file and its manifest entry change together
        weights.save_compact(model, file)
        e = weights.record(
            classifier.SHIPPED, file, builder="inpaintkit.googlenet:googlenet", config=config,
            command=command.strip(), preset=a.preset,
            steps={"classifier": steps, "batch": batch, "n_train": n_train, "lr": a.lr}, seed=a.seed,
            wall_time_s=wall,
            metrics={"test_accuracy": round(report["accuracy"], 4), "n_test": report["n"],
                     "per_class_accuracy": {k: round(v, 4) for k, v in report["per_class"].items()}},
            notes="GoogLeNet (Inception v1) for small images, trained on toy cars (in the role Stanford "
                  "Cars plays in sem_inpainting); test set = toy cars generated with seed+10000. Wall time includes data "
                  "generation and evaluation; weights stored as float16.")
    print(f"wrote {file.name} ({e['bytes'] / 1e6:.1f} MB), manifest entry {classifier.SHIPPED!r}")
    return 0


if __name__ == "__main__":
    from inpaintkit.errors import InpaintkitError
    try:
        raise SystemExit(main())
    except InpaintkitError as e:        # a bad argument or a damaged/incompatible checkpoint: one line
        raise SystemExit(f"error: {e}") from None
    except KeyboardInterrupt:           # outside the training loop: nothing shipped half-way
        print("interrupted; run the same command again to resume from the last checkpoint", file=sys.stderr)
        raise SystemExit(130) from None
