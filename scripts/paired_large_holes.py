"""Paired differences between two methods' stored large-hole results, image by image.

    python scripts/paired_large_holes.py docs/large_holes/val_semantic_window15_n64.json:semantic \\
        docs/large_holes/val_telea_semantic_resize_n64.json:semantic \\
        docs/large_holes/val_telea_semantic_resize_n64.json:telea

The first ``FILE:METHOD`` is compared with each of the others (with ``--base B``: each one with
``B``, as "each minus B"): per hole kind and pooled over the kinds, the mean difference in hole
PSNR and in "the evaluator still names the true class", each with a 95 % bootstrap interval over the
images (``evaluation.paired_difference``). Files come from ``scripts/eval_large_holes.py --json``,
``ilo_sweep.py --json`` or ``guided_ilo_val.py --json`` and must hold the same split, images and hole
kinds (checked).
``--json`` writes every number with this command.
"""
from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def _load(spec: str):
    file, sep, method = spec.rpartition(":")
    if not sep or not Path(file).is_file():
        raise SystemExit(f"error: results: expected FILE:METHOD with an existing file, got {spec!r}")
    doc = json.loads(Path(file).read_text())
    if any(method not in doc["per_image"][k] for k in doc["per_image"]):
        raise SystemExit(f"error: results: expected a method of {file} "
                         f"({', '.join(next(iter(doc['per_image'].values())))}), got {method!r}")
    return doc, method


def _short(spec: str) -> str:
    file, _, method = spec.rpartition(":")
    return f"{Path(file).stem}:{method}"


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("results", nargs="+", help="FILE:METHOD; the first against each of the others")
    p.add_argument("--base", default=None, help="FILE:METHOD to compare every result with (result - base)")
    p.add_argument("--json", default=None, help="write the differences here")
    a = p.parse_args(argv)
    if len(a.results) + (a.base is not None) < 2:
        p.error(f"results: expected at least two FILE:METHOD, got {len(a.results)}")
    import numpy as np

    from inpaintkit.evaluation import paired_difference
    pairs = [(a.results[0], s) for s in a.results[1:]] if a.base is None else [(s, a.base) for s in a.results]
    loaded = {s: _load(s) for s in {*a.results, *([a.base] if a.base else [])}}
    from inpaintkit.large_holes import SEEDS

    def same(doc):      # which cars and holes (files of ilo_sweep.py before session 29 name only the split)
        s = doc.get("settings", {})
        if not {"split", "n", "kinds"} <= set(s):
            raise SystemExit("error: results: expected files of eval_large_holes.py or ilo_sweep.py (settings with "
                             f"split, n and kinds), got settings {sorted(s)}")
        return s["split"], s.get("seed_images", SEEDS.get(s["split"])), s["n"], s["kinds"]
    first = loaded[pairs[0][0]][0]
    for s, (doc, _) in loaded.items():
        if same(doc) != same(first):
            raise SystemExit(f"error: results: expected the images and holes of {pairs[0][0]} {same(first)}, "
                             f"got {same(doc)} in {s}")
    kinds = first["settings"]["kinds"]
    out = {"command": "python scripts/paired_large_holes.py " + " ".join(shlex.quote(s) for s in (argv or sys.argv[1:])),
           "differences": {}}
    for left, right in pairs:
        (ref, ref_m), (doc, m) = loaded[left], loaded[right]
        rows = {}
        for kind in [*kinds, "pooled"]:
            ks = kinds if kind == "pooled" else [kind]
            get = lambda d, meth, what: np.concatenate([np.asarray(d["per_image"][k][meth][what], float) for k in ks])
            rows[kind] = {"hole_psnr": paired_difference(get(ref, ref_m, "hole_psnr"), get(doc, m, "hole_psnr")),
                          "class_kept": paired_difference(get(ref, ref_m, "correct"), get(doc, m, "correct"))}
            d, c = rows[kind]["hole_psnr"], rows[kind]["class_kept"]
            print(f"{_short(left)} - {_short(right)}, {kind:<6}: hole PSNR {d['mean']:+.2f} dB "
                  f"[{d['ci95'][0]:+.2f}, {d['ci95'][1]:+.2f}], class kept {c['mean']:+.3f} "
                  f"[{c['ci95'][0]:+.3f}, {c['ci95'][1]:+.3f}] (n = {c['n']})")
        out["differences"][f"{left} - {right}"] = rows
    if a.json:
        Path(a.json).write_text(json.dumps(out, indent=1) + "\n")
        print(f"wrote {a.json}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
