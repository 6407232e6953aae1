"""Keep TensorFlow's C++ start-up lines out of notebooks and away from the command line's errors.

TensorFlow logs from C++ straight to file descriptor 2, which a Jupyter kernel shows as a red stderr
box in whichever cell first imports it. Two things silence it, both set up by ``import inpaintkit``
(every notebook's first cell), before TensorFlow is imported:

* ``TF_CPP_MIN_LOG_LEVEL=3`` (unless already set): TensorFlow's own log lines (``failed call to
  cuInit`` on a machine without a GPU, oneDNN's notices, device creation) are dropped;
* lines written before TensorFlow has set its logging up ignore that variable (absl's ``WARNING: All
  log messages before absl::InitializeLog() ...``, ``Could not find cuda drivers on your machine``).
  They are written while ``import tensorflow`` runs, so that one import runs with descriptor 2
  pointed at a temporary file; afterwards every line of it that is not such a log line is written to
  stderr, so nothing else is lost.

``TF_CPP_MIN_LOG_LEVEL=0`` (set before the kit is imported) asks for every line and turns both off.
"""
from __future__ import annotations

import contextlib
import importlib.abc
import logging
import os
import re
import sys
import tempfile

# absl / TensorFlow C++ log lines: "I0000 00:00:1795276758.406048    6403 file.cc:153] message"
NOISE = re.compile(r"^(WARNING: All log messages before absl::InitializeLog\(\) is called are written to STDERR"
                   r"|[IWEF]\d{4} \d\d:\d\d:\d+\.\d+ +\d+ \S+:\d+\] .*)$")


def without_noise(text: str) -> str:
    """``text`` without TensorFlow's C++ log lines."""
    return "".join(ln for ln in text.splitlines(keepends=True) if not NOISE.match(ln.rstrip("\n")))


@contextlib.contextmanager
def quiet_fd2():
    """Run the block with descriptor 2 sent to a temporary file; then write what it got, less
    TensorFlow's log lines, to ``sys.stderr``."""
    for stream in (sys.stdout, sys.stderr, sys.__stderr__):
        with contextlib.suppress(Exception):
            stream.flush()
    try:
        saved = os.dup(2)
    except OSError:                      # no descriptor 2 (e.g. a windowed app): nothing to hide
        yield
        return
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield
        finally:
            with contextlib.suppress(Exception):
                sys.__stderr__.flush()
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            rest = without_noise(tmp.read().decode("utf-8", errors="replace"))
            if rest.strip():
                sys.stderr.write(rest)


class _QuietLoader(importlib.abc.Loader):
    def __init__(self, loader):
        self.loader = loader

    def create_module(self, spec):
        return self.loader.create_module(spec)

    def exec_module(self, module):
        module.__loader__ = module.__spec__.loader = self.loader   # the real loader from now on
        with quiet_fd2():
            self.loader.exec_module(module)


class _QuietImport(importlib.abc.MetaPathFinder):
    """Finds ``tensorflow`` with the other finders and runs its import under :func:`quiet_fd2`."""

    def find_spec(self, fullname, path=None, target=None):
        if fullname != "tensorflow":
            return None
        with contextlib.suppress(ValueError):
            sys.meta_path.remove(self)       # once is enough, and the finders below must not see us
        for finder in sys.meta_path:
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find else None
            if spec is not None:
                if spec.loader is not None and hasattr(spec.loader, "exec_module"):
                    spec.loader = _QuietLoader(spec.loader)
                return spec
        return None


class _NoRetracingHint(logging.Filter):
    """Drops TensorFlow's "N out of the last M calls to <function ...> triggered tf.function retracing"
    warning: the notebooks build a new search per experiment on purpose, and the hint (a paragraph of
    advice for production code) only clutters a student's output. Every other warning passes."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "triggered tf.function retracing" not in record.getMessage()


def install() -> None:
    """Set ``TF_CPP_MIN_LOG_LEVEL`` and quieten the first ``import tensorflow`` (see the module's doc)."""
    tf_logger = logging.getLogger("tensorflow")
    if not any(isinstance(f, _NoRetracingHint) for f in tf_logger.filters):
        tf_logger.addFilter(_NoRetracingHint())
    level = os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
    if level == "0" or "tensorflow" in sys.modules:
        return
    if not any(isinstance(f, _QuietImport) for f in sys.meta_path):
        sys.meta_path.insert(0, _QuietImport())
