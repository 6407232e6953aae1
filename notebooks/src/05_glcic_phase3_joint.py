# %% [markdown]
# # 05 · GLCIC phase 3: completion network and discriminators together
#
# **What you will learn**
# - phase 3 of Iizuka et al. (2017): C is trained on the MSE **plus** a small adversarial term
#   (α = 0.0004) from the context discriminators, which keep training as in phase 2;
# - what the adversarial term changes: sharper, more textured holes — and what it costs in PSNR,
#   a metric that rewards the blurry average;
# - how to compare fairly: against the same network trained with MSE alone for the same steps;
# - network interpolation: mixing the MSE network's and the GAN network's weights trades PSNR for detail.
#
# **Time**: about 4 min on a 2-core CPU (`class` preset: 60 joint steps + 60 control steps; measured 2026-12-01 on a 2-core AMD EPYC without AVX-512).
# The live run starts from the **shipped phase-1 network** `glcic_toycars_phase1` (2000 MSE steps),
# not from notebook 03's short live run: the adversarial term sharpens a completion that is already
# good, and a 200-step network is still a blur. D continues from notebook 04's checkpoint (`runs/`)
# when present, otherwise it starts untrained.

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

from inpaintkit import backend, metrics, weights
from inpaintkit.data import pipeline
from inpaintkit.glcic import completion as cm, inference, phases
from inpaintkit.plotting import show_images

plt.rcParams["figure.dpi"] = 100
S = P.glcic_size
splits = pipeline.toycar_splits(P, size=S)
train, val = splits.train[0], splits.val[0]
mean = cm.mean_pixel_of(train)
start = "glcic_toycars_phase1" if weights.available("glcic_toycars_phase1") else "glcic_toycars"
C, c_source = phases.load_completion(P.glcic_width, run_dir=None, shipped=start)    # the shipped phase-1 network
D, d_source = phases.load_discriminator(S, P.glcic_disc_width, run_dir="runs/glcic_phase2")
print("C from", c_source, "\nD from", d_source)

# %% [markdown]
# ## 1. The joint objective
# The paper optimises
#
# $$\min_C \max_D \; \mathbb{E}\Big[ \lVert M_c \odot (C(x, M_c) - x) \rVert^2
#   + \alpha \log D(x, M_d) + \alpha \log\big(1 - D(\tilde x, M_c)\big) \Big],\qquad \alpha = 0.0004$$
#
# with $\tilde x$ the composite. Each step updates D once (exactly phase 2's loss) and C once. For
# C the kit uses the usual *non-saturating* form: instead of minimising $\log(1 - D(\tilde x))$,
# which has no gradient while D easily wins, it minimises $-\log D(\tilde x)$ (same fixed point).
# The few lines of `phases.Phase3.c_loss`:

# %%
ALPHA = phases.ALPHA


def c_loss(C, D_logits_of, x, m):
    out = C(cm.prepare_input(x, m, mean), training=True)
    mse = ops.mean(ops.square(m * (out - x)))
    logits_fake = D_logits_of(cm.composite(out, x, m))
    gan = phases.bce(logits_fake, 1.0)                 # -log D(x~): "make D say real"
    return mse + ALPHA * gan, mse, gan


# %%
# NBVAL_CHECK_OUTPUT
x4 = np.full((2, 8, 8, 3), 0.5, np.float32); m4 = np.zeros((2, 8, 8, 1), np.float32); m4[:, 2:6, 2:6] = 1
x4, m4 = ops.convert_to_tensor(x4), ops.convert_to_tensor(m4)      # tensors, as the trainers pass them
perfect = lambda inp, training: x4
loss, mse, gan = c_loss(perfect, lambda im: ops.zeros((2, 1)), x4, m4)     # D undecided: logit 0
print(f"mse {float(mse):.4f}, gan {float(gan):.4f} (= log 2), total {float(loss):.6f}")

# %% [markdown]
# The paper's tip: early in phase 3 keep the MSE gradient of the same order as the adversarial
# one, otherwise one term drowns the other. With the kit's mean-normalised MSE (≈ 0.005 after
# phase 1) and a GAN loss of order 1, α·GAN ≈ 0.0004–0.002 is indeed of the same order.
#
# ## 2. Train (live), and a control
# To see what the adversarial term does — rather than what more training does — we train a
# **copy** of the same C for the same number of steps with the MSE alone (phase 1 continued).

