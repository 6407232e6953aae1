"""Train the independent evaluator (a small ResNet, not GoogLeNet) and record it in the weights manifest.

    nice -n 10 python scripts/train_evaluator.py                 # ~5 min on 2 CPU cores
    python scripts/train_evaluator.py --steps 20 --no-ship       # a smoke run

Resumable: interrupt it and run the same command again (checkpoints in ``runs/evaluator_toycars``).
Training cars come from the sequence ``evaluator.TRAIN_SEED`` and the test cars from ``evaluator.TEST_SEED``:
seeds no other model of the kit trains on, disjoint from the large-hole evaluation splits. The manifest
records the test accuracy (overall and per class) and the accuracy on the intact large-hole
evaluation images (val and test splits): the ceiling of "still shows the true class" after inpainting.
"""
from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main(argv=None) -> int:
    from inpaintkit import classifier, evaluator, large_holes, training, weights
    from inpaintkit.data import toycars

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=800)
    p.add_argument("--batch", type=int, default=64)
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument("--blocks", type=int, default=1)
    p.add_argument("--n-train", type=int, default=4200)
    p.add_argument("--n-test", type=int, default=1400)
    p.add_argument("--n-intact", type=int, default=256, help="intact large-hole images per split to score")
    p.add_argument("--size", type=int, default=64)
    p.add_argument("--lr", type=float, default=3e-3)
    p.add_argument("--seed", type=int, default=evaluator.INIT_SEED, help="initialisation and batch order")
    p.add_argument("--run-dir", default=None)
    p.add_argument("--no-ship", action="store_true", help="do not write inpaintkit/weights/")
    a = p.parse_args(argv)
    weights.use_directory()          # $INPAINTKIT_SHIP_DIR set: ship there instead (tests)

    t0 = time.perf_counter()
    x, y = toycars.generate(a.n_train, size=a.size, seed=evaluator.TRAIN_SEED)
    xt, yt = toycars.generate(a.n_test, size=a.size, seed=evaluator.TEST_SEED)
    print(f"data: {x.shape} train (seed {evaluator.TRAIN_SEED}), {xt.shape} test (seed {evaluator.TEST_SEED}) "
          f"({time.perf_counter() - t0:.0f}s)")
    config = {"size": a.size, "n_classes": len(toycars.CLASSES), "width": a.width, "blocks": a.blocks}
    model = evaluator.resnet(**config)
    print(f"ResNet x{a.width}, {a.blocks} block(s)/stage: {model.count_params():,} parameters")
    run_dir = Path(a.run_dir or ROOT / "runs" / "evaluator_toycars")
    same = {"--batch": a.batch, "--width": a.width, "--blocks": a.blocks, "--n-train": a.n_train, "--size": a.size,
            "--lr": a.lr, "--seed": a.seed, "--steps": a.steps}       # steps: the lr schedule
    try:
        classifier.train(model, x, y, steps=a.steps, batch_size=a.batch, lr=a.lr, seed=a.seed, directory=run_dir,
                         checkpoint_every=100, log_dir=run_dir.with_name(run_dir.name + "_logs"), config=same)
    except training.TrainingInterrupted as e:       # never ship a half-trained model
        print(e, file=sys.stderr)
        return 130
    staged = run_dir / f"{evaluator.SHIPPED}.weights.h5"
    weights.save_compact(model, staged)     # every metric below is measured on the weights as shipped (float16)
    weights.load_file(model, staged)
    report = classifier.evaluate(model, xt, yt, toycars.CLASSES)
    intact = {}
    for split in large_holes.SEEDS:
        xi, yi = large_holes.split(split, a.n_intact, a.size)
        intact[split] = round(evaluator.accuracy(model, xi, yi)[0], 4)
    wall = time.perf_counter() - t0
    print(json.dumps({"test_accuracy": report["accuracy"], "per_class": report["per_class"],
                      "intact_accuracy": intact, "wall_s": round(wall, 1)}, indent=1))
    print("confusion (rows true, cols predicted):\n", report["confusion"])
    if a.no_ship:
        return 0
    command = "python scripts/train_evaluator.py " + " ".join(shlex.quote(s) for s in (argv or sys.argv[1:]))
    file = weights.HERE / f"{evaluator.SHIPPED}.weights.h5"
    with training.deferred_interrupt():             # Ctrl-C waits: the file and its manifest entry change together
        shutil.copyfile(staged, file)
        e = weights.record(
            evaluator.SHIPPED, file, builder="inpaintkit.evaluator:resnet", config=config,
            command=command.strip(), preset="none",
            steps={"evaluator": a.steps, "batch": a.batch, "n_train": a.n_train, "lr": a.lr}, seed=a.seed,
            wall_time_s=wall,
            metrics={"test_accuracy": round(report["accuracy"], 4), "n_test": report["n"],
                     "per_class_accuracy": {k: round(v, 4) for k, v in report["per_class"].items()},
                     "intact_accuracy": intact, "n_intact": a.n_intact},
            notes=f"Independent evaluator (small ResNet, not GoogLeNet), used only to evaluate. Trained on toy "
                  f"cars of seed {evaluator.TRAIN_SEED}, tested on seed {evaluator.TEST_SEED}; intact_accuracy: "
                  f"the first n_intact cars of the large-hole splits (large_holes.SEEDS) without holes. "
                  f"Wall time includes data generation and evaluation; weights stored as float16.")
    print(f"wrote {file.name} ({e['bytes'] / 1e6:.2f} MB), manifest entry {evaluator.SHIPPED!r}")
    return 0


if __name__ == "__main__":
    from inpaintkit.errors import run_main
    run_main(main)
