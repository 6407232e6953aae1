r"""Classifier-guided semantic inpainting after *sem_inpainting* (https://github.com/amarisch/sem_inpainting, a 2018 ETH Zürich
student project): Yeh et al.'s latent search, plus what a classifier says about the *whole* image.

With the composite :math:`x_c = M \odot y + (1 - M) \odot G(z)` (:math:`M` = 1 on known pixels), the
loss of :mod:`inpaintkit.semantic` (context :math:`\mathcal L_c` + prior :math:`\mathcal L_p`) gains

.. math::
    \lambda_{inp}\,\mathrm{CE}\big(D(x_c), \text{real}\big)
    + \lambda_{sem} \sum_{l} \frac{\lVert \phi_l(G(z)) - \phi_l(x_c) \rVert^2}{\lVert \phi_l(x_c) \rVert^2}
    + \lambda_{cat}\, \mathrm{SKL}\big(p(G(z)),\, p(x_c)\big)

with :math:`\phi_l` a hidden layer of the GoogLeNet classifier (sem_inpainting: ``inception_3b`` and
``inception_4b``), :math:`p` its softmax and :math:`\mathrm{SKL}(p, q) = \mathrm{KL}(p\|q) + \mathrm{KL}(q\|p)`
the symmetric KL divergence. (sem_inpainting's code calls it "Jensen divergence"; the Jensen–Shannon
divergence :math:`\tfrac12\mathrm{KL}(p\|m) + \tfrac12\mathrm{KL}(q\|m)`, :math:`m = \tfrac12(p+q)`, bounded by
:math:`\log 2`, is offered as ``divergence="js"``.) Each term is a :class:`inpaintkit.semantic.Term`
and runs inside the batched, compiled :class:`~inpaintkit.semantic.LatentSearch`.

**Weights.** sem_inpainting's defaults are :math:`\lambda_{sem} = 10^5`, :math:`\lambda_{cat} = 10^6`,
:math:`\lambda_{inp} = 3` next to a context loss summed over the 64×64×3 pixels of images in
[−1, 1]. The three new terms are dimensionless (ratios of norms, divergences, a cross-entropy): they
do not depend on the pixel range or the image size, while the context loss does. The kit's context
loss is summed over [0, 1] pixels, half sem_inpainting's value, and over size² pixels, (size/64)² times
its count. To keep its *balance* between the context loss and the new terms, the kit
multiplies sem_inpainting's λs by ``0.5 * (size / 64) ** 2`` (:func:`seed_weights`): at 64² that is
5·10⁴, 5·10⁵ and 1.5. Yeh's prior weight (0.003) is kept as in :mod:`inpaintkit.semantic`, so that
plain semantic inpainting and this method differ only by the new terms.

**Defaults.** Those are sem_inpainting's weights, ``lambdas="sem_inpainting"``. The kit's default,
``lambdas="tuned"`` (:data:`WEIGHT_SETS`), was chosen on validation cars by
``scripts/sweep_guided.py`` (:func:`choose_setting`). On the shipped toy-car models no weight of the
classifier's two terms kept the car's class more often, so the chosen set keeps only the
discriminator-on-the-composite term (λ_inp = 4.5) and switches the classifier's terms off
(``docs/guided_sweep/README.md``).
"""
from __future__ import annotations

import numpy as np
from keras import ops

from . import googlenet
from .errors import InpaintkitError, check_choice, check_images, check_masks
from .reconstruction import kl, normalised_error
from .semantic import WINDOW, LatentSearch, PriorLoss, Term, default_terms

SEED_LAMBDAS = {"sem": 1e5, "cat": 1e6, "inp": 3.0}
DEFAULT_LAYERS = ("inception_3b", "inception_4b", "softmax")   # sem_inpainting's best combination


def seed_weights(size: int = 64) -> dict:
    """sem_inpainting's λ_sem, λ_cat, λ_inp rescaled to the kit's context loss ([0, 1] pixels, size²)."""
    scale = 0.5 * (size / 64) ** 2
    return {k: v * scale for k, v in SEED_LAMBDAS.items()}


