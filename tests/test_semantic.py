"""Semantic inpainting (Yeh et al.): W, the loss terms, the batched latent search, the CLI entry."""
import json
import os
import subprocess
import sys
import textwrap

import keras
import numpy as np
import pytest

os.environ.setdefault("INPAINTKIT_NO_PROGRESS", "1")

from inpaintkit import InpaintkitError, backend, semantic, weights  # noqa: E402


def test_importance_weights_by_hand():
    hole = np.zeros((5, 5, 1), np.float32)
    hole[2, 2] = 1
    w = semantic.importance_weights(hole, window=3)[..., 0]
    expect = np.zeros((5, 5))
    expect[1:4, 1:4] = 1 / 9
    expect[2, 2] = 0                        # hole pixels weigh nothing
    assert np.allclose(w, expect, atol=1e-6)
    # at the border the window is mirrored: the corner hole is seen twice from (0, 1)
    corner = np.zeros((4, 4, 1), np.float32)
    corner[0, 0] = 1
    wc = semantic.importance_weights(corner, window=3)[..., 0]
    assert wc[0, 1] == pytest.approx(2 / 9) and wc[1, 1] == pytest.approx(1 / 9)
    assert wc[1, 0] == pytest.approx(2 / 9) and wc[0, 0] == 0 and wc[3, 3] == 0


def test_importance_weights_7x7_and_batch():
    hole = np.zeros((2, 16, 16, 1), np.float32)
    hole[0, 4:12, 4:12] = 1                 # an 8x8 box
    w = semantic.importance_weights(hole)   # window 7 as in the paper
    assert w.shape == hole.shape and w.dtype == np.float32
    assert w[0, 3, 3, 0] == pytest.approx(9 / 49)        # diagonal to the box corner: a 3x3 corner of it
    assert w[0, 3, 8, 0] == pytest.approx(7 * 3 / 49)    # above the box edge: 3 rows x 7 cols
    assert w[0, 0, 8, 0] == 0                            # 4 px away: outside the window
    assert (w[0][hole[0] > 0] == 0).all() and (w[1] == 0).all()
    with pytest.raises(InpaintkitError, match="window"):
        semantic.importance_weights(hole, window=4)


def _ctx(gen, target, hole, w):
    t = keras.ops.convert_to_tensor
    gen, target, hole, w = (t(np.asarray(a, np.float32)) for a in (gen, target, hole, w))
    return semantic.Context(z=None, generated=gen, target=target, hole=hole, weights=w,
                            composite=(1 - hole) * target + hole * gen)


def test_context_loss_by_hand():
    gen = np.zeros((2, 1, 2, 3))
    target = np.zeros((2, 1, 2, 3))
    target[0, 0, 0] = [0.5, 0.25, 0.0]
    target[0, 0, 1] = [1.0, 1.0, 1.0]       # in the hole: W = 0 there
    target[1, 0, 0] = [0.1, 0.1, 0.1]
    hole = np.array([[[[0], [1]]], [[[0], [0]]]], np.float32)
    w = np.array([[[[0.5], [0.0]]], [[[1.0], [0.2]]]], np.float32)
    loss = backend.to_numpy(semantic.ContextLoss()(_ctx(gen, target, hole, w)))
    assert loss.shape == (2,)
    assert np.allclose(loss, [0.5 * 0.75, 0.3], atol=1e-6)


def test_prior_loss_by_hand():
    logits = np.array([[0.0], [2.0], [-3.0]], np.float32)
    D = lambda x, training=False: keras.ops.convert_to_tensor(logits)  # noqa: E731
    term = semantic.PriorLoss(D)
    assert term.weight == 0.003 and term.name == "prior"
    ctx = _ctx(np.zeros((3, 2, 2, 3)), np.zeros((3, 2, 2, 3)), np.zeros((3, 2, 2, 1)), np.zeros((3, 2, 2, 1)))
    got = backend.to_numpy(term(ctx))
    expect = np.log(1 - 1 / (1 + np.exp(-logits[:, 0])))       # log(1 - D(G(z)))
    assert np.allclose(got, expect, atol=1e-5)
    assert semantic.PriorLoss(D, weight=0.1).weight == 0.1


