"""Layer-wise reconstruction: the loss falls, images stay in [0, 1], z mode uses the generator."""
import numpy as np
import pytest

from inpaintkit import dcgan, googlenet, reconstruction
from inpaintkit.errors import InpaintkitError


@pytest.fixture(scope="module")
def net():
    from inpaintkit import backend
    backend.seed(0)
    return googlenet.googlenet(32, n_classes=4, width=0.25)


@pytest.fixture(scope="module")
def images():
    rng = np.random.default_rng(1)
    x = np.zeros((2, 32, 32, 3), np.float32)
    x[0, 8:24, 4:28] = (0.9, 0.2, 0.1)          # a red block
    x[1, :16] = (0.3, 0.5, 0.9)                  # sky over grass
    x[1, 16:] = (0.2, 0.7, 0.2)
    return np.clip(x + rng.normal(0, 0.02, x.shape), 0, 1).astype(np.float32)


def test_hand_values():
    t = np.array([[1.0, 2.0]], np.float32)
    assert float(reconstruction.normalised_error(t, t)[0]) == pytest.approx(0.0)
    assert float(reconstruction.normalised_error(np.zeros_like(t), t)[0]) == pytest.approx(1.0, rel=1e-5)
    p = np.array([[0.5, 0.5]], np.float32)
    q = np.array([[0.9, 0.1]], np.float32)
    expected = 0.5 * np.log(0.5 / 0.9) + 0.5 * np.log(0.5 / 0.1)
    assert float(reconstruction.kl(p, q)[0]) == pytest.approx(expected, rel=1e-5)
    flat = np.full((1, 4, 4, 3), 0.5, np.float32)
    assert float(reconstruction.total_variation(flat)[0]) == pytest.approx(0.0)


def test_pixel_reconstruction_loss_falls(net, images):
    r = reconstruction.Reconstructor(net, ["conv2", "softmax"], mode="pixels")
    res = r.run(images, iters=25, seed=0)
    assert res.images.shape == (2, 2, 32, 32, 3)
    assert res.images.min() >= 0 and res.images.max() <= 1
    first, last = res.history[0], res.history[-1]
    assert last["conv2"] < 0.7 * first["conv2"]
    assert res.losses.shape == (2, 2) and np.all(np.isfinite(res.losses))
    # reusing the compiled step with another seed starts from other noise
    again = r.run(images, iters=1, seed=1)
    assert not np.allclose(again.images, res.images)


def test_z_reconstruction_uses_the_generator(net, images):
    G = dcgan.generator(32, 0.25)
    res = reconstruction.reconstruct(net, images, ["inception_3b"], mode="z", generator=G, iters=15)
    assert res.images.shape == (1, 2, 32, 32, 3)
    assert res.history[-1]["inception_3b"] < res.history[0]["inception_3b"]


def test_bad_arguments(net, images):
    with pytest.raises(InpaintkitError, match="generator"):
        reconstruction.Reconstructor(net, ["conv2"], mode="z")
    with pytest.raises(InpaintkitError, match="mode"):
        reconstruction.Reconstructor(net, ["conv2"], mode="latent")
    with pytest.raises(InpaintkitError, match="layers"):
        reconstruction.Reconstructor(net, ["nope"])
    with pytest.raises(InpaintkitError, match="images"):
        reconstruction.reconstruct(net, images[:, :16, :16], ["conv2"], iters=1)


def test_shift_matrix_is_np_roll_on_both_axes():
    x = np.random.default_rng(0).random((2, 6, 6, 3)).astype(np.float32)
    for dh, dw in ((0, 0), (2, -1), (-3, 3)):
        y = np.einsum("gh,nhwc,vw->ngvc", reconstruction.shift_matrix(6, dh), x, reconstruction.shift_matrix(6, dw))
        assert np.allclose(y, np.roll(np.roll(x, dh, axis=1), dw, axis=2))


def test_jitter_moves_the_image_each_step_and_the_loss_still_falls(net, images):
    r = reconstruction.Reconstructor(net, ["conv2"], mode="pixels", jitter=2)
    res = r.run(images, iters=25, seed=0)
    assert res.history[-1]["conv2"] < 0.8 * res.history[0]["conv2"]
    plain = reconstruction.Reconstructor(net, ["conv2"], mode="pixels").run(images, iters=25, seed=0)
    assert not np.allclose(res.images, plain.images)          # the shifts reached the classifier
    with pytest.raises(InpaintkitError, match="jitter"):
        reconstruction.Reconstructor(net, ["conv2"], jitter=-1)