# Named weight sets: per term, a multiple of seed_weights(size) (0 drops the term).
# "tuned": chosen on the validation split by scripts/sweep_guided.py over sweeps of all three terms
# together and of each term alone (docs/guided_sweep/README.md; the rule in choose_setting). On the
# shipped models no weight of the classifier's terms kept the class more often than plain semantic
# inpainting; sem_inpainting's third term alone, the discriminator on the composite (λ_inp = 3 × its
# rescaled 1.5), did (val: 62.5 % against 56.3 %, at -0.14 dB). "sem_inpainting": the source project's
# balance, kept for comparison; "light": the classifier's terms at 10⁻⁶ of it, the best of the
# all-terms sweep (guidance that costs nothing and does nothing measurable).
TERMS = ("sem", "cat", "inp")
WEIGHT_SETS = {"tuned": {"sem": 0.0, "cat": 0.0, "inp": 3.0},
               "sem_inpainting": {"sem": 1.0, "cat": 1.0, "inp": 1.0},
               "light": {"sem": 1e-6, "cat": 1e-6, "inp": 1e-6}}
DEFAULT_WEIGHTS = "tuned"


def weights(name: str = DEFAULT_WEIGHTS, size: int = 64) -> dict:
    """The λ_sem, λ_cat, λ_inp of a named set (:data:`WEIGHT_SETS`) at images of ``size``²."""
    check_choice("weights", name, tuple(WEIGHT_SETS))
    return {k: v * WEIGHT_SETS[name][k] for k, v in seed_weights(size).items()}


def choose_scale(sweep: dict, max_psnr_loss: float = 0.5) -> dict:
    """The setting a λ sweep (``scripts/sweep_guided.py``, val split) chooses: among the scales whose
    hole PSNR is at most ``max_psnr_loss`` dB below semantic inpainting's on the same images (pooled
    over the hole kinds), the one whose completions the independent evaluator classifies right most
    often (ties: the higher PSNR). Every point's paired differences to semantic come with 95 %
    bootstrap intervals; ``helps`` says whether the chosen one keeps the class more often at all."""
    from .evaluation import paired_difference
    pts = sweep["points"]
    if repr(0.0) not in pts:
        raise InpaintkitError("sweep: expected a point at scale 0 (semantic inpainting), got scales "
                              f"{sorted(p['scale'] for p in pts.values())}")
    kinds = sweep["settings"]["kinds"]

    def pooled(point, what):
        return np.concatenate([np.asarray(point["per_image"][k][what], np.float64) for k in kinds])

    ref = pts[repr(0.0)]
    table = []
    for p in sorted(pts.values(), key=lambda p: p["scale"]):
        row = {"scale": p["scale"], "hole_psnr": float(pooled(p, "hole_psnr").mean()),
               "accuracy": float(pooled(p, "correct").mean())}
        if p["scale"]:
            row["vs_semantic_psnr"] = paired_difference(pooled(p, "hole_psnr"), pooled(ref, "hole_psnr"))
            row["vs_semantic_accuracy"] = paired_difference(pooled(p, "correct"), pooled(ref, "correct"))
        table.append(row)
    ok = [r for r in table if r["scale"] and r["vs_semantic_psnr"]["mean"] >= -max_psnr_loss]
    if not ok:
        return {"scale": None, "rule": f"no scale within {max_psnr_loss} dB of semantic", "table": table}
    best = max(ok, key=lambda r: (round(r["accuracy"], 6), r["hole_psnr"]))
    terms = sweep["settings"].get("terms", list(TERMS))
    return {"scale": best["scale"],
            "lambdas": {k: (v * best["scale"] if k in terms else 0.0) for k, v in seed_weights(64).items()},
            "rule": f"highest evaluator accuracy among scales within {max_psnr_loss} dB hole PSNR of semantic "
                    "(pooled over the hole kinds, val split)",
            "helps": best["vs_semantic_accuracy"]["mean"] > 0, "table": table}


