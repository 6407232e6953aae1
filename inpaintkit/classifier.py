"""Train and evaluate the GoogLeNet classifier whose hidden layers guide inpainting (after sem_inpainting,
https://github.com/amarisch/sem_inpainting).

The classifier sees toy cars (the kit's stand-in for Stanford Cars) or Stanford Cars itself when
you have it on disk (:func:`dataset`). Training goes through the kit's one training core
(:func:`inpaintkit.backend.train_step` driven by :class:`inpaintkit.training.Loop`), so it has a
progress bar, checkpoints and resumes after an interrupt::

    model = googlenet.googlenet(P.classifier_size, n_classes=len(CLASSES), width=P.classifier_width)
    history = classifier.train(model, x_train, y_train, steps=P.classifier_steps,
                               batch_size=P.classifier_batch, directory="runs/classifier")
    report = classifier.evaluate(model, x_test, y_test, CLASSES)   # accuracy, confusion, per class

Augmentation is light and label-preserving: a horizontal flip (a side view of a sedan facing left
is still a sedan: the toy cars and Stanford Cars both face either way), a shift of up to 1/16 of the
side (edge-padded) and a small brightness/contrast jitter. No vertical flips: cars are not upside down.
"""
from __future__ import annotations

import numpy as np

from . import backend, googlenet
from .errors import InpaintkitError, check_choice, check_float, check_images, check_int

SHIPPED = "classifier_toycars"
TEST_SEED = 10_000     # toy-car test images: generated with seed + TEST_SEED


