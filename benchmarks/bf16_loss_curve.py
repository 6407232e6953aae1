"""Does bfloat16 mixed precision change what GLCIC phase 1 learns? One JSON line.

    python benchmarks/bf16_loss_curve.py                      # 500 class-preset steps, the issue's check
    python benchmarks/bf16_loss_curve.py --steps 60           # a short look

Trains the completion network for ``--steps`` phase-1 steps on toy cars (class preset: 64², width 0.5,
batch 16) three times, each in its own process: float32 with seed 0, float32 with seed 1 (the
run-to-run noise), and ``mixed_bfloat16`` with seed 0. The loss curves are smoothed (mean over
windows of ``--window`` steps); bf16 passes when its largest distance from the float32 seed-0 curve
is no larger than the largest distance between the two float32 curves (plus 10 %), and its final
validation hole MSE is within the same margin. Also reports each run's seconds per step and the CPU
(without AVX512-BF16/AMX units bfloat16 is emulated: slower, but the same numbers).
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

WORKER = """
import json, sys, time
import numpy as np
from inpaintkit import backend, presets
from inpaintkit.data import toycars
from inpaintkit.glcic import completion as cm, phases
precision, seed, steps = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
backend.set_precision(precision)
P = presets.get("class")
train, _ = toycars.generate(2000, P.glcic_size, seed=0)
val, _ = toycars.generate(64, P.glcic_size, seed=5)
backend.seed(seed)
C = cm.completion_network(P.glcic_size, P.glcic_width)
t = phases.Phase1(C, train, val[:8], batch_size=P.glcic_batch, lr=P.glcic_lr, seed=seed, show=False)
t0 = time.perf_counter()
hist = t.run(steps, plot_every=0)
wall = time.perf_counter() - t0
masks, _ = phases.sample_holes(len(val), P.glcic_size, 99)
out = t.complete(val, masks, composite_only=False)
hole = float((((out - val) * masks) ** 2).sum() / (3 * masks.sum()))
print(json.dumps({"precision": precision, "seed": seed, "loss": [h["loss"] for h in hist],
                  "val_hole_mse": hole, "s_per_step": wall / max(1, steps)}))
"""


def run(precision: str, seed: int, steps: int) -> dict:
    env = dict(os.environ, INPAINTKIT_NO_PROGRESS="1", TF_CPP_MIN_LOG_LEVEL="3")
    r = subprocess.run([sys.executable, "-c", WORKER, precision, str(seed), str(steps)], capture_output=True,
                       text=True, env=env, cwd=HERE.parent)
    if r.returncode:
        raise SystemExit(f"error: the {precision} run failed: {r.stderr.strip().splitlines()[-1:]}")
    return json.loads(r.stdout.strip().splitlines()[-1])


def smooth(loss, window):
    return [sum(loss[i:i + window]) / len(loss[i:i + window]) for i in range(0, len(loss), window)]


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--window", type=int, default=25)
    p.add_argument("--out", default=None)
    a = p.parse_args(argv)
    t0 = time.time()
    f0, f1, b0 = run("float32", 0, a.steps), run("float32", 1, a.steps), run("mixed_bfloat16", 0, a.steps)
    s0, s1, sb = (smooth(r["loss"], a.window) for r in (f0, f1, b0))
    noise = max(abs(x - y) for x, y in zip(s0, s1))
    gap = max(abs(x - y) for x, y in zip(s0, sb))
    val_noise = abs(f0["val_hole_mse"] - f1["val_hole_mse"])
    val_gap = abs(f0["val_hole_mse"] - b0["val_hole_mse"])
    from inpaintkit.cpu import cpu_info
    report = {"steps": a.steps, "window": a.window, "cpu": cpu_info(),
              "smoothed_loss": {"float32_seed0": s0, "float32_seed1": s1, "bf16_seed0": sb},
              "max_gap_float32_seeds": noise, "max_gap_bf16_vs_float32": gap,
              "val_hole_mse": {"float32_seed0": f0["val_hole_mse"], "float32_seed1": f1["val_hole_mse"],
                               "bf16_seed0": b0["val_hole_mse"]},
              "within_noise": bool(gap <= 1.1 * noise and val_gap <= 1.1 * max(val_noise, 1e-4)),
              "s_per_step": {"float32": f0["s_per_step"], "bf16": b0["s_per_step"]},
              "wall_s": round(time.time() - t0, 1)}
    text = json.dumps(report)
    print(text)
    if a.out:
        Path(a.out).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
