# %% [markdown]
# # 01 · Masks, metrics and classical inpainting
#
# **What you will learn**
# - the hole masks used to train and test inpainting networks (centre block, halves, GLCIC's random
#   boxes, free-form strokes, 80 % random pixels) and the *local patch* GLCIC's second discriminator sees;
# - how inpainting is scored: L1 and PSNR over the hole and over the whole image, SSIM;
# - three classical methods — Telea's fast marching, Navier–Stokes and biharmonic — and the idea
#   behind each (you will write a Laplace solver in 6 lines);
# - where they fail: large holes over *structure* (a wheel, a lattice), the reason for the deep
#   methods of the next notebooks;
# - Poisson blending, the post-processing step of both GLCIC and Yeh et al.
#
# **Time**: about 15 s on a 2-core CPU (`class` preset); no GPU needed (nothing here is a network).
#
# Conventions for the whole kit: images are `float32` in [0, 1], shape `(H, W, 3)`; masks are
# `float32` with **1 = hole**, shape `(H, W, 1)`.

# %%
from inpaintkit import presets
P = presets.active(); print(P.summary())

# %%
import time

import matplotlib.pyplot as plt
import numpy as np
from IPython.display import Markdown, display

from inpaintkit import baselines, blending, masks, metrics, widgets
from inpaintkit.data import photos, toycars
from inpaintkit.plotting import show_images

plt.rcParams["figure.dpi"] = 100
S = P.glcic_size                      # image side on this preset (quick 32, class 64, paper 256)
cars, labels = toycars.generate(8, size=S, seed=1)
patches = photos.patches(8, size=S, seed=0, split="test")
print("toy cars", cars.shape, "photo patches", patches.shape)

# %% [markdown]
# ## 1. Masks
# Each generator has explicit parameters and returns one `(H, W, 1)` mask; random ones take a seed
# or a `numpy.random.Generator`, so the same seed always gives the same hole.
#
# | mask | used by | parameters |
# |---|---|---|
# | `center_box(size, frac=0.5)` | Yeh et al. (25 % of the image) | side fraction |
# | `half(size, side)` | Yeh et al. | left / right / top / bottom |
# | `random_boxes(size, rng, n, side_range=(3/8, 1/2))` | GLCIC: one box, sides in [96, 128] px of 256 | count, side range |
# | `strokes(size, rng, n, width, length, vertices)` | DeepFill v2, LaMa (free-form) | brush width, segment length, turns |
# | `random_pixels(size, rng, frac=0.8)` | Yeh et al. (80 % missing) | fraction |

# %%
rng = np.random.default_rng(0)
gallery = {
    "center_box": masks.center_box(S),
    "half left": masks.half(S, "left"),
    "half top": masks.half(S, "top"),
    "random_boxes": masks.random_boxes(S, rng),
    "3 small boxes": masks.random_boxes(S, rng, n=3, side_range=(0.15, 0.3)),
    "strokes": masks.strokes(S, rng),
    "random_pixels": masks.random_pixels(S, rng, frac=0.8),
}
show_images([cars[0]] * len(gallery), [f"{k}\n{100 * masks.hole_fraction(m):.0f}% hole" for k, m in gallery.items()],
            masks=list(gallery.values()), size=1.5);

# %% [markdown]
# Browse them (an `ipywidgets` `interact`: it runs once now, then again whenever you move a control):

# %%
from ipywidgets import interact

@interact(kind=list(masks.KINDS), seed=(0, 20))
def browse(kind="strokes", seed=0):
    mk = masks.batch(kind, 1, S, seed)[0]
    show_images([cars[0]], [f"{kind}, seed {seed}: {100 * masks.hole_fraction(mk):.0f}% hole"], masks=[mk], size=2.5)

# %% [markdown]
# `masks.batch(kind, n, size, seed)` draws a whole batch. Hole fractions over 200 masks of 64²
# (a deterministic check: the same numbers on every machine):

