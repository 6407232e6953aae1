"""Train-step throughput of GLCIC's phases on the active backend: prints one JSON line.

    python benchmarks/bench_glcic.py --phase 1 --preset class
    python benchmarks/bench_glcic.py --phase 1 --size 64 --width 1 --batch 16    # the paper's width
    KERAS_BACKEND=torch python benchmarks/bench_glcic.py --phase 3 --preset class

img/s is the median over ``--repeats`` timed runs of ``--steps`` steps each, after a warm-up
(compilation). FLOPs per step are counted analytically from the conv/dense layers
(2 FLOP per multiply-accumulate; a backward pass counted as twice the forward).
"""
import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("INPAINTKIT_NO_PROGRESS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--phase", type=int, choices=(1, 2, 3), default=1)
    p.add_argument("--preset", default=None, help="quick | class | paper (sizes from the preset)")
    p.add_argument("--size", type=int, default=None)
    p.add_argument("--width", type=float, default=None)
    p.add_argument("--disc-width", type=float, default=None)
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--jit", type=int, choices=(0, 1), default=None,
                   help="XLA on (1) or off (0); default: the trainers' own choice (on with a GPU, off on a CPU)")
    p.add_argument("--steps", type=int, default=5)
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--warmup", type=int, default=2)
    a = p.parse_args(argv)

    from inpaintkit import backend, presets
    from inpaintkit.glcic import completion as cm, discriminators as dm, phases
    P = presets.get(a.preset) if a.preset else presets.active()
    size = a.size or P.glcic_size
    width = a.width if a.width is not None else P.glcic_width
    dwidth = a.disc_width if a.disc_width is not None else P.glcic_disc_width
    batch = a.batch or P.glcic_batch
    rng = np.random.default_rng(0)
    images = rng.uniform(size=(max(64, batch), size, size, 3)).astype("float32")
    C = cm.completion_network(size, width)
    kw = dict(batch_size=batch, show=False, jit=None if a.jit is None else bool(a.jit))
    c_macs = cm.conv_macs(C, size)
    if a.phase == 1:
        trainer = phases.Phase1(C, images, **kw)
        macs = 3 * c_macs * batch
    else:
        D = dm.discriminator(size, dwidth)
        d_macs = dm.macs(D, size)
        if a.phase == 2:
            trainer = phases.Phase2(C, D, images, **kw)
            macs = c_macs * batch + 3 * d_macs * 2 * batch
        else:
            trainer = phases.Phase3(C, D, images, **kw)
            macs = 4 * c_macs * batch + 6 * d_macs * 2 * batch
    for i in range(a.warmup):
        trainer.one_step(i)
    rates = []
    for r in range(a.repeats):
        t0 = time.perf_counter()
        for i in range(a.steps):
            trainer.one_step(100 + r * a.steps + i)
        rates.append(a.steps * batch / (time.perf_counter() - t0))
    ips = float(np.median(rates))
    flops = 2.0 * macs
    print(json.dumps({
        "backend": backend.NAME, "phase": a.phase, "preset": P.name, "size": size, "width": width,
        "disc_width": dwidth if a.phase > 1 else None, "batch": batch, "jit": trainer.jit if backend.NAME == "tensorflow" else None,
        "threads": backend.threads(), "img_per_s": round(ips, 2), "runs_img_per_s": [round(x, 2) for x in rates],
        "gflop_per_step": round(flops / 1e9, 2), "achieved_gflop_per_s": round(flops * ips / batch / 1e9, 2),
        "load_avg_1min": round(os.getloadavg()[0], 2),
    }))


if __name__ == "__main__":
    main()
