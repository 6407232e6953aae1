"""The global and local context discriminators of Iizuka et al. (2017).

Both are stacks of 5×5 stride-2 convolutions (+ BatchNorm + ReLU) ending in a 1024-unit
fully connected layer; their outputs are concatenated and a last fully connected layer gives
one number per image. The paper uses six convolutions for the 256² global view and five for the
128² local patch (the final maps are 4×4); here the number follows the input size the same way.

The kit's discriminator returns a **logit** (no sigmoid): the losses use binary cross-entropy
``from_logits=True``, which is the same loss as sigmoid + BCE but numerically stable.
``keras.ops.sigmoid(logit)`` is the paper's D(x, M) = P(real).
"""
from __future__ import annotations

import math

import keras
from keras import layers, ops
from ..backend import BatchNormalization

from ..errors import InpaintkitError, check_float, check_int

CHANNELS = (64, 128, 256, 512, 512, 512)


def n_convs(size: int, final: int = 4) -> int:
    """Stride-2 convolutions that take ``size`` down to ``final``: 6 for 256², 5 for 128²."""
    n = int(round(math.log2(size / final)))
    return max(1, n)


def _scaled(c: int, width: float) -> int:
    return max(1, int(round(c * width)))


def _branch(x, n: int, width: float, prefix: str):
    for i in range(n):
        c = CHANNELS[min(i, len(CHANNELS) - 1)]
        x = layers.Conv2D(_scaled(c, width), 5, strides=2, padding="same", name=f"{prefix}_conv{i + 1}")(x)
        x = BatchNormalization(momentum=0.9, name=f"{prefix}_bn{i + 1}")(x)
        x = layers.ReLU(name=f"{prefix}_relu{i + 1}")(x)
    x = layers.Flatten(name=f"{prefix}_flatten")(x)
    return layers.Dense(1024, name=f"{prefix}_fc")(x)


def global_discriminator(size: int, width: float = 1.0) -> keras.Model:
    """Whole image ``(size, size, 3)`` -> 1024 features."""
    size = check_int("size", size, minimum=8)
    inp = keras.Input((size, size, 3), name="image")
    return keras.Model(inp, _branch(inp, n_convs(size), width, "global"), name="global_discriminator")


def local_discriminator(patch: int, width: float = 1.0) -> keras.Model:
    """Patch around the hole ``(patch, patch, 3)`` -> 1024 features."""
    patch = check_int("patch", patch, minimum=4)
    inp = keras.Input((patch, patch, 3), name="patch")
    return keras.Model(inp, _branch(inp, n_convs(patch), width, "local"), name="local_discriminator")


def discriminator(size: int, width: float = 1.0, patch: int | None = None) -> keras.Model:
    """``[image (size²), patch (size/2 ²)] -> logit`` (N, 1): the concatenated context discriminator."""
    size = check_int("size", size, minimum=8)
    width = check_float("width", width, minimum=1e-3, maximum=8.0)
    patch = size // 2 if patch is None else check_int("patch", patch, minimum=4, maximum=size)
    if size % 2:
        raise InpaintkitError(f"size: expected an even image side, got {size}")
    g, l = global_discriminator(size, width), local_discriminator(patch, width)
    image = keras.Input((size, size, 3), name="image")
    local = keras.Input((patch, patch, 3), name="patch")
    x = layers.Concatenate(name="concat")([g(image), l(local)])
    logit = layers.Dense(1, name="logit")(x)
    model = keras.Model([image, local], logit, name="context_discriminator")
    model.patch_size = patch
    return model


def crop(images, corners, patch: int):
    """Crop ``patch``² windows whose top-left corners are ``corners`` (N, 2) int: a static-shape
    gather (XLA-friendly, differentiable w.r.t. ``images``)."""
    corners = ops.cast(ops.convert_to_tensor(corners), "int32")
    n = ops.shape(images)[0]
    c = ops.shape(images)[-1]
    w = ops.shape(images)[2]
    offs = ops.arange(patch, dtype="int32")
    rows = ops.reshape(corners[:, 0:1] + offs[None, :], (-1, patch, 1, 1))
    rows = ops.broadcast_to(rows, (n, patch, w, c))
    x = ops.take_along_axis(images, rows, axis=1)                   # (N, patch, W, C)
    cols = ops.reshape(corners[:, 1:2] + offs[None, :], (-1, 1, patch, 1))
    cols = ops.broadcast_to(cols, (n, patch, patch, c))
    return ops.take_along_axis(x, cols, axis=2)                     # (N, patch, patch, C)


def count_stride2_convs(model: keras.Model) -> int:
    return sum(1 for l in model.layers if isinstance(l, layers.Conv2D) and l.strides == (2, 2))


def macs(model: keras.Model, size: int) -> int:
    """Multiply-accumulates of one forward pass of :func:`discriminator` on one image."""
    from .completion import conv_macs
    total = 0
    for layer in model.layers:
        if isinstance(layer, keras.Model):
            total += conv_macs(layer, layer.input.shape[1])
        elif isinstance(layer, layers.Dense):
            total += layer.input.shape[-1] * layer.units
    return int(total)
