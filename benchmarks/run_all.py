"""Every benchmark of docs/benchmarks.md at one preset, in one command: one JSON file.

    KERAS_BACKEND=torch python benchmarks/run_all.py --config paper      # the GPU column
    python benchmarks/run_all.py --config class                           # this CPU, TensorFlow
    python benchmarks/run_all.py --smoke                                  # every script, smallest settings

Each benchmark script runs in its own process (so one that runs out of memory or time does not
take the others with it), under ``--timeout`` seconds; its JSON lines are collected, with the
machine (processor, accelerator, backend and versions), into ``--out``. A failed or timed-out
script is recorded as such and the rest still run. On a lent GPU with only PyTorch installed, carry
the wheels of keras and of its two pure-Python needs that the image lacks (docs/benchmarks.md,
*The GPU column*).
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


def plan(config: str, smoke: bool) -> list[list[str]]:
    """The benchmark command lines (script, then its arguments) for one preset."""
    batches = ["1"] if smoke else ["1", "16", "64"]
    fast = ["--repeats", "1"]
    latent = (fast + ["--max-seconds", "5"]) if smoke else []
    glcic = (["--steps", "1", "--warmup", "1"] + fast) if smoke else []
    return [
        ["bench_guided.py", "--configs", config, "--batches", *batches, *latent],
        ["bench_semantic.py", "--configs", config, "--batches", *batches, *latent],
        ["bench_glcic.py", "--phase", "1", "--preset", config, *glcic],
        ["bench_glcic.py", "--phase", "3", "--preset", config, *glcic],
        ["bench_dcgan.py", "--configs", config, "--jit", "off", *((fast + ["--warmup", "1"]) if smoke else [])],
    ]


def machine() -> dict:
    """Where the numbers come from: processor, accelerator, backend and its version."""
    info = {"python": platform.python_version(), "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(), "keras_backend": os.environ.get("KERAS_BACKEND", "tensorflow")}
    probe = ("import json, keras; from inpaintkit import backend; "
             "print(json.dumps({'keras': keras.__version__, 'backend': backend.backend_version(), "
             "'accelerators': backend.accelerators()}))")
    r = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=HERE.parent)
    info.update(json.loads(r.stdout.strip().splitlines()[-1]) if r.returncode == 0 else {"probe_error": r.stderr[-500:]})
    return info


def json_lines(text: str) -> list:
    """The JSON objects a benchmark printed, one per line (other lines are progress)."""
    found = []
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                found.append(json.loads(line))
            except json.JSONDecodeError:
                pass
    return found


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--config", choices=("class", "paper"), default="paper",
                   help="preset of sizes, widths, batches and iterations (default: paper, for a GPU)")
    p.add_argument("--smoke", action="store_true", help="class sizes, one batch size, one timed repeat: "
                   "checks that every script runs")
    p.add_argument("--timeout", type=float, default=240.0, help="seconds per script")
    p.add_argument("--out", default=None, help="JSON file (default: $OUT/benchmarks.json or "
                   "runs/benchmarks_<config>_<backend>.json)")
    a = p.parse_args(argv)
    if a.timeout <= 0:
        p.error(f"--timeout must be a positive number of seconds, got {a.timeout}")
    config = "class" if a.smoke else a.config
    env = {**os.environ, "PYTHONUNBUFFERED": "1", "INPAINTKIT_NO_PROGRESS": "1"}
    backend_name = env.get("KERAS_BACKEND", "tensorflow")
    out = Path(a.out or (Path(env["OUT"]) / "benchmarks.json" if env.get("OUT")
                         else HERE.parent / "runs" / f"benchmarks_{config}_{backend_name}.json"))
    report = {"config": config, "smoke": a.smoke, "machine": machine(), "runs": []}
    for cmd in plan(config, a.smoke):
        line = "python benchmarks/" + " ".join(cmd)
        print("$", line, flush=True)
        t0 = time.perf_counter()
        try:
            r = subprocess.run([sys.executable, str(HERE / cmd[0]), *cmd[1:]], capture_output=True, text=True,
                               env=env, cwd=HERE.parent, timeout=a.timeout)
            status, text = ("ok" if r.returncode == 0 else f"exit {r.returncode}"), r.stdout
            tail = "" if r.returncode == 0 else r.stderr[-2000:]
        except subprocess.TimeoutExpired as e:
            status, text, tail = f"timed out after {a.timeout:.0f} s", (e.stdout or b"").decode(errors="replace"), ""
        results = json_lines(text)
        report["runs"].append({"command": line, "status": status, "wall_s": round(time.perf_counter() - t0, 1),
                               "results": results, **({"stderr_tail": tail} if tail else {})})
        print(f"  {status}, {len(results)} result(s), {time.perf_counter() - t0:.0f} s", flush=True)
        for res in results:
            print("  ", json.dumps(res)[:400], flush=True)
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(report, indent=1) + "\n")           # after each script: a kill keeps the rest
    print("wrote", out)
    return report


if __name__ == "__main__":
    sys.exit(0 if all(r["status"] == "ok" for r in main()["runs"]) else 1)
