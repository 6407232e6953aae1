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

import atexit
import os
import sys
from typing import Callable, Sequence

import numpy as np

from .errors import InpaintkitError

SUPPORTED = ("tensorflow", "torch")


def _import_keras():
    """``import keras`` with a one-line error for a KERAS_BACKEND the kit does not run on (Keras
    itself gives a long traceback, and for ``jax`` says to install JAX, which would not help)."""
    env = os.environ.get("KERAS_BACKEND")
    if env is not None and env not in SUPPORTED:
        raise InpaintkitError(f"KERAS_BACKEND: expected {' or '.join(SUPPORTED)} (the backends inpaintkit runs on; "
                              f"JAX is not supported), got {env!r}; unset it or set KERAS_BACKEND=tensorflow")
    try:
        import keras
    except ImportError as e:
        raise InpaintkitError(f"KERAS_BACKEND: expected an installed backend ({' or '.join(SUPPORTED)}), got "
                              f"{env or 'the default'!r} failing to import ({type(e).__name__}: {e}); "
                              "install it (see README)") from None
    return keras


keras = _import_keras()
NAME = keras.backend.backend()

LossFn = Callable[..., tuple]


def require_supported() -> None:
    if NAME not in SUPPORTED:
        raise InpaintkitError(
            f"KERAS_BACKEND: expected one of {', '.join(SUPPORTED)} for training, got {NAME!r}")


def seed(value: int) -> None:
    """Seed Python, NumPy and the backend's random generators.

    ``keras.utils.set_random_seed`` also imports TensorFlow when it is installed, whatever the backend.
    On PyTorch that put TensorFlow's and PyTorch's native runtimes (oneDNN, OpenMP) into one process:
    a PyTorch CPU backward then crashed now and then (SIGSEGV; "corrupted size vs. prev_size"). Without
    TensorFlow as the backend, and not yet imported, the kit does what that function does, without it."""
    value = int(value)
    if NAME == "tensorflow" or "tensorflow" in sys.modules:
        keras.utils.set_random_seed(value)
        return
    import random

    from keras.src.backend.common import global_state
    from keras.src.random import seed_generator
    from keras.src.utils import rng_utils
    global_state.set_global_attribute(rng_utils.GLOBAL_RANDOM_SEED, value)
    global_state.set_global_attribute(seed_generator.GLOBAL_SEED_GENERATOR, None)
    random.seed(value)
    np.random.seed(value)
    if NAME == "torch":
        import torch
        torch.manual_seed(value)


def to_numpy(x) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(x))


def _floats(logs: dict) -> dict:
    logs = {k: keras.ops.cast(v, "float32") for k, v in logs.items()}     # bf16 scalars under mixed precision
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


def replicas() -> int:
    """How many data-parallel replicas a training step is split over (1 = no data parallelism)."""
    if NAME == "tensorflow":
        import tensorflow as tf
        return tf.distribute.get_strategy().num_replicas_in_sync
    if NAME == "torch":
        import torch.distributed as dist
        return dist.get_world_size() if dist.is_available() and dist.is_initialized() else 1
    return 1


def data_parallel(devices: Sequence[str] | None = None) -> int:
    """Train data-parallel on every visible accelerator (or ``devices``) from now on.

    Call it before building models (``presets.active()`` does for the ``paper`` preset).
    TensorFlow: a ``MirroredStrategy`` becomes the default strategy, so models and optimisers
    get mirrored variables and :func:`train_step` splits each batch over the replicas and
    all-reduces the gradients. PyTorch: in processes started by ``torchrun`` it joins the
    process group (NCCL on GPUs, Gloo on CPUs); every process draws the same global batch,
    :func:`train_step` keeps its own slice and averages gradients with ``all_reduce``, which is
    what ``DistributedDataParallel`` does. Returns the number of replicas.
    """
    if NAME == "tensorflow":
        import tensorflow as tf
        if devices is None:
            devices = [d.name for d in tf.config.list_logical_devices("GPU")]
        if len(devices) > 1:
            tf.distribute.experimental_set_strategy(tf.distribute.MirroredStrategy(list(devices)))
    elif NAME == "torch":
        import torch
        import torch.distributed as dist
        if int(os.environ.get("WORLD_SIZE", "1")) > 1 and not dist.is_initialized():
            dist.init_process_group("nccl" if torch.cuda.is_available() else "gloo")
            # leave the group before the interpreter tears down: a process that exits while Gloo's
            # worker threads still hold tensors aborts ("terminate called without an active exception")
            atexit.register(lambda: dist.destroy_process_group() if dist.is_initialized() else None)
            if torch.cuda.is_available():
                torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
    return replicas()


def _shard(x, index: int, count: int):
    """This replica's slice of a batch (arrays whose first axis is divisible by ``count``)."""
    if isinstance(x, np.ndarray) and x.ndim and x.shape[0] % count == 0:
        size = x.shape[0] // count
        return x[index * size:(index + 1) * size]
    return x


