# %% [markdown]
# # 03 · GLCIC phase 1: training the completion network
#
# **What you will learn**
# - phase 1 of Iizuka et al. (2017): the completion network *C* alone, trained to reproduce the
#   hidden pixels with a masked mean squared error;
# - how a training batch is made: random rectangular holes, the hole filled with the training
#   set's mean colour, the mask as a 4th input channel;
# - a real training loop: progress bar, live loss plot, sample completions of the *same* validation
#   images every few steps, checkpoints, resuming after an interruption, TensorBoard logs;
# - how far a few minutes of CPU training get, compared with OpenCV's Telea and with the shipped
#   weights (trained longer by `scripts/train_glcic.py`).
#
# **Time**: about 3 min on a 2-core CPU (`class` preset: 64² toy cars, width 0.5, 200 steps).
# Runs on TensorFlow and on PyTorch (`KERAS_BACKEND=torch`).

# %%
from inpaintkit import presets
P = presets.active(); print(P.summary())

# %%
import shutil
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from inpaintkit import backend, metrics, weights
from inpaintkit.data import pipeline
from inpaintkit.glcic import completion as cm, inference, phases
from inpaintkit.plotting import show_images

plt.rcParams["figure.dpi"] = 100
S = P.glcic_size
splits = pipeline.toycar_splits(P, size=S)
train, val = splits.train[0], splits.val[0]
print(f"backend {backend.NAME}; {len(train)} training and {len(val)} validation toy cars of {S}x{S}")

# %% [markdown]
# ## 1. A training batch
# Each step draws `batch` images and, for each, a rectangular hole whose sides are between 3/8 and
# 1/2 of the image side (the paper: 96–128 px of 256). The hole is filled with the **mean pixel** of
# the training set and the mask is appended as a 4th channel: that is C's input. The dashed square
# is the *local patch* (half the side, centred on the hole) the local discriminator will look at in
# phases 2 and 3.

