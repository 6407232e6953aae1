"""Latent-search speed (Yeh et al.): iterations/s and seconds per image at 1, 16 and 64 images.

    python benchmarks/bench_semantic.py                              # class and paper configurations
    python benchmarks/bench_semantic.py --configs class class_resize --batches 16   # transposed vs resize G
    KERAS_BACKEND=torch python benchmarks/bench_semantic.py --batches 1 16
    python benchmarks/bench_semantic.py --configs paper --jit on
    python benchmarks/bench_semantic.py --quality 64                  # hole PSNR vs Telea, shipped DCGAN

All images and their restarts are one batch of N x restarts codes; one iteration is one compiled
step (G and D forward, gradient w.r.t. z, Adam, clip). Seconds per image = iterations x seconds per
step / N, i.e. the full search (``latent_iters``) extrapolated from the median timed step.
FLOPs per code and step: G and D forward, then the backward pass to z, which needs the gradients
w.r.t. activations only (no weight gradients): about 2 (fG + fD).
"""
from __future__ import annotations

import argparse
import contextlib
import io
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("INPAINTKIT_NO_PROGRESS", "1")

import numpy as np  # noqa: E402

from inpaintkit import backend, benchmarking, dcgan, masks, presets, semantic  # noqa: E402

CONFIGS = {
    "class": dict(width=presets.CLASS.dcgan_width, iters=presets.CLASS.latent_iters, restarts=presets.CLASS.restarts),
    "paper": dict(width=1.0, iters=presets.PAPER.latent_iters, restarts=presets.PAPER.restarts),
    # the class preset's search with a resize-convolution generator (dcgan.generator(upsample="resize"))
    "class_resize": dict(width=presets.CLASS.dcgan_width, iters=presets.CLASS.latent_iters,
                         restarts=presets.CLASS.restarts, upsample="resize"),
}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--configs", nargs="+", default=["class", "paper"], choices=sorted(CONFIGS))
    p.add_argument("--batches", nargs="+", type=int, default=[1, 16, 64], help="images per search")
    p.add_argument("--jit", choices=("on", "off", "both"), default="off",
                   help="TensorFlow only: compile the step with XLA")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--max-seconds", type=float, default=60.0,
                   help="fewer repeats for configurations slower than this per step")
    p.add_argument("--quality", type=int, default=0, metavar="N",
                   help="instead of timing: hole PSNR of the shipped DCGAN vs Telea on N toy cars")
    p.add_argument("--preset", default="class", help="iterations/restarts for --quality")
    args = p.parse_args(argv)
    if args.quality:
        return quality(args.quality, args.preset)
    jits = [False] if backend.NAME != "tensorflow" else {"both": [False, True], "on": [True], "off": [False]}[args.jit]
    out = []
    for name in args.configs:
        c = CONFIGS[name]
        backend.seed(0)
        upsample = c.get("upsample", "transposed")
        G, D = dcgan.generator(64, c["width"], upsample=upsample), dcgan.discriminator(64, c["width"])
        fg, fd = benchmarking.forward_flops(G), benchmarking.forward_flops(D)
        for jit in jits:
            for n in args.batches:
                search = semantic.LatentSearch(G, semantic.default_terms(D), iters=c["iters"],
                                               restarts=c["restarts"], seed=0, jit=jit)
                b = n * c["restarts"]
                from inpaintkit.data import toycars
                secs, first = benchmarking.time_latent_search(
                    search, toycars.generate(n, 64, seed=1)[0], masks.batch("center_box", n, 64), c["restarts"],
                    repeats=args.repeats, max_seconds=args.max_seconds)
                with contextlib.redirect_stdout(io.StringIO()):    # printed below with the per-image time
                    r = benchmarking.report(
                    "semantic_latent_step",
                        {"preset": name, "images": n, "restarts": c["restarts"], "codes_per_step": b,
                         "width": c["width"], "upsample": upsample, "iters": c["iters"], "jit": jit,
                         "threads": backend.threads()},
                        secs, items=1, unit="it/s", flops=int(2 * b * (fg + fd)))
                r["seconds_per_image"] = round(c["iters"] * secs["median_s"] / n, 3)   # full search, extrapolated
                r["first_step_s"] = round(first, 2)
                print(json.dumps(r), flush=True)
                out.append(r)
    return out


def quality(n: int, preset: str) -> dict:
    """Hole PSNR/L1 of semantic inpainting (shipped DCGAN) and Telea on n unseen toy cars."""
    import time

    from inpaintkit import baselines, metrics
    from inpaintkit.data import toycars
    P = presets.get(preset)
    G, D = semantic.load_models()
    cars = toycars.generate(n, size=G.output_shape[1], seed=123)[0]     # not the GAN's training seed
    out = {"benchmark": "semantic_quality", "preset": preset, "images": n, "iters": P.latent_iters,
           "restarts": P.restarts, "backend": backend.NAME, "masks": {}}
    for kind, hm in {"center_box": masks.batch("center_box", n, 64),
                     "half": masks.batch("half", n, 64, seed=1)}.items():
        t0 = time.perf_counter()
        r = semantic.inpaint(cars, hm, G, D, preset=P, seed=0)
        wall = time.perf_counter() - t0
        tel = baselines.telea(cars, hm)
        out["masks"][kind] = {
            "semantic": {k: round(v, 3) for k, v in metrics.evaluate(r.blended, cars, hm).items()},
            "semantic_no_blend": {k: round(v, 3) for k, v in metrics.evaluate(r.composite, cars, hm).items()},
            "telea": {k: round(v, 3) for k, v in metrics.evaluate(tel, cars, hm).items()},
            "seconds_per_image": round(wall / n, 3)}
    print(json.dumps(out))
    return out


if __name__ == "__main__":
    main()
