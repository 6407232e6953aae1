"""A benchmark script run alternately without and with one of the kit's speed levers, in one run: one JSON.

    python benchmarks/before_after.py --lever bn -- bench_dcgan.py --configs class --jit off
    python benchmarks/before_after.py --lever bn --rounds 3 -- bench_guided.py --configs class --batches 16

``--lever bn`` undoes the fused BatchNormalization (Keras's own layer: the kit before issue 18);
``--lever dil`` the dilated-convolution rewrite of the completion network; ``--lever bf16`` runs *after*
under Keras's ``mixed_bfloat16`` policy (*before*: float32; set before the script builds any model). Each round runs the script
once *before* (lever undone) and once *after* (the kit as it is), in alternating order, each in a fresh
process; so both see the same machine at the same minutes. Reported per JSON line the script prints
(one per configuration): the median of its seconds over rounds before and after, their ratio
(speed-up = before / after) with its range over rounds, and the CPU.
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent))

UNDO = {
    "bn": "import keras; from inpaintkit import backend; "
          "backend.BatchNormalization.call = keras.layers.BatchNormalization.call",
    "dil": "import keras; from inpaintkit.glcic import completion; "
           "completion.Conv2D.convolution_op = keras.layers.Conv2D.convolution_op",
}
# Levers that are switched *on* for "after" (the kit's float32 default stays "before").
APPLY = {
    "bf16": "import keras; keras.mixed_precision.set_global_policy('mixed_bfloat16')",
}


def run(script: str, args: list[str], undo: str | None) -> list[dict]:
    code = (undo + "; " if undo else "") + (
        "import runpy, sys; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name='__main__')")
    env = dict(os.environ, INPAINTKIT_NO_PROGRESS="1", TF_CPP_MIN_LOG_LEVEL="3")
    r = subprocess.run([sys.executable, "-c", code, str(HERE / script), *args], capture_output=True, text=True,
                       env=env, cwd=HERE.parent)
    if r.returncode:
        raise SystemExit(f"error: {script} failed (rc {r.returncode}): {r.stderr.strip().splitlines()[-1:]}")
    return [json.loads(line) for line in r.stdout.splitlines() if line.startswith("{")]


def seconds(row: dict) -> float:
    s = row.get("seconds", {})
    return float(s["median_s"]) if "median_s" in s else float(row["seconds_per_image"])


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if "--" not in argv:
        raise SystemExit("error: usage: before_after.py --lever bn|dil|bf16 [--rounds N] -- SCRIPT [ARGS...]")
    cut = argv.index("--")
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--lever", choices=sorted({**UNDO, **APPLY}), required=True)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--out", default=None)
    a = p.parse_args(argv[:cut])
    script, args = argv[cut + 1], argv[cut + 2:]
    t0 = time.time()
    rows = {"before": [], "after": []}
    for r in range(a.rounds):
        for side in (("before", "after") if r % 2 == 0 else ("after", "before")):
            code = UNDO.get(a.lever) if side == "before" else APPLY.get(a.lever)
            rows[side].append(run(script, args, code))
            print(f"  round {r + 1}/{a.rounds} {side}: " + ", ".join(f"{seconds(x):.4g} s" for x in rows[side][-1]),
                  file=sys.stderr, flush=True)
    from inpaintkit.cpu import cpu_info
    results = []
    for i, first in enumerate(rows["after"][0]):
        b = [seconds(rnd[i]) for rnd in rows["before"]]
        f = [seconds(rnd[i]) for rnd in rows["after"]]
        ratio = [x / y for x, y in zip(b, f)]
        results.append({"benchmark": first.get("benchmark"), "config": first.get("config"),
                        "seconds_before": round(statistics.median(b), 5), "seconds_after": round(statistics.median(f), 5),
                        "speedup": round(statistics.median(ratio), 3), "speedup_range": [round(min(ratio), 3), round(max(ratio), 3)],
                        "rounds_before": [round(x, 5) for x in b], "rounds_after": [round(x, 5) for x in f]})
    report = {"lever": a.lever, "command": " ".join([script, *args]), "cpu": cpu_info(),
              "backend": os.environ.get("KERAS_BACKEND", "tensorflow"), "results": results,
              "wall_s": round(time.time() - t0, 1), "when": time.strftime("%Y-%m-%d %H:%M")}
    text = json.dumps(report, indent=1)
    print(text)
    if a.out:
        out = Path(a.out)
        tmp = out.with_name(f".{out.name}.tmp")
        tmp.write_text(text + "\n")
        os.replace(tmp, out)


if __name__ == "__main__":
    main()
