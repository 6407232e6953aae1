"""Timing and FLOP counting shared by the scripts in ``benchmarks/``.

FLOPs are counted analytically from the layers (2 per multiply-accumulate) for a
forward pass; a training step costs about 3 forward passes (forward + two
backward products), which :func:`train_flops` uses. The numbers are estimates of
the useful arithmetic, so ``achieved FLOP/s = flops / seconds`` shows the gap to
the hardware's peak.
"""
from __future__ import annotations

import json
import platform
import statistics
import time

import keras
import numpy as np


def median_seconds(fn, *, warmup: int = 2, repeats: int = 5, inner: int = 1) -> dict:
    """Run ``fn()`` ``warmup`` times, then time ``repeats`` groups of ``inner`` calls.

    Returns the median and the spread of seconds per call (machines here are noisy:
    quote medians and ratios).
    """
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        for _ in range(inner):
            fn()
        times.append((time.perf_counter() - t0) / inner)
    return {"median_s": statistics.median(times), "min_s": min(times), "max_s": max(times),
            "repeats": repeats, "inner": inner}


def time_latent_search(search, images, holes, restarts: int, *, repeats: int = 3,
                       max_seconds: float = 60.0) -> tuple[dict, float]:
    """Time one compiled step of a latent search (``semantic.LatentSearch`` or a guided one)
    over ``images`` x ``restarts`` codes. Returns (:func:`median_seconds` dict, seconds of the
    first call, which includes tracing/compilation); a slow first call means one timed repeat."""
    from . import semantic
    y = np.repeat(images, restarts, axis=0)
    hole = np.repeat(holes, restarts, axis=0)
    w = semantic.importance_weights(hole)
    step = search._build(len(y))[3]
    t0 = time.perf_counter()
    step(y, hole, w)
    first = time.perf_counter() - t0
    reps = repeats if first < max_seconds else 1
    secs = median_seconds(lambda: step(y, hole, w), warmup=1 if reps > 1 else 0, repeats=reps)
    return secs, first


def _spatial(shape):
    return int(np.prod([d for d in shape[1:-1] if d is not None])) if len(shape) > 2 else 1


def forward_flops(model: keras.Model) -> int:
    """FLOPs of one forward pass for one example (conv, transposed conv, dense layers).

    The model must be built with a fixed input size.
    """
    total = 0
    for layer in _layers(model):
        if isinstance(layer, keras.layers.Conv2DTranspose):
            kh, kw, cout, cin = layer.kernel.shape        # every input pixel scatters a kh*kw*cout patch
            total += 2 * kh * kw * cin * cout * _spatial(layer.input.shape)
        elif isinstance(layer, keras.layers.Conv2D):
            kh, kw, cin, cout = layer.kernel.shape        # cin is per group already
            total += 2 * kh * kw * cin * cout * _spatial(layer.output.shape)
        elif isinstance(layer, keras.layers.Dense):
            total += 2 * int(np.prod(layer.kernel.shape)) * max(1, _spatial(layer.input.shape))
    return int(total)


def _layers(model):
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            yield from _layers(layer)
        else:
            yield layer


def train_flops(*models: keras.Model, batch: int) -> int:
    """≈ 3 forward passes per example per trained model (forward + backward)."""
    return int(3 * batch * sum(forward_flops(m) for m in models))


def report(name: str, config: dict, seconds: dict, *, items: int, flops: int | None = None,
           unit: str = "img/s") -> dict:
    """The JSON every benchmark prints: config, median time, throughput, FLOP/s."""
    from . import backend
    from .cpu import cpu_info
    out = {
        "benchmark": name, "config": config, "backend": backend.NAME,
        "backend_version": backend.backend_version(),
        "device": ", ".join(backend.accelerators()) or f"CPU ({backend.threads()} threads, {platform.processor() or platform.machine()})",
        "cpu": cpu_info(),          # model and flags: a speed holds only against one from the same machine
        "seconds": {k: round(v, 5) if isinstance(v, float) else v for k, v in seconds.items()},
        unit: round(items / seconds["median_s"], 3),
    }
    if flops is not None:
        out["flops_per_call"] = flops
        out["achieved_gflops"] = round(flops / seconds["median_s"] / 1e9, 2)
    print(json.dumps(out))
    return out
