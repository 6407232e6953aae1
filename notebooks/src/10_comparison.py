# %% [markdown]
# # 10 · Every method on the same holes — and your own photo
#
# Six ways to fill a hole, one table. The classical methods (Telea, Navier–Stokes, biharmonic)
# propagate the border inwards; GLCIC (Iizuka et al.) is a network trained to complete; semantic
# inpainting (Yeh et al.) searches a DCGAN's latent space; classifier-guided inpainting ([*sem_inpainting*](https://github.com/amarisch/sem_inpainting), an ETH Zürich student project)
# adds what a car classifier sees in the whole image. Here they all get the same held-out toy cars
# and photo patches and the same fixed masks.
#
# **What you will learn**
# - an evaluation protocol: fixed seeded masks (centre, left half, random boxes, free-form strokes),
#   hole L1/PSNR, SSIM, and a Fréchet distance over the kit classifier's features (an offline
#   stand-in for FID);
# - how to read such a table honestly: small test sets, what PSNR rewards (blur) and what it misses;
# - whether classifier guidance beats plain semantic inpainting on large holes, as *sem_inpainting* claims;
# - how to run every method on a photo of your own.
#
# **Time**: about 1–3 min on a 2-core CPU (`class` preset: 2 cars and 2 photo patches per mask, latent
# searches of 300 iterations x 4 restarts; measured 72 s on an idle 2-core EPYC with AVX-512, since the
# default guided search needs no classifier pass); a GPU runs the `paper` preset's full searches.

# %%
from inpaintkit import presets
P = presets.active(); print(P.summary())

# %%
import matplotlib.pyplot as plt
import numpy as np

from inpaintkit import backend, baselines, evaluation, googlenet, guided, metrics, semantic, weights
from inpaintkit.data import photos, toycars
from inpaintkit.plotting import show_images

plt.rcParams["figure.dpi"] = 100
backend.seed(0)
G, D, C, note = guided.available_models(P)
print("latent-search models:", note)
S = G.output_shape[1]
N = 2                                          # images per mask kind and data set (a short live run)
HELD_OUT = 424_242                             # a seed no model of the kit was trained on
cars, labels = toycars.generate(N, size=S, seed=HELD_OUT)
patches = photos.patches(N, size=S, seed=HELD_OUT, split="test")
masks = evaluation.eval_masks(N, S)
show_images([*cars, *patches] + [m[0, ..., 0].repeat(3).reshape(S, S, 3) for m in masks.values()],
            ["toy car"] * N + ["photo"] * N + list(masks), size=1.3);

# %%
# NBVAL_CHECK_OUTPUT
for kind, m in evaluation.eval_masks(N, 64).items():      # the same masks at 64², whatever the preset
    print(f"{kind:<13} hole fraction {m.mean():.3f}  shape {m.shape}")

# %% [markdown]
# ## 1. The methods
# Each is a function of a batch of corrupted images and their holes. Learned methods whose shipped
# weights are missing are skipped (with a note), not faked. The two latent searches run batched — all
# images × restarts in one compiled step — with the same iterations, restarts and starting codes.

# %%
def latent(search):
    return evaluation.batched(lambda x, m: search.run(x, m).blended)

methods = {"telea": baselines.telea, "ns": baselines.navier_stokes, "biharmonic": baselines.biharmonic}
glcic = {}
try:
    from inpaintkit.glcic import inference
    for data, name in (("cars", "glcic_toycars"), ("photos", "glcic_photos")):
        if weights.available(name):
            glcic[data] = inference.load_shipped(name)
    glcic.setdefault("cars", glcic.get("photos"))
    glcic.setdefault("photos", glcic.get("cars"))
except Exception as err:                       # noqa: BLE001 - a missing module is a note, not a crash
    print("GLCIC unavailable:", err)
if not any(glcic.values()):
    print("no shipped GLCIC weights (scripts/train_glcic.py): GLCIC skipped")
if "untrained" in note.lower():
    print("no shipped DCGAN/classifier: semantic and guided skipped")
else:
    methods["semantic"] = latent(semantic.LatentSearch(G, semantic.default_terms(D), iters=P.latent_iters,
                                                       restarts=P.restarts, jit=googlenet.auto_jit()))
    # the kit's default weights, chosen on validation cars (notebook 09 §3b), as in the stored run below;
    # notebook 09 §4 shows sem_inpainting's own balance next to them
    methods["guided"] = latent(guided.guided_search(G, D, C, iters=P.latent_iters, restarts=P.restarts))
