"""The shared training loop: resume from a checkpoint, NaN detection, logs, Ctrl-C."""
import json

import keras
import numpy as np
import pytest

from inpaintkit import backend, training


def tiny():
    inp = keras.Input((4,))
    x = keras.layers.Dense(8)(inp)
    x = keras.layers.BatchNormalization()(x)
    return keras.Model(inp, keras.layers.Dense(1)(x))


def make(tmp_path, total=12, every=5):
    backend.seed(1)
    model = tiny()
    opt = keras.optimizers.Adam(1e-2)
    rng = np.random.default_rng(0)
    x = rng.normal(size=(32, 4)).astype("float32")
    y = x.sum(1, keepdims=True).astype("float32")

    def loss_fn(x, y):
        return keras.ops.mean((model(x, training=True) - y) ** 2), {}

    step = backend.train_step(loss_fn, model.trainable_weights, opt)
    ckpt = training.Checkpointer(tmp_path / "ckpt", {"m": model}, {"opt": opt})
    loop = training.Loop("t", total, checkpointer=ckpt, checkpoint_every=every, log_dir=tmp_path / "logs")
    return loop, (lambda i: step(x, y)), model, opt


def test_resume_continues_from_saved_step(tmp_path):
    loop, one, model, opt = make(tmp_path)
    loop.run(one, until=5)                       # "interrupted" after 5 steps
    w5 = [backend.to_numpy(v).copy() for v in model.weights]
    it5 = int(backend.to_numpy(opt.iterations))
    loop2, one2, model2, opt2 = make(tmp_path)   # a fresh process would build everything again
    assert loop2.step == 5 and len(loop2.history) == 5
    for a, b in zip(w5, model2.weights):
        np.testing.assert_allclose(a, backend.to_numpy(b))
    assert int(backend.to_numpy(opt2.iterations)) == it5
    hist = loop2.run(one2)
    assert loop2.step == 12 and [h["step"] for h in hist] == list(range(1, 13))
    assert hist[-1]["loss"] < hist[0]["loss"]
    state = json.loads((tmp_path / "ckpt" / "state.json").read_text())
    assert state["step"] == 12
    assert (tmp_path / "logs" / "scalars.csv").read_text().count("\n") == 13


def test_nan_loss_raises_clear_error(tmp_path):
    loop = training.Loop("phase 1", 5)
    with pytest.raises(training.TrainingDiverged, match="phase 1: loss became nan at step 2"):
        loop.run(lambda i: {"loss": float("nan") if i == 2 else 1.0})


def test_nan_weights_with_finite_loss_are_caught_before_a_checkpoint(tmp_path):
    # Some CPUs' graph-mode ReLU maps NaN to 0, so a NaN weight need not reach the loss: the loop checks
    # the weights themselves, and never writes them to a checkpoint.
    loop, one, model, opt = make(tmp_path, total=12, every=5)
    kernel = model.layers[1].kernel

    def step(i):
        if i == 6:
            kernel.assign(np.full(kernel.shape, np.nan, "float32"))
        return {"loss": 1.0}                       # the loss never shows it
    with pytest.raises(training.TrainingDiverged, match=r"t: the weights of m \(.*\) became nan by step 10"):
        loop.run(step)
    assert json.loads((tmp_path / "ckpt" / "state.json").read_text())["step"] == 5


def test_exploding_loss_raises(tmp_path):
    loop = training.Loop("gan", 5, max_loss=100)
    with pytest.raises(training.TrainingDiverged, match="diverged"):
        loop.run(lambda i: {"d_loss": 10.0 ** (i + 1)})


def test_keyboard_interrupt_saves_checkpoint(tmp_path, capsys):
    loop, one, model, opt = make(tmp_path, total=20, every=0)

    def interrupted(i):
        if i == 7:
            raise KeyboardInterrupt
        return one(i)

    with pytest.raises(training.TrainingInterrupted, match="interrupted at step 7 of 20 of t; checkpoint saved in"):
        loop.run(interrupted)                   # propagates: nothing after the loop runs as if it had finished
    assert json.loads((tmp_path / "ckpt" / "state.json").read_text())["step"] == 7


def test_callbacks_run_every_n_steps_and_at_end():
    seen = []
    loop = training.Loop("t", 10, callbacks=[(4, lambda s, h: seen.append(s))])
    loop.run(lambda i: {"loss": 1.0 / (i + 1)})
    assert seen == [4, 8, 10]
    np.testing.assert_allclose(training.losses(loop.history, "loss")[:2], [1.0, 0.5])


def test_train_step_rejects_empty_variables():
    from inpaintkit.errors import InpaintkitError
    with pytest.raises(InpaintkitError, match="variables: expected at least one"):
        backend.train_step(lambda: (0.0, {}), [], keras.optimizers.Adam())


def test_tensorboard_event_file_is_readable(tmp_path):
    tf = pytest.importorskip("tensorflow")
    from tensorflow.core.util import event_pb2
    log = training.TensorBoardLog(tmp_path)
    log.write(3, {"loss": 0.25})
    files = list(tmp_path.glob("events.out.tfevents.*"))
    assert len(files) == 1
    events = [event_pb2.Event.FromString(r.numpy()) for r in tf.data.TFRecordDataset(str(files[0]))]
    assert events[0].file_version == "brain.Event:2"
    assert events[1].step == 3 and events[1].summary.value[0].tag == "loss"
    assert abs(events[1].summary.value[0].simple_value - 0.25) < 1e-7
