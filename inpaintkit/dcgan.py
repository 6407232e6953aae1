"""DCGAN (Radford, Metz & Chintala 2016): the generative model behind semantic inpainting.

    G = generator(size=64, width=1.0)        # z in [-1, 1]^100  ->  (64, 64, 3) image in [0, 1]
    D = discriminator(size=64, width=1.0)    # (64, 64, 3) image in [0, 1]  ->  one logit
    trainer = DCGANTrainer(G, D, images, directory="runs/dcgan")
    trainer.train(steps=600)                 # resumes from runs/dcgan if a checkpoint is there

Architecture (paper, width 1.0 at 64²): Dense z -> 4x4x512, then stride-2 transposed convolutions
halving the channels (256, 128, 64) up to the output, which has 3 channels and tanh. D mirrors
it with stride-2 convolutions and LeakyReLU(0.2). BatchNorm everywhere except G's output and D's
input; weights drawn from N(0, 0.02). Any output side that is a power of two >= 16 works: the
number of up/down-sampling stages is log2(size / 4).

Kit convention: models speak [0, 1]. G ends with tanh followed by a ``Rescaling`` layer mapping
[-1, 1] -> [0, 1]; D starts with a ``Rescaling`` layer mapping [0, 1] -> [-1, 1]. D returns a
**logit** (no sigmoid): P(real) = sigmoid(D(x)).
"""
from __future__ import annotations

import math
import time
import warnings

import keras
import numpy as np
from keras import layers, ops

from . import backend
from .errors import InpaintkitError, check_float, check_images, check_int
from .training import Checkpointer, Loop

LATENT_DIM = 100
KERNEL = 5  # Yeh et al.'s code (after carpedm20/DCGAN-tensorflow) uses 5x5 kernels, stride 2


def _check_size(size) -> int:
    size = check_int("size", size, minimum=16)
    if size & (size - 1):
        raise InpaintkitError(f"size: expected a power of two >= 16, got {size}")
    return size


def _base(width) -> int:
    width = check_float("width", width, minimum=1e-3)
    return max(1, int(round(64 * width)))


def _init():
    return keras.initializers.RandomNormal(0.0, 0.02)


def _bn():
    # momentum 0.9 as in the reference code: moving averages settle within a short class run
    return layers.BatchNormalization(momentum=0.9, epsilon=1e-5,
                                     gamma_initializer=keras.initializers.RandomNormal(1.0, 0.02))


