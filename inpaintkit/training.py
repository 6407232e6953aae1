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

import contextlib
import csv
import math
import os
import signal
import threading
import time
from pathlib import Path
from typing import Callable, Iterable

import keras
import numpy as np

from . import backend
from .checkpoints import Checkpointer
from .errors import InpaintkitError


class TrainingDiverged(RuntimeError):
    """A loss became NaN or infinite, or exploded past a bound."""


class TrainingInterrupted(KeyboardInterrupt):
    """Ctrl-C (SIGINT) stopped a :class:`Loop`; the checkpoint was saved first.

    A ``KeyboardInterrupt``, so nothing after the loop runs as if training had finished (a script
    must not ship a half-trained model); ``str(e)`` is the one line to show."""

    def __init__(self, name: str, step: int, total: int, directory=None):
        self.name, self.step, self.total = name, int(step), int(total)
        self.directory = None if directory is None else Path(directory)
        where = (f"checkpoint saved in {self.directory}; run the same command again to resume"
                 if directory is not None else "no checkpoint directory, nothing saved")
        super().__init__(f"interrupted at step {self.step} of {total} of {name}; {where}")


class TensorBoardLog:
    """Scalars as a CSV and as TensorBoard event files (``tensorboard --logdir DIR``).

    Event files are written with TensorFlow's protobuf and TFRecord writer, so no
    TensorBoard install is needed to produce them; without TensorFlow only the CSV is written.
    :meth:`begin` at a resumed step drops the CSV rows after it and starts a new event file whose
    first event tells TensorBoard to discard the older files' events from there on (purge), so a
    resumed run's logs hold every step once.
    """

    _count = 0

    def __init__(self, directory):
        self.directory = Path(directory)
        self.directory.mkdir(parents=True, exist_ok=True)
        self._writer = None
        self._begun = False

    def begin(self, step: int | None = None) -> None:
        """Start logging after ``step`` (the step a run resumes from; None: keep what is there)."""
        path = self.directory / "scalars.csv"
        if step is not None and path.exists():
            with path.open(newline="") as f:
                rows = list(csv.reader(f))
            keep = rows[:1] + [r for r in rows[1:] if r and r[0].isdigit() and int(r[0]) <= step]
            if len(keep) != len(rows):
                tmp = path.with_name(path.name + ".tmp")
                with tmp.open("w", newline="") as f:
                    csv.writer(f).writerows(keep)
                os.replace(tmp, path)
        if self._begun:
            return
        self._begun = True
        try:
            import socket

            import tensorflow as tf
            from tensorflow.core.util import event_pb2
            self._pb = event_pb2
            TensorBoardLog._count += 1        # unique even for two logs opened in the same second
            name = (f"events.out.tfevents.{int(time.time())}.{socket.gethostname()}."
                    f"{os.getpid()}.{TensorBoardLog._count}")
            self._writer = tf.io.TFRecordWriter(str(self.directory / name))
            self._writer.write(event_pb2.Event(wall_time=time.time(), file_version="brain.Event:2")
                               .SerializeToString())
            if step:                             # TensorBoard drops earlier files' events from step + 1 on
                self._writer.write(event_pb2.Event(
                    wall_time=time.time(), step=int(step) + 1,
                    session_log=event_pb2.SessionLog(status=event_pb2.SessionLog.START)).SerializeToString())
                self._writer.flush()
        except Exception:  # TensorFlow missing: the CSV still works
            self._writer = None

    def write(self, step: int, logs: dict) -> None:
        if not self._begun:
            self.begin()
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


@contextlib.contextmanager
def deferred_interrupt():
    """Hold Ctrl-C (SIGINT) until the block ends, then raise ``KeyboardInterrupt`` there; a second
    Ctrl-C raises at once. Yields a list that is non-empty once Ctrl-C was pressed (a loop can stop
    between steps). Only in the main thread with Python's own handler in place; elsewhere Ctrl-C
    behaves as usual. Scripts wrap writes that must happen whole (shipped weights + manifest) in it."""
    pending: list = []

    def handler(signum, frame):
        if pending:
            raise KeyboardInterrupt
        pending.append(signum)

    own = (threading.current_thread() is threading.main_thread()
           and signal.getsignal(signal.SIGINT) is signal.default_int_handler)
    if own:
        signal.signal(signal.SIGINT, handler)
    try:
        yield pending
    finally:
        if own:
            signal.signal(signal.SIGINT, signal.default_int_handler)
    if pending:
        raise KeyboardInterrupt


