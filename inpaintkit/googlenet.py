"""GoogLeNet (Inception v1, Szegedy et al. 2014) for small images, with the original layer names.

*sem_inpainting* (https://github.com/amarisch/sem_inpainting, an ETH Zürich student project) fine-tuned GoogLeNet on 64×64 Stanford Cars and adapted it to small inputs: the first
convolution has stride 1 (the 224² original has stride 2), so the network down-samples by 16
instead of 32 and the inception_5 modules still see 4×4 maps at 64². Local response
normalisation is replaced by BatchNorm after every convolution. Layer names follow the original
Caffe/TF model so sem_inpainting's layer choices (``inception_3b``, ``inception_4b``, ``softmax``) read
the same here::

    conv1 → pool1 → conv2_reduce → conv2 → pool2 → inception_3a → inception_3b → pool3
      → inception_4a … inception_4e → pool4 → inception_5a → inception_5b → pool5 → logits → softmax

**Input range.** The model takes [0, 1] images, like every model of the kit, and standardises them
*inside* itself (layer ``normalize``). sem_inpainting trained its classifier on 0–255 mean-subtracted pixels
and fed it [−1, 1] images at inpainting time; here there is one range and one code path: the feature
extractor below is built on the same graph, so features and class probabilities always come from
the same normalisation.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops
from .backend import BatchNormalization

from .errors import InpaintkitError, check_float, check_images, check_int

# (1×1, 3×3 reduce, 3×3, 5×5 reduce, 5×5, pool proj) from Table 1 of the paper
INCEPTION = {
    "inception_3a": (64, 96, 128, 16, 32, 32),
    "inception_3b": (128, 128, 192, 32, 96, 64),
    "inception_4a": (192, 96, 208, 16, 48, 64),
    "inception_4b": (160, 112, 224, 24, 64, 64),
    "inception_4c": (128, 128, 256, 24, 64, 64),
    "inception_4d": (112, 144, 288, 32, 64, 64),
    "inception_4e": (256, 160, 320, 32, 128, 128),
    "inception_5a": (256, 160, 320, 32, 128, 128),
    "inception_5b": (384, 192, 384, 48, 128, 128),
}
LAYERS = ("conv1", "conv2_reduce", "conv2", *INCEPTION, "pool5", "logits", "softmax")
# per-channel statistics of natural images in [0, 1] (ImageNet's), applied by the `normalize` layer
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


@keras.saving.register_keras_serializable(package="inpaintkit")
class Normalize(layers.Layer):
    """[0, 1] RGB → (x − mean) / std: the only place the classifier's input range is decided."""

    def call(self, x):
        mean = ops.convert_to_tensor(np.array(MEAN, "float32"), dtype=x.dtype)
        std = ops.convert_to_tensor(np.array(STD, "float32"), dtype=x.dtype)
        return (x - mean) / std


def _ch(n: int, width: float) -> int:
    return max(4, int(round(n * width)))


def _conv(x, filters, kernel, name, stride=1):
    x = layers.Conv2D(filters, kernel, strides=stride, padding="same", use_bias=False, name=name + "_conv")(x)
    x = BatchNormalization(momentum=0.9, name=name + "_bn")(x)
    return layers.ReLU(name=name)(x)


def _inception(x, name, spec, width):
    c1, r3, c3, r5, c5, pp = (_ch(c, width) for c in spec)
    b1 = _conv(x, c1, 1, f"{name}_1x1")
    b3 = _conv(_conv(x, r3, 1, f"{name}_3x3_reduce"), c3, 3, f"{name}_3x3")
    b5 = _conv(_conv(x, r5, 1, f"{name}_5x5_reduce"), c5, 5, f"{name}_5x5")
    bp = layers.MaxPooling2D(3, strides=1, padding="same", name=f"{name}_pool")(x)
    bp = _conv(bp, pp, 1, f"{name}_pool_proj")
    return layers.Concatenate(name=name)([b1, b3, b5, bp])