def generator(size: int = 64, width: float = 1.0, latent_dim: int = LATENT_DIM) -> keras.Model:
    """z (B, latent_dim) in [-1, 1] -> images (B, size, size, 3) in [0, 1]."""
    size, base = _check_size(size), _base(width)
    latent_dim = check_int("latent_dim", latent_dim, minimum=1)
    stages = int(math.log2(size // 4))
    z = keras.Input((latent_dim,), name="z")
    ch = base * 2 ** (stages - 1)                           # 8w at 64² (4 stages)
    x = layers.Dense(4 * 4 * ch, use_bias=False, kernel_initializer=_init(), name="project")(z)
    x = layers.Reshape((4, 4, ch))(x)
    x = layers.ReLU()(_bn()(x))
    for i in range(1, stages):
        ch //= 2
        x = layers.Conv2DTranspose(ch, KERNEL, strides=2, padding="same", use_bias=False,
                                   kernel_initializer=_init(), name=f"deconv{i}")(x)
        x = layers.ReLU()(_bn()(x))
    x = layers.Conv2DTranspose(3, KERNEL, strides=2, padding="same", kernel_initializer=_init(),
                               name=f"deconv{stages}")(x)
    x = layers.Activation("tanh")(x)
    out = layers.Rescaling(0.5, offset=0.5, name="to_unit_range")(x)   # [-1, 1] -> [0, 1]
    return keras.Model(z, out, name="dcgan_generator")


def discriminator(size: int = 64, width: float = 1.0) -> keras.Model:
    """images (B, size, size, 3) in [0, 1] -> logits (B, 1); P(real) = sigmoid(logit)."""
    size, base = _check_size(size), _base(width)
    stages = int(math.log2(size // 4))
    inp = keras.Input((size, size, 3), name="image")
    x = layers.Rescaling(2.0, offset=-1.0, name="to_tanh_range")(inp)  # [0, 1] -> [-1, 1]
    ch = base
    for i in range(stages):
        x = layers.Conv2D(ch, KERNEL, strides=2, padding="same", use_bias=i == 0,
                          kernel_initializer=_init(), name=f"conv{i + 1}")(x)
        if i > 0:                                            # no BatchNorm on D's input layer
            x = _bn()(x)
        x = layers.LeakyReLU(0.2)(x)
        ch *= 2
    x = layers.Flatten()(x)
    out = layers.Dense(1, kernel_initializer=_init(), name="logit")(x)
    return keras.Model(inp, out, name="dcgan_discriminator")


def latent(n: int, latent_dim: int = LATENT_DIM, seed: int = 0) -> np.ndarray:
    """n codes z ~ U[-1, 1]^latent_dim, float32 (same seed -> same codes)."""
    n = check_int("n", n, minimum=1)
    return np.random.default_rng(seed).uniform(-1, 1, (n, latent_dim)).astype(np.float32)


def generate(G, z, batch_size: int = 256) -> np.ndarray:
    """G(z) in inference mode as a numpy array in [0, 1]."""
    z = np.asarray(z, np.float32)
    if z.ndim != 2 or z.shape[1] != G.input_shape[-1]:
        raise InpaintkitError(f"z: expected shape (n, {G.input_shape[-1]}), got {z.shape}")
    return np.concatenate([backend.to_numpy(G(z[i:i + batch_size], training=False))
                           for i in range(0, len(z), batch_size)])


def sample(G, n: int, seed: int = 0) -> np.ndarray:
    """n images from random codes: (n, size, size, 3) in [0, 1]."""
    return generate(G, latent(n, G.input_shape[-1], seed))


def interpolate(G, z0, z1, steps: int = 8) -> np.ndarray:
    """Images along the straight line from z0 to z1 (both (latent_dim,)): (steps, H, W, 3)."""
    steps = check_int("steps", steps, minimum=2)
    z0, z1 = np.asarray(z0, np.float32).ravel(), np.asarray(z1, np.float32).ravel()
    t = np.linspace(0, 1, steps, dtype=np.float32)[:, None]
    return generate(G, (1 - t) * z0 + t * z1)


def diversity(images) -> float:
    """Mean pairwise RMS distance between images: ~0 when a GAN's samples have collapsed."""
    x = np.asarray(images, np.float64).reshape(len(images), -1)
    if len(x) < 2:
        return 0.0
    sq = (x ** 2).sum(1)
    d2 = np.maximum(sq[:, None] + sq[None, :] - 2 * x @ x.T, 0) / x.shape[1]
    iu = np.triu_indices(len(x), 1)
    return float(np.sqrt(d2[iu]).mean())


def gan_losses(real_logits, fake_logits, label_smoothing: float = 0.0):
    """Discriminator and (non-saturating) generator losses from logits.

    L_D = -[ (1-s) log sigmoid(D(x)) + s log(1 - sigmoid(D(x))) ] - log(1 - sigmoid(D(G(z))))
    L_G = -log sigmoid(D(G(z)))        (s = one-sided label smoothing, 0 in the paper)
    """
    s = label_smoothing
    d_real = ops.mean((1 - s) * ops.softplus(-real_logits) + s * ops.softplus(real_logits))
    d_fake = ops.mean(ops.softplus(fake_logits))
    g = ops.mean(ops.softplus(-fake_logits))
    return d_real + d_fake, g


class DCGANTrainer:
    """Alternating D and G Adam steps (lr 2e-4, beta_1 0.5) through the kit's training loop.

    Every ``sample_every`` steps the fixed-noise samples (the same z each time) are drawn, their
    diversity measured (a fall below ``collapse_ratio`` of its best value so far warns),
    and ``on_sample(step, images, history)`` is called (the notebook's live view).
    ``jit=None`` compiles with XLA only when a GPU is present: on this 2-core CPU XLA ran the 5x5
    transposed convolutions 4-6x slower than TensorFlow's own kernels (benchmarks/bench_dcgan.py).
    """

    def __init__(self, G, D, images, *, batch_size: int = 64, lr: float = 2e-4, beta_1: float = 0.5,
                 label_smoothing: float = 0.0, seed: int = 0, directory=None, checkpoint_every: int = 0,
                 sample_every: int = 50, n_fixed: int = 16, collapse_ratio: float = 0.4,
                 jit: bool | None = None, resume: bool = True):
        self.images = check_images("images", images, batched=True)
        size = G.output_shape[1]
        if self.images.shape[1:3] != (size, size) or D.input_shape[1] != size:
            raise InpaintkitError(f"images: expected ({size}, {size}) images like the generator's output "
                                  f"and the discriminator's input, got {self.images.shape[1:3]}")
        self.G, self.D = G, D
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.label_smoothing = check_float("label_smoothing", label_smoothing, 0.0, 0.5)
        self.seed, self.directory = int(seed), directory
        self.checkpoint_every = int(checkpoint_every)
        self.sample_every = int(sample_every)
        self.collapse_ratio, self.peak_diversity = collapse_ratio, 0.0
        self.latent_dim = G.input_shape[-1]
        self.fixed_z = latent(n_fixed, self.latent_dim, seed=10_000 + self.seed)
        self.real_diversity = diversity(self.images[np.random.default_rng(self.seed).choice(
            len(self.images), min(len(self.images), 64), replace=False)])
        jit = bool(backend.accelerators()) if jit is None else jit
        self.g_opt = keras.optimizers.Adam(lr, beta_1=beta_1)
        self.d_opt = keras.optimizers.Adam(lr, beta_1=beta_1)
        self._d_step = backend.train_step(self._d_loss, D.trainable_weights, self.d_opt, jit=jit)
        self._g_step = backend.train_step(self._g_loss, G.trainable_weights, self.g_opt, jit=jit)
        self.grids: list[tuple[int, np.ndarray]] = []   # (step, fixed-noise samples)
        self.warnings: list[str] = []
        self.resume = resume
        self.step = 0
        self.history: list[dict] = []
        if resume and directory is not None:
            ckpt = self._checkpointer()
            if ckpt.exists():
                self.step, self.history = ckpt.restore()

    def _checkpointer(self):
        return Checkpointer(self.directory, models={"generator": self.G, "discriminator": self.D},
                            optimizers={"g_opt": self.g_opt, "d_opt": self.d_opt})

    def _d_loss(self, real, z):
        fake = self.G(z, training=True)
        real_logits = self.D(real, training=True)
        fake_logits = self.D(fake, training=True)
        d, _ = gan_losses(real_logits, fake_logits, self.label_smoothing)
        return d, {"d_real": ops.mean(ops.sigmoid(real_logits)), "d_fake": ops.mean(ops.sigmoid(fake_logits))}

    def _g_loss(self, z):
        return ops.mean(ops.softplus(-self.D(self.G(z, training=True), training=True))), {}

    def batch(self, step: int):
        """Real images and codes of one step: a pure function of (seed, step), so resuming is exact."""
        rng = np.random.default_rng([self.seed, step])
        real = self.images[rng.integers(0, len(self.images), self.batch_size)]
        z_d = rng.uniform(-1, 1, (self.batch_size, self.latent_dim)).astype(np.float32)
        z_g = rng.uniform(-1, 1, (self.batch_size, self.latent_dim)).astype(np.float32)
        return real, z_d, z_g

    def one_step(self, step: int) -> dict:
        real, z_d, z_g = self.batch(step)
        d = self._d_step(real, z_d)
        g = self._g_step(z_g)
        return {"d_loss": d["loss"], "g_loss": g["loss"], "d_real": d["d_real"], "d_fake": d["d_fake"]}

    def fixed_samples(self) -> np.ndarray:
        return generate(self.G, self.fixed_z)

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

    def __init__(self, ncols: int = 8, dpi: int = 72):
        self.ncols, self.dpi, self.handle = ncols, dpi, None

    def figure(self, step, images, history):
        import matplotlib.pyplot as plt
        n = len(images)
        rows = int(np.ceil(n / self.ncols))
        fig = plt.figure(figsize=(10, 2.6), dpi=self.dpi)
        ax = fig.add_axes([0.05, 0.18, 0.33, 0.72])
        steps = [h["step"] for h in history]
        for k in ("d_loss", "g_loss"):
            ax.plot(steps, [h.get(k, np.nan) for h in history], lw=1, label=k)
        ax.set_xlabel("step")
        ax.legend(fontsize=8)
        ax.set_title("losses", fontsize=9)
        size = images.shape[1]
        grid = np.ones((rows * (size + 2), self.ncols * (size + 2), 3), np.float32)
        for i, im in enumerate(images):
            r, c = divmod(i, self.ncols)
            grid[r * (size + 2):r * (size + 2) + size, c * (size + 2):c * (size + 2) + size] = im
        ax2 = fig.add_axes([0.42, 0.02, 0.57, 0.9])
        ax2.imshow(np.clip(grid, 0, 1), interpolation="nearest")
        ax2.axis("off")
        ax2.set_title(f"fixed noise, step {step}", fontsize=9)
        return fig

    def __call__(self, step, images, history):
        from .plotting import redraw
        self.handle = redraw(self.handle, self.figure(step, images, history))