# torch.compile for PyTorch steps with jit=True: off unless INPAINTKIT_TORCH_COMPILE=1 (measured as a lever
# in docs/benchmarks.md; not yet tried on a GPU, where jit defaults to True).
TORCH_COMPILE = os.environ.get("INPAINTKIT_TORCH_COMPILE") == "1"

# PyTorch's oneDNN (mkldnn) CPU kernels: on unless INPAINTKIT_TORCH_ONEDNN=0. PyTorch 2.13's CPU backward
# of the evaluator's small ResNet crashes now and then through them (SIGSEGV / SIGABRT in autograd.grad)
# when another busy process shares the 2 cores: 7 of 22 runs in pairs crashed with oneDNN on, 0 of 20 with
# it off (this AVX-512 CPU, 2026-12-01). The test suite turns it off (conftest.py); training speed on the
# PyTorch backend is measured with it on (docs/benchmarks.md).
TORCH_ONEDNN = os.environ.get("INPAINTKIT_TORCH_ONEDNN", "1") != "0"
if NAME == "torch" and not TORCH_ONEDNN:
    import torch as _torch
    _torch.backends.mkldnn.enabled = False


def train_step(loss_fn: LossFn, variables: Sequence, optimizer: keras.optimizers.Optimizer,
               *, jit: bool = True, post_update: Callable[[], None] | None = None,
               split_batch: bool = True):
    """Compile one optimisation step of ``loss_fn`` w.r.t. ``variables``.

    Returns ``step(*inputs) -> dict[str, float]`` with ``'loss'`` and every entry
    of the ``logs`` dict returned by ``loss_fn``. ``post_update`` runs after each
    update (e.g. clipping a latent code to [-1, 1]). ``jit=True`` compiles the step
    with XLA on TensorFlow; on PyTorch the step runs eagerly unless :data:`TORCH_COMPILE` is set
    (then ``jit=True`` compiles the forward pass, loss and logs, with ``torch.compile``; the
    gradient and the update stay eager). Under :func:`data_parallel`
    each numpy input's batch is split over the replicas (``split_batch=False`` for steps
    whose variables are per example, such as a latent search: then every replica runs the whole
    batch, which gives the single-device result without a speed-up).
    """
    require_supported()
    variables = list(variables)
    if not variables:
        raise InpaintkitError("variables: expected at least one trainable variable, got none")
    optimizer.build(variables)

    if NAME == "tensorflow":
        import tensorflow as tf

        strategy = tf.distribute.get_strategy()
        n = strategy.num_replicas_in_sync

        def _step(*inputs):
            with tf.GradientTape() as tape:
                loss, logs = loss_fn(*inputs)
                scaled = loss / n if n > 1 else loss  # the optimiser sums replica gradients
            grads = tape.gradient(scaled, variables)
            grads = [tf.zeros_like(v) if g is None else g for g, v in zip(grads, variables)]
            optimizer.apply(grads, variables)
            if post_update is not None:
                post_update()
            return {"loss": loss, **logs}

        if n == 1:
            compiled = tf.function(_step, jit_compile=jit, reduce_retracing=True)

            def step(*inputs):
                return _floats(compiled(*inputs))

            return step

        @tf.function
        def _distributed(*inputs):
            per_replica = strategy.run(_step, args=inputs)
            return {k: strategy.reduce(tf.distribute.ReduceOp.MEAN, v, axis=None) for k, v in per_replica.items()}

        def step(*inputs):
            if not split_batch:     # per-example variables: every replica takes the whole batch
                return _floats(_distributed(*inputs))
            dist_inputs = [strategy.experimental_distribute_values_from_function(
                lambda ctx, x=x: _shard(x, ctx.replica_id_in_sync_group, n)) for x in inputs]
            return _floats(_distributed(*dist_inputs))

        return step

    import torch

    values = [v.value for v in variables]

    n = replicas() if split_batch else 1
    rank = torch.distributed.get_rank() if n > 1 else 0
    if n > 1:                     # every process starts from rank 0's weights
        with torch.no_grad():
            for v in values:
                torch.distributed.broadcast(v, 0)

    forward = torch.compile(loss_fn) if jit and TORCH_COMPILE else loss_fn

    def step(*inputs):
        if n > 1:
            inputs = [_shard(x, rank, n) for x in inputs]
        inputs = [keras.ops.convert_to_tensor(x) if isinstance(x, np.ndarray) else x for x in inputs]
        loss, logs = forward(*inputs)
        grads = torch.autograd.grad(loss, values, allow_unused=True)
        grads = [torch.zeros_like(v) if g is None else g for g, v in zip(grads, values)]
        if n > 1:                 # average gradients over processes, as DistributedDataParallel does
            for g in grads:
                torch.distributed.all_reduce(g)
                g /= n
        with torch.no_grad():
            optimizer.apply(grads, variables)
            if post_update is not None:
                post_update()
        return _floats({"loss": loss.detach(), **{k: v.detach() for k, v in logs.items()}})

    return step


