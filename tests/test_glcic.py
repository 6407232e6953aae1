"""GLCIC (Iizuka et al. 2017): networks, the three phases, checkpoints, inference."""
import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

from inpaintkit import backend, masks as masklib
from inpaintkit.errors import InpaintkitError
from inpaintkit.glcic import completion as cm, discriminators as dm, inference, phases
from inpaintkit.training import TrainingDiverged


def smooth_images(n, size, seed=0):
    """Smooth colour gradients: easy to complete, so a loss must fall quickly."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:size, 0:size] / size
    a = rng.uniform(0.1, 0.9, (n, 1, 1, 3))
    b = rng.uniform(-0.4, 0.4, (n, 1, 1, 3))
    c = rng.uniform(-0.4, 0.4, (n, 1, 1, 3))
    return np.clip(a + b * yy[None, ..., None] + c * xx[None, ..., None], 0, 1).astype("float32")


@pytest.fixture(scope="module")
def data():
    return smooth_images(32, 32)


def test_full_width_has_the_papers_6_07_million_parameters():
    net = cm.completion_network(256, 1.0)
    trainable = sum(int(np.prod(w.shape)) for w in net.trainable_weights)
    assert trainable == 6_072_131
    assert round(trainable / 1e6, 2) == 6.07
    # 17 layers of the paper's table: 15 convolutions (4 dilated) + 2 transposed
    convs = [l for l in net.layers if isinstance(l, (keras.layers.Conv2D, keras.layers.Conv2DTranspose))]
    assert len(convs) == 17
    assert [l.dilation_rate[0] for l in convs if l.dilation_rate[0] > 1] == [2, 4, 8, 16]
    assert sum(isinstance(l, keras.layers.Conv2DTranspose) for l in convs) == 2
    assert cm.conv_macs(net, 256) / 1e9 == pytest.approx(32.6, abs=0.1)   # ≈ 65 GFLOP per 256² image


@pytest.mark.parametrize("size", [16, 32, 48])
def test_output_shape_and_range(size):
    net = cm.completion_network(size, 0.125)
    x = cm.prepare_input(np.random.rand(2, size, size, 3), np.ones((2, size, size, 1)))
    out = backend.to_numpy(net(x))
    assert out.shape == (2, size, size, 3)
    assert out.min() >= 0 and out.max() <= 1


def test_fully_convolutional_any_multiple_of_4():
    net = cm.completion_network(None, 0.125)
    for h, w in [(20, 28), (36, 12)]:
        assert backend.to_numpy(net(np.zeros((1, h, w, 4), "float32"))).shape == (1, h, w, 3)


def test_prepare_input_fills_the_hole_with_the_mean_pixel():
    img = np.random.rand(1, 8, 8, 3).astype("float32")
    m = np.zeros((1, 8, 8, 1), "float32")
    m[:, 2:5, 3:6] = 1
    x = backend.to_numpy(cm.prepare_input(img, m, (0.1, 0.2, 0.3)))
    assert x.shape == (1, 8, 8, 4)
    np.testing.assert_allclose(x[0, 3, 4], [0.1, 0.2, 0.3, 1.0], atol=1e-6)
    np.testing.assert_allclose(x[0, 0, 0, :3], img[0, 0, 0])
    assert x[0, 0, 0, 3] == 0


@pytest.mark.parametrize("size,global_convs,local_convs", [(256, 6, 5), (128, 5, 4), (64, 4, 3), (32, 3, 2)])
def test_discriminator_conv_count_follows_size(size, global_convs, local_convs):
    assert dm.count_stride2_convs(dm.global_discriminator(size, 0.0625)) == global_convs
    assert dm.count_stride2_convs(dm.local_discriminator(size // 2, 0.0625)) == local_convs
    d = dm.discriminator(size, 0.0625)
    out = d([np.zeros((2, size, size, 3), "float32"), np.zeros((2, size // 2, size // 2, 3), "float32")])
    assert tuple(out.shape) == (2, 1)


def test_crop_is_the_window_at_the_corner():
    x = np.random.rand(2, 16, 16, 3).astype("float32")
    p = backend.to_numpy(dm.crop(x, np.array([[0, 8], [5, 3]]), 8))
    np.testing.assert_array_equal(p[0], x[0, 0:8, 8:16])
    np.testing.assert_array_equal(p[1], x[1, 5:13, 3:11])


def test_holes_lie_inside_their_local_patch():
    masks, corners = phases.sample_holes(50, 64, 3)
    assert masks.shape == (50, 64, 64, 1) and corners.shape == (50, 2)
    for m, (y, x) in zip(masks, corners):
        ys, xs = np.nonzero(m[..., 0])
        assert 24 <= np.ptp(ys) + 1 <= 32 and 24 <= np.ptp(xs) + 1 <= 32      # sides in [3/8, 1/2] of 64
        assert 0 <= y <= 32 and 0 <= x <= 32
        assert y <= ys.min() and ys.max() < y + 32 and x <= xs.min() and xs.max() < x + 32
    again, _ = phases.sample_holes(50, 64, 3)
    np.testing.assert_array_equal(masks, again)


def test_mixed_holes_are_boxes_and_strokes_with_windows_on_them():
    masks, corners = phases.sample_holes(40, 64, 5, kind="mixed")
    assert masks.shape == (40, 64, 64, 1) and corners.shape == (40, 2)
    boxes = 0
    for m, (y, x) in zip(masks, corners):
        ys, xs = np.nonzero(m[..., 0])
        assert ys.size > 0
        full = (np.ptp(ys) + 1) * (np.ptp(xs) + 1) == ys.size      # a filled rectangle
        boxes += full
        assert 0 <= y <= 32 and 0 <= x <= 32
        if full:
            assert y <= ys.min() and ys.max() < y + 32
        else:       # strokes can outgrow the window: it is centred on their bounding box
            cy = (ys.min() + ys.max() + 1) / 2
            assert abs((y + 16) - cy) <= 1 or y in (0, 32)
    assert 8 <= boxes <= 32                  # about half of each
    np.testing.assert_array_equal(masks, phases.sample_holes(40, 64, 5, kind="mixed")[0])
    with pytest.raises(InpaintkitError, match="kind"):
        phases.sample_holes(2, 64, 0, kind="stroke")


def test_trainer_draws_the_hole_kind_it_was_given(data):
    t = phases.Phase1(cm.completion_network(32, 0.125), data, batch_size=8, show=False, masks="mixed")
    _, m, corners, _ = t.batch(3)
    np.testing.assert_array_equal(corners, masklib.local_box(m, 16))
    with pytest.raises(InpaintkitError, match="masks"):
        phases.Phase1(cm.completion_network(32, 0.125), data, show=False, masks="free")


def test_annealed_learning_rate_reaches_zero(data):
    C = cm.completion_network(32, 0.125)
    t = phases.Phase1(C, data, batch_size=4, show=False, lr_decay_steps=1)
    t.one_step(1)                       # step 1 at the full rate, then the cosine reaches 0
    before = [backend.to_numpy(w).copy() for w in C.trainable_weights]
    t.one_step(2)
    for a, b in zip(before, C.trainable_weights):
        np.testing.assert_array_equal(a, backend.to_numpy(b))
    with pytest.raises(InpaintkitError, match="lr_decay_steps"):
        phases.Phase1(C, data, show=False, lr_decay_steps=0)


def test_discriminator_sees_the_composite(data):
    C, D = cm.completion_network(32, 0.125), dm.discriminator(32, 0.0625)
    t = phases.Phase2(C, D, data, batch_size=4, show=False)
    seen = {}
    judge = t.judge

    def spy(real, fake, corners_real, corners_fake):
        seen.update(real=backend.to_numpy(real), fake=backend.to_numpy(fake))
        return judge(real, fake, corners_real, corners_fake)

    t.judge = spy
    x, m, corners, corners_real = t.batch(0)
    t.d_loss(x, m, corners, corners_real)
    raw = backend.to_numpy(C(cm.prepare_input(x, m, t.mean_pixel), training=False))
    np.testing.assert_allclose(seen["fake"], raw * m + x * (1 - m), atol=1e-5)
    np.testing.assert_array_equal(seen["fake"][m[..., 0] == 0], x[m[..., 0] == 0])   # real pixels outside
    np.testing.assert_array_equal(seen["real"], x)
    np.testing.assert_allclose(backend.to_numpy(cm.composite(raw, x, m)), seen["fake"], atol=1e-6)


def test_each_phase_runs_and_reports(data, tmp_path):
    C, D = cm.completion_network(32, 0.125), dm.discriminator(32, 0.0625)
    kw = dict(batch_size=4, show=False)
    h1 = phases.Phase1(C, data, **kw).run(3)
    assert len(h1) == 3 and {"loss", "hole_mse"} <= set(h1[-1])
    t2 = phases.Phase2(C, D, data, **kw)
    h2 = t2.run(2)
    assert {"loss", "d_acc_real", "d_acc_fake"} <= set(h2[-1])
    acc = t2.d_accuracy(data[:4])
    assert set(acc) == {"real", "fake"} and 0 <= acc["real"] <= 1
    t3 = phases.Phase3(C, D, data, **kw)
    h3 = t3.run(2, sample_every=1)
    assert {"mse", "gan", "d_loss", "d_acc_real", "d_acc_fake"} <= set(h3[-1])
    assert len(t3.samples) >= 2 and t3.samples[0][1].shape == (8, 32, 32, 3)


def test_context_pad_training_sees_mirrored_batches_and_inference_follows_the_network(data):
    with pytest.raises(InpaintkitError, match="completion: expected a network for 40"):
        phases.Phase1(cm.completion_network(32, 0.125), data, show=False, context_pad=4)
    C, D = cm.completion_network(40, 0.125), dm.discriminator(32, 0.0625)
    t = phases.Phase1(C, data, batch_size=4, show=False, context_pad=4)
    x, m, _, _ = t.batch(0)
    assert x.shape == (4, 40, 40, 3) and m.shape == (4, 40, 40, 1)
    np.testing.assert_array_equal(x[:, :4], x[:, 8:4:-1])                 # a mirror, not a frame
    np.testing.assert_array_equal(x[:, 4:36, 4:36], data[np.random.default_rng((0, 0)).integers(0, 32, 4)])
    out, xc, mc = t.fill(x, m, training=False)
    assert tuple(out.shape) == (4, 32, 32, 3) and tuple(mc.shape) == (4, 32, 32, 1)
    np.testing.assert_allclose(backend.to_numpy(out), inference.complete(C, xc, mc, context_pad=4), atol=1e-4)
    assert C.context_pad == 4 and len(t.run(2)) == 2
    assert len(phases.Phase3(C, D, data, batch_size=4, show=False, context_pad=4).run(1)) == 1
    # inference mirrors as the network was trained unless told otherwise
    C2 = cm.completion_network(None, 0.125, context_pad=4)
    C2.set_weights(C.get_weights())
    np.testing.assert_allclose(inference.complete(C2, data[:2], m[:2, 4:36, 4:36]),
                               inference.complete(C, data[:2], m[:2, 4:36, 4:36]), atol=1e-4)
    assert not np.allclose(inference.complete(C2, data[:2], m[:2, 4:36, 4:36], context_pad=0),
                           inference.complete(C2, data[:2], m[:2, 4:36, 4:36]))
    assert cm.completion_network(None, 0.125, context_pad=6).context_pad == 6
    for bad, msg in ((3, "even"), (-2, "context_pad"), (32, "context_pad")):
        with pytest.raises(InpaintkitError, match=msg):
            phases.Phase1(cm.completion_network(None, 0.125), data, show=False, context_pad=bad)
    with pytest.raises(InpaintkitError, match="context_pad: expected an even number"):
        phases.precise_batchnorm(C2, data, C2.mean_pixel, 1, 4, context_pad=3)


def test_self_ensemble_averages_c_on_the_image_and_its_mirror_image():
    net = cm.completion_network(None, 0.125)
    x = smooth_images(3, 16)
    m = np.zeros((3, 16, 16, 1), "float32")
    m[:, 2:9, 1:7] = 1
    both = inference.complete(net, x, m, self_ensemble=True)
    mirrored = inference.complete(net, x[:, :, ::-1], m[:, :, ::-1])[:, :, ::-1]
    np.testing.assert_allclose(both, 0.5 * (inference.complete(net, x, m) + mirrored), atol=1e-5)
    ens = cm.completion_network(None, 0.125, self_ensemble=True)
    ens.set_weights(net.get_weights())
    np.testing.assert_allclose(inference.complete(ens, x, m), both, atol=1e-4)     # the network's default
    with pytest.raises(InpaintkitError, match="self_ensemble: expected True or False"):
        inference.complete(net, x, m, self_ensemble="yes")


def test_inpaint_image_takes_a_shipped_name_or_a_file(tmp_path):
    if not inference.shipped():
        pytest.skip("no shipped GLCIC weights")
    name = inference.shipped()[0]
    img = smooth_images(1, 40)[0]
    m = np.zeros((40, 40, 1), "float32")
    m[10:25, 12:30] = 1
    by_name = inference.inpaint_image(img, m, weights=name)
    net = inference.load_shipped(name)
    np.testing.assert_allclose(by_name, inference.inpaint(img, m, model=net), atol=1e-5)
    with pytest.raises(InpaintkitError, match="weights"):
        inference.inpaint_image(img, m, weights=str(tmp_path / "missing.weights.h5"))


def test_complete_runs_in_bounded_batches():
    net = cm.completion_network(None, 0.125)
    x = smooth_images(5, 16)
    m = np.zeros((5, 16, 16, 1), "float32")
    m[:, 4:10, 4:10] = 1
    np.testing.assert_allclose(inference.complete(net, x, m, batch_size=2), inference.complete(net, x, m),
                               atol=1e-4)       # other batch shapes may take other oneDNN kernels


def test_phase1_frozen_discriminator_untouched_in_phase2(data):
    C, D = cm.completion_network(32, 0.125), dm.discriminator(32, 0.0625)
    before = [backend.to_numpy(w).copy() for w in C.weights]
    phases.Phase2(C, D, data, batch_size=4, show=False).run(2)
    for b, w in zip(before, C.weights):
        np.testing.assert_array_equal(b, backend.to_numpy(w))


def test_ema_ships_the_moving_average_of_c_and_resumes_with_it(data, tmp_path):
    beta = 0.5
    C = cm.completion_network(32, 0.125)
    t = phases.Phase3(C, None, data, batch_size=4, lr=1e-2, ema=beta, show=False)
    iterates = []
    for step in range(1, 4):
        t.one_step(step)
        iterates.append([backend.to_numpy(w).copy() for w in C.trainable_weights])
    average = iterates[0]                       # the first update starts the average
    for it in iterates[1:]:
        average = [beta * a + (1 - beta) * w for a, w in zip(average, it)]
    assert t.use_average()
    for a, w in zip(average, C.trainable_weights):
        np.testing.assert_allclose(backend.to_numpy(w), a, rtol=1e-5, atol=1e-6)
    assert np.abs(iterates[-1][0] - average[0]).max() > 1e-4     # not the last iterate

    def trained(until):                         # an interrupted + resumed run averages the same
        net, run = cm.completion_network(32, 0.125), tmp_path / f"p1_{until}"
        keras.utils.set_random_seed(0)
        init = cm.completion_network(32, 0.125)
        net.set_weights(init.get_weights())
        for u in (until, None):
            tr = phases.Phase1(net, data, batch_size=4, show=False, run_dir=run, ema=0.9)
            tr.run(4, checkpoint_every=1, until=u)
        assert tr.use_average()
        return [backend.to_numpy(w) for w in net.trainable_weights]

    for a, b in zip(trained(2), trained(4)):
        np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-6)
    plain = phases.Phase1(cm.completion_network(32, 0.125), data, batch_size=4, show=False)
    assert not plain.use_average()
    with pytest.raises(InpaintkitError, match="ema"):
        phases.Phase1(cm.completion_network(32, 0.125), data, show=False, ema=1.5)


def test_checkpoint_resume_continues_from_saved_step(data, tmp_path):
    run = tmp_path / "p1"
    t = phases.Phase1(cm.completion_network(32, 0.125), data, batch_size=4, show=False, run_dir=run)
    h = t.run(6, checkpoint_every=2, until=3)          # "interrupted" after 3 steps
    assert len(h) == 3
    saved = [backend.to_numpy(w).copy() for w in t.C.weights]
    fresh = cm.completion_network(32, 0.125)
    t2 = phases.Phase1(fresh, data, batch_size=4, show=False, run_dir=run)
    loop = t2.loop(6)
    assert loop.step == 3
    for a, b in zip(saved, fresh.weights):
        np.testing.assert_array_equal(a, backend.to_numpy(b))
    h2 = t2.run(6)
    assert [r["step"] for r in h2] == [1, 2, 3, 4, 5, 6]
    assert h2[:3] == h
    assert (run / "logs" / "scalars.csv").exists()


def test_nan_weights_raise_training_diverged(data):
    C = cm.completion_network(32, 0.125)
    w = C.get_layer("conv1").kernel
    w.assign(np.full(w.shape, np.nan, "float32"))
    with pytest.raises(TrainingDiverged, match="became nan"):
        phases.Phase1(C, data, batch_size=4, show=False).run(2)


def test_bad_inputs_are_named():
    with pytest.raises(InpaintkitError, match="size"):
        cm.completion_network(30)
    with pytest.raises(InpaintkitError, match="width"):
        cm.completion_network(32, 0)
    with pytest.raises(InpaintkitError, match="images"):
        phases.Phase1(cm.completion_network(None, 0.125), np.zeros((4, 30, 30, 3), "float32"), show=False)
    with pytest.raises(InpaintkitError, match="batch_size"):
        phases.Phase1(cm.completion_network(None, 0.125), np.zeros((4, 32, 32, 3), "float32"), batch_size=0)
    net = cm.completion_network(None, 0.125)
    with pytest.raises(InpaintkitError, match="mask"):
        inference.inpaint(np.zeros((16, 16, 3), "float32"), np.zeros((8, 8, 1), "float32"), model=net)
    with pytest.raises(InpaintkitError, match="image"):
        inference.inpaint(np.zeros((16, 16), "float32"), np.zeros((16, 16, 1), "float32"), model=net)


@pytest.mark.parametrize("postprocess", [False, True])
def test_inpaint_keeps_known_pixels_at_any_size(postprocess):
    net = cm.completion_network(None, 0.125)
    rng = np.random.default_rng(0)
    img = rng.uniform(size=(30, 45, 3)).astype("float32")
    m = np.zeros((30, 45, 1), "float32")
    m[8:20, 10:30] = 1
    out = inference.inpaint(img, m, model=net, postprocess=postprocess)
    assert out.shape == img.shape and out.dtype == np.float32
    np.testing.assert_array_equal(out[m[..., 0] == 0], img[m[..., 0] == 0])
    assert np.abs(out[m[..., 0] == 1] - img[m[..., 0] == 1]).mean() > 0.01   # the hole was filled
    batch = inference.inpaint(np.stack([img, img]), np.stack([m, m]), model=net, postprocess=False)
    assert batch.shape == (2, 30, 45, 3)


TORCH_SCRIPT = textwrap.dedent("""
    import json, sys, numpy as np
    sys.path.insert(0, {root!r})
    from tests.test_glcic import smooth_images
    from inpaintkit import backend
    from inpaintkit.glcic import completion as cm, phases
    backend.seed(0)
    x = smooth_images(4, 16)
    t = phases.Phase1(cm.completion_network(16, 0.125), x, batch_size=4, lr=3e-3, show=False)
    t.batch = lambda step: (x, t.val_masks[:4], None, None)        # one tiny fixed batch
    h = t.run(20)
    print(json.dumps({{"backend": backend.NAME, "losses": [r["loss"] for r in h]}}))