class Loop:
    """Runs ``one_step(i)`` from the last checkpoint up to ``total_steps``.

    Callbacks are ``(every, fn)`` pairs; ``fn(step, history)`` runs every ``every``
    steps and at the end (sample grids, live loss plots). ``max_loss`` turns an
    exploding loss into a clear :class:`TrainingDiverged` error. ``wall_s`` is the training time
    of every run that led to this step (interrupted ones included), stored with the checkpoint.
    """

    def __init__(self, name: str, total_steps: int, *, checkpointer: Checkpointer | None = None,
                 checkpoint_every: int = 0, log_dir=None, callbacks: Iterable = (),
                 max_loss: float = 1e6, resume: bool = True, models: dict | None = None):
        self.name = name
        # the networks whose weights must stay finite (checked at the start, at checkpoints and at the
        # end): a NaN weight does not always reach the loss (some CPUs' ReLU kernels map NaN to 0)
        self.models = dict(models) if models else (dict(checkpointer.models) if checkpointer is not None else {})
        self.total_steps = int(total_steps)
        self.checkpointer = checkpointer
        self.checkpoint_every = int(checkpoint_every)
        self.log = TensorBoardLog(log_dir) if log_dir else None
        self.callbacks = list(callbacks)
        self.max_loss = max_loss
        self.step = 0
        self.history: list[dict] = []
        self.wall_s, self._wall_known, self._t0 = 0.0, False, None
        if resume and checkpointer is not None and checkpointer.exists():
            self.step, self.history = checkpointer.restore()
            self.wall_s, self._wall_known = float(checkpointer.state.get("wall_s", 0.0)), True

    def _check(self, i: int, logs: dict) -> None:
        for k, v in logs.items():
            if not math.isfinite(v):
                raise TrainingDiverged(
                    f"{self.name}: {k} became {v} at step {i}. Lower the learning rate, check the "
                    f"input range ([0, 1]) or restart from the last checkpoint.")
            if abs(v) > self.max_loss:
                raise TrainingDiverged(
                    f"{self.name}: {k} = {v:.3g} at step {i} exceeds {self.max_loss:.3g}; training diverged.")

    def _check_weights(self, i: int) -> None:
        for name, model in self.models.items():
            for w in model.weights:
                v = backend.to_numpy(w)
                if v.dtype.kind == "f" and not np.isfinite(v).all():
                    bad = "nan" if np.isnan(v).any() else "inf"
                    raise TrainingDiverged(
                        f"{self.name}: the weights of {name} ({w.path}) became {bad} by step {i}. Lower the "
                        f"learning rate, check the input range ([0, 1]) or restart from the last checkpoint.")

    def _wall(self) -> float:
        return self.wall_s + (time.perf_counter() - self._t0 if self._t0 is not None else 0.0)

    def save(self) -> None:
        if self.checkpointer is not None:
            self._check_weights(self.step)           # a checkpoint never holds NaN weights
            self.checkpointer.save(self.step, self.history, wall_s=round(self._wall(), 3))

    def run(self, one_step: Callable[[int], dict], until: int | None = None) -> list[dict]:
        """Train up to ``until`` (default: ``total_steps``). Ctrl-C (SIGINT) lets the current step
        finish, saves a checkpoint and raises :class:`TrainingInterrupted` (a second Ctrl-C stops
        the step at once), so that nothing after the loop runs as if training had finished."""
        stop = self.total_steps if until is None else min(int(until), self.total_steps)
        if not self._wall_known and self.checkpointer is not None and self.step:   # step set by a trainer
            saved = self.checkpointer.saved_state()
            self.wall_s = float(saved.get("wall_s", 0.0)) if saved.get("step") == self.step else 0.0
        self._wall_known = True
        if self.log is not None:
            self.log.begin(self.step)          # drop rows logged after the checkpoint by a stopped run
        self._check_weights(self.step)
        bar = _progress(self.total_steps, self.step, self.name)
        t0, done = time.perf_counter(), 0
        self._t0 = t0
        try:
            with deferred_interrupt() as pending:
                while self.step < stop:
                    if pending:
                        raise KeyboardInterrupt
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
                if pending:
                    raise KeyboardInterrupt
                self.seconds = time.perf_counter() - t0
                self.steps_done = done
                for _, fn in self.callbacks:
                    fn(self.step, self.history)
                if self.checkpointer is None:      # save() checks them before it writes
                    self._check_weights(self.step)
                self.save()
        except KeyboardInterrupt:
            ckpt = self.checkpointer
            if ckpt is not None and ckpt.state.get("step") != self.step:
                with deferred_interrupt():
                    self.save()
            raise TrainingInterrupted(self.name, self.step, self.total_steps,
                                      None if ckpt is None else ckpt.directory) from None
        finally:
            self.wall_s, self._t0 = self._wall(), None
            bar.close()
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
