"""pytest runs the notebooks (nbval) and the unit tests on the `quick` preset unless told otherwise.

It runs on two processes (pytest-xdist, ``-n 2`` in pyproject.toml; ``-n 0`` for one).

CI has two cores and about half of the suite's time is single-threaded (interpreter and TensorFlow
start-ups, kernels starting, Python between small steps), so two workers finish it in less time.
What must stay together:

* the notebooks under nbval: one kernel per notebook runs its cells in order, and 04/05 read the
  checkpoints 03/04 leave in ``notebooks/runs``. They form one group, scheduled first (the longest);
* tests sharing a module-scoped fixture (the JupyterLab server of ``test_browser.py``).

PyTorch's OpenMP threads spin-wait for each other: next to another busy process on two cores a
two-thread PyTorch step runs many times slower (docs/benchmarks.md). Under two workers idle OpenMP
threads therefore sleep instead (``OMP_WAIT_POLICY=PASSIVE``, inherited by subprocesses and kernels).
(``OMP_NUM_THREADS=1`` would do it too, but PyTorch 2.13's CPU backward of the evaluator's ResNet
crashes with it: SIGSEGV in ``autograd.grad``.)
"""
import os


os.environ.setdefault("INPAINTKIT_PRESET", "quick")
os.environ.setdefault("INPAINTKIT_NO_PROGRESS", "1")
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("MPLBACKEND", "Agg")
os.environ.setdefault("INPAINTKIT_TORCH_ONEDNN", "0")   # PyTorch's oneDNN CPU backward crashes now and then (backend.py)

# nbval runs the instructor copies; the student copies (notebooks/student/, solutions removed) would run
# the same code again for nothing but the None placeholders: tests/test_student_copies.py covers them.
collect_ignore = ["notebooks/student"]


def _ignore_tf_noise_in_nbval():
    """TensorFlow's absl start-up lines (oneDNN, cuInit) reach whichever cell first touches TF; where
    that is a cell nbval checks, the check would depend on timing. Compare stderr without them."""
    try:
        import nbval.plugin as plugin
        from nbformat import NotebookNode
    except ImportError:
        return
    from inpaintkit.cli import without_tf_noise
    original = plugin.transform_streams_for_comparison

    def transform(outputs):
        kept = []
        for out in outputs:
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                text = without_tf_noise(out.get("text", ""))
                if not text.strip():
                    continue
                out = NotebookNode({**out, "text": text})
            kept.append(out)
        return original(kept)

    plugin.transform_streams_for_comparison = transform


_ignore_tf_noise_in_nbval()


TOGETHER = {"test_browser.py": "browser"}     # test modules whose tests share a module-scoped fixture


def pytest_configure(config):
    if os.environ.get("PYTEST_XDIST_WORKER") and int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
        os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")


def _scope(nodeid: str) -> str:
    """The unit of work one worker runs in order: every notebook cell together, a TOGETHER module
    together, any other test alone."""
    path = nodeid.split("::", 1)[0]
    if path.endswith(".ipynb"):
        return "notebooks"
    return TOGETHER.get(os.path.basename(path), nodeid)


def pytest_xdist_make_scheduler(config, log):
    """xdist's ``loadscope`` scheduling with the units of :func:`_scope` (its ``xdist_group`` marks
    do not reach pytest 9's node ids). Units go out largest first: the notebooks start at once."""
    from xdist.scheduler import LoadScopeScheduling

    class Scheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid):
            return _scope(nodeid)

    return Scheduling(config, log)
