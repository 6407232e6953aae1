# %% [markdown]
# # 02 · GLCIC: the completion network and the context discriminators
#
# **What you will learn**
# - the architecture of Iizuka, Simo-Serra & Ishikawa, *Globally and Locally Consistent Image
#   Completion* (SIGGRAPH 2017): a fully convolutional **completion network** C with dilated
#   convolutions, and two **context discriminators** (global: the whole image; local: a patch
#   around the hole);
# - how many parameters and multiply-adds they cost, and how a width multiplier scales them;
# - why dilation: the receptive field of one output pixel, measured with a gradient;
# - what an untrained and a trained C do to a masked image.
#
# **Time**: about 30 s on a 2-core CPU (no training here).

# %%
from inpaintkit import presets
P = presets.active(); print(P.summary())

# %%
import matplotlib.pyplot as plt
import numpy as np

from inpaintkit import backend, weights
from inpaintkit.data import toycars
from inpaintkit.glcic import completion as cm, discriminators as dm, inference, phases
from inpaintkit.plotting import show_images

plt.rcParams["figure.dpi"] = 100
backend.seed(0)

# %% [markdown]
# ## 1. The completion network
# The paper's table: every layer is convolution + BatchNorm + ReLU, except the last (sigmoid).
# Two stride-2 convolutions take the image to 1/4 of its size, four **dilated** convolutions
# (dilation 2, 4, 8, 16) look far without shrinking it further, and two 4×4 transposed
# convolutions ("stride ½") bring it back. Input: RGB with the hole filled by the mean pixel, plus
# the mask (4 channels).

# %%
# NBVAL_CHECK_OUTPUT
print(f"{'#':>2} {'layer':<8} {'kernel':>6} {'dilation':>8} {'stride':>6} {'channels':>8}")
for i, (kind, k, d, s, c) in enumerate(cm.LAYERS, 1):
    print(f"{i:>2} {kind:<8} {k:>6} {d:>8} {'1/2' if kind == 'deconv' else s:>6} {c:>8}")

# %% [markdown]
# Built at the paper's size (256², width 1): one line per layer with weights, its BatchNorm counted
# with it (Keras's `C256.summary()` lists every layer, ReLUs and BatchNorms separately, if you
# want every detail):

# %%
# NBVAL_CHECK_OUTPUT
C256 = cm.completion_network(256, width=1.0)
bn = {l.name[2:]: l.count_params() for l in C256.layers if l.name.startswith("bn")}
print(f"{'layer':<10} {'output':>16} {'weights':>10}")
for l in C256.layers:
    if l.count_params() and not l.name.startswith("bn"):
        n = l.count_params() + bn.get("".join(ch for ch in l.name if ch.isdigit()), 0)
        print(f"{l.name:<10} {str(tuple(l.output.shape[1:])):>16} {n:>10,}")

# %% [markdown]
# The paper reports 6.07 M parameters. Counting ours:

# %%
# NBVAL_CHECK_OUTPUT
trainable = sum(int(np.prod(w.shape)) for w in C256.trainable_weights)
conv = sum(int(np.prod(w.shape)) for l in C256.layers if "bn" not in l.name for w in l.trainable_weights)
print(f"trainable parameters {trainable:,} ({trainable / 1e6:.2f} M): convolutions {conv:,}, "
      f"BatchNorm scale/offset {trainable - conv:,}")
print(f"all weights incl. BatchNorm moving statistics {C256.count_params():,}")
print(f"multiply-adds per 256x256 image: {cm.conv_macs(C256, 256) / 1e9:.1f} G "
      f"(≈ {2 * cm.conv_macs(C256, 256) / 1e9:.0f} GFLOP forward)")

# %% [markdown]
# A CPU cannot train that in class. The kit's presets shrink the image and multiply every layer's
# channels by a **width**; parameters scale with width², multiply-adds with width² × pixels:

