"""Build notebooks/NN_name.ipynb from the percent-format sources in notebooks/src/.

    python scripts/build_notebooks.py            # all
    python scripts/build_notebooks.py 03 05      # those whose name starts with 03 or 05

Cells are split at lines starting with ``# %%``; ``# %% [markdown]`` cells have their
leading ``# `` removed. Outputs are not kept: execute with
``python -m inpaintkit run notebooks/NN_name.ipynb --preset class --inplace``.
"""
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "notebooks" / "src"


def cells_of(text: str):
    blocks = re.split(r"^# %%", text, flags=re.M)
    for block in blocks[1:]:
        header, _, body = block.partition("\n")
        body = body.strip("\n")
        if "[markdown]" in header:
            lines = [ln[2:] if ln.startswith("# ") else ln.lstrip("#") for ln in body.splitlines()]
            yield nbformat.v4.new_markdown_cell("\n".join(lines))
        elif body.strip():
            yield nbformat.v4.new_code_cell(body)


def build(src: Path) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells_of(src.read_text()))
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.metadata["language_info"] = {"name": "python"}
    out = ROOT / "notebooks" / (src.stem + ".ipynb")
    nbformat.write(nb, out)
    return out


if __name__ == "__main__":
    prefixes = sys.argv[1:]
    for src in sorted(SRC.glob("*.py")):
        if not prefixes or any(src.stem.startswith(p) for p in prefixes):
            print("built", build(src).relative_to(ROOT))