print("methods:", ", ".join(methods) + (" + glcic" if any(glcic.values()) else ""))

# %% [markdown]
# ## 2. Run them all
# `evaluation.compare` fills every (image, mask) pair with every method, puts the known pixels back
# (every method must keep them) and measures with `metrics.evaluate`: hole L1 and hole PSNR
# $10\log_{10}(1/\mathrm{MSE}_{hole})$, whole-image PSNR and SSIM (7×7 window).

# %%
results = {}
for data, images in (("toy cars", cars), ("photos", patches)):
    ms = dict(methods)
    model = glcic.get("cars" if data == "toy cars" else "photos")
    if model is not None:
        ms["glcic"] = evaluation.batched(lambda x, m, model=model: inference.inpaint(x, m, model=model))
    print(f"--- {data}")
    results[data] = evaluation.compare(ms, images, masks)

# %% [markdown]
# ## 3. The table
# Hole PSNR (dB, higher is better) per mask kind, and SSIM:

# %%
from IPython.display import Markdown, display
for data, res in results.items():
    display(Markdown(f"**{data}: hole PSNR (dB) ↑**\n\n" + evaluation.table(res, "hole_psnr")
                     + f"\n\n**{data}: SSIM ↑**\n\n" + evaluation.table(res, "ssim", digits=3)
                     + f"\n\n**{data}: seconds per image**\n\n"
                     + evaluation.table(res, extra=res["seconds_per_image"], metric="s/image")))

# %% [markdown]
# **Fréchet distance** between the real images and each method's results, over the kit classifier's
# `pool5` features: FID's formula $\lVert\mu_a-\mu_b\rVert^2 + \mathrm{Tr}(\Sigma_a+\Sigma_b-2(\Sigma_a\Sigma_b)^{1/2})$
# with our toy-car GoogLeNet instead of ImageNet's Inception v3 (which would need a download). It is
# an offline stand-in: comparable between methods *here*, not with published FIDs, and very noisy
# with a handful of images — read it next to the pictures.

# %%
for data, images in (("toy cars", cars), ("photos", patches)):
    fd = evaluation.frechet_table(results[data], images, C)
    display(Markdown(f"**{data}: Fréchet distance ↓**\n\n" + evaluation.table(results[data], extra=fd,
                                                                           metric="Fréchet")))

# %% [markdown]
# ## 4. The pictures
# One toy car per mask kind, every method:

# %%
res = results["toy cars"]
names = list(next(iter(res["outputs"].values())))
grid, titles = [], []
for kind, m in masks.items():
    grid.append(cars[0] * (1 - m[0]) + 0.5 * m[0]); titles.append(kind)
    for n in names:
        grid.append(res["outputs"][kind][n][0]); titles.append(n)
    grid.append(cars[0]); titles.append("original")
show_images(grid, titles, ncols=len(names) + 2, size=1.15);

# %% [markdown]
# ## 5. Does guidance beat plain semantic inpainting on large holes?
# *sem_inpainting* says yes, "especially on large missing regions". Our numbers on the large holes (centre:
# 25 % of the image, left half: 50 %), image by image:

# %%
def verdict(res, kinds=("center", "half")):
    if "guided" not in methods:
        print("semantic/guided were skipped: no verdict"); return None
    d = np.concatenate([res["per_image"][k]["guided"]["hole_psnr"] - res["per_image"][k]["semantic"]["hole_psnr"]
                        for k in kinds])
    wins = int((d > 0).sum())
    print(f"guided - semantic hole PSNR on {len(d)} large-hole images: mean {d.mean():+.2f} dB, "
          f"guided better on {wins}/{len(d)}")
    return d

delta = verdict(results["toy cars"])