def input_gradient(fn: Callable, x):
    """``(y, dy/dx)`` with ``y = fn(x)`` and the gradient of ``sum(y)`` w.r.t. the input ``x``, kept
    differentiable, so that a loss built from it can itself be differentiated inside
    :func:`train_step` (double backpropagation, e.g. the R1 gradient penalty of a discriminator)."""
    if NAME == "tensorflow":
        import tensorflow as tf
        x = tf.convert_to_tensor(x)
        with tf.GradientTape() as tape:
            tape.watch(x)
            y = fn(x)
            total = tf.reduce_sum(tf.cast(y, "float32"))
        return y, tape.gradient(total, x)
    if NAME == "torch":
        import torch
        x = keras.ops.convert_to_tensor(x).detach().requires_grad_(True)
        y = fn(x)
        (g,) = torch.autograd.grad(y.float().sum(), x, create_graph=True)
        return y, g
    raise InpaintkitError(f"KERAS_BACKEND: input gradients are implemented for tensorflow and torch, got {NAME!r}")


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


# ----- numeric precision -------------------------------------------------------------------------
PRECISIONS = ("auto", "float32", "mixed_bfloat16")


def auto_precision() -> str:
    """``"mixed_bfloat16"`` where bf16 is computed in hardware by the CPU that trains (AVX512-BF16 or
    AMX, :func:`inpaintkit.cpu.has_bf16`, no GPU in use), else ``"float32"``. Without those units
    bfloat16 is emulated and slower than float32 (docs/benchmarks.md, *Levers*)."""
    from .cpu import has_bf16
    return "mixed_bfloat16" if has_bf16() and not accelerators() else "float32"


def set_precision(precision: str = "auto") -> str:
    """Set Keras's global dtype policy before models are built: ``"float32"``, ``"mixed_bfloat16"``
    (weights and losses in float32, layer computation in bfloat16) or ``"auto"`` (:func:`auto_precision`).
    Returns the policy now in force."""
    if precision not in PRECISIONS:
        raise InpaintkitError(f"precision: expected one of {', '.join(PRECISIONS)}, got {precision!r}")
    name = auto_precision() if precision == "auto" else precision
    keras.mixed_precision.set_global_policy(name)
    return name


# ----- convolutions with large dilation ---------------------------------------------------------

def slow_native_dilation(dilation: int) -> bool:
    """Whether a 3x3 convolution with this dilation is faster written as a sum of shifted 1x1 products
    (:class:`inpaintkit.glcic.completion.Conv2D`) than as the backend's own dilated convolution
    (:func:`dilated_conv2d`): on TensorFlow, on a CPU without AVX-512, at dilation >= 4.

    Each line below was measured side by side on one machine, fwd + bwd at 16², 256 channels, batch 16
    (docs/benchmarks.md, *Where the time goes*; ``benchmarks/bench_dilated_conv.py``):

    * AVX2-only EPYC: Keras's kernel (``tf.nn.convolution``) 170 / 292 / 897 ms at dilation 2 / 4 / 8
      against 205 / 223 / 346 ms for the sum, so the sum from dilation 4 on. (``tf.nn.conv2d`` with
      ``dilations``, which :func:`dilated_conv2d` calls, was not measured on that CPU.)
    * AVX-512 + bf16 EPYC: ``tf.nn.conv2d`` with ``dilations`` 33 / 27 / 30 ms against 78 / 78 / 79 ms
      for the sum (and 36 / 51 / 107 ms for ``tf.nn.convolution``, which goes through space-to-batch):
      the native kernel everywhere.
    * PyTorch's kernel is faster than the sum at every dilation on both.

    Taps that only ever read the zero padding are skipped on every backend and CPU (at 64² the
    dilation-16 layer is a 1x1 convolution)."""
    from .cpu import has_avx512
    return NAME == "tensorflow" and dilation >= 4 and not accelerators() and not has_avx512()


def dilated_conv2d(inputs, kernel, dilation: int):
    """A "same", stride-1, channels-last 2-D convolution with this dilation, or None where Keras's own
    op is the one to use. On TensorFlow it calls ``tf.nn.conv2d(..., dilations=d)`` (oneDNN's dilated
    kernel): Keras's ``tf.nn.convolution`` rewrites dilation as space-to-batch, 3x slower at dilation 8
    on a 16² map (see :func:`slow_native_dilation`). Only where oneDNN runs it: on a CPU with AVX-512 and
    oneDNN not switched off (``TF_ENABLE_ONEDNN_OPTS=0``); TensorFlow's own CPU kernels refuse dilation in
    the filter gradient ("Current CPU implementations do not yet support dilation rates larger than 1")."""
    from .cpu import has_avx512
    if (NAME != "tensorflow" or accelerators() or not has_avx512()
            or os.environ.get("TF_ENABLE_ONEDNN_OPTS", "1") == "0"):
        return None
    import tensorflow as tf
    return tf.nn.conv2d(inputs, kernel, strides=1, padding="SAME", dilations=dilation)


