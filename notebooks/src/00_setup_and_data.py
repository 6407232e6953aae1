# %% [markdown]
# # 00 · Setup and data
#
# **What you will learn**
# - how to check that your machine can run the kit, and what the three *presets* change;
# - the kit's one convention for pixel values, $[0, 1]$ floats, and where conversions happen;
# - the **toy cars**: a procedural, labelled data set that stands in for Stanford Cars in class,
#   and why its structure (wheels, cargo beds, bus windows) matters for inpainting;
# - **photo patches** from the real photos that ship with scikit-image, with disjoint splits;
# - how to load **Stanford Cars** (if you download it) or **any folder** of your own images;
# - splits and batches: the numpy arrays every later notebook trains on.
#
# **Time**: about 1 minute on a 2-core CPU (`class` preset). Nothing is downloaded.

# %%
from inpaintkit import presets
P = presets.active(); print(P.summary())

# %%
import os
import tempfile
import time
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from inpaintkit import InpaintkitError, data
from inpaintkit.data import photos, pipeline, stanford_cars, toycars
from inpaintkit.plotting import show_images

plt.rcParams["figure.dpi"] = 100

# %% [markdown]
# ## 1. Is this machine ready?
# `python -m inpaintkit check` prints the versions, the Keras backend, whether a GPU is visible and
# the active preset; it exits with status 0 when the kit is usable. We run it as you would in a
# terminal (its standard error, TensorFlow's start-up log, is left out):

# %%
import subprocess
import sys
check_run = subprocess.run([sys.executable, "-m", "inpaintkit", "check"], capture_output=True, text=True)
print(check_run.stdout)
assert check_run.returncode == 0, "fix the MISSING packages above (see README) before going on"

# %% [markdown]
# ## 2. Presets: one notebook, three budgets
# Every size, width and number of steps in the notebooks comes from the active preset, chosen by the
# environment variable `INPAINTKIT_PRESET` (default `class`). `quick` is for CI (seconds), `class` for
# a 2-core laptop (minutes per notebook), `paper` for a GPU with the papers' image sizes and schedules.
# Run a notebook on another preset with `python -m inpaintkit run notebooks/00_setup_and_data.ipynb --preset quick`,
# or set the variable before starting Jupyter.

# %%
import dataclasses
fields = [f.name for f in dataclasses.fields(presets.Preset) if f.name != "name"]
print(f"{'':18}" + "".join(f"{name:>10}" for name in presets.PRESETS))
for f in fields:
    print(f"{f:18}" + "".join(f"{getattr(p, f):>10}" for p in presets.PRESETS.values()))

# %% [markdown]
# ## 3. One value range: $[0, 1]$
# Images are `float32` arrays in $[0, 1]$, channels last: `(H, W, 3)` for one image, `(N, H, W, 3)` for
# a batch. Masks are `float32` with **1 = hole**. Files hold 8-bit integers $u \in \{0, \dots, 255\}$, so
# the only conversions happen where images enter or leave the kit:
#
# $$x = \frac{u}{255}, \qquad u = \operatorname{round}\big(255 \cdot \operatorname{clip}(x, 0, 1)\big).$$
#
# A network that prefers another range (DCGAN's $\tanh$ output in $[-1, 1]$, a classifier's
# normalisation) converts *inside* the model, so no caller can feed it the wrong range. (The classifier of
# [*sem_inpainting*](https://github.com/amarisch/sem_inpainting), the ETH Zürich student project notebooks 06–09 follow, was trained on mean-subtracted $[0, 255]$ pixels but fed $[-1, 1]$ ones: a silent bug.)

# %%
# NBVAL_CHECK_OUTPUT
u = np.array([0, 1, 127, 128, 254, 255], np.uint8)
x = data.to_float(u)                      # x = u / 255
print(x.dtype, np.round(x, 4))
print(data.to_uint8(x), "round trip exact:", np.array_equal(data.to_uint8(x), u))

# %% [markdown]
# ## 4. Toy cars
# Stanford Cars (*sem_inpainting*'s data) is 2 GB of photos you have to download by hand. In class
# we use **toy cars** instead: side views of seven vehicle classes, drawn by the kit in milliseconds,
# with a random body colour, size, position, direction, wheels, windows, lights and background (sky,
# sun, clouds, hills, trees, grass or sand or snow, a road).
#
# Why not random shapes? Because inpainting a *large* hole needs knowledge of what objects look like.
# A hole over the back of a pickup can only be filled well by a model that has learned that pickups
# have an open cargo bed; a hole over a wheel needs a tyre, a rim and a hub at the right height. The
# classes differ by exactly this kind of structure, so a classifier can tell them apart (the kit's
# shipped GoogLeNet reaches 99.75 % on held-out 64² cars, notebook 08) and its features can guide
# inpainting (notebook 09).
#
# **Anti-aliasing.** Each car is drawn at $s = 2$ to $4$ times the target size and area-downsampled:
# pixel $p$ of the output is the mean of the $s \times s$ high-resolution pixels $q$ it covers,
#
# $$I(p) = \frac{1}{s^2} \sum_{q \in \text{cell}(p)} I_{\text{hi}}(q),$$
#
# so edges get intermediate colours as in a photo, instead of staircases a network would learn to copy.

