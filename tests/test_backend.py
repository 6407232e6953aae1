"""The backend-neutral training core, run on TensorFlow and on PyTorch in subprocesses."""
import os
import subprocess
import sys
import textwrap

import pytest

SCRIPT = textwrap.dedent("""
    import json, numpy as np, keras
    from inpaintkit import backend
    backend.seed(0)
    inp = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same")(inp)
    x = keras.layers.BatchNormalization()(x)
    x = keras.layers.ReLU()(x)
    out = keras.layers.Conv2D(3, 1)(x)
    model = keras.Model(inp, out)
    bn = model.layers[2]
    mean0 = backend.to_numpy(bn.moving_mean).copy()
    rng = np.random.default_rng(0)
    x = rng.uniform(size=(16, 8, 8, 3)).astype("float32")
    y = (x[..., ::-1] * 0.5).astype("float32")
    def loss_fn(x, y):
        pred = model(x, training=True)
        loss = keras.ops.mean((pred - y) ** 2)
        return loss, {"mae": keras.ops.mean(keras.ops.abs(pred - y))}
    step = backend.train_step(loss_fn, model.trainable_weights, keras.optimizers.Adam(1e-2))
    logs = [step(x, y) for _ in range(30)]
    # a latent-style variable with a post-update clip
    z = keras.Variable(np.full((4,), 0.9, "float32"))
    zstep = backend.train_step(lambda t: (keras.ops.sum((z - t) ** 2), {}), [z],
                               keras.optimizers.Adam(0.5), post_update=lambda: z.assign(keras.ops.clip(z, -1, 1)))
    for _ in range(10):
        zstep(np.full((4,), 3.0, "float32"))
    print(json.dumps({"first": logs[0]["loss"], "last": logs[-1]["loss"], "keys": sorted(logs[0]),
                      "bn_moved": float(np.abs(backend.to_numpy(bn.moving_mean) - mean0).max()),
                      "zmax": float(backend.to_numpy(z).max()), "backend": backend.NAME}))
""")


@pytest.mark.parametrize("name", ["tensorflow", "torch"])
def test_train_step_learns_and_updates_batchnorm(name):
    import json
    env = dict(os.environ, KERAS_BACKEND=name)
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["backend"] == name
    assert r["keys"] == ["loss", "mae"]
    assert r["last"] < 0.5 * r["first"], r
    assert r["bn_moved"] > 1e-4, "BatchNorm moving statistics did not update"
    assert r["zmax"] <= 1.0 + 1e-6, "post_update clip did not run"


def test_fused_batch_norm_is_keras_batch_norm():
    """backend.BatchNormalization (one fused kernel on TensorFlow) gives Keras's layer's outputs,
    moving statistics and gradients, in training and inference mode (run on the active backend)."""
    import keras
    import numpy as np
    from inpaintkit import backend
    x = np.random.default_rng(0).normal(2.0, 3.0, size=(4, 6, 6, 5)).astype("float32")
    ref, fused = keras.layers.BatchNormalization(momentum=0.9), backend.BatchNormalization(momentum=0.9)
    for layer in (ref, fused):
        layer.build(x.shape)
        layer.gamma.assign(np.linspace(0.5, 2.0, 5).astype("float32"))
        layer.beta.assign(np.arange(5, dtype="float32"))
    for training in (True, False):
        a, b = (backend.to_numpy(keras.ops.stop_gradient(layer(x, training=training))) for layer in (ref, fused))
        np.testing.assert_allclose(b, a, atol=1e-5)
    for attr in ("moving_mean", "moving_variance"):
        np.testing.assert_allclose(backend.to_numpy(getattr(fused, attr)), backend.to_numpy(getattr(ref, attr)),
                                   rtol=1e-6, atol=1e-6)
    assert np.abs(backend.to_numpy(fused.moving_mean)).max() > 0.1      # the statistics did move
    w = np.random.default_rng(1).normal(size=x.shape).astype("float32")    # a weighting that does not
    for training in (True, False):                                           # cancel in BN's gradient
        grads = []
        for layer in (ref, fused):
            v = keras.Variable(x)
            def loss_fn(layer=layer, v=v, training=training):
                y = layer(v, training=training)
                return keras.ops.sum(y * keras.ops.convert_to_tensor(w)), {}
            before = backend.to_numpy(v).copy()
            backend.train_step(loss_fn, [v], keras.optimizers.SGD(1.0), jit=False, split_batch=False)()
            grads.append(before - backend.to_numpy(v))
        np.testing.assert_allclose(grads[1], grads[0], rtol=1e-4, atol=1e-5 * np.abs(grads[0]).max())


R1_SCRIPT = textwrap.dedent("""
    import json, numpy as np, keras
    from inpaintkit import backend, dcgan
    w0 = np.array([0.5, -1.0, 2.0], "float32")
    w = keras.Variable(w0)
    x = np.array([[1.0, 2.0, 0.5], [0.0, 1.0, 3.0]], "float32")
    def loss_fn(x):
        y, g = backend.input_gradient(lambda t: keras.ops.sum(w * t ** 2, axis=1), x)
        return dcgan.r1_penalty(g), {"y": keras.ops.sum(y)}
    logs = backend.train_step(loss_fn, [w], keras.optimizers.SGD(1.0))(x)
    print(json.dumps({"penalty": logs["loss"], "y": logs["y"], "w": backend.to_numpy(w).tolist()}))
""")


@pytest.mark.parametrize("name", ["tensorflow", "torch"])
def test_input_gradient_double_backprop_r1(name):
    """R1 needs the gradient of a loss built from an input gradient: hand values on y = sum_j w_j x_j^2
    (grad = 2 w x; penalty = mean_i sum_j 4 w_j^2 x_ij^2; d penalty / d w_j = mean_i 8 w_j x_ij^2)."""
    import json
    import numpy as np
    env = dict(os.environ, KERAS_BACKEND=name)
    out = subprocess.run([sys.executable, "-c", R1_SCRIPT], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    w0 = np.array([0.5, -1.0, 2.0])
    x = np.array([[1.0, 2.0, 0.5], [0.0, 1.0, 3.0]])
    assert r["y"] == pytest.approx(float((w0 * x ** 2).sum()), rel=1e-5)
    assert r["penalty"] == pytest.approx(float((4 * w0 ** 2 * x ** 2).sum(axis=1).mean()), rel=1e-5)
    assert np.allclose(r["w"], w0 - (8 * w0 * x ** 2).mean(axis=0), rtol=1e-5)
