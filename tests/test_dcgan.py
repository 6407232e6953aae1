"""DCGAN (Radford et al.): shapes and ranges, the trainer, resume, warnings, bad input."""
import json
import os
import subprocess
import sys
import textwrap
import warnings

import numpy as np
import pytest

os.environ.setdefault("INPAINTKIT_NO_PROGRESS", "1")

from inpaintkit import InpaintkitError, backend, dcgan, dcgan_training  # noqa: E402


@pytest.mark.parametrize("size,width", [(16, 0.125), (32, 0.25), (64, 0.125)])
def test_shapes_ranges_and_architecture(size, width):
    G, D = dcgan.generator(size, width), dcgan.discriminator(size, width)
    assert G.input_shape == (None, 100) and G.output_shape == (None, size, size, 3)
    assert D.input_shape == (None, size, size, 3) and D.output_shape == (None, 1)
    stages = int(np.log2(size // 4))
    assert sum(type(l).__name__ == "Conv2DTranspose" for l in G.layers) == stages
    assert sum(type(l).__name__ == "Conv2D" for l in D.layers) == stages
    # BatchNorm everywhere except G's output and D's input: stages in both
    assert sum(type(l).__name__ == "BatchNormalization" for l in G.layers) == stages
    assert sum(type(l).__name__ == "BatchNormalization" for l in D.layers) == stages - 1
    z = dcgan.latent(5, seed=1)
    assert z.min() >= -1 and z.max() <= 1
    x = dcgan.generate(G, z)
    assert x.shape == (5, size, size, 3) and x.min() >= 0 and x.max() <= 1
    logits = backend.to_numpy(D(x, training=False))
    assert logits.shape == (5, 1) and np.isfinite(logits).all()


def test_paper_generator_and_init():
    G = dcgan.generator(64, 1.0)
    assert [l.filters for l in G.layers if type(l).__name__ == "Conv2DTranspose"] == [256, 128, 64, 3]
    k = backend.to_numpy(G.get_layer("deconv1").kernel)
    assert abs(k.std() - 0.02) < 0.002 and abs(k.mean()) < 0.001


def test_resize_convolution_generator_has_no_transposed_convolutions():
    """upsample="resize": nearest-neighbour x2 then a 3x3 convolution at every stage, same shapes,
    and a flat feature map stays flat through one stage (no checkerboard from uneven kernel overlap)."""
    G = dcgan.generator(32, 0.25, upsample="resize")
    assert G.output_shape == (None, 32, 32, 3)
    assert not any(type(l).__name__ == "Conv2DTranspose" for l in G.layers)
    assert sum(type(l).__name__ == "UpSampling2D" for l in G.layers) == 3
    assert [l.filters for l in G.layers if type(l).__name__ == "Conv2D"] == [32, 16, 3]
    x = dcgan.generate(G, dcgan.latent(4, seed=0))
    assert x.shape == (4, 32, 32, 3) and 0 <= x.min() and x.max() <= 1
    import keras
    flat = np.ones((1, 8, 8, 4), np.float32)
    for up in ("resize", "transposed"):
        inp = keras.Input((8, 8, 4))
        m = keras.Model(inp, dcgan._upsample(inp, 2, f"probe_{up}", up, use_bias=False))
        for w in m.weights:
            w.assign(np.ones(w.shape, np.float32))
        out = backend.to_numpy(m(flat))[0, 2:-2, 2:-2, 0]         # away from the zero-padded border
        assert out.shape == (12, 12)
        assert (np.ptp(out) == 0) == (up == "resize")             # transposed 5x5, stride 2: uneven overlap
    with pytest.raises(InpaintkitError, match="upsample: expected one of"):
        dcgan.generator(32, 0.25, upsample="bilinear")


def test_discriminator_sees_unit_range():
    """D's first layer maps [0, 1] to [-1, 1]: a mid-grey image enters the convolutions as zeros."""
    D = dcgan.discriminator(16, 0.125)
    import keras
    probe = keras.Model(D.input, D.get_layer("to_tanh_range").output)
    out = backend.to_numpy(probe(np.full((1, 16, 16, 3), 0.5, np.float32)))
    assert np.allclose(out, 0)


def test_sample_interpolate_diversity():
    G = dcgan.generator(16, 0.125)
    a, b = dcgan.sample(G, 3, seed=4), dcgan.sample(G, 3, seed=4)
    assert np.array_equal(a, b)
    z0, z1 = dcgan.latent(2, seed=0)
    path = dcgan.interpolate(G, z0, z1, steps=5)
    assert path.shape == (5, 16, 16, 3)
    assert np.allclose(path[0], dcgan.generate(G, z0[None])[0], atol=1e-5)
    assert np.allclose(path[-1], dcgan.generate(G, z1[None])[0], atol=1e-5)
    same = np.zeros((4, 8, 8, 3))
    assert dcgan.diversity(same) == 0
    two = np.stack([np.zeros((2, 2, 3)), np.ones((2, 2, 3))])
    assert dcgan.diversity(two) == pytest.approx(1.0)


def test_gan_losses_hand_values():
    real, fake = np.array([[0.0]], np.float32), np.array([[0.0]], np.float32)
    d, g = (float(backend.to_numpy(v)) for v in dcgan.gan_losses(real, fake))
    assert d == pytest.approx(2 * np.log(2), rel=1e-5) and g == pytest.approx(np.log(2), rel=1e-5)
    d_s, _ = (float(backend.to_numpy(v)) for v in dcgan.gan_losses(np.array([[3.0]], np.float32), fake, 0.1))
    expect = 0.9 * np.log1p(np.exp(-3)) + 0.1 * np.log1p(np.exp(3)) + np.log(2)
    assert d_s == pytest.approx(expect, rel=1e-5)


def _images(n=24, size=16):
    rng = np.random.default_rng(0)
    return rng.uniform(0, 1, (n, size, size, 3)).astype(np.float32)


def test_trainer_runs_and_resumes(tmp_path):
    backend.seed(0)
    images = _images()
    seen = []
    tr = dcgan_training.DCGANTrainer(dcgan.generator(16, 0.125), dcgan.discriminator(16, 0.125), images,
                            batch_size=8, directory=tmp_path / "run", checkpoint_every=2, sample_every=2, n_fixed=4)
    h = tr.train(6, until=4, on_sample=lambda s, imgs, hist: seen.append((s, imgs.shape)))
    assert len(h) == 4 and {"d_loss", "g_loss", "d_real", "d_fake"} <= set(h[0])
    assert all(np.isfinite(v) for e in h for v in e.values())
    assert seen[0] == (0, (4, 16, 16, 3)) and [s for s, _ in seen] == [0, 2, 4]
    assert "diversity" in h[1]
    # the fixed noise is the same z every time
    assert np.array_equal(tr.fixed_z, dcgan_training.DCGANTrainer(tr.G, tr.D, images, n_fixed=4).fixed_z)
    w_after4 = [backend.to_numpy(v).copy() for v in tr.G.weights]

    # a new trainer on fresh models resumes at step 4 with the same weights and finishes
    G2, D2 = dcgan.generator(16, 0.125), dcgan.discriminator(16, 0.125)
    tr2 = dcgan_training.DCGANTrainer(G2, D2, images, batch_size=8, directory=tmp_path / "run", checkpoint_every=2,
                             sample_every=2, n_fixed=4)
    assert tr2.step == 4 and len(tr2.history) == 4
    # the sample taken where the first run stopped is in the checkpoint's history too
    assert "diversity" in tr2.history[3] and tr2.history[3]["diversity"] == h[3]["diversity"]
    for a, b in zip(w_after4, G2.weights):
        assert np.allclose(a, backend.to_numpy(b))
    h2 = tr2.train(6)
    assert tr2.step == 6 and len(h2) == 6
    # batches are a pure function of (seed, step): resuming replays exactly the same data
    assert all(np.array_equal(a, b) for a, b in zip(tr.batch(5), tr2.batch(5)))


def test_r1_penalty_is_trained_and_logged():
    G, D = dcgan.generator(16, 0.125), dcgan.discriminator(16, 0.125, minibatch_std=True)
    tr = dcgan_training.DCGANTrainer(G, D, _images(), batch_size=4, sample_every=0, r1=10.0, augment="translation")
    h = tr.train(2)
    assert all(np.isfinite(e["r1"]) and e["r1"] > 0 for e in h)
    # the penalty is part of D's loss: the same step without it has a lower loss
    tr0 = dcgan_training.DCGANTrainer(dcgan.generator(16, 0.125), dcgan.discriminator(16, 0.125, minibatch_std=True),
                             _images(), batch_size=4, sample_every=0, augment="translation")
    real, z, _ = tr0.batch(0)
    a_real, a_fake, _ = tr0.augmentations(0)
    tr0.r1 = 0.0
    plain, _ = tr0._d_loss(real, z, *a_real, *a_fake)
    tr0.r1 = 10.0
    penalised, logs = tr0._d_loss(real, z, *a_real, *a_fake)
    assert float(backend.to_numpy(penalised)) == pytest.approx(
        float(backend.to_numpy(plain)) + 5.0 * float(backend.to_numpy(logs["r1"])), rel=1e-4)
    with pytest.raises(InpaintkitError, match="r1"):
        dcgan_training.DCGANTrainer(G, D, _images(), r1=-1.0)


def test_collapse_warning():
    tr = dcgan_training.DCGANTrainer(dcgan.generator(16, 0.125), dcgan.discriminator(16, 0.125), _images(),
                            batch_size=4, n_fixed=4)
    tr.peak_diversity = tr.real_diversity         # it once looked as diverse as the data ...
    tr.fixed_samples = lambda: np.full((4, 16, 16, 3), 0.5, np.float32)   # ... now all samples alike
    with pytest.warns(RuntimeWarning, match="collapsing"):
        tr._sample(10, [{"step": 10}])
    assert tr.warnings


def test_nan_is_detected():
    from inpaintkit.training import TrainingDiverged
    tr = dcgan_training.DCGANTrainer(dcgan.generator(16, 0.125), dcgan.discriminator(16, 0.125), _images(),
                            batch_size=4, sample_every=0)
    tr.one_step = lambda i: {"d_loss": float("nan"), "g_loss": 1.0}
    with pytest.raises(TrainingDiverged, match="d_loss"):
        tr.train(3)


def test_bad_inputs():
    with pytest.raises(InpaintkitError, match="size"):
        dcgan.generator(48)
    with pytest.raises(InpaintkitError, match="size"):
        dcgan.discriminator(8)
    with pytest.raises(InpaintkitError, match="width"):
        dcgan.generator(16, 0)
    G, D = dcgan.generator(16, 0.125), dcgan.discriminator(16, 0.125)
    with pytest.raises(InpaintkitError, match="images"):
        dcgan_training.DCGANTrainer(G, D, _images(size=32))
    with pytest.raises(InpaintkitError, match="images"):
        dcgan_training.DCGANTrainer(G, D, _images() * 255)
    with pytest.raises(InpaintkitError, match="z"):
        dcgan.generate(G, np.zeros((2, 7)))
    with pytest.raises(InpaintkitError, match="steps"):
        dcgan.interpolate(G, np.zeros(100), np.ones(100), steps=1)


def test_trainer_on_torch(tmp_path):
    script = textwrap.dedent(f"""
        import json, numpy as np
        from inpaintkit import dcgan, dcgan_training, backend
        backend.seed(0)
        x = np.random.default_rng(0).uniform(size=(16, 16, 16, 3)).astype("float32")
        tr = dcgan_training.DCGANTrainer(dcgan.generator(16, 0.125), dcgan.discriminator(16, 0.125), x, r1=1.0,
                                batch_size=8, directory={str(tmp_path / 'run')!r}, checkpoint_every=2, sample_every=2)
        h = tr.train(3)
        assert all(e["r1"] > 0 for e in h), h
        tr2 = dcgan_training.DCGANTrainer(dcgan.generator(16, 0.125), dcgan.discriminator(16, 0.125), x,
                                 batch_size=8, directory={str(tmp_path / 'run')!r})
        print(json.dumps({{"backend": backend.NAME, "n": len(h), "resumed": tr2.step,
                          "finite": bool(all(np.isfinite(v) for e in h for v in e.values()))}}))
    """)
    env = dict(os.environ, KERAS_BACKEND="torch", INPAINTKIT_NO_PROGRESS="1")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r == {"backend": "torch", "n": 3, "resumed": 3, "finite": True}


def test_coverage_stats_hand_values():
    uniform = dcgan.coverage_stats(np.full(7, 1 / 7))
    assert uniform["entropy"] == pytest.approx(1.0) and uniform["min_share"] == pytest.approx(1 / 7, abs=1e-4)
    one = dcgan.coverage_stats(np.eye(7)[3])
    assert one["entropy"] == pytest.approx(0.0) and one["min_share"] == 0.0
    # the shipped collapsed DCGAN's histogram (issue 15): entropy 0.82, fails the bar
    collapsed = dcgan.coverage_stats([0.0625, 0.0156, 0.0073, 0.1958, 0.3359, 0.2163, 0.1665])
    assert 0.80 < collapsed["entropy"] < 0.83
    probs = np.eye(3)[[0, 0, 1, 2]] * 0.9 + 0.03
    assert dcgan.class_shares(probs).tolist() == [0.5, 0.25, 0.25]


def test_agreement_of_two_classifiers():
    a = np.eye(3)[[0, 1, 2, 2]] * 0.9 + 0.03
    b = np.eye(3)[[0, 2, 2, 1]] * 0.6 + 0.1
    assert dcgan.agreement(a, b) == 0.5 and dcgan.agreement(a, a) == 1.0
    with pytest.raises(InpaintkitError, match="other_probs: expected"):
        dcgan.agreement(a, b[:2])


def test_coverage_sees_a_collapsed_generator():
    """A 'generator' whose samples the classifier puts into one class fails the coverage bar."""
    import keras
    G = dcgan.generator(16, 0.125)
    probe = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(4, kernel_initializer="zeros",
                                                 bias_initializer=keras.initializers.Constant([5, 0, 0, 0])),
                              keras.layers.Softmax()])
    cov = dcgan.coverage(G, probe, n=64, class_names=list("abcd"))
    assert cov["shares"] == [1.0, 0.0, 0.0, 0.0] and cov["entropy"] == 0.0 and not cov["covers"]
    assert cov["classes"] == list("abcd") and cov["n"] == 64
    assert "samples" not in cov
    kept = dcgan.coverage(G, probe, n=8, seed=3, keep=True)         # the very samples it counted
    assert np.array_equal(kept["samples"], dcgan.sample(G, 8, seed=3)) and kept["probs"].shape == (8, 4)
    with pytest.raises(InpaintkitError, match="class_names"):
        dcgan.coverage(G, probe, n=8, class_names=["a"])


