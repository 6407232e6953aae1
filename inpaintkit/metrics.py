r"""Inpainting metrics: L1 and PSNR over the hole and over the whole image, SSIM (scikit-image).

All take [0, 1] images ``(H, W, 3)`` or a batch ``(N, H, W, 3)``; for a batch the
per-image values are averaged (the usual way papers report them).

* ``l1``    = mean |pred - target| over pixels and channels.
* ``psnr``  = 10 log10(1 / MSE) dB, MSE over pixels and channels (scikit-image's
  ``peak_signal_noise_ratio``, ``data_range=1``); identical images give ``inf``.
* ``hole_l1``, ``hole_psnr``: the same, averaged over the hole's pixels x channels only:

  .. math:: \mathrm{MSE}_{hole} = \frac{\sum_i m_i \lVert \hat x_i - x_i\rVert^2}{3 \sum_i m_i},\quad
            \mathrm{PSNR}_{hole} = 10 \log_{10} \frac{1}{\mathrm{MSE}_{hole}}

  Images of a batch with an empty hole are skipped; a mask without any hole pixel (one image, or a
  whole batch) raises ``InpaintkitError`` ("mask: expected at least one hole pixel ..."): there is
  nothing to measure, and a silent ``nan`` would poison a mean.
* ``hole_sharpness`` = how much fine detail the hole has compared with the real image: the
  absolute 4-neighbour Laplacian of the grey image summed over the hole, divided by the same sum
  on the target, pooled over a batch. 1 = as much detail as the real image, 0 = a flat colour,
  above 1 = more high-frequency energy than real (noise, checkerboards). Not a quality score by
  itself; it shows the other axis that PSNR (which rewards the blurry average) cannot.
* ``ssim``  = scikit-image ``structural_similarity`` over the whole image, ``channel_axis=-1``,
  ``data_range=1``, a uniform **7 x 7 window** (its default); images smaller than 7 px use the
  largest odd window that fits (>= 3).
"""
from __future__ import annotations

import numpy as np

from .errors import check_images, check_masks, describe, fail

METRICS = ("hole_l1", "hole_psnr", "l1", "psnr", "ssim")
LABELS = {"hole_l1": "hole L1 ↓", "hole_psnr": "hole PSNR (dB) ↑", "l1": "L1 ↓", "psnr": "PSNR (dB) ↑",
          "ssim": "SSIM ↑"}


def _pair(pred, target):
    pred = check_images("pred", pred)
    target = check_images("target", target)
    if pred.shape != target.shape:
        fail("pred", f"shape {target.shape} like target", pred.shape)
    if pred.ndim == 4 and not len(pred):
        fail("pred", "a batch of at least one image", describe(pred))
    return (pred[None], target[None]) if pred.ndim == 3 else (pred, target)


def _triple(pred, target, mask):
    pred, target = _pair(pred, target)
    return pred, target, check_masks("mask", mask, like=pred)


# A perfect fill (e.g. Telea continuing a black night sky exactly) would score +inf and make the
# mean over a test set +inf. Every image here is 8-bit, so no fill can be measured more finely
# than 8-bit quantisation noise, MSE = (range/255)^2 / 12: PSNR is capped at that, 58.9 dB for any range.
PSNR_CAP = float(10 * np.log10(12 * 255.0 ** 2))


def _db(mse: float, data_range: float = 1.0) -> float:
    return PSNR_CAP if mse == 0 else min(PSNR_CAP, float(10 * np.log10(data_range ** 2 / mse)))


def l1(pred, target) -> float:
    """Mean absolute error over all pixels and channels."""
    pred, target = _pair(pred, target)
    return float(np.mean([np.abs(p - t).mean() for p, t in zip(pred, target)]))


def psnr(pred, target, data_range: float = 1.0) -> float:
    """Peak signal-to-noise ratio of the whole image in dB (mean over a batch)."""
    from skimage.metrics import peak_signal_noise_ratio

    pred, target = _pair(pred, target)
    vals = []
    for p, t in zip(pred, target):
        same = np.array_equal(p, t)
        vals.append(PSNR_CAP if same else min(PSNR_CAP, float(peak_signal_noise_ratio(t, p, data_range=data_range))))
    return float(np.mean(vals))


def ssim_window(shape) -> int:
    """The SSIM window side used for an image of this (H, W, ...) shape: 7, or less for tiny images."""
    side = min(shape[0], shape[1])
    if side < 3:
        fail("pred", "images at least 3x3 pixels for SSIM", shape)
    return min(7, side if side % 2 else side - 1)


def ssim(pred, target) -> float:
    """Structural similarity (scikit-image, 7x7 uniform window, data_range 1), mean over a batch."""
    from skimage.metrics import structural_similarity

    pred, target = _pair(pred, target)
    win = ssim_window(pred.shape[1:])
    return float(np.mean([structural_similarity(t, p, channel_axis=-1, data_range=1.0, win_size=win)
                          for p, t in zip(pred, target)]))


def _require_hole(mask) -> None:
    if not (mask > 0).any():
        fail("mask", "at least one hole pixel (1 = hole) for a hole metric",
             f"an empty mask of shape {mask.shape}")


