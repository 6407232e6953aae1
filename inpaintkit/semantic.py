r"""Semantic image inpainting by searching a GAN's latent space (Yeh et al., CVPR 2017).

Given a corrupted image :math:`y` with known-pixel mask :math:`M` (1 = known; the kit's masks
say 1 = hole, so :math:`M = 1 - \text{hole}`), find the code whose image agrees with the known
pixels and looks real, then blend it in:

.. math:: \hat z = \arg\min_z \; \underbrace{\lVert W \odot (G(z) - y) \rVert_1}_{\mathcal L_c}
          + \underbrace{\lambda \log(1 - D(G(z)))}_{\mathcal L_p}, \qquad \lambda = 0.003

with :math:`W_i = \frac{1}{|N(i)|}\sum_{j \in N(i)} (1 - M_j)` on known pixels (the fraction of
missing pixels in a 7x7 window, 0 in the hole). Adam on :math:`z`, clipped to :math:`[-1, 1]`
after every step; several random restarts, the lowest loss kept; finally Poisson blending of
:math:`G(\hat z)` into :math:`y`.

The loss is a list of weighted :class:`Term` s, each returning one value per image; a new term
(e.g. classifier guidance in :mod:`inpaintkit.guided`) is a subclass. All images and all their
restarts are optimised in one compiled step; the total loss is the *sum* of per-image losses,
so every image's gradient is its own.

    result = inpaint(images, holes)          # shipped toy-car DCGAN, active preset
    result.blended                            # (N, 64, 64, 3), known pixels exact
"""
from __future__ import annotations

import dataclasses
import time
from typing import Any, Callable, Sequence

import keras
import numpy as np
from keras import ops

from . import backend
from .errors import InpaintkitError, check_float, check_images, check_int, check_masks

# The kit's generator for latent search (notebooks 07-10): the resize-convolution DCGAN, the one that
# covers every class of car (docs/dcgan_coverage.md, session 25). The first shipped DCGAN,
# "dcgan_toycars_generator" (transposed convolutions; too few sedans, hatchbacks and SUVs), still
# loads by name for comparison.
GENERATOR = "dcgan_toycars_resize_generator"
DISCRIMINATOR = "dcgan_toycars_resize_discriminator"
WINDOW = 7          # Yeh et al.'s importance window (the context loss weighs pixels near the hole)


@dataclasses.dataclass
class Context:
    """What a loss term sees in one step (backend tensors; B = images x restarts)."""
    z: Any            # (B, latent_dim)
    generated: Any    # G(z), (B, H, W, 3) in [0, 1]
    target: Any       # y, the corrupted image, (B, H, W, 3) in [0, 1]
    hole: Any         # (B, H, W, 1), 1 = hole
    weights: Any      # W, (B, H, W, 1): Yeh's importance weights (0 in the hole)
    composite: Any    # (1 - hole) * target + hole * generated


class Term:
    """One weighted loss term: ``term(ctx)`` -> per-image loss of shape (B,), before ``weight``."""
    name: str = "term"
    weight: float = 1.0

    def __init__(self, weight: float | None = None, name: str | None = None):
        if weight is not None:
            self.weight = check_float("weight", weight)
        if name is not None:
            self.name = name

    def __call__(self, ctx: Context):  # pragma: no cover - abstract
        raise NotImplementedError

    def __repr__(self):
        return f"{type(self).__name__}(name={self.name!r}, weight={self.weight:g})"


class ContextLoss(Term):
    r"""Weighted context loss :math:`\lVert W \odot (G(z) - y) \rVert_1` per image."""
    name = "context"

    def __call__(self, ctx: Context):
        return ops.sum(ops.abs(ctx.weights * (ctx.generated - ctx.target)), axis=(1, 2, 3))