def test_diff_augment_is_exact_and_differentiable():
    rng = np.random.default_rng(0)
    x = rng.random((4, 16, 16, 3)).astype(np.float32)
    params = dcgan.augment_params(4, 16, ("color", "translation", "cutout"), rng)
    assert [p.shape for p in params] == [(4, 3), (4, 16, 16), (4, 16, 16), (4, 16, 16, 1)]
    assert np.allclose(params[3].mean(axis=(1, 2, 3)), 1 - 64 / 256, atol=0.1)   # half-side square cut
    # translation alone shifts each image by whole pixels (zeros shifted in)
    shift = dcgan.augment_params(4, 16, ("translation",), np.random.default_rng(1))
    y = backend.to_numpy(dcgan.diff_augment(x, ("translation",), shift))
    dy = [int(np.argmax(m[:, 0])) if m[:, 0].any() else None for m in shift[0]]
    for i, d in enumerate(dy):
        if d is not None:
            ref = np.roll(x[i], d, axis=0)
            ref[:d] = 0
            sx = shift[1][i]
            ref = np.einsum("vw,hwc->hvc", sx, ref)
            assert np.allclose(y[i], ref, atol=1e-6)
    # no policy: identity; colour with neutral parameters: identity
    assert np.allclose(backend.to_numpy(dcgan.diff_augment(x, (), [])), x)
    neutral = [np.tile(np.float32([0, 1, 1]), (4, 1))]
    assert np.allclose(backend.to_numpy(dcgan.diff_augment(x, ("color",), neutral)), x, atol=1e-6)


