"""Stanford Cars (Krause et al. 2013; 196 classes, 8 144 train + 8 041 test images), when you have it.

The kit never downloads it: get the data set yourself (see ``datasets/README.md``) and point
``load`` at the folder that holds this devkit layout::

    ROOT/
      cars_train/00001.jpg ...
      cars_test/00001.jpg ...
      devkit/cars_meta.mat                    class_names (1 x 196)
      devkit/cars_train_annos.mat             annotations: bbox_x1 bbox_y1 bbox_x2 bbox_y2 class fname
      devkit/cars_test_annos_withlabels.mat   the same for the test set (or cars_test_annos.mat, no labels)

As in seed 001, every car is cropped to its bounding box and resized to ``size`` x ``size``
(stretched, so the whole car stays in the picture).

    images, labels, class_names = load("~/data/stanford_cars", split="train", size=64)
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

from ..errors import InpaintkitError, check_choice, check_int, fail
from .folder import fit, load_image

LAYOUT = """expected the Stanford Cars devkit layout:
  ROOT/cars_train/*.jpg
  ROOT/cars_test/*.jpg
  ROOT/devkit/cars_meta.mat
  ROOT/devkit/cars_train_annos.mat
  ROOT/devkit/cars_test_annos_withlabels.mat  (or cars_test_annos.mat, without labels)
(see datasets/README.md for the manual download)"""

_ANNOS = {"train": ("cars_train_annos.mat",), "test": ("cars_test_annos_withlabels.mat", "cars_test_annos.mat")}


def _layout_error(root, what: str):
    raise InpaintkitError(f"root: {str(root)!r} is not a Stanford Cars folder ({what}); {LAYOUT}")


def _find(root: Path, names) -> Path | None:
    for name in names:
        for folder in (root / "devkit", root):
            if (folder / name).is_file():
                return folder / name
    return None


def _loadmat(path: Path) -> dict:
    import scipy.io
    try:
        return scipy.io.loadmat(str(path))
    except Exception as e:  # noqa: BLE001 - scipy raises many kinds for a damaged file
        raise InpaintkitError(f"root: expected a readable MATLAB file at {str(path)!r}, got {type(e).__name__}: {e}") from None


def _scalar(v):
    return np.asarray(v).ravel()[0]


def class_names(root) -> tuple:
    """The 196 class names from ``devkit/cars_meta.mat`` (index 0 is the .mat files' class 1)."""
    root = Path(root).expanduser()
    meta = _find(root, ("cars_meta.mat",))
    if meta is None:
        _layout_error(root, "devkit/cars_meta.mat not found")
    m = _loadmat(meta)
    if "class_names" not in m:
        _layout_error(root, f"{meta.name} has no 'class_names'")
    return tuple(str(_scalar(c)) for c in np.asarray(m["class_names"]).ravel())


def annotations(root, split: str = "train") -> list:
    """``[(file name, (x1, y1, x2, y2), label or -1), ...]`` with 0-based labels and 1-based inclusive boxes."""
    check_choice("split", split, ("train", "test"))
    root = Path(root).expanduser()
    path = _find(root, _ANNOS[split])
    if path is None:
        _layout_error(root, f"devkit/{' or devkit/'.join(_ANNOS[split])} not found")
    m = _loadmat(path)
    if "annotations" not in m:
        _layout_error(root, f"{path.name} has no 'annotations'")
    ann = np.asarray(m["annotations"]).ravel()
    fields = ann.dtype.names or ()
    need = ("bbox_x1", "bbox_y1", "bbox_x2", "bbox_y2", "fname")
    if not all(f in fields for f in need):
        _layout_error(root, f"{path.name} annotations lack fields {[f for f in need if f not in fields]}")
    out = []
    for rec in ann:
        box = tuple(int(_scalar(rec[f])) for f in need[:4])
        label = int(_scalar(rec["class"])) - 1 if "class" in fields else -1
        out.append((str(_scalar(rec["fname"])), box, label))
    return out


def crop_box(image: np.ndarray, box) -> np.ndarray:
    """Crop a 1-based inclusive MATLAB box ``(x1, y1, x2, y2)``, clamped to the image."""
    h, w = image.shape[:2]
    x1, y1, x2, y2 = box
    x1, y1 = min(max(x1 - 1, 0), w - 1), min(max(y1 - 1, 0), h - 1)
    x2, y2 = max(min(x2, w), x1 + 1), max(min(y2, h), y1 + 1)
    return image[y1:y2, x1:x2]


def load(root, split: str = "train", size: int = 64, limit: int | None = None, crop: bool = True):
    """Stanford Cars ``split`` as ``(images float32 (N, size, size, 3) in [0, 1], labels int64 (N,), class_names)``.

    Labels are 0-based (``class_names[label]``); -1 when the test annotations carry no labels.
    ``crop=False`` keeps the whole photo (centre square) instead of the bounding box.
    """
    check_choice("split", split, ("train", "test"))
    size = check_int("size", size, 8, 1024)
    root = Path(root).expanduser()
    if not root.is_dir():
        _layout_error(root, "no such folder")
    folder = root / f"cars_{split}"
    if not folder.is_dir():
        _layout_error(root, f"cars_{split}/ not found")
    names = class_names(root)
    ann = annotations(root, split)
    if limit is not None:
        ann = ann[:check_int("limit", limit, 1)]
    images, labels = np.empty((len(ann), size, size, 3), np.float32), np.empty(len(ann), np.int64)
    for i, (fname, box, label) in enumerate(ann):
        path = folder / fname
        if not path.is_file():
            fail("root", f"image {fname!r} listed in the annotations inside cars_{split}/", "a missing file")
        image = load_image(path)
        images[i] = fit(crop_box(image, box), size, "stretch") if crop else fit(image, size, "crop")
        if label >= len(names):
            fail("root", f"class indices 1..{len(names)} in the annotations", label + 1)
        labels[i] = label
    return images, labels, names