""")


def test_phase1_learns_on_torch_backend():
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ, KERAS_BACKEND="torch", INPAINTKIT_NO_PROGRESS="1")
    out = subprocess.run([sys.executable, "-c", TORCH_SCRIPT.format(root=root)], env=env, cwd=root,
                         capture_output=True, text=True, timeout=600)
    assert out.returncode == 0, out.stderr[-3000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["backend"] == "torch"
    losses = r["losses"]
    assert np.mean(losses[-3:]) < 0.5 * np.mean(losses[:3]), losses


def test_corners_of_centres_the_patch_on_the_hole_and_p_real_is_a_probability():
    masks, corners = phases.sample_holes(6, 32, 11)
    np.testing.assert_array_equal(phases.corners_of(masks, 16), corners)
    D = dm.discriminator(32, 0.0625)
    p = phases.p_real(D, smooth_images(6, 32), masks)
    assert p.shape == (6,) and ((p >= 0) & (p <= 1)).all()


def test_load_completion_falls_back_from_a_mismatched_checkpoint(tmp_path):
    from inpaintkit import weights
    if not weights.available("glcic_toycars"):
        pytest.skip("shipped toy-car weights not present")
    ck = tmp_path / "checkpoint"
    ck.mkdir()
    cm.completion_network(None, 0.125).save_weights(str(ck / "completion.weights.h5"))
    model, source = phases.load_completion(0.125, run_dir=tmp_path)
    assert source.startswith("checkpoint")
    model, source = phases.load_completion(0.75, run_dir=tmp_path)      # wrong width -> shipped
    assert source.startswith("shipped") and model.mean_pixel != cm.DEFAULT_MEAN_PIXEL


def test_precise_batchnorm_sets_the_plain_average_of_batch_statistics(data):
    from inpaintkit.training import precise_batchnorm
    inp = keras.Input((4,))
    model = keras.Model(inp, keras.layers.BatchNormalization(momentum=0.9)(inp))
    batches = [np.random.default_rng(i).normal(i, 1 + i, (32, 4)).astype("float32") for i in range(3)]
    assert precise_batchnorm(model, iter(batches)) == 3
    bn = model.layers[-1]
    np.testing.assert_allclose(backend.to_numpy(bn.moving_mean), np.mean([b.mean(0) for b in batches], 0), rtol=1e-5)
    np.testing.assert_allclose(backend.to_numpy(bn.moving_variance), np.mean([b.var(0) for b in batches], 0),
                               rtol=1e-4)
    assert bn.momentum == 0.9
    C = cm.completion_network(32, 0.125)
    before = [backend.to_numpy(w).copy() for w in C.trainable_weights]
    assert phases.precise_batchnorm(C, data, (0.5, 0.5, 0.5), batches=2, batch_size=4, masks="mixed") == 2
    for a, b in zip(before, C.trainable_weights):          # statistics only: no weight changes
        np.testing.assert_array_equal(a, backend.to_numpy(b))
    with pytest.raises(InpaintkitError, match="BatchNormalization"):
        precise_batchnorm(keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)]), iter([]))


def test_versus_telea_reports_the_bar_per_mask_kind():
    from inpaintkit import baselines, evaluation, metrics
    images = smooth_images(4, 32, seed=3)
    net = cm.completion_network(None, 0.125)
    r = inference.versus_telea(net, images)
    assert set(r) == {"random_boxes", "strokes"}
    m = evaluation.eval_masks(4, 32, ("random_boxes", "strokes"))["strokes"]
    telea = metrics.hole_psnr(baselines.telea(images * (1 - m), m), images, m)
    assert r["strokes"]["telea"]["hole_psnr"] == pytest.approx(telea, abs=1e-3)
    assert r["strokes"]["hole_fraction"] == pytest.approx(float(m.mean()), abs=1e-4)
    for kind in r.values():
        assert set(kind) == {"glcic", "glcic_postprocessed", "telea", "hole_fraction"}
        assert 0 <= kind["glcic"]["wins"] <= 1 and "wins" not in kind["telea"]
        gap = kind["glcic"]["vs_telea"]
        assert gap["n"] == 4 and gap["ci95"][0] <= gap["mean"] <= gap["ci95"][1]
        assert gap["mean"] == pytest.approx(kind["glcic"]["hole_psnr"] - kind["telea"]["hole_psnr"], abs=2e-3)
        assert "where_decided" not in kind["glcic"]
    split = inference.versus_telea(net, images, kinds=("strokes",), near_perfect=40)["strokes"]["glcic"]
    assert split["where_decided"]["n_near_perfect"] + split["where_decided"]["n_rest"] == 4
    with pytest.raises(InpaintkitError, match=r"^near_perfect"):
        inference.versus_telea(net, images, near_perfect=-1)


def test_context_pad_runs_c_on_the_mirrored_image_and_hole_and_crops_back():
    net = cm.completion_network(None, 0.125)
    rng = np.random.default_rng(1)
    img = rng.uniform(size=(2, 30, 45, 3)).astype("float32")
    m = np.zeros((2, 30, 45, 1), "float32")
    m[:, 0:10, 5:20] = 1                                     # a hole on the top border
    out = inference.complete(net, img, m, context_pad=6)
    assert out.shape == img.shape
    pad = ((0, 0), (6, 6), (6, 6), (0, 0))
    mirrored = inference.complete(net, np.pad(img, pad, mode="reflect"), np.pad(m, pad, mode="reflect"))
    np.testing.assert_allclose(out, mirrored[:, 6:36, 6:51], atol=1e-6)
    assert not np.allclose(out, inference.complete(net, img, m))          # 0 is C as trained
    full = inference.inpaint(img, m, model=net, context_pad=6)
    np.testing.assert_array_equal(full[m[..., 0] == 0], img[m[..., 0] == 0])
    for bad in (-1, 30, 2.5):
        with pytest.raises(InpaintkitError, match="context_pad"):
            inference.complete(net, img, m, context_pad=bad)


def test_network_interpolation_mixes_every_weight_and_runs_as_the_mse_network():
    from inpaintkit.glcic import interpolation
    keras.utils.set_random_seed(0)
    a = cm.completion_network(None, 0.125, mean_pixel=(0.4, 0.5, 0.6), context_pad=4, self_ensemble=True)
    b = cm.completion_network(None, 0.125, mean_pixel=(0.4, 0.5, 0.6), context_pad=4, self_ensemble=True)
    wa, wb = a.get_weights(), b.get_weights()
    assert any(not np.array_equal(x, y) for x, y in zip(wa, wb))
    for t in (0, 1, 0.25):
        net = interpolation.interpolate(a, b, t)
        for x, y, z in zip(wa, wb, net.get_weights()):          # BatchNorm statistics included
            np.testing.assert_allclose(z, (1 - t) * x + t * y, atol=1e-7)
        assert (net.mean_pixel, net.context_pad, net.self_ensemble) == ((0.4, 0.5, 0.6), 4, True)
    assert interpolation.interpolate(a, b, 0.5, into=net) is net             # re-mixed in place
    img = smooth_images(2, 32, seed=4)
    m = np.zeros((2, 32, 32, 1), np.float32)
    m[:, 8:20, 10:22] = 1
    np.testing.assert_allclose(inference.complete(interpolation.interpolate(a, b, 0.0), img, m),
                               inference.complete(a, img, m), atol=1e-4)
    curve = interpolation.curve(a, b, img, m, ts=(0, 1))
    assert set(curve) == {0.0, 1.0} and set(curve[0.0]) == {"hole_psnr", "sharpness"}
    assert curve[0.0]["hole_psnr"] == pytest.approx(
        __import__("inpaintkit").metrics.hole_psnr(inference.inpaint(img * (1 - m), m, model=a, postprocess=False),
                                                  img, m), abs=1e-3)
    widget, state = interpolation.explorer(a, b, img, m, t=0.0, show=False)
    first = state["results"].copy()
    state["controls"]["t"].value = 1.0
    assert state["calls"] == 2 and len(state["hole_psnr"]) == 2 and not np.allclose(first, state["results"])
    hole = np.broadcast_to(m, img.shape) > 0.5
    assert state["change"] == pytest.approx(np.abs(state["results"] - first)[hole].mean() * 255, rel=1e-4)
    state["controls"]["t"].value = 0.0                          # back to the MSE network: no change
    assert state["change"] < 1e-3


def test_network_interpolation_names_bad_input():
    from inpaintkit.glcic import interpolation
    a = cm.completion_network(None, 0.125)
    for kwargs, name in (({"t": 1.5}, "t"), ({"t": "half"}, "t"), ({"gan": cm.completion_network(None, 0.25)}, "gan"),
                         ({"gan": cm.completion_network(None, 0.125, context_pad=4)}, "context_pad"),
                         ({"gan": "no_such_net"}, "gan"), ({"gan": np.zeros(3)}, "gan"),
                         ({"into": cm.completion_network(None, 0.25)}, "into")):
        args = {"mse": a, "gan": cm.completion_network(None, 0.125), "t": 0.5} | kwargs
        with pytest.raises(InpaintkitError, match=name):
            interpolation.interpolate(**args)


def test_clone_copies_weights_and_how_the_network_is_run_and_is_independent():
    a = cm.completion_network(None, 0.125, mean_pixel=(0.1, 0.2, 0.3), context_pad=2, self_ensemble=True)
    b = cm.clone(a)
    assert b is not a and (b.mean_pixel, b.context_pad, b.self_ensemble) == ((0.1, 0.2, 0.3), 2, True)
    for x, y in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(x, y)
    b.set_weights([np.zeros_like(w) for w in b.get_weights()])
    assert any(np.abs(w).sum() > 0 for w in a.get_weights())
    with pytest.raises(InpaintkitError, match="model"):
        cm.clone("glcic_photos")


@pytest.mark.parametrize("path", ["this_cpu", "shifted_sum", "keras_op"])
def test_dilated_convolution_rewrite_equals_keras_and_loads_plain_conv2d_weights(tmp_path, monkeypatch, path):
    """completion.Conv2D (dilated rows: taps that only see the zero padding skipped, the rest as a sum of
    shifted 1x1 products where the backend's kernel is slow, else tf.nn.conv2d on AVX-512 CPUs) gives
    Keras's Conv2D's outputs and gradients, and reads weights saved from a network of plain keras Conv2D
    layers. Every path is forced once, whatever this CPU would choose."""
    import keras
    from inpaintkit import backend
    from inpaintkit.glcic import completion as cm
    if path == "shifted_sum":
        monkeypatch.setattr(backend, "slow_native_dilation", lambda d: d >= 2)
    elif path == "keras_op":
        monkeypatch.setattr(backend, "slow_native_dilation", lambda d: False)
        monkeypatch.setattr(backend, "dilated_conv2d", lambda x, k, d: None)
    rng = np.random.default_rng(0)
    net = cm.completion_network(64, 0.125)
    x = rng.uniform(size=(2, 64, 64, 4)).astype("float32")
    dil = net.get_layer("dilated10")
    assert dil.dilation_rate == (16, 16)

    def outputs_and_grad():
        v = keras.Variable(x)
        y = backend.to_numpy(keras.ops.stop_gradient(net(x, training=False)))
        before = backend.to_numpy(v).copy()
        backend.train_step(lambda: (keras.ops.sum(net(v, training=False) * keras.ops.convert_to_tensor(x[..., :3])), {}),
                           [v], keras.optimizers.SGD(1.0), jit=False, split_batch=False)()
        return y, before - backend.to_numpy(v)

    y_new, g_new = outputs_and_grad()
    monkeypatch.setattr(cm.Conv2D, "convolution_op", keras.layers.Conv2D.convolution_op)
    y_ref, g_ref = outputs_and_grad()
    np.testing.assert_allclose(y_new, y_ref, atol=1e-5)
    np.testing.assert_allclose(g_new, g_ref, rtol=1e-3, atol=1e-2 * np.abs(g_ref).max())   # float32 rounding
    # a network built from plain keras.layers.Conv2D saves weights that load into the kit's
    monkeypatch.setattr(cm, "Conv2D", keras.layers.Conv2D)
    plain = cm.completion_network(64, 0.125)
    assert type(plain.get_layer("dilated10")) is keras.layers.Conv2D
    plain.save_weights(str(tmp_path / "p.weights.h5"))
    monkeypatch.undo()
    kit = cm.completion_network(64, 0.125)
    kit.load_weights(str(tmp_path / "p.weights.h5"))
    for a, b in zip(plain.get_weights(), kit.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_phase2_reestimates_d_batchnorm_once_finished(data):
    # D's moving statistics trail its weights; a finished phase 2 replaces them by the plain average
    # over fixed training-like batches (so the same call again changes nothing), an interrupted one not.
    C, D = cm.completion_network(32, 0.125), dm.discriminator(32, 0.125)
    t = phases.Phase2(C, D, data, batch_size=4, show=False)
    moving = [w for w in D.weights if "moving_mean" in w.path][0]
    t.run(3, until=2)
    ema = backend.to_numpy(moving).copy()
    t.precise_d_batchnorm()
    precise = backend.to_numpy(moving).copy()
    assert not np.allclose(ema, precise)
    t.precise_d_batchnorm()
    np.testing.assert_allclose(backend.to_numpy(moving), precise, rtol=1e-5, atol=1e-6)
    t.run(3)
    finished = backend.to_numpy(moving).copy()
    t.precise_d_batchnorm()
    np.testing.assert_allclose(backend.to_numpy(moving), finished, rtol=1e-5, atol=1e-6)
