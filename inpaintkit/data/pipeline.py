"""From arrays to training batches: value-range conversion, splits and a shuffling batch iterator.

The kit's value range is [0, 1] float32 (see ``inpaintkit/__init__.py``); ``to_float`` and
``to_uint8`` are the only places that convert, at the boundaries (files, displays).

    train, val, test = toycar_splits(P, seed=0)          # each: (images, labels)
    for x, y in batches(train[0], 64, extra=train[1]):   # endless, reshuffled every epoch
        logs = step(x, y)
"""
from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..errors import check_float, check_int, describe, fail

VAL_START = 1_000_000_000    # validation toy cars are images VAL_START.. of the seed's sequence
TEST_START = 2_000_000_000   # test toy cars are images TEST_START..: never the same draws as training


def to_float(images) -> np.ndarray:
    """uint8 (0..255) or uint16 images → float32 in [0, 1]; float input is checked and returned as float32."""
    x = np.asarray(images)
    if x.dtype == np.uint8:
        return x.astype(np.float32) * np.float32(1 / 255)
    if x.dtype == np.uint16:
        return x.astype(np.float32) * np.float32(1 / 65535)
    if np.issubdtype(x.dtype, np.floating):
        x = x.astype(np.float32, copy=False)
        if x.size and (not np.isfinite(x).all() or x.min() < -1e-3 or x.max() > 1 + 1e-3):
            fail("images", "uint8 values or floats in [0, 1]", f"floats in [{np.nanmin(x):.3g}, {np.nanmax(x):.3g}]")
        return np.clip(x, 0.0, 1.0)
    fail("images", "a uint8, uint16 or float array", describe(x))


def to_uint8(images) -> np.ndarray:
    """float images in [0, 1] → uint8 0..255 (rounded; values outside [0, 1] are clipped)."""
    x = np.asarray(images)
    if x.dtype == np.uint8:
        return x
    if not np.issubdtype(x.dtype, np.floating) and not np.issubdtype(x.dtype, np.integer):
        fail("images", "a float array in [0, 1]", describe(x))
    x = x.astype(np.float32, copy=False)
    if x.size and not np.isfinite(x).all():
        fail("images", "finite values", "NaN or inf")
    return (np.clip(x, 0.0, 1.0) * 255.0 + 0.5).astype(np.uint8)


def split_indices(n: int, fractions=(0.8, 0.1, 0.1), seed: int = 0) -> tuple:
    """Shuffle ``range(n)`` with ``seed`` and cut it by ``fractions``: disjoint index arrays.

    If the fractions sum to 1 every index lands in exactly one part (the last part takes the rounding).
    """
    n = check_int("n", n, 0)
    seed = check_int("seed", seed, 0)
    fr = [check_float("fractions", f, 0.0, 1.0) for f in fractions]
    if not fr or sum(fr) > 1 + 1e-9:
        fail("fractions", "non-negative numbers with sum <= 1", tuple(fractions))
    order = np.random.default_rng(seed).permutation(n)
    cuts = np.round(np.cumsum(fr) * n).astype(int)
    if abs(sum(fr) - 1) < 1e-9:
        cuts[-1] = n
    starts = np.concatenate([[0], cuts[:-1]])
    return tuple(np.sort(order[a:b]) for a, b in zip(starts, cuts))


def splits(images, labels=None, fractions=(0.8, 0.1, 0.1), seed: int = 0) -> tuple:
    """Split ``images`` (and aligned ``labels``) into disjoint parts; each part is an array or (images, labels)."""
    images = np.asarray(images)
    if labels is not None:
        labels = np.asarray(labels)
        if len(labels) != len(images):
            fail("labels", f"{len(images)} labels like images", len(labels))
    parts = split_indices(len(images), fractions, seed)
    return tuple(images[i] if labels is None else (images[i], labels[i]) for i in parts)


def batches(images, batch_size: int, *, seed: int = 0, epochs: int | None = None, drop_remainder: bool = True,
            extra=None):
    """Shuffled numpy batches of ``images`` (reshuffled every epoch), endless unless ``epochs`` is given.

    ``extra``: an array (or a tuple of arrays) aligned with ``images``, e.g. labels; then each batch is a
    tuple ``(images_batch, extra_batch, ...)``. With ``drop_remainder`` every batch has ``batch_size`` rows.
    """
    images = np.asarray(images)
    n = len(images)
    batch_size = check_int("batch_size", batch_size, 1)
    seed = check_int("seed", seed, 0)
    if epochs is not None:
        epochs = check_int("epochs", epochs, 0)
    extras = () if extra is None else (tuple(np.asarray(e) for e in extra) if isinstance(extra, (tuple, list))
                                       else (np.asarray(extra),))
    for e in extras:
        if len(e) != n:
            fail("extra", f"arrays with {n} rows like images", describe(e))
    if n == 0 or (drop_remainder and batch_size > n):
        fail("batch_size", f"at most the number of images ({n})" if n else "a non-empty images array", batch_size)
    return _batches(images, extras, batch_size, seed, epochs, drop_remainder)