# %%
# NBVAL_CHECK_OUTPUT
for w in (1.0, 0.5, 0.25):
    net = cm.completion_network(64, w)
    print(f"width {w:<4}: {net.count_params():>9,} weights, {cm.conv_macs(net, 64) / 1e6:>6.0f} M multiply-adds at 64x64")

# %% [markdown]
# It is **fully convolutional**: built with `size=None` the same weights run on any image whose
# sides are multiples of 4 (`inference.inpaint` pads other sizes).

# %%
# NBVAL_CHECK_OUTPUT
net = cm.completion_network(None, 0.25)
for h, w in [(32, 32), (64, 96), (100, 60)]:
    print((h, w), "->", tuple(net(np.zeros((1, h, w, 4), "float32")).shape))

# %% [markdown]
# ## 2. The context discriminators
# Both are 5×5 stride-2 convolutions (+ BatchNorm + ReLU) followed by a 1024-unit fully connected
# layer. The **global** one sees the whole image (six convolutions at 256²), the **local** one a
# patch centred on the hole, half the side (five convolutions at 128²): both end on a 4×4 map.
# Their 1024 + 1024 features are concatenated and a last layer gives one number. The kit returns
# it as a *logit* and uses binary cross-entropy `from_logits` (sigmoid + log in one stable step);
# `sigmoid(logit)` is the paper's $D(x, M) \in [0, 1]$, the probability that the image is real.
# At other sizes the number of convolutions follows the side, so the last map stays 4×4.

# %%
# NBVAL_CHECK_OUTPUT
D256 = dm.discriminator(256, 1.0)
for size in (256, 128, 64, 32):
    print(f"image {size:>3}²: global {dm.count_stride2_convs(dm.global_discriminator(size))} convs, "
          f"local ({size // 2}²) {dm.count_stride2_convs(dm.local_discriminator(size // 2))} convs")
print(f"paper-size discriminator: {D256.count_params():,} weights, "
      f"{dm.macs(D256, 256) / 1e9:.2f} G multiply-adds per image")

# %%
D = dm.discriminator(P.glcic_size, P.glcic_disc_width)
D.summary(line_length=90, expand_nested=False)

# %% [markdown]
# ## 3. Why dilation: the receptive field
# Which input pixels can change one output pixel? Exactly those where the gradient of that output
# with respect to the input is non-zero. `cm.receptive_field` computes it without any
# backend-specific code: one SGD step of learning rate 1 on the input moves each input pixel by
# minus its gradient. With dilation the centre pixel sees ≈ 300 pixels across (the paper: 307);
# with ordinary 3×3 convolutions in the same places, ≈ 90 (the paper: 99) — the difference is how
# the transposed convolutions are counted. At 256², only the dilated C can use the whole image to
# fill a 128-pixel hole.

# %%
fields = {}
for dil in (True, False):
    net = cm.completion_network(None, 0.125, dilation=dil)
    fields[dil] = cm.receptive_field(net, 384)
    print(f"dilation {'on ' if dil else 'off'}: receptive field {cm.extent(fields[dil])} px")
fig, axes = plt.subplots(1, 2, figsize=(6, 3))
for ax, dil in zip(axes, (True, False)):
    ax.imshow(np.log10(fields[dil] + 1e-12), cmap="magma", vmin=-8)
    ax.set_title(f"dilation {'on' if dil else 'off'}: {cm.extent(fields[dil])} px", fontsize=10); ax.axis("off")
plt.show()

# %% [markdown]
# ## 4. A forward pass on masked images
# An untrained C gives a flat colour; the composite keeps the known pixels. The shipped toy-car C
# (trained by `scripts/train_glcic.py`, see notebooks 03–05) fills each hole with the colours around
# it: sky and cloud above the cars, road and grass below; where the hole covers part of a car it gives
# a dark blur, not a sharp car. What the training phases change is the subject of notebooks 03–05.

# %%
S = P.glcic_size
cars, _ = toycars.generate(4, S, seed=7)
masks, _ = phases.sample_holes(4, S, rng=1)
x = cm.prepare_input(cars, masks)
print("input", tuple(x.shape), "-> output", tuple(cm.completion_network(S, P.glcic_width)(x).shape))
rows = [cars * (1 - masks) + 0.5 * masks,
        inference.inpaint(cars, masks, model=cm.completion_network(None, P.glcic_width), postprocess=False)]
