"""DCGAN training-step throughput (one D step + one G step) at the class and paper configurations.

    python benchmarks/bench_dcgan.py                         # TensorFlow, eager kernels and XLA
    KERAS_BACKEND=torch python benchmarks/bench_dcgan.py
    python benchmarks/bench_dcgan.py --configs paper --repeats 5

Prints one JSON line per configuration (median seconds per step after warm-up, images/s, an
analytic FLOP estimate per step and the achieved GFLOP/s). FLOPs per image and step (a forward
pass f, a backward pass 2f with weight gradients, f without): the D step runs G forward and D
forward+backward on a real and a fake batch (fG + 6 fD); the G step runs G forward+backward and
D forward+backward to its input only (3 fG + 2 fD). Total 4 fG + 8 fD.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("INPAINTKIT_NO_PROGRESS", "1")

import numpy as np  # noqa: E402

from inpaintkit import backend, benchmarking, dcgan, dcgan_training, presets  # noqa: E402

CONFIGS = {
    "class": dict(size=presets.CLASS.dcgan_size, width=presets.CLASS.dcgan_width, batch=presets.CLASS.dcgan_batch),
    "paper": dict(size=64, width=1.0, batch=64),
}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--configs", nargs="+", default=["class", "paper"], choices=sorted(CONFIGS))
    p.add_argument("--jit", choices=("both", "on", "off"), default="both",
                   help="TensorFlow only: time with XLA, without, or both")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--warmup", type=int, default=2)
    args = p.parse_args(argv)
    jits = [False] if backend.NAME != "tensorflow" else {"both": [False, True], "on": [True], "off": [False]}[args.jit]
    results = []
    for name in args.configs:
        c = CONFIGS[name]
        for jit in jits:
            backend.seed(0)
            G, D = dcgan.generator(c["size"], c["width"]), dcgan.discriminator(c["size"], c["width"])
            images = np.random.default_rng(0).uniform(size=(4 * c["batch"], c["size"], c["size"], 3)).astype(np.float32)
            tr = dcgan_training.DCGANTrainer(G, D, images, batch_size=c["batch"], sample_every=0, jit=jit)
            counter = iter(range(10 ** 9))
            secs = benchmarking.median_seconds(lambda: tr.one_step(next(counter)), warmup=args.warmup,
                                               repeats=args.repeats)
            fg, fd = benchmarking.forward_flops(G), benchmarking.forward_flops(D)
            flops = int(c["batch"] * (4 * fg + 8 * fd))
            results.append(benchmarking.report(
                "dcgan_train_step", {"preset": name, **c, "jit": jit, "g_params": G.count_params(),
                                     "d_params": D.count_params(), "threads": backend.threads()},
                secs, items=c["batch"], flops=flops))
    return results


if __name__ == "__main__":
    main()