def test_prior_loss_of_a_packed_discriminator():
    """A PacGAN discriminator scores pairs of codes; each image of a pair gets its pair's prior loss."""
    from inpaintkit import dcgan
    D = dcgan.discriminator(16, 0.125, pack=2)
    term = semantic.PriorLoss(D)
    gen = np.random.default_rng(0).random((4, 16, 16, 3)).astype(np.float32)
    z = np.zeros((4, 16, 16, 1))
    got = backend.to_numpy(term(_ctx(gen, gen, z, z)))
    pairs = backend.to_numpy(D(gen, training=False))[:, 0]
    assert got.shape == (4,) and np.allclose(got, -np.logaddexp(0, np.repeat(pairs, 2)), atol=1e-5)
    with pytest.raises(InpaintkitError, match=r"multiple of the discriminator's pack \(2\), got 3"):
        term(_ctx(gen[:3], gen[:3], z[:3], z[:3]))


def test_load_models_builds_a_runs_discriminator_from_its_checkpoint_record(tmp_path):
    """A generator file of a training run loads with its sibling discriminator, both built with the
    run's own options (resize-convolution in G; minibatch std and packing in D), read from RUN_DIR/ckpt."""
    import json

    from inpaintkit import dcgan
    G, D = dcgan.generator(64, 0.25, upsample="resize"), dcgan.discriminator(64, 0.25, minibatch_std=True, pack=2)
    G.save_weights(tmp_path / "best_generator.weights.h5")
    (tmp_path / "kept").mkdir()
    G.save_weights(tmp_path / "kept" / "generator_000500.weights.h5")
    D.save_weights(tmp_path / "best_discriminator.weights.h5")
    (tmp_path / "ckpt").mkdir()
    (tmp_path / "ckpt" / "state.json").write_text(json.dumps(
        {"config": {"--width": 0.25, "--minibatch-std": True, "--spectral-norm": False, "--pack": 2,
                    "--upsample": "resize"}}))
    G2, D2 = semantic.load_models(tmp_path / "best_generator.weights.h5")
    z = dcgan.latent(2, seed=0)
    assert np.allclose(dcgan.generate(G2, z), dcgan.generate(G, z), atol=1e-6)
    G3, D3 = semantic.load_models(tmp_path / "kept" / "generator_000500.weights.h5")   # a kept snapshot
    assert G3.count_params() == G.count_params() and D3 is None
    assert dcgan.packing(D2) == 2 and D2.count_params() == D.count_params()
    x = np.random.default_rng(0).random((4, 64, 64, 3)).astype(np.float32)
    assert np.allclose(backend.to_numpy(D2(x, training=False)), backend.to_numpy(D(x, training=False)), atol=1e-5)


def _linear_generator(size=8, latent=6, seed=0):
    """A tiny generator whose latent search is well posed: sigmoid(A z + b)."""
    backend.seed(seed)
    z = keras.Input((latent,))
    x = keras.layers.Dense(size * size * 3, activation="sigmoid",
                           kernel_initializer=keras.initializers.RandomNormal(0, 1.0))(z)
    return keras.Model(z, keras.layers.Reshape((size, size, 3))(x))


def _problem(n=3, size=8, seed=0):
    G = _linear_generator(size)
    rng = np.random.default_rng(seed)
    truth = backend.to_numpy(G(rng.uniform(-0.8, 0.8, (n, 6)).astype(np.float32)))
    holes = np.zeros((n, size, size, 1), np.float32)
    holes[:, 2:6, 2:6] = 1
    return G, truth, holes