# %%
trainer_preview = phases.sample_holes(4, S, rng=0)
x, m, corners = train[:4], trainer_preview[0], trainer_preview[1]
mean = cm.mean_pixel_of(train)
inp = backend.to_numpy(cm.prepare_input(x, m, mean))
print("mean pixel", np.round(mean, 3), "| C's input", inp.shape)
fig, axes = plt.subplots(1, 4, figsize=(6, 1.7))
for ax, im, (cy, cx) in zip(axes, inp, corners):
    ax.imshow(im[..., :3]); ax.axis("off")
    ax.add_patch(plt.Rectangle((cx - 0.5, cy - 0.5), S // 2, S // 2, fill=False, ls="--", ec="w"))
plt.show()

# %% [markdown]
# ## 2. The loss
# Phase 1 trains C alone on the squared error over the hole only (the paper's eq. 1):
#
# $$L(x, M_c) = \lVert M_c \odot (C(x, M_c) - x) \rVert^2$$
#
# where $M_c$ is 1 in the hole. Outside the hole C may output anything: those pixels are replaced
# by the original ones anyway. The kit takes the mean over pixels and channels (a constant factor),
# which keeps the loss in a readable range. In code:

# %%
from keras import ops


def masked_mse(C, x, m, mean_pixel):
    x, m = ops.convert_to_tensor(x), ops.convert_to_tensor(m)
    out = ops.convert_to_tensor(C(cm.prepare_input(x, m, mean_pixel), training=True))
    return ops.mean(ops.square(m * (out - x)))


# %% [markdown]
# `phases.Phase1.loss` is exactly this (it also reports `hole_mse`, the error per hole pixel).
# A fixed check — an "oracle" network whose output is the image itself has zero loss, and one that
# outputs grey has the error of grey over the hole:

# %%
# NBVAL_CHECK_OUTPUT
x8 = np.full((1, 8, 8, 3), 0.25, np.float32)
m8 = np.zeros((1, 8, 8, 1), np.float32); m8[:, 2:6, 2:6] = 1
oracle = lambda inp, training: x8
grey = lambda inp, training: np.full_like(x8, 0.5)
print(float(masked_mse(oracle, x8, m8, mean)), round(float(masked_mse(grey, x8, m8, mean)), 6))

# %% [markdown]
# ## 3. Train (live)
# `Phase1` compiles one training step (`inpaintkit.backend.train_step`: a `tf.function` on
# TensorFlow, autograd on PyTorch), draws holes in NumPy for each batch and hands the step to the
# kit's `Loop`: progress bar, loss plot (redrawn in place), completions of 8 fixed validation
# images every `sample_every` steps, a checkpoint every `checkpoint_every` steps and at the end,
# and logs in `runs/glcic_phase1/logs` (`tensorboard --logdir runs`).
#
# We first stop halfway — as if you had pressed *Interrupt* — then build a **new** trainer on the
# same directory: it restores the network, the optimiser and the history, and continues.

# %%
RUN = Path("runs/glcic_phase1")
shutil.rmtree(RUN, ignore_errors=True)          # start fresh each time the notebook runs
backend.seed(0)
C = cm.completion_network(S, P.glcic_width, mean_pixel=mean)
print(f"C: width {P.glcic_width}, {C.count_params():,} parameters")
kw = dict(batch_size=P.glcic_batch, lr=P.glcic_lr, mean_pixel=mean, run_dir=RUN)
t0 = time.time()
trainer = phases.Phase1(C, train, val[:8], **kw)
trainer.run(P.phase1_steps, checkpoint_every=P.checkpoint_every, sample_every=P.sample_every,
            until=P.phase1_steps // 2);

# %%
first_half = trainer.samples
C = cm.completion_network(S, P.glcic_width, mean_pixel=mean)      # a brand-new network...
trainer = phases.Phase1(C, train, val[:8], **kw)                 # ...restored from runs/glcic_phase1
print("resuming at step", trainer.loop(P.phase1_steps).step)
history = trainer.run(P.phase1_steps, checkpoint_every=P.checkpoint_every, sample_every=P.sample_every)
live_minutes = (time.time() - t0) / 60
print(f"{len(history)} steps in {live_minutes:.1f} min; loss {history[0]['loss']:.4f} -> {history[-1]['loss']:.4f}")

# %% [markdown]
# The same validation images at every sampling step (rows): blurry colour blobs first, then the
# the sky and ground colours; at 200 steps the car body is still missing from most holes and grey
# skies get a blue, average-sky fill.

# %%
samples = first_half + trainer.samples           # before and after the interruption
rows = samples[:: max(1, len(samples) // 4)][:4]
show_images([val[i] * (1 - trainer.val_masks[i]) + 0.5 * trainer.val_masks[i] for i in range(6)]
            + [s[1][i] for s in rows for i in range(6)], ncols=6, size=1.1,
            titles=["input"] + [""] * 5 + [f"step {s[0]}" if i == 0 else "" for s in rows for i in range(6)]);

# %% [markdown]
# ## 4. Compared with Telea and with the shipped weights
# Fixed holes on (up to) 64 validation images; scores over the hole (the part that was invented) and SSIM
# over the whole image (`inpaintkit.metrics`).

# %%
NE = min(64, len(val))
ev, (ev_masks, _) = val[:NE], phases.sample_holes(NE, S, rng=123)
live = inference.evaluate(C, ev, ev_masks)
table = {"Telea": live["telea"], f"GLCIC live ({len(history)} steps)": live["glcic"]}
shipped = None
if weights.available("glcic_toycars"):
    shipped = inference.load_shipped("glcic_toycars")
    e = weights.entry("glcic_toycars")
    table[f"GLCIC shipped ({e['steps']['phase1']}+{e['steps']['phase2']}+{e['steps']['phase3']} steps)"] = \
        inference.evaluate(shipped, ev, ev_masks)["glcic"]
    print(f"shipped: {e['wall_time_s'] / 60:.0f} min of CPU training, command: {e['command']}")
print(metrics.table(table))
for name, r in table.items():
    if name != "Telea":
        gap = r["hole_psnr"] - table["Telea"]["hole_psnr"]
        print(f"{name}: {gap:+.2f} dB hole PSNR against Telea ({'above' if gap > 0 else 'below'} it)")

# %% [markdown]
# **Reading the table.** The live network is *not* better than Telea yet: on the class preset its
# 200 steps end level with Telea or slightly below it (when this notebook was last run: 15.59 vs
# 15.85 dB hole PSNR, and a lower SSIM). A few minutes of CPU teach C the colours of sky, ground and
# car body, not yet the edges that Telea's border propagation gets for free. The **shipped** network,
# trained for 2000 phase-1 steps and then 600 adversarial ones (15 min of CPU), is clearly better:
# 18.6 dB, about 2.8 dB above Telea, with the higher SSIM. Training time, not the architecture, is
# what the live run lacks; the pictures below show the difference.

# %%
idx = range(5)
outs = [inference.inpaint(val[i], ev_masks[i], model=C, postprocess=False) for i in idx]
rows = [val[i] * (1 - ev_masks[i]) + 0.5 * ev_masks[i] for i in idx] + outs
titles = ["input"] + [""] * 4 + ["live"] + [""] * 4
if shipped is not None:
    rows += [inference.inpaint(val[i], ev_masks[i], model=shipped, postprocess=False) for i in idx]
    titles += ["shipped"] + [""] * 4
show_images(rows + [val[i] for i in idx], titles=titles + ["original"] + [""] * 4, ncols=5, size=1.3);

# %% [markdown]
# ## 5. Try it: move the hole
# The live network and the shipped one (if present) complete the same hole; Telea for reference.
# Try a hole over a wheel, over the roof line, or over the horizon.

# %%
models = {"live": C} | ({"shipped": shipped} if shipped is not None else {})
widget, state = inference.explorer(models, val[3], size=0.4)
widget

# %% [markdown]
# ## Exercises
# **1.** The simplest "completion network" returns its input: the hole stays filled with the mean
# pixel. Compute its hole PSNR on `ev` with `ev_masks` (hint: `cm.prepare_input`,
# `metrics.hole_psnr`). Is C better than that floor?

# %%
from inpaintkit.exercises import check

mean_fill_psnr = None                # your answer: the hole PSNR (dB) of the mean-pixel fill
### BEGIN SOLUTION
filled = backend.to_numpy(cm.prepare_input(ev, ev_masks, mean))[..., :3]
mean_fill_psnr = metrics.hole_psnr(filled, ev, ev_masks)
### END SOLUTION
expected = metrics.hole_psnr(ev * (1 - ev_masks) + np.asarray(mean) * ev_masks, ev, ev_masks)
check("the mean-pixel fill's hole PSNR", mean_fill_psnr, lambda v: abs(v - expected) < 1e-3,
      "fill the hole with `mean`, keep the known pixels")
if mean_fill_psnr is not None:
    print(f"mean-pixel fill: {mean_fill_psnr:.2f} dB, C: {live['glcic']['hole_psnr']:.2f} dB:",
          "C beats the floor" if live["glcic"]["hole_psnr"] > mean_fill_psnr
          else "C is not better than the mean colour yet (train longer)")

# %% [markdown]
# **2.** The loss ignores what C outputs outside the hole. Check it: change C's output outside the
# hole (e.g. add 0.3 there) and verify `masked_mse` does not move.

# %%
xb, mb, _, _ = trainer.batch(0)
base = lambda inp, training: C(inp, training=False)
outside = ops.convert_to_tensor(1 - mb)
shifted = None                       # your code: a function (inp, training) -> C's output, changed outside the hole
### BEGIN SOLUTION
shifted = lambda inp, training: C(inp, training=False) + 0.3 * outside
### END SOLUTION
inp = cm.prepare_input(xb, mb, mean)
loss_of = lambda f: float(backend.to_numpy(masked_mse(f, xb, mb, mean)))
moved_of = lambda f: float(np.abs(backend.to_numpy(f(inp, False) - base(inp, False)) * (1 - mb)).max())
check("the output moved by more than 0.25 outside the hole", shifted, lambda f: moved_of(f) > 0.25,
      "add 0.3 * outside to C's output")
check("the loss did not move", shifted, lambda f: abs(loss_of(f) - loss_of(base)) < 1e-7,
      "change only pixels outside the hole")
if shifted is not None:
    print(f"loss {loss_of(base):.6f} -> {loss_of(shifted):.6f}; the output moved by up to "
          f"{moved_of(shifted):.2f} outside the hole")

# %% [markdown]
# **3.** Where is the cost? `cm.conv_macs(model, S)` counts a network's multiply-adds. Compute how
# many times more a completion network of width `P.glcic_width` needs than one of width `0.25`
# (`cm.completion_network(S, width)`), and explain the number from how a convolution's cost grows
# with its channels. (Longer: re-run section 3 with width `0.25` and compare the hole PSNR and the
# time per step.)

# %%
macs_ratio = None                    # your answer: MACs at width P.glcic_width / MACs at width 0.25
### BEGIN SOLUTION
macs_ratio = cm.conv_macs(cm.completion_network(S, P.glcic_width), S) / cm.conv_macs(cm.completion_network(S, 0.25), S)
### END SOLUTION
check("the ratio of multiply-adds", macs_ratio, lambda r: np.isclose(
    r, cm.conv_macs(cm.completion_network(S, P.glcic_width), S) / cm.conv_macs(cm.completion_network(S, 0.25), S),
    rtol=0.01))

# %% [markdown]
# **Next**: notebook 04 trains the discriminators against this network's completions.
