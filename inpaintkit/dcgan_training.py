"""Training a DCGAN (Radford et al. 2016): alternating Adam steps for D and G, fixed-noise samples
watched for collapse, checkpoints to resume from, and a live view for the notebook.

    from inpaintkit import dcgan, dcgan_training
    G, D = dcgan.generator(64, 0.25), dcgan.discriminator(64, 0.25)
    trainer = dcgan_training.DCGANTrainer(G, D, images, directory="runs/dcgan")
    trainer.train(steps=600, on_sample=dcgan_training.LiveView())   # resumes from runs/dcgan

The networks, DiffAugment, the losses and the sampling helpers are in :mod:`inpaintkit.dcgan`.
"""
from __future__ import annotations

import time
import warnings

import keras
import numpy as np
from keras import ops

from . import backend
from .checkpoints import Checkpointer
from .dcgan import (AUGMENT_POLICIES, augment_params, diff_augment, diversity, gan_losses, generate, latent,
                    packing, r1_penalty)
from .errors import InpaintkitError, check_float, check_images, check_int
from .training import Loop


class DCGANTrainer:
    """Alternating D and G Adam steps (lr 2e-4, beta_1 0.5) through the kit's training loop.

    Every ``sample_every`` steps the fixed-noise samples (the same z each time) are drawn, their
    diversity measured (a fall below ``collapse_ratio`` of its best value so far warns),
    and ``on_sample(step, images, history)`` is called (the notebook's live view).
    ``jit=None`` compiles with XLA only when a GPU is present: on this 2-core CPU XLA ran the 5x5
    transposed convolutions 4-6x slower than TensorFlow's own kernels (benchmarks/bench_dcgan.py).
    """

    def __init__(self, G, D, images, *, batch_size: int = 64, lr: float = 2e-4, beta_1: float = 0.5,
                 d_lr: float | None = None, augment=(), ema: float | None = None,
                 label_smoothing: float = 0.0, r1: float = 0.0, recall: float = 0.0, cycle: float = 1.0, encoder=None,
                 seed: int = 0, directory=None, checkpoint_every: int = 0,
                 sample_every: int = 50, n_fixed: int = 16, collapse_ratio: float = 0.4,
                 jit: bool | None = None, resume: bool = True, config: dict | None = None):
        self.images = check_images("images", images, batched=True)
        size = G.output_shape[1]
        if self.images.shape[1:3] != (size, size) or D.input_shape[1] != size:
            raise InpaintkitError(f"images: expected ({size}, {size}) images like the generator's output "
                                  f"and the discriminator's input, got {self.images.shape[1:3]}")
        self.G, self.D = G, D
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        pack = packing(D)
        if self.batch_size % pack:
            raise InpaintkitError(f"batch_size: expected a multiple of the discriminator's pack ({pack}), "
                                  f"got {self.batch_size}")
        self.label_smoothing = check_float("label_smoothing", label_smoothing, 0.0, 0.5)
        # R1 (Mescheder et al. 2018, "Which training methods for GANs actually converge?"): penalise
        # D's gradient on real images, (gamma / 2) E ||grad_x D(x)||^2, so D stays flat where the data is
        self.r1 = check_float("r1", r1, minimum=0.0)
        # recall: G must also redraw real images from the codes an encoder E gives them,
        # recall * |G(E(x)) - x|_1 + cycle * |E(G(z)) - z|^2 (the encoder-reconstruction terms of VAE-GAN /
        # adversarial autoencoder hybrids), so that G's range covers the data and not only looks like it:
        # what Yeh et al.'s search needs to find a code for a given car (docs/large_holes/README.md, session 29)
        self.recall = check_float("recall", recall, minimum=0.0)
        self.cycle = check_float("cycle", cycle, minimum=0.0)
        self.E = None
        if self.recall and ema is None:
            # G's BatchNorm statistics move with each of its passes, the recall pass (codes of real cars) last;
            # the averaged generator re-estimates them for random codes, so samples and shipped weights use it
            raise InpaintkitError("ema: expected a moving average (e.g. 0.999) with recall > 0, got None: the recall "
                                  "pass moves G's BatchNorm statistics, the averaged generator re-estimates them")
        if self.recall:
            from .dcgan import encoder as make_encoder
            self.E = make_encoder(size, 0.25, G.input_shape[-1]) if encoder is None else encoder
            if tuple(self.E.output_shape[1:]) != (G.input_shape[-1],) or self.E.input_shape[1] != size:
                raise InpaintkitError(f"encoder: expected ({size}, {size}, 3) images -> codes of {G.input_shape[-1]}, "
                                      f"got {self.E.input_shape[1:]} -> {self.E.output_shape[1:]}")
        self.seed, self.directory = int(seed), directory
        self.checkpoint_every = int(checkpoint_every)
        self.sample_every = int(sample_every)
        self.collapse_ratio, self.peak_diversity = collapse_ratio, 0.0
        self.latent_dim = G.input_shape[-1]
        self.fixed_z = latent(n_fixed, self.latent_dim, seed=10_000 + self.seed)
        self.real_diversity = diversity(self.images[np.random.default_rng(self.seed).choice(
            len(self.images), min(len(self.images), 64), replace=False)])
        jit = bool(backend.accelerators()) if jit is None else jit
        # two time-scale update rule (Heusel et al. 2017): D may learn at its own rate d_lr
        # ema: also keep an exponential moving average of G's weights (Yazıcı et al. 2019, "The unusual
        # effectiveness of averaging in GAN training"): a generator that hops between modes step by
        # step averages to one that draws them all; see averaged_generator()
        self.ema = None if ema is None else check_float("ema", ema, minimum=0.0, maximum=0.99999)
        self.g_opt = (keras.optimizers.Adam(lr, beta_1=beta_1) if self.ema is None else
                      keras.optimizers.Adam(lr, beta_1=beta_1, use_ema=True, ema_momentum=self.ema))
        self.d_opt = keras.optimizers.Adam(lr if d_lr is None else check_float("d_lr", d_lr, minimum=0.0),
                                           beta_1=beta_1)
        if isinstance(augment, str):
            augment = tuple(a for a in augment.replace("+", ",").split(",") if a)
        for a in augment:
            if a not in AUGMENT_POLICIES:
                raise InpaintkitError(f"augment: expected a subset of {AUGMENT_POLICIES}, got {a!r}")
        self.augment = tuple(augment)
        self._d_step = backend.train_step(self._d_loss, D.trainable_weights, self.d_opt, jit=jit)
        g_vars = list(G.trainable_weights) + (list(self.E.trainable_weights) if self.E is not None else [])
        self._g_step = backend.train_step(self._g_loss, g_vars, self.g_opt, jit=jit)   # G's weights first (EMA)
        self.grids: list[tuple[int, np.ndarray]] = []   # (step, fixed-noise samples)
        self.warnings: list[str] = []
        self.resume = resume
        self.config = config            # stored with each checkpoint; a resume with other values is refused
        self.step = 0
        self.history: list[dict] = []
        if resume and directory is not None:
            ckpt = self._checkpointer()
            if ckpt.exists():
                self.step, self.history = ckpt.restore()

    def _checkpointer(self):
        models = {"generator": self.G, "discriminator": self.D, **({"encoder": self.E} if self.E is not None else {})}
        return Checkpointer(self.directory, models=models,
                            optimizers={"g_opt": self.g_opt, "d_opt": self.d_opt}, config=self.config)

    def _aug(self, x, params):
        return diff_augment(x, self.augment, params) if self.augment else x

    def _d_loss(self, real, z, *aug):
        k = len(aug) // 2
        fake = self.G(z, training=True)
        real_in = self._aug(real, aug[:k])
        logs = {}
        if self.r1:
            real_logits, grad = backend.input_gradient(lambda x: self.D(x, training=True), real_in)
            penalty = r1_penalty(grad)
            logs["r1"] = penalty
        else:
            real_logits = self.D(real_in, training=True)
        real_logits = ops.cast(real_logits, "float32")                                      # losses in
        fake_logits = ops.cast(self.D(self._aug(fake, aug[k:]), training=True), "float32")   # float32 (bf16 too)
        d, _ = gan_losses(real_logits, fake_logits, self.label_smoothing)
        if self.r1:
            d = d + 0.5 * self.r1 * penalty
        return d, {"d_real": ops.mean(ops.sigmoid(real_logits)), "d_fake": ops.mean(ops.sigmoid(fake_logits)),
                   **logs}

    def _g_loss(self, z, *rest):
        aug = rest[1:] if self.E is not None else rest
        fake = self.G(z, training=True)
        logits = ops.cast(self.D(self._aug(fake, aug), training=True), "float32")
        adv = ops.mean(ops.softplus(-logits))
        if self.E is None:
            return adv, {}
        real = rest[0]
        rec = ops.mean(ops.abs(ops.cast(self.G(self.E(real, training=True), training=True), "float32") - real))
        cyc = ops.mean(ops.square(ops.cast(self.E(fake, training=True), "float32") - z))
        return adv + self.recall * rec + self.cycle * cyc, {"recall": rec, "cycle": cyc}

    def batch(self, step: int):
        """Real images and codes of one step: a pure function of (seed, step), so resuming is exact."""
        rng = np.random.default_rng([self.seed, step])
        real = self.images[rng.integers(0, len(self.images), self.batch_size)]
        z_d = rng.uniform(-1, 1, (self.batch_size, self.latent_dim)).astype(np.float32)
        z_g = rng.uniform(-1, 1, (self.batch_size, self.latent_dim)).astype(np.float32)
        return real, z_d, z_g

    def augmentations(self, step: int):
        """DiffAugment draws of one step (real, fake for D; fake for G): a pure function of (seed, step)."""
        if not self.augment:
            return [], [], []
        rng = np.random.default_rng([self.seed, step, 1])
        size = self.images.shape[1]
        return tuple(augment_params(self.batch_size, size, self.augment, rng) for _ in range(3))

    def one_step(self, step: int) -> dict:
        real, z_d, z_g = self.batch(step)
        a_real, a_fake, a_g = self.augmentations(step)
        d = self._d_step(real, z_d, *a_real, *a_fake)
        if self.E is None:
            g = self._g_step(z_g, *a_g)
        else:                   # real images for the recall term: their own draw, a pure function of (seed, step)
            rng = np.random.default_rng([self.seed, step, 2])
            g = self._g_step(z_g, self.images[rng.integers(0, len(self.images), self.batch_size)], *a_g)
        out = {"d_loss": d["loss"], "g_loss": g["loss"], "d_real": d["d_real"], "d_fake": d["d_fake"]}
        out.update({k: g[k] for k in ("recall", "cycle") if k in g})
        if "r1" in d:
            out["r1"] = d["r1"]
        return out

    def fixed_samples(self) -> np.ndarray:
        return generate(self.G, self.fixed_z)

    def averaged_generator(self, bn_batches: int = 50):
        """A copy of G with the moving average of its weights (needs ``ema``), its BatchNorm statistics
        re-estimated for those weights over ``bn_batches`` batches of random codes (precise BN)."""
        from .training import precise_batchnorm
        if self.ema is None:
            raise InpaintkitError("ema: expected a trainer made with ema=BETA (e.g. 0.999), got None")
        Gs = keras.models.clone_model(self.G)
        Gs.set_weights(self.G.get_weights())
        averages = self.g_opt._model_variables_moving_average
        if not averages or int(backend.to_numpy(self.g_opt.iterations)) == 0:   # nothing averaged yet
            return Gs
        for var, avg in zip(Gs.trainable_weights, averages):
            var.assign(backend.to_numpy(avg))
        precise_batchnorm(Gs, (latent(self.batch_size, self.latent_dim, seed=20_000 + i) for i in range(bn_batches)))
        return Gs

    def _sample(self, step, history, on_sample=None):
        imgs = self.fixed_samples()
        div = diversity(imgs)
        if history:
            history[-1]["diversity"] = div
        if not self.grids or self.grids[-1][0] != step:
            self.grids.append((step, imgs))
        self.peak_diversity = max(self.peak_diversity, div)
        # early samples of an untrained G are all alike: only a *fall* from a real level counts
        if (self.peak_diversity > 0.3 * self.real_diversity
                and div < self.collapse_ratio * self.peak_diversity):
            msg = (f"step {step}: sample diversity fell to {div:.3f} from {self.peak_diversity:.3f} "
                   f"(real images: {self.real_diversity:.3f}); the generator may be collapsing to a "
                   f"few modes: lower the learning rate or restart from an earlier checkpoint")
            self.warnings.append(msg)
            warnings.warn(msg, RuntimeWarning, stacklevel=2)
        if on_sample is not None:
            on_sample(step, imgs, history)

    def train(self, steps: int, *, on_sample=None, log_dir=None, until: int | None = None) -> list[dict]:
        """Train up to ``steps`` in total (resuming from the checkpoint); returns the history."""
        steps = check_int("steps", steps, minimum=0)
        loop = Loop("DCGAN", steps, checkpointer=self._checkpointer() if self.directory else None,
                    checkpoint_every=self.checkpoint_every, log_dir=log_dir, resume=False,
                    callbacks=[(self.sample_every, lambda s, h: self._sample(s, h, on_sample))])
        loop.step, loop.history = self.step, self.history
        if self.step == 0:
            self._sample(0, self.history, on_sample)
        t0 = time.perf_counter()
        self.history = loop.run(self.one_step, until=until)
        self.step = loop.step
        self.seconds = time.perf_counter() - t0
        return self.history


