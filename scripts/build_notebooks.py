"""Build notebooks/NN_name.ipynb from the percent-format sources in notebooks/src/.

    python scripts/build_notebooks.py            # all
    python scripts/build_notebooks.py 03 05      # those whose name starts with 03 or 05
    python scripts/build_notebooks.py --keep-outputs 05   # markdown edits only: keep the stored run

Cells are split at lines starting with ``# %%``; ``# %% [markdown]`` cells have their
leading ``# `` removed. Outputs are not kept: execute with
``python -m inpaintkit run notebooks/NN_name.ipynb --preset class --inplace``. With
``--keep-outputs`` the stored outputs of the existing notebook are carried over, which is right
only when no code changed: it refuses (and writes nothing) if any code cell differs.

Exercises mark their reference solution the nbgrader way, between ``### BEGIN SOLUTION`` and
``### END SOLUTION`` lines. Next to every instructor copy ``notebooks/NN_name.ipynb`` (markers and
solutions kept) the script writes a student copy ``notebooks/student/NN_name.ipynb``: no outputs,
each marked region replaced by one ``# YOUR CODE HERE`` line, so the answer stays at the placeholder
written before the region (``answer = None``) and ``inpaintkit.exercises.check`` says "not yet".
"""
import re
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
SRC = ROOT / "notebooks" / "src"
STUDENT = ROOT / "notebooks" / "student"
BEGIN, END, PLACEHOLDER = "### BEGIN SOLUTION", "### END SOLUTION", "# YOUR CODE HERE"
# display_name as ipykernel names its kernel: JupyterLab writes that name into a notebook it opens,
# so any other name marks the notebook modified the moment it is opened.
KERNEL = {"name": "python3", "display_name": "Python 3 (ipykernel)", "language": "python"}
STUDENT_NOTE = ("> **Student copy.** The exercises' reference solutions are removed: where a cell says "
                "`# YOUR CODE HERE`, replace the `None` above it with your answer, and its check prints "
                "*not yet* until you do, then ✔ or ✘. The instructor copy, with solutions and a stored run, "
                "is `../{name}`.")


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


def without_solutions(source: str, where: str = "") -> str:
    """``source`` with every ``### BEGIN SOLUTION`` … ``### END SOLUTION`` region (markers included)
    replaced by one ``# YOUR CODE HERE`` line at the marker's indentation."""
    kept, inside = [], False
    for line in source.splitlines():
        mark = line.strip()
        if mark == BEGIN:
            if inside:
                sys.exit(f"{where}: {BEGIN} inside a solution region")
            inside = True
            kept.append(line[:len(line) - len(line.lstrip())] + PLACEHOLDER)
        elif mark == END:
            if not inside:
                sys.exit(f"{where}: {END} without {BEGIN}")
            inside = False
        elif not inside:
            kept.append(line)
    if inside:
        sys.exit(f"{where}: {BEGIN} never ended")
    return "\n".join(kept)


def student_notebook(src: Path):
    """The student copy of ``src``: solutions removed, no outputs, stable cell ids (so a rebuild of an
    unchanged source writes the same bytes)."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell(STUDENT_NOTE.format(name=src.stem + ".ipynb"))]
    for i, cell in enumerate(cells_of(src.read_text())):
        cell.source = without_solutions(cell.source, f"{src.name} cell {i + 1}")
        nb.cells.append(cell)
    for i, cell in enumerate(nb.cells):
        cell.id = f"cell-{i:03d}"
    nb.metadata["kernelspec"] = dict(KERNEL)
    nb.metadata["language_info"] = {"name": "python"}
    instructor = ROOT / "notebooks" / (src.stem + ".ipynb")
    if instructor.is_file():
        # the kernel's language_info as the stored run recorded it: JupyterLab writes the kernel's own
        # into a notebook it opens, so a partial one marks the student copy modified on opening
        info = nbformat.read(instructor, as_version=4).metadata.get("language_info", {})
        if len(info) > 1:
            nb.metadata["language_info"] = dict(info)
    return nb


def build(src: Path, keep_outputs: bool = False) -> Path:
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells_of(src.read_text()))
    nb.metadata["kernelspec"] = dict(KERNEL)
    nb.metadata["language_info"] = {"name": "python"}
    out = ROOT / "notebooks" / (src.stem + ".ipynb")
    student = student_notebook(src)               # first: it refuses unbalanced solution markers
    if keep_outputs:
        carry_outputs(nbformat.read(out, as_version=4), nb, out.name)
    nbformat.write(nb, out)
    STUDENT.mkdir(exist_ok=True)
    nbformat.write(student, STUDENT / out.name)
    return out


def carry_outputs(old, new, name: str) -> None:
    """Copy the stored outputs of ``old`` into ``new`` when their code cells are identical."""
    code_old = [c for c in old.cells if c.cell_type == "code"]
    code_new = [c for c in new.cells if c.cell_type == "code"]
    if [c.source for c in code_old] != [c.source for c in code_new]:
        changed = next((i for i, (a, b) in enumerate(zip(code_old, code_new)) if a.source != b.source),
                       min(len(code_old), len(code_new)))
        sys.exit(f"--keep-outputs: {name}: code cell {changed + 1} changed (or cells were added or removed); "
                 f"execute the notebook instead")
    for a, b in zip(code_old, code_new):
        b.outputs, b.execution_count, b.metadata = a.outputs, a.execution_count, a.metadata
    if len(old.cells) == len(new.cells):          # same cells: keep their ids, so the diff is the edit
        for a, b in zip(old.cells, new.cells):
            b.id = a.id
    new.metadata = old.metadata
    new.metadata["kernelspec"] = dict(KERNEL)


if __name__ == "__main__":
    keep = "--keep-outputs" in sys.argv[1:]
    prefixes = [a for a in sys.argv[1:] if a != "--keep-outputs"]
    for src in sorted(SRC.glob("*.py")):
        if not prefixes or any(src.stem.startswith(p) for p in prefixes):
            print("built", build(src, keep_outputs=keep).relative_to(ROOT), "and its student copy")