def test_search_falls_keeps_known_pixels_and_clips():
    G, truth, holes = _problem()
    search = semantic.LatentSearch(G, [semantic.ContextLoss()], iters=60, restarts=2, lr=0.05, seed=0)
    r = search.run(truth, holes, snapshot_every=20)
    first, last = r.history[0]["loss"], r.history[-1]["loss"]
    assert last < 0.5 * first
    assert r.z.shape == (3, 6) and r.z.min() >= -1 and r.z.max() <= 1
    known = holes[..., 0] < 0.5
    for out in (r.blended, r.composite):
        assert out.shape == truth.shape
        assert np.array_equal(out[known], truth[known])
    assert [i for i, _ in r.snapshots] == [0, 20, 40, 60] and r.snapshot_losses.shape == (4, 3, 2)
    assert r.seconds_per_image > 0 and r.iterations_per_second > 0
    # the hole is filled better than by grey
    err = np.abs(r.composite - truth)[~known].mean()
    assert err < np.abs(0.5 - truth)[~known].mean()
    # a huge learning rate pushes z against the box: clipping holds it in [-1, 1]
    big = semantic.LatentSearch(G, [semantic.ContextLoss()], iters=5, restarts=1, lr=5.0).run(truth, holes)
    assert big.z.min() >= -1 and big.z.max() <= 1 and np.isclose(np.abs(big.z).max(), 1)


def test_best_restart_is_kept():
    G, _, holes = _problem(n=2)
    search = semantic.LatentSearch(G, [semantic.ContextLoss()], iters=3, restarts=3, lr=0.0, seed=5)
    z0 = search.initial_z(2).reshape(2, 3, 6)
    # image 0 is exactly restart 2's image, image 1 restart 1's: with lr 0 those have zero loss
    target = backend.to_numpy(G(np.stack([z0[0, 2], z0[1, 1]])))
    r = search.run(target, holes)
    assert list(r.best_restart) == [2, 1]
    assert np.allclose(r.losses["total"], 0, atol=1e-5)
    assert np.allclose(r.restart_losses.min(1), r.losses["total"])
    assert np.allclose(r.z, [z0[0, 2], z0[1, 1]])


def test_best_of_n_start_keeps_the_codes_that_fit_the_known_pixels():
    G, _, holes = _problem(n=2)
    search = semantic.LatentSearch(G, [semantic.ContextLoss()], iters=1, restarts=2, lr=0.0, seed=3, candidates=50)
    pool = [np.random.default_rng(3 + i).uniform(-1, 1, (50, 6)).astype(np.float32) for i in range(2)]
    # image 0 is candidate 17's image, image 1 candidate 41's: each must start from its own exact code
    target = backend.to_numpy(G(np.stack([pool[0][17], pool[1][41]])))
    start = search.start_codes(target, holes).reshape(2, 2, 6)
    assert np.array_equal(start[0, 0], pool[0][17]) and np.array_equal(start[1, 0], pool[1][41])
    w = semantic.importance_weights(holes)
    for i in range(2):                    # the second start code is the next best of the pool, by hand
        loss = (w[i] * np.abs(backend.to_numpy(G(pool[i])) - target[i])).sum((1, 2, 3))
        assert np.array_equal(start[i, 1], pool[i][np.argsort(loss)[1]])
    r = search.run(target, holes)         # lr 0: the search keeps the exact codes, loss 0
    assert np.allclose(r.losses["total"], 0, atol=1e-5)
    plain = semantic.LatentSearch(G, [semantic.ContextLoss()], iters=1, restarts=2, seed=3)
    assert np.array_equal(plain.start_codes(target, holes), plain.initial_z(2))
    with pytest.raises(InpaintkitError, match=r"candidates: expected at least restarts \(2\)"):
        semantic.LatentSearch(G, [semantic.ContextLoss()], restarts=2, candidates=1)


