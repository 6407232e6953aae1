r"""The three training phases of Iizuka et al. (2017), each its own trainer.

1. :class:`Phase1` — the completion network C alone on the masked MSE (T_C iterations):
   :math:`L(x, M) = \lVert M \odot (C(x, M) - x) \rVert^2`.
2. :class:`Phase2` — the context discriminators D alone (T_D iterations), C frozen, binary
   cross-entropy on real images vs completed ones.
3. :class:`Phase3` — both: C on :math:`L + \alpha\,\mathrm{GAN}` (α = 0.0004), D as in phase 2:
   :math:`\min_C \max_D \mathbb{E}[L(x, M_c) + \alpha \log D(x, M_d) + \alpha \log(1 - D(C(x, M_c), M_c))]`.

D always sees the **composite** (generated pixels in the hole, real ones elsewhere) and a local
patch (half the image side) centred on the hole; for a real image, on its own random hole M_d.
Holes and patch corners are drawn in NumPy per batch (seeded by the step, so a resumed run
draws the same batches); the compiled step receives them as tensors and crops with a
static-size gather. Every trainer runs through :class:`inpaintkit.training.Loop`: progress bar,
live loss plot, samples on fixed validation images, checkpoints, resume, logs, NaN detection::

    t = Phase1(net, train_images, val_images, batch_size=16, run_dir="runs/phase1")
    history = t.run(400, checkpoint_every=100, sample_every=50)

``context_pad=PX`` (not in the paper, default 0) trains C on images and holes mirrored by PX
pixels on every side and crops its output back before the loss and the discriminators: a hole
at the border then has context on both sides, as inference gives it (``net.context_pad``).
"""
from __future__ import annotations

from pathlib import Path

import keras
import numpy as np
from keras import ops

from .. import backend
from ..errors import check_choice, check_float, check_images, check_int
from ..checkpoints import Checkpointer
from ..training import Loop
from .completion import check_context_pad, composite, crop_center, mean_pixel_of, mirror_pad, prepare_input
from .discriminators import crop, discriminator

ALPHA = 0.0004
HOLE = (3 / 8, 1 / 2)   # hole sides as fractions of the image side (paper: 96-128 px of 256)
HOLE_KINDS = ("box", "mixed")   # the paper's one box per image; or half boxes, half free-form strokes