def choose_setting(sweeps, max_psnr_loss: float = 0.5) -> dict:
    """The weight set the validation sweeps choose together: each sweep (one set of terms and layers,
    ``scripts/sweep_guided.py --terms ... --layers ...``) picks its scale by :func:`choose_scale`; of
    those, the one whose fills the evaluator classifies right most often (ties: the higher PSNR).
    The sweeps must be of the same images and search. Returns ``{"multipliers": {term: multiple of
    seed_weights}, "terms", "layers", "scale", "helps", "rule", "candidates"}`` (``multipliers`` None
    when no sweep has a scale within the PSNR budget)."""
    sweeps = list(sweeps)
    if not sweeps:
        raise InpaintkitError("sweeps: expected at least one sweep, got none")
    common = lambda sw: {k: v for k, v in sw["settings"].items() if k not in ("terms", "layers")}
    for sw in sweeps[1:]:
        if common(sw) != common(sweeps[0]):
            raise InpaintkitError(f"sweeps: expected sweeps of the same images and search, got {common(sweeps[0])} "
                                  f"and {common(sw)}")
    candidates = []
    for sw in sweeps:
        c = choose_scale(sw, max_psnr_loss)
        if c["scale"] is None:
            continue
        row = next(r for r in c["table"] if r["scale"] == c["scale"])
        terms = sorted(sw["settings"].get("terms", list(TERMS)))
        candidates.append({"terms": terms, "layers": sw["settings"].get("layers"), "scale": c["scale"],
                           "multipliers": {k: (c["scale"] if k in terms else 0.0) for k in TERMS},
                           "accuracy": row["accuracy"], "hole_psnr": row["hole_psnr"],
                           "vs_semantic_accuracy": row["vs_semantic_accuracy"],
                           "vs_semantic_psnr": row["vs_semantic_psnr"]})
    rule = (f"per sweep, the scale with the highest evaluator accuracy within {max_psnr_loss} dB hole PSNR of "
            "semantic; of those, the highest accuracy (val split)")
    if not candidates:
        return {"multipliers": None, "rule": rule, "candidates": []}
    best = max(candidates, key=lambda c: (round(c["accuracy"], 6), c["hole_psnr"]))
    return {**{k: best[k] for k in ("multipliers", "terms", "layers", "scale")},
            "helps": best["vs_semantic_accuracy"]["mean"] > 0, "rule": rule, "candidates": candidates}


def _outputs(ctx, extractor):
    """The extractor on G(z) and on the composite, in one batched call cached on the step's context."""
    cache = ctx.__dict__.setdefault("_classifier_outputs", {})
    if id(extractor) not in cache:
        b = int(ctx.generated.shape[0])
        out = extractor(ops.concatenate([ctx.generated, ctx.composite], axis=0), training=False)
        out = {k: ops.cast(v, "float32") for k, v in out.items()}          # float32 under mixed precision too
        cache[id(extractor)] = {k: (v[:b], v[b:]) for k, v in out.items()}
    return cache[id(extractor)]


def symmetric_kl(p, q):
    r""":math:`\mathrm{KL}(p\|q) + \mathrm{KL}(q\|p)` per row (what sem_inpainting's code computes)."""
    return kl(p, q) + kl(q, p)


def jensen_shannon(p, q):
    r""":math:`\tfrac12\mathrm{KL}(p\|m) + \tfrac12\mathrm{KL}(q\|m)`, :math:`m = (p+q)/2`; between 0 and log 2."""
    m = 0.5 * (p + q)
    return 0.5 * kl(p, m) + 0.5 * kl(q, m)


DIVERGENCES = {"symkl": symmetric_kl, "js": jensen_shannon}


class CompositeAdversarial(Term):
    r""":math:`\mathrm{CE}(D(x_c), \text{real}) = -\log \sigma(D(x_c))`: the *composite* must look real."""
    name = "adversarial"
    weight = seed_weights()["inp"]

    def __init__(self, discriminator, weight: float | None = None, name: str | None = None):
        super().__init__(weight, name)
        self.discriminator = discriminator

    def __call__(self, ctx):
        logits = ops.reshape(ops.cast(self.discriminator(ctx.composite, training=False), "float32"), (-1,))
        return ops.softplus(-logits)