def test_anti_collapse_options_train_and_resume(tmp_path):
    """Minibatch std, spectral norm, DiffAugment and a separate D learning rate run and resume exactly."""
    from inpaintkit.data import toycars
    imgs, _ = toycars.generate(32, size=16, seed=0)

    def make():
        backend.seed(0)
        G = dcgan.generator(16, 0.125)
        D = dcgan.discriminator(16, 0.125, minibatch_std=True, spectral_norm=True)
        return G, D, dcgan_training.DCGANTrainer(G, D, imgs, batch_size=8, d_lr=4e-4, augment="color,translation,cutout",
                                        directory=tmp_path / "ckpt", checkpoint_every=2, sample_every=100)
    assert any(type(l).__name__ == "MinibatchStd" for l in make()[1].layers)
    G, D, t = make()
    t.train(4)
    G2, D2, t2 = make()
    assert t2.step == 4
    ref = [w.copy() for w in G.get_weights()]
    assert all(np.array_equal(a, b) for a, b in zip(ref, G2.get_weights()))
    with pytest.raises(InpaintkitError, match="augment"):
        dcgan_training.DCGANTrainer(G, D, imgs, augment="zoom")


def test_recall_trains_an_encoder_with_g_and_resumes_it(tmp_path):
    """recall adds |G(E(x)) - x|_1 (x real) and cycle * |E(G(z)) - z|^2 to G's loss; E is trained with G,
    checkpointed and restored; an encoder of the wrong shape is refused by name."""
    imgs = _images(32)
    E = dcgan.encoder(16, 0.125)
    codes = backend.to_numpy(E(imgs[:4]))
    assert codes.shape == (4, dcgan.LATENT_DIM) and np.all(np.abs(codes) < 1)

    def make():
        backend.seed(0)
        G, D = dcgan.generator(16, 0.125), dcgan.discriminator(16, 0.125)
        return dcgan_training.DCGANTrainer(G, D, imgs, batch_size=8, recall=5.0, cycle=2.0, ema=0.9,
                                           encoder=dcgan.encoder(16, 0.125), directory=tmp_path / "c",
                                           checkpoint_every=2, sample_every=100)
    t = make()
    e0 = [w.copy() for w in t.E.get_weights()]
    h = t.train(2)
    assert all(np.isfinite(e["recall"]) and e["recall"] > 0 and e["cycle"] > 0 for e in h)
    trained = [w.copy() for w in t.E.get_weights()]
    assert any(not np.array_equal(a, b) for a, b in zip(e0, trained))      # E learns
    real, _, z = t.batch(5)
    total, logs = t._g_loss(z, real)
    t.recall = t.cycle = 0.0
    plain, _ = t._g_loss(z, real)
    t.recall, t.cycle = 5.0, 2.0
    assert float(backend.to_numpy(total)) == pytest.approx(
        float(backend.to_numpy(plain)) + 5.0 * float(backend.to_numpy(logs["recall"]))
        + 2.0 * float(backend.to_numpy(logs["cycle"])), rel=1e-4)
    t2 = make()
    assert t2.step == 2 and all(np.array_equal(a, b) for a, b in zip(trained, t2.E.get_weights()))
    assert t2.averaged_generator().count_params() == t2.G.count_params()
    with pytest.raises(InpaintkitError, match="encoder: expected"):
        dcgan_training.DCGANTrainer(t.G, t.D, imgs, recall=1.0, ema=0.9, encoder=dcgan.encoder(16, 0.125, latent_dim=7))
    with pytest.raises(InpaintkitError, match="recall"):
        dcgan_training.DCGANTrainer(t.G, t.D, imgs, recall=-1.0)
    with pytest.raises(InpaintkitError, match="ema: expected a moving average"):
        dcgan_training.DCGANTrainer(t.G, t.D, imgs, recall=1.0)