# %% [markdown]
# **Reading it.** With two cars per mask kind, a difference of a dB or two is within the noise of
# the restarts: the live run shows the methods working, not which one wins. The verdict rests on the
# larger stored run of the same protocol below: **64 held-out cars per mask kind**, class preset, the
# shipped models (the kit's DCGAN, the resize-convolution one that draws every kind of car, notebook
# 06; the GoogLeNet classifier; GLCIC on toy cars), every number with a 95 % bootstrap interval over
# the cars (`benchmarks/bench_guided.py --compare 64`, 19 min on a 2-core CPU shared with other jobs).
# Its `guided` uses the kit's default weights, chosen on validation cars (notebook 09 §3b), as the
# live run above does. Two judges that no method used: an independent ResNet **evaluator** (its own
# seed and data; 97 % right on the intact cars) says whether the completed car is still its own kind
# of car, and the Fréchet distance is taken on *its* features, next to what two sets of real cars
# give (1.8).
#
# What that run says (read the tables under this cell):
# - **Hole PSNR: guidance changes nothing measurable.** Guided minus semantic is +0.10 dB on the
#   centre box, +0.11 on the left half, +0.24 on the boxes and +0.02 on the strokes; every interval
#   contains zero. GLCIC, trained to complete, leads on the large holes (17.7 dB on the centre box
#   against Telea's 15.7 and semantic's 15.1); on thin strokes the classical methods are as good.
# - **Class kept: no gain, and Telea is ahead here.** The evaluator still sees the right kind of car
#   after semantic inpainting in 61 % (centre) and 56 % (half) of the cars, after guidance in 62.5 %
#   and 58 %, after Telea in 69 % and 64 %. On these cars both latent searches keep the class about
#   8 points less often than Telea, within the noise of 64 cars (the intervals are ±12 points). GLCIC
#   keeps it most often (72 %, 80 %). The feature search of notebook 07 §4c (`ilo`, added to this run
#   later: the same cars, masks and codes) keeps it in 70 % on the centre box, level with Telea and
#   9 points above semantic inpainting, but in 55 % of the half images, 9 points *below* Telea.
# - **Fréchet distance: the latent searches draw car-like fills.** On the evaluator's features the
#   semantic and guided fills lie much closer to real cars than Telea's on the large holes (7.6 and
#   8.4 against 18.3 on the centre box, 9.1 and 8.9 against 13.6 on the half). They are also closer
#   than the first shipped generator's semantic fills on every mask (7.6 against 8.7 on the centre,
#   9.1 against 12.0 on the half). `ilo`'s fills are closer still (6.7 on the centre, 8.6 on the
#   half). GLCIC is closest on all four. Because the evaluator was never
#   optimised by any search, no method is grading its own homework.
# - **Cost**: with the default weights the guided search needs no classifier pass: 1.2–1.3× plain
#   semantic inpainting here. *sem_inpainting*'s own weights cost 4–5× the default ones (5.9 against
#   1.3 s per image at batch 16, measured side by side: `docs/benchmarks.md`).
#
# So *sem_inpainting*'s claim, that the classifier's terms keep large-hole completions semantically
# right, is **not reproduced** on toy cars, even with a generator that covers every kind of car.
# Weights chosen on validation cars do not rescue it (notebook 09 §3b). The classifier's terms cost
# pixels (−0.8 dB at 10⁻⁴ of their weight, −2.5 dB at *sem_inpainting*'s) and keep the class 8–9
# points *less* often on validation cars. The sweep's best setting keeps only *sem_inpainting*'s
# discriminator-on-the-composite term. On 64 held-out test cars per hole it fills as semantic
# inpainting does (class kept +0 points [−5, +5], −0.08 dB; `docs/large_holes/README.md`). The
# limit is the generator: its fills look like cars, but not often enough like *this* car
# (notebooks 07 and 08). A longer search does not change that, nor a better one, nor 8 000 more
# training steps of the generator (notebook 07 §4b; `docs/large_holes/README.md` and
# `docs/dcgan_coverage.md`, "Session 27"). Loosening the generator helps, though not everywhere:
# searching its 16×16 feature map after the search over z (intermediate layer optimisation,
# notebook 07 §4c; the `ilo` box in §6) keeps the class 6 points more often than semantic
# inpainting [+2, +11] and 8 more than Telea [+0.5, +17] on the 64 held-out test cars per hole of
# `docs/large_holes/README.md` ("Session 28"), at −0.08 dB. On this notebook's cars it helps on the
# centre box and not on the half image (above). Worth testing on a
# GPU (exercises): a generator at the paper's width, trained for longer, and a classifier trained on
# real cars (Stanford Cars).

