"""The completion network C of Iizuka et al. (2017), "Globally and Locally Consistent Image Completion".

C takes the image with its hole filled by the training set's mean pixel plus the mask as a
4th channel (1 = hole) and returns a full RGB image in [0, 1] (sigmoid). Resolution drops only
to 1/4; four dilated convolutions (dilation 2, 4, 8, 16) widen the receptive field instead::

    net = completion_network(size=64, width=0.5)
    x = prepare_input(images, masks, mean_pixel)      # (N, 64, 64, 4)
    completed = net(x)                                # (N, 64, 64, 3) in [0, 1]

BatchNorm uses momentum 0.9 (PyTorch's default 0.1, as the common re-implementations) so the
moving statistics keep up within the few hundred steps of a class run.

At ``width=1.0`` it has the paper's 6.07 M parameters: 6,072,131 trainable (6,066,179 in the
convolutions, 5,952 BatchNorm scales and offsets) plus 5,952 BatchNorm moving statistics.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops
from ..backend import BatchNormalization

from ..errors import InpaintkitError, check_float, check_int

# (kind, kernel, dilation, stride, channels) -- the paper's Table 1, rows 1-17.
LAYERS = (
    ("conv", 5, 1, 1, 64),
    ("conv", 3, 1, 2, 128),
    ("conv", 3, 1, 1, 128),
    ("conv", 3, 1, 2, 256),
    ("conv", 3, 1, 1, 256),
    ("conv", 3, 1, 1, 256),
    ("dilated", 3, 2, 1, 256),
    ("dilated", 3, 4, 1, 256),
    ("dilated", 3, 8, 1, 256),
    ("dilated", 3, 16, 1, 256),
    ("conv", 3, 1, 1, 256),
    ("conv", 3, 1, 1, 256),
    ("deconv", 4, 1, 2, 128),
    ("conv", 3, 1, 1, 128),
    ("deconv", 4, 1, 2, 64),
    ("conv", 3, 1, 1, 32),
    ("output", 3, 1, 1, 3),
)

DEFAULT_MEAN_PIXEL = (0.5, 0.5, 0.5)


@keras.saving.register_keras_serializable("inpaintkit")
class Conv2D(layers.Conv2D):
    r"""Keras's ``Conv2D``; with ``dilation_rate=d, padding="same"`` (same weights, same outputs up to
    float rounding) computed as :math:`y = \sum_{(i,j)} \mathrm{shift}_{(i-r)d,\,(j-r)d}(x)\,W_{ij}`: one
    1x1 product per kernel tap on a shifted copy of the zero-padded input.

    * Taps whose shift is at least the feature map's side only ever read the zero padding: they are
      skipped. At 64² the map C dilates is 16², so the dilation-16 layer of the paper is, exactly, a
      1x1 convolution there (its receptive-field gain appears from 128² on).
    * Otherwise the sum is used only where the backend's own dilated kernel is slower
      (:func:`inpaintkit.backend.slow_native_dilation`: TensorFlow on a CPU without AVX-512 at
      dilation >= 4).

    It keeps Keras's class name on purpose: a ``.weights.h5`` file names each layer's weights by its
    class (``conv2d_7``), so networks saved with plain ``Conv2D`` layers load into this one unchanged.
    """

    def convolution_op(self, inputs, kernel):
        d, k = self.dilation_rate[0], self.kernel_size[0]
        if (self.strides != (1, 1) or self.padding != "same" or self.data_format != "channels_last" or d == 1
                or self.dilation_rate[1] != d or self.kernel_size[1] != k or k % 2 == 0 or self.groups != 1):
            return super().convolution_op(inputs, kernel)
        from .. import backend
        h, w = inputs.shape[1], inputs.shape[2]
        taps = dilation_taps(k, d, h, w)
        if len(taps) == k * k and not backend.slow_native_dilation(d):
            out = backend.dilated_conv2d(inputs, kernel, d)
            return super().convolution_op(inputs, kernel) if out is None else out
        return shifted_products(inputs, kernel, d, taps)


def dilation_taps(k: int, d: int, h: int | None = None, w: int | None = None) -> list:
    """The ``(i, j)`` taps of a k x k kernel with dilation d that can read a pixel of an h x w map
    ("same" zero padding): a tap shifted by at least the side only ever reads the padding.
    ``h``/``w`` None (unknown): every tap."""
    r = k // 2
    return [(i, j) for i in range(k) for j in range(k)
            if (h is None or abs(i - r) * d < h) and (w is None or abs(j - r) * d < w)]


def shifted_products(inputs, kernel, d: int, taps):
    r"""A "same" dilated convolution (stride 1, channels last) as :math:`\sum_{(i,j)\in taps}
    \mathrm{shift}_{(i-r)d,(j-r)d}(x)\,W_{ij}` over the given taps (:func:`dilation_taps`)."""
    r = kernel.shape[0] // 2
    h, w = inputs.shape[1], inputs.shape[2]
    pad = max(max(abs(i - r), abs(j - r)) for i, j in taps) * d
    xp = ops.pad(inputs, [[0, 0], [pad, pad], [pad, pad], [0, 0]]) if pad else inputs
    hh, ww = (ops.shape(inputs)[1] if h is None else h), (ops.shape(inputs)[2] if w is None else w)
    out = None
    for i, j in taps:
        a, b = pad + (i - r) * d, pad + (j - r) * d
        term = ops.einsum("bhwc,cf->bhwf", xp[:, a:a + hh, b:b + ww, :], kernel[i, j])
        out = term if out is None else out + term
    return out


def scaled(channels: int, width: float) -> int:
    return max(1, int(round(channels * width)))


def completion_network(size: int | None = None, width: float = 1.0, dilation: bool = True,
                       mean_pixel=None, context_pad: int = 0, self_ensemble: bool = False,
                       name: str = "completion") -> keras.Model:
    """The completion network: ``(N, size, size, 4) -> (N, size, size, 3)``.

    ``size=None`` builds it fully convolutional (any side divisible by 4). ``width`` scales
    every layer's channels (paper: 1.0). ``dilation=False`` replaces the dilated convolutions by
    ordinary ones (to see what dilation buys). ``mean_pixel`` (3 floats) is kept as
    ``model.mean_pixel`` for :func:`prepare_input` at inference time, and ``context_pad`` (pixels,
    even) as ``model.context_pad``: the mirror padding it was trained with (:func:`mirror_pad`),
    which inference applies by default; ``self_ensemble`` as ``model.self_ensemble``: whether
    inference averages C on the image and its mirror image by default
    (:func:`inpaintkit.glcic.inference.complete`). Neither is in the paper; both default off.
    """
    if size is not None:
        size = check_int("size", size, minimum=4)
        if size % 4:
            raise InpaintkitError(f"size: expected a multiple of 4 (C downsamples twice), got {size}")
    width = check_float("width", width, minimum=1e-3, maximum=8.0)
    inp = keras.Input((size, size, 4), name="image_and_mask")
    x = inp
    for i, (kind, k, d, s, c) in enumerate(LAYERS, start=1):
        d = d if dilation else 1
        if kind == "output":
            x = layers.Conv2D(3, k, padding="same", activation="sigmoid", name=f"conv{i}_out")(x)
            break
        if kind == "deconv":
            x = layers.Conv2DTranspose(scaled(c, width), k, strides=s, padding="same", name=f"deconv{i}")(x)
        elif d > 1:
            x = Conv2D(scaled(c, width), k, dilation_rate=d, padding="same", name=f"dilated{i}")(x)
        else:
            x = layers.Conv2D(scaled(c, width), k, strides=s, padding="same", name=f"conv{i}")(x)
        x = BatchNormalization(momentum=0.9, name=f"bn{i}")(x)
        x = layers.ReLU(name=f"relu{i}")(x)
    model = keras.Model(inp, x, name=name)
    model.mean_pixel = tuple(float(v) for v in (DEFAULT_MEAN_PIXEL if mean_pixel is None else mean_pixel))
    model.context_pad = check_context_pad(context_pad)
    model.self_ensemble = bool(self_ensemble)
    return model


ATTRIBUTES = ("mean_pixel", "context_pad", "self_ensemble")   # how a network is run (inference.complete)


def clone(model) -> keras.Model:
    """A copy of completion network ``model``: same architecture, weights (BatchNorm statistics
    included) and the attributes it is run with (``mean_pixel``, ``context_pad``, ``self_ensemble``);
    training the copy leaves ``model`` as it was."""
    if not isinstance(model, keras.Model):
        raise InpaintkitError(f"model: expected a completion network (keras.Model), got {type(model).__name__}")
    twin = keras.models.clone_model(model)
    twin.set_weights(model.get_weights())
    for attr in ATTRIBUTES:
        if hasattr(model, attr):
            setattr(twin, attr, getattr(model, attr))
    return twin


def check_context_pad(context_pad, size: int | None = None, even: bool = True) -> int:
    """``context_pad`` as an int: given the image ``size``, smaller than it (a mirror needs that
    many pixels to reflect); ``even`` for training, so a side divisible by 4 stays so."""
    p = check_int("context_pad", context_pad, 0, None if size is None else size - 1)
    if even and p % 2:
        raise InpaintkitError(f"context_pad: expected an even number of pixels, got {p}")
    return p


def mirror_pad(images, masks, context_pad: int):
    """Mirror the images *and their holes* by ``context_pad`` pixels on every side (NumPy).

    Not in the paper: there C's zero padding makes a hole at the image border a hole next to a
    black frame. Mirrored, it has context on both sides. Training and inference must agree, so
    the trainers (``context_pad=``) and :func:`inpaintkit.glcic.inference.complete` both use this."""
    p = int(context_pad)
    if not p:
        return images, masks
    pad = ((0, 0), (p, p), (p, p), (0, 0))
    return np.pad(images, pad, mode="reflect"), np.pad(masks, pad, mode="reflect")


def crop_center(x, context_pad: int):
    """Undo :func:`mirror_pad` on a batch (NumPy or a tensor in a compiled step)."""
    p = int(context_pad)
    return x[:, p:-p, p:-p] if p else x


def mean_pixel_of(images) -> tuple:
    """The training set's mean colour (what the paper fills holes with), as a tuple."""
    from ..data.pipeline import mean_pixel
    return tuple(float(v) for v in mean_pixel(images))


