"""The notebooks as a student receives them, and the ones that must also run on PyTorch.

nbval (``python -m pytest`` collects notebooks/ with --nbval-lax) executes every notebook
on the quick preset with the default TensorFlow backend; these tests add what nbval does not check.
"""
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
# The issues ask 03, 07 and 09 to pass under KERAS_BACKEND=torch as well; 05 (the joint GAN phase) too.
# (All eleven ran on torch at quick on 2026-11-21.)
TORCH_NOTEBOOKS = ["03_glcic_phase1_completion", "05_glcic_phase3_joint", "07_semantic_inpainting",
                   "09_classifier_guided_inpainting"]


def cells(nb):
    return json.loads(nb.read_text())["cells"]


def test_every_source_is_built():
    sources = sorted(p.stem for p in (ROOT / "notebooks" / "src").glob("[0-9][0-9]_*.py"))
    assert sources == [p.stem for p in NOTEBOOKS]


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_notebook_follows_the_house_style(nb):
    cs = cells(nb)
    code = [c for c in cs if c["cell_type"] == "code"]
    text = "\n".join("".join(c["source"]) for c in cs)
    assert code and all(c.get("outputs") is not None for c in code)
    assert any(c.get("outputs") for c in code), "committed without outputs: execute it on the class preset"
    errors = [o for c in code for o in c.get("outputs", []) if o.get("output_type") == "error"]
    assert not errors, f"a stored output is an error: {errors[0].get('ename')}"
    assert "presets.active()" in "".join(code[0]["source"]), "first code cell must show the active preset"
    widget_outputs = [o for c in code for o in c.get("outputs", [])
                      if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert widget_outputs or "interact" in text, "needs at least one widget"
    assert "NBVAL_CHECK_OUTPUT" in text, "needs deterministic cells checked by nbval"
    assert "xercise" in text, "needs exercises"
    assert "$" in text, "needs the paper's equations"
    assert nb.stat().st_size < 3_000_000, "too large: downscale figures"


@pytest.mark.parametrize("nb", NOTEBOOKS, ids=lambda p: p.stem)
def test_stored_self_checks_pass(nb):
    """The committed run (class preset) shows every exercise's reference solution passing its ✔/✘ check."""
    failed = [line for c in cells(nb) if c["cell_type"] == "code" for o in c.get("outputs", [])
              for line in "".join(o.get("text", "")).splitlines() if "✘" in line]
    assert not failed, failed[:3]


@pytest.mark.parametrize("name", TORCH_NOTEBOOKS)
def test_notebook_runs_on_pytorch(name, tmp_path):
    pytest.importorskip("torch")
    nb = ROOT / "notebooks" / f"{name}.ipynb"
    if not nb.exists():
        pytest.fail(f"{nb.name} is missing")
    env = dict(os.environ, KERAS_BACKEND="torch", INPAINTKIT_PRESET="quick")
    copy = tmp_path / nb.name            # run in its own folder: its runs/ never meets the TensorFlow run's
    shutil.copy(nb, copy)
    out = subprocess.run([sys.executable, "-m", "inpaintkit", "run", str(copy), "--preset", "quick",
                          "--backend", "torch", "--out-dir", str(tmp_path / "out")],
                         env=env, capture_output=True, text=True, timeout=900, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    assert (tmp_path / "out" / nb.name).exists()
