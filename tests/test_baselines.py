"""Classical baselines, blending and the method registry."""
import numpy as np
import pytest

from inpaintkit import InpaintkitError, baselines, blending, masks, methods, metrics


def _ramp(h=48, w=48):
    """A smooth image: a linear ramp per channel (harmonic and biharmonic)."""
    y, x = np.mgrid[0:h, 0:w] / max(h, w)
    return np.stack([x, 1 - y, 0.5 * (x + y)], -1).astype(np.float32)


def _photo(size=64):
    from skimage import data, transform
    return transform.resize(data.astronaut()[30:286, 120:376], (size, size), anti_aliasing=True).astype(np.float32)


FNS = [baselines.telea, baselines.navier_stokes, baselines.biharmonic]


@pytest.mark.parametrize("fn", FNS, ids=lambda f: f.__name__)
def test_pixels_outside_the_hole_are_exact_and_the_hole_is_filled(fn):
    img = _photo()
    m = masks.center_box(64)
    out = fn(img, m)
    assert out.shape == img.shape and out.dtype == np.float32
    assert np.array_equal(out[m[..., 0] == 0], img[m[..., 0] == 0])
    assert not np.allclose(out[m[..., 0] == 1], 0)
    # a batch gives the same as one image at a time
    batch = fn(np.stack([img, img[::-1]]), np.stack([m, masks.half(64, "left")]))
    assert np.array_equal(batch[0], out)
    assert np.array_equal(batch[1], fn(img[::-1], masks.half(64, "left")))
    assert np.array_equal(fn(img, np.zeros_like(m)), img)        # empty mask: unchanged


@pytest.mark.parametrize("fn, tol", [(baselines.telea, 0.05), (baselines.navier_stokes, 0.05),
                                     (baselines.biharmonic, 0.002)], ids=["telea", "ns", "biharmonic"])
def test_smooth_images_are_filled_well(fn, tol):
    img = _ramp()
    m = masks.box(48, 16, 16, 14, 14)
    out = fn(img, m)
    assert metrics.hole_l1(out, img, m) < tol
    # ... and much better than the best constant fill (the hole's true mean colour)
    best_constant = np.broadcast_to(img[m[..., 0] == 1].mean(0), img.shape)
    assert metrics.hole_l1(out, img, m) < 0.5 * metrics.hole_l1(best_constant, img, m)


def test_baselines_reject_bad_input():
    img = _photo(32)
    with pytest.raises(InpaintkitError, match="^mask"):
        baselines.telea(img, masks.center_box(16))
    with pytest.raises(InpaintkitError, match="^image"):
        baselines.biharmonic((img * 255).astype(np.uint8), masks.center_box(32))
    with pytest.raises(InpaintkitError, match="^radius"):
        baselines.navier_stokes(img, masks.center_box(32), radius=0)


# --------------------------------------------------------------------------- blending
def test_composite_is_the_formula():
    rng = np.random.default_rng(0)
    fill, img = rng.random((2, 16, 16, 3)).astype(np.float32)
    m = masks.center_box(16)
    out = blending.composite(fill, img, m)
    assert np.allclose(out, img * (1 - m) + fill * m)
    assert np.array_equal(out[4:12, 4:12], fill[4:12, 4:12]) and np.array_equal(out[0], img[0])


@pytest.mark.parametrize("mask", [masks.center_box(64), masks.half(64, "left"), masks.box(64, 0, 0, 20, 20),
                                  masks.box(64, 30, 50, 20, 14), masks.random_boxes(64, 3)],
                         ids=["centre", "left-half", "corner", "right-border", "random"])
def test_poisson_blend_removes_a_constant_offset(mask):
    img = _photo() * 0.8                                  # room for the offset without clipping
    fill = img + 0.15
    out = blending.poisson_blend(fill, img, mask)
    hole = mask[..., 0] == 1
    assert np.array_equal(out[~hole], img[~hole])         # the boundary and everything outside kept
    assert np.abs(out - img)[hole].mean() < 0.012         # 8-bit OpenCV: ~1/255 error, offset gone


