"""Small plotting helpers for notebooks: image grids and a live loss plot."""
from __future__ import annotations

import numpy as np


def _plt():
    import matplotlib.pyplot as plt
    return plt


def show_images(images, titles=None, ncols: int | None = None, size: float = 1.6, suptitle: str | None = None,
                masks=None):
    """Show a row/grid of [0, 1] RGB images (optionally with holes painted grey). Returns the figure."""
    plt = _plt()
    images = [np.asarray(im) for im in images]
    if masks is not None:
        images = [im * (1 - m) + 0.5 * m for im, m in zip(images, np.asarray(masks))]
    n = len(images)
    ncols = ncols or n
    nrows = int(np.ceil(n / ncols))
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows + (0.3 if suptitle else 0)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(np.clip(images[i], 0, 1), interpolation="nearest")
            if titles is not None and i < len(titles):
                ax.set_title(str(titles[i]), fontsize=8)
    if suptitle:
        fig.suptitle(suptitle, fontsize=10)
    fig.tight_layout()
    plt.show()
    return fig


class LossPlot:
    """A loss plot that redraws in place in a notebook: use ``plot.update`` as a Loop callback."""

    def __init__(self, keys, title: str = "", log: bool = False):
        self.keys = list(keys)
        self.title = title
        self.log = log
        self.handle = None

    def figure(self, history):
        plt = _plt()
        fig, ax = plt.subplots(figsize=(6, 2.6))
        for k in self.keys:
            steps = [h["step"] for h in history if k in h]
            vals = [h[k] for h in history if k in h]
            if vals:
                ax.plot(steps, vals, label=k, lw=1)
        ax.set_xlabel("step")
        if self.log:
            ax.set_yscale("log")
        ax.set_title(self.title, fontsize=10)
        ax.legend(fontsize=8)
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
