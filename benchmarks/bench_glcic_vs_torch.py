"""The kit's GLCIC phase-1 step against a plain-PyTorch one, side by side in one run: one JSON file.

    python benchmarks/bench_glcic_vs_torch.py                         # 64² and 128², width 1, batch 16
    python benchmarks/bench_glcic_vs_torch.py --sides ref kit kit:jit=1 kit-torch ref:channels_last=1

Each *side* runs in its own worker process (TensorFlow and PyTorch in one process would share the
cores between their thread pools), warms up, then waits. The parent asks the workers in turn, round
after round (the order rotates), to time ``--steps`` steps; so every side sees the same machine at
the same minutes, and a ratio is taken within each round (paired). Reported: median img/s of each
side with its range over rounds, the median of the per-round ratios to the first side, the CPU model
and flags, threads, load average and versions.

Sides (``name[:key=value,...]``):
  ``ref``        the plain-PyTorch reference (benchmarks/glcic_torch_reference.py); keys:
                 ``channels_last=1``, ``optimizer=adadelta``, ``threads=N``,
                 ``autocast=bf16`` (PyTorch's bf16 autocast of the forward pass: the peer's own mixed precision)
  ``kit``        the kit's ``glcic.phases.Phase1`` on TensorFlow, its defaults; keys: ``jit=0|1``,
                 ``onednn=0|1``, ``threads=N``, ``inter=N`` (inter-op threads), ``precision=auto|float32|
                 mixed_bfloat16`` (default auto, as scripts/train_glcic.py), ``optimizer=adadelta``, ``bn=keras`` (Keras's own BatchNormalization
                 in place of the kit's fused one), ``dil=sum`` (shifted 1x1 products at dilation >= 4,
                 as on CPUs without AVX-512), ``dil=keras`` (Keras's dilated op where every tap is live),
                 ``dil=native`` (the backend's dilated convolution in
                 place of the kit's; with both: the kit before issue 18)
  ``kit-torch``  the same on Keras's PyTorch backend (keys as ``kit``; ``threads`` sets torch's; ``jit=1``
                 compiles the forward pass with torch.compile, backend.TORCH_COMPILE)
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))


def parse_side(spec: str) -> tuple[str, dict]:
    name, _, rest = spec.partition(":")
    if name not in ("ref", "kit", "kit-torch"):
        raise SystemExit(f"error: --sides: expected ref, kit or kit-torch (with :key=value,...), got {spec!r}")
    opts = dict(kv.split("=", 1) for kv in rest.split(",") if kv)
    return name, opts


# ----- worker ----------------------------------------------------------------------------------
def worker(spec: str, size: int, width: float, batch: int, warmup: int) -> None:
    name, o = parse_side(spec)
    import numpy as np
    images = np.random.default_rng(0).uniform(size=(64, size, size, 3)).astype("float32")
    if name == "ref":
        import torch
        if "threads" in o:
            torch.set_num_threads(int(o["threads"]))
        import glcic_torch_reference as ref
        step = ref.Phase1Step(ref.CompletionNet(width), images, batch, optimizer=o.get("optimizer", "adam"),
                              channels_last=o.get("channels_last") == "1",
                              autocast=o.get("autocast") == "bf16")
        info = {"threads": torch.get_num_threads(), "torch": torch.__version__}
        run = step
        host = step.batch                # images and holes drawn in NumPy
    else:
        if name == "kit":
            os.environ["KERAS_BACKEND"] = "tensorflow"
            if "onednn" in o:
                os.environ["TF_ENABLE_ONEDNN_OPTS"] = o["onednn"]
            import tensorflow as tf
            if "threads" in o:
                tf.config.threading.set_intra_op_parallelism_threads(int(o["threads"]))
            if "inter" in o:
                tf.config.threading.set_inter_op_parallelism_threads(int(o["inter"]))
        else:
            os.environ["KERAS_BACKEND"] = "torch"
            if o.get("jit") == "1":             # jit on PyTorch: torch.compile of the forward pass
                os.environ["INPAINTKIT_TORCH_COMPILE"] = "1"
            import torch
            if "threads" in o:
                torch.set_num_threads(int(o["threads"]))
        import keras
        from inpaintkit import backend
        backend.set_precision(o.get("precision", "auto"))      # the trainers' default: bf16 where the CPU has it
        from inpaintkit.glcic import completion, phases
        if o.get("bn") == "keras":              # Keras's composite BatchNormalization instead of the fused one
            backend.BatchNormalization.call = keras.layers.BatchNormalization.call
        if o.get("dil") == "sum":               # the shifted 1x1 products at dilation >= 4 (the kit on AVX2 CPUs)
            backend.slow_native_dilation = lambda d: backend.NAME == "tensorflow" and d >= 4
        if o.get("dil") == "keras":             # Keras's own op (tf.nn.convolution) where all taps are live
            backend.dilated_conv2d = lambda x, k, d: None
        if o.get("dil") == "native":            # the backend's own dilated convolution for every tap
            completion.Conv2D.convolution_op = keras.layers.Conv2D.convolution_op
        kw = {} if "jit" not in o else {"jit": o["jit"] == "1"}
        trainer = phases.Phase1(completion.completion_network(size, width), images, batch_size=batch,
                                show=False, **kw)
        if o.get("optimizer") == "adadelta":     # the paper's optimiser, in place of the kit's Adam
            trainer.opt = keras.optimizers.Adadelta(1.0)
            trainer.step_fn = backend.train_step(trainer.loss, trainer.C.trainable_weights, trainer.opt, jit=trainer.jit)
        info = {"threads": backend.threads(), "backend": backend.NAME, "backend_version": backend.backend_version(),
                "jit": trainer.jit, "precision": keras.mixed_precision.global_policy().name}
        run = trainer.one_step
        host = trainer.batch             # images, holes and patch corners drawn in NumPy
    for i in range(warmup):
        run(i)
    t0 = time.perf_counter()
    for i in range(20):
        host(i)
    info["host_ms_per_step"] = round((time.perf_counter() - t0) / 20 * 1000, 3)
    print("READY " + json.dumps(info), flush=True)
    step = 1000
    for line in sys.stdin:
        if line.strip() == "quit":
            break
        n = int(line)
        t0 = time.perf_counter()
        for _ in range(n):
            run(step)
            step += 1
        print(f"SECONDS {time.perf_counter() - t0:.6f}", flush=True)


# ----- parent ----------------------------------------------------------------------------------
class Side:
    def __init__(self, spec, size, a):
        env = dict(os.environ, PYTHONPATH=f"{HERE}{os.pathsep}{HERE.parent}", INPAINTKIT_NO_PROGRESS="1",
                   TF_CPP_MIN_LOG_LEVEL="3")
        self.spec = spec
        self.p = subprocess.Popen([sys.executable, __file__, "--worker", spec, "--sizes", str(size), "--width",
                                   str(a.width), "--batch", str(a.batch), "--warmup", str(a.warmup)],
                                  stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=env, cwd=HERE.parent)
        self.info = None

    def ready(self):
        for line in self.p.stdout:
            if line.startswith("READY "):
                self.info = json.loads(line[6:])
                return
        raise SystemExit(f"error: side {self.spec!r}: the worker exited before it was ready (rc {self.p.wait()})")

    def time(self, steps: int) -> float:
        self.p.stdin.write(f"{steps}\n")
        self.p.stdin.flush()
        for line in self.p.stdout:
            if line.startswith("SECONDS "):
                return float(line.split()[1])
        raise SystemExit(f"error: side {self.spec!r}: the worker died while timing (rc {self.p.wait()})")

    def close(self):
        try:
            self.p.stdin.write("quit\n")
            self.p.stdin.flush()
        except BrokenPipeError:
            pass
        self.p.wait(60)


def compare(size: int, a) -> dict:
    import statistics
    sides = []
    try:
        for spec in a.sides:     # started and warmed up one after another, not competing for the cores
            sides.append(Side(spec, size, a))
            sides[-1].ready()
        rates = {s.spec: [] for s in sides}
        for r in range(a.rounds):
            order = sides[r % len(sides):] + sides[:r % len(sides)]
            for s in order:
                time.sleep(a.pause)      # let the other workers' spinning threads go to sleep
                rates[s.spec].append(a.steps * a.batch / s.time(a.steps))
            print(f"  {size}² round {r + 1}/{a.rounds}: " + ", ".join(
                f"{k} {v[-1]:.2f}" for k, v in rates.items()) + " img/s", file=sys.stderr, flush=True)
    finally:
        for s in sides:
            s.close()
    base = a.sides[0]
    out = {"size": size, "sides": {}}
    for s in sides:
        v = rates[s.spec]
        ratio = [x / y for x, y in zip(v, rates[base])]
        out["sides"][s.spec] = {"img_per_s": round(statistics.median(v), 3), "range": [round(min(v), 3), round(max(v), 3)],
                                "rounds": [round(x, 3) for x in v], f"ratio_to_{base}": round(statistics.median(ratio), 3),
                                "ratio_range": [round(min(ratio), 3), round(max(ratio), 3)], "worker": s.info}
    return out


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--sides", nargs="+", default=["ref", "kit"], help="first one is the baseline of the ratios")
    p.add_argument("--sizes", nargs="+", type=int, default=[64, 128])
    p.add_argument("--width", type=float, default=1.0)
    p.add_argument("--batch", type=int, default=16)
    p.add_argument("--steps", type=int, default=6)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--warmup", type=int, default=2)
    p.add_argument("--pause", type=float, default=0.5, help="seconds between timed blocks")
    p.add_argument("--out", default=None, help="JSON file (default: print only)")
    p.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    a = p.parse_args(argv)
    if a.worker:
        return worker(a.worker, a.sizes[0], a.width, a.batch, a.warmup)
    for s in a.sides:
        parse_side(s)
    t0 = time.time()
    results = [compare(size, a) for size in a.sizes]
    from inpaintkit.cpu import cpu_info
    report = {"benchmark": "glcic_phase1_vs_plain_pytorch", "cpu": cpu_info(), "python": platform.python_version(),
              "config": {"width": a.width, "batch": a.batch, "steps": a.steps, "rounds": a.rounds, "warmup": a.warmup},
              "results": results, "load_avg_1min_end": round(os.getloadavg()[0], 2),
              "wall_s": round(time.time() - t0, 1), "when": time.strftime("%Y-%m-%d %H:%M")}
    text = json.dumps(report, indent=1)
    print(text)
    if a.out:
        out = Path(a.out)
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(text + "\n")
        os.replace(tmp, out)           # a half-written report never replaces a finished one


if __name__ == "__main__":
    main()
