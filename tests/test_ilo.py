"""Intermediate layer optimisation: the generator's split, the feature search, its checks, PyTorch."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

os.environ.setdefault("INPAINTKIT_NO_PROGRESS", "1")

from inpaintkit import InpaintkitError, backend, dcgan, ilo, semantic  # noqa: E402


@pytest.fixture(scope="module")
def models():
    backend.seed(0)
    return dcgan.generator(16, 0.125, upsample="resize"), dcgan.discriminator(16, 0.125)


def _holes(n=2, size=16):
    holes = np.zeros((n, size, size, 1), np.float32)
    holes[:, 4:12, 4:12] = 1
    return holes


@pytest.mark.parametrize("upsample", ["resize", "transposed"])
def test_split_draws_the_same_image(upsample):
    G = dcgan.generator(16, 0.125, upsample=upsample)
    assert ilo.resolutions(G) == [4, 8]
    z = dcgan.latent(3, seed=1)
    for r in (4, 8):
        head, tail = ilo.split(G, r)
        h = backend.to_numpy(head(z, training=False))
        assert h.shape[1:3] == (r, r) and h.min() >= 0          # the cut is after a ReLU
        assert np.allclose(backend.to_numpy(tail(h, training=False)), backend.to_numpy(G(z, training=False)), atol=1e-5)


def test_the_kits_setting_fits_the_shipped_generator():
    G, _ = semantic.load_models()
    assert ilo.resolutions(G) == [4, 8, 16, 32]
    assert ilo.RESOLUTION in ilo.resolutions(G)
    head, _ = ilo.split(G)
    assert tuple(head.output.shape[1:3]) == (ilo.RESOLUTION, ilo.RESOLUTION)


def test_bad_arguments_name_themselves(models):
    G, D = models
    with pytest.raises(InpaintkitError, match=r"^resolution: expected the side of one of the generator's feature maps \(4, 8\), got 5$"):
        ilo.split(G, 5)
    with pytest.raises(InpaintkitError, match="^leash: expected"):
        ilo.FeatureSearch(G, D, resolution=8, leash=-1)
    fs = ilo.FeatureSearch(G, D, resolution=8, iters=2)
    y = dcgan.sample(G, 2, seed=3)
    with pytest.raises(InpaintkitError, match=r"^z: expected codes of shape \(2, 100\), got \(3, 100\)$"):
        fs.run(y, _holes(), dcgan.latent(3))
    with pytest.raises(InpaintkitError, match="^images: expected"):
        fs.run(np.zeros((2, 8, 8, 3), np.float32), _holes(2, 8), dcgan.latent(2))


def test_feature_search_fits_the_context_better_than_its_start(models):
    """Starting from the latent search's codes, the feature search lowers Yeh et al.'s context loss; its
    start losses are the latent search's losses at those codes; known pixels stay exact; h stays >= 0."""
    G, D = models
    real = np.random.default_rng(0).random((2, 16, 16, 3)).astype(np.float32)   # not drawable by G
    holes = _holes()
    search = semantic.LatentSearch(G, semantic.default_terms(D), iters=10, restarts=2, lr=0.05)
    first = search.run(real, holes)
    r = ilo.FeatureSearch(G, D, resolution=8, iters=60, leash=0.001, lr=0.05).run(real, holes, first.z)
    assert np.allclose(r.start_losses["context"], first.losses["context"], rtol=1e-4)
    # the prior term is weighted by Yeh et al.'s lambda and optimised too (minibatch std in D: the batch
    # differs from the latent search's, so only its scale is compared)
    assert np.all(np.abs(r.start_losses["prior"]) < 10 * semantic.PriorLoss.weight)
    assert np.all(r.start_losses["prior"] < 0) and "prior" in r.history[0]
    assert np.allclose(r.start_losses["leash"], 0)
    assert (r.losses["context"] < 0.8 * r.start_losses["context"]).all()
    assert (r.losses["total"] < r.start_losses["total"]).all()
    assert r.features.shape == (2, 8, 8, int(r.features.shape[-1])) and r.features.min() >= 0
    known = holes[..., 0] < 0.5
    assert np.array_equal(r.blended[known], real[known]) and r.history[-1]["loss"] < r.history[0]["loss"]
    assert sorted(r.losses) == ["context", "leash", "prior", "total"]