def test_weight_average_of_the_generator(tmp_path):
    """ema keeps a moving average of G's weights, checkpointed with the optimiser; averaged_generator
    returns a copy holding it (G itself unchanged) whose samples are finite images."""
    from inpaintkit.data import toycars
    imgs, _ = toycars.generate(32, size=16, seed=0)

    def make():
        backend.seed(0)
        G, D = dcgan.generator(16, 0.125), dcgan.discriminator(16, 0.125)
        return G, dcgan_training.DCGANTrainer(G, D, imgs, batch_size=8, ema=0.5, directory=tmp_path / "c",
                                     checkpoint_every=3, sample_every=100)
    G, t = make()
    during = []           # the training script selects checkpoints from inside the loop's sample callback
    t.sample_every = 3
    t.train(3, on_sample=lambda step, imgs, h: during.append(step and t.averaged_generator(bn_batches=1)))
    assert during[-1] and any(not np.allclose(a, b) for a, b in zip(G.get_weights(), during[-1].get_weights()))
    before = [w.copy() for w in G.get_weights()]
    Gs = t.averaged_generator(bn_batches=2)
    assert all(np.array_equal(a, b) for a, b in zip(before, G.get_weights()))       # G untouched
    differs = [not np.allclose(a, b) for a, b in zip(G.trainable_weights, Gs.trainable_weights)]
    assert any(differs)                                                              # an average, not G
    x = dcgan.sample(Gs, 4)
    assert x.shape == (4, 16, 16, 3) and np.isfinite(x).all() and 0 <= x.min() and x.max() <= 1
    G2, t2 = make()                                                                  # resumed: same average
    assert t2.step == 3
    Gs2 = t2.averaged_generator(bn_batches=2)
    assert all(np.allclose(backend.to_numpy(a), backend.to_numpy(b))
               for a, b in zip(Gs.trainable_weights, Gs2.trainable_weights))
    with pytest.raises(InpaintkitError, match="ema"):
        dcgan_training.DCGANTrainer(G, dcgan.discriminator(16, 0.125), imgs).averaged_generator()