class FeatureMatch(Term):
    r""":math:`\sum_l \lVert \phi_l(G(z)) - \phi_l(x_c)\rVert^2 / \lVert \phi_l(x_c)\rVert^2` over ``layers``.

    Both sides depend on :math:`z` (the composite holds :math:`G(z)` in the hole) and the gradient flows
    through both, as in sem_inpainting's graph: the term is small when :math:`G(z)` looks, to the classifier,
    like the known image completed by itself."""
    name = "features"
    weight = seed_weights()["sem"]

    def __init__(self, extractor, layers=("inception_3b", "inception_4b"), weight: float | None = None, name: str | None = None):
        super().__init__(weight, name)
        self.layers = (layers,) if isinstance(layers, str) else tuple(layers)
        missing = [l for l in self.layers if l not in extractor.output]
        if not self.layers or missing:
            raise InpaintkitError(f"layers: expected layers the extractor returns "
                                  f"({', '.join(extractor.output)}), got {list(self.layers)}")
        self.extractor = extractor

    def __call__(self, ctx):
        out = _outputs(ctx, self.extractor)
        return sum(normalised_error(out[l][0], out[l][1]) for l in self.layers)


class ClassMatch(Term):
    r"""Divergence between the class probabilities of :math:`G(z)` and of :math:`x_c`."""
    name = "class"
    weight = seed_weights()["cat"]

    def __init__(self, extractor, kind: str = "symkl", weight: float | None = None, name: str | None = None):
        super().__init__(weight, name)
        check_choice("kind", kind, tuple(DIVERGENCES))
        if "softmax" not in extractor.output:
            raise InpaintkitError("extractor: expected one that returns the 'softmax' layer, got "
                                  + ", ".join(extractor.output))
        self.extractor, self.kind = extractor, kind

    def __call__(self, ctx):
        p, q = _outputs(ctx, self.extractor)["softmax"]
        return DIVERGENCES[self.kind](p, q)


def guided_terms(classifier, discriminator=None, layers=DEFAULT_LAYERS, *, lambdas: str = DEFAULT_WEIGHTS,
                 lambda_sem=None, lambda_cat=None, lambda_inp=None, divergence: str = "symkl",
                 prior_weight: float = PriorLoss.weight) -> list[Term]:
    """Yeh's context (+ prior) loss and sem_inpainting's three terms.

    ``layers``: hidden layers for the feature term, plus ``"softmax"`` for the class term.
    ``lambdas``: a named weight set (:func:`weights`: ``"tuned"`` or ``"sem_inpainting"``); a
    ``lambda_*`` given overrides its entry. A λ of 0 drops its term; no discriminator drops the prior
    and the adversarial terms."""
    size = int(classifier.input_shape[1])
    lam = weights(lambdas, size)
    lambda_sem = lam["sem"] if lambda_sem is None else lambda_sem
    lambda_cat = lam["cat"] if lambda_cat is None else lambda_cat
    lambda_inp = lam["inp"] if lambda_inp is None else lambda_inp
    layers = () if layers is None else ((layers,) if isinstance(layers, str) else tuple(layers))
    wanted = [l for l in layers if l != "softmax"]
    extractor = googlenet.feature_extractor(classifier, [*wanted, "softmax"])
    terms = default_terms(discriminator, prior_weight)
    if discriminator is not None and lambda_inp:
        terms.append(CompositeAdversarial(discriminator, weight=lambda_inp))
    if wanted and lambda_sem:
        terms.append(FeatureMatch(extractor, wanted, weight=lambda_sem))
    if "softmax" in layers and lambda_cat:
        terms.append(ClassMatch(extractor, divergence, weight=lambda_cat))
    return terms