# %%
t0 = time.perf_counter()
x_train, y_train = toycars.generate(P.n_train, size=P.glcic_size, seed=0)
dt = time.perf_counter() - t0
print(f"{len(x_train)} toy cars at {P.glcic_size}² in {dt:.2f}s ({len(x_train) / dt:.0f} images/s)")
print("classes:", toycars.CLASSES)

# %%
K = len(toycars.CLASSES)
per_class = 6
grid, titles = [], []
for k, name in enumerate(toycars.CLASSES):
    idx = np.flatnonzero(y_train == k)[:per_class]
    grid += list(x_train[idx])
    titles += [name] + [""] * (per_class - 1)
show_images(grid, titles, ncols=per_class, size=1.2);

# %% [markdown]
# The same recipe at any resolution, from 16² (quick experiments) to 256² (GLCIC's paper size):
# drawing is done in "metres" and scaled, so a bigger image has finer detail, not bigger pixels.

# %%
sizes = (16, 32, 64, 128, 256)
show_images([toycars.generate_one("pickup", s, np.random.default_rng(7)) for s in sizes],
            [f"{s}²" for s in sizes], size=1.8);

# %% [markdown]
# ### Reproducible by construction
# Image $i$ is drawn with its own random generator seeded by `(seed, i)`. So the same seed gives the
# same pictures on every machine, and image $i$ does not depend on how many images you ask for: a
# quick run and a long run share their first images. Labels are balanced: every block of seven
# consecutive images holds each class once, in a shuffled order.

# %%
# NBVAL_CHECK_OUTPUT
a, la = toycars.generate(70, size=32, seed=0)
b, lb = toycars.generate(10, size=32, seed=0)
print("shape", a.shape, a.dtype, "labels", la.dtype)
print("first 10 images identical:", np.array_equal(a[:10], b), np.array_equal(la[:10], lb))
print("images per class:", dict(zip(toycars.CLASSES, np.bincount(la, minlength=K).tolist())))
print("value range:", float(a.min()), float(a.max()), " mean pixel:", np.round(a.reshape(-1, 3).mean(0), 3))

# %% [markdown]
# ## 5. Photo patches: real textures
# GLCIC was trained on photos of places and faces. Our stand-in is random crops of the colour photos
# bundled with scikit-image (no download): a random photo, a random scale from 1× to 4× (a patch covers
# 64 to 256 photo pixels for a 64² patch) and a random horizontal flip.
#
# **Disjoint splits.** Every photo is cut along its longer side into three bands: the first 70 % for
# `train`, the next 15 % for `val`, the last 15 % for `test`. A patch never crosses a band, so no
# pixel of a validation patch was seen in training, while all splits still contain every kind of
# texture (fur, skin, metal, stars, tissue).

# %%
# NBVAL_CHECK_OUTPUT
for name in photos.PHOTOS:
    h, w = photos.photo(name).shape[:2]
    bands = "  ".join(f"{s}: {photos.region(name, s)}" for s in photos.SPLITS)
    print(f"{name:21} {h:4}x{w:<4} {bands}")

# %%
patch_size = P.glcic_size
for split in photos.SPLITS:
    show_images(photos.patches(8, size=patch_size, seed=0, split=split), suptitle=f"{split} patches", size=1.1);

# %% [markdown]
# ## 6. Stanford Cars, if you have it
# *sem_inpainting* used Stanford Cars (196 car models, 8 144 training and 8 041 test photos), cropped to
# each car's bounding box and resized to 64². The kit does not download it (the original host is often
# offline and the licence asks you to fetch it yourself). **Manual step**: download the data set with
# its devkit (see `datasets/README.md`), then arrange it as
#
# ```
# ROOT/cars_train/*.jpg      ROOT/devkit/cars_meta.mat
# ROOT/cars_test/*.jpg       ROOT/devkit/cars_train_annos.mat
#                            ROOT/devkit/cars_test_annos_withlabels.mat
# ```
#
# and set `STANFORD_CARS=ROOT` before starting Jupyter. The next cell loads it only if it is there.

# %%
root = Path(os.environ.get("STANFORD_CARS", "~/data/stanford_cars")).expanduser()
if (root / "devkit").is_dir():
    xs, ys, names = stanford_cars.load(root, split="train", size=64, limit=12)
    show_images(xs, [names[i][:18] for i in ys], ncols=6, size=1.4);
