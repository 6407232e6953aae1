"""The product names its sources (Iizuka et al. / karantrehan's GLCIC, sem_inpainting), never "seed 000/001".

Covers README, docs, datasets/README, notebooks (sources, instructor and student copies),
the package (manifest.json included), scripts and benchmarks."""
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLACES = ["README.md", "docs", "datasets", "notebooks", "inpaintkit", "scripts", "benchmarks"]
PATTERN = re.compile(r"seed[ _]?00[01]", re.I)


def test_no_seed_numbers_in_the_product():
    hits = []
    for place in PLACES:
        path = ROOT / place
        files = [path] if path.is_file() else [p for p in path.rglob("*") if p.is_file()]
        for f in files:
            if f.suffix not in {".md", ".py", ".ipynb", ".json", ".txt", ".toml", ".yml", ".cfg", ".rst"}:
                continue
            for i, line in enumerate(f.read_text(errors="replace").splitlines(), 1):
                if PATTERN.search(line):
                    hits.append(f"{f.relative_to(ROOT)}:{i}: {line.strip()[:100]}")
    assert not hits, "name the source (sem_inpainting, karantrehan's GLCIC, Iizuka et al.):\n" + "\n".join(hits)
