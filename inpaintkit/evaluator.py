"""An independent evaluator: a small ResNet toy-car classifier used *only to evaluate*.

The GoogLeNet of :mod:`inpaintkit.classifier` guides inpainting (the class and feature terms of *sem_inpainting*),
so asking that same network whether a guided fill "still shows a pickup" is circular: the search
optimised exactly what it is then scored on. The evaluator answers that question instead. It shares
nothing with the guiding classifier but the task:

* **another architecture**: a small residual network (He et al. 2016: a 3×3 stem and four stages of
  basic blocks, 16-32-64-128 channels at width 1, global average pool, one dense layer) instead of
  Inception modules;
* **its own training data**: toy cars of the sequence ``TRAIN_SEED`` (and its test set from
  ``TEST_SEED``), a seed that no other model of the kit trains or is tested on, and neither the
  large-hole evaluation splits (:data:`inpaintkit.large_holes.SEEDS`);
* **its own initialisation seed**.

It takes [0, 1] images like every model of the kit; the ``normalize`` layer maps them to [-1, 1]
inside the model. Usage::

    from inpaintkit import evaluator
    E = evaluator.load()                            # shipped evaluator_toycars
    probs = evaluator.predict(E, images)            # (N, 7) class probabilities
    f = evaluator.features(E, images)               # (N, 128) global-pool features (Fréchet distance)

Trained by ``scripts/train_evaluator.py`` (a few minutes on a 2-core CPU), which records its test
accuracy per class in the weights manifest.
"""
from __future__ import annotations

import keras
import numpy as np
from keras import layers, ops
from .backend import BatchNormalization

from .errors import InpaintkitError, check_float, check_images, check_int

SHIPPED = "evaluator_toycars"
TRAIN_SEED = 31_415            # toy-car sequence the evaluator trains on (no other model uses it)
TEST_SEED = 31_416             # its held-out test cars
INIT_SEED = 271                # weight initialisation and batch order
FEATURES = "pool"              # the global average pool before ``logits``
STAGES = (16, 32, 64, 128)     # channels of the four stages at width 1


def _ch(n: int, width: float) -> int:
    return max(4, int(round(n * width)))


def _block(x, filters: int, stride: int, name: str):
    """A basic residual block: two 3×3 convolutions, BatchNorm, ReLU; a 1×1 projection when the shape changes."""
    shortcut = x
    y = layers.Conv2D(filters, 3, strides=stride, padding="same", use_bias=False, name=name + "_conv1")(x)
    y = BatchNormalization(momentum=0.9, name=name + "_bn1")(y)
    y = layers.ReLU(name=name + "_relu1")(y)
    y = layers.Conv2D(filters, 3, padding="same", use_bias=False, name=name + "_conv2")(y)
    y = BatchNormalization(momentum=0.9, name=name + "_bn2")(y)
    if stride != 1 or int(x.shape[-1]) != filters:
        shortcut = layers.Conv2D(filters, 1, strides=stride, use_bias=False, name=name + "_proj")(x)
        shortcut = BatchNormalization(momentum=0.9, name=name + "_proj_bn")(shortcut)
    return layers.ReLU(name=name + "_out")(layers.Add(name=name + "_add")([y, shortcut]))


def resnet(size: int = 64, n_classes: int = 7, width: float = 1.0, blocks: int = 1) -> keras.Model:
    """A small ResNet for ``size``² [0, 1] images: stem (3×3, stride 2), four stages of ``blocks``
    basic blocks (strides 1, 2, 2, 2), global average pool (layer ``pool``), ``logits``, softmax.

    At 64² the stages see 32², 16², 8² and 4² maps; ``width`` scales the channels.
    """
    size = check_int("size", size, minimum=16)
    n_classes = check_int("n_classes", n_classes, minimum=2)
    width = check_float("width", width, minimum=0.05)
    blocks = check_int("blocks", blocks, minimum=1)
    inp = keras.Input((size, size, 3), name="image")
    x = layers.Rescaling(2.0, offset=-1.0, name="normalize")(inp)      # [0, 1] -> [-1, 1], inside the model
    x = layers.Conv2D(_ch(STAGES[0], width), 3, strides=2, padding="same", use_bias=False, name="stem_conv")(x)
    x = BatchNormalization(momentum=0.9, name="stem_bn")(x)
    x = layers.ReLU(name="stem_relu")(x)
    for s, filters in enumerate(STAGES):
        for b in range(blocks):
            x = _block(x, _ch(filters, width), 2 if (b == 0 and s > 0) else 1, f"stage{s + 1}_block{b + 1}")
    x = layers.GlobalAveragePooling2D(name=FEATURES)(x)
    x = layers.Dense(n_classes, name="logits")(x)
    out = layers.Softmax(name="softmax")(x)
    return keras.Model(inp, out, name="evaluator_resnet")


def load(name: str = SHIPPED) -> keras.Model:
    """The shipped evaluator, or an error naming the script that makes it."""
    from . import weights
    if not weights.available(name):
        raise InpaintkitError(f"weights: expected shipped {name!r}; make it with "
                              f"python scripts/train_evaluator.py")
    return weights.load(name)


def _inputs(model, images) -> np.ndarray:
    """[0, 1] images as a batch at the model's input size (resized with area interpolation if needed)."""
    images = check_images("images", images)
    if images.ndim == 3:
        images = images[None]
    s = int(model.input_shape[1])
    if images.shape[1:3] != (s, s):
        import cv2
        images = np.stack([cv2.resize(im, (s, s), interpolation=cv2.INTER_AREA) for im in images])
        images = np.clip(images, 0, 1).astype(np.float32)
    return images


def _run(model, images, batch_size: int) -> np.ndarray:
    batch_size = check_int("batch_size", batch_size, minimum=1)
    if len(images) == 0:
        return np.zeros((0, *model.output_shape[1:]), np.float32)
    parts = [ops.convert_to_numpy(model(images[i:i + batch_size], training=False))
             for i in range(0, len(images), batch_size)]
    return np.concatenate([np.asarray(p, np.float32) for p in parts])


def predict(model, images, batch_size: int = 256) -> np.ndarray:
    """Class probabilities ``(N, n_classes)`` of [0, 1] images (one image gives ``(1, n_classes)``)."""
    return _run(model, _inputs(model, images), batch_size)


def feature_model(model) -> keras.Model:
    """A model sharing ``model``'s weights that returns the global-pool features."""
    return keras.Model(model.input, model.get_layer(FEATURES).output, name=f"{model.name}_features")


def features(model, images, batch_size: int = 256) -> np.ndarray:
    """Global-pool features ``(N, D)`` of [0, 1] images (``D`` = the last stage's channels; 128 at width 1)."""
    return _run(feature_model(model), _inputs(model, images), batch_size)


def accuracy(model, images, labels, batch_size: int = 256) -> tuple[float, np.ndarray]:
    """``(accuracy, per-image correct (N,) bool)`` of the evaluator's top class against ``labels``."""
    p = predict(model, images, batch_size)
    labels = np.asarray(labels)
    if labels.shape != (len(p),):
        raise InpaintkitError(f"labels: expected {len(p)} class indices, got shape {labels.shape}")
    correct = p.argmax(axis=1) == labels
    return float(correct.mean()) if len(correct) else float("nan"), correct
