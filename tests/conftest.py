"""Running the suite on two processes (pytest-xdist, ``-n 2`` in pyproject.toml).

CI has two cores and about half of the suite's time is single-threaded (interpreter and TensorFlow
start-ups, kernels starting, Python between small steps), so two workers finish it in less time.
What must stay together:

* the notebooks under nbval: one kernel per notebook runs its cells in order, and 04/05 read the
  checkpoints 03/04 leave in ``notebooks/runs``. They form one group, scheduled first (the longest);
* tests sharing a module-scoped fixture (the JupyterLab server of ``test_browser.py``).

PyTorch's OpenMP threads spin-wait for each other: next to another busy process on two cores a
two-thread PyTorch step runs many times slower (docs/benchmarks.md). Under two workers each PyTorch
process therefore uses one thread (``OMP_NUM_THREADS=1``, inherited by subprocesses and kernels).
"""
import os

import pytest

TOGETHER = {"test_browser.py": "browser"}


def _workers(config) -> int:
    n = getattr(config.option, "numprocesses", None) or 0
    return n if isinstance(n, int) else 0


def pytest_configure(config):
    if os.environ.get("PYTEST_XDIST_WORKER") and int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "1")) > 1:
        os.environ.setdefault("OMP_NUM_THREADS", "1")


def pytest_collection_modifyitems(session, config, items):
    notebooks = []
    for item in items:
        path = str(item.fspath)
        if path.endswith(".ipynb"):
            item.add_marker(pytest.mark.xdist_group("notebooks"))
            notebooks.append(item)
        elif os.path.basename(path) in TOGETHER:
            item.add_marker(pytest.mark.xdist_group(TOGETHER[os.path.basename(path)]))
    if notebooks and (_workers(config) > 1 or os.environ.get("PYTEST_XDIST_WORKER")):
        rest = [i for i in items if i not in notebooks]
        items[:] = notebooks + rest          # the longest group first, so no worker waits for it at the end
