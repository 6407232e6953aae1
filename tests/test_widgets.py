"""Move the notebook-01 widget's controls from Python and check the result follows."""
import numpy as np
import pytest

pytest.importorskip("ipywidgets")

from inpaintkit import InpaintkitError, metrics, widgets  # noqa: E402


@pytest.fixture
def image():
    y, x = np.mgrid[0:32, 0:32] / 32
    stripes = 0.5 + 0.4 * np.sin(12 * x)                  # structure a classical method cannot invent
    return np.stack([stripes, y, 0.5 * (x + y)], -1).astype(np.float32)


def test_moving_the_size_slider_changes_the_result(image):
    w, state = widgets.baseline_explorer(image, show=False)
    assert state["calls"] == 1                            # built = run once, like interact()
    first_mask, first_result, first_psnr = state["mask"], state["result"], state["hole_psnr"]
    assert first_psnr == pytest.approx(metrics.hole_psnr(first_result, image, first_mask))

    state["controls"]["size"].value = 0.7                 # a bigger hole
    assert state["calls"] == 2
    assert state["mask"].sum() > first_mask.sum()
    assert not np.array_equal(state["result"], first_result)
    assert state["hole_psnr"] != first_psnr
    # the pixels outside the hole are still the image's
    keep = state["mask"][..., 0] == 0
    assert np.array_equal(state["result"][keep], image[keep])


def test_position_method_and_kind_controls(image):
    w, state = widgets.baseline_explorer(image, show=False)
    m0 = state["mask"]
    state["controls"]["x"].value = 0.1
    assert state["mask"].sum() == m0.sum() and not np.array_equal(state["mask"], m0)   # same box, moved
    r_telea = state["result"]
    state["controls"]["method"].value = "biharmonic"
    assert np.array_equal(state["mask"], widgets.explorer_mask(image.shape, "box", 0.3, 0.1, 0.5))
    assert not np.array_equal(state["result"], r_telea)
    state["controls"]["kind"].value = "random pixels"
    assert metrics.hole_l1(state["result"], image, state["mask"]) > 0
    assert abs(state["mask"].mean() - 0.3) < 0.01


def test_widget_displays_a_figure_and_validates(image):
    import matplotlib
    matplotlib.use("Agg")
    w, state = widgets.baseline_explorer(image, show=True, kind="strokes")
    assert state["calls"] == 1 and state["mask"].sum() > 0
    with pytest.raises(InpaintkitError, match="^method"):
        widgets.baseline_explorer(image, method="glcic")


def test_remembered_runs_each_method_once_per_image_and_hole(image):
    calls = []

    def fill(im, m, name):
        calls.append(name)
        return im * (1 - m) + (0.25 if name == "a" else 0.75) * m

    fn = widgets.remembered(fill, size=3)
    m1 = np.zeros(image.shape[:2] + (1,), np.float32)
    m1[4:12, 4:12] = 1
    m2 = np.roll(m1, 5, axis=1)
    assert not fn.has(image, m1, "a")
    first = fn(image, m1, "a")
    assert fn.has(image, m1, "a") and not fn.has(image, m2, "a")
    first[:] = 0                                     # a caller's change never reaches the memo
    again = fn(image, m1, "a")
    assert calls == ["a"] and np.allclose(again[6, 6], 0.25)
    fn(image, m1, "b"), fn(image, m2, "a")
    assert calls == ["a", "b", "a"]                  # another method or mask: computed
    fn(image, m1, "a")                               # used again: now the most recent
    fn(image * 0.5, m1, "a")                         # another image: computed; the least recently used goes
    assert calls == ["a", "b", "a", "a"] and len(fn.memo) == 3
    fn(image, m1, "a")
    assert len(calls) == 4                           # kept: it was used after "b" was made
    fn(image, m1, "b")
    assert calls[-1] == "b" and len(calls) == 5      # dropped (size 3)
    with pytest.raises(InpaintkitError, match="size"):
        widgets.remembered(fill, size=0)