class PriorLoss(Term):
    r"""Perceptual (prior) loss :math:`\log(1 - D(G(z)))`, weighted by :math:`\lambda = 0.003`.

    ``D`` returns logits, and :math:`\log(1 - \sigma(l)) = -\mathrm{softplus}(l)`, computed stably.
    A discriminator that judges packs of ``m`` images (PacGAN, ``dcgan.Pack``) scores consecutive
    codes of the search together; each image of a pack gets the pack's loss.
    """
    name = "prior"
    weight = 0.003

    def __init__(self, discriminator, weight: float | None = None, name: str | None = None):
        from .dcgan import packing
        super().__init__(weight, name)
        self.discriminator = discriminator
        self.pack = packing(discriminator)

    def __call__(self, ctx: Context):
        n = ctx.generated.shape[0]
        if self.pack > 1 and n is not None and n % self.pack:
            raise InpaintkitError(f"generated: expected a batch of codes (images x restarts) that is a multiple "
                                  f"of the discriminator's pack ({self.pack}), got {n}")
        logits = ops.reshape(ops.cast(self.discriminator(ctx.generated, training=False), "float32"), (-1,))
        if self.pack > 1:
            logits = ops.repeat(logits, self.pack)
        return -ops.softplus(logits)


def importance_weights(hole, window: int = 7) -> np.ndarray:
    """Yeh's W: on each known pixel, the fraction of hole pixels in the ``window``x``window``
    neighbourhood around it (image borders mirrored); 0 on hole pixels. Same shape as ``hole``."""
    from scipy.ndimage import uniform_filter

    hole = check_masks("hole", hole)
    window = check_int("window", window, minimum=1)
    if window % 2 == 0:
        raise InpaintkitError(f"window: expected an odd integer, got {window}")
    h = (hole >= 0.5).astype(np.float64)
    size = (window, window, 1) if h.ndim == 3 else (1, window, window, 1)
    frac = uniform_filter(h, size=size, mode="reflect")      # reflect = symmetric padding
    return np.where(h > 0, 0.0, np.clip(frac, 0, 1)).astype(np.float32)


@dataclasses.dataclass
class SearchResult:
    z: np.ndarray              # (N, latent_dim) best code per image
    generated: np.ndarray      # G(z), (N, H, W, 3)
    composite: np.ndarray      # known pixels of y, G(z) in the hole
    blended: np.ndarray        # Poisson blend of G(z) into y (the result)
    losses: dict               # term name -> (N,) weighted loss at the best restart, plus 'total'
    restart_losses: np.ndarray  # (N, R) total loss of every restart
    restart_generated: np.ndarray  # (N, R, H, W, 3) G(z) of every restart
    best_restart: np.ndarray   # (N,) index of the kept restart
    history: list              # per iteration: {'loss': sum over the batch, term: mean, ...}
    snapshots: list            # [(iteration, (N, H, W, 3) G(z) of the currently best restart)]
    snapshot_losses: np.ndarray  # (S, N, R) total losses at each snapshot
    seconds: float             # wall time of the whole search
    seconds_per_image: float
    iterations_per_second: float