# ----- batch normalisation as one kernel ---------------------------------------------------------

def fused_batch_norm(x, gamma, beta, epsilon: float, mean=None, variance=None):
    """Batch normalisation of a 4-D channels-last tensor as one kernel, where the backend has one.

    Training mode (``mean``/``variance`` None): returns ``(y, batch mean, batch variance)``, the
    variance biased (divided by n, as Keras's own layer uses it). Inference mode: normalises with the
    given statistics and returns ``(y, mean, variance)``. Returns None where there is no fused kernel
    (then the caller uses Keras's composite ops). On TensorFlow this is ``FusedBatchNormV3``, whose
    forward and backward passes are one oneDNN op each instead of the ten-odd element-wise ops of
    ``keras.ops.moments`` + ``batch_normalization`` (docs/benchmarks.md, *Levers*); on PyTorch it is
    ``torch.nn.functional.batch_norm`` on the channels-last view of the same memory."""
    if len(x.shape) != 4:
        return None
    if NAME == "torch":
        return _torch_batch_norm(x, gamma, beta, epsilon, mean, variance)
    if NAME != "tensorflow":
        return None
    import tensorflow as tf
    training = mean is None
    if training:
        y, m, v = tf.compat.v1.nn.fused_batch_norm(x, gamma, beta, epsilon=epsilon, is_training=True)
        n = tf.cast(tf.reduce_prod(tf.shape(x)[:-1]), v.dtype)
        return y, m, v * ((n - 1.0) / n)         # the kernel returns the unbiased (n - 1) variance
    y, _, _ = tf.compat.v1.nn.fused_batch_norm(x, gamma, beta, mean=mean, variance=variance, epsilon=epsilon,
                                               is_training=False)
    return y, mean, variance


def _torch_batch_norm(x, gamma, beta, epsilon, mean, variance):
    import torch
    import torch.nn.functional as F
    gamma, beta = (getattr(v, "value", v) for v in (gamma, beta))
    xc = x.permute(0, 3, 1, 2)                   # NCHW view of NHWC memory: torch's channels-last layout
    if mean is None:
        c = x.shape[-1]
        m = torch.zeros(c, dtype=torch.float32, device=x.device)
        v = torch.ones(c, dtype=torch.float32, device=x.device)
        y = F.batch_norm(xc, m, v, gamma, beta, training=True, momentum=1.0, eps=epsilon)  # m, v := batch stats
        n = x.numel() // c
        return y.permute(0, 2, 3, 1), m, v * ((n - 1.0) / n)     # torch stores the unbiased variance
    mean, variance = (getattr(v, "value", v) for v in (mean, variance))
    y = F.batch_norm(xc, mean, variance, gamma, beta, training=False, eps=epsilon)
    return y.permute(0, 2, 3, 1), mean, variance


@keras.saving.register_keras_serializable("inpaintkit")
class BatchNormalization(keras.layers.BatchNormalization):
    """Keras's ``BatchNormalization`` (same arguments, weights and results up to float rounding), run
    as one fused kernel where :func:`fused_batch_norm` has one (4-D, channels last, no mask, no
    renorm); elsewhere exactly Keras's layer. Every network of the kit uses it."""

    def call(self, inputs, training=None, mask=None):
        if mask is not None or self.renorm or self.synchronized or len(inputs.shape) != 4 \
                or self.axis not in (-1, 3):
            return super().call(inputs, training=training, mask=mask)
        ops = keras.ops
        c = inputs.shape[-1]
        gamma = self.gamma if self.scale else ops.ones((c,), "float32")
        beta = self.beta if self.center else ops.zeros((c,), "float32")
        if training and self.trainable:
            r = fused_batch_norm(inputs, gamma, beta, self.epsilon)
            if r is None:
                return super().call(inputs, training=training, mask=mask)
            y, mean, variance = r
            self.moving_mean.assign(self.moving_mean * self.momentum + mean * (1.0 - self.momentum))
            self.moving_variance.assign(self.moving_variance * self.momentum + variance * (1.0 - self.momentum))
        else:
            r = fused_batch_norm(inputs, gamma, beta, self.epsilon, self.moving_mean, self.moving_variance)
            if r is None:
                return super().call(inputs, training=training, mask=mask)
            y = r[0]
        return ops.cast(y, self.compute_dtype)