def test_a_second_run_repeats_the_first(models):
    """One FeatureSearch serves every chunk of an evaluation: each run starts with a fresh Adam state."""
    G, D = models
    real = np.random.default_rng(2).random((2, 16, 16, 3)).astype(np.float32)
    fs = ilo.FeatureSearch(G, D, resolution=8, iters=20, lr=0.05)
    z = dcgan.latent(2, seed=6)
    a = fs.run(real, _holes(), z)
    fs.run(real[::-1], _holes(), z[::-1])
    b = fs.run(real, _holes(), z)
    assert np.array_equal(a.generated, b.generated) and np.array_equal(a.features, b.features)


def test_no_clamp_after_a_layer_that_is_not_a_relu():
    """h >= 0 is kept only where the cut follows a ReLU: a cut after a linear layer may go negative."""
    import keras
    inp = keras.Input((4,))
    x = keras.layers.Dense(2 * 2 * 3, name="lin")(inp)
    x = keras.layers.Reshape((2, 2, 3))(x)
    x = keras.layers.UpSampling2D(8, name="up")(x)
    G = keras.Model(inp, keras.layers.Activation("sigmoid")(x))
    fs = ilo.FeatureSearch(G, None, resolution=2, iters=30, lr=0.5, leash=0.0)
    assert not fs.nonnegative
    dark = np.zeros((1, 16, 16, 3), np.float32)
    holes = np.zeros((1, 16, 16, 1), np.float32)
    holes[:, 6:10, 6:10] = 1
    r = fs.run(dark, holes, np.zeros((1, 4), np.float32))
    assert r.features.min() < 0              # it went negative to draw the black border


def test_a_tight_leash_keeps_the_generators_image(models):
    """mu large: h cannot leave G_head(z), so the result is the latent search's image."""
    G, D = models
    real = np.random.default_rng(1).random((2, 16, 16, 3)).astype(np.float32)
    z = dcgan.latent(2, seed=5)
    tight = ilo.FeatureSearch(G, D, resolution=8, iters=30, leash=1e6, lr=0.05).run(real, _holes(), z)
    loose = ilo.FeatureSearch(G, D, resolution=8, iters=30, leash=0.0, lr=0.05).run(real, _holes(), z)
    g = np.clip(backend.to_numpy(G(z, training=False)), 0, 1)
    assert np.abs(tight.generated - g).max() < 0.02
    assert np.abs(loose.generated - g).max() > 0.05


def test_feature_search_on_torch():
    script = textwrap.dedent("""
        import json, numpy as np
        from inpaintkit import backend, dcgan, ilo, semantic
        backend.seed(0)
        G, D = dcgan.generator(16, 0.125, upsample="resize"), dcgan.discriminator(16, 0.125)
        real = np.random.default_rng(0).random((2, 16, 16, 3)).astype(np.float32)
        holes = np.zeros((2, 16, 16, 1), np.float32); holes[:, 4:12, 4:12] = 1
        z = semantic.LatentSearch(G, semantic.default_terms(D), iters=5, restarts=2, lr=0.05).run(real, holes).z
        r = ilo.FeatureSearch(G, D, resolution=8, iters=40, leash=0.001, lr=0.05).run(real, holes, z)
        known = holes[..., 0] < 0.5
        print(json.dumps({"backend": backend.NAME, "start": r.start_losses["context"].tolist(),
                          "end": r.losses["context"].tolist(), "hmin": float(r.features.min()),
                          "exact": bool(np.array_equal(r.blended[known], real[known]))}))
    """)
    env = dict(os.environ, KERAS_BACKEND="torch", INPAINTKIT_NO_PROGRESS="1")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["backend"] == "torch" and r["exact"] and r["hmin"] >= 0
    assert all(e < s for s, e in zip(r["start"], r["end"]))


def test_ilo_by_name_fills_any_size_and_keeps_the_known_pixels(monkeypatch):
    """``methods.inpaint(image, mask, "ilo")``: the CLI and notebook 10's own-photo widget."""
    from inpaintkit import methods
    from inpaintkit.data import toycars
    monkeypatch.setenv("INPAINTKIT_PRESET", "quick")
    image = toycars.generate(1, size=64, seed=3)[0][0][:48, 4:60]       # 48 x 56, not the G's size
    mask = np.zeros((48, 56, 1), np.float32)
    mask[14:34, 18:40] = 1
    assert methods.get("ilo") is ilo.inpaint_image
    out = methods.inpaint(image, mask, "ilo", seed=0)
    known = mask[..., 0] < 0.5
    assert out.shape == image.shape and np.array_equal(out[known], image[known])
    assert np.abs(out - image)[~known].mean() < np.abs(0.5 - image)[~known].mean()
    assert not np.array_equal(out, semantic.inpaint_image(image, mask, seed=0))    # the feature search changed it
    assert np.array_equal(methods.inpaint(image, np.zeros_like(mask), "ilo"), image)
