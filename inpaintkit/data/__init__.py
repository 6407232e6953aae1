"""Data for the kit, all as float32 images in [0, 1] (see ``inpaintkit/__init__.py``).

* ``toycars``: procedural labelled vehicle side views (``generate(n, size, seed) -> images, labels``);
* ``photos``: random patches of scikit-image's bundled colour photos (``patches(n, size, seed, split)``);
* ``stanford_cars``: the real Stanford Cars devkit layout, if you have it (``stanford_cars.load(root)``);
* ``folder``: any folder of images (``load_folder``), single files (``load_image``, ``save_image``);
* ``pipeline``: ``to_float``/``to_uint8``, splits and the shuffling ``batches`` iterator.
"""
from . import folder, photos, pipeline, stanford_cars, toycars  # noqa: F401
from .folder import load_folder, load_image, save_image  # noqa: F401
from .photos import PHOTOS, patches  # noqa: F401
from .pipeline import (batches, keras_dataset, mean_pixel, split_indices, splits, to_float,  # noqa: F401
                       to_uint8, toycar_splits)
from .toycars import CLASSES, generate  # noqa: F401

__all__ = ["folder", "photos", "pipeline", "stanford_cars", "toycars",
           "load_folder", "load_image", "save_image", "PHOTOS", "patches",
           "batches", "keras_dataset", "mean_pixel", "split_indices", "splits", "to_float", "to_uint8",
           "toycar_splits", "CLASSES", "generate"]