# %%
# NBVAL_CHECK_OUTPUT
for kind in masks.KINDS:
    f = masks.batch(kind, 200, 64, seed=0).reshape(200, -1).mean(1)
    print(f"{kind:<14} hole fraction: mean {f.mean():.3f}  min {f.min():.3f}  max {f.max():.3f}")

# %% [markdown]
# ### GLCIC's local patch
# GLCIC's *local* discriminator judges a window centred on the hole, half the image side
# (128² in 256² images), shifted to stay inside the image. `local_box` finds its corner,
# `crop` cuts it out of a batch (with NumPy, or `keras.ops` inside a training step).

# %%
# NBVAL_CHECK_OUTPUT
m = masks.box(64, top=40, left=44, height=24, width=20)   # hole centre (52, 54): window pushed inside
print("local_box:", masks.local_box(m, 32), "| a centred hole:", masks.local_box(masks.center_box(64), 32))

# %%
m = masks.random_boxes(S, 3)
top, left = masks.local_box(m, S // 2)
local = masks.crop(cars[:1], [(top, left)], S // 2)[0]
fig, ax = plt.subplots(1, 2, figsize=(5, 2.6))
ax[0].imshow(cars[0] * (1 - m) + 0.5 * m)
ax[0].add_patch(plt.Rectangle((left - 0.5, top - 0.5), S // 2, S // 2, fill=False, color="red", lw=2))
ax[1].imshow(local)
for a, t in zip(ax, ["hole + local window", "what D_local sees"]):
    a.set_title(t, fontsize=10); a.axis("off")
plt.show()

# %% [markdown]
# ## 2. Metrics
# With $\Omega$ the hole (mask $m_i = 1$), $\hat x$ the result and $x$ the original, both in [0, 1]:
#
# $$\mathrm{L1}_{\text{hole}} = \frac{1}{3|\Omega|}\sum_{i\in\Omega}\sum_{c}|\hat x_{ic}-x_{ic}|,\qquad
# \mathrm{MSE}_{\text{hole}} = \frac{1}{3|\Omega|}\sum_{i\in\Omega}\lVert \hat x_i-x_i\rVert^2,\qquad
# \mathrm{PSNR}_{\text{hole}} = 10\log_{10}\frac{1}{\mathrm{MSE}_{\text{hole}}}\ \text{dB}.$$
#
# The whole-image L1 and PSNR average over all pixels instead: pixels outside the hole are exact, so
# they *dilute* the error — always say which one you report. SSIM (scikit-image,
# `structural_similarity`, 7×7 uniform window, `data_range=1`) compares local means, variances and
# covariance: $\mathrm{SSIM}(x,y)=\frac{(2\mu_x\mu_y+C_1)(2\sigma_{xy}+C_2)}{(\mu_x^2+\mu_y^2+C_1)(\sigma_x^2+\sigma_y^2+C_2)}$, averaged over windows and channels.
#
# A hand-checkable case: a constant error of 0.1 in a 4-pixel hole of an 8×8 image.

# %%
# NBVAL_CHECK_OUTPUT
target = np.full((8, 8, 3), 0.5, np.float32)
hole = masks.box(8, 2, 2, 2, 2)                                # 4 hole pixels
pred = target + 0.1 * hole                                     # error 0.1 inside the hole
mse_hole = ((pred - target) ** 2 * hole).sum() / (3 * hole.sum())   # the equation above
print(f"by hand {10 * np.log10(1 / mse_hole):.2f} dB | metrics.hole_psnr {metrics.hole_psnr(pred, target, hole):.2f} dB")
print(f"whole-image PSNR {metrics.psnr(pred, target):.2f} dB: the same error diluted by 60 exact pixels")

# %% [markdown]
# ## 3. Classical inpainting
# **Telea (2004), fast marching.** Fill the hole from its boundary inwards, in order of the distance
# $T$ to the boundary ($|\nabla T| = 1$, solved by fast marching). Each new pixel is a weighted
# first-order extrapolation of the known pixels $q$ within a radius $\varepsilon$:
# $I(p)=\frac{\sum_{q\in B_\varepsilon(p)} w(p,q)\,[I(q)+\nabla I(q)\cdot(p-q)]}{\sum_{q} w(p,q)}$,
# with $w$ favouring close pixels along the boundary normal.
#
# **Navier–Stokes (Bertalmio et al. 2001).** Treat the image intensity as a stream function: the
# smoothness $\omega=\Delta I$ is transported along the isophotes (lines of equal intensity),
# $\partial_t\omega+\nabla^\perp I\cdot\nabla\omega=\nu\,\Delta\omega$, so edges that hit the hole are continued into it.
#
# **Harmonic and biharmonic.** The smoothest surface that fits the boundary:
# Laplace $\nabla^2 u=0$ (a soap film, $u$ = the average of its neighbours) or the biharmonic
# $\nabla^4 u=0$ (a thin plate, which also continues the *slopes*), with $u=x$ on the hole's boundary.
# Laplace takes six lines — Jacobi iteration, each hole pixel becomes the mean of its 4 neighbours
# (simple but slow: it needs about (hole side)² sweeps, fine up to 64², not converged at 256²):

# %%
def neighbours(u):                     # sum of the 4 neighbours (edge pixels repeated at the border)
    p = np.pad(u, ((1, 1), (1, 1), (0, 0)), mode="edge")
    return p[:-2, 1:-1] + p[2:, 1:-1] + p[1:-1, :-2] + p[1:-1, 2:]

def harmonic(image, mask, iters=2000):  # ∇²u = 0 in the hole, u = image outside
    u = np.where(mask > 0, image[mask[..., 0] == 0].mean(0), image)
    for _ in range(iters):
        u = np.where(mask > 0, neighbours(u) / 4, image)
    return u

car, m = cars[2], masks.center_box(S)
fills = {"harmonic (ours)": harmonic(car, m), "biharmonic": baselines.biharmonic(car, m),
         "telea": baselines.telea(car, m), "ns": baselines.navier_stokes(car, m)}
show_images([car * (1 - m) + 0.5 * m] + list(fills.values()),
            ["input"] + [f"{k}\n{metrics.hole_psnr(f, car, m):.1f} dB" for k, f in fills.items()], size=1.6);

# %% [markdown]
# ### Baselines on fixed masks
# The same masks for every method (seeded), over 8 toy cars and 8 photo patches (test split).
# *mean* paints the hole with the mean known colour: the floor any method must beat.

# %%
METHODS = {"mean": baselines.mean_fill, "telea": baselines.telea, "ns": baselines.navier_stokes,
           "biharmonic": baselines.biharmonic}
MASKS = {"center_box": masks.batch("center_box", 8, S, seed=0),
         "random_boxes": masks.batch("random_boxes", 8, S, seed=1),
         "strokes": masks.batch("strokes", 8, S, seed=2),
         "random_pixels": masks.batch("random_pixels", 8, S, seed=3)}
results, seconds = {}, {}
for data_name, images in [("toy cars", cars), ("photos", patches)]:
    for name, fn in METHODS.items():
        t0 = time.perf_counter()
        results[(data_name, name)] = {kind: metrics.evaluate(fn(images, mk), images, mk) for kind, mk in MASKS.items()}
        seconds[name] = seconds.get(name, 0) + time.perf_counter() - t0
for data_name in ("toy cars", "photos"):
    display(Markdown(f"**{data_name}, {S}²**, hole PSNR (dB) / SSIM\n\n" + metrics.pivot(
        {n: results[(data_name, n)] for n in METHODS}, "hole_psnr") + "\n\n" + metrics.pivot(
        {n: results[(data_name, n)] for n in METHODS}, "ssim", digits=3)))
print("ms per image:", {k: round(1000 * v / (2 * 8 * len(MASKS)), 1) for k, v in seconds.items()})

# %% [markdown]
# All metrics for one mask type, with `metrics.table`:

# %%
display(Markdown(metrics.table({n: results[("photos", n)]["center_box"] for n in METHODS})))

# %% [markdown]
# ## 4. Try it: mask type, size, position
# `widgets.baseline_explorer` is a small `ipywidgets.interactive` panel (see `inpaintkit/widgets.py`);
# its sliders set the hole, Telea / Navier–Stokes / biharmonic fill it live and the title shows the
# hole PSNR. Move the sliders: on photos, thin strokes and an 80 % random-pixel mask are filled well
# (29.7–34.9 dB in §3's hole-PSNR table), because most hole pixels are close to a known one; on toy cars
# the same holes cut through sharp edges and score about 20 dB. A big box over the car is filled only
# with a blur.

# %%
explorer, state = widgets.baseline_explorer(cars[2], method="telea", kind="box", size=0.35)
display(explorer)

# %% [markdown]
# ## 5. Where classical methods fail
# They only *propagate* what is at the hole's boundary — colours, edges, smoothness. They cannot
# invent structure that is not there: cover the rear wheel of the van and every method paints road
# and body colour; cover a steel lattice and they blur it. Knowing that "vans have wheels" needs a
# model of the data — a network trained on many images (GLCIC) or a generative model (Yeh et al.).

# %%
van, lattice = cars[2], patches[4]
wheel = masks.box(S, round(0.64 * S), round(0.06 * S), round(0.32 * S), round(0.32 * S))
cases = {"van": (van, wheel), "lattice": (lattice, masks.center_box(S, frac=0.6))}
images, titles, outs = [], [], {}
for name, (img, mk) in cases.items():
    outs[name] = {k: f(img, mk) for k, f in METHODS.items() if k != "mean"}
    images += [img, img * (1 - mk) + 0.5 * mk] + list(outs[name].values())
    titles += [name, "hole"] + [f"{k}\n{metrics.hole_psnr(o, img, mk):.1f} dB" for k, o in outs[name].items()]
show_images(images, titles, ncols=5, size=1.6);
tyre = lambda im: int(((im.max(-1) < 0.15) & (wheel[..., 0] > 0)).sum())   # near-black pixels in the hole
print("dark tyre pixels in the hole: original", tyre(van), {k: tyre(o) for k, o in outs["van"].items()})

# %% [markdown]
# ## 6. Poisson blending
# A network often gets the *structure* right and the *colour* slightly off, which shows as a seam
# when its output is pasted into the hole. Poisson blending (Pérez et al. 2003) keeps the fill's
# gradients and takes the boundary values from the image:
#
# $$\min_u \sum_{i\in\Omega}\lVert\nabla u_i-\nabla f_i\rVert^2
# \iff \Delta u = \Delta f\ \text{in}\ \Omega,\quad u = x\ \text{on}\ \partial\Omega .$$
#
# A constant colour offset has zero gradient, so it disappears entirely. GLCIC post-processes its
# output this way (after a Telea pre-fill: `blending.glcic_postprocess`), Yeh et al. blend
# $G(\hat z)$ into the image the same way. `blending.poisson_blend` uses OpenCV's `seamlessClone`.

# %%
fill = 0.7 * van + 0.25                 # right structure, wrong contrast and brightness
m = masks.center_box(S)
blends = {"pasted": blending.composite(fill, van, m), "poisson_blend": blending.poisson_blend(fill, van, m),
          "glcic_postprocess": blending.glcic_postprocess(fill, van, m)}
show_images([van] + list(blends.values()),
            ["original"] + [f"{k}\n{metrics.hole_psnr(b, van, m):.1f} dB" for k, b in blends.items()], size=1.8);

# %% [markdown]
# ## Exercises
# Each leaves its answer at `None` for you to replace (the student copy, `notebooks/student/`, says
# `# YOUR CODE HERE` there); its self-check prints *not yet* until you do, then ✔ or ✘. This copy
# shows the reference solutions between `### BEGIN SOLUTION` and `### END SOLUTION`.

# %%
from inpaintkit.exercises import check

# %% [markdown]
# **Exercise 1 — a mask of your own.** Make `my_mask`, an `(S, S, 1)` mask whose bottom third is
# missing (hint: `masks.box`).

# %%
my_mask = None                       # your answer: an (S, S, 1) mask, 1 = hole
### BEGIN SOLUTION
my_mask = masks.box(S, S - S // 3, 0, S // 3, S)
### END SOLUTION
check("shape (S, S, 1)", my_mask, lambda m: m.shape == (S, S, 1))
check("about a third of the image", my_mask, lambda m: abs(masks.hole_fraction(m) - 1 / 3) < 0.04)
check("bottom row missing, top row kept", my_mask, lambda m: m[-1].all() and not m[0].any())

# %% [markdown]
# **Exercise 2 — hole L1 by hand.** Write `my_hole_l1(pred, target, mask)` from the equation in §2
# and compare it with `metrics.hole_l1` on a Telea result.

# %%
def my_hole_l1(pred, target, mask):
    answer = None                    # your code: the mean absolute error over the hole's pixels
    ### BEGIN SOLUTION
    answer = np.abs(pred - target)[mask[..., 0] > 0].mean()
    ### END SOLUTION
    return answer

out = baselines.telea(van, wheel)
check("matches metrics.hole_l1", my_hole_l1(out, van, wheel),
      lambda v: np.isclose(v, metrics.hole_l1(out, van, wheel)), "average over the hole's pixels only")

# %% [markdown]
# **Exercise 3 — Poisson blending by hand.** Turn `harmonic` into a Poisson solver: in the hole
# solve $\Delta u = \Delta f$ instead of $\Delta u = 0$. With the discrete Laplacian
# $\Delta f_p = \sum_{q\in N(p)} f_q - 4 f_p$, the Jacobi update becomes
# $u_p \leftarrow \big(\sum_{q\in N(p)} u_q - \Delta f_p\big)/4$. Compare with `blending.poisson_blend`.

# %%
def my_poisson(fill, image, mask, iters=2000):
    u = None                         # your code: start from fill in the hole, then `iters` Jacobi updates
    ### BEGIN SOLUTION
    lap_f = neighbours(fill) - 4 * fill
    u = np.where(mask > 0, fill, image)
    for _ in range(iters):
        u = np.where(mask > 0, (neighbours(u) - lap_f) / 4, image)
    ### END SOLUTION
    return u

# at 64² whatever the preset: Jacobi needs about (hole side)² iterations to converge
x64, m64 = toycars.generate(3, size=64, seed=1)[0][2], masks.center_box(64)
f64 = 0.7 * x64 + 0.25
mine = my_poisson(f64, x64, m64)
hole64 = m64[..., 0] > 0
check("within 0.03 of OpenCV's seamlessClone (mean gap over the hole)", mine,
      lambda u: np.abs(u - blending.poisson_blend(f64, x64, m64))[hole64].mean() < 0.03)
check("removes most of the colour error of the pasted fill", mine,
      lambda u: metrics.hole_l1(u, x64, m64) < 0.5 * metrics.hole_l1(blending.composite(f64, x64, m64), x64, m64))

# %% [markdown]
# **Going further.** With the widget, find the largest centred box for which Telea still gets
# above 25 dB on the van; then try the same size over the wheel. Which matters more, size or content?
#
# **Summary.** Classical methods are fast (milliseconds), need no training and are excellent for thin
# or scattered holes — but they only continue what surrounds the hole. The next notebooks train
# networks that learn what cars and textures look like: GLCIC (02–05) and a DCGAN prior searched
# by Yeh et al.'s method (06–07), then guided by a classifier (08–09).
