"""Everything that depends on which backend runs Keras, in one small module.

Models and losses in the kit are written with ``keras.ops`` and run unchanged on
TensorFlow and PyTorch (set ``KERAS_BACKEND`` before importing keras). Only one
thing differs: how a gradient step is computed. :func:`train_step` hides that::

    step = train_step(loss_fn, model.trainable_weights, keras.optimizers.Adam(1e-3))
    logs = step(x, y)        # one optimiser update; returns {'loss': 0.42, ...}

``loss_fn(*inputs)`` returns ``(loss, logs)`` where ``logs`` is a dict of scalar
tensors to report. The same call trains a network (variables = its weights),
optimises a latent code (variables = ``[z]``) or the pixels of an image.

* TensorFlow: ``tf.GradientTape`` inside ``tf.function`` (XLA with ``jit=True``).
* PyTorch: ``torch.autograd.grad`` then ``optimizer.apply`` under ``torch.no_grad()``.
"""
from __future__ import annotations

import os
from typing import Callable, Sequence

import keras
import numpy as np

from .errors import InpaintkitError

NAME = keras.backend.backend()
SUPPORTED = ("tensorflow", "torch")

LossFn = Callable[..., tuple]


def require_supported() -> None:
    if NAME not in SUPPORTED:
        raise InpaintkitError(
            f"KERAS_BACKEND: expected one of {', '.join(SUPPORTED)} for training, got {NAME!r}")


def seed(value: int) -> None:
    """Seed Python, NumPy and the backend's random generators."""
    keras.utils.set_random_seed(int(value))


def to_numpy(x) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(x))


def _floats(logs: dict) -> dict:
    return {k: float(to_numpy(v)) for k, v in logs.items()}


def accelerators() -> list[str]:
    """Names of the GPUs the active backend can use (empty on a CPU-only machine)."""
    if NAME == "torch":
        import torch
        return [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
    if NAME == "tensorflow":
        import tensorflow as tf
        return [d.name for d in tf.config.list_physical_devices("GPU")]
    if NAME == "jax":
        import jax
        return [str(d) for d in jax.devices() if d.platform != "cpu"]
    return []


def backend_version() -> str:
    mod = {"tensorflow": "tensorflow", "torch": "torch", "jax": "jax"}.get(NAME)
    if mod is None:
        return "?"
    return __import__(mod).__version__


def train_step(loss_fn: LossFn, variables: Sequence, optimizer: keras.optimizers.Optimizer,
               *, jit: bool = True, post_update: Callable[[], None] | None = None):
    """Compile one optimisation step of ``loss_fn`` w.r.t. ``variables``.

    Returns ``step(*inputs) -> dict[str, float]`` with ``'loss'`` and every entry
    of the ``logs`` dict returned by ``loss_fn``. ``post_update`` runs after each
    update (e.g. clipping a latent code to [-1, 1]). ``jit=True`` compiles the step
    with XLA on TensorFlow; on PyTorch the step runs eagerly.
    """
    require_supported()
    variables = list(variables)
    if not variables:
        raise InpaintkitError("variables: expected at least one trainable variable, got none")
    optimizer.build(variables)

    if NAME == "tensorflow":
        import tensorflow as tf

        def _step(*inputs):
            with tf.GradientTape() as tape:
                loss, logs = loss_fn(*inputs)
            grads = tape.gradient(loss, variables)
            grads = [tf.zeros_like(v) if g is None else g for g, v in zip(grads, variables)]
            optimizer.apply(grads, variables)
            if post_update is not None:
                post_update()
            return {"loss": loss, **logs}

        compiled = tf.function(_step, jit_compile=jit, reduce_retracing=True)

        def step(*inputs):
            return _floats(compiled(*inputs))

        return step

    import torch

    values = [v.value for v in variables]

    def step(*inputs):
        inputs = [keras.ops.convert_to_tensor(x) if isinstance(x, np.ndarray) else x for x in inputs]
        loss, logs = loss_fn(*inputs)
        grads = torch.autograd.grad(loss, values, allow_unused=True)
        grads = [torch.zeros_like(v) if g is None else g for g, v in zip(grads, values)]
        with torch.no_grad():
            optimizer.apply(grads, variables)
            if post_update is not None:
                post_update()
        return _floats({"loss": loss.detach(), **{k: v.detach() for k, v in logs.items()}})

    return step


def function(fn: Callable, *, jit: bool = True) -> Callable:
    """Compile a forward-only function (no gradients), e.g. batched inference."""
    if NAME == "tensorflow":
        import tensorflow as tf
        return tf.function(fn, jit_compile=jit, reduce_retracing=True)
    if NAME == "torch":
        import torch

        def run(*args, **kwargs):
            with torch.no_grad():
                return fn(*args, **kwargs)
        return run
    return fn


def threads() -> int:
    """CPU threads available to this process."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS
        return os.cpu_count() or 1
