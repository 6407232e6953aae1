"""Saved notebooks read right without a kernel (issue 16): widgets carry a static copy of their first
state, progress bars end at their last state, no TensorFlow start-up lines, JupyterLab saves widget
state. The real-browser check of the same is tests/test_browser.py."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from inpaintkit import _tflog, nbdisplay

NOISE = ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
         "I0000 00:00:1796092847.735333    6384 cudart_stub.cc:31] Could not find cuda drivers on your machine.\n")


def test_quiet_fd2_drops_tensorflow_lines_and_keeps_the_rest(capfd):
    with _tflog.quiet_fd2():
        os.write(2, (NOISE + "a real problem\n").encode())
    err = capfd.readouterr().err
    assert err == "a real problem\n"


def test_importing_tensorflow_after_the_kit_prints_nothing():
    """A fresh process, TF_CPP_MIN_LOG_LEVEL unset: `import inpaintkit` then TensorFlow and a device
    query (cuInit on a machine without a GPU) write nothing to stderr."""
    pytest.importorskip("tensorflow")
    env = {k: v for k, v in os.environ.items() if k != "TF_CPP_MIN_LOG_LEVEL"}
    env["KERAS_BACKEND"] = "tensorflow"
    code = ("import inpaintkit, keras, tensorflow as tf; tf.config.list_physical_devices('GPU'); "
            "print(tf.reduce_sum(tf.range(4, dtype=tf.int64)).numpy())")
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    assert res.stdout.strip() == "6"
    assert res.stderr == "", res.stderr


def test_notebook_bar_shows_its_last_state(monkeypatch):
    shown = []

    class Handle:
        def update(self, bundle, raw=True):
            shown.append(bundle["text/plain"])

    def display(bundle, raw=True, display_id=False):
        shown.append(bundle["text/plain"])
        return Handle()

    monkeypatch.setattr("IPython.display.display", display)
    bar = nbdisplay.NotebookBar(total=3, desc="phase 1", mininterval=0)
    for _ in range(3):
        bar.update(1)
    bar.set_postfix({"loss": "0.5"})
    bar.close()
    assert shown[0].startswith("phase 1:   0%|") and "0/3" in shown[0]
    assert shown[-1].startswith("phase 1: 100%|") and "3/3" in shown[-1] and "loss=0.5" in shown[-1]


def test_progress_outside_a_notebook_is_tqdm_on_stderr():
    from tqdm.std import tqdm
    bar = nbdisplay.progress(2, desc="x", disable=True)
    assert type(bar) is tqdm


def test_widget_bundle_has_a_static_copy_and_no_text_repr():
    W = pytest.importorskip("ipywidgets")
    w = W.interactive(lambda size=0.3, kind="box": None, size=(0.1, 0.9, 0.1), kind=["box", "strokes"])
    nbdisplay._shown[w.out.model_id] = [{"image/png": "iVBORw0K", "text/plain": "<Figure size 1x1>"}]
    try:
        data = nbdisplay.widget_bundle(w)
    finally:
        nbdisplay._shown.clear()
    assert data["application/vnd.jupyter.widget-view+json"]["model_id"] == w.model_id
    assert not data["text/plain"].startswith("interactive(")
    assert "size = 0.3" in data["text/plain"] and "kind = box" in data["text/plain"]
    assert '<img src="data:image/png;base64,iVBORw0K"' in data["text/html"]
    assert "first state" in data["text/html"]
    up = nbdisplay.widget_bundle(W.FileUpload(accept="image/*"))
    assert not up["text/plain"].startswith("FileUpload(") and "<img" not in up["text/html"]


def test_lab_setting_turns_on_save_widget_state(tmp_path):
    assert nbdisplay.lab_setting(str(tmp_path)) is None               # no JupyterLab there: nothing written
    (tmp_path / "share" / "jupyter" / "lab" / "static").mkdir(parents=True)
    path = nbdisplay.lab_setting(str(tmp_path))
    assert path == tmp_path / "share/jupyter/lab/settings/overrides.d/inpaintkit.json"
    assert json.loads(path.read_text())["@jupyter-widgets/jupyterlab-manager:plugin"]["saveState"] is True


def test_run_saves_what_a_kernel_less_reader_needs(tmp_path):
    """`inpaintkit run` on a small notebook: TensorFlow, an interact with a figure, a training loop.
    The saved copy has no stderr, a static picture of the widget, the bar at 100 %, the widget state
    and the kernel name JupyterLab uses."""
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("ipywidgets")
    from inpaintkit import cli
    cells = [
        "from inpaintkit import presets",
        "import keras\nfrom inpaintkit import backend\nprint(backend.NAME)",
        "import matplotlib.pyplot as plt\nfrom ipywidgets import interact\n"
        "@interact(n=(1, 5))\ndef f(n=2):\n    plt.figure(figsize=(1, 1)); plt.plot(range(n)); plt.show()",
        "from inpaintkit.training import Loop\nh = Loop('demo', 4).run(lambda i: {'loss': 1.0 / (i + 1)})",
    ]
    src = tmp_path / "t.ipynb"
    nbformat.write(nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in cells]), src)
    env = dict(os.environ)
    os.environ.pop("TF_CPP_MIN_LOG_LEVEL", None)        # the kernel must quieten TensorFlow by itself
    os.environ["KERAS_BACKEND"] = "tensorflow"
    os.environ["INPAINTKIT_NO_PROGRESS"] = "0"          # conftest turns bars off for the rest of the suite
    os.environ.pop("MPLBACKEND", None)                  # ...and sets Agg, under which plt.show() draws nothing
    try:
        assert cli.main(["run", str(src), "--preset", "quick", "--out-dir", str(tmp_path / "out")]) == 0
    finally:
        os.environ.clear()
        os.environ.update(env)
    # nbformat.read joins multi-line strings, which the file may store as lists of lines
    nb = nbformat.read(str(tmp_path / "out" / "t.ipynb"), as_version=4)
    outs = [o for c in nb["cells"] for o in c["outputs"]]
    assert not [o for o in outs if o.get("name") == "stderr"], [o["text"] for o in outs if o.get("name") == "stderr"]
    widget = [o["data"] for o in outs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})]
    assert len(widget) == 1 and 'inpaintkit-static-widget' in widget[0]["text/html"]
    assert not widget[0]["text/plain"].startswith("interactive(")
    pictured = '<img src="data:image/png;base64,' in widget[0]["text/html"]
    bars = [o["data"]["text/plain"] for o in outs if o.get("data", {}).get("text/plain", "").startswith("demo:")]
    assert len(bars) == 1 and bars[0].startswith("demo: 100%|") and "4/4" in bars[0]
    # no stored widget state: JupyterLab's widget manager would rewrite it on opening (a modified
    # notebook as cloned); the saved state after a student's Run All comes from saveState (browser test)
    assert "widgets" not in nb["metadata"]
    assert nb["metadata"]["kernelspec"]["display_name"] == cli.kernelspec()["display_name"]
    assert pictured, "a plain plt.show() inside the student's own interact is pictured in the static copy"
    assert Path(nbdisplay.lab_setting() or "").name in ("inpaintkit.json", "")


def test_the_retracing_hint_is_dropped_and_other_tensorflow_warnings_pass():
    import logging
    from inpaintkit import _tflog
    _tflog.install()
    logger = logging.getLogger("tensorflow")
    seen = []

    class Keep(logging.Handler):
        def emit(self, record):
            seen.append(record.getMessage())

    h = Keep()
    logger.addHandler(h)
    try:
        logger.warning("5 out of the last 17 calls to <function f> triggered tf.function retracing. Tracing is expensive")
        logger.warning("something a user must see")
    finally:
        logger.removeHandler(h)
    assert seen == ["something a user must see"]
