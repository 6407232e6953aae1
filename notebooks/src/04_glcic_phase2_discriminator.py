# %% [markdown]
# # 04 · GLCIC phase 2: training the context discriminators
#
# **What you will learn**
# - phase 2 of Iizuka et al. (2017): the discriminators alone learn to tell real images from the
#   completion network's results, while C stays frozen;
# - what exactly D sees: the **composite** (C's pixels in the hole, the real ones elsewhere) and a
#   **local patch** centred on the hole — for real images too, on a random hole of their own;
# - why feeding D the raw output of C instead of the composite is a bug;
# - binary cross-entropy and D's accuracy on real vs completed images.
#
# **Time**: about 1.5 min on a 2-core CPU (`class` preset: 100 steps).
# It continues from notebook 03's checkpoint (`runs/glcic_phase1`) if there is one, otherwise from
# the shipped toy-car completion network, so it runs on its own.

# %%
from inpaintkit import presets
P = presets.active(); print(P.summary())

# %%
import shutil
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
from keras import ops

from inpaintkit import backend, weights
from inpaintkit.data import pipeline
from inpaintkit.glcic import completion as cm, discriminators as dm, inference, phases
from inpaintkit.plotting import LossPlot, show_images

plt.rcParams["figure.dpi"] = 100
S = P.glcic_size
splits = pipeline.toycar_splits(P, size=S)
train, val = splits.train[0], splits.val[0]
mean = cm.mean_pixel_of(train)
C, source = phases.load_completion(P.glcic_width, run_dir="runs/glcic_phase1")
print("completion network from", source)

# %% [markdown]
# ## 1. What the discriminator sees
# For a **completed** image: $C$'s output is pasted into the hole only,
# $\tilde x = M_c \odot C(x, M_c) + (1 - M_c) \odot x$, and the local discriminator gets the
# patch (half the side) centred on the hole $M_c$. For a **real** image: the image itself, and the
# patch around a random hole $M_d$ drawn for it — so the position of the patch tells D nothing.