def sample_holes(n: int, size: int, rng, hole=HOLE, patch: int | None = None, kind: str = "box"):
    """``n`` holes ``(n, size, size, 1)`` and the top-left corners ``(n, 2)`` of the ``patch``²
    local windows centred on them (clipped to the image). Patch default: size // 2.

    ``kind="box"``: the paper's one rectangle per image, sides in ``hole`` x size.
    ``kind="mixed"``: each image gets, with probability 1/2, that rectangle or free-form brush
    strokes (:func:`inpaintkit.masks.strokes`, the DeepFill v2 / LaMa masks the paper predates);
    the local window is then centred on the strokes' bounding box."""
    check_choice("kind", kind, HOLE_KINDS)
    rng = rng if isinstance(rng, np.random.Generator) else np.random.default_rng(rng)
    patch = size // 2 if patch is None else patch
    if kind == "mixed":
        from .. import masks as masklib
        out = np.zeros((n, size, size, 1), np.float32)
        for i in range(n):
            if rng.random() < 0.5:
                out[i] = sample_holes(1, size, rng, hole, patch)[0][0]
            else:
                out[i] = masklib.strokes(size, rng)
        return out, masklib.local_box(out, patch)
    lo, hi = max(1, int(round(hole[0] * size))), max(1, int(round(hole[1] * size)))
    hh = rng.integers(lo, hi + 1, n)
    ww = rng.integers(lo, hi + 1, n)
    top = rng.integers(0, size - hh + 1)
    left = rng.integers(0, size - ww + 1)
    masks = np.zeros((n, size, size, 1), np.float32)
    for i in range(n):
        masks[i, top[i]:top[i] + hh[i], left[i]:left[i] + ww[i]] = 1.0
    cy = np.clip(top + hh // 2 - patch // 2, 0, size - patch)
    cx = np.clip(left + ww // 2 - patch // 2, 0, size - patch)
    return masks, np.stack([cy, cx], 1).astype(np.int32)


def auto_jit() -> bool:
    """XLA on a GPU; on a CPU TensorFlow's graph mode (oneDNN convolutions) is 2-4x faster than XLA
    for this network (benchmarks/bench_glcic.py), so the step is compiled without it there."""
    return bool(backend.accelerators())


def bce(logits, target: float):
    """Mean binary cross-entropy of ``sigmoid(logits)`` against a constant label (stable form)."""
    return ops.mean(ops.relu(logits) - logits * target + ops.log1p(ops.exp(-ops.abs(logits))))


_bce = bce


class _Trainer:
    """What the three phases share: data, fixed validation samples, the Loop."""

    name = "GLCIC"
    keys = ("loss",)
    plot_right: tuple = ()           # history keys drawn against a second y axis (other magnitudes)
    plot_labels: dict = {"ylabel": "masked MSE"}

    def __init__(self, completion, images, val_images=None, *, batch_size: int = 16, lr: float = 1e-3,
                 mean_pixel=None, seed: int = 0, run_dir=None, jit: bool | None = None, hole=HOLE,
                 masks: str = "box", lr_decay_steps: int | None = None, context_pad: int = 0,
                 ema: float | None = None, show: bool = True, config: dict | None = None):
        self.images = check_images("images", images, batched=True)
        self.size = self.images.shape[1]
        if self.images.shape[2] != self.size or self.size % 4:
            raise_shape(self.images.shape)
        self.batch_size = check_int("batch_size", batch_size, minimum=1)
        self.lr = check_float("lr", lr, minimum=0.0)
        self.lr_decay_steps = None if lr_decay_steps is None else check_int("lr_decay_steps", lr_decay_steps, 1)
        self.ema = None if ema is None else check_float("ema", ema, minimum=0.0, maximum=0.9999)
        self._averaging = None          # C's optimiser when it keeps the moving average
        self.seed, self.hole, self.show = int(seed), hole, show
        self.config = config        # stored with each checkpoint; a resume with other values is refused
        check_choice("masks", masks, HOLE_KINDS)
        self.hole_kind = masks
        self.jit = auto_jit() if jit is None else bool(jit)
        self.patch = self.size // 2
        self.C = completion
        self.mean_pixel = tuple(mean_pixel) if mean_pixel is not None else mean_pixel_of(self.images[:2000])
        completion.mean_pixel = self.mean_pixel
        self.context_pad = check_context_pad(context_pad, self.size)
        side, need = completion.input_shape[1], self.size + 2 * self.context_pad
        if side not in (None, need):
            from ..errors import fail
            fail("completion", f"a network for {need}² inputs (images {self.size}² mirror-padded by "
                               f"{self.context_pad}) or size=None", f"one built for {side}²")
        completion.context_pad = self.context_pad     # inference mirrors the same way by default
        self.run_dir = Path(run_dir) if run_dir is not None else None
        if val_images is None:
            val_images = self.images[:8]
        self.val_images = check_images("val_images", val_images, batched=True)
        self.val_masks, self.val_corners = self.holes(len(self.val_images), 10_000 + self.seed)
        self.samples: list[tuple[int, np.ndarray]] = []
        self._forward = backend.function(lambda x: self.C(x, training=False), jit=jit)
        backend.seed(seed)

    def optimizer(self, average: bool = False):
        """Adam at ``lr``; with ``lr_decay_steps``, cosine-annealed to 0 over that many steps (the
        step count is the optimiser's own, so it resumes with a checkpoint). ``average=True`` (C's
        optimiser) with ``ema`` set also keeps an exponential moving average of the weights."""
        lr = self.lr if self.lr_decay_steps is None else \
            keras.optimizers.schedules.CosineDecay(self.lr, self.lr_decay_steps, alpha=0.0)
        if average and self.ema is not None:
            self._averaging = keras.optimizers.Adam(lr, use_ema=True, ema_momentum=self.ema)
            return self._averaging
        return keras.optimizers.Adam(lr)

    def use_average(self) -> bool:
        r"""Put C's exponential moving average :math:`\bar\theta \leftarrow \beta\bar\theta + (1-\beta)\theta`
        (``ema`` = β, updated after every step; not in the GLCIC paper: Yazıcı et al. 2019 average
        the generator's iterates) into C in place of its last iterate. Call it once, when training
        is over; with a ``run_dir`` the live weights stay in the checkpoint, so a resumed run goes on
        from them (without one, further steps start from the average).
        Returns False (and changes nothing) without ``ema``."""
        if self._averaging is None:
            return False
        self._averaging.finalize_variable_values(self.C.trainable_weights)
        return True

    # ----- data ---------------------------------------------------------------------------
    def holes(self, n: int, rng):
        """``n`` training holes of this trainer's kind and their local-window corners."""
        return sample_holes(n, self.size, rng, self.hole, self.patch, self.hole_kind)

    def batch(self, step: int):
        """The batch of step ``step``: images, holes M_c and their patch corners, and real holes
        M_d (+ corners) for the discriminator's real examples. Same step -> same batch.
        With ``context_pad`` the images and holes come mirror-padded (:meth:`fill` crops back)."""
        rng = np.random.default_rng((self.seed, step))
        x = self.images[rng.integers(0, len(self.images), self.batch_size)]
        m, corners = self.holes(self.batch_size, rng)
        _, corners_real = self.holes(self.batch_size, rng)
        x, m = mirror_pad(x, m, self.context_pad)
        return x, m, corners, corners_real

    def fill(self, x, m, training: bool):
        """C on a (mirror-padded) batch, cropped back: ``(C's output, x, M)`` at the image size."""
        out = ops.cast(self.C(prepare_input(x, m, self.mean_pixel), training=training), "float32")  # losses in float32
        p = self.context_pad
        return crop_center(out, p), crop_center(x, p), crop_center(m, p)

    def complete(self, images, masks, composite_only: bool = True) -> np.ndarray:
        """C's completions (composited into the known pixels) in inference mode, as NumPy."""
        x, m = mirror_pad(images, masks, self.context_pad)
        out = crop_center(backend.to_numpy(self._forward(prepare_input(x, m, self.mean_pixel))), self.context_pad)
        return out * masks + images * (1 - masks) if composite_only else out

    # ----- the loop -----------------------------------------------------------------------
    def models(self) -> dict:
        raise NotImplementedError

    def optimizers(self) -> dict:
        raise NotImplementedError

    def one_step(self, step: int) -> dict:
        raise NotImplementedError

    def _sample(self, step, history):
        out = self.complete(self.val_images, self.val_masks)
        self.samples.append((step, out))
        if self.show:
            from ..plotting import show_images
            k = min(8, len(out))
            show_images(out[:k], size=1.1, suptitle=f"{self.name}: validation completions at step {step}")

    def loop(self, steps: int, checkpoint_every: int = 0, sample_every: int = 0, plot_every: int = 0,
             resume: bool = True) -> Loop:
        ckpt = None
        if self.run_dir is not None:
            ckpt = Checkpointer(self.run_dir / "checkpoint", self.models(), self.optimizers(), config=self.config)
        callbacks = []
        if self.show and plot_every:
            from ..plotting import LossPlot
            left = [k for k in self.keys if k not in self.plot_right]
            callbacks.append((plot_every, LossPlot(left, title=self.name, right=self.plot_right,
                                                   **self.plot_labels).update))
        if sample_every:
            callbacks.append((sample_every, self._sample))
        return Loop(self.name, steps, checkpointer=ckpt, checkpoint_every=checkpoint_every,
                    log_dir=None if self.run_dir is None else self.run_dir / "logs",
                    callbacks=callbacks, resume=resume, models=self.models())

    def run(self, steps: int, *, checkpoint_every: int = 0, sample_every: int = 0, plot_every: int | None = None,
            until: int | None = None, resume: bool = True) -> list[dict]:
        """Train up to ``steps`` in total (resuming from ``run_dir`` if it holds a checkpoint).
        ``until`` stops early (an 'interrupt' you can resume). Returns the loss history."""
        steps = check_int("steps", steps, minimum=0)
        plot_every = max(1, steps // 20) if plot_every is None else plot_every
        self.last_loop = self.loop(steps, checkpoint_every, sample_every, plot_every, resume)
        return self.last_loop.run(self.one_step, until=until)


def raise_shape(shape):
    from ..errors import fail
    fail("images", "square images (N, S, S, 3) with S a multiple of 4", shape)


class Phase1(_Trainer):
    r"""C alone on the masked MSE :math:`\lVert M \odot (C(x, M) - x)\rVert^2` (mean over pixels)."""

    name = "phase 1 (completion, MSE)"
    keys = ("loss",)

    def __init__(self, completion, images, val_images=None, **kw):
        super().__init__(completion, images, val_images, **kw)
        self.opt = self.optimizer(average=True)
        self.step_fn = backend.train_step(self.loss, self.C.trainable_weights, self.opt, jit=self.jit)

    def loss(self, x, m):
        out, x, m = self.fill(x, m, training=True)
        mse = ops.mean(ops.square(m * (out - x)))
        return mse, {"hole_mse": ops.sum(ops.square(m * (out - x))) / (3.0 * ops.sum(m) + 1e-6)}

    def models(self):
        return {"completion": self.C}

    def optimizers(self):
        return {"opt_c": self.opt}

    def one_step(self, step):
        x, m, _, _ = self.batch(step)
        return self.step_fn(x, m)


class _Adversarial(_Trainer):
    """The discriminator's loss shared by phases 2 and 3."""

    def __init__(self, completion, disc, images, val_images=None, **kw):
        super().__init__(completion, images, val_images, **kw)
        self.D = disc if disc is not None else discriminator(self.size)
        self.opt_d = self.optimizer()
        self.d_step = backend.train_step(self.d_loss, self.D.trainable_weights, self.opt_d, jit=self.jit)

    def judge(self, real, fake, corners_real, corners_fake):
        """D's logits on real and fake images, one batch so BatchNorm sees both."""
        images = ops.concatenate([real, fake], 0)
        patches = ops.concatenate([crop(real, corners_real, self.patch), crop(fake, corners_fake, self.patch)], 0)
        logits = ops.cast(self.D([images, patches], training=True), "float32")    # (under mixed precision too)
        n = ops.shape(real)[0]
        return logits[:n], logits[n:]

    def d_loss(self, x, m, corners, corners_real):
        out, x, m = self.fill(x, m, training=False)
        out = ops.stop_gradient(out)
        fake = composite(out, x, m)
        lr, lf = self.judge(x, fake, corners_real, corners)
        loss = 0.5 * (_bce(lr, 1.0) + _bce(lf, 0.0))
        acc_real = ops.mean(ops.cast(lr > 0, "float32"))
        acc_fake = ops.mean(ops.cast(lf < 0, "float32"))
        return loss, {"d_acc_real": acc_real, "d_acc_fake": acc_fake}

    def d_accuracy(self, images, masks=None, corners=None, seed: int = 1):
        """D's accuracy on ``images`` (real) and on their completions (fake), inference mode."""
        images = check_images("images", images, batched=True)
        if masks is None:
            masks, corners = self.holes(len(images), seed)
        _, corners_real = self.holes(len(images), seed + 1)
        real = ops.convert_to_tensor(images)
        fake = ops.convert_to_tensor(self.complete(images, masks))
        pr = backend.to_numpy(self.D([real, crop(real, corners_real, self.patch)], training=False))
        pf = backend.to_numpy(self.D([fake, crop(fake, corners, self.patch)], training=False))
        return {"real": float((pr > 0).mean()), "fake": float((pf < 0).mean())}

    def precise_d_batchnorm(self, batches: int = 30) -> int:
        """Re-estimate D's BatchNorm statistics as the plain average over ``batches`` training-like
        batches (real and completed images together, as in :meth:`judge`;
        :func:`inpaintkit.training.precise_batchnorm`). D's exponential averages trail its fast-moving
        weights: measured on the class preset after 100 phase-2 steps against a 200-step C, D was
        right on 0.95 / 0.89 of held-out real / completed images in training mode but on 0.98 / 0.59
        in inference mode; after this, 0.92 / 0.98. Deterministic (batches of fixed seeds)."""
        from ..training import precise_batchnorm

        def gen():
            for i in range(check_int("batches", batches, minimum=1)):
                x, m, corners, corners_real = self.batch(10 ** 6 + i)
                out, x, m = self.fill(x, m, training=False)
                fake = composite(out, x, m)
                yield [ops.concatenate([x, fake], 0),
                       ops.concatenate([crop(x, corners_real, self.patch), crop(fake, corners, self.patch)], 0)]
        return precise_batchnorm(self.D, gen())


class Phase2(_Adversarial):
    """D alone, C frozen: binary cross-entropy on real vs completed (composite) images."""

    name = "phase 2 (discriminators)"
    keys = ("loss", "d_acc_real", "d_acc_fake")
    plot_right = ("d_acc_real", "d_acc_fake")
    plot_labels = {"ylabel": "D loss (BCE)", "right_label": "D accuracy"}

    def run(self, steps: int, **kw) -> list[dict]:
        """:meth:`_Trainer.run`; once all ``steps`` are done, D's BatchNorm statistics are re-estimated
        (:meth:`precise_d_batchnorm`), so that D judges held-out images in inference mode as it did
        its training batches."""
        history = super().run(steps, **kw)
        if self.last_loop.step >= self.last_loop.total_steps:
            self.precise_d_batchnorm()
        return history

    def models(self):
        return {"discriminator": self.D}

    def optimizers(self):
        return {"opt_d": self.opt_d}

    def one_step(self, step):
        return self.d_step(*self.batch(step))


class Phase3(_Adversarial):
    r"""C on :math:`L + \alpha\,\mathrm{GAN}` and D on BCE, one update each per step."""

    name = "phase 3 (joint)"
    keys = ("mse", "gan", "d_loss")
    plot_right = ("gan", "d_loss")    # BCE of order 1-10, beside an MSE of order 0.005
    plot_labels = {"ylabel": "masked MSE", "right_label": "GAN losses (BCE)"}

    def __init__(self, completion, disc, images, val_images=None, *, alpha: float = ALPHA, **kw):
        self.alpha = check_float("alpha", alpha, minimum=0.0)
        super().__init__(completion, disc, images, val_images, **kw)
        self.opt_c = self.optimizer(average=True)
        self.c_step = backend.train_step(self.c_loss, self.C.trainable_weights, self.opt_c, jit=self.jit)

    def c_loss(self, x, m, corners, corners_real):
        out, x, m = self.fill(x, m, training=True)
        mse = ops.mean(ops.square(m * (out - x)))
        _, lf = self.judge(x, composite(out, x, m), corners_real, corners)
        gan = _bce(lf, 1.0)          # non-saturating form of log(1 - D(C(x, M_c), M_c))
        return mse + self.alpha * gan, {"mse": mse, "gan": gan}

    def models(self):
        return {"completion": self.C, "discriminator": self.D}

    def optimizers(self):
        return {"opt_c": self.opt_c, "opt_d": self.opt_d}

    def one_step(self, step):
        batch = self.batch(step)
        d = self.d_step(*batch)
        c = self.c_step(*batch)
        return {"loss": c["loss"], "mse": c["mse"], "gan": c["gan"], "d_loss": d["loss"],
                "d_acc_real": d["d_acc_real"], "d_acc_fake": d["d_acc_fake"]}


def precise_batchnorm(completion, images, mean_pixel, batches: int = 60, batch_size: int = 16,
                      masks: str = "box", seed: int = 0, context_pad: int = 0) -> int:
    """:func:`inpaintkit.training.precise_batchnorm` for C: ``batches`` training-like batches of
    ``images`` with fresh holes of kind ``masks``, mirror-padded by ``context_pad`` as in training
    (run it after the last phase, before saving)."""
    from ..training import precise_batchnorm as precise
    images = check_images("images", images, batched=True)
    batches = check_int("batches", batches, minimum=1)
    rng = np.random.default_rng((seed, 777))
    size = images.shape[1]
    context_pad = check_context_pad(context_pad, size)

    def feed():
        for _ in range(batches):
            m, _ = sample_holes(batch_size, size, rng, kind=masks)
            yield prepare_input(*mirror_pad(images[rng.integers(0, len(images), batch_size)], m, context_pad),
                                mean_pixel)
    return precise(completion, feed())


def load_completion(width: float, run_dir=None, shipped: str = "glcic_toycars"):
    """The completion network to continue from: the checkpoint in ``run_dir`` (a previous phase
    of this configuration) if there is one, else the shipped weights ``shipped``.
    Returns ``(model, source)``; ``source`` says which, for the notebook to print."""
    from ..errors import InpaintkitError
    from ..weights import load_file
    from .completion import completion_network
    if run_dir is not None:
        path = Path(run_dir) / "checkpoint" / "completion.weights.h5"
        if path.exists():
            model = completion_network(None, width)
            try:
                load_file(model, path, what="checkpoint")
                return model, f"checkpoint {path}"
            except InpaintkitError:
                pass            # another preset's checkpoint: fall through to the shipped weights
    from .. import weights
    model = weights.load(shipped)
    return model, f"shipped weights {shipped!r} ({weights.entry(shipped)['steps']})"


def load_discriminator(size: int, width: float, run_dir=None, shipped: str = "glcic_toycars_disc"):
    """D from ``run_dir``'s checkpoint, else the shipped one (if it has this image size), else a
    fresh one. Returns ``(model, source)``."""
    from .. import weights
    from ..errors import InpaintkitError
    from ..weights import load_file
    candidates = []
    if run_dir is not None and (Path(run_dir) / "checkpoint" / "discriminator.weights.h5").exists():
        candidates.append((discriminator(size, width), Path(run_dir) / "checkpoint" / "discriminator.weights.h5"))
    if weights.available(shipped) and weights.entry(shipped)["config"].get("size") == size:
        e = weights.entry(shipped)["config"]
        candidates.append((discriminator(size, e["width"]), weights.path(shipped)))
    for model, path in candidates:
        try:
            load_file(model, path, what="discriminator")
            return model, f"{'checkpoint' if 'runs' in str(path) else 'shipped weights'} {path.name}"
        except InpaintkitError:
            continue
    return discriminator(size, width), "untrained (no checkpoint or shipped discriminator of this size)"


def corners_of(masks, patch: int) -> np.ndarray:
    """Top-left corners (N, 2) of the ``patch``² windows centred on each mask's hole (clipped)."""
    masks = np.asarray(masks)
    masks = masks[None] if masks.ndim == 3 else masks
    size = masks.shape[1]
    out = np.zeros((len(masks), 2), np.int32)
    for i, m in enumerate(masks):
        ys, xs = np.nonzero(m[..., 0] > 0.5)
        if len(ys):
            cy, cx = (ys.min() + ys.max() + 1) // 2, (xs.min() + xs.max() + 1) // 2
            out[i] = np.clip([cy - patch // 2, cx - patch // 2], 0, size - patch)
    return out


def p_real(disc, images, masks) -> np.ndarray:
    """D's probability that each image is real, sigmoid(logit), its local patch centred on each hole."""
    images = ops.convert_to_tensor(check_images("images", images, batched=True))
    patch = disc.inputs[1].shape[1]
    logits = disc([images, crop(images, corners_of(masks, patch), patch)], training=False)
    return backend.to_numpy(ops.sigmoid(logits))[:, 0]