def googlenet(size: int = 64, n_classes: int = 7, width: float = 1.0, dropout: float = 0.4) -> keras.Model:
    """Inception v1 for ``size``×``size`` [0, 1] RGB images; returns class probabilities.

    ``width`` multiplies every channel count (1.0 = the paper's 64…1024 channels).
    """
    size = check_int("size", size, minimum=16)
    if size % 16:
        raise InpaintkitError(f"size: expected a multiple of 16 (the network halves the image 4 times), got {size}")
    n_classes = check_int("n_classes", n_classes, minimum=2)
    width = check_float("width", width, minimum=0.05)
    dropout = check_float("dropout", dropout, minimum=0.0, maximum=0.9)
    inp = keras.Input((size, size, 3), name="image")
    x = Normalize(name="normalize")(inp)
    x = _conv(x, _ch(64, width), 7, "conv1")                     # stride 1 (sem_inpainting), not 2
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool1")(x)
    x = _conv(x, _ch(64, width), 1, "conv2_reduce")
    x = _conv(x, _ch(192, width), 3, "conv2")
    x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool2")(x)
    for name, spec in INCEPTION.items():
        x = _inception(x, name, spec, width)
        if name in ("inception_3b", "inception_4e"):
            x = layers.MaxPooling2D(3, strides=2, padding="same", name="pool" + name[-2])(x)
    x = layers.GlobalAveragePooling2D(name="pool5")(x)
    x = layers.Dropout(dropout, name="dropout")(x)
    x = layers.Dense(n_classes, name="logits")(x)
    out = layers.Softmax(name="softmax")(x)
    return keras.Model(inp, out, name="googlenet")


def auto_jit(jit: bool | None = None) -> bool:
    """XLA compilation when asked, else only with a GPU (on a 2-core CPU XLA compiles GoogLeNet's
    gradient for a minute and then runs it about 3x slower than plain ``tf.function``)."""
    if jit is not None:
        return bool(jit)
    from . import backend
    return bool(backend.accelerators())


def feature_extractor(model: keras.Model, layer_names) -> keras.Model:
    """A model sharing ``model``'s weights that returns ``{name: activation}`` for the named layers.

    Any layer of :data:`LAYERS` (or any other layer name of ``model``) can be asked for. The input is
    the same [0, 1] image input, so the ``normalize`` layer is on the path of every feature.
    """
    if isinstance(layer_names, str):
        layer_names = [layer_names]
    layer_names = list(layer_names)
    if not layer_names:
        raise InpaintkitError("layers: expected at least one layer name, got an empty list")
    known = [l.name for l in model.layers]
    for n in layer_names:
        if n not in known:
            raise InpaintkitError(f"layers: expected names of {model.name}'s layers such as "
                                  f"{', '.join(LAYERS)}, got {n!r}")
    outputs = {n: model.get_layer(n).output for n in layer_names}
    return keras.Model(model.input, outputs, name=f"{model.name}_features")


def predict(model: keras.Model, images, batch_size: int = 128) -> np.ndarray:
    """Class probabilities ``(N, n_classes)`` for [0, 1] images (validated: 0–255 or [−1, 1] input fails)."""
    images = check_images("images", images)
    if images.ndim == 3:
        images = images[None]
    want = tuple(model.input_shape[1:3])
    if images.shape[1:3] != want:
        raise InpaintkitError(f"images: expected {want[0]}×{want[1]} images for this classifier, "
                              f"got {images.shape[1]}×{images.shape[2]}")
    out = [np.asarray(ops.convert_to_numpy(model(images[i:i + batch_size], training=False)))
           for i in range(0, len(images), batch_size)]
    return np.concatenate(out)


def features(model: keras.Model, images, layer_names, batch_size: int = 128) -> dict:
    """``{layer: array}`` of activations for [0, 1] images (validated like :func:`predict`)."""
    images = check_images("images", images)
    if images.ndim == 3:
        images = images[None]
    key = (layer_names,) if isinstance(layer_names, str) else tuple(layer_names)
    cache = model.__dict__.setdefault("_inpaintkit_extractors", {})   # one sub-model per layer list, not per call
    if key not in cache:
        cache[key] = feature_extractor(model, layer_names)
    ext = cache[key]
    parts = [ext(images[i:i + batch_size], training=False) for i in range(0, len(images), batch_size)]
    return {k: np.concatenate([np.asarray(ops.convert_to_numpy(p[k])) for p in parts]) for k in parts[0]}
