"""Does bfloat16 mixed precision change what GLCIC phase 1 learns? One JSON line.

    python benchmarks/bf16_loss_curve.py                      # 500 class-preset steps, the issue's check
    python benchmarks/bf16_loss_curve.py --steps 60           # a short look

Trains the completion network for ``--steps`` phase-1 steps on toy cars (class preset: 64², width 0.5,
batch 16), each run in its own process: float32 with seeds 0 … ``--seeds``-1 (the run-to-run noise:
every pair of them) and ``mixed_bfloat16`` with seeds 0 … ``--bf16-seeds``-1 (a seed fixes the
initial weights, the batches and the holes, so bf16 and float32 at one seed differ only in
precision). The loss curves are smoothed (mean over windows of ``--window`` steps); bf16 passes when
its largest distance from the float32 curve of the same seed is no larger than the largest distance
between two float32 curves (plus 10 %), and the same holds for the final validation hole MSE. Also reports each run's seconds per step and the CPU
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
    p.add_argument("--seeds", type=int, default=3, help="float32 runs (seeds 0..N-1); at least 2")
    p.add_argument("--bf16-seeds", type=int, default=2, help="bf16 runs (seeds 0..N-1); at most --seeds")
    p.add_argument("--out", default=None)
    a = p.parse_args(argv)
    if a.seeds < 2 or not 1 <= a.bf16_seeds <= a.seeds:
        p.error("--seeds: expected at least 2, and --bf16-seeds between 1 and --seeds")
    t0 = time.time()
    f32 = [run("float32", s, a.steps) for s in range(a.seeds)]
    b16 = [run("mixed_bfloat16", s, a.steps) for s in range(a.bf16_seeds)]
    sf = [smooth(r["loss"], a.window) for r in f32]
    sb = [smooth(r["loss"], a.window) for r in b16]

    def dist(x, y):
        return max(abs(u - v) for u, v in zip(x, y))
    pairs = [(i, j) for i in range(len(f32)) for j in range(i + 1, len(f32))]
    noise = max(dist(sf[i], sf[j]) for i, j in pairs)
    gap = max(dist(sf[s], sb[s]) for s in range(len(b16)))
    vf, vb = [r["val_hole_mse"] for r in f32], [r["val_hole_mse"] for r in b16]
    val_noise = max(abs(vf[i] - vf[j]) for i, j in pairs)
    val_gap = max(abs(vf[s] - vb[s]) for s in range(len(b16)))
    from inpaintkit.cpu import cpu_info
    report = {"steps": a.steps, "window": a.window, "cpu": cpu_info(),
              "smoothed_loss": {**{f"float32_seed{s}": c for s, c in enumerate(sf)},
                                **{f"bf16_seed{s}": c for s, c in enumerate(sb)}},
              "max_gap_float32_seeds": noise, "max_gap_bf16_vs_float32_same_seed": gap,
              "val_hole_mse": {**{f"float32_seed{s}": v for s, v in enumerate(vf)},
                               **{f"bf16_seed{s}": v for s, v in enumerate(vb)}},
              "max_val_gap_float32_seeds": val_noise, "max_val_gap_bf16_vs_float32_same_seed": val_gap,
              "within_noise": bool(gap <= 1.1 * noise and val_gap <= 1.1 * max(val_noise, 1e-4)),
              "s_per_step": {"float32": sorted(r["s_per_step"] for r in f32)[len(f32) // 2],
                             "bf16": sorted(r["s_per_step"] for r in b16)[len(b16) // 2]},
              "wall_s": round(time.time() - t0, 1)}
    text = json.dumps(report)
    print(text)
    if a.out:
        Path(a.out).write_text(json.dumps(report, indent=1) + "\n")


if __name__ == "__main__":
    main()
