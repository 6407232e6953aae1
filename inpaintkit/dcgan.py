"""DCGAN (Radford, Metz & Chintala 2016): the generative model behind semantic inpainting.

    G = generator(size=64, width=1.0)        # z in [-1, 1]^100  ->  (64, 64, 3) image in [0, 1]
    D = discriminator(size=64, width=1.0)    # (64, 64, 3) image in [0, 1]  ->  one logit
    # training: inpaintkit.dcgan_training.DCGANTrainer (and LiveView, the notebook's live view)

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

import keras
import numpy as np
from keras import layers, ops
from .backend import BatchNormalization

from . import backend
from .errors import InpaintkitError, check_float, check_int
from .coverage import (COVERS_ENTROPY, COVERS_MIN_SHARE, agreement, class_shares,  # noqa: F401 - dcgan.coverage & co.
                       coverage, coverage_stats, meets_bar, plot_coverage)

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
    return BatchNormalization(momentum=0.9, epsilon=1e-5,
                                     gamma_initializer=keras.initializers.RandomNormal(1.0, 0.02))


UPSAMPLING = ("transposed", "resize")


def _upsample(x, ch, name, upsample, use_bias):
    if upsample == "transposed":      # the paper's fractionally-strided 5x5 convolution
        return layers.Conv2DTranspose(ch, KERNEL, strides=2, padding="same", use_bias=use_bias,
                                      kernel_initializer=_init(), name=name)(x)
    # resize-convolution (Odena et al. 2016, "Deconvolution and checkerboard artifacts"): nearest-
    # neighbour upsampling, then a 3x3 convolution; no checkerboard, about 1.4x the transposed FLOPs
    x = layers.UpSampling2D(2, interpolation="nearest", name=f"{name}_up")(x)
    return layers.Conv2D(ch, 3, padding="same", use_bias=use_bias, kernel_initializer=_init(), name=name)(x)


def generator(size: int = 64, width: float = 1.0, latent_dim: int = LATENT_DIM,
              upsample: str = "transposed") -> keras.Model:
    """z (B, latent_dim) in [-1, 1] -> images (B, size, size, 3) in [0, 1].

    ``upsample``: ``"transposed"`` (the paper's 5x5 stride-2 transposed convolutions) or ``"resize"``
    (nearest-neighbour upsampling + 3x3 convolution, which has no checkerboard artifacts).
    """
    size, base = _check_size(size), _base(width)
    latent_dim = check_int("latent_dim", latent_dim, minimum=1)
    if upsample not in UPSAMPLING:
        raise InpaintkitError(f"upsample: expected one of {UPSAMPLING}, got {upsample!r}")
    stages = int(math.log2(size // 4))
    z = keras.Input((latent_dim,), name="z")
    ch = base * 2 ** (stages - 1)                           # 8w at 64² (4 stages)
    x = layers.Dense(4 * 4 * ch, use_bias=False, kernel_initializer=_init(), name="project")(z)
    x = layers.Reshape((4, 4, ch))(x)
    x = layers.ReLU()(_bn()(x))
    for i in range(1, stages):
        ch //= 2
        x = _upsample(x, ch, f"deconv{i}", upsample, use_bias=False)
        x = layers.ReLU()(_bn()(x))
    x = _upsample(x, 3, f"deconv{stages}", upsample, use_bias=True)
    x = layers.Activation("tanh")(x)
    out = layers.Rescaling(0.5, offset=0.5, name="to_unit_range")(x)   # [-1, 1] -> [0, 1]
    return keras.Model(z, out, name="dcgan_generator")


class MinibatchStd(layers.Layer):
    """Minibatch standard deviation (Karras et al. 2018, progressive GANs): one extra feature map
    holding the mean over features of the per-feature standard deviation across the batch.

    A collapsed generator's batch has a small spread; real batches do not. With this feature the
    discriminator can see it, so the generator is pushed to vary its samples.
    """

    def call(self, x):
        std = ops.sqrt(ops.var(x, axis=0) + 1e-8)               # (H, W, C) spread over the batch
        s = ops.mean(std)
        shape = ops.shape(x)
        return ops.concatenate([x, ops.ones((shape[0], shape[1], shape[2], 1), x.dtype) * s], axis=-1)

    def compute_output_shape(self, input_shape):
        return (*input_shape[:-1], input_shape[-1] + 1)


class Pack(layers.Layer):
    """PacGAN packing (Lin et al. 2018): ``m`` consecutive images of the batch become one input with
    ``3 m`` channels, so D judges ``m`` samples at once, (B, H, W, C) -> (B / m, H, W, m C).

    A generator that draws one kind of car too often gives packs that repeat it more often than real
    packs do; D sees that, where one image at a time it cannot ("packing penalises mode collapse").
    The batch must be a multiple of ``m``.
    """

    def __init__(self, m: int, **kwargs):
        super().__init__(**kwargs)
        self.m = int(m)

    def call(self, x):
        shape = ops.shape(x)
        x = ops.reshape(x, (-1, self.m, shape[1], shape[2], shape[3]))
        x = ops.transpose(x, (0, 2, 3, 1, 4))
        return ops.reshape(x, (-1, shape[1], shape[2], self.m * shape[3]))

    def compute_output_shape(self, input_shape):
        b = None if input_shape[0] is None else input_shape[0] // self.m
        return (b, input_shape[1], input_shape[2], self.m * input_shape[3])

    def get_config(self):
        return {**super().get_config(), "m": self.m}


def discriminator(size: int = 64, width: float = 1.0, *, minibatch_std: bool = False,
                  spectral_norm: bool = False, pack: int = 1) -> keras.Model:
    """images (B, size, size, 3) in [0, 1] -> logits (B, 1); P(real) = sigmoid(logit).

    ``minibatch_std`` appends :class:`MinibatchStd` before the last convolution;
    ``spectral_norm`` wraps every convolution and the logit in spectral normalisation
    (Miyato et al. 2018) and drops D's BatchNorm, as that paper does; ``pack`` > 1 judges packs of
    that many images (:class:`Pack`; B must be a multiple of it) and gives one logit per pack, (B / pack, 1).
    """
    size, base = _check_size(size), _base(width)
    pack = check_int("pack", pack, minimum=1)
    stages = int(math.log2(size // 4))
    inp = keras.Input((size, size, 3), name="image")
    x = layers.Rescaling(2.0, offset=-1.0, name="to_tanh_range")(inp)  # [0, 1] -> [-1, 1]
    if pack > 1:
        x = Pack(pack, name="pack")(x)
    ch = base

    def sn(layer):
        return layers.SpectralNormalization(layer, name=f"sn_{layer.name}") if spectral_norm else layer

    for i in range(stages):
        if minibatch_std and i == stages - 1:
            x = MinibatchStd(name="minibatch_std")(x)
        x = sn(layers.Conv2D(ch, KERNEL, strides=2, padding="same", use_bias=i == 0 or spectral_norm,
                             kernel_initializer=_init(), name=f"conv{i + 1}"))(x)
        if i > 0 and not spectral_norm:                      # no BatchNorm on D's input layer
            x = _bn()(x)
        x = layers.LeakyReLU(0.2)(x)
        ch *= 2
    x = layers.Flatten()(x)
    out = sn(layers.Dense(1, kernel_initializer=_init(), name="logit"))(x)
    return keras.Model(inp, out, name="dcgan_discriminator")


def encoder(size: int = 64, width: float = 1.0, latent_dim: int = LATENT_DIM) -> keras.Model:
    """images (B, size, size, 3) in [0, 1] -> codes (B, latent_dim) in (-1, 1), the range of the codes G
    is trained on: the discriminator's stack of strided convolutions with a tanh code head. Used by
    :class:`~inpaintkit.dcgan_training.DCGANTrainer` with ``recall`` (G must redraw the real images the
    encoder codes, so its range covers the data)."""
    size, base = _check_size(size), _base(width)
    latent_dim = check_int("latent_dim", latent_dim, minimum=1)
    inp = keras.Input((size, size, 3), name="image")
    x = layers.Rescaling(2.0, offset=-1.0, name="to_tanh_range")(inp)
    ch = base
    for i in range(int(math.log2(size // 4))):
        x = layers.Conv2D(ch, KERNEL, strides=2, padding="same", use_bias=i == 0, kernel_initializer=_init(),
                          name=f"conv{i + 1}")(x)
        if i > 0:
            x = _bn()(x)
        x = layers.LeakyReLU(0.2)(x)
        ch *= 2
    x = layers.Flatten()(x)
    out = layers.Dense(latent_dim, activation="tanh", kernel_initializer=_init(), name="code")(x)
    return keras.Model(inp, out, name="dcgan_encoder")


def packing(D) -> int:
    """How many images ``D`` judges at once (its :class:`Pack`), 1 for a plain discriminator."""
    return next((layer.m for layer in getattr(D, "layers", ()) if isinstance(layer, Pack)), 1)


AUGMENT_POLICIES = ("color", "translation", "cutout")


def augment_params(n: int, size: int, policy, rng: np.random.Generator) -> list[np.ndarray]:
    """Random parameters of one DiffAugment draw (Zhao et al. 2020) for ``n`` images, as numpy
    arrays, so that the augmentation inside the compiled step is a pure function of its inputs
    (and a resumed run is exact): colour ``(n, 3)`` = brightness, saturation, contrast;
    translation = two ``(n, size, size)`` shift matrices (up to 1/8 of the side, zeros shifted in);
    cutout = a ``(n, size, size, 1)`` mask with a square of half the side set to 0.
    """
    out = []
    if "color" in policy:
        out.append(np.stack([rng.uniform(-0.25, 0.25, n), rng.uniform(0, 2, n), rng.uniform(0.5, 1.5, n)],
                            1).astype(np.float32))
    if "translation" in policy:
        shift = max(1, size // 8)
        for _ in range(2):
            d = rng.integers(-shift, shift + 1, n)
            out.append(np.stack([np.eye(size, k=-int(k), dtype=np.float32) for k in d]))
    if "cutout" in policy:
        c = size // 2
        cy, cx = rng.integers(0, size + (1 - c % 2), (2, n))
        yy, xx = np.arange(size)[None, :, None], np.arange(size)[None, None, :]
        hole = ((np.abs(yy - cy[:, None, None]) < c // 2 + 0.5) & (np.abs(xx - cx[:, None, None]) < c // 2 + 0.5))
        out.append((~hole).astype(np.float32)[..., None])
    return out


def diff_augment(x, policy, params):
    """Apply :func:`augment_params`'s draw to a batch in [0, 1] with differentiable ops (both real and
    generated images go through the same kind of augmentation, so D cannot memorise the data)."""
    params = list(params)
    if "color" in policy:
        p = params.pop(0)
        b, sat, con = (ops.reshape(p[:, i], (-1, 1, 1, 1)) for i in range(3))
        x = x + b
        m = ops.mean(x, axis=-1, keepdims=True)
        x = (x - m) * sat + m
        m = ops.mean(x, axis=(1, 2, 3), keepdims=True)
        x = (x - m) * con + m
    if "translation" in policy:
        sy, sx = params.pop(0), params.pop(0)
        x = ops.einsum("bij,bjwc->biwc", sy, x)
        x = ops.einsum("bvw,bhwc->bhvc", sx, x)
    if "cutout" in policy:
        x = x * params.pop(0)
    return x


def run_flags(file) -> dict:
    """The options of the ``scripts/train_dcgan.py`` run that wrote a weights ``file`` (in RUN_DIR or
    RUN_DIR/kept), e.g. ``{"--width": 0.25, "--upsample": "resize", ...}``, from the record its
    checkpoint keeps (RUN_DIR/ckpt/state.json); ``{}`` for a file outside a run."""
    import json
    from pathlib import Path
    file = Path(file)
    for run_dir in (file.parent, file.parent.parent):
        state = run_dir / "ckpt" / "state.json"
        if state.exists():
            return json.loads(state.read_text()).get("config") or {}
    return {}


def run_generator(file, size: int = 64, width: float | None = None) -> keras.Model:
    """An untrained generator shaped like the one the run that wrote ``file`` trained (its ``--size``,
    ``--width`` and ``--upsample``, :func:`run_flags`); outside a run, ``size`` and ``width``."""
    run = run_flags(file)
    return generator(run.get("--size") or size, run.get("--width", width),
                     upsample=run.get("--upsample", "transposed"))


def latent(n: int, latent_dim: int = LATENT_DIM, seed: int = 0) -> np.ndarray:
    """n codes z ~ U[-1, 1]^latent_dim, float32 (same seed -> same codes)."""
    n = check_int("n", n, minimum=1)
    seed = check_int("seed", seed, 0)
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


def r1_penalty(grad):
    """E ||grad||^2 over the batch: the squared norm of D's input gradient per image, averaged."""
    g = ops.cast(grad, "float32")
    return ops.mean(ops.sum(ops.square(g), axis=tuple(range(1, len(g.shape)))))
