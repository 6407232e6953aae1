"""Small plotting helpers for notebooks: image grids and a live loss plot."""
from __future__ import annotations

import numpy as np

DPI = 100          # figures in notebooks: at least 100 dpi ...
TITLE_SIZE = 10    # ... and titles of at least 10 pt (14 px at 100 dpi)
MAX_HEIGHT = 8.5   # inches: 850 px at 100 dpi, no taller than about one screen


def _plt():
    import matplotlib.pyplot as plt
    return plt


def show_images(images, titles=None, ncols: int | None = None, size: float = 1.6, suptitle: str | None = None,
                masks=None, cmap=None, row_labels=None):
    """Show a row/grid of [0, 1] RGB images (optionally with holes painted grey). Returns the figure.

    Drawn at :data:`DPI` with titles of :data:`TITLE_SIZE` pt; ``size`` (inches per image) shrinks
    so the grid stays at most 10 in wide and :data:`MAX_HEIGHT` tall. ``cmap``: for 2-D images
    (e.g. a difference map). ``row_labels``: one label per row, written upright left of the row (so
    per-image titles stay short enough not to run into each other)."""
    plt = _plt()
    images = [np.asarray(im) for im in images]
    if masks is not None:
        images = [im * (1 - m) + 0.5 * m for im, m in zip(images, np.asarray(masks))]
    n = len(images)
    ncols = ncols or n
    nrows = int(np.ceil(n / ncols))
    title_h = 0.25 if titles is not None else 0.0
    size = min(size, 10.0 / ncols, (MAX_HEIGHT - (0.35 if suptitle else 0)) / nrows - title_h)
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, (size + title_h) * nrows + (0.35 if suptitle else 0)),
                             squeeze=False, dpi=DPI)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            im = np.clip(images[i], 0, 1)
            if im.ndim == 3 and im.shape[-1] == 1:
                im = im[..., 0]
            if im.ndim == 2:
                ax.imshow(im, interpolation="nearest", cmap=cmap or "gray", vmin=0, vmax=1)
            else:
                ax.imshow(im, interpolation="nearest")
            if titles is not None and i < len(titles):
                ax.set_title(str(titles[i]), fontsize=TITLE_SIZE)
    for r, label in enumerate(row_labels or []):
        if r < nrows:
            axes[r, 0].text(-0.06, 0.5, str(label), transform=axes[r, 0].transAxes, rotation=90,
                            ha="right", va="center", fontsize=TITLE_SIZE)
    if suptitle:
        fig.suptitle(suptitle, fontsize=TITLE_SIZE + 1)
    fig.tight_layout()
    plt.show()
    return fig


class LossPlot:
    """A loss plot that redraws in place in a notebook: use ``plot.update`` as a Loop callback.

    ``keys`` are drawn against the left axis (label ``ylabel``, logarithmic with ``log``); ``right``
    keys (dashed) against a second axis on the right (label ``right_label``, ``right_log``), so
    quantities of very different magnitude (an MSE of 0.005 beside a GAN loss of 12, a loss beside
    accuracies) each keep a readable scale."""

    def __init__(self, keys, title: str = "", log: bool = False, right=(), ylabel: str = "loss",
                 right_label: str = "", right_log: bool = False):
        self.keys = list(keys)
        self.right = list(right)
        self.title = title
        self.log = log
        self.right_log = right_log
        self.ylabel = ylabel
        self.right_label = right_label or ", ".join(self.right)
        self.handle = None

    def figure(self, history):
        plt = _plt()
        fig, ax = plt.subplots(figsize=(6.5, 2.8), dpi=DPI)
        axes = [(ax, self.keys, "-", 0)]
        if self.right:
            axes.append((ax.twinx(), self.right, "--", len(self.keys)))
        lines = []
        for a, keys, style, c0 in axes:
            for i, k in enumerate(keys):
                steps = [h["step"] for h in history if k in h]
                vals = [h[k] for h in history if k in h]
                if vals:
                    lines += a.plot(steps, vals, style, label=k, lw=1.2, color=f"C{c0 + i}")
        ax.set_xlabel("step")
        ax.set_ylabel(self.ylabel + (" (log scale)" if self.log else ""))
        if self.log:
            ax.set_yscale("log")
        if self.right:
            axes[1][0].set_ylabel(self.right_label + (" (log scale)" if self.right_log else ""))
            if self.right_log:
                axes[1][0].set_yscale("log")
        ax.set_title(self.title, fontsize=TITLE_SIZE)
        if lines:
            ax.legend(lines, [ln.get_label() for ln in lines], fontsize=9, loc="best")
        fig.tight_layout()
        return fig

    def update(self, step, history):
        self.handle = redraw(self.handle, self.figure(history))


def redraw(handle, fig):
    """Show ``fig`` in a notebook, replacing the figure shown under ``handle`` (None: a new one).

    Returns the display handle to pass next time; outside a notebook it only closes ``fig``.
    """
    try:
        from IPython import get_ipython
        from IPython.display import display
        in_notebook = get_ipython() is not None
    except ImportError:  # pragma: no cover
        in_notebook = False
    if in_notebook:
        if handle is None:
            handle = display(fig, display_id=True)
        else:
            handle.update(fig)
    _plt().close(fig)
    return handle


def lambda_sweep(sweep: dict, choice: dict | None = None):
    """A λ sweep of the guided search (``scripts/sweep_guided.py``): hole PSNR (left) and the
    independent evaluator's accuracy (right) against the scale of sem_inpainting's λs, one line per
    hole kind with 95 % bootstrap intervals; semantic inpainting (scale 0) as a dashed line of the
    same colour, the chosen scale (``choice``, e.g. ``guided.choose_scale(sweep)``) as a grey bar.
    Returns the figure."""
    plt = _plt()
    points = sorted(sweep["points"].values(), key=lambda p: p["scale"])
    ref = [p for p in points if p["scale"] == 0]
    guided = [p for p in points if p["scale"] > 0]
    if not guided:
        raise ValueError("sweep: expected at least one point with a scale > 0")
    x = np.array([p["scale"] for p in guided])
    fig, axes = plt.subplots(1, 2, figsize=(9.5, 3.4), dpi=DPI)
    for ax, what, label in ((axes[0], "hole_psnr", "hole PSNR (dB)"),
                            (axes[1], "accuracy", "evaluator: class kept")):
        for i, kind in enumerate(sweep["settings"]["kinds"]):
            colour = f"C{i}"
            r = [p["results"][kind][what] for p in guided]
            mean = np.array([v["mean"] for v in r])
            lo, hi = np.array([v["ci95"][0] for v in r]), np.array([v["ci95"][1] for v in r])
            ax.plot(x, mean, "o-", color=colour, label=kind)
            ax.fill_between(x, lo, hi, color=colour, alpha=0.15)
            if ref:
                ax.axhline(ref[0]["results"][kind][what]["mean"], color=colour, ls="--", lw=1)
        if choice and choice.get("scale"):
            ax.axvline(choice["scale"], color="0.5", lw=6, alpha=0.3)
        ax.set_xscale("log")
        ax.set_xlabel("scale of sem_inpainting's λs (log)")
        ax.set_ylabel(label)
        ax.set_title(label + " (dashed: semantic)", fontsize=TITLE_SIZE)
    axes[0].legend(fontsize=9, loc="best")
    fig.tight_layout()
    return fig
