"""Fixed evaluation masks, method comparison and the Fréchet distance."""
import numpy as np
import pytest

from inpaintkit import baselines, evaluation, googlenet
from inpaintkit.errors import InpaintkitError


def test_eval_masks_are_fixed():
    a = evaluation.eval_masks(3, 32)
    b = evaluation.eval_masks(3, 32)
    assert list(a) == list(evaluation.KINDS)
    for k in a:
        assert a[k].shape == (3, 32, 32, 1)
        np.testing.assert_array_equal(a[k], b[k])
        assert 0 < a[k].mean() < 1
    assert a["center"].mean() == pytest.approx(0.25)
    assert a["half"][:, :, :16].min() == 1 and a["half"][:, :, 16:].max() == 0      # the left half


def test_frechet_distance():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 8))
    x -= x.mean(0)
    assert evaluation.frechet_distance(x, x) == pytest.approx(0.0, abs=1e-6)
    shifted = x + 3.0
    assert evaluation.frechet_distance(x, shifted) == pytest.approx(8 * 9.0, rel=1e-6)
    wider = x * 2.0                                    # same mean, variance 4x: trace term 8 * (1 + 4 - 4)
    assert evaluation.frechet_distance(x, wider) == pytest.approx(np.trace(np.cov(x, rowvar=False)), rel=1e-6)
    with pytest.raises(InpaintkitError, match="features"):
        evaluation.frechet_distance(x, x[:, :4])


def test_compare_methods():
    rng = np.random.default_rng(0)
    images = np.clip(rng.normal(0.5, 0.05, (3, 32, 32, 3)), 0, 1).astype(np.float32)
    masks = evaluation.eval_masks(3, 32, kinds=("center", "strokes"))
    methods = {"telea": baselines.telea,
               "grey": evaluation.batched(lambda x, m: np.full_like(x, 0.5))}
    res = evaluation.compare(methods, images, masks, verbose=False)
    assert set(res["metrics"]) == {"center", "strokes"}
    for kind in res["outputs"]:
        for name, out in res["outputs"][kind].items():
            known = masks[kind][..., 0] == 0
            np.testing.assert_array_equal(out[known], images[known])
    # a grey fill of a nearly grey image beats nothing, and the table has both rows
    assert res["metrics"]["center"]["grey"]["hole_psnr"] > 20
    assert "| grey |" in evaluation.table(res)
    net = googlenet.googlenet(32, 4, width=0.25)
    fd = evaluation.frechet_table(res, images, net)
    assert set(fd["center"]) == {"telea", "grey"} and all(v >= 0 for v in fd["center"].values())
    with pytest.raises(InpaintkitError, match="method"):
        evaluation.compare({"bad": evaluation.batched(lambda x, m: x[:1])}, images, masks, verbose=False)


def test_paired_difference_bootstrap_interval():
    rng = np.random.default_rng(0)
    b = rng.normal(20, 3, 400)
    better = evaluation.paired_difference(b + 0.5 + rng.normal(0, 0.2, 400), b)
    assert better["n"] == 400 and better["mean"] == pytest.approx(0.5, abs=0.05)
    assert 0 < better["ci95"][0] < better["mean"] < better["ci95"][1] < 1      # clearly better
    tie = evaluation.paired_difference(b + rng.normal(0, 1, 400), b)
    assert tie["ci95"][0] < 0 < tie["ci95"][1]                                 # cannot tell them apart
    assert evaluation.paired_difference(b + 1, b, seed=1) == evaluation.paired_difference(b + 1, b, seed=1)
    with pytest.raises(InpaintkitError, match=r"^a, b"):
        evaluation.paired_difference(b, b[:10])
    with pytest.raises(InpaintkitError, match=r"^resamples"):
        evaluation.paired_difference(b, b, resamples=5)


def test_where_decided_splits_the_mean_at_near_perfect_images():
    a = np.array([30.0, 32.0, 45.0, 58.9])           # method A, per-image PSNR
    b = np.array([29.0, 31.0, 58.9, 41.0])           # method B: exact on the third image
    w = evaluation.where_decided(a, b)
    assert w["n_near_perfect"] == 2 and w["n_rest"] == 2
    assert w["mean_rest"] == pytest.approx(1.0) and w["mean_near_perfect"] == pytest.approx((-13.9 + 17.9) / 2)
    assert w["mean_capped"] == pytest.approx((1 + 1 + 0 + 0) / 4)   # both near-perfect images count as ties
    assert (w["n_near_perfect"] * w["mean_near_perfect"] + w["n_rest"] * w["mean_rest"]) / 4 == pytest.approx((a - b).mean())
    assert evaluation.where_decided(a[:2], b[:2])["mean_near_perfect"] is None
    with pytest.raises(InpaintkitError, match=r"^a, b"):
        evaluation.where_decided(a, b[:3])
