"""Checkpoints that survive any interrupt: models, optimiser state, step and loss history.

:class:`Checkpointer` writes a whole checkpoint or nothing (a temporary folder, read back and
checksummed, then renamed), keeps the one it replaces, and on restore falls back to that one when the
newest is damaged. Files are ``.weights.h5`` (models), ``.npz`` arrays (optimiser state, loaded with
``allow_pickle=False``) and ``state.json``: no pickle. :class:`inpaintkit.training.Loop` saves through it.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
import time
from pathlib import Path

import numpy as np

from . import backend
from .errors import InpaintkitError


class _Damaged(Exception):
    """A checkpoint folder that cannot be read back (truncated, missing or changed files)."""


def _fsync(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _readable(path: Path) -> None:
    """Read every array of a ``.weights.h5`` or ``.npz`` file back; raises _Damaged if it cannot."""
    try:
        if path.name.endswith(".npz"):
            with np.load(path, allow_pickle=False) as data:
                for k in data.files:
                    data[k]
        else:
            import h5py
            with h5py.File(path, "r") as f:
                f.visititems(lambda n, obj: obj[()] if isinstance(obj, h5py.Dataset) else None)
    except Exception as e:  # noqa: BLE001 - h5py OSError, BadZipFile, EOFError, ValueError...
        raise _Damaged(f"{path.name} cannot be read ({type(e).__name__})") from None


def _nonempty(path: Path) -> bool:
    return path.is_dir() and any(path.iterdir())


def _shown(value) -> str:
    return json.dumps(value) if not isinstance(value, float) else f"{value:g}"


class Checkpointer:
    """Saves and restores models, optimiser state, the step and the loss history.

    Saving is atomic: everything is written into ``<dir>.tmp``, read back and checksummed
    (sha256 of every file in ``state.json``), and only then renamed to ``<dir>``; the checkpoint it
    replaces is kept as ``<dir>.prev``. Restoring checks the checksums: a damaged ``<dir>``
    (truncated or missing file, a save stopped between its renames) falls back to ``<dir>.prev`` with
    a warning, or stops with one line when no checkpoint is intact; nothing is ever deleted on
    restore. ``config`` (JSON values, e.g. ``{"--width": 0.25}``) is stored with every checkpoint,
    and resuming with another value for one of its keys is refused by name.
    """

    def __init__(self, directory, models: dict, optimizers: dict | None = None, config: dict | None = None):
        self.directory = Path(directory)
        self.models = dict(models)
        self.optimizers = dict(optimizers or {})
        self.config = json.loads(json.dumps(config)) if config else {}
        self.state: dict = {}           # the state.json restored or saved last (step, wall_s, config...)
        self._intact: Path | None = None  # a folder known intact in this process (skip re-checking it)

    @property
    def state_file(self) -> Path:
        return self.directory / "state.json"

    def _sibling(self, suffix: str) -> Path:
        return self.directory.with_name(self.directory.name + suffix)

    @property
    def previous(self) -> Path:
        return self._sibling(".prev")

    def exists(self) -> bool:
        """Is there anything to resume from (an intact or a damaged checkpoint)?"""
        return bool(self._candidates())

    def _candidates(self) -> list[Path]:
        out = [self.directory]
        if not self.directory.exists():   # a save stopped between its renames: .tmp is the new one
            out += [self._sibling(".tmp"), self._sibling(".old")]       # (.old: saves before atomicity)
        out.append(self.previous)
        return [c for c in out if _nonempty(c)]

    def _files(self) -> list[tuple[str, str, object]]:
        return ([("model", f"{n}.weights.h5", m) for n, m in self.models.items()]
                + [("optimizer", f"{n}.optimizer.npz", o) for n, o in self.optimizers.items()])

    # ----- saving -------------------------------------------------------------------------
    def save(self, step: int, history: list[dict], **extra) -> None:
        """Write a checkpoint at ``step`` (``extra``: more JSON values for state.json, e.g. wall_s)."""
        tmp = self._sibling(".tmp")
        shutil.rmtree(tmp, ignore_errors=True)   # an unfinished save (restore renames a finished one)
        tmp.mkdir(parents=True)
        files = {}
        for kind, fname, obj in self._files():
            path = tmp / fname
            if kind == "model":
                obj.save_weights(str(path))
            else:
                arrays = {f"v{i:04d}": backend.to_numpy(v) for i, v in enumerate(obj.variables)}
                np.savez(path, **arrays)
            _fsync(path)
            _readable(path)                         # verify: read back before it replaces anything
            files[fname] = _sha256(path)
        state = {"step": int(step), "history": history, "backend": backend.NAME, "saved": time.time(),
                 "config": self.config, "files": files, **extra}
        (tmp / "state.json").write_text(json.dumps(state))
        _fsync(tmp / "state.json")
        if json.loads((tmp / "state.json").read_text())["files"] != files:
            raise InpaintkitError(f"checkpoint: expected {tmp / 'state.json'} to read back as written, it did not")
        if self.directory.exists():
            if self._intact == self.directory or self._check(self.directory) is None:
                shutil.rmtree(self.previous, ignore_errors=True)
                self.directory.rename(self.previous)      # the last good one stays until the new one is in
            else:                                         # damaged: kept aside, the good .prev stays
                self.directory.rename(self._free(".damaged"))
        tmp.rename(self.directory)
        _fsync(self.directory.parent)
        self._intact, self.state = self.directory, state

    def _free(self, suffix: str) -> Path:
        path, i = self._sibling(suffix), 1
        while path.exists():
            path, i = self._sibling(f"{suffix}{i}"), i + 1
        return path

    # ----- restoring ----------------------------------------------------------------------
    def _read_state(self, folder: Path) -> dict:
        """state.json of ``folder`` with every listed file's checksum checked; raises _Damaged."""
        file = folder / "state.json"
        if not file.exists():
            raise _Damaged("state.json is missing")
        try:
            state = json.loads(file.read_text())
            int(state["step"]), list(state["history"])
        except (ValueError, KeyError, TypeError) as e:
            raise _Damaged(f"state.json is truncated or not a checkpoint's ({type(e).__name__})") from None
        for fname, digest in state.get("files", {}).items():
            path = folder / fname
            if not path.exists():
                raise _Damaged(f"{fname} is missing")
            if _sha256(path) != digest:
                raise _Damaged(f"{fname} is truncated or changed (sha256 differs from state.json's)")
        return state

    def _check(self, folder: Path) -> str | None:
        """None if ``folder`` holds an intact checkpoint, else what is wrong with it."""
        try:
            state = self._read_state(folder)
            if "files" not in state:                # saved before checksums: read everything back
                for _, fname, _ in self._files():
                    if (folder / fname).exists():
                        _readable(folder / fname)
        except _Damaged as e:
            return str(e)
        return None

    def _compare_config(self, folder: Path, state: dict) -> None:
        saved = state.get("config") or {}
        for key, value in self.config.items():
            if key in saved and saved[key] != value:
                hint = "another --run-dir" if key.startswith("-") else "another directory"
                raise InpaintkitError(f"{key}: checkpoint in {folder} was made with {_shown(saved[key])}, "
                                      f"got {_shown(value)}; use {hint} or the same value")

    def _load(self, folder: Path) -> None:
        import warnings
        for kind, fname, obj in self._files():
            path = folder / fname
            if not path.exists():
                raise _Damaged(f"{fname} is missing")
            _readable(path)
            if kind == "model":
                with warnings.catch_warnings(record=True) as caught:
                    warnings.simplefilter("always")
                    try:
                        obj.load_weights(str(path))
                        skipped = []
                    except Exception as e:  # noqa: BLE001 - Keras raises ValueError with a long message
                        skipped = [str(e)]
                # Keras only warns when parts of a file do not fit (and leaves those layers as they were)
                skipped += [str(w.message) for w in caught if "Skipping" in str(w.message) or "retain" in str(w.message)]
                if skipped:
                    raise InpaintkitError(
                        f"checkpoint: {path} does not fit model {fname.split('.')[0]!r} "
                        f"({obj.count_params():,} parameters), it was made with other settings; use another "
                        f"directory or the same settings ({skipped[0].splitlines()[0][:160]})")
            else:
                with np.load(path, allow_pickle=False) as data:
                    keys = sorted(data.files)
                    if len(keys) != len(obj.variables) or any(
                            tuple(data[k].shape) != tuple(v.shape) for k, v in zip(keys, obj.variables)):
                        raise InpaintkitError(
                            f"checkpoint: optimiser {fname.split('.')[0]!r} has {len(obj.variables)} variables, "
                            f"{path} holds {len(keys)} of other shapes; it was made with other settings: use "
                            f"another directory or the same settings")
                    for var, key in zip(obj.variables, keys):
                        var.assign(data[key])

    def restore(self) -> tuple[int, list[dict]]:
        """Load the last intact checkpoint into the models/optimisers; returns (step, history)."""
        import warnings
        problems = []
        for folder in self._candidates():
            try:
                state = self._read_state(folder)
                self._compare_config(folder, state)
                self._load(folder)
            except _Damaged as e:
                problems.append(f"{folder.name}: {e}")
                continue
            if folder != self.directory:
                why = "; ".join(problems) if problems else f"{self.directory.name} is missing"
                warnings.warn(f"checkpoint: {why}; resuming from {folder} at step {state['step']} instead",
                              RuntimeWarning, stacklevel=2)
                if not self.directory.exists() and folder != self.previous:
                    folder.rename(self.directory)            # finish the save that was stopped
                    folder = self.directory
            self._intact, self.state = folder, state
            return int(state["step"]), list(state["history"])
        if problems:
            raise InpaintkitError(
                f"checkpoint: expected an intact checkpoint in {self.directory}, got only damaged ones "
                f"({'; '.join(problems)}); move them away to start again from step 0")
        return 0, []

    def saved_state(self) -> dict:
        """state.json of the current checkpoint without loading it ({} if none or unreadable)."""
        try:
            return json.loads(self.state_file.read_text())
        except (OSError, ValueError):
            return {}