def test_loss_at_and_the_search_on_the_generators_own_images():
    G, _, holes = _problem(n=3)
    search = semantic.LatentSearch(G, [semantic.ContextLoss()], iters=40, restarts=2, lr=0.05, seed=0)
    own = semantic.search_own_samples(search, holes, seed=9)
    codes = np.random.default_rng(9).uniform(-1, 1, (3, 6)).astype(np.float32)
    assert np.array_equal(own["codes"], codes)
    assert np.allclose(own["images"], np.clip(backend.to_numpy(G(codes)), 0, 1))
    assert np.allclose(own["true_loss"], 0, atol=1e-5)        # the true code fits the known pixels exactly
    assert np.allclose(own["found_loss"], own["result"].losses["total"])
    assert np.allclose(own["z_error"], np.sqrt(((own["result"].z - codes) ** 2).mean(1)))
    # loss_at at any codes equals the context loss computed by hand
    z = np.full((3, 6), 0.3, np.float32)
    w = semantic.importance_weights(holes)
    by_hand = (w * np.abs(backend.to_numpy(G(z)) - own["images"])).sum((1, 2, 3))
    assert np.allclose(search.loss_at(z, own["images"], holes)["context"], by_hand, rtol=1e-5)
    with pytest.raises(InpaintkitError, match=r"z: expected codes of shape \(3, 6\)"):
        search.loss_at(z[:2], own["images"], holes)


def test_batched_equals_per_image():
    G, truth, holes = _problem(n=3)
    kw = dict(iters=25, restarts=2, lr=0.05)
    batched = semantic.LatentSearch(G, [semantic.ContextLoss()], seed=7, **kw).run(truth, holes)
    for i in range(3):
        single = semantic.LatentSearch(G, [semantic.ContextLoss()], seed=7 + i, **kw).run(truth[i:i + 1], holes[i:i + 1])
        assert np.allclose(single.z[0], batched.z[i], atol=1e-4)
        assert np.allclose(single.restart_losses[0], batched.restart_losses[i], rtol=1e-4, atol=1e-5)


def test_a_new_term_plugs_in_and_reruns_are_fresh():
    class ZNorm(semantic.Term):
        name = "znorm"

        def __call__(self, ctx):
            return keras.ops.sum(ctx.z ** 2, axis=1)

    G, truth, holes = _problem(n=2)
    search = semantic.LatentSearch(G, [semantic.ContextLoss(), ZNorm(weight=0.5)], iters=10, restarts=1, lr=0.05)
    a = search.run(truth, holes)
    assert set(a.losses) == {"context", "znorm", "total"}
    assert np.allclose(a.losses["znorm"], 0.5 * (a.z ** 2).sum(1), rtol=1e-4)
    assert np.allclose(a.losses["total"], a.losses["context"] + a.losses["znorm"], rtol=1e-5)
    b = search.run(truth, holes)          # the same search again: z and Adam start afresh
    assert np.allclose(a.z, b.z, atol=1e-6)


def test_bad_inputs():
    G, truth, holes = _problem(n=2)
    s = semantic.LatentSearch(G, [semantic.ContextLoss()], iters=2)
    with pytest.raises(InpaintkitError, match="images"):
        s.run(np.zeros((2, 16, 16, 3), np.float32), np.zeros((2, 16, 16, 1), np.float32))
    with pytest.raises(InpaintkitError, match="holes"):
        s.run(truth, holes[:, :4])
    with pytest.raises(InpaintkitError, match="images"):
        s.run(truth[0], holes[0])
    with pytest.raises(InpaintkitError, match="terms"):
        semantic.LatentSearch(G, [])
    with pytest.raises(InpaintkitError, match="terms"):
        semantic.LatentSearch(G, [semantic.ContextLoss(), semantic.ContextLoss()])
    with pytest.raises(InpaintkitError, match="iters"):
        semantic.LatentSearch(G, [semantic.ContextLoss()], iters=0)
    with pytest.raises(InpaintkitError, match="restarts"):
        semantic.LatentSearch(G, [semantic.ContextLoss()], restarts=0)
    with pytest.raises(InpaintkitError, match="weights"):
        semantic.inpaint_image(np.zeros((8, 8, 3), np.float32), np.ones((8, 8, 1), np.float32),
                               weights="/nonexistent/g.weights.h5")