# %%
import json
from pathlib import Path
stored = Path("10_comparison_results.json")
if not stored.exists() and Path("../10_comparison_results.json").exists():   # run from notebooks/student/
    stored = Path("../10_comparison_results.json")
if stored.exists():
    big = json.loads(stored.read_text())
    print(big["command"], "|", big["n_images"], "cars per mask kind |", big["models"])
    for cmd in big.get("merged", []):                 # methods added to the same cars later
        print("  added by:", cmd)
    if "evaluator_keeps_class" not in big:
        display(Markdown("**stored run: hole PSNR (dB) ↑**\n\n" + evaluation.table(big, "hole_psnr")
                         + "\n\n**stored run: Fréchet distance ↓**\n\n"
                         + evaluation.table(big, extra=big["frechet"], metric="Fréchet")))
    if "evaluator_keeps_class" in big:        # with 95 % bootstrap intervals over the cars
        kept = big["evaluator_keeps_class"]
        fd = {k: {m: v["frechet"] for m, v in per.items()} for k, per in big["evaluator_frechet"].items()}
        rvr = next(iter(next(iter(big["evaluator_frechet"].values())).values()))["real_vs_real"]
        display(Markdown("**stored run: hole PSNR (dB) ↑, mean [95 % interval]**\n\n"
                         + evaluation.interval_table(big["hole_psnr_ci95"], "hole PSNR")
                         + f"\n\n**stored run: the independent evaluator still sees the car's own class (%) ↑** "
                         f"(intact cars: {100 * kept['intact']['original']['mean']:.0f} %)\n\n"
                         + evaluation.interval_table({k: v for k, v in kept.items() if k != "intact"}, "class kept",
                                                     scale=100, digits=0)
                         + f"\n\n**stored run: Fréchet distance on the evaluator's features ↓** (two sets of "
                         f"real cars of this size: {rvr:.1f})\n\n" + evaluation.table(big, extra=fd, metric="Fréchet")))
    for variant, per in big["guided_minus_semantic"].items():
        for k, v in per.items():
            ci = f" [{v['ci95'][0]:+.2f}, {v['ci95'][1]:+.2f}]" if "ci95" in v else ""
            print(f"{variant:<13} - semantic, {k:<13} hole PSNR {v['mean']:+.2f} dB{ci}, better on {v['wins']}/{v['n']}")
    sp = big["seconds_per_image"]
    print("seconds per image, guided / semantic:", {k: round(v["guided"] / v["semantic"], 1) for k, v in sp.items()})
else:
    print("no stored comparison (python benchmarks/bench_guided.py --compare 64 --out notebooks/10_comparison_results.json)")

# %% [markdown]
# ## 6. Inpaint your own photo
# Upload an image below (or point `PATH` at a file), choose a hole and tick the methods: the figure
# redraws as soon as the upload finishes or a control changes (the scikit-image cat until then).
# `semantic`, `ilo` (semantic inpainting, then a search of the generator's feature map: notebook 07 §4c)
# and `guided` are unticked at first: on a 2-core CPU (class preset) each takes 3–6 s for this
# 128-pixel photo, every time the figure redraws with a new image or hole. A fill once made is
# remembered (`widgets.remembered`), so ticking one more method runs only that one, and going back to
# a hole already seen redraws at once. Every method
# takes any image size: the latent searches work at their generator's 64×64 and their fill is
# resized into the hole and Poisson-blended (they know toy cars only — on a real photo expect a
# car-coloured guess). The classical methods and GLCIC work at full resolution.

# %%
from ipywidgets import Checkbox, Dropdown, FileUpload, HBox, Label, Layout, Output, VBox
from inpaintkit import masks as masklib
from inpaintkit import methods as registry
from inpaintkit import widgets

PATH = None                                    # e.g. "my_photo.jpg"; None = a scikit-image sample photo
upload = FileUpload(accept="image/*", multiple=False, description="your image")


def your_image(size=128):
    import cv2
    if upload.value:
        import io
        from PIL import Image
        item = upload.value[0] if isinstance(upload.value, (list, tuple)) else next(iter(upload.value.values()))
        img = np.asarray(Image.open(io.BytesIO(bytes(item["content"]))).convert("RGB"), np.float32) / 255
    elif PATH:
        img = registry.read_image(PATH)
    else:
        import skimage.data
        img = skimage.data.chelsea().astype(np.float32) / 255
    h, w = img.shape[:2]
    s = size / max(h, w)
    return np.clip(cv2.resize(img, (max(8, int(w * s)), max(8, int(h * s))), interpolation=cv2.INTER_AREA), 0, 1)


