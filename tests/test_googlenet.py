"""GoogLeNet for small images: layer names, shapes, the feature extractor, the one input range."""
import numpy as np
import pytest

from inpaintkit import classifier, googlenet
from inpaintkit.errors import InpaintkitError


@pytest.fixture(scope="module")
def net():
    return googlenet.googlenet(32, n_classes=5, width=0.25)


@pytest.fixture(scope="module")
def images():
    return np.random.default_rng(0).uniform(size=(4, 32, 32, 3)).astype("float32")


def test_original_layer_names_are_there(net):
    names = {l.name for l in net.layers}
    for n in ("conv1", "conv2_reduce", "conv2", "inception_3a", "inception_3b", "inception_4a", "inception_4b",
              "inception_4c", "inception_4d", "inception_4e", "inception_5a", "inception_5b", "pool5",
              "logits", "softmax", "normalize"):
        assert n in names, n


def test_output_is_a_probability_per_class(net, images):
    p = googlenet.predict(net, images)
    assert p.shape == (4, 5)
    np.testing.assert_allclose(p.sum(axis=1), 1.0, atol=1e-5)


def test_small_image_adaptation_keeps_resolution(net):
    # first conv has stride 1: conv1 is at full resolution, inception_3 at 1/4, 4 at 1/8, 5 at 1/16
    f = googlenet.feature_extractor(net, ["conv1", "inception_3b", "inception_4b", "inception_5b"])
    shapes = {k: tuple(v.shape[1:]) for k, v in f.output.items()}
    assert shapes["conv1"][:2] == (32, 32)
    assert shapes["inception_3b"][:2] == (8, 8)
    assert shapes["inception_4b"][:2] == (4, 4)
    assert shapes["inception_5b"][:2] == (2, 2)
    # width 0.25 of the paper's 480 channels of inception_3b (128+192+96+64)
    assert shapes["inception_3b"][2] == 32 + 48 + 24 + 16


def test_width_multiplier_scales_parameters():
    small = googlenet.googlenet(32, n_classes=5, width=0.25).count_params()
    big = googlenet.googlenet(32, n_classes=5, width=0.5).count_params()
    assert 3 < big / small < 4.5


def test_feature_extractor_returns_the_requested_layers(net, images):
    out = googlenet.features(net, images, ["inception_3b", "softmax"])
    assert sorted(out) == ["inception_3b", "softmax"]
    assert out["inception_3b"].shape[0] == 4
    with pytest.raises(InpaintkitError, match="layers"):
        googlenet.feature_extractor(net, ["inception_9z"])


def test_one_input_range_and_one_code_path(net, images):
    # features and class probabilities go through the same normalisation (sem_inpainting's bug:
    # a classifier trained on one range and fed another at inpainting time)
    p = googlenet.predict(net, images)
    same = googlenet.features(net, images, "softmax")["softmax"]
    np.testing.assert_allclose(p, same, atol=1e-6)
    assert net.layers[1].name == "normalize"
    norm = googlenet.feature_extractor(net, "normalize")
    mean_image = np.broadcast_to(np.array(googlenet.MEAN, "float32"), (1, 32, 32, 3))
    np.testing.assert_allclose(np.asarray(norm(mean_image)["normalize"]), 0.0, atol=1e-6)
    # the wrong ranges are refused with a message naming the argument
    with pytest.raises(InpaintkitError, match=r"images: expected values in \[0, 1\]"):
        googlenet.predict(net, images * 255.0)
    with pytest.raises(InpaintkitError, match=r"images: expected values in \[0, 1\]"):
        googlenet.predict(net, images * 2.0 - 1.0)
    with pytest.raises(InpaintkitError, match="uint8"):
        googlenet.predict(net, (images * 255).astype(np.uint8))


def test_bad_arguments():
    with pytest.raises(InpaintkitError, match="size"):
        googlenet.googlenet(40)
    with pytest.raises(InpaintkitError, match="n_classes"):
        googlenet.googlenet(32, n_classes=1)


def test_evaluation_counts_and_augmentation(net, images):
    labels = np.array([0, 1, 2, 3])
    r = classifier.evaluate(net, images, labels, list("abcde"))
    assert r["confusion"].shape == (5, 5) and r["confusion"].sum() == 4
    assert r["accuracy"] == pytest.approx(np.trace(r["confusion"]) / 4)
    assert np.isnan(r["per_class"]["e"])       # no test images of class e
    with pytest.raises(InpaintkitError, match="labels"):
        classifier.evaluate(net, images, np.array([0, 1, 2, 9]))
    a = classifier.augment(images, np.random.default_rng(0))
    assert a.shape == images.shape and a.min() >= 0 and a.max() <= 1 and not np.allclose(a, images)


def test_train_on_stanford_cars_layout_checkpoints_and_resumes(tmp_path):
    from inpaintkit.data import stanford_cars
    stanford_cars.make_fixture(tmp_path / "cars", n_train=8, n_test=4, size=32)
    x, y, xt, yt, names = classifier.dataset("stanford_cars", root=tmp_path / "cars", size=32)
    assert x.shape == (8, 32, 32, 3) and xt.shape == (4, 32, 32, 3) and len(names) > int(y.max())
    with pytest.raises(InpaintkitError, match="root"):
        classifier.dataset("stanford_cars")
    model = googlenet.googlenet(32, n_classes=len(names), width=0.25)
    run = tmp_path / "run"
    h = classifier.train(model, x, y, steps=2, batch_size=4, directory=run, checkpoint_every=1)
    assert len(h) == 2 and (run / "classifier.weights.h5").exists()
    h = classifier.train(model, x, y, steps=4, batch_size=4, directory=run, checkpoint_every=1)
    assert [r["step"] for r in h] == [1, 2, 3, 4]          # resumed at step 2, not from scratch
    assert np.isfinite(h[-1]["loss"])