titles = ["masked"] + [""] * 3 + ["untrained C"] + [""] * 3
if weights.available("glcic_toycars"):
    rows.append(inference.inpaint(cars, masks, model=inference.load_shipped("glcic_toycars"), postprocess=False))
    titles += ["shipped C"] + [""] * 3
show_images(np.concatenate(rows), titles=titles, ncols=4, size=1.4);

# %% [markdown]
# ## 5. Try it: receptive field of any output pixel
# Pick an output pixel and switch dilation on or off. Near the border, part of the field falls
# outside the image.

# %%
from ipywidgets import interact

nets = {True: cm.completion_network(None, 0.0625, dilation=True),
        False: cm.completion_network(None, 0.0625, dilation=False)}


def show_field(dilation=True, shift=0):
    net = nets[dilation]
    size = 256
    big = cm.receptive_field(net, size + 2 * abs(shift))       # centre pixel of a larger image
    c = big.shape[0] // 2
    f = big[c - size // 2 - shift:c + size // 2 - shift, c - size // 2:c + size // 2]
    plt.figure(figsize=(2.6, 2.6)); plt.imshow(np.log10(f + 1e-12), cmap="magma", vmin=-8); plt.axis("off")
    plt.title(f"{cm.extent(f)} px visible", fontsize=10); plt.show()


interact(show_field, dilation=True, shift=(-96, 96, 16));

# %% [markdown]
# ## Exercises
# **1.** Compute the receptive field of C *on paper*: start with `rf = 1, jump = 1`; a convolution
# of kernel k, dilation d and stride s does `rf += (k - 1) * d * jump; jump *= s`. A 4×4 transposed
# convolution with stride ½ makes each output pixel depend on 2 input pixels, so it first adds
# `(2 - 1) * jump` and then halves the jump. Check your loop against the measurement (`cm.extent` counts the
# pixels whose gradient is above 10⁻⁶ of the largest, so it may come out a pixel short on each side).

# %%
from inpaintkit.exercises import check


def analytic_rf(dilation=True):
    rf = None                        # your code: walk cm.LAYERS, rows (kind, kernel, dilation, stride, channels)
    ### BEGIN SOLUTION
    rf, jump = 1, 1
    for kind, k, d, s, c in cm.LAYERS:
        d = d if dilation else 1
        if kind == "deconv":
            rf += jump
            jump //= s
        else:
            rf += (k - 1) * d * jump
            jump *= s
    ### END SOLUTION
    return rf


rf_dilated, rf_plain = analytic_rf(True), analytic_rf(False)
print("on paper:", rf_dilated, rf_plain, "| measured:", cm.extent(fields[True]), cm.extent(fields[False]))
check("with dilation: the measurement, or up to 4 px more", rf_dilated,
      lambda r: 0 <= r - cm.extent(fields[True]) <= 4)
check("without dilation: the measurement, or up to 4 px more", rf_plain,
      lambda r: 0 <= r - cm.extent(fields[False]) <= 4)

# %% [markdown]
# **2.** How many multiply-adds does the local discriminator cost compared with the global one at
# 256²? (hint: `cm.conv_macs(dm.local_discriminator(128), 128)`). Why is the local one cheap?

# %%
g = cm.conv_macs(dm.global_discriminator(256), 256)
ratio = None                         # your answer: global MACs / local MACs
### BEGIN SOLUTION
l = cm.conv_macs(dm.local_discriminator(128), 128)
ratio = g / l
print(f"global {g / 1e9:.2f} G, local {l / 1e9:.2f} G, ratio {ratio:.1f}")
### END SOLUTION
check("the ratio of multiply-adds", ratio,
      lambda r: np.isclose(r, g / cm.conv_macs(dm.local_discriminator(128), 128), rtol=0.01))
