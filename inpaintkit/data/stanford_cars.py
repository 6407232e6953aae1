"""Stanford Cars (Krause et al. 2013; 196 classes, 8 144 train + 8 041 test images), when you have it.

The kit never downloads it: get the data set yourself (see ``datasets/README.md``) and point
``load`` at the folder that holds this devkit layout::

    ROOT/
      cars_train/00001.jpg ...
      cars_test/00001.jpg ...
      devkit/cars_meta.mat                    class_names (1 x 196)
      devkit/cars_train_annos.mat             annotations: bbox_x1 bbox_y1 bbox_x2 bbox_y2 class fname
      devkit/cars_test_annos_withlabels.mat   the same for the test set (or cars_test_annos.mat, no labels)

As in sem_inpainting (https://github.com/amarisch/sem_inpainting), every car is cropped to its bounding box and resized to ``size`` x ``size``
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
        raise InpaintkitError(f"root: expected a readable MATLAB file at {str(path)!r}, "
                              f"got {type(e).__name__}: {e}") from None


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


def make_fixture(root, n_train: int = 6, n_test: int = 4, size: int = 48, seed: int = 0, test_labels: bool = True):
    """Write a tiny data set in exactly the devkit layout (toy cars framed by a random border), for tests and demos.

    Each JPEG is a toy car of ``size`` x ``size`` placed at a random offset on a larger noisy canvas; its
    bounding box in the annotations is that square, so ``load(root, size=size)`` gives the cars back.
    Returns ``{split: (toy car images, labels)}`` for comparison.
    """
    import scipy.io
    from PIL import Image

    from . import toycars
    from .pipeline import to_uint8
    root = Path(root).expanduser()
    (root / "devkit").mkdir(parents=True, exist_ok=True)
    names = np.array([[f"Toy {c.replace('_', ' ').title()} 2024" for c in toycars.CLASSES]], dtype=object)
    scipy.io.savemat(str(root / "devkit" / "cars_meta.mat"), {"class_names": names})
    dtype = [("bbox_x1", "O"), ("bbox_y1", "O"), ("bbox_x2", "O"), ("bbox_y2", "O"), ("class", "O"), ("fname", "O")]
    out = {}
    for split, n, k in (("train", n_train, 0), ("test", n_test, 1)):
        images, labels = toycars.generate(n, size, seed * 2 + k)
        rng = np.random.default_rng([seed, k])
        (root / f"cars_{split}").mkdir(exist_ok=True)
        ann = np.zeros((1, n), dtype=dtype if (split == "train" or test_labels) else dtype[:4] + dtype[5:])
        for i in range(n):
            left, top, right, bottom = (int(v) for v in rng.integers(3, size // 2, 4))
            canvas = rng.integers(0, 256, (top + size + bottom, left + size + right, 3), dtype=np.uint8)
            canvas[top:top + size, left:left + size] = to_uint8(images[i])
            fname = f"{i + 1:05d}.jpg"
            Image.fromarray(canvas).save(root / f"cars_{split}" / fname, quality=95)
            box = [np.array([[v]], np.uint16) for v in (left + 1, top + 1, left + size, top + size)]
            cls = [np.array([[labels[i] + 1]], np.uint8)] if len(ann.dtype) == 6 else []
            ann[0, i] = tuple(box + cls + [np.array([fname])])
        mat = "cars_train_annos.mat" if split == "train" else (
            "cars_test_annos_withlabels.mat" if test_labels else "cars_test_annos.mat")
        scipy.io.savemat(str(root / "devkit" / mat), {"annotations": ann})
        out[split] = (images, labels)
    return out


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
    if (folder / f"cars_{split}").is_dir():           # some archives nest cars_train/cars_train/*.jpg
        folder = folder / f"cars_{split}"
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