class LiveView:
    """Loss curves and the fixed-noise grid in one figure, redrawn in place (use as ``on_sample``)."""

    def __init__(self, ncols: int = 8, dpi: int | None = None):
        from .plotting import DPI
        self.ncols, self.dpi, self.handle = ncols, dpi or DPI, None

    def figure(self, step, images, history):
        import matplotlib.pyplot as plt
        n = len(images)
        rows = int(np.ceil(n / self.ncols))
        fig = plt.figure(figsize=(10, 2.6), dpi=self.dpi)
        ax = fig.add_axes([0.07, 0.18, 0.31, 0.72])
        steps = [h["step"] for h in history]
        for k in ("d_loss", "g_loss"):
            ax.plot(steps, [h.get(k, np.nan) for h in history], lw=1, label=k)
        ax.set_xlabel("step")
        ax.set_ylabel("loss (BCE)")
        ax.legend(fontsize=9)
        ax.set_title("losses", fontsize=10)
        size = images.shape[1]
        grid = np.ones((rows * (size + 2), self.ncols * (size + 2), 3), np.float32)
        for i, im in enumerate(images):
            r, c = divmod(i, self.ncols)
            grid[r * (size + 2):r * (size + 2) + size, c * (size + 2):c * (size + 2) + size] = im
        ax2 = fig.add_axes([0.42, 0.02, 0.57, 0.9])
        ax2.imshow(np.clip(grid, 0, 1), interpolation="nearest")
        ax2.axis("off")
        ax2.set_title(f"fixed noise, step {step}", fontsize=10)
        return fig

    def __call__(self, step, images, history):
        from .plotting import redraw
        self.handle = redraw(self.handle, self.figure(step, images, history))