else:
    print(f"no Stanford Cars at {root}: skipping (the toy cars play its role in every notebook)")

# %% [markdown]
# To see what the loader does without the real data, we write a tiny data set **in exactly the devkit
# layout**: toy cars pasted on noisy canvases, with their boxes in `.mat` files (the tests use the
# same fixture). The loader reads the annotations, crops each photo to its box (MATLAB's 1-based,
# inclusive pixel coordinates) and resizes the crop to a square.

# %%
fixture = Path(tempfile.mkdtemp()) / "stanford_cars"
stanford_cars.make_fixture(fixture, n_train=4, n_test=2, size=48, seed=0)
print(sorted(str(p.relative_to(fixture)) for p in fixture.rglob("*") if p.is_file()))
raw = [data.load_image(fixture / "cars_train" / f) for f, _, _ in stanford_cars.annotations(fixture)]
xs, ys, names = stanford_cars.load(fixture, split="train", size=48)
show_images(raw + list(xs), ["photo"] * 4 + [names[i] for i in ys], ncols=4, size=1.5);

# %% [markdown]
# A wrong folder gives one clear message with the expected layout:

# %%
try:
    stanford_cars.load("/no/such/folder")
except InpaintkitError as e:
    print(e)

# %% [markdown]
# ## 7. Any folder of images
# `load_folder` reads every image below a folder (JPEG, PNG, ..., sorted by path), centre-crops it to a
# square and resizes it; `load_image` / `save_image` read and write single files (grey, RGBA and
# 16-bit files become RGB in $[0, 1]$). `python -m inpaintkit inpaint` uses the same two functions.

# %%
folder_demo = Path(tempfile.mkdtemp())
for i, name in enumerate(("astronaut", "coffee", "chelsea")):
    data.save_image(folder_demo / f"{i}_{name}.png", data.to_float(photos.photo(name)))
mine = data.load_folder(folder_demo, size=64)
print(mine.shape, mine.dtype)
show_images(mine, sorted(p.name for p in folder_demo.iterdir()), size=1.5);

# %% [markdown]
# ## 8. Splits and batches
# Training, validation and test sets must never share an image. For toy cars the kit takes them from
# far-apart index ranges of one seed's sequence (train: images $0 \dots n-1$, validation: images from
# $10^9$, test: from $2 \cdot 10^9$), so a bigger training set can never reach the others. Batches are
# plain numpy arrays, reshuffled every epoch, ready for `backend.train_step` or `model.fit`.

# %%
splits = data.toycar_splits(P, seed=0)
assert np.array_equal(splits.train[0], x_train)        # the training part is section 4's x_train
for part in ("train", "val", "test"):
    x, y = getattr(splits, part)
    print(f"{part:5} {x.shape} classes {np.bincount(y, minlength=K).tolist()}")
it = data.batches(splits.train[0], batch_size=16, seed=0, extra=splits.train[1])
xb, yb = next(it)
print("one batch:", xb.shape, xb.dtype, yb[:8])

# %% [markdown]
# For data you loaded yourself, `split_indices` shuffles and cuts any number of items:

# %%
# NBVAL_CHECK_OUTPUT
tr, va, te = data.split_indices(20, (0.6, 0.2, 0.2), seed=0)
print("train", tr, "\nval  ", va, "\ntest ", te)

# %% [markdown]
# ## 9. Explore: draw your own car
# Pick a class, a seed and a size; the widget draws that car. Same settings, same car.

# %%
import ipywidgets as W
from IPython.display import display

explorer = {}


def draw_car(vehicle="pickup", seed=0, size=64):
    img = toycars.generate_one(vehicle, size, np.random.default_rng(seed))
    explorer["image"] = img
    fig, ax = plt.subplots(figsize=(2.5, 2.5))
    ax.imshow(img, interpolation="nearest")
    ax.set_title(f"{vehicle}, seed {seed}, {size}²", fontsize=10)
    ax.axis("off")
    plt.show()


car_widget = W.interactive(draw_car, vehicle=W.Dropdown(options=toycars.CLASSES, value="pickup"),
                           seed=W.IntSlider(0, 0, 50), size=W.Dropdown(options=[16, 32, 64, 128, 256], value=64))
display(car_widget)

# %% [markdown]
# Moving a control from Python re-draws the car (this is how the tests drive widgets):

# %%
before = explorer["image"]
car_widget.children[1].value = 3          # the seed slider
print("the car changed:", not np.array_equal(before, explorer["image"]))

# %% [markdown]
# ## 10. Exercises
# Each exercise leaves its answer at `None` for you to replace (the student copy,
# `notebooks/student/`, says `# YOUR CODE HERE` there). Its self-check prints *not yet* until you
# do, then ✔ or ✘. This copy shows the reference solutions between `### BEGIN SOLUTION` and
# `### END SOLUTION`.