def prepare_input(images, masks, mean_pixel=DEFAULT_MEAN_PIXEL):
    """``[x ⊙ (1 − M) + mean ⊙ M, M]``: the 4-channel input of C (keras.ops, works in a compiled step)."""
    images = ops.convert_to_tensor(images, dtype="float32")
    masks = ops.convert_to_tensor(masks, dtype="float32")
    mean = ops.reshape(ops.convert_to_tensor(np.asarray(mean_pixel, np.float32)), (1, 1, 1, 3))
    filled = images * (1.0 - masks) + mean * masks
    return ops.concatenate([filled, masks], axis=-1)


def composite(completed, images, masks):
    """What the discriminators see: generated pixels in the hole, the original ones elsewhere."""
    return completed * masks + images * (1.0 - masks)


def conv_macs(model: keras.Model, size: int) -> int:
    """Multiply-accumulates of one forward pass at ``size``² (conv and transposed-conv layers)."""
    total, side = 0, size
    for layer in model.layers:
        if isinstance(layer, layers.Conv2DTranspose):
            cin = layer.input.shape[-1]
            total += side * side * cin * layer.filters * layer.kernel_size[0] * layer.kernel_size[1]
            side *= layer.strides[0]
        elif isinstance(layer, layers.Conv2D):
            cin = layer.input.shape[-1]
            side = -(-side // layer.strides[0])
            total += side * side * cin * layer.filters * layer.kernel_size[0] * layer.kernel_size[1]
        elif isinstance(layer, layers.Dense):
            total += layer.input.shape[-1] * layer.units
    return int(total)


def receptive_field(model: keras.Model, size: int, channel: int = 0) -> np.ndarray:
    """|∂ C(x)[centre pixel] / ∂ x| summed over the 4 input channels, shape (size, size).

    Backend-neutral: one SGD step of learning rate 1 on the input x moves x by exactly minus
    that gradient, so the step is done with :func:`inpaintkit.backend.train_step`."""
    from .. import backend
    rng = np.random.default_rng(0)
    x0 = rng.uniform(size=(1, size, size, 4)).astype(np.float32)
    x = keras.Variable(x0, name="input_pixels")
    c = size // 2

    def loss_fn():
        return model(x, training=False)[0, c, c, channel], {}

    backend.train_step(loss_fn, [x], keras.optimizers.SGD(1.0), jit=False, split_batch=False)()
    return np.abs(x0 - backend.to_numpy(x))[0].sum(-1)


def extent(field: np.ndarray, rel: float = 1e-6) -> int:
    """Side of the bounding box of the pixels whose gradient is non-zero (above ``rel`` x max)."""
    ys, xs = np.nonzero(field > rel * field.max())
    return int(max(np.ptp(ys), np.ptp(xs)) + 1) if len(ys) else 0
