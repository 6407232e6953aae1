import numpy as np
import pytest

from inpaintkit import InpaintkitError, masks


def test_center_box_and_halves_have_the_stated_area():
    m = masks.center_box(64)
    assert m.shape == (64, 64, 1) and m.dtype == np.float32
    assert masks.hole_fraction(m) == 0.25
    assert m[16:48, 16:48].all() and m.sum() == 32 * 32
    assert masks.hole_fraction(masks.center_box(40, frac=0.25)) == pytest.approx(0.0625)
    for side, region in [("left", np.s_[:, :32]), ("right", np.s_[:, 32:]), ("top", np.s_[:32]),
                         ("bottom", np.s_[32:])]:
        h = masks.half(64, side)
        assert h[region].all() and h.sum() == 64 * 32, side


def test_box_is_explicit_and_clipped():
    m = masks.box((20, 30), top=5, left=25, height=4, width=10)
    assert m.shape == (20, 30, 1) and m.sum() == 4 * 5 and m[5:9, 25:].all()


def test_random_boxes_sides_follow_glcic_range():
    rng = np.random.default_rng(0)
    for _ in range(50):
        m = masks.random_boxes(256, rng)
        top, left, h, w = masks.bounding_box(m)
        assert 96 <= h <= 128 and 96 <= w <= 128          # the paper's [96, 128] at 256²
        assert m.sum() == h * w                            # one box
    several = masks.random_boxes(64, 1, n=(3, 3), side_range=(0.1, 0.2))
    assert 0 < several.mean() <= 3 * (13 / 64) ** 2


def test_random_pixels_fraction_is_exact():
    m = masks.random_pixels((50, 40), 3, frac=0.8)
    assert m.sum() == 1600 and set(np.unique(m)) == {0.0, 1.0}


def test_strokes_are_free_form_and_varied():
    ms = masks.batch("strokes", 40, 64, seed=0)
    fr = ms.reshape(40, -1).mean(1)
    assert (fr > 0).all() and 0.05 < fr.mean() < 0.4
    assert len(np.unique(fr)) > 30                          # not all the same
    # not boxes: the hole is much smaller than its bounding box for most strokes
    ratios = [m.sum() / np.prod(masks.bounding_box(m)[2:]) for m in ms]
    assert np.median(ratios) < 0.8


@pytest.mark.parametrize("kind", masks.KINDS)
def test_batch_is_deterministic_and_binary(kind):
    a = masks.batch(kind, 6, 32, seed=7)
    b = masks.batch(kind, 6, 32, seed=7)
    assert a.shape == (6, 32, 32, 1) and a.dtype == np.float32
    assert np.array_equal(a, b)
    assert set(np.unique(a)) <= {0.0, 1.0} and a.sum() > 0
    if kind not in ("center_box",):
        assert not np.array_equal(a, masks.batch(kind, 6, 32, seed=8))


def test_batch_passes_parameters():
    assert masks.hole_fraction(masks.batch("random_pixels", 3, 20, seed=0, frac=0.5)) == 0.5
    assert np.array_equal(masks.batch("half", 2, 8, seed=0, side="top")[1], masks.half(8, "top"))
    with pytest.raises(InpaintkitError, match="params"):
        masks.batch("center_box", 2, 8, seed=0, width=3)


@pytest.mark.parametrize("call, name", [
    (lambda: masks.center_box(64, frac=1.5), "frac"),
    (lambda: masks.center_box(64, frac=0), "frac"),
    (lambda: masks.random_pixels(64, 0, frac=1.0), "frac"),
    (lambda: masks.half(64, "middle"), "side"),
    (lambda: masks.center_box(0), "size"),
    (lambda: masks.center_box("64"), "size"),
    (lambda: masks.random_boxes(64, "seed"), "rng"),
    (lambda: masks.random_boxes(64, 0, side_range=(0.5, 0.2)), "side_range"),
    (lambda: masks.strokes(64, 0, width=(0.1, 2.0)), "width"),
    (lambda: masks.batch("circle", 2, 8), "kind"),
    (lambda: masks.batch("strokes", -1, 8), "n"),
    (lambda: masks.local_box(masks.center_box(16), 32), "patch"),
])
def test_bad_parameters_name_the_argument(call, name):
    with pytest.raises(InpaintkitError, match=rf"^{name}"):
        call()


def test_local_box_centres_on_the_hole_and_stays_inside():
    m = masks.box(64, top=10, left=20, height=8, width=12)         # centre (14, 26)
    assert masks.local_box(m, 32) == (0, 10)                       # top 14 - 16 clipped to 0
    m = masks.box(64, top=40, left=40, height=10, width=10)        # centre (45, 45)
    assert masks.local_box(m, 32) == (29, 29)
    assert masks.local_box(masks.box(64, 60, 60, 4, 4), 32) == (32, 32)   # clipped at the far side
    assert masks.local_box(np.zeros((64, 64, 1), np.float32), 32) == (16, 16)
    # the window holds the whole hole when the hole fits (GLCIC: patch = image side / 2 > hole)
    rng = np.random.default_rng(1)
    for _ in range(20):
        m = masks.random_boxes(64, rng)
        t, l = masks.local_box(m, 32)
        assert m[t:t + 32, l:l + 32].sum() == m.sum()


def test_crop_numpy_and_keras_ops_agree():
    keras = pytest.importorskip("keras")
    rng = np.random.default_rng(0)
    images = rng.random((4, 32, 32, 3)).astype(np.float32)
    ms = masks.batch("random_boxes", 4, 32, seed=2)
    boxes = masks.local_box(ms, 16)
    assert boxes.shape == (4, 2)
    a = masks.crop(images, boxes, 16)
    assert a.shape == (4, 16, 16, 3)
    for i, (t, l) in enumerate(boxes):
        assert np.array_equal(a[i], images[i, t:t + 16, l:l + 16])
    b = masks.crop(keras.ops.convert_to_tensor(images), keras.ops.convert_to_tensor(boxes), 16)
    assert np.array_equal(keras.ops.convert_to_numpy(b), a)
    with pytest.raises(InpaintkitError, match="boxes"):
        masks.crop(images, boxes + 20, 16)
