r"""Layer-wise reconstruction: what does one layer of the classifier remember about an image?

The figure of *sem_inpainting* (https://github.com/amarisch/sem_inpainting): start from noise and optimise an image so that one layer :math:`\phi_l` of the
classifier responds to it as it does to the original :math:`x_0`. Low layers keep the shapes; the
softmax keeps only the class. Two parametrisations of the image:

* ``"pixels"``: :math:`x = \sigma(u)`, the logistic sigmoid of free parameters :math:`u` (so :math:`x`
  stays in [0, 1] with no clipping), :math:`u` starts as faint Gaussian noise (std 0.1, a grey image
  with noise); a total-variation prior
  :math:`\tau\,\mathrm{TV}(x)` (mean absolute difference of neighbours, ``tv``) keeps the
  high-frequency noise that no layer constrains from dominating the picture; with ``jitter=j`` every
  step shows the classifier the image shifted by a random whole number of pixels in [−j, j] in each
  direction (wrapping round; "transformation robustness" of feature visualisation, Olah et al. 2017):
  an image whose features only match at one exact position — the high-frequency patterns a layer
  accepts as well as the car — no longer lowers the loss, so the picture keeps what the layer
  really encodes;
* ``"z"``: :math:`x = G(z)`, the DCGAN's image of a code :math:`z \in [-1, 1]^{100}` (clipped after every
  step, as in Yeh et al.): the reconstruction can only be a car the generator knows.

The loss per image is the normalised squared error

.. math:: \mathcal L_l(x) = \frac{\lVert \phi_l(x) - \phi_l(x_0) \rVert^2}{\lVert \phi_l(x_0) \rVert^2}

and, for ``softmax``, the Kullback–Leibler divergence :math:`\mathrm{KL}(p(x_0) \,\|\, p(x))` of the
class probabilities. All images *and* all layers are optimised together in one compiled step (a row
per (layer, image) pair; each row's loss reads only its own layer), summed, so every row's gradient
is its own. Adam through :func:`inpaintkit.backend.train_step`.
"""
from __future__ import annotations

import dataclasses
import time

import keras
import numpy as np
from keras import ops

from . import backend, googlenet
from .errors import InpaintkitError, check_choice, check_float, check_images, check_int

EPS = 1e-8
DEFAULT_LAYERS = ("conv2", "inception_3b", "inception_4b", "softmax")


def normalised_error(features, target):
    r"""Per image :math:`\lVert f - t\rVert^2 / \lVert t\rVert^2` over all but the batch axis."""
    axes = tuple(range(1, len(features.shape)))
    return ops.sum((features - target) ** 2, axis=axes) / (ops.sum(target ** 2, axis=axes) + EPS)


def kl(p, q):
    r"""Per row :math:`\mathrm{KL}(p\,\|\,q) = \sum_k p_k \log(p_k / q_k)` of probability vectors."""
    p = ops.clip(p, EPS, 1.0)
    q = ops.clip(q, EPS, 1.0)
    return ops.sum(p * (ops.log(p) - ops.log(q)), axis=-1)


def layer_loss(name: str, features, target):
    """The reconstruction loss of layer ``name``: KL for ``softmax``, else the normalised error."""
    return kl(target, features) if name == "softmax" else normalised_error(features, target)


def shift_matrix(size: int, d: int) -> np.ndarray:
    """``(size, size)`` permutation ``P`` with ``P @ v`` = ``v`` rolled by ``d`` (``np.roll``): a shift
    that is an input of the compiled step, the same on every backend (PyTorch's roll needs a
    Python int)."""
    return np.roll(np.eye(size, dtype=np.float32), int(d), axis=0)


def total_variation(x):
    """Mean absolute difference of vertically and horizontally neighbouring pixels, per image."""
    dy = ops.mean(ops.abs(x[:, 1:] - x[:, :-1]), axis=(1, 2, 3))
    dx = ops.mean(ops.abs(x[:, :, 1:] - x[:, :, :-1]), axis=(1, 2, 3))
    return dy + dx


@dataclasses.dataclass
class Reconstruction:
    images: np.ndarray        # (L, N, H, W, 3): images[l, n] reconstructs image n from layer l
    layers: tuple             # the L layer names
    losses: np.ndarray        # (L, N) final layer loss (without the TV prior)
    history: list             # per iteration {'loss': total, layer: mean loss of its rows}
    seconds: float