# %%
trainer = phases.Phase2(C, dm.discriminator(S, P.glcic_disc_width), train, val[:8], show=False)
x, m, corners, corners_real = trainer.batch(0)
raw = backend.to_numpy(C(cm.prepare_input(x, m, mean), training=False))
fake = backend.to_numpy(cm.composite(raw, x, m))
real_patch = backend.to_numpy(dm.crop(x, corners_real, S // 2))
fake_patch = backend.to_numpy(dm.crop(fake, corners, S // 2))
show_images([x[0], real_patch[0], fake[0], fake_patch[0], raw[0]],
            ["real", "real: local patch", "composite", "completed: local patch", "raw C output"], size=1.6);

# %% [markdown]
# The last image is C's **raw** output: C was never asked to reproduce the pixels outside the
# hole, so they are blurry. A discriminator fed raw outputs learns "blurry everywhere = fake" and
# never looks at the hole — a known bug of a popular re-implementation. Here the composite differs
# from the real image only inside the hole:

# %%
outside = m[..., 0] == 0
print(f"mean |composite - real| outside the hole: {np.abs(fake - x)[outside].mean():.6f}")
print(f"mean |raw output - real| outside the hole: {np.abs(raw - x)[outside].mean():.4f}")

# %% [markdown]
# ## 2. The loss
# Phase 2 maximises the discriminator part of the paper's objective (α only scales it):
#
# $$\max_D \; \mathbb{E}\big[\log D(x, M_d) + \log\big(1 - D(\tilde x, M_c)\big)\big]$$
#
# i.e. binary cross-entropy with label 1 for real and 0 for completed images. With logits
# $\ell$ and $D = \sigma(\ell)$, $-\log\sigma(\ell) = \mathrm{softplus}(-\ell)$ is computed stably:

# %%
def bce(logits, label):          # the kit's phases.bce, which the trainers use; checked below
    return ops.mean(ops.relu(logits) - logits * label + ops.log1p(ops.exp(-ops.abs(logits))))


_l = np.linspace(-30, 30, 13).astype("float32")
assert all(np.isclose(float(backend.to_numpy(bce(_l, y))), float(backend.to_numpy(phases.bce(_l, y))))
           for y in (0.0, 1.0))


def d_loss(logits_real, logits_fake):
    return 0.5 * (bce(logits_real, 1.0) + bce(logits_fake, 0.0))


# %%
# NBVAL_CHECK_OUTPUT
l = np.array([[-3.0], [0.0], [2.0]], np.float32)
p = 1 / (1 + np.exp(-l))
print(np.round(float(bce(l, 1.0)), 5), np.round(float(-np.log(p).mean()), 5))   # the same number
print(np.round(float(d_loss(l, l)), 5))

# %% [markdown]
# ## 3. Train D (live), C frozen
# Only D's weights are in the step (`trainer.d_step`); C runs in inference mode under
# `stop_gradient`. Real and completed images go through D as **one** batch so BatchNorm sees
# both. The plot shows the loss (left axis, BCE) and D's accuracy on the real and the completed
# images of each batch (right axis, dashed, 0 to 1): two scales, so that a loss of several units does
# not flatten the accuracies. When the run has finished, the trainer re-estimates D's BatchNorm
# statistics as a plain average over 30 fresh batches (`trainer.precise_d_batchnorm`): the running
# averages kept during training trail D's fast-moving weights, and with them D judged held-out
# images in inference mode very differently from its training batches.

# %%
RUN = Path("runs/glcic_phase2")
shutil.rmtree(RUN, ignore_errors=True)
backend.seed(0)
D = dm.discriminator(S, P.glcic_disc_width)
trainer = phases.Phase2(C, D, train, val[:8], batch_size=P.glcic_batch, lr=P.glcic_lr, mean_pixel=mean,
                        run_dir=RUN)
before = trainer.d_accuracy(val[:64])
t0 = time.time()
history = trainer.run(P.phase2_steps, checkpoint_every=P.checkpoint_every)
after = trainer.d_accuracy(val[:64])
print(f"{len(history)} steps in {(time.time() - t0) / 60:.1f} min")
print(f"D accuracy on held-out images, before: real {before['real']:.2f}, completed {before['fake']:.2f}")
print(f"                                after: real {after['real']:.2f}, completed {after['fake']:.2f}")

# %% [markdown]
# C is frozen, so D only has to find what gives C's completions away — and a C trained only on MSE
# gives itself away easily: its holes are smooth averages. That is the signal phase 3 feeds back
# to C.
#
# D's probability of "real" for held-out images and their completions:

# %%
NE = min(64, len(val))
ev, (ev_masks, _) = val[:NE], phases.sample_holes(NE, S, rng=5)
completed = inference.inpaint(ev, ev_masks, model=C, postprocess=False)
p_real_real = phases.p_real(D, ev, ev_masks)
p_real_fake = phases.p_real(D, completed, ev_masks)
plt.figure(figsize=(5, 2.2))
plt.hist([p_real_real, p_real_fake], bins=20, range=(0, 1), label=["real", "completed"])
plt.xlabel("D(x) = P(real)"); plt.ylabel("images"); plt.legend(); plt.show()

# %% [markdown]
# ## 4. Does a better completion network fool this D?
# The shipped toy-car C (`scripts/train_glcic.py`: phase 1, then phases 2 and 3 jointly with its own
# discriminator) was trained longer and with the adversarial term. Our freshly trained D has never
# seen its completions: how often does it still call them "completed"?

# %%
if weights.available("glcic_toycars"):
    Cs = inference.load_shipped("glcic_toycars")
    e = weights.entry("glcic_toycars")
    comp_s = inference.inpaint(ev, ev_masks, model=Cs, postprocess=False)
    pf = phases.p_real(D, comp_s, ev_masks)
    print(f"shipped C ({e['steps']}, {e['wall_time_s'] / 60:.0f} min of CPU): "
          f"D calls {(pf < 0.5).mean():.2f} of its completions 'completed' "
          f"(live C: {(p_real_fake < 0.5).mean():.2f}); mean P(real) {pf.mean():.2f} vs {p_real_fake.mean():.2f}")
else:
    print("shipped weights missing: run scripts/train_glcic.py --data toycars --save-phase1")

# %% [markdown]
# ## 5. Try it: how real does a completion look to D?
# Move the hole: C completes it and D scores the completion; the same hole on the real image for
# comparison.

# %%
from ipywidgets import interact

from inpaintkit.widgets import explorer_mask

image = val[2]


def judge(size=0.4, x=0.5, y=0.6):
    mask = explorer_mask(image.shape, "box", size, x, y)
    out = inference.inpaint(image, mask, model=C, postprocess=False)
    pr, pf = phases.p_real(D, np.stack([image, out]), np.stack([mask, mask]))
    show_images([image * (1 - mask) + 0.5 * mask, out, image],
                ["input", f"completed: D = {pf:.2f}", f"real: D = {pr:.2f}"], size=1.8)


interact(judge, size=(0.1, 0.6, 0.05), x=(0.0, 1.0, 0.05), y=(0.0, 1.0, 0.05));

# %% [markdown]
# ## Exercises
# **1.** Show the bug: compute the trained D's accuracy on the **raw** outputs of C (not composited)
# for `ev`. Is it higher or lower than on the composites, and why is a high number here useless
# for training C?

# %%
from inpaintkit.exercises import check

raw_ev = None                        # your answer: C's raw outputs for `ev` with holes `ev_masks`, not composited
### BEGIN SOLUTION
raw_ev = inference.complete(C, ev, ev_masks)
### END SOLUTION
outside = np.broadcast_to(ev_masks == 0, ev.shape)
check("one output per image", raw_ev, lambda r: np.shape(r) == ev.shape)
check("raw outputs, not composites", raw_ev, lambda r: np.abs(r - ev)[outside].mean() > 1e-3,
      "outside the hole a composite equals the original: use C's own output everywhere")
if raw_ev is not None:
    acc_raw = float((phases.p_real(D, np.clip(raw_ev, 0, 1), ev_masks) < 0.5).mean())
    print(f"D calls 'completed': raw outputs {acc_raw:.2f}, composites {(p_real_fake < 0.5).mean():.2f}")

# %% [markdown]
# **2.** The local patch of a *real* image sits on a random hole $M_d$. What could D learn if real
# images always used the centre patch while completed ones used the patch around their hole? Where
# the patch is, not what is in it. Measure it: write `cheat_accuracy(c_fake, c_real)`, the accuracy
# of a "discriminator" that looks only at the patch's top-left corner and says *real* when it is
# the centre patch's corner `centre`, *completed* otherwise (corners are rows `(y, x)`; count the
# completed and the real patches together). Then apply it to real patch corners that always sit at
# the centre, and to the trainer's own corners.

# %%
centre = np.array([(S - trainer.patch) // 2] * 2)       # top-left corner of the centred local patch


def cheat_accuracy(c_fake, c_real):
    acc = None                       # your code: the fraction of the len(c_fake) + len(c_real) patches judged right
    ### BEGIN SOLUTION
    at_centre = lambda c: np.all(np.asarray(c) == centre, axis=1)
    acc = (np.sum(~at_centre(c_fake)) + np.sum(at_centre(c_real))) / (len(c_fake) + len(c_real))
    ### END SOLUTION
    return acc


away = centre + 1
check("a hand example: right on 2 of 4", cheat_accuracy([centre, away], [centre, away]),
      lambda a: np.isclose(a, 0.5))
check("a hand example: right on all", cheat_accuracy([away, away + 1], [centre]), lambda a: np.isclose(a, 1.0))
_, _, c_fake, c_real = trainer.batch(3)
leaky, kit = cheat_accuracy(c_fake, np.tile(centre, (len(c_fake), 1))), cheat_accuracy(c_fake, c_real)
if kit is not None:
    print(f"the corner alone: {leaky:.2f} accurate if real patches sat at the centre, {kit:.2f} with the "
          "trainer's random real holes: D has to look at the pixels")
