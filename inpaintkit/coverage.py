"""Mode coverage: does a generator draw every kind of thing in its data?

A collapsed GAN draws a few kinds of car over and over; a per-image score does not see it, the class
histogram of many samples under a classifier does (:func:`coverage`, drawn by :func:`plot_coverage`).
:func:`agreement` is the second opinion: how often two classifiers name the same class. The bar a
shipped DCGAN must pass: normalised entropy >= 0.97 and every class >= 9 % of the samples.
Also reachable as ``dcgan.coverage`` etc.
"""
from __future__ import annotations

import numpy as np

from . import backend
from .errors import InpaintkitError, check_int


def class_shares(probs, n_classes: int | None = None) -> np.ndarray:
    """Share of samples assigned to each class (argmax of a classifier's probabilities)."""
    probs = np.asarray(probs)
    k = probs.shape[1] if n_classes is None else int(n_classes)
    return np.bincount(probs.argmax(axis=1), minlength=k).astype(np.float64) / len(probs)


def coverage_stats(shares) -> dict:
    """Normalised entropy (1 = every class equally often, 0 = one class) and the rarest class's share."""
    shares = np.asarray(shares, np.float64)
    nz = shares[shares > 0]
    entropy = float(-(nz * np.log(nz)).sum() / np.log(len(shares)))
    return {"entropy": round(entropy, 4), "min_share": round(float(shares.min()), 4),
            "shares": [round(float(s), 4) for s in shares]}


def agreement(probs, other_probs) -> float:
    """Share of images two classifiers give the same top class (``(N, K)`` probabilities each).

    A second opinion on a coverage histogram: on real toy cars the GoogLeNet classifier and the
    independent evaluator (another architecture, other training cars) agree on ~98 % of the images;
    on generated cars a low agreement means cars that are no clear kind of car, whose class in the
    histogram says more about the classifier than about the generator."""
    a, b = np.asarray(probs), np.asarray(other_probs)
    if a.ndim != 2 or a.shape != b.shape or len(a) == 0:
        raise InpaintkitError(f"other_probs: expected (N, K) probabilities like probs {a.shape}, got {b.shape}")
    return round(float(np.mean(a.argmax(1) == b.argmax(1))), 4)


COVERS_ENTROPY, COVERS_MIN_SHARE = 0.97, 0.09   # "covers the data": the bar a shipped DCGAN must pass


def meets_bar(stats) -> bool:
    """Whether :func:`coverage_stats` ``stats`` cover the data: entropy >= 0.97 and every class >= 9 %."""
    return bool(stats["entropy"] >= COVERS_ENTROPY and stats["min_share"] >= COVERS_MIN_SHARE)


def coverage(G, classifier, n: int = 2048, seed: int = 1, class_names=None, batch_size: int = 256,
             keep: bool = False) -> dict:
    """How much of the data a generator covers: the class histogram of ``n`` samples under a classifier.

    A collapsed GAN draws a few kinds of car over and over, which a per-image score (sharpness, a
    classifier's confidence, pixel diversity) does not see; the class histogram does. Returns the
    share of samples per class, its normalised entropy ``H / log K`` (1.0 = uniform) and the rarest
    class's share; ``covers`` is True when entropy >= 0.97 and every class has >= 9 % of samples.
    ``keep=True`` also returns the ``samples`` and the classifier's ``probs`` (to look at them again
    without drawing and classifying them twice).
    """
    n = check_int("n", n, minimum=1)
    from .dcgan import sample
    samples = sample(G, n, seed)
    probs = np.concatenate([backend.to_numpy(classifier(samples[i:i + batch_size], training=False))
                            for i in range(0, n, batch_size)])
    stats = coverage_stats(class_shares(probs))
    stats.update(n=n, covers=meets_bar(stats))
    if class_names is not None:
        if len(class_names) != len(stats["shares"]):
            raise InpaintkitError(f"class_names: expected {len(stats['shares'])} names, got {len(class_names)}")
        stats["classes"] = list(class_names)
    if keep:
        stats.update(samples=samples, probs=probs)
    return stats


def plot_coverage(stats: dict, real: dict | None = None, ax=None, title: str | None = None):
    """Bar chart of the class shares (and the real data's, if given) with the uniform share marked."""
    import matplotlib.pyplot as plt
    shares = np.asarray(stats["shares"])
    names = stats.get("classes") or [str(i) for i in range(len(shares))]
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 3), dpi=100)
    x = np.arange(len(shares))
    w = 0.4 if real is not None else 0.7
    ax.bar(x - (w / 2 if real is not None else 0), 100 * shares, w, label="generated samples")
    if real is not None:
        ax.bar(x + w / 2, 100 * np.asarray(real["shares"]), w, label="real toy cars", alpha=0.7)
    ax.axhline(100 / len(shares), color="k", ls="--", lw=1, label="uniform")
    ax.axhline(100 * COVERS_MIN_SHARE, color="tab:red", ls=":", lw=1, label=f"{100 * COVERS_MIN_SHARE:.0f} % bar")
    ax.set_xticks(x, names, rotation=20)
    ax.set_ylabel("% of samples")
    ax.set_title(title or f"class histogram of {stats.get('n', '?')} samples: normalised entropy "
                          f"{stats['entropy']:.2f}, rarest class {100 * stats['min_share']:.1f} %", fontsize=10)
    ax.legend(fontsize=8, loc="upper right")
    return ax
