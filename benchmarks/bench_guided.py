"""Classifier-guided inpainting speed (seed 001): seconds per image at 1, 16 and 64 images.

    python benchmarks/bench_guided.py                                 # class and paper configurations
    python benchmarks/bench_guided.py --configs class --batches 1 16 64
    KERAS_BACKEND=torch python benchmarks/bench_guided.py --configs class

One iteration is one compiled step over all N x restarts codes: G forward, D on G(z) and on the
composite, GoogLeNet on G(z) and on the composite (one batched call), the gradient w.r.t. z, Adam,
clip. Seconds per image = iterations x median seconds per step / N (the full search extrapolated
from timed steps). FLOPs per code and step ≈ 3 (f_G + 2 f_D + 2 f_C) (forward + backward).
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("INPAINTKIT_NO_PROGRESS", "1")

import numpy as np  # noqa: E402

from inpaintkit import backend, benchmarking, dcgan, googlenet, guided, masks, presets, semantic  # noqa: E402

CONFIGS = {
    "class": dict(width=presets.CLASS.dcgan_width, cwidth=presets.CLASS.classifier_width,
                  iters=presets.CLASS.latent_iters, restarts=presets.CLASS.restarts),
    "paper": dict(width=1.0, cwidth=presets.PAPER.classifier_width, iters=presets.PAPER.latent_iters,
                  restarts=presets.PAPER.restarts),
}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--configs", nargs="+", default=["class", "paper"], choices=sorted(CONFIGS))
    p.add_argument("--batches", nargs="+", type=int, default=[1, 16, 64], help="images per search")
    p.add_argument("--jit", choices=("on", "off"), default="off", help="TensorFlow only: XLA-compile the step")
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--max-seconds", type=float, default=30.0,
                   help="a single timed step for configurations slower than this per step")
    args = p.parse_args(argv)
    jit = args.jit == "on" and backend.NAME == "tensorflow"
    from inpaintkit.data import toycars
    out = []
    for name in args.configs:
        c = CONFIGS[name]
        backend.seed(0)
        G, D = dcgan.generator(64, c["width"]), dcgan.discriminator(64, c["width"])
        C = googlenet.googlenet(64, len(toycars.CLASSES), width=c["cwidth"])
        fg, fd, fc = (benchmarking.forward_flops(m) for m in (G, D, C))
        for n in args.batches:
            search = guided.guided_search(G, D, C, iters=c["iters"], restarts=c["restarts"], seed=0, jit=jit)
            b = n * c["restarts"]
            _, _, _, step, _ = search._build(b)
            y = np.repeat(toycars.generate(n, 64, seed=1)[0], c["restarts"], axis=0)
            hole = np.repeat(masks.batch("center_box", n, 64), c["restarts"], axis=0)
            w = semantic.importance_weights(hole)
            t0 = time.perf_counter()
            step(y, hole, w)                                   # trace/compile + first step
            first = time.perf_counter() - t0
            repeats = args.repeats if first < args.max_seconds else 1
            secs = benchmarking.median_seconds(lambda: step(y, hole, w), warmup=1 if repeats > 1 else 0,
                                               repeats=repeats)
            r = benchmarking.report(
                "guided_latent_step",
                {"preset": name, "images": n, "restarts": c["restarts"], "codes_per_step": b,
                 "dcgan_width": c["width"], "classifier_width": c["cwidth"], "iters": c["iters"],
                 "jit": jit, "threads": backend.threads()},
                secs, items=1, unit="it/s", flops=int(3 * b * (fg + 2 * fd + 2 * fc)))
            r["seconds_per_image"] = round(c["iters"] * secs["median_s"] / n, 3)
            r["first_step_s"] = round(first, 2)
            print("  -> seconds per image (full search, extrapolated):", r["seconds_per_image"], flush=True)
            out.append(r)
    return out


if __name__ == "__main__":
    main()