def _hole_means(err, mask):
    """Per-image mean of err over the hole pixels x channels; images with an empty hole dropped
    (a mask with no hole at all is an error)."""
    _require_hole(mask)
    c = err.shape[-1]
    sums = (err * mask).reshape(len(err), -1).sum(1)
    counts = mask.reshape(len(mask), -1).sum(1) * c
    keep = counts > 0
    return sums[keep] / counts[keep]


def hole_l1(pred, target, mask) -> float:
    """Mean |pred - target| over the hole's pixels x channels (mean over a batch)."""
    pred, target, mask = _triple(pred, target, mask)
    return float(_hole_means(np.abs(pred - target), mask).mean())


def hole_psnr(pred, target, mask, data_range: float = 1.0) -> float:
    """PSNR over the hole only: 10 log10(1 / MSE_hole) dB (mean over a batch)."""
    pred, target, mask = _triple(pred, target, mask)
    mses = _hole_means((pred.astype(np.float64) - target) ** 2, mask)
    return float(np.mean([_db(m, data_range) for m in mses]))


def _laplacian(x):
    """|4-neighbour Laplacian| of the grey (channel-mean) images, interior pixels (N, H-2, W-2)."""
    g = x.mean(-1, dtype=np.float64)
    return np.abs(4 * g[:, 1:-1, 1:-1] - g[:, :-2, 1:-1] - g[:, 2:, 1:-1] - g[:, 1:-1, :-2] - g[:, 1:-1, 2:])


def hole_sharpness(pred, target, mask) -> float:
    """Fine detail in the hole relative to the real image: sum of |Laplacian(pred)| over the hole
    / the same for ``target`` (grey, interior pixels, pooled over a batch so that a flat target
    cannot blow one image's ratio up). 1 = as detailed as the real image, 0 = flat; ``nan`` if
    the target is flat in the hole's interior; an empty mask raises ``InpaintkitError``."""
    pred, target, mask = _triple(pred, target, mask)
    _require_hole(mask)
    inner = mask[:, 1:-1, 1:-1, 0]
    real = float((_laplacian(target) * inner).sum())
    return float((_laplacian(pred) * inner).sum() / real) if real > 0 else float("nan")


def evaluate(pred, target, mask) -> dict[str, float]:
    """All metrics at once: ``{'hole_l1', 'hole_psnr', 'l1', 'psnr', 'ssim'}`` (mean over a batch)."""
    pred, target, mask = _triple(pred, target, mask)
    return {"hole_l1": hole_l1(pred, target, mask), "hole_psnr": hole_psnr(pred, target, mask),
            "l1": l1(pred, target), "psnr": psnr(pred, target), "ssim": ssim(pred, target)}


def compare(fills: dict, target, mask, sharpness: bool = True) -> dict[str, dict[str, float]]:
    """``{method: evaluate(fill, target, mask)}`` for ``fills = {method: completed images}``, each
    row with ``'sharpness'`` (:func:`hole_sharpness`) added unless ``sharpness=False``; ready for
    :func:`table`."""
    if not isinstance(fills, dict) or not fills:
        fail("fills", "a non-empty dict {method: completed images}", type(fills).__name__)
    return {name: {**evaluate(fill, target, mask),
                   **({"sharpness": hole_sharpness(fill, target, mask)} if sharpness else {})}
            for name, fill in fills.items()}


def table(results: dict, metrics=METRICS, digits: int = 3) -> str:
    """A markdown table: one row per method of ``results = {method: evaluate(...)}``."""
    if not isinstance(results, dict) or not all(isinstance(r, dict) for r in results.values()):
        fail("results", "a dict {method: {metric: value}}", type(results).__name__)
    metrics = list(metrics)
    head = "| method | " + " | ".join(LABELS.get(m, m) for m in metrics) + " |"
    rule = "|---|" + "---:|" * len(metrics)
    rows = []
    for name, r in results.items():
        cells = []
        for m in metrics:
            v = r.get(m, float("nan"))
            cells.append(f"{v:.{digits}f}" if isinstance(v, (int, float, np.floating)) else str(v))
        rows.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join([head, rule] + rows)


def pivot(results: dict, metric: str = "hole_psnr", digits: int = 2) -> str:
    """A markdown table of one metric: ``results = {row: {column: evaluate(...)}}``
    (e.g. rows = methods, columns = mask kinds)."""
    if not isinstance(results, dict) or not all(isinstance(r, dict) for r in results.values()):
        fail("results", "a dict {row: {column: {metric: value}}}", type(results).__name__)
    cols = list(dict.fromkeys(c for r in results.values() for c in r))
    head = f"| {LABELS.get(metric, metric)} | " + " | ".join(map(str, cols)) + " |"
    rows = [head, "|---|" + "---:|" * len(cols)]
    for name, r in results.items():
        rows.append(f"| {name} | " + " | ".join(
            f"{r[c].get(metric, float('nan')):.{digits}f}" if c in r else "" for c in cols) + " |")
    return "\n".join(rows)
