"""How fast the data layer makes images: toy cars and photo patches, one JSON line each.

    python benchmarks/bench_data.py                 # 10 000 toy cars at 64², 2 000 photo patches
    python benchmarks/bench_data.py --n 2000 --size 32 128
"""
import argparse
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from inpaintkit.benchmarking import median_seconds, report  # noqa: E402
from inpaintkit.data import photos, toycars  # noqa: E402


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--n", type=int, default=10_000, help="toy cars per timed call")
    p.add_argument("--patches", type=int, default=2_000, help="photo patches per timed call")
    p.add_argument("--size", type=int, nargs="+", default=[64])
    p.add_argument("--repeats", type=int, default=3)
    p.add_argument("--workers", type=int, default=1, help="processes for toycars.generate")
    a = p.parse_args(argv)
    photos.patches(1)  # load the photos once (cached), outside the timing
    for size in a.size:
        for name, fn, n in (("toycars.generate", lambda: toycars.generate(a.n, size=size, seed=0, workers=a.workers), a.n),
                            ("photos.patches", lambda: photos.patches(a.patches, size=size, seed=0), a.patches)):
            c0 = time.process_time()
            s = median_seconds(fn, warmup=0, repeats=a.repeats)
            # CPU seconds per call: close to the wall time on an idle machine (the drawing is single-threaded),
            # while the wall time of a shared machine includes waiting for a core.
            s["cpu_s"] = (time.process_time() - c0) / a.repeats
            report(name, {"n": n, "size": size, "workers": a.workers if name.startswith("toy") else 1,
                          "load_average_1min": round(os.getloadavg()[0], 2)}, s, items=n)


if __name__ == "__main__":
    main()