def test_pacgan_packs_consecutive_images_and_trains():
    """Pack(m) puts m consecutive images side by side in the channels; a packed D gives one logit per
    pack, trains with R1 and DiffAugment, and refuses a batch that is not a multiple of m."""
    x = np.random.default_rng(0).random((6, 8, 8, 3)).astype(np.float32)
    y = backend.to_numpy(dcgan.Pack(3)(x))
    assert y.shape == (2, 8, 8, 9)
    assert np.array_equal(y[1, ..., 3:6], x[4]) and np.array_equal(y[0, ..., 6:], x[2])
    D = dcgan.discriminator(16, 0.125, minibatch_std=True, pack=2)
    assert dcgan.packing(D) == 2 and dcgan.packing(dcgan.discriminator(16, 0.125)) == 1
    assert tuple(D(np.zeros((8, 16, 16, 3), np.float32)).shape) == (4, 1)
    from inpaintkit.data import toycars
    imgs, _ = toycars.generate(32, size=16, seed=0)
    backend.seed(0)
    G = dcgan.generator(16, 0.125)
    t = dcgan_training.DCGANTrainer(G, D, imgs, batch_size=8, r1=1.0, augment="translation", sample_every=100)
    before = [w.copy() for w in D.get_weights()]
    logs = t.one_step(0)
    assert np.isfinite([logs["d_loss"], logs["g_loss"], logs["r1"]]).all() and logs["r1"] > 0
    assert any(not np.allclose(a, b) for a, b in zip(before, D.get_weights()))
    with pytest.raises(InpaintkitError, match=r"batch_size: expected a multiple of the discriminator's pack \(2\), got 7"):
        dcgan_training.DCGANTrainer(G, D, imgs, batch_size=7)
    with pytest.raises(InpaintkitError, match="pack"):
        dcgan.discriminator(16, 0.125, pack=0)
