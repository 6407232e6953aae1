r"""Intermediate layer optimisation: refine Yeh et al.'s search in the generator's feature space.

Yeh et al.'s search (:mod:`inpaintkit.semantic`) can only return images the generator can draw,
:math:`G(z)`. When no code draws the known pixels of a real car (the kit's small DCGAN:
``docs/large_holes/README.md``, "Session 27"), the fill is the nearest car the generator *can*
draw. Searching an intermediate feature map of :math:`G` instead of :math:`z` widens what the
search can return, while the layers after that map still draw car-like parts. This is the idea of
Daras et al., "Intermediate Layer Optimization for Inverse Problems using Deep Generative Models"
(ICML 2021); Gu et al.'s mGANprior (CVPR 2020) also searches an intermediate layer.

Split :math:`G = G_{\text{tail}} \circ G_{\text{head}}` at the feature map of side ``resolution``
(4: after the projection, 8: after the first upsampling block, 16: after the second, ...). Start from the latent search's
best code :math:`\hat z`, :math:`h_0 = G_{\text{head}}(\hat z)`, and minimise over :math:`h`

.. math:: \mathcal L_c(G_{\text{tail}}(h)) + \lambda\, \mathcal L_p(G_{\text{tail}}(h))
          + \mu \lVert h - h_0 \rVert_2^2, \qquad h \ge 0

with Yeh et al.'s context and prior losses (the map is a ReLU's output, so :math:`h` stays
non-negative). ILO keeps :math:`h` in an :math:`\ell_1` ball around the generator's range; here a
soft L2 leash :math:`\mu` ties it to one point of that range, :math:`h_0`, instead. The result is
Poisson-blended as in Yeh et al.

    first = semantic.inpaint(images, holes)                       # Yeh et al.'s search over z
    result = ilo.FeatureSearch(G, D).run(images, holes, first.z)   # then over the 16x16 feature map
    result.blended
"""
from __future__ import annotations

import dataclasses
import time

import keras
import numpy as np
from keras import ops

from . import backend
from .errors import InpaintkitError, check_float, check_int
from .semantic import WINDOW, Context, ContextLoss, LatentSearch, PriorLoss, importance_weights

# The feature map searched (16 x 16 x 32 in the kit's generator) and the leash mu, chosen on the val cars
# among 9 settings (scripts/ilo_sweep.py; docs/large_holes/README.md, "Session 28") by the highest pooled
# class kept, then hole PSNR. It tied on class kept with the 8 x 8 map at mu = 0.001 (119 of 192 fills)
# and won by 0.004 dB: between those two the choice is a coin flip.
RESOLUTION = 16
LEASH = 0.01
ITERS = 200        # Adam steps on the feature map after the latent search


def resolutions(generator) -> list[int]:
    """The sides of the generator's intermediate feature maps that :func:`split` can cut at."""
    out = int(generator.output_shape[1])
    sides = []
    for layer in generator.layers[1:]:
        shape = layer.output.shape
        if len(shape) == 4 and shape[1] != out and shape[1] not in sides:
            sides.append(int(shape[1]))
    return sides


def _cut(generator, resolution: int) -> int:
    """Index of the last layer whose output has side ``resolution``."""
    return max(i for i, layer in enumerate(generator.layers)
               if i > 0 and len(layer.output.shape) == 4 and layer.output.shape[1] == resolution)


def split(generator, resolution: int = RESOLUTION) -> tuple[keras.Model, keras.Model]:
    """``(head, tail)`` with ``tail(head(z)) == generator(z)``: the cut is after the last layer whose
    output has side ``resolution`` (for the kit's DCGAN, the ReLU that ends that block). The
    generator must be a chain of layers, as :func:`inpaintkit.dcgan.generator` builds it."""
    resolution = check_int("resolution", resolution, minimum=1)
    sides = resolutions(generator)
    if resolution not in sides:
        raise InpaintkitError(f"resolution: expected the side of one of the generator's feature maps "
                              f"({', '.join(map(str, sides))}), got {resolution}")
    cut = _cut(generator, resolution)
    head = keras.Model(generator.input, generator.layers[cut].output, name="generator_head")
    inp = keras.Input(generator.layers[cut].output.shape[1:], name="features")
    x = inp
    for layer in generator.layers[cut + 1:]:
        x = layer(x)
    tail = keras.Model(inp, x, name="generator_tail")
    if tuple(tail.output.shape[1:]) != tuple(generator.output_shape[1:]):
        raise InpaintkitError(f"generator: expected a chain of layers from z to the image, got one whose "
                              f"layers after the cut give {tuple(tail.output.shape[1:])}")
    return head, tail