# %%
C.mean_pixel = mean                            # the trainers set it too
C_mse, C_start = cm.clone(C), cm.clone(C)      # same weights and mean pixel; C_start stays as it is
RUN = Path("runs/glcic_phase3")
shutil.rmtree(RUN, ignore_errors=True)
backend.seed(0)
kw = dict(batch_size=P.glcic_batch, lr=P.glcic_lr, mean_pixel=mean)
t0 = time.time()
joint = phases.Phase3(C, D, train, val[:8], alpha=ALPHA, run_dir=RUN, ema=0.95, **kw)   # ema: exercise 4
history = joint.run(P.phase3_steps, checkpoint_every=P.checkpoint_every, sample_every=P.sample_every)
t_joint = time.time() - t0
control = phases.Phase1(C_mse, train, val[:8], show=False, **kw)
control.run(P.phase3_steps)
print(f"joint: {len(history)} steps in {t_joint / 60:.1f} min; control: {time.time() - t0 - t_joint:.0f} s")
print("last step:", {k: round(v, 4) for k, v in history[-1].items()})

# %% [markdown]
# The trainer's plot above draws the masked MSE (left axis, order 0.005) and the two BCE losses
# (right axis, order 1–10) on separate scales. Below: how well D tells real from completed batches,
# and how large the adversarial term is next to the MSE.

# %%
fig, (a1, a2) = plt.subplots(1, 2, figsize=(9, 2.8))
steps = [h["step"] for h in history]
a1.plot(steps, [h["d_acc_real"] for h in history], lw=1.2, label="real")
a1.plot(steps, [h["d_acc_fake"] for h in history], lw=1.2, label="completed")
a1.set_xlabel("step"); a1.set_ylabel("D accuracy"); a1.set_ylim(-0.05, 1.05); a1.legend(); a1.set_title("discriminator")
a2.plot(steps, [ALPHA * h["gan"] / h["mse"] for h in history], lw=1.2, c="C2")
a2.set_xlabel("step"); a2.set_ylabel("α·GAN / MSE"); a2.set_title("adversarial term / MSE")
fig.tight_layout(); plt.show()

# %% [markdown]
# ## 3. What changed: sharpness vs PSNR
# PSNR rewards the pixel-wise *average* of all plausible completions, which is blurry. We also
# measure **sharpness**: the mean absolute Laplacian (second derivative) inside the hole, divided by
# the real image's there — 1 means as much fine detail as the real image, 0 a flat colour:
#
# $$S = \frac{\sum_{i \in \text{hole}} |\nabla^2 \hat x_i|}{\sum_{i \in \text{hole}} |\nabla^2 x_i|},
#   \qquad \nabla^2 g_{y,x} = 4g_{y,x} - g_{y-1,x} - g_{y+1,x} - g_{y,x-1} - g_{y,x+1}\ \text{(grey image)}$$
#
# `metrics.hole_sharpness` computes it (type `metrics.hole_sharpness??` to read its six lines); it
# pools the sums over the batch, so a flat real patch cannot blow up one image's ratio.

# %%
sharpness = metrics.hole_sharpness
NE = min(64, len(val))
ev, (ev_masks, _) = val[:NE], phases.sample_holes(NE, S, rng=9)
from inpaintkit.baselines import telea
outs = {"Telea": telea(ev, ev_masks), "start (phase 1)": inference.inpaint(ev, ev_masks, model=C_start, postprocess=False),
        "MSE only (control)": inference.inpaint(ev, ev_masks, model=C_mse, postprocess=False),
        f"MSE + α·GAN": inference.inpaint(ev, ev_masks, model=C, postprocess=False)}
table = metrics.compare(outs, ev, ev_masks)          # metrics.evaluate + hole sharpness, per method
print(metrics.table(table, metrics=("hole_psnr", "ssim", "sharpness")))

# %%
idx = range(5)
show_images([ev[i] * (1 - ev_masks[i]) + 0.5 * ev_masks[i] for i in idx]
            + [outs[k][i] for k in list(outs)[1:] for i in idx] + [ev[i] for i in idx],
            titles=[t if i == 0 else "" for t in ["input", "start", "MSE only", "MSE+GAN", "original"] for i in idx],
            ncols=5, size=1.3);