class Reconstructor:
    """``Reconstructor(classifier, layers, mode="pixels"|"z", generator=None).run(images, iters)``.

    The compiled step is kept per batch size, so running again (other images, other seed) is fast.
    """

    def __init__(self, classifier, layers=DEFAULT_LAYERS, *, mode: str = "pixels", generator=None,
                 lr: float | None = None, tv: float = 0.3, jitter: int = 0, jit: bool | None = None):
        check_choice("mode", mode, ("pixels", "z"))
        if isinstance(layers, str):
            layers = (layers,)
        self.layers = tuple(layers)
        if not self.layers:
            raise InpaintkitError("layers: expected at least one layer name, got an empty list")
        self.extractor = googlenet.feature_extractor(classifier, self.layers)
        self.size = int(classifier.input_shape[1])
        if mode == "z":
            if generator is None:
                raise InpaintkitError("generator: expected a DCGAN generator for mode='z', got None")
            if int(generator.output_shape[1]) != self.size:
                raise InpaintkitError(f"generator: expected {self.size}x{self.size} images like the "
                                      f"classifier's input, got {generator.output_shape[1]}")
        self.mode, self.generator = mode, generator
        self.lr = check_float("lr", lr if lr is not None else (0.05 if mode == "pixels" else 0.02), minimum=0)
        self.tv = check_float("tv", tv, minimum=0) if mode == "pixels" else 0.0
        self.jitter = check_int("jitter", jitter, minimum=0) if mode == "pixels" else 0
        self.jit = googlenet.auto_jit(jit)
        self._compiled: dict[int, tuple] = {}

    def image_of(self, var):
        if self.mode == "pixels":
            return ops.sigmoid(var)
        return self.generator(var, training=False)

    def _build(self, rows: int):
        if rows in self._compiled:
            return self._compiled[rows]
        shape = (rows, self.size, self.size, 3) if self.mode == "pixels" else (rows, self.generator.input_shape[-1])
        var = keras.Variable(np.zeros(shape, np.float32), name="reconstruction", trainable=True)
        opt = keras.optimizers.Adam(self.lr)

        def per_row(select, targets, shift_h=None, shift_w=None):
            x = self.image_of(var)
            # unshifted (no jitter, or the final evaluation): x itself, no identity products in every step
            shifted = self.jitter and shift_h is not None
            seen = ops.einsum("gh,nhwc,vw->ngvc", shift_h, x, shift_w) if shifted else x
            feats = self.extractor(seen, training=False)
            losses = [layer_loss(name, feats[name], t) for name, t in zip(self.layers, targets)]
            return x, ops.stack(losses, axis=1) * select            # (rows, L), zero off the row's layer

        def loss_fn(tv, select, shift_h, shift_w, *targets):
            x, per = per_row(select, targets, shift_h, shift_w)
            total = ops.sum(per) + tv * ops.sum(total_variation(x))
            col = ops.sum(select, axis=0) + EPS
            return total, {name: ops.sum(per[:, k]) / col[k] for k, name in enumerate(self.layers)}

        def evaluate(select, *targets):
            x, per = per_row(select, targets)
            return x, ops.sum(per, axis=1)

        post = None if self.mode == "pixels" else (lambda: var.assign(ops.clip(var, -1.0, 1.0)))
        step = backend.train_step(loss_fn, [var], opt, jit=self.jit, post_update=post,
                                  split_batch=False)  # one variable per image: never split it
        fresh = [backend.to_numpy(v).copy() for v in opt.variables]
        self._compiled[rows] = (var, opt, fresh, step, backend.function(evaluate, jit=self.jit))
        return self._compiled[rows]

    def initial(self, rows: int, seed: int) -> np.ndarray:
        rng = np.random.default_rng(seed)
        if self.mode == "pixels":
            return rng.normal(0.0, 0.1, (rows, self.size, self.size, 3)).astype(np.float32)
        return rng.uniform(-1, 1, (rows, self.generator.input_shape[-1])).astype(np.float32)

    def run(self, images, iters: int, seed: int = 0, callback=None, tv: float | None = None) -> Reconstruction:
        """Reconstruct ``images`` from every layer; ``tv`` overrides the TV weight (same compiled step)."""
        tv = self.tv if tv is None else check_float("tv", tv, minimum=0)
        images = check_images("images", images)
        if images.ndim == 3:
            images = images[None]
        if images.shape[1:3] != (self.size, self.size):
            raise InpaintkitError(f"images: expected {self.size}x{self.size} images for this classifier, "
                                  f"got {images.shape[1]}x{images.shape[2]}")
        iters = check_int("iters", iters, minimum=1)
        n, L = len(images), len(self.layers)
        rows = n * L
        var, opt, fresh, step, evaluate = self._build(rows)
        var.assign(self.initial(rows, seed))
        for v, value in zip(opt.variables, fresh):
            v.assign(value)
        feats = self.extractor(images, training=False)
        targets = [np.tile(backend.to_numpy(feats[name]), (L,) + (1,) * (len(feats[name].shape) - 1))
                   for name in self.layers]                      # row l*n + i: layer l, image i
        select = np.repeat(np.eye(L, dtype=np.float32), n, axis=0)
        history = []
        rng = np.random.default_rng(seed + 1)
        shifts = {d: shift_matrix(self.size, d) for d in range(-self.jitter, self.jitter + 1)}   # built once
        tv = np.array(tv, np.float32)
        t0 = time.perf_counter()
        for i in range(iters):
            dh, dw = rng.integers(-self.jitter, self.jitter + 1, 2) if self.jitter else (0, 0)
            logs = step(tv, select, shifts[int(dh)], shifts[int(dw)], *targets)
            history.append({"iteration": i + 1, **logs})
            if callback is not None:
                callback(i + 1, logs)
        x, per = evaluate(select, *targets)
        seconds = time.perf_counter() - t0
        x = np.clip(backend.to_numpy(x), 0, 1).reshape(L, n, self.size, self.size, 3)
        return Reconstruction(images=x, layers=self.layers, losses=backend.to_numpy(per).reshape(L, n),
                              history=history, seconds=seconds)


def reconstruct(classifier, images, layers=DEFAULT_LAYERS, *, mode: str = "pixels", generator=None,
                iters: int = 200, seed: int = 0, **kw) -> Reconstruction:
    """One-call form of :class:`Reconstructor` (``images[l, n]`` from layer ``layers[l]``)."""
    return Reconstructor(classifier, layers, mode=mode, generator=generator, **kw).run(images, iters, seed=seed)


def show(result: Reconstruction, originals, title: str = ""):
    """Grid: one row per image, the original then one column per layer."""
    from .plotting import show_images
    L, n = result.images.shape[:2]
    ims, titles = [], []
    for i in range(n):
        ims.append(originals[i])
        titles.append("original" if i == 0 else "")
        for l in range(L):
            ims.append(result.images[l, i])
            titles.append(result.layers[l] if i == 0 else "")
    return show_images(ims, titles, ncols=L + 1, size=1.3, suptitle=title or None)
