"""The training loop every trainer shares: progress bar, history, checkpoints,
resume after an interrupt, NaN detection and TensorBoard-compatible logs.

A trainer supplies ``one_step(i) -> dict of floats`` (usually calling steps made
by :func:`inpaintkit.backend.train_step`) and lets :class:`Loop` drive it::

    ckpt = Checkpointer("runs/phase1", models={"completion": net}, optimizers={"opt": opt})
    loop = Loop("phase 1", total_steps=400, checkpointer=ckpt, checkpoint_every=100)
    history = loop.run(one_step)          # resumes from runs/phase1 if a checkpoint is there

Checkpoints are ``.weights.h5`` files (models), ``.npz`` arrays (optimiser state,
loaded with ``allow_pickle=False``) and a JSON file (step and loss history): no pickle.
"""
from __future__ import annotations

import csv
import json
import math
import os
import shutil
import time
from pathlib import Path
from typing import Callable, Iterable

import keras
import numpy as np

from . import backend
from .errors import InpaintkitError


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite, or exploded past a bound."""


class Checkpointer:
    """Saves and restores models, optimiser state, the step and the loss history."""

    def __init__(self, directory, models: dict, optimizers: dict | None = None):
        self.directory = Path(directory)
        self.models = dict(models)
        self.optimizers = dict(optimizers or {})

    @property
    def state_file(self) -> Path:
        return self.directory / "state.json"

    def exists(self) -> bool:
        return self.state_file.exists()

    def save(self, step: int, history: list[dict]) -> None:
        tmp = self.directory.with_name(self.directory.name + ".tmp")
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
        for name, model in self.models.items():
            model.save_weights(str(tmp / f"{name}.weights.h5"))
        for name, opt in self.optimizers.items():
            arrays = {f"v{i:04d}": backend.to_numpy(v) for i, v in enumerate(opt.variables)}
            np.savez(tmp / f"{name}.optimizer.npz", **arrays)
        state = {"step": int(step), "history": history, "backend": backend.NAME, "saved": time.time()}
        (tmp / "state.json").write_text(json.dumps(state))
        old = self.directory.with_name(self.directory.name + ".old")
        shutil.rmtree(old, ignore_errors=True)
        if self.directory.exists():
            self.directory.rename(old)
        tmp.rename(self.directory)
        shutil.rmtree(old, ignore_errors=True)

    def restore(self) -> tuple[int, list[dict]]:
        """Load the last checkpoint into the models/optimisers; returns (step, history)."""
        if not self.exists():
            return 0, []
        for name, model in self.models.items():
            path = self.directory / f"{name}.weights.h5"
            if not path.exists():
                raise InpaintkitError(f"checkpoint: expected {path} (model {name!r}), it is missing")
            model.load_weights(str(path))
        for name, opt in self.optimizers.items():
            path = self.directory / f"{name}.optimizer.npz"
            with np.load(path, allow_pickle=False) as data:
                keys = sorted(data.files)
                if len(keys) != len(opt.variables):
                    raise InpaintkitError(
                        f"checkpoint: optimiser {name!r} has {len(opt.variables)} variables, "
                        f"{path} holds {len(keys)}; was it saved by another configuration?")
                for var, key in zip(opt.variables, keys):
                    var.assign(data[key])
        state = json.loads(self.state_file.read_text())
        return int(state["step"]), list(state["history"])


class TensorBoardLog:
    """Scalars as a CSV and as TensorBoard event files (``tensorboard --logdir DIR``).

    Event files are written with TensorFlow's protobuf and TFRecord writer, so no
    TensorBoard install is needed to produce them; without TensorFlow only the CSV is written.
    """

    def __init__(self, directory):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._writer = None
        try:
            import socket

            import tensorflow as tf
            from tensorflow.core.util import event_pb2
            self._pb = event_pb2
            name = f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}"
            self._writer = tf.io.TFRecordWriter(str(self.directory / name))
            self._writer.write(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2")
                               .SerializeToString())
        except Exception:  # TensorFlow missing: the CSV still works
            self._writer = None

    def write(self, step: int, logs: dict) -> None:
        path = self.directory / "scalars.csv"
        new = not path.exists()
        with path.open("a", newline="") as f:
            w = csv.writer(f)
            if new:
                w.writerow(["step", "name", "value"])
            for k, v in logs.items():
                w.writerow([step, k, v])
        if self._writer is not None:
            from tensorflow.core.framework import summary_pb2
            summary = summary_pb2.Summary(value=[summary_pb2.Summary.Value(tag=k, simple_value=float(v))
                                                 for k, v in logs.items()])
            self._writer.write(self._pb.Event(wall_time=time.time(), step=int(step), summary=summary)
                               .SerializeToString())
            self._writer.flush()


def _progress(total: int, initial: int, desc: str):
    from .nbdisplay import progress      # in a notebook: text updated in place, so a saved one shows the end
    return progress(total, initial, desc, disable=os.environ.get("INPAINTKIT_NO_PROGRESS") == "1")


class Loop:
    """Runs ``one_step(i)`` from the last checkpoint up to ``total_steps``.

    Callbacks are ``(every, fn)`` pairs; ``fn(step, history)`` runs every ``every``
    steps and at the end (sample grids, live loss plots). ``max_loss`` turns an
    exploding loss into a clear :class:`TrainingDiverged` error.
    """

    def __init__(self, name: str, total_steps: int, *, checkpointer: Checkpointer | None = None,
                 checkpoint_every: int = 0, log_dir=None, callbacks: Iterable = (),
                 max_loss: float = 1e6, resume: bool = True):
        self.name = name
        self.total_steps = int(total_steps)
        self.checkpointer = checkpointer
        self.checkpoint_every = int(checkpoint_every)
        self.log = TensorBoardLog(log_dir) if log_dir else None
        self.callbacks = list(callbacks)
        self.max_loss = max_loss
        self.step = 0
        self.history: list[dict] = []
        if resume and checkpointer is not None and checkpointer.exists():
            self.step, self.history = checkpointer.restore()

    def _check(self, i: int, logs: dict) -> None:
        for k, v in logs.items():
            if not math.isfinite(v):
                raise TrainingDiverged(
                    f"{self.name}: {k} became {v} at step {i}. Lower the learning rate, check the "
                    f"input range ([0, 1]) or restart from the last checkpoint.")
            if abs(v) > self.max_loss:
                raise TrainingDiverged(
                    f"{self.name}: {k} = {v:.3g} at step {i} exceeds {self.max_loss:.3g}; training diverged.")

    def save(self) -> None:
        if self.checkpointer is not None:
            self.checkpointer.save(self.step, self.history)

    def run(self, one_step: Callable[[int], dict], until: int | None = None) -> list[dict]:
        """Train up to ``until`` (default: ``total_steps``). Ctrl-C saves a checkpoint first."""
        stop = self.total_steps if until is None else min(int(until), self.total_steps)
        bar = _progress(self.total_steps, self.step, self.name)
        t0, done = time.perf_counter(), 0
        try:
            while self.step < stop:
                logs = one_step(self.step)
                self._check(self.step, logs)
                self.step += 1
                done += 1
                logs = {k: float(v) for k, v in logs.items()}
                self.history.append({"step": self.step, **logs})
                if self.log is not None:
                    self.log.write(self.step, logs)
                bar.set_postfix({k: f"{v:.4g}" for k, v in logs.items()}, refresh=False)
                bar.update(1)
                for every, fn in self.callbacks:        # first: they may add to this step's logs
                    if every and self.step % every == 0 and self.step < stop:
                        fn(self.step, self.history)
                if self.checkpoint_every and self.step % self.checkpoint_every == 0:
                    self.save()
        except KeyboardInterrupt:
            self.save()
            bar.close()
            print(f"{self.name}: interrupted at step {self.step}; checkpoint saved, run again to resume.")
            return self.history
        finally:
            bar.close()
        self.seconds = time.perf_counter() - t0
        self.steps_done = done
        for _, fn in self.callbacks:
            fn(self.step, self.history)
        self.save()
        return self.history


def losses(history: list[dict], key: str) -> np.ndarray:
    """One loss curve out of a history: array of shape (steps,)."""
    return np.array([h[key] for h in history if key in h], dtype=np.float64)


def precise_batchnorm(model, batches: Iterable) -> int:
    """Re-estimate every BatchNormalization's moving mean and variance as the plain average over
    ``batches`` (inputs as the model is called in training), instead of the exponential average
    left by training ("precise BN", Wu & Johnson 2021). With GLCIC's momentum 0.9 the moving
    statistics remember only the last ~10 batches, and a model evaluated in inference mode is then
    measurably biased. Only the statistics change (no weight is trained). Returns the batch count."""
    def walk(m):
        for layer in getattr(m, "layers", []):
            yield layer
            yield from walk(layer)
    bns = [layer for layer in walk(model) if isinstance(layer, keras.layers.BatchNormalization)]
    if not bns:
        raise InpaintkitError("model: expected a model with BatchNormalization layers, got none")
    momentum = [b.momentum for b in bns]
    seen = 0
    try:
        for x in batches:
            for b in bns:            # moving <- moving * k/(k+1) + batch / (k+1): the running mean
                b.momentum = seen / (seen + 1)
            model(x, training=True)
            seen += 1
    finally:
        for b, m in zip(bns, momentum):
            b.momentum = m
    return seen