# %% [markdown]
# **Look before you trust the number.** After a short joint run the adversarial term mostly adds
# high-frequency stripes and checkerboards (typical of transposed convolutions under a GAN loss):
# `sharpness` counts them as detail, PSNR punishes them. Real texture takes many more joint steps —
# the paper ran 400 000 — and a discriminator that has learned to reject such artefacts.
#
# ## 4. With the shipped weights
# A few live steps move C only a little. The shipped toy-car model was trained by
# `scripts/train_glcic.py` for longer; the manifest keeps C after phase 1 (`glcic_toycars_phase1`)
# and after phase 3 (`glcic_toycars`), so here is the same comparison at that scale. Note that the
# phase-3 model also had more MSE steps (the joint steps include the MSE).

# %%
if weights.available("glcic_toycars_phase1") and weights.available("glcic_toycars"):
    e = weights.entry("glcic_toycars")
    print(f"{e['steps']}, {e['wall_time_s'] / 60:.0f} min of CPU: {e['command']}")
    s1 = weights.load("glcic_toycars_phase1")
    s3 = inference.load_shipped("glcic_toycars")
    shipped_outs = {"phase 1 only": inference.inpaint(ev, ev_masks, model=s1, postprocess=False),
                    "phase 1+2+3": inference.inpaint(ev, ev_masks, model=s3, postprocess=False),
                    "phase 1+2+3 + Telea/Poisson": inference.inpaint(ev, ev_masks, model=s3, postprocess=True)}
    print(metrics.table(metrics.compare(shipped_outs, ev, ev_masks), metrics=("hole_psnr", "ssim", "sharpness")))
    show_images([shipped_outs[k][i] for k in shipped_outs for i in idx],
                titles=[k if i == 0 else "" for k in shipped_outs for i in idx], ncols=5, size=1.3)
else:
    print("shipped weights missing: run scripts/train_glcic.py --data toycars --save-phase1")

# %% [markdown]
# ## 5. Try it: MSE only vs MSE + GAN on a hole you choose

# %%
models = {"MSE only": C_mse, "MSE+GAN": C}
if weights.available("glcic_toycars"):
    models["shipped"] = inference.load_shipped("glcic_toycars")
widget, state = inference.explorer(models, val[4], size=0.45)
widget

# %% [markdown]
# ## 6. Real photos at 128²
# The kit also ships a photo network, `glcic_photos` (the same three phases on crops of
# scikit-image's photos at 128², boxes and free-form strokes), and `glcic_photos_phase1`, the same
# network after phase 1 only. On 800 held-out test patches both are level with Telea in mean hole
# PSNR, within the test set's noise (the joint network falls measurably below it on strokes), while
# winning on more than half the images. How that was measured — bootstrap intervals, the
# 200- vs 800-patch rerun, where the mean is decided, weight averaging — is in the research log,
# [`docs/glcic_research_log.md`](../docs/glcic_research_log.md). Four held-out patches, a box and
# strokes each (titles: hole PSNR):

# %%
if weights.available("glcic_photos"):
    from inpaintkit import baselines, evaluation
    from inpaintkit.data import photos
    net = inference.load_shipped("glcic_photos")
    pics = photos.patches(2, 128, seed=5, split="test")
    holes = np.concatenate(list(evaluation.eval_masks(2, 128, kinds=("random_boxes", "strokes")).values()))
    pics = np.concatenate([pics, pics])
    shown = {"masked": pics * (1 - holes), "Telea": baselines.telea(pics * (1 - holes), holes),
             "GLCIC": inference.inpaint(pics * (1 - holes), holes, model=net, postprocess=False),
             "GLCIC + post": inference.inpaint(pics * (1 - holes), holes, model=net), "real": pics}
    titles = [f"{k} {metrics.hole_psnr(shown[k][i], pics[i], holes[i]):.1f}" if k not in ("masked", "real") else k
              for i in range(4) for k in shown]
    show_images([shown[k][i] for i in range(4) for k in shown], titles=titles, ncols=5, size=1.8);
else:
    print("glcic_photos not shipped: python scripts/train_glcic.py --data photos ...")

# %% [markdown]
# Read the numbers in the titles with care: four patches rank nothing. What they show is the kind
# of fill: Telea smears the border colours inwards, raw GLCIC guesses structure but its colours can
# drift, and the post-processing (Telea + Poisson blending, from the official code) pulls them back
# to the border.
#
# ## 7. Between the two networks: network interpolation
# Phase 3 starts from phase 1's weights, so the MSE network and the GAN network are two points of
# one training run, close enough that every weight can be mixed. ESRGAN (Wang et al. 2018, §3.4)
# does exactly that to trade PSNR for detail *after* training, without retraining:
#
# $$\theta(t) = (1 - t)\,\theta_{\text{MSE}} + t\,\theta_{\text{GAN}},\qquad t \in [0, 1]$$
#
# $t = 0$ is the shipped toy-car network after phase 1 (`glcic_toycars_phase1`), $t = 1$ the same
# network after phases 2 and 3 (`glcic_toycars`). It is not in GLCIC's paper. One line of NumPy,
# and the package's `interpolation.interpolate` gives the same network:

