"""Data-parallel training (the paper preset on several accelerators), checked here on CPU:
TensorFlow with two logical CPU devices, PyTorch with two Gloo processes. One data-parallel
step on a batch must equal one single-device step on the whole batch."""
import json
import os
import socket
import subprocess
import sys
import textwrap

import numpy as np
import pytest

COMMON = """
import json, sys, numpy as np, keras
from inpaintkit import backend
def build():
    keras.utils.set_random_seed(0)
    inp = keras.Input((4,))
    h = keras.layers.Dense(8, activation="tanh")(inp)
    return keras.Model(inp, keras.layers.Dense(1)(h))
rng = np.random.default_rng(0)
x = rng.normal(size=(8, 4)).astype("float32"); y = x.sum(1, keepdims=True).astype("float32")
def fit(model, split):
    opt = keras.optimizers.SGD(0.1)
    loss_fn = lambda x, y: (keras.ops.mean((model(x, training=True) - y) ** 2), {})
    step = backend.train_step(loss_fn, model.trainable_weights, opt, split_batch=split)
    for _ in range(3):
        step(x, y)
    return [backend.to_numpy(v).tolist() for v in model.trainable_weights]
"""

TF_SCRIPT = """
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
""" + COMMON + """
single = fit(build(), split=False)
n = backend.data_parallel([d.name for d in tf.config.list_logical_devices("CPU")])
parallel = fit(build(), split=True)
print(json.dumps({"replicas": n, "single": single, "parallel": parallel}))
"""

SEARCH_SCRIPT = """
import json, numpy as np, tensorflow as tf, keras
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from inpaintkit import backend, dcgan, masks, semantic
def search():
    keras.utils.set_random_seed(0)
    G, D = dcgan.generator(16, 0.125), dcgan.discriminator(16, 0.125)
    x = np.random.default_rng(1).random((2, 16, 16, 3)).astype("float32")
    m = masks.batch("center_box", 2, 16)
    r = semantic.LatentSearch(G, semantic.default_terms(D), iters=4, restarts=2, jit=False).run(x, m)
    return r.blended.tolist()
single = search()
n = backend.data_parallel([d.name for d in tf.config.list_logical_devices("CPU")])
print(json.dumps({"replicas": n, "single": single, "parallel": search()}))
"""

TORCH_SCRIPT = COMMON + """
n = backend.data_parallel()
w = fit(build(), split=True)
if backend.replicas() == 1 or __import__("torch").distributed.get_rank() == 0:
    print(json.dumps({"replicas": n, "weights": w}))
"""


def run(script, env):
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def close(a, b):
    for u, v in zip(a, b):
        np.testing.assert_allclose(np.array(u), np.array(v), rtol=1e-4, atol=1e-5)


def test_tensorflow_mirrored_strategy_equals_single_device():
    r = run(TF_SCRIPT, dict(os.environ, KERAS_BACKEND="tensorflow", CUDA_VISIBLE_DEVICES=""))
    assert r["replicas"] == 2
    close(r["single"], r["parallel"])


def test_latent_search_under_mirrored_strategy_equals_single_device():
    """Per-image codes z are not split across replicas (split_batch=False): a search gives the same
    completions with the paper preset's MirroredStrategy as on one device."""
    r = run(SEARCH_SCRIPT, dict(os.environ, KERAS_BACKEND="tensorflow", CUDA_VISIBLE_DEVICES=""))
    assert r["replicas"] == 2
    np.testing.assert_allclose(np.array(r["single"]), np.array(r["parallel"]), atol=1e-4)


def test_torch_two_processes_equal_single_process():
    pytest.importorskip("torch")
    base = dict(os.environ, KERAS_BACKEND="torch", CUDA_VISIBLE_DEVICES="")
    single = run(TORCH_SCRIPT, base)
    assert single["replicas"] == 1
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    procs = []
    for rank in range(2):
        env = dict(base, MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port), WORLD_SIZE="2", RANK=str(rank),
                   LOCAL_RANK=str(rank))
        procs.append(subprocess.Popen([sys.executable, "-c", TORCH_SCRIPT], env=env, text=True,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE))
    outs = [p.communicate(timeout=300) for p in procs]
    for p, (_, err) in zip(procs, outs):
        assert p.returncode == 0, err[-3000:]
    r = json.loads(outs[0][0].strip().splitlines()[-1])
    assert r["replicas"] == 2
    close(single["weights"], r["weights"])
