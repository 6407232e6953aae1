"""Shipped weights: ``.weights.h5`` files plus ``manifest.json``.

Each manifest entry records how the file was made (the exact command, preset,
steps, seed, wall time), its measured metrics, its sha256, and how to build the
model it belongs to (``builder`` = ``"module:function"`` and its ``config``)::

    from inpaintkit import weights
    net = weights.load("glcic_photos")          # built, checked and loaded
    weights.entry("glcic_photos")["metrics"]

Loading never unpickles anything: ``.weights.h5`` is plain HDF5.
"""
from __future__ import annotations

import hashlib
import importlib
import json
from pathlib import Path

import numpy as np

from ..errors import InpaintkitError

HERE = Path(__file__).resolve().parent
MANIFEST = HERE / "manifest.json"


RESTORE = ("restore it with `git checkout -- inpaintkit/weights/{file}` in a clone of the kit, "
           "or reinstall inpaintkit (pip install --force-reinstall)")


def manifest() -> dict:
    if not MANIFEST.exists():
        return {}
    try:
        m = json.loads(MANIFEST.read_text())
    except (ValueError, UnicodeDecodeError) as e:
        raise InpaintkitError(f"weights manifest: expected valid JSON in {MANIFEST}, got a damaged file "
                              f"({str(e).splitlines()[0][:80]}); " + RESTORE.format(file=MANIFEST.name)) from None
    if not isinstance(m, dict):
        raise InpaintkitError(f"weights manifest: expected a JSON object in {MANIFEST}, got {type(m).__name__}; "
                              + RESTORE.format(file=MANIFEST.name))
    return m


def names() -> list[str]:
    return sorted(manifest())


def glcic_names() -> list[str]:
    """The shipped GLCIC completion networks (not their discriminators)."""
    return [n for n in names() if n.startswith("glcic_") and not n.endswith("_disc")]


def available(name: str) -> bool:
    return name in manifest() and (HERE / manifest()[name]["file"]).exists()


def entry(name: str) -> dict:
    m = manifest()
    if name not in m:
        raise InpaintkitError(f"weights: expected one of {', '.join(sorted(m)) or '(none shipped)'}, got {name!r}")
    return m[name]


def sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def path(name: str, verify: bool = True) -> Path:
    """The file of shipped weights ``name``, checked against the manifest's sha256."""
    e = entry(name)
    p = HERE / e["file"]
    if not p.exists():
        raise InpaintkitError(f"weights {name!r}: expected the shipped file {p}, it is missing; "
                              + RESTORE.format(file=p.name))
    if verify and sha256(p) != e["sha256"]:
        raise InpaintkitError(
            f"weights {name!r}: {p.name} does not match the manifest's sha256 {e['sha256'][:12]}...; "
            f"the file is corrupt or was replaced. Retrain it with: {e.get('command', '?')}")
    return p


def build(name: str):
    """Build the (untrained) model that shipped weights ``name`` belong to."""
    e = entry(name)
    module, fn = e["builder"].split(":")
    return getattr(importlib.import_module(module), fn)(**e.get("config", {}))


def load(name: str, model=None):
    """Build the model for ``name`` (or use ``model``) and load the shipped weights into it."""
    p = path(name)
    if model is None:
        model = build(name)
    load_file(model, p, what=f"weights {name!r}")
    return model


def load_file(model, file, what: str = "weights") -> None:
    """Load a ``.weights.h5`` file into ``model`` with a clear error on a mismatch."""
    file = Path(file)
    if not file.exists():
        raise InpaintkitError(f"{what}: expected an existing .weights.h5 file, got {str(file)!r}")
    if not file.name.endswith(".weights.h5"):
        raise InpaintkitError(f"{what}: expected a file ending in .weights.h5, got {file.name!r}")
    import warnings
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model.load_weights(str(file))
        except Exception as e:  # keras raises ValueError with a long message
            raise InpaintkitError(
                f"{what}: {file.name} does not fit model {model.name!r} "
                f"({model.count_params():,} parameters): {str(e).splitlines()[0][:200]}") from None
    # Keras only *warns* when parts of a file do not match and leaves those layers
    # untrained: a silent wrong result, so it is an error here.
    skipped = [str(w.message) for w in caught if "retain" in str(w.message) or "Skipping" in str(w.message)]
    if skipped:
        raise InpaintkitError(f"{what}: {file.name} does not fit model {model.name!r}: {skipped[0][:200]}")


def save_file(model, file) -> None:
    """Save ``model``'s weights to ``file`` (``.weights.h5``, as trained) through a partial file that
    replaces it only when whole: an interrupt leaves the old file or the new one, never half of one."""
    file = Path(file)
    file.parent.mkdir(parents=True, exist_ok=True)
    part = file.with_name(f".{file.name[:-len('.weights.h5')]}.partial.weights.h5")
    model.save_weights(str(part))
    part.replace(file)


def save_compact(model, file) -> None:
    """Save ``model`` weights as ``.weights.h5`` with float arrays stored as float16."""
    import h5py

    file = Path(file)
    part = file.with_name(f".{file.name[:-len('.weights.h5')]}.partial.weights.h5")   # the old file stays
    model.save_weights(str(part))                                                    # until the new is whole
    with h5py.File(part, "r+") as f:
        items = []
        f.visititems(lambda n, obj: items.append(n) if isinstance(obj, h5py.Dataset) else None)
        for n in items:
            d = f[n]
            if d.dtype == np.float32:
                data = d[()]
                del f[n]
                f.create_dataset(n, data=data.astype(np.float16))
    # HDF5 never reclaims the space of deleted datasets: copy into a fresh file to shrink it
    tmp = file.with_name(file.name + ".tmp")
    with h5py.File(part, "r") as src, h5py.File(tmp, "w") as dst:
        for k, v in src.attrs.items():
            dst.attrs[k] = v
        for name in src:
            src.copy(src[name], dst, name=name)
    part.unlink()
    tmp.replace(file)


def record(name: str, file, *, builder: str, config: dict, command: str, preset: str,
           steps: dict, seed: int, wall_time_s: float, metrics: dict, notes: str = "") -> dict:
    """Add or replace the manifest entry for ``name`` (used by the scripts/train_*.py scripts)."""
    file = Path(file)
    m = manifest()
    m[name] = {
        "file": file.name, "sha256": sha256(file), "bytes": file.stat().st_size,
        "builder": builder, "config": config, "command": command, "preset": preset,
        "steps": steps, "seed": seed, "wall_time_s": round(float(wall_time_s), 1),
        "metrics": metrics, "notes": notes,
    }
    tmp = MANIFEST.with_name(MANIFEST.name + ".tmp")          # atomic: never a half-written manifest
    tmp.write_text(json.dumps(m, indent=2, sort_keys=True) + "\n")
    tmp.replace(MANIFEST)
    return m[name]


SHIP_DIR_ENV = "INPAINTKIT_SHIP_DIR"


def use_directory(directory=None) -> None:
    """Read and write shipped weights (files and manifest) in ``directory`` instead of the package's
    folder; the ``scripts/train_*.py`` scripts call it with ``$INPAINTKIT_SHIP_DIR`` when that is set
    (tests ship into a temporary folder). ``None``: that variable, or no change when it is unset."""
    import os
    global HERE, MANIFEST
    directory = directory or os.environ.get(SHIP_DIR_ENV)
    if directory:
        HERE = Path(directory).resolve()
        HERE.mkdir(parents=True, exist_ok=True)
        MANIFEST = HERE / "manifest.json"
