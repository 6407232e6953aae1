"""Self-checks for the notebooks' exercises: one printed line, ✔, ✘ or "not yet", never an exception.

Every exercise in ``notebooks/src/`` marks its reference solution the nbgrader way::

    mean_pixel = None                    # your answer: the mean pixel, shape (3,)
    ### BEGIN SOLUTION
    mean_pixel = x_train.mean(axis=(0, 1, 2), dtype=np.float64)
    ### END SOLUTION
    check("mean pixel matches data.mean_pixel", mean_pixel,
          lambda m: np.allclose(m, data.mean_pixel(x_train), atol=1e-4), "accumulate in float64")

``scripts/build_notebooks.py`` writes the instructor copy (``notebooks/NN_*.ipynb``, markers kept) and
a student copy (``notebooks/student/NN_*.ipynb``, the marked lines replaced by ``# YOUR CODE HERE``).
In the student copy the answer stays at its placeholder ``None``, and :func:`check` says "not yet"
instead of failing, so the notebook still runs top to bottom.
"""
from __future__ import annotations

from typing import Any, Callable

PASS, FAIL, NOT_YET = "✔", "✘", "… not yet:"


def unanswered(answer: Any) -> bool:
    """True if ``answer`` is the placeholder ``None``, or a tuple/list holding one."""
    if answer is None:
        return True
    if isinstance(answer, (tuple, list)):
        return any(a is None for a in answer)
    return False


class Verdict:
    """What :func:`check` returns: ``ok`` is True, False or None (not yet); truthy only when passed.

    A notebook shows nothing for it (the printed line is the feedback), so a ``check(...)`` that ends a
    cell does not leave a stray ``True`` under it."""

    __slots__ = ("ok",)

    def __init__(self, ok: bool | None):
        self.ok = ok

    def __bool__(self) -> bool:
        return self.ok is True

    def __eq__(self, other) -> bool:
        return self.ok == (other.ok if isinstance(other, Verdict) else other)

    def __hash__(self) -> int:
        return hash(self.ok)

    def __repr__(self) -> str:
        return f"Verdict(ok={self.ok})"

    def _ipython_display_(self) -> None:      # IPython: display nothing
        pass


def check(name: str, answer: Any, test: Callable[[Any], Any] | Any, hint: str = "") -> Verdict:
    """Check a student's ``answer`` and print one line.

    ``test`` is a function of the answer (called only once there is an answer) or a plain truth value.
    Prints ``✔ name``, ``✘ name: hint`` (also when the test raises: the error is shown), or
    ``… not yet: name`` when the answer is still ``None``. Returns a :class:`Verdict` whose ``ok`` is
    True, False or None (not yet).
    """
    if unanswered(answer):
        print(f"{NOT_YET} {name}")
        return Verdict(None)
    try:
        ok = bool(test(answer) if callable(test) else test)
        problem = hint
    except Exception as err:                        # a wrong answer may have the wrong type or shape
        ok, problem = False, f"{type(err).__name__}: {err}".strip()
    print(f"{PASS} {name}" if ok else f"{FAIL} {name}" + (f": {problem}" if problem else ""))
    return Verdict(ok)