@pytest.mark.skipif(not weights.available(semantic.GENERATOR), reason="shipped DCGAN weights not trained yet")
def test_inpaint_image_any_size_with_shipped_weights():
    from inpaintkit.data import toycars
    image = toycars.generate(1, size=64, seed=3)[0][0][:48, 4:60]       # 48 x 56, not the G's size
    mask = np.zeros((48, 56, 1), np.float32)
    mask[14:34, 18:40] = 1
    out = semantic.inpaint_image(image, mask, seed=0)
    assert out.shape == image.shape and out.dtype == np.float32
    assert np.array_equal(out[mask[..., 0] < 0.5], image[mask[..., 0] < 0.5])
    assert np.abs(out - image)[mask[..., 0] > 0].mean() < np.abs(0.5 - image)[mask[..., 0] > 0].mean()
    assert np.array_equal(semantic.inpaint_image(image, np.zeros_like(mask)), image)


def test_latent_search_on_torch():
    script = textwrap.dedent("""
        import json, numpy as np, keras
        from inpaintkit import backend, dcgan, semantic
        backend.seed(0)
        G, D = dcgan.generator(16, 0.125), dcgan.discriminator(16, 0.125)
        y = dcgan.sample(G, 2, seed=3)
        holes = np.zeros((2, 16, 16, 1), np.float32); holes[:, 4:12, 4:12] = 1
        r = semantic.LatentSearch(G, semantic.default_terms(D), iters=15, restarts=2, lr=0.05).run(y, holes)
        known = holes[..., 0] < 0.5
        own = semantic.search_own_samples(semantic.LatentSearch(G, semantic.default_terms(D), iters=5, restarts=2,
                                                                candidates=16), holes, seed=4)
        print(json.dumps({"backend": backend.NAME, "first": r.history[0]["loss"], "last": r.history[-1]["loss"],
                          "zmax": float(np.abs(r.z).max()), "exact": bool(np.array_equal(r.blended[known], y[known])),
                          "terms": sorted(r.losses), "own_true": float(np.abs(own["true_loss"]).max()),
                          "own_found": float(own["found_loss"].min())}))
    """)
    env = dict(os.environ, KERAS_BACKEND="torch", INPAINTKIT_NO_PROGRESS="1")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["backend"] == "torch" and r["exact"] and r["zmax"] <= 1
    assert r["last"] < r["first"] and r["terms"] == ["context", "prior", "total"]
    assert r["own_true"] < 0.05 and r["own_found"] > r["own_true"]     # best-of-N start and loss_at on torch


def test_load_models_by_shipped_name():
    """The kit's generator is the resize-convolution one; the first shipped generator still loads by
    name, with its own discriminator and its own architecture."""
    from inpaintkit import dcgan
    for name in (semantic.GENERATOR, "dcgan_toycars_generator"):
        if not weights.available(name):
            pytest.skip(f"{name} is not shipped")
    G, D = semantic.load_models()
    assert any(type(l).__name__ == "UpSampling2D" for l in G.layers) and D is not None
    x = dcgan.sample(G, 2, seed=0)
    assert x.shape == (2, 64, 64, 3) and np.isfinite(backend.to_numpy(D(x, training=False))).all()
    G0, D0 = semantic.load_models("dcgan_toycars_generator")
    assert not any(type(l).__name__ == "UpSampling2D" for l in G0.layers) and D0 is not None
    assert np.isfinite(backend.to_numpy(D0(dcgan.sample(G0, 2, seed=0), training=False))).all()
