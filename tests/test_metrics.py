import math

import numpy as np
import pytest

from inpaintkit import InpaintkitError, metrics


def _four_pixel_hole():
    target = np.full((8, 8, 3), 0.5, np.float32)
    mask = np.zeros((8, 8, 1), np.float32)
    mask[2:4, 2:4] = 1                                   # 4 hole pixels
    pred = target + 0.1 * mask                           # constant error 0.1 in the hole
    return pred, target, mask


def test_hole_metrics_by_hand():
    pred, target, mask = _four_pixel_hole()
    assert metrics.hole_l1(pred, target, mask) == pytest.approx(0.1, abs=1e-6)
    assert metrics.hole_psnr(pred, target, mask) == pytest.approx(20.0, abs=1e-4)   # 10 log10(1 / 0.01)
    # whole image: MSE = 0.01 * 4 / 64, L1 = 0.1 * 4 / 64
    assert metrics.psnr(pred, target) == pytest.approx(10 * math.log10(1600), abs=1e-3)
    assert metrics.l1(pred, target) == pytest.approx(0.1 * 4 / 64, abs=1e-6)


def test_hole_psnr_over_the_full_image_is_scikit_image_psnr():
    from skimage.metrics import peak_signal_noise_ratio
    rng = np.random.default_rng(0)
    a, b = rng.random((2, 16, 16, 3)).astype(np.float32)
    full = np.ones((16, 16, 1), np.float32)
    assert metrics.hole_psnr(a, b, full) == pytest.approx(peak_signal_noise_ratio(b, a, data_range=1), abs=1e-4)
    assert metrics.psnr(a, b, data_range=2) == pytest.approx(metrics.psnr(a, b) + 20 * math.log10(2), abs=1e-4)


def test_errors_outside_the_hole_do_not_count():
    pred, target, mask = _four_pixel_hole()
    pred[0, 0] = 0.0
    assert metrics.hole_l1(pred, target, mask) == pytest.approx(0.1, abs=1e-6)
    assert metrics.psnr(pred, target) < 10 * math.log10(1600)


def test_ssim_is_scikit_image_with_a_7x7_window():
    from skimage.metrics import structural_similarity
    rng = np.random.default_rng(1)
    a = rng.random((20, 20, 3)).astype(np.float32)
    b = np.clip(a + 0.1 * rng.standard_normal(a.shape), 0, 1).astype(np.float32)
    assert metrics.ssim(a, a) == pytest.approx(1.0)
    ref = structural_similarity(a, b, channel_axis=-1, data_range=1.0, win_size=7)
    assert metrics.ssim(b, a) == pytest.approx(ref, abs=1e-6)
    assert metrics.ssim_window((64, 64, 3)) == 7
    assert metrics.ssim_window((6, 9, 3)) == 5 and metrics.ssim_window((4, 4, 3)) == 3
    assert 0 < metrics.ssim(b[:5, :5], a[:5, :5]) < 1
    with pytest.raises(InpaintkitError, match="3x3"):
        metrics.ssim(a[:2, :2], a[:2, :2])


def test_batches_average_per_image_values():
    pred, target, mask = _four_pixel_hole()
    pred2 = target + 0.01 * mask                         # hole PSNR 40 dB
    batch = metrics.evaluate(np.stack([pred, pred2]), np.stack([target, target]), np.stack([mask, mask]))
    assert set(batch) == set(metrics.METRICS)
    assert batch["hole_psnr"] == pytest.approx(30.0, abs=1e-3)
    assert batch["hole_l1"] == pytest.approx(0.055, abs=1e-6)
    # a single mask broadcasts over the batch
    assert metrics.hole_psnr(np.stack([pred, pred2]), np.stack([target, target]), mask) == pytest.approx(30.0, abs=1e-3)


def test_edge_cases():
    pred, target, mask = _four_pixel_hole()
    # a perfect fill scores the PSNR of 8-bit quantisation noise, not +inf (a set's mean stays finite)
    assert metrics.psnr(target, target) == pytest.approx(metrics.PSNR_CAP) == pytest.approx(58.92, abs=0.01)
    assert metrics.hole_psnr(target, target, mask) == pytest.approx(metrics.PSNR_CAP)
    assert metrics.hole_psnr(np.stack([target, target]), np.stack([target, target * 0.5]),
                             np.stack([mask, mask])) < metrics.PSNR_CAP
    for fn in (metrics.hole_l1, metrics.hole_psnr):                # no hole: nothing to measure
        with pytest.raises(InpaintkitError, match="mask: expected at least one hole pixel"):
            fn(pred, target, np.zeros_like(mask))
    # an image with an empty hole is skipped in a batch
    both = metrics.hole_l1(np.stack([pred, pred]), np.stack([target, target]), np.stack([mask, 0 * mask]))
    assert both == pytest.approx(0.1, abs=1e-6)