def guided_search(generator, discriminator, classifier, layers=DEFAULT_LAYERS, *, iters: int = 300,
                  restarts: int = 1, lr: float = 0.01, seed: int = 0, jit: bool | None = None,
                  window: int = WINDOW, **loss_options) -> LatentSearch:
    """A :class:`LatentSearch` with the guided loss (``loss_options`` of :func:`guided_terms`:
    ``lambdas``, ``lambda_sem``, ``lambda_cat``, ``lambda_inp``, ``divergence``, ``prior_weight``). ``jit``: XLA on TensorFlow, by default only
    with a GPU (:func:`inpaintkit.googlenet.auto_jit`); ``window``: the context loss's importance
    window (:func:`inpaintkit.semantic.importance_weights`)."""
    if classifier is None:
        raise InpaintkitError("classifier: expected a GoogLeNet (googlenet.googlenet or classifier.shipped()), got None")
    if tuple(classifier.input_shape[1:3]) != tuple(generator.output_shape[1:3]):
        raise InpaintkitError(f"classifier: expected input size {generator.output_shape[1:3]} like the generator's "
                              f"output, got {classifier.input_shape[1:3]}")
    terms = guided_terms(classifier, discriminator, layers, **loss_options)
    return LatentSearch(generator, terms, iters=iters, restarts=restarts, lr=lr, seed=seed,
                        jit=googlenet.auto_jit(jit), window=window)


def load_models(weights=None):
    """(G, D, classifier): the shipped toy-car DCGAN (or a generator file) and the shipped classifier."""
    from . import classifier, semantic
    G, D = semantic.load_models(weights)
    return G, D, classifier.shipped()


def available_models(preset=None):
    """``(G, D, C, note)``: the shipped DCGAN and classifier when they exist (and fit each other), else
    untrained networks at the preset's size, so a notebook still runs; ``note`` says which."""
    from . import classifier, dcgan, presets, semantic
    from . import weights as registry
    from .data import toycars
    P = presets.active() if preset is None else preset
    if registry.available(semantic.GENERATOR) and registry.available(classifier.SHIPPED):
        G, D = semantic.load_models()
        C = classifier.shipped()
        if C.input_shape[1:3] == G.output_shape[1:3] and D is not None:
            return G, D, C, "shipped DCGAN and classifier"
    s = P.dcgan_size
    G, D = dcgan.generator(s, P.dcgan_width), dcgan.discriminator(s, P.dcgan_width)
    C = googlenet.googlenet(s, len(toycars.CLASSES), width=P.classifier_width)
    return G, D, C, ("UNTRAINED networks (shipped weights missing: scripts/train_dcgan.py, "
                     "scripts/train_classifier.py): the pictures will be noise, the code path is the same")


def inpaint(images, holes, generator=None, discriminator=None, classifier=None, *, preset=None,
            iters=None, restarts=None, layers=DEFAULT_LAYERS, seed: int = 0, snapshot_every=None,
            callback=None, **loss_options):
    """Guided inpainting of a batch at the generator's resolution; defaults from the preset and the
    shipped models. Returns a :class:`~inpaintkit.semantic.SearchResult`."""
    from . import presets
    P = presets.active() if preset is None else (presets.get(preset) if isinstance(preset, str) else preset)
    if generator is None or classifier is None:
        G, D, C = load_models()
        generator = generator or G
        discriminator = discriminator if discriminator is not None else D
        classifier = classifier or C
    search = guided_search(generator, discriminator, classifier, layers,
                           iters=P.latent_iters if iters is None else iters,
                           restarts=P.restarts if restarts is None else restarts, seed=seed, **loss_options)
    images = check_images("images", images)
    if images.ndim == 3:
        images, holes = images[None], check_masks("holes", holes, like=images)[None]
    return search.run(images, holes, callback=callback, snapshot_every=snapshot_every)


def inpaint_image(image, mask, *, weights=None, seed: int = 0) -> np.ndarray:
    """CLI method ``guided``: one image of any size, like :func:`inpaintkit.semantic.inpaint_image`
    (the hole's neighbourhood only)."""
    from .semantic import _fill_neighbourhood, any_size

    def run(image, mask):
        G, D, C = load_models(weights)
        return _fill_neighbourhood(image, mask, G.output_shape[1], lambda x, m: inpaint(x, m, G, D, C, seed=seed))
    return any_size(image, mask, run)