def test_poisson_blend_ignores_what_the_image_has_in_the_hole():
    img = _photo() * 0.8
    m = masks.center_box(64)
    garbage = np.where(m == 1, np.random.default_rng(0).random(img.shape), img).astype(np.float32)
    a = blending.poisson_blend(img + 0.1, img, m)
    b = blending.poisson_blend(img + 0.1, garbage, m)
    assert np.array_equal(a, b)


def test_glcic_postprocess_keeps_the_outside_and_improves_a_shifted_fill():
    img = _photo() * 0.8
    m = masks.random_boxes(64, 5)
    fill = img + 0.15
    hole = m[..., 0] == 1
    for dilate in (0, 4):
        out = blending.glcic_postprocess(fill, img, m, dilate=dilate)
        assert np.array_equal(out[~hole], img[~hole])
        assert np.abs(out - img)[hole].mean() < 0.6 * 0.15
    batch = blending.poisson_blend(np.stack([fill, fill]), np.stack([img, img]), np.stack([m, 0 * m]))
    assert np.array_equal(batch[1], img)                  # empty hole: unchanged


def test_blending_rejects_mismatched_shapes():
    img = _photo(32)
    with pytest.raises(InpaintkitError, match="^fill"):
        blending.poisson_blend(img[:16], img, masks.center_box(32))
    with pytest.raises(InpaintkitError, match="^mask"):
        blending.composite(img, img, masks.center_box(16))


# --------------------------------------------------------------------------- registry
def test_registry_runs_classical_methods_and_keeps_the_outside():
    img = _photo(32)
    m = masks.strokes(32, 4)
    for name in methods.CLASSICAL:
        out = methods.inpaint(img, m, name)
        assert np.array_equal(out[m[..., 0] == 0], img[m[..., 0] == 0])
        assert np.array_equal(methods.inpaint(img, np.zeros_like(m), name), img)
    assert set(methods.CLASSICAL) <= set(methods.available())
    assert {"glcic", "semantic", "guided", "ilo"} <= set(methods.METHODS)


def test_registry_errors_are_clear():
    img, m = _photo(32), masks.center_box(32)
    with pytest.raises(InpaintkitError, match="^method: expected one of telea"):
        methods.inpaint(img, m, "magic")
    with pytest.raises(InpaintkitError, match="^weights"):
        methods.inpaint(img, m, "telea", weights="x.weights.h5")
    methods.register("not_there", "inpaintkit.no_such_module:inpaint_image")
    try:
        with pytest.raises(InpaintkitError, match="method 'not_there' is not available in this version"):
            methods.inpaint(img, m, "not_there")
    finally:
        del methods.METHODS["not_there"]


def test_registry_composites_a_learned_method_and_passes_seed():
    calls = {}

    def fake(image, mask, *, weights=None, seed=0):
        calls.update(weights=weights, seed=seed)
        return np.ones_like(image)                         # a method that paints everything white

    methods.register("fake", fake)
    try:
        img, m = _photo(16), masks.center_box(16)
        out = methods.inpaint(img, m, "fake", seed=3)
        assert calls == {"weights": None, "seed": 3}
        assert np.array_equal(out, blending.composite(np.ones_like(img), img, m))
    finally:
        del methods.METHODS["fake"]


def test_mean_fill_paints_the_known_mean_colour():
    img = _photo(32)
    m = masks.center_box(32)
    out = baselines.mean_fill(img, m)
    known = img[m[..., 0] == 0].mean(0)
    assert np.allclose(out[16, 16], known) and np.array_equal(out[0], img[0])


@pytest.mark.parametrize("fn", FNS, ids=lambda f: f.__name__)
def test_a_mask_with_no_known_pixel_is_refused(fn):
    img = _photo(16)
    with pytest.raises(InpaintkitError, match="^mask: expected at least one known pixel"):
        fn(img, np.ones((16, 16, 1), np.float32))