# %%
from inpaintkit.glcic import interpolation

PAIR = ("glcic_toycars_phase1", "glcic_toycars")
have_pair = all(weights.available(n) for n in PAIR)
if have_pair:
    mse_net, gan_net = (inference.load_shipped(n) for n in PAIR)
    t = 0.5
    theta_t = [(1 - t) * a + t * b for a, b in zip(mse_net.get_weights(), gan_net.get_weights())]   # θ(t)
    mixed = interpolation.interpolate(mse_net, gan_net, t)
    print("interpolation.interpolate == the line above:",
          all(np.allclose(x, y) for x, y in zip(theta_t, mixed.get_weights())))
else:
    print("shipped toy-car pair missing: python scripts/train_glcic.py --data toycars --save-phase1")

# %% [markdown]
# Every $t$ is a network: each point below is one, scored on 16 validation cars by hole PSNR (up is
# closer to the real pixels) and sharpness (right is more fine detail; 1 = as much as the real
# image), post-processed as the kit's default. Blau & Michaeli's (2018) "perception-distortion
# trade-off" says no method can be best on both axes at once: expect detail to cost PSNR.

# %%
if have_pair:
    NC = min(16, len(val))
    cpics, (choles, _) = val[:NC], phases.sample_holes(NC, S, rng=11)
    live = interpolation.curve(mse_net, gan_net, cpics, choles, postprocess=True)
    tel = telea(cpics * (1 - choles), choles)
    fig, ax = plt.subplots(figsize=(5.5, 3.4))
    ax.plot([r["sharpness"] for r in live.values()], [r["hole_psnr"] for r in live.values()], "o-",
            label=f"θ(t), {NC} toy cars")
    ax.plot(metrics.hole_sharpness(tel, cpics, choles), metrics.hole_psnr(tel, cpics, choles), "*", ms=12,
            label="Telea, the same holes")
    for t, r in live.items():
        ax.annotate(f"t={t:g}", (r["sharpness"], r["hole_psnr"]), fontsize=9, xytext=(4, 3), textcoords="offset points")
    ax.set_xlabel("sharpness in the hole (real image = 1)"); ax.set_ylabel("hole PSNR (dB)")
    ax.set_title("perception-distortion trade-off"); ax.legend(); fig.tight_layout(); plt.show()
    for t, r in live.items():
        print(f"t = {t:4.2f}: hole PSNR {r['hole_psnr']:5.2f} dB, sharpness {r['sharpness']:.2f}")

# %% [markdown]
# **Try it**: drag $t$. The top row is each car's fill (the raw network output, no post-processing;
# titles: hole PSNR), the bottom row the difference map $|\text{fill}(t) - \text{fill}(0)|$, averaged
# over the colour channels and multiplied by 4 (black: unchanged). At $t = 0$ the holes are smooth
# averages and the map is black; as $t$ grows the GAN network's stripes and edges appear inside the
# holes, and only there (the known pixels are put back). The figure title gives the mean change per
# channel inside the holes in grey levels (of 255): about 10 at $t = 1$ on these cars. (On the
# photo pair it is below one grey level, which is why this slider uses the toy cars.)

# %%
if have_pair:
    slider, slider_state = interpolation.explorer(mse_net, gan_net, cpics[:4], choles[:4], t=1.0)
    display(slider)
    print(f"mean change in the holes at t = 1: {slider_state['change']:.1f}/255 per channel")

# %% [markdown]
# ## Exercises
# **1.** Check `sharpness` (`metrics.hole_sharpness`): a blurred copy of the real images must
# score below 1 and the real images themselves exactly 1.

# %%
import cv2

from inpaintkit.exercises import check

blurred = None                       # your answer: a blurred copy of `ev` (e.g. cv2.GaussianBlur, 5×5, σ 1.5)
### BEGIN SOLUTION
blurred = np.stack([cv2.GaussianBlur(im, (5, 5), 1.5) for im in ev])
### END SOLUTION
check("one blurred image per image of ev", blurred, lambda b: np.shape(b) == ev.shape)
check("blurred: hole sharpness below 0.8", blurred, lambda b: sharpness(b, ev, ev_masks) < 0.8,
      "blur more (a larger σ)")