fast = [m for m in ("telea", "ns", "biharmonic", "glcic") if m in registry.available()
        and (m != "glcic" or any(glcic.values()))]
slow = [m for m in ("semantic", "ilo", "guided") if ("semantic" if m == "ilo" else m) in methods]   # ilo: notebook 07 §4c
hole = Dropdown(options=["center_box", "half", "random_boxes", "strokes"], value="center_box", description="hole")
boxes = {name: Checkbox(value=name in fast, description=name + (" (slow)" if name in slow else ""), indent=False,
                        layout=Layout(width="auto", margin="0 12px 0 0")) for name in fast + slow}
figure = Output()
photo_fill = widgets.remembered(registry.inpaint)    # each method runs once per image and hole


def own_photo(change=None):
    """Redraw at once when the image is uploaded, the hole changes or a method is ticked."""
    chosen = [name for name, box in boxes.items() if box.value]
    with figure:                               # progress and errors show here, not in the log
        figure.clear_output(wait=True)
        img = your_image()                     # an upload that is no image says so here
        m = masklib.batch(hole.value, 1, img.shape[:2], seed=3)[0]
        todo = [name for name in chosen if not photo_fill.has(img, m, name)]
        if any(name in slow for name in todo):
            print("filling the hole with " + ", ".join(todo) + " ...")
        outs = [photo_fill(img, m, name) for name in chosen]
        figure.clear_output(wait=True)
        show_images([img * (1 - m) + 0.5 * m, *outs], ["input", *chosen], size=2.0)


for control in (upload, hole, *boxes.values()):
    control.observe(own_photo, names="value")
own_photo()
display(VBox([HBox([upload, hole]), HBox([Label("methods:"), *boxes.values()]), figure]))

# %% [markdown]
# ## Exercises
# **1. What whole-image PSNR hides.** Every method returns the known pixels unchanged, so on one
# image the whole-image MSE is the hole's MSE times the hole's share $f$ of the image, and
# $\mathrm{PSNR} - \mathrm{PSNR}_{hole} = 10\log_{10}(1/f)$ whatever the method: the whole-image number
# adds a constant that says nothing about the fill. Compute $f$ for the centre mask and check the
# identity on one car filled by Telea.

# %%
from inpaintkit.exercises import check

m0, car0 = masks["center"][0], cars[0]
fill = baselines.telea(car0, m0)
f = None                             # your answer: the hole's share of the image (a number in (0, 1))
### BEGIN SOLUTION
f = float(m0.mean())
### END SOLUTION
gap = metrics.psnr(fill, car0) - metrics.hole_psnr(fill, car0, m0)
check("PSNR - hole PSNR = 10 log10(1/f)", f, lambda v: abs(gap - 10 * np.log10(1 / v)) < 0.01)
if f is not None:
    print(f"f = {f:.3f}: PSNR - hole PSNR = {gap:.3f} dB, 10 log10(1/f) = {10 * np.log10(1 / f):.3f} dB")

# %% [markdown]
# **2. Fréchet distance of a set with itself.** Two samples of the *same* distribution are not at
# distance 0: sampling noise. Compute the distance between two disjoint sets of 8 real cars, then
# between two sets of 32. Which is smaller, and what does that say about Fréchet distances measured
# on 8 images per method, as in section 5?

# %%
more, _ = toycars.generate(64, size=int(C.input_shape[1]), seed=HELD_OUT + 1)
feats = evaluation.classifier_features(C, more)
small, large = None, None           # your answers: the distance between two disjoint sets of 8, then of 32
### BEGIN SOLUTION
small = evaluation.frechet_distance(feats[:8], feats[8:16])
large = evaluation.frechet_distance(feats[:32], feats[32:])
### END SOLUTION
check("two distances, not 0", (small, large), lambda d: d[0] > 0 and d[1] > 0)
check("the larger sets are closer", (small, large), lambda d: d[1] < d[0], "sets of 8 first, then sets of 32")
if large is not None:
    print(f"two sets of 8: {small:.2f}; two sets of 32: {large:.2f}")