def augment(images: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Random flip, shift (edge padding) and brightness/contrast jitter of a [0, 1] batch."""
    n, h, w, _ = images.shape
    out = images.copy()
    flip = rng.random(n) < 0.5
    out[flip] = out[flip, :, ::-1]
    pad = max(1, h // 16)
    padded = np.pad(out, ((0, 0), (pad, pad), (pad, pad), (0, 0)), mode="edge")
    dy, dx = rng.integers(0, 2 * pad + 1, size=(2, n))
    out = np.stack([padded[i, dy[i]:dy[i] + h, dx[i]:dx[i] + w] for i in range(n)])
    gain = rng.uniform(0.85, 1.15, size=(n, 1, 1, 1)).astype(np.float32)
    bias = rng.uniform(-0.08, 0.08, size=(n, 1, 1, 1)).astype(np.float32)
    return np.clip((out - 0.5) * gain + 0.5 + bias, 0.0, 1.0).astype(np.float32)


def build(preset, n_classes: int) -> "keras.Model":  # noqa: F821
    """The GoogLeNet of a preset (size and width from ``preset.classifier_*``)."""
    return googlenet.googlenet(preset.classifier_size, n_classes=n_classes, width=preset.classifier_width)


def dataset(name: str = "toycars", *, n: int = 6000, size: int = 64, seed: int = 0, root=None):
    """``(x_train, y_train, x_test, y_test, class_names)``.

    ``toycars``: ``n`` generated cars for training and ``max(n // 5, 200)`` others (another seed) for
    testing (seed + ``TEST_SEED``). ``stanford_cars``: the devkit at ``root`` (see :mod:`inpaintkit.data.stanford_cars`).
    """
    check_choice("name", name, ("toycars", "stanford_cars"))
    if name == "toycars":
        from .data import toycars
        n = check_int("n", n, minimum=2)
        x, y = toycars.generate(n, size=size, seed=seed)
        xt, yt = toycars.generate(max(n // 5, 200), size=size, seed=seed + TEST_SEED)
        return x, np.asarray(y), xt, np.asarray(yt), list(toycars.CLASSES)
    if root is None:
        raise InpaintkitError("root: expected the folder of the Stanford Cars devkit, got None")
    from .data import stanford_cars
    x, y, names = stanford_cars.load(root, split="train", size=size)
    xt, yt, _ = stanford_cars.load(root, split="test", size=size)
    return x, np.asarray(y), xt, np.asarray(yt), list(names)


def _check_labels(labels, n_images: int, n_classes: int) -> np.ndarray:
    labels = np.asarray(labels)
    if labels.shape != (n_images,) or not np.issubdtype(labels.dtype, np.integer):
        raise InpaintkitError(f"labels: expected {n_images} integer class indices, got "
                              f"array of shape {labels.shape} and dtype {labels.dtype}")
    if labels.size and (labels.min() < 0 or labels.max() >= n_classes):
        raise InpaintkitError(f"labels: expected values in [0, {n_classes - 1}], "
                              f"got values in [{labels.min()}, {labels.max()}]")
    return labels.astype(np.int32)


def train(model, images, labels, *, steps: int, batch_size: int = 64, lr: float = 1e-3, seed: int = 0,
          directory=None, checkpoint_every: int = 100, augmentation: bool = True, callbacks=(),
          log_dir=None, resume: bool = True, weight_decay: float = 1e-4, jit: bool | None = None,
          config: dict | None = None) -> list[dict]:
    """Train ``model`` with cross-entropy and AdamW; returns the loss/accuracy history.

    With ``directory`` the run checkpoints every ``checkpoint_every`` steps and resumes from there.
    Batches are drawn from ``np.random.default_rng([seed, step])``, so a resumed run sees the same
    batches as an uninterrupted one. ``jit`` (XLA on TensorFlow) defaults to on with a GPU only: on
    a small CPU, XLA compiles this network for minutes and then runs its steps slower. ``config``
    (JSON values) is stored with each checkpoint; resuming with another value is refused by name.
    """
    import keras
    from keras import ops

    from .checkpoints import Checkpointer
    from .training import Loop

    images = check_images("images", images, batched=True)
    n_classes = int(model.output_shape[-1])
    labels = _check_labels(labels, len(images), n_classes)
    steps = check_int("steps", steps, minimum=1)
    batch_size = check_int("batch_size", batch_size, minimum=1, maximum=len(images))
    lr = check_float("lr", lr, minimum=0.0)
    if images.shape[1:] != tuple(model.input_shape[1:]):
        raise InpaintkitError(f"images: expected shape (N, {', '.join(map(str, model.input_shape[1:]))}) for "
                              f"this model, got {images.shape}")
    backend.seed(seed)
    schedule = keras.optimizers.schedules.CosineDecay(lr, decay_steps=steps, alpha=0.05)
    opt = keras.optimizers.AdamW(schedule, weight_decay=weight_decay)

    def loss_fn(x, y):
        p = model(x, training=True)
        loss = ops.mean(keras.losses.sparse_categorical_crossentropy(y, p))
        acc = ops.mean(ops.cast(ops.equal(ops.argmax(p, axis=-1), ops.cast(y, "int64")), "float32"))
        return loss, {"accuracy": acc}

    step = backend.train_step(loss_fn, model.trainable_weights, opt, jit=googlenet.auto_jit(jit))
    ckpt = None
    if directory is not None:
        ckpt = Checkpointer(directory, models={"classifier": model}, optimizers={"opt": opt}, config=config)
    loop = Loop("classifier", steps, checkpointer=ckpt, checkpoint_every=checkpoint_every,
                callbacks=callbacks, log_dir=log_dir, resume=resume, max_loss=1e4)

    def one_step(i):
        rng = np.random.default_rng([seed, i])
        idx = rng.choice(len(images), size=batch_size, replace=False)
        x = images[idx]
        if augmentation:
            x = augment(x, rng)
        return step(x, labels[idx])

    return loop.run(one_step)


def evaluate(model, images, labels, class_names=None, batch_size: int = 128) -> dict:
    """Accuracy, confusion matrix (rows = true class, columns = predicted) and per-class accuracy."""
    probs = googlenet.predict(model, images, batch_size=batch_size)
    n_classes = probs.shape[1]
    labels = _check_labels(labels, len(probs), n_classes)
    pred = probs.argmax(axis=1)
    confusion = np.zeros((n_classes, n_classes), dtype=np.int64)
    np.add.at(confusion, (labels, pred), 1)
    support = confusion.sum(axis=1)
    per_class = np.where(support > 0, np.diag(confusion) / np.maximum(support, 1), np.nan)
    names = list(class_names) if class_names is not None else [str(i) for i in range(n_classes)]
    return {"accuracy": float((pred == labels).mean()), "confusion": confusion,
            "per_class": {names[i]: float(per_class[i]) for i in range(n_classes)},
            "n": int(len(labels)), "probabilities": probs}


def shipped():
    """The shipped toy-car classifier (``classifier_toycars``), or an error naming the training script."""
    from . import weights
    if not weights.available(SHIPPED):
        raise InpaintkitError(f"weights: expected shipped {SHIPPED!r}; make it with "
                              f"python scripts/train_classifier.py")
    return weights.load(SHIPPED)


def plot_confusion(report: dict, class_names, ax=None):
    """Confusion matrix as an image with counts; returns the axes."""
    import matplotlib.pyplot as plt
    cm = report["confusion"]
    if ax is None:
        _, ax = plt.subplots(figsize=(4, 3.6))
    ax.imshow(cm, cmap="Blues")
    for i in range(cm.shape[0]):
        for j in range(cm.shape[1]):
            ax.text(j, i, int(cm[i, j]), ha="center", va="center", fontsize=9,
                    color="white" if cm[i, j] > cm.max() / 2 else "black")
    ax.set_xticks(range(len(class_names)), class_names, rotation=60, fontsize=9)
    ax.set_yticks(range(len(class_names)), class_names, fontsize=9)
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(f"accuracy {report['accuracy']:.3f} on {report['n']} images", fontsize=10)
    return ax