if blurred is not None:
    print("sharpness: real", round(sharpness(ev, ev, ev_masks), 3), "| blurred", round(sharpness(blurred, ev, ev_masks), 3))

# %% [markdown]
# **2.** How large was the adversarial term compared with the MSE during the live run? Compute
# the mean of α·GAN / MSE over the history. Then re-run section 2 with `ALPHA = 0.004` (10×) and
# compare PSNR and sharpness: which way does each move?

# %%
ratio = None                         # your answer: the mean over `history` of α·GAN / MSE
### BEGIN SOLUTION
ratio = float(np.mean([ALPHA * h["gan"] / h["mse"] for h in history]))
### END SOLUTION
# the logged total is MSE + α·GAN, so (total - MSE) / MSE must give the same number
check("matches the logged total", ratio,
      lambda r: np.isclose(r, np.mean([(h["loss"] - h["mse"]) / h["mse"] for h in history]), rtol=1e-3),
      "each history entry has 'gan' and 'mse'; multiply GAN by ALPHA")
if ratio is not None:
    print(f"α·GAN is on average {ratio:.2f} x the MSE")

# %% [markdown]
# **3.** The interpolation curve's end points are the two shipped networks themselves. Check it:
# fill `cpics`' holes `choles` with `inference.inpaint` (post-processed, its default) using `mse_net`
# and then `gan_net`, and compare their hole PSNR with `live[0.0]` and `live[1.0]` from section 7.

# %%
if weights.available("glcic_photos_phase1") and weights.available("glcic_photos"):
    ends = None                      # your answer: {0.0: hole PSNR with mse_net, 1.0: hole PSNR with gan_net}
    ### BEGIN SOLUTION
    ends = {t: metrics.hole_psnr(inference.inpaint(cpics * (1 - choles), choles, model=net), cpics, choles)
            for t, net in ((0.0, mse_net), (1.0, gan_net))}
    ### END SOLUTION
    check("the curve's end points are the two networks", ends,
          lambda e: all(abs(e[t] - live[t]["hole_psnr"]) < 0.05 for t in (0.0, 1.0)))
    if ends is not None:
        print({t: round(v, 2) for t, v in ends.items()}, {t: round(live[t]["hole_psnr"], 2) for t in ends})

# %% [markdown]
# **4.** Average the generator. A GAN's weights wander from step to step, and a common remedy
# (Yazıcı et al. 2019; ProGAN and StyleGAN ship it) is to keep an exponential moving average of
# them, $\bar\theta \leftarrow \beta\,\bar\theta + (1-\beta)\,\theta$ after every step, and ship
# $\bar\theta$. It is not in the GLCIC paper. First write the update yourself: `ema(thetas, beta)`
# returns $\bar\theta$ after the steps `thetas` (numbers or arrays), starting from
# $\bar\theta = $ `thetas[0]`.

# %%
def ema(thetas, beta):
    avg = None                       # your code: the running average after the last of `thetas`
    ### BEGIN SOLUTION
    avg = thetas[0]
    for theta in thetas[1:]:
        avg = beta * avg + (1 - beta) * theta
    ### END SOLUTION
    return avg


check("two steps: 0 then 1 at β = 0.9 give 0.1", ema([0.0, 1.0], 0.9), lambda a: np.isclose(a, 0.1))
check("0, 2, 2 at β = 0.5 give 1.5", ema([0.0, 2.0, 2.0], 0.5), lambda a: np.isclose(a, 1.5))
check("a constant stays put", ema([np.full(3, 0.7)] * 5, 0.95), lambda a: np.allclose(a, 0.7))

# %% [markdown]
# The live trainer of section 2 kept such an average (`ema=0.95`). The cell below keeps a copy of the
# last iterate with `cm.clone(C)`, calls `joint.use_average()` (C then holds $\bar\theta$), and
# compares both on section 3's holes: hole PSNR and sharpness.
# On the 128² photos the average beat its own run's last iterate (+0.15 / +0.05 dB, boxes / strokes,
# val) but not the shipped joint network: see *Weight averaging* in `docs/benchmarks.md`.

# %%
C_last = cm.clone(C)
assert joint.use_average()
fills = {name: inference.inpaint(ev, ev_masks, model=net, postprocess=False)
         for name, net in (("last iterate", C_last), ("moving average", C))}
print(metrics.table(metrics.compare(fills, ev, ev_masks), metrics=("hole_psnr", "ssim", "sharpness")))
