"""What this CPU can do, read at run time: its model, the vector and matrix units the kit's
choices depend on (``avx2``, ``avx512f``, ``avx512_bf16``, ``amx_bf16``), and whether bfloat16 runs on
hardware (:func:`has_bf16`). No Keras import: the benchmarks record it next to every number, because
speed comparisons only hold on one machine (docs/benchmarks.md)."""
from __future__ import annotations

import os
import platform

FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_tile", "amx_bf16", "avx_vnni")
BF16_FLAGS = ("avx512_bf16", "amx_bf16")


def _cpuinfo() -> tuple[str, set]:
    model, flags = platform.processor() or platform.machine(), set()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                key, _, value = line.partition(":")
                key = key.strip()
                if key == "model name":
                    model = value.strip()
                elif key in ("flags", "Features"):
                    flags = set(value.split())
                    break
    except OSError:       # not Linux: no flags known, so nothing is assumed
        pass
    return model, flags


def cpu_info() -> dict:
    """``{"model", "flags": [the FLAGS present], "logical_cores", "threads_allowed", "bf16_units"}``."""
    model, flags = _cpuinfo()
    try:
        allowed = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS
        allowed = os.cpu_count() or 1
    return {"model": model, "flags": [f for f in FLAGS if f in flags], "logical_cores": os.cpu_count(),
            "threads_allowed": allowed, "bf16_units": bool(flags & set(BF16_FLAGS))}


def has_bf16() -> bool:
    """True when the CPU computes bfloat16 in hardware (AVX512-BF16 or AMX-BF16)."""
    return bool(_cpuinfo()[1] & set(BF16_FLAGS))


def has_avx512() -> bool:
    """True when the CPU has AVX-512 (``avx512f``): oneDNN's fast dilated-convolution kernels need it
    (:func:`inpaintkit.backend.slow_native_dilation`)."""
    return "avx512f" in _cpuinfo()[1]