class LatentSearch:
    """Batched latent optimisation: ``LatentSearch(G, [ContextLoss(), PriorLoss(D)]).run(y, holes)``.

    Image ``n`` of a batch starts from the ``restarts`` codes that ``seed + n`` gives, so a batch
    reproduces the per-image searches run with those seeds.
    """

    def __init__(self, generator, terms: Sequence[Term], iters: int = 1500, restarts: int = 1,
                 lr: float = 0.01, beta_1: float = 0.9, seed: int = 0, window: int = WINDOW,
                 jit: bool | None = None, candidates: int | None = None):
        self.generator = generator
        self.terms = list(terms)
        if not self.terms or not all(isinstance(t, Term) for t in self.terms):
            raise InpaintkitError(f"terms: expected a non-empty list of semantic.Term, got {self.terms!r}")
        names = [t.name for t in self.terms]
        if len(set(names)) != len(names):
            raise InpaintkitError(f"terms: expected distinct names, got {names}")
        self.iters = check_int("iters", iters, minimum=1)
        self.restarts = check_int("restarts", restarts, minimum=1)
        self.lr = check_float("lr", lr, minimum=0)
        self.beta_1 = check_float("beta_1", beta_1, 0, 1)
        self.seed = check_int("seed", seed)
        # candidates: a best-of-N start. Draw N random codes per image and start its restarts from the
        # ones whose G(z) has the lowest context loss (None: Yeh et al.'s plain random start).
        self.candidates = None if candidates is None else check_int("candidates", candidates, minimum=1)
        if self.candidates is not None and self.candidates < self.restarts:
            raise InpaintkitError(f"candidates: expected at least restarts ({self.restarts}) codes per image, "
                                  f"got {self.candidates}")
        # XLA only on a GPU: on this CPU it made the step ~10x slower (benchmarks/bench_semantic.py)
        self.window, self.jit = window, bool(backend.accelerators()) if jit is None else jit
        self.latent_dim = int(generator.input_shape[-1])
        self.size = int(generator.output_shape[1])
        self._compiled: dict[int, tuple] = {}

    def initial_z(self, n: int) -> np.ndarray:
        """(n * restarts, latent_dim): image i's restarts come from ``seed + i``."""
        return np.concatenate([np.random.default_rng(self.seed + i).uniform(
            -1, 1, (self.restarts, self.latent_dim)) for i in range(n)]).astype(np.float32)

    def start_codes(self, images, holes) -> np.ndarray:
        """(n * restarts, latent_dim) start codes: :meth:`initial_z`, or with ``candidates = N`` the
        ``restarts`` codes of image i's N (drawn from ``seed + i``) whose images best match its known
        pixels (context loss)."""
        n = len(images)
        if self.candidates is None:
            return self.initial_z(n)
        w = importance_weights(holes, self.window)
        out = []
        for i in range(n):
            z = np.random.default_rng(self.seed + i).uniform(-1, 1, (self.candidates, self.latent_dim)).astype(np.float32)
            loss = np.concatenate([
                (w[i] * np.abs(backend.to_numpy(self.generator(z[j:j + 256], training=False)).astype(np.float32)
                               - images[i])).sum(axis=(1, 2, 3)) for j in range(0, self.candidates, 256)])
            out.append(z[np.argsort(loss, kind="stable")[:self.restarts]])
        return np.concatenate(out)

    def loss_at(self, z, images, holes) -> dict:
        """Every term's weighted loss (and ``'total'``), one value per image, at the given codes
        (N, latent_dim), with no search: e.g. at the true code of the generator's own image."""
        images, holes = self._check(images, holes)
        z = np.asarray(z, np.float32)
        if z.shape != (len(images), self.latent_dim):
            raise InpaintkitError(f"z: expected codes of shape ({len(images)}, {self.latent_dim}), got {z.shape}")
        var, _, _, _, evaluate = self._build(len(images))
        var.assign(z)
        w = importance_weights(holes, self.window)
        _, per = evaluate(*(ops.convert_to_tensor(a) for a in (images, holes, w)))
        per = backend.to_numpy(per)
        return {**{t.name: per[k] for k, t in enumerate(self.terms)}, "total": per.sum(0)}

    def _context(self, z, target, hole, w):
        gen = ops.cast(self.generator(z, training=False), "float32")    # float32 under mixed precision too
        return Context(z=z, generated=gen, target=target, hole=hole, weights=w,
                       composite=(1 - hole) * target + hole * gen)

    def _build(self, batch: int):
        """One compiled step and one compiled evaluation per batch size, reused across runs."""
        if batch in self._compiled:
            return self._compiled[batch]
        z = keras.Variable(np.zeros((batch, self.latent_dim), np.float32), name="z", trainable=True)
        opt = keras.optimizers.Adam(self.lr, beta_1=self.beta_1)

        def loss_fn(target, hole, w):
            ctx = self._context(z, target, hole, w)
            per = [t(ctx) for t in self.terms]
            total = sum(t.weight * v for t, v in zip(self.terms, per))
            return ops.sum(total), {t.name: ops.mean(t.weight * v) for t, v in zip(self.terms, per)}

        def evaluate(target, hole, w):
            ctx = self._context(z, target, hole, w)
            return ctx.generated, ops.stack([t.weight * t(ctx) for t in self.terms])

        step = backend.train_step(loss_fn, [z], opt, jit=self.jit, split_batch=False,
                                  post_update=lambda: z.assign(ops.clip(z, -1.0, 1.0)))
        fresh = [backend.to_numpy(v).copy() for v in opt.variables]
        self._compiled[batch] = (z, opt, fresh, step, backend.function(evaluate, jit=self.jit))
        return self._compiled[batch]

    def _check(self, images, holes):
        images = check_images("images", images, batched=True)
        holes = check_masks("holes", holes, like=images)
        if images.shape[1:3] != (self.size, self.size):
            raise InpaintkitError(f"images: expected ({self.size}, {self.size}) images like the generator's "
                                  f"output, got {images.shape[1:3]} (resize them, or use inpaint_image)")
        return images, (holes >= 0.5).astype(np.float32)

    def run(self, images, holes, callback: Callable | None = None, snapshot_every: int | None = None) -> SearchResult:
        """Optimise every image's restarts together; ``callback(iteration, logs)`` after each step."""
        images, holes = self._check(images, holes)
        n, r = len(images), self.restarts
        if snapshot_every is not None:
            snapshot_every = check_int("snapshot_every", snapshot_every, minimum=1)
        z, opt, fresh, step, evaluate = self._build(n * r)
        z.assign(self.start_codes(images, holes))
        for v, value in zip(opt.variables, fresh):       # a fresh Adam state for every run
            v.assign(value)
        target = np.repeat(images, r, axis=0)
        hole = np.repeat(holes, r, axis=0)
        w = importance_weights(hole, self.window)
        target, hole, w = (ops.convert_to_tensor(a) for a in (target, hole, w))
        history, snapshots, snap_losses = [], [], []

        def snapshot(i):
            gen, per = evaluate(target, hole, w)
            tot = backend.to_numpy(per).sum(0).reshape(n, r)
            best = tot.argmin(1)
            snapshots.append((i, backend.to_numpy(gen).reshape(n, r, *gen.shape[1:])[np.arange(n), best]))
            snap_losses.append(tot)

        from .training import _progress
        bar = _progress(self.iters, 0, "latent search")
        t0 = time.perf_counter()
        try:
            for i in range(self.iters):
                if snapshot_every and i % snapshot_every == 0:
                    snapshot(i)
                logs = step(target, hole, w)
                history.append({"iteration": i + 1, **logs})
                bar.update(1)
                if callback is not None:
                    callback(i + 1, logs)
            if snapshot_every:
                snapshot(self.iters)
            gen, per = evaluate(target, hole, w)
            gen, per = backend.to_numpy(gen), backend.to_numpy(per)
        finally:
            bar.close()
        seconds = time.perf_counter() - t0
        total = per.sum(0).reshape(n, r)
        best = total.argmin(1)
        pick = np.arange(n) * r + best
        generated = np.clip(gen[pick], 0, 1)
        composite = np.where(holes >= 0.5, generated, images).astype(np.float32)
        from .blending import poisson_blend
        blended = np.where(holes >= 0.5, poisson_blend(generated, images, holes), images).astype(np.float32)
        losses = {t.name: per[k][pick] for k, t in enumerate(self.terms)}
        losses["total"] = total[np.arange(n), best]
        return SearchResult(
            z=backend.to_numpy(z)[pick], generated=generated, composite=composite, blended=blended,
            losses=losses, restart_losses=total, restart_generated=np.clip(gen, 0, 1).reshape(n, r, *gen.shape[1:]),
            best_restart=best, history=history, snapshots=snapshots,
            snapshot_losses=np.array(snap_losses).reshape(-1, n, r), seconds=seconds,
            seconds_per_image=seconds / n, iterations_per_second=self.iters / seconds)