@dataclasses.dataclass
class FeatureResult:
    features: np.ndarray       # h, (N, r, r, C) the feature maps found
    generated: np.ndarray      # G_tail(h), (N, H, W, 3)
    composite: np.ndarray      # known pixels of y, G_tail(h) in the hole
    blended: np.ndarray        # Poisson blend of G_tail(h) into y (the result)
    losses: dict               # 'context', 'prior', 'leash', 'total': (N,) weighted, at the end
    start_losses: dict         # the same at h0 = G_head(z): where the latent search left off (its prior term
                               # can differ a little: a discriminator with minibatch std scores a batch together,
                               # and the latent search's batch held every restart)
    history: list              # per iteration: {'loss': sum over the batch, term: mean, ...}
    seconds: float


class FeatureSearch:
    """Refine codes ``z`` (e.g. ``SearchResult.z`` of :class:`~inpaintkit.semantic.LatentSearch`) by
    searching the generator's feature map of side ``resolution``: ``FeatureSearch(G, D).run(y, holes, z)``.

    ``leash`` is :math:`\\mu`, ``prior_weight`` Yeh et al.'s :math:`\\lambda` (no prior term without
    a discriminator), ``window`` the importance window of the context loss. ``h >= 0`` is kept only
    when the cut is after a ReLU (as in the kit's DCGAN). The shipped discriminator has a minibatch
    standard deviation layer, so the prior term of an image depends slightly on the other images of
    its batch (as in :class:`~inpaintkit.semantic.LatentSearch`).
    """

    def __init__(self, generator, discriminator=None, *, resolution: int = RESOLUTION, leash: float = LEASH,
                 iters: int = ITERS, lr: float = 0.01, prior_weight: float = PriorLoss.weight,
                 window: int = WINDOW, jit: bool | None = None):
        self.head, self.tail = split(generator, resolution)
        self.resolution = resolution
        self.nonnegative = isinstance(self.head.layers[-1], keras.layers.ReLU)    # the cut layer
        self.leash = check_float("leash", leash, minimum=0)
        self.iters = check_int("iters", iters, minimum=1)
        self.lr = check_float("lr", lr, minimum=0)
        self.window = check_int("window", window, minimum=1)
        if window % 2 == 0:
            raise InpaintkitError(f"window: expected an odd integer, got {window}")
        self.terms = [ContextLoss()]
        if check_float("prior_weight", prior_weight, minimum=0) > 0 and discriminator is not None:
            self.terms.append(PriorLoss(discriminator, weight=prior_weight))
        self.jit = bool(backend.accelerators()) if jit is None else jit
        self._checker = LatentSearch(generator, self.terms, iters=1, window=window)   # input checks only
        self.latent_dim = self._checker.latent_dim
        self._compiled: dict[int, tuple] = {}

    def _build(self, batch: int):
        if batch in self._compiled:
            return self._compiled[batch]
        shape = (batch, *self.head.output.shape[1:])
        h = keras.Variable(np.zeros(shape, np.float32), name="features", trainable=True)
        h0 = keras.Variable(np.zeros(shape, np.float32), name="start", trainable=False)
        opt = keras.optimizers.Adam(self.lr)

        def terms(target, hole, w):
            gen = ops.cast(self.tail(h, training=False), "float32")
            ctx = Context(z=h, generated=gen, target=target, hole=hole, weights=w,
                          composite=(1 - hole) * target + hole * gen)
            per = [t.weight * t(ctx) for t in self.terms]
            per.append(self.leash * ops.sum(ops.square(h - h0), axis=(1, 2, 3)))
            return gen, per

        def loss_fn(target, hole, w):
            _, per = terms(target, hole, w)
            names = [t.name for t in self.terms] + ["leash"]
            return ops.sum(sum(per)), {k: ops.mean(v) for k, v in zip(names, per)}

        def evaluate(target, hole, w):
            gen, per = terms(target, hole, w)
            return gen, ops.stack(per)

        step = backend.train_step(loss_fn, [h], opt, jit=self.jit, split_batch=False,
                                  post_update=(lambda: h.assign(ops.maximum(h, 0.0))) if self.nonnegative else None)
        fresh = [backend.to_numpy(v).copy() for v in opt.variables]
        self._compiled[batch] = (h, h0, opt, fresh, step, backend.function(evaluate, jit=self.jit))
        return self._compiled[batch]

    def run(self, images, holes, z) -> FeatureResult:
        """Search the feature maps of ``images`` (N, H, W, 3) with ``holes`` (N, H, W, 1), starting at
        ``G_head(z)`` for codes ``z`` (N, latent_dim)."""
        images, holes = self._checker._check(images, holes)
        z = np.asarray(z, np.float32)
        if z.shape != (len(images), self.latent_dim):
            raise InpaintkitError(f"z: expected codes of shape ({len(images)}, {self.latent_dim}), got {z.shape}")
        h, h0, opt, fresh, step, evaluate = self._build(len(images))
        start = backend.to_numpy(self.head(z, training=False)).astype(np.float32)
        h.assign(start)
        h0.assign(start)
        for v, value in zip(opt.variables, fresh):       # a fresh Adam state for every run
            v.assign(value)
        w = importance_weights(holes, self.window)
        target, hole, w = (ops.convert_to_tensor(a) for a in (images, holes, w))
        names = [t.name for t in self.terms] + ["leash"]

        def losses():
            gen, per = evaluate(target, hole, w)
            per = backend.to_numpy(per)
            return backend.to_numpy(gen), {**{k: per[i] for i, k in enumerate(names)}, "total": per.sum(0)}

        _, start_losses = losses()
        from .training import _progress
        bar = _progress(self.iters, 0, "feature search")
        history, t0 = [], time.perf_counter()
        try:
            for i in range(self.iters):
                history.append({"iteration": i + 1, **step(target, hole, w)})
                bar.update(1)
            gen, end_losses = losses()
        finally:
            bar.close()
        generated = np.clip(gen, 0, 1).astype(np.float32)
        from .blending import poisson_blend
        return FeatureResult(
            features=backend.to_numpy(h).copy(), generated=generated,
            composite=np.where(holes >= 0.5, generated, images).astype(np.float32),
            blended=np.where(holes >= 0.5, poisson_blend(generated, images, holes), images).astype(np.float32),
            losses=end_losses, start_losses=start_losses, history=history,
            seconds=time.perf_counter() - t0)


