"""Input checks that fail early with a message naming the argument.

Every public function of the kit validates what it is given with these helpers,
so a student sees ``mask: expected shape (64, 64, 1) like image, got (32, 32, 1)``
instead of a traceback from deep inside TensorFlow.
"""
from __future__ import annotations

import numpy as np


class InpaintkitError(ValueError):
    """A bad argument or a bad file. The message says which and what was expected."""


def fail(name: str, expected: str, got) -> None:
    raise InpaintkitError(f"{name}: expected {expected}, got {got}")


def describe(x) -> str:
    if isinstance(x, np.ndarray):
        return f"array of shape {x.shape} and dtype {x.dtype}"
    shape = getattr(x, "shape", None)
    if shape is not None:
        return f"{type(x).__name__} of shape {tuple(shape)}"
    return repr(x) if len(repr(x)) < 60 else type(x).__name__


def check_choice(name: str, value, choices) -> None:
    if value not in choices:
        fail(name, "one of " + ", ".join(repr(c) for c in choices), repr(value))


def check_int(name: str, value, minimum: int | None = None, maximum: int | None = None) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        fail(name, "an integer", describe(value))
    if minimum is not None and value < minimum:
        fail(name, f"an integer >= {minimum}", value)
    if maximum is not None and value > maximum:
        fail(name, f"an integer <= {maximum}", value)
    return int(value)


def check_float(name: str, value, minimum: float | None = None, maximum: float | None = None) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        fail(name, "a number", describe(value))
    if not np.isfinite(value):
        fail(name, "a finite number", value)
    if minimum is not None and value < minimum:
        fail(name, f"a number >= {minimum}", value)
    if maximum is not None and value > maximum:
        fail(name, f"a number <= {maximum}", value)
    return float(value)


def check_images(name: str, x, batched: bool | None = None) -> np.ndarray:
    """RGB float images in [0, 1], shape (H, W, 3) or (N, H, W, 3). Returns float32."""
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except Exception:  # pragma: no cover - exotic objects
            fail(name, "an array of RGB images", describe(x))
    if x.ndim not in (3, 4) or x.shape[-1] != 3:
        fail(name, "RGB images of shape (H, W, 3) or (N, H, W, 3)", describe(x))
    if batched is True and x.ndim != 4:
        fail(name, "a batch of shape (N, H, W, 3)", describe(x))
    if batched is False and x.ndim != 3:
        fail(name, "one image of shape (H, W, 3)", describe(x))
    if x.dtype == np.uint8:
        fail(name, "float values in [0, 1] (convert uint8 with inpaintkit.data.to_float)", describe(x))
    x = x.astype(np.float32, copy=False)
    _check_finite(name, x, "values in [0, 1]")
    if x.size and (x.min() < -1e-3 or x.max() > 1 + 1e-3):
        fail(name, "values in [0, 1]", f"values in [{x.min():.3g}, {x.max():.3g}]")
    return x


def _check_finite(name: str, x: np.ndarray, expected: str) -> None:
    """Refuse NaN and inf by name: a range computed around them would look valid."""
    if x.size and not np.isfinite(x).all():
        n_nan, n_inf = int(np.isnan(x).sum()), int(np.isinf(x).sum())
        what = " and ".join(f"{n} {k}" for n, k in ((n_nan, "NaN"), (n_inf, "inf")) if n)
        fail(name, f"{expected} (no NaN or inf)", f"{what} value{'s' if n_nan + n_inf > 1 else ''} "
             f"in an array of shape {x.shape}")


def check_masks(name: str, m, like: np.ndarray | None = None) -> np.ndarray:
    """Masks with 1 = hole, shape (H, W, 1) or (N, H, W, 1), matching ``like`` if given."""
    m = np.asarray(m)
    if m.ndim == 2:
        m = m[..., None]
    if m.ndim == 3 and like is not None and like.ndim == 4 and m.shape[-1] == 1 and m.shape[:2] == like.shape[1:3]:
        m = np.broadcast_to(m[None], like.shape[:3] + (1,))
    if m.ndim not in (3, 4) or m.shape[-1] != 1:
        fail(name, "a mask of shape (H, W), (H, W, 1) or (N, H, W, 1) with 1 = hole", describe(m))
    if like is not None and m.shape[:-1] != like.shape[:-1]:
        fail(name, f"shape {like.shape[:-1] + (1,)} like the image", describe(m))
    m = m.astype(np.float32)
    _check_finite(name, m, "values in {0, 1} (1 = hole)")
    if m.size and (m.min() < 0 or m.max() > 1):
        fail(name, "values in {0, 1} (1 = hole)", f"values in [{m.min():.3g}, {m.max():.3g}]")
    return m


def run_main(main) -> None:
    """Run a script's ``main()`` and exit with its status; an :class:`InpaintkitError` (a bad argument
    or file) ends it with one line, ``error: ...``, and status 1, with no traceback."""
    try:
        status = main()
    except InpaintkitError as e:
        raise SystemExit(f"error: {e}")
    raise SystemExit(status)