def load_models(weights=None):
    """(G, D) from the kit's shipped toy-car DCGAN (:data:`GENERATOR`), from another shipped generator by
    name (e.g. the first one, ``"dcgan_toycars_generator"``, with its ``..._discriminator``), or G from a ``.weights.h5``
    file ``weights`` (its discriminator is used when a sibling file named ``...discriminator.weights.h5`` exists)."""
    from pathlib import Path

    from . import weights as registry
    if weights is None:
        if not registry.available(GENERATOR):
            raise InpaintkitError(f"weights: expected the shipped {GENERATOR!r} (train it with "
                                  f"scripts/train_dcgan.py) or a generator .weights.h5 file, got None")
        weights = GENERATOR
    if not str(weights).endswith(".h5") and str(weights).endswith("_generator") and registry.available(str(weights)):
        d_name = str(weights)[:-len("generator")] + "discriminator"
        return registry.load(str(weights)), (registry.load(d_name) if registry.available(d_name) else None)
    from . import dcgan
    file = Path(weights)
    if "--width" in dcgan.run_flags(file):          # a file of a training run: its generator's own options
        G = dcgan.run_generator(file, registry.entry(GENERATOR)["config"]["size"] if registry.available(GENERATOR) else 64)
    else:
        G = registry.build(GENERATOR) if registry.available(GENERATOR) else _default_generator()
    registry.load_file(G, file, what="weights")
    sibling = file.with_name(file.name.replace("generator", "discriminator"))
    D = None
    if sibling != file and sibling.exists():
        D = dcgan.discriminator(G.output_shape[1], **_discriminator_config(file))
        registry.load_file(D, sibling, what="discriminator weights")
    return G, D