@pytest.mark.parametrize("call, name", [
    (lambda p, t, m: metrics.psnr(p, t[:4]), "pred"),
    (lambda p, t, m: metrics.hole_l1(p, t, m[:4]), "mask"),
    (lambda p, t, m: metrics.l1(p * 300, t), "pred"),
    (lambda p, t, m: metrics.evaluate(p, t, m * 2), "mask"),
    (lambda p, t, m: metrics.table([1, 2]), "results"),
])
def test_bad_inputs(call, name):
    with pytest.raises(InpaintkitError, match=rf"^{name}"):
        call(*_four_pixel_hole())


def test_table_is_markdown():
    pred, target, mask = _four_pixel_hole()
    t = metrics.table({"telea": metrics.evaluate(pred, target, mask), "ns": {"hole_psnr": 1.5}})
    lines = t.splitlines()
    assert lines[0].startswith("| method | hole L1") and lines[1].startswith("|---|")
    assert lines[2].startswith("| telea | 0.100 | 20.000 |")
    assert "| ns | nan | 1.500 |" in lines[3]


def test_compare_evaluates_each_fill_and_adds_sharpness():
    pred, target, mask = _four_pixel_hole()
    target = target + 0.2 * (np.indices((8, 8)).sum(0) % 2)[..., None]      # detail in the hole
    rows = metrics.compare({"a": pred, "real": target}, target, mask)
    assert list(rows) == ["a", "real"]
    assert rows["a"] == {**metrics.evaluate(pred, target, mask),
                         "sharpness": metrics.hole_sharpness(pred, target, mask)}
    assert rows["real"]["sharpness"] == pytest.approx(1.0)
    assert "sharpness" not in metrics.compare({"a": pred}, target, mask, sharpness=False)["a"]
    with pytest.raises(InpaintkitError, match=r"^fills"):
        metrics.compare({}, target, mask)
    with pytest.raises(InpaintkitError, match=r"^pred"):
        metrics.compare({"a": pred[:, :1]}, target, mask)


def test_pivot_puts_one_metric_in_a_grid():
    pred, target, mask = _four_pixel_hole()
    r = metrics.evaluate(pred, target, mask)
    t = metrics.pivot({"telea": {"centre": r, "strokes": {"hole_psnr": 7.0}}, "ns": {"strokes": r}})
    lines = t.splitlines()
    assert lines[0] == "| hole PSNR (dB) ↑ | centre | strokes |"
    assert lines[2] == "| telea | 20.00 | 7.00 |" and lines[3] == "| ns |  | 20.00 |"


def test_hole_sharpness_is_one_for_the_real_image_below_for_blur_zero_for_flat():
    import cv2
    rng = np.random.default_rng(0)
    target = rng.uniform(size=(3, 24, 24, 3)).astype("float32")
    mask = np.zeros((3, 24, 24, 1), np.float32)
    mask[:, 6:18, 6:18] = 1
    assert metrics.hole_sharpness(target, target, mask) == pytest.approx(1.0)
    blurred = np.stack([cv2.GaussianBlur(im, (5, 5), 1.5) for im in target])
    assert metrics.hole_sharpness(blurred, target, mask) < 0.5
    flat = target * (1 - mask) + 0.5 * mask                     # a flat colour inside the hole
    inner = np.zeros_like(mask)
    inner[:, 8:16, 8:16] = 1                                    # away from the hole's edge
    assert metrics.hole_sharpness(flat, target, inner) == 0.0
    assert metrics.hole_sharpness(0.5 * target, target, mask) == pytest.approx(0.5)   # linear in detail
    with pytest.raises(InpaintkitError, match="at least one hole pixel"):
        metrics.hole_sharpness(target, target, np.zeros_like(mask))
    with pytest.raises(InpaintkitError, match="pred"):
        metrics.hole_sharpness(target[:, :20], target, mask)
