"""Peak memory and time of ``python -m inpaintkit inpaint`` on a large photo, one JSON line per method.

    python benchmarks/bench_large_photo.py                          # 4000 x 3000 (12 MP), 5 % box hole, glcic
    python benchmarks/bench_large_photo.py --size 1500x1000 --hole 0.01 --method glcic telea
    python benchmarks/bench_large_photo.py --size 1500x1000 --hole 0.01 --before   # the whole photo through C

Each run is the real command in its own process; its peak resident memory is that process's
``ru_maxrss`` (``os.wait4``), its time the wall clock of the whole command (Python start, imports,
reading, inpainting, writing). The photo is scikit-image's astronaut resized to the size asked
(a real photo's texture, so PNG sizes and fills are realistic); the hole is one centred box of
the fraction asked. ``--before`` runs ``glcic.inference.inpaint`` on the whole photo, as
``inpaint --method glcic`` did before it worked on the hole's neighbourhood (issue 17): use a
small size, it needs tens of GB at 12 MP. The output's pixels outside the hole are checked to be
the input's exactly.
"""
import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
BEFORE = ("import sys, numpy as np; from inpaintkit import methods; from inpaintkit.glcic import inference; "
          "im = methods.read_image(sys.argv[1]); m = methods.read_mask(sys.argv[2]); "
          "out = inference.inpaint(im, m, model=inference.load_shipped(), postprocess=True); "
          "methods.write_image(sys.argv[3], np.where(m >= 0.5, out, im))")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def make_inputs(folder: Path, width: int, height: int, hole: float):
    import cv2
    from skimage import data
    photo = cv2.resize(data.astronaut(), (width, height), interpolation=cv2.INTER_CUBIC)
    Image.fromarray(photo).save(folder / "photo.png")
    side = np.sqrt(hole * width * height / (width / height))          # a box with the photo's aspect
    bh, bw = int(round(side)), int(round(side * width / height))
    mask = np.zeros((height, width), np.uint8)
    y0, x0 = (height - bh) // 2, (width - bw) // 2
    mask[y0:y0 + bh, x0:x0 + bw] = 255
    Image.fromarray(mask).save(folder / "mask.png")
    return photo, mask


def run(cmd, env) -> dict:
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    out, err = proc.stdout.read(), proc.stderr.read()
    # ru_maxrss: kilobytes on Linux, bytes on macOS
    peak = usage.ru_maxrss / (2 ** 20 if sys.platform == "darwin" else 2 ** 10)
    return {"rc": proc.returncode, "seconds": round(seconds, 1), "peak_rss_mb": round(peak), "stdout": out,
            "stderr": err}


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--size", default="4000x3000", help="WIDTHxHEIGHT (default 12 MP)")
    p.add_argument("--hole", type=float, default=0.05, help="hole fraction of the photo (one box)")
    p.add_argument("--method", nargs="+", default=["glcic"])
    p.add_argument("--before", action="store_true", help="also run the whole photo through GLCIC (small sizes)")
    p.add_argument("--target-mb", type=float, default=2048, help="peak memory the run should stay under")
    a = p.parse_args(argv)
    width, height = (int(v) for v in a.size.lower().split("x"))
    env = {**os.environ, "INPAINTKIT_NO_PROGRESS": "1"}
    failed = False
    with tempfile.TemporaryDirectory() as tmp:
        d = Path(tmp)
        photo, mask = make_inputs(d, width, height, a.hole)
        runs = [(m, [sys.executable, "-m", "inpaintkit", "inpaint", d / "photo.png", "--mask", d / "mask.png",
                     "--method", m, "--out", d / f"out_{m}.png"]) for m in a.method]
        if a.before:
            runs.append(("glcic_whole_photo (before)",
                         [sys.executable, "-c", BEFORE, d / "photo.png", d / "mask.png", d / "out_before.png"]))
        for name, cmd in runs:
            r = run([str(c) for c in cmd], env)
            out = Path(cmd[-1])
            exact = None
            if r["rc"] == 0 and out.exists():
                got = np.asarray(Image.open(out).convert("RGB"))
                exact = bool(np.array_equal(got[mask == 0], photo[mask == 0]))
            row = {"benchmark": "large_photo", "method": name, "size": f"{width}x{height}",
                   "megapixels": round(width * height / 1e6, 2), "hole_fraction": round(float((mask > 0).mean()), 4),
                   "rc": r["rc"], "seconds": r["seconds"], "peak_rss_mb": r["peak_rss_mb"],
                   "target_mb": a.target_mb, "within_target": r["peak_rss_mb"] <= a.target_mb,
                   "outside_hole_exact": exact, "backend": os.environ.get("KERAS_BACKEND", "tensorflow"),
                   "cpu": cpu_model(), "cpu_count": os.cpu_count(), "python": platform.python_version()}
            if r["rc"] != 0:
                row["error"] = r["stderr"].strip().splitlines()[-1:]
                failed = True
            print(json.dumps(row), flush=True)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