def _discriminator_config(file) -> dict:
    """The discriminator options of the run that wrote ``file`` (``dcgan.run_flags``), else the
    shipped discriminator's."""
    from . import weights as registry
    from .dcgan import run_flags
    config = {"width": 1.0}
    if registry.available(DISCRIMINATOR):
        config.update({k: v for k, v in registry.entry(DISCRIMINATOR)["config"].items() if k != "size"})
    run = run_flags(file)
    for flag, key in (("--width", "width"), ("--minibatch-std", "minibatch_std"),
                      ("--spectral-norm", "spectral_norm"), ("--pack", "pack")):
        if flag in run:
            config[key] = run[flag]
    if "--width" in run and "--pack" not in run:      # a run records --pack only when it packed
        config.pop("pack", None)
    return config


def _default_generator():
    from . import dcgan
    return dcgan.generator(64, 1.0)


def default_terms(discriminator=None, prior_weight: float = PriorLoss.weight) -> list[Term]:
    """Yeh et al.'s loss: the context loss, plus the prior loss when a discriminator is given."""
    terms: list[Term] = [ContextLoss()]
    if discriminator is not None and prior_weight > 0:
        terms.append(PriorLoss(discriminator, weight=prior_weight))
    return terms


def inpaint(images, holes, generator=None, discriminator=None, *, preset=None, iters: int | None = None,
            restarts: int | None = None, terms: Sequence[Term] | None = None, lr: float = 0.01,
            seed: int = 0, snapshot_every: int | None = None, callback=None) -> SearchResult:
    """Inpaint a batch (N, H, W, 3) at the generator's resolution; defaults from the preset."""
    from . import presets
    P = presets.active() if preset is None else (presets.get(preset) if isinstance(preset, str) else preset)
    if generator is None:
        generator, shipped_d = load_models()
        discriminator = shipped_d if discriminator is None else discriminator
    search = LatentSearch(generator, terms if terms is not None else default_terms(discriminator),
                          iters=P.latent_iters if iters is None else iters,
                          restarts=P.restarts if restarts is None else restarts, lr=lr, seed=seed)
    images = check_images("images", images)
    if images.ndim == 3:
        images, holes = images[None], check_masks("holes", holes, like=images)[None]
    return search.run(images, holes, callback=callback, snapshot_every=snapshot_every)


def _resize(x, size, interpolation):
    import cv2
    out = cv2.resize(x, (size[1], size[0]), interpolation=interpolation)
    return out[..., None] if out.ndim == 2 else out