# %%
from inpaintkit.exercises import check


# %% [markdown]
# **Exercise 1: the mean pixel.** GLCIC fills the hole with the *mean pixel value of the training set*
# before the completion network sees it: its input is $x \odot (1 - M) + \bar{x}\, M$ with
#
# $$\bar{x}_c = \frac{1}{N H W} \sum_{n, i, j} x_{n, i, j, c}, \qquad c \in \{R, G, B\}.$$
#
# Compute $\bar{x}$ (shape `(3,)`) for `x_train` with numpy. Hint: a sum of millions of `float32`
# values loses digits; ask numpy to accumulate in `float64` (`dtype=np.float64`).

# %%
mean_pixel = None                    # your answer: the mean pixel of x_train, shape (3,)
### BEGIN SOLUTION
mean_pixel = x_train.mean(axis=(0, 1, 2), dtype=np.float64)
### END SOLUTION
check("shape (3,)", mean_pixel, lambda m: np.shape(m) == (3,), "one value per channel: average over axes 0, 1, 2")
check("mean pixel matches data.mean_pixel", mean_pixel,
      lambda m: np.allclose(m, data.mean_pixel(x_train), atol=1e-4), "accumulate in float64")

# %%
# NBVAL_CHECK_OUTPUT
# The mean pixel of a fixed toy-car set (the same on every machine and preset):
print(np.round(data.mean_pixel(toycars.generate(140, size=32, seed=1)[0]), 3))

# %% [markdown]
# **Exercise 2: class balance.** Count the training images per class with `np.bincount` and see
# whether any class has more than one image more than another (blocks of seven hold each class once).

# %%
counts = None                        # your answer: the number of training images of each class, shape (K,)
### BEGIN SOLUTION
counts = np.bincount(y_train, minlength=K)
### END SOLUTION
check("one count per class, every image counted", counts, lambda c: len(c) == K and np.sum(c) == len(y_train),
      "np.bincount(..., minlength=K)")
check("the right count for every class", counts, lambda c: all(c[k] == np.sum(y_train == k) for k in range(K)))
if counts is not None:
    print("largest minus smallest class:", np.max(counts) - np.min(counts))

# %% [markdown]
# **Exercise 3: a leak-free validation set.** Split the indices of 100 photo patches into 80 for
# training and 20 for validation yourself: shuffle `0 … 99` with `np.random.default_rng(1)`
# (data sets are often stored sorted, so never take the first 80), then cut. The checks test that no
# index is in both parts and none is lost; the kit's `data.split_indices` does the same.
# (Why is this still *weaker* than `photos.patches(..., split="val")`? Two patches of the same photo
# can overlap even if their indices differ.)

# %%
tr, va = None, None                  # your answer: two integer arrays, 80 and 20 indices
### BEGIN SOLUTION
order = np.random.default_rng(1).permutation(100)
tr, va = order[:80], order[80:]
### END SOLUTION
check("80 for training, 20 for validation", (tr, va), lambda s: (len(s[0]), len(s[1])) == (80, 20))
check("disjoint", (tr, va), lambda s: not set(np.ravel(s[0]).tolist()) & set(np.ravel(s[1]).tolist()))
check("complete", (tr, va), lambda s: sorted(np.concatenate(s).tolist()) == list(range(100)))
check("shuffled", (tr, va), lambda s: sorted(s[0]) != list(range(80)), "shuffle before you cut")

# %% [markdown]
# **Exercise 4: write `to_uint8`.** Convert $[0, 1]$ floats to 8-bit with the formula of section 3
# (clip, scale, round) and compare with the kit's version on random values, including some outside
# $[0, 1]$.

# %%
values = np.random.default_rng(0).uniform(-0.2, 1.2, size=1000).astype(np.float32)
mine_u8 = None                       # your answer: values as uint8
### BEGIN SOLUTION
mine_u8 = np.round(255 * np.clip(values, 0, 1)).astype(np.uint8)
### END SOLUTION
check("dtype uint8", mine_u8, lambda u: np.asarray(u).dtype == np.uint8)
check("same as data.to_uint8", mine_u8, lambda u: np.array_equal(u, data.to_uint8(values)), "clip, scale, round")

# %% [markdown]
# ## Summary
# - `python -m inpaintkit check` tells you whether the kit can run; presets set every budget.
# - Images are `float32` in $[0, 1]$; masks use 1 = hole; conversions happen at file boundaries only.
# - Toy cars: 7 structured classes, any size, deterministic per `(seed, index)`, generated in seconds.
# - Photo patches: real textures with split-disjoint photo bands. Stanford Cars and any folder load
#   when you have them.
#
# **Next**: `01_masks_and_baselines`: holes of every shape, the metrics, and how far classical
# inpainting gets before learning is needed.