def inpaint(images, holes, generator=None, discriminator=None, *, preset=None, seed: int = 0,
            **options) -> FeatureResult:
    """Yeh et al.'s search over z (:func:`inpaintkit.semantic.inpaint`, iterations and restarts from the
    preset), then :class:`FeatureSearch` (``options``: its settings) from the codes it found. A batch
    (N, H, W, 3) at the generator's resolution; the shipped DCGAN unless a generator is given."""
    from . import semantic
    if generator is None:
        generator, shipped_d = semantic.load_models()
        discriminator = shipped_d if discriminator is None else discriminator
    first = semantic.inpaint(images, holes, generator, discriminator, preset=preset, seed=seed)
    images = np.asarray(images, np.float32)
    holes = np.asarray(holes, np.float32)
    if images.ndim == 3:
        images, holes = images[None], holes[None]
    return FeatureSearch(generator, discriminator, **options).run(images, holes, first.z)


def inpaint_image(image, mask, *, weights=None, seed: int = 0) -> np.ndarray:
    """CLI method ``ilo``: one image of any size, like :func:`inpaintkit.semantic.inpaint_image` (the
    hole's neighbourhood only, at the generator's resolution, Poisson-blended back)."""
    from .semantic import _fill_neighbourhood, any_size, load_models

    def run(image, mask):
        G, D = load_models(weights)
        return _fill_neighbourhood(image, mask, G.output_shape[1], lambda x, m: inpaint(x, m, G, D, seed=seed))
    return any_size(image, mask, run)