def neighbourhood(hole: np.ndarray, side_min: int) -> tuple:
    """The part of an image a 64-pixel generator sees for ``hole`` (H, W) bool: a square box
    ``(y0, y1, x0, x1)`` centred on the hole's bounding box, twice its longer side and at least
    ``side_min`` (the generator's resolution), moved inside the image and clipped to it. The
    hole then fills about the centre quarter, as in Yeh et al.'s training, and a large photo
    costs no more than its hole."""
    h, w = hole.shape
    ys, xs = np.nonzero(hole)
    side = max(2 * int(max(np.ptp(ys), np.ptp(xs)) + 1), int(side_min))
    cy, cx = (ys.min() + ys.max() + 1) // 2, (xs.min() + xs.max() + 1) // 2

    def span(c, n):
        lo = int(min(max(0, c - side // 2), max(0, n - side)))
        return lo, min(n, lo + side)
    return span(cy, h) + span(cx, w)


def inpaint_image(image, mask, *, weights=None, seed: int = 0) -> np.ndarray:
    """One image of any size: the hole's :func:`neighbourhood` resized to the generator's
    resolution, searched, the fill resized back and Poisson-blended there; pixels outside the
    hole are ``image``'s exactly."""
    def run(image, mask):
        G, D = load_models(weights)
        return _fill_neighbourhood(image, mask, G.output_shape[1], lambda x, m: inpaint(x, m, G, D, seed=seed))
    return any_size(image, mask, run)


def any_size(image, mask, run: Callable) -> np.ndarray:
    """What every any-size entry point (``semantic``, ``ilo``, ``guided``) does first: check ``image``
    (H, W, 3) and ``mask`` (H, W, 1), return a copy of the image when the mask has no hole, else
    ``run(image, mask)`` with the mask made 0/1 (``run`` loads its models only then)."""
    image = check_images("image", image, batched=False)
    mask = (check_masks("mask", mask, like=image) >= 0.5).astype(np.float32)
    if not mask.any():
        return image.copy()
    return run(image, mask)


def _fill_neighbourhood(image, mask, s: int, search) -> np.ndarray:
    """Crop the hole's neighbourhood, resize it to ``s`` x ``s``, ``search(x, m)`` (a batch of one,
    returns a result with ``.generated``), resize the fill back, Poisson-blend it, paste it in."""
    import cv2

    from .blending import poisson_blend
    y0, y1, x0, x1 = neighbourhood(mask[..., 0] >= 0.5, s)
    im, m = image[y0:y1, x0:x1], mask[y0:y1, x0:x1]
    small = np.clip(_resize(im, (s, s), cv2.INTER_AREA), 0, 1)
    small_hole = (_resize(m, (s, s), cv2.INTER_AREA) > 0).astype(np.float32)   # any hole -> hole
    result = search(small[None], small_hole[None])
    fill = np.clip(_resize(result.generated[0], im.shape[:2], cv2.INTER_CUBIC), 0, 1)
    out = image.copy()
    out[y0:y1, x0:x1] = np.where(m >= 0.5, poisson_blend(fill, im, m), im)
    return out


def search_own_samples(search: LatentSearch, holes, seed: int = 123) -> dict:
    """Can the search find a code that is known to exist? Draw ``len(holes)`` codes (``seed``), take the
    generator's own images, hide ``holes`` (N, H, W, 1) and run ``search`` on them.

    Returns ``{"codes", "images", "result" (SearchResult), "true_loss", "found_loss" (N,) total losses,
    "z_error" (N,) RMS distance of the found code from the true one}``. The true code fits the known
    pixels exactly (context loss 0), so a search that found the best code would end at or below
    ``true_loss``; a random code is ``sqrt(2/3) ≈ 0.82`` from the true one (RMS).
    """
    holes = np.asarray(holes, np.float32)
    if holes.ndim != 4:
        raise InpaintkitError(f"holes: expected a batch of masks (N, H, W, 1), got shape {holes.shape}")
    codes = np.random.default_rng(check_int("seed", seed)).uniform(
        -1, 1, (len(holes), search.latent_dim)).astype(np.float32)
    images = np.clip(backend.to_numpy(search.generator(codes, training=False)).astype(np.float32), 0, 1)
    result = search.run(images, holes)
    true_loss = search.loss_at(codes, images, holes)["total"]
    z_error = np.sqrt(np.mean((result.z - codes) ** 2, axis=1))
    return {"codes": codes, "images": images, "result": result, "true_loss": true_loss,
            "found_loss": result.losses["total"], "z_error": z_error}