def _batches(images, extras, batch_size, seed, epochs, drop_remainder):
    rng = np.random.default_rng(seed)
    n, epoch = len(images), 0
    while epochs is None or epoch < epochs:
        order = rng.permutation(n)
        stop = n - n % batch_size if drop_remainder else n
        for a in range(0, stop, batch_size):
            idx = np.sort(order[a:a + batch_size])     # sorted: faster gathers, same sample
            yield images[idx] if not extras else (images[idx],) + tuple(e[idx] for e in extras)
        epoch += 1


class Splits(NamedTuple):
    train: tuple    # (images, labels)
    val: tuple
    test: tuple


def toycar_splits(preset_or_n=None, size: int | None = None, seed: int = 0, n_val: int | None = None,
                  n_test: int | None = None) -> Splits:
    """Toy-car train/validation/test sets, each ``(images, labels)``, that never share an image.

    ``preset_or_n``: a ``Preset`` (uses ``n_train`` and ``glcic_size``), an int (number of training
    images) or None (the active preset). Validation and test default to ``max(n_val, n_train // 10)``
    images each; they are images ``VAL_START..`` and ``TEST_START..`` of the same seed's sequence,
    so growing the training set never reaches them.
    """
    from .. import presets
    from . import toycars
    if preset_or_n is None:
        preset_or_n = presets.active()
    if isinstance(preset_or_n, presets.Preset):
        n_train, default_val, default_size = preset_or_n.n_train, preset_or_n.n_val, preset_or_n.glcic_size
    else:
        n_train, default_val, default_size = check_int("preset_or_n", preset_or_n, 1), 8, 64
    size = default_size if size is None else size
    n_val = max(default_val, n_train // 10) if n_val is None else check_int("n_val", n_val, 0)
    n_test = n_val if n_test is None else check_int("n_test", n_test, 0)
    return Splits(toycars.generate_range(0, n_train, size, seed),
                  toycars.generate_range(VAL_START, VAL_START + n_val, size, seed),
                  toycars.generate_range(TEST_START, TEST_START + n_test, size, seed))


def mean_pixel(images) -> np.ndarray:
    """Mean RGB colour of a set of [0, 1] images, shape (3,) (GLCIC fills holes with it before completion)."""
    x = np.asarray(images)
    if x.ndim < 3 or x.shape[-1] != 3 or x.size == 0:
        fail("images", "a non-empty array of RGB images (..., 3)", describe(x))
    return x.reshape(-1, 3).mean(axis=0, dtype=np.float64).astype(np.float32)


def keras_dataset(images, batch_size: int, labels=None, *, seed: int = 0, shuffle: bool = True, **kwargs):
    """A ``keras.utils.PyDataset`` of ``(images, labels)`` (or images only) batches for ``model.fit``.

    Reshuffled after every epoch with a generator seeded by ``seed``; the last batch may be smaller.
    ``kwargs`` go to ``PyDataset`` (``workers``, ``use_multiprocessing``, ``max_queue_size``).
    """
    import keras

    images = np.asarray(images)
    batch_size = check_int("batch_size", batch_size, 1)
    seed = check_int("seed", seed, 0)
    if len(images) == 0:
        fail("images", "a non-empty array", describe(images))
    if labels is not None:
        labels = np.asarray(labels)
        if len(labels) != len(images):
            fail("labels", f"{len(images)} labels like images", describe(labels))

    class ArrayBatches(keras.utils.PyDataset):
        def __init__(self):
            super().__init__(**kwargs)
            self.rng = np.random.default_rng(seed)
            self.order = self.rng.permutation(len(images)) if shuffle else np.arange(len(images))

        def __len__(self):
            return -(-len(images) // batch_size)

        def __getitem__(self, i):
            idx = np.sort(self.order[i * batch_size:(i + 1) * batch_size])
            return images[idx] if labels is None else (images[idx], labels[idx])

        def on_epoch_end(self):
            if shuffle:
                self.order = self.rng.permutation(len(images))

    return ArrayBatches()
