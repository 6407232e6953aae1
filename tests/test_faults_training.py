"""Faults during training (issue 17): Ctrl-C, damaged checkpoints, a save stopped between its
renames, a resume with other settings, logs after a resume. Nothing lost, one clear line."""
import csv
import hashlib
import importlib.util
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import keras
import numpy as np
import pytest

from inpaintkit import backend, training, weights
from inpaintkit.errors import InpaintkitError

ROOT = Path(__file__).resolve().parents[1]


def tiny(units=8):
    inp = keras.Input((4,))
    x = keras.layers.Dense(units)(inp)
    x = keras.layers.BatchNormalization()(x)
    return keras.Model(inp, keras.layers.Dense(1)(x))


def make(tmp_path, total=20, every=5, units=8, config=None, fail_at=None):
    """A tiny Loop checkpointing to tmp_path/ckpt; ``fail_at``: a crash (not Ctrl-C) at that step."""
    backend.seed(1)
    model = tiny(units)
    opt = keras.optimizers.Adam(1e-2)
    x = np.random.default_rng(0).normal(size=(16, 4)).astype("float32")
    y = x.sum(1, keepdims=True)

    def loss_fn(x, y):
        return keras.ops.mean((model(x, training=True) - y) ** 2), {}

    step = backend.train_step(loss_fn, model.trainable_weights, opt)

    def one(i):
        if i == fail_at:
            raise RuntimeError("power cut")
        return step(x, y)

    ckpt = training.Checkpointer(tmp_path / "ckpt", {"m": model}, {"opt": opt}, config=config)
    loop = training.Loop("t", total, checkpointer=ckpt, checkpoint_every=every, log_dir=tmp_path / "logs")
    return loop, one


def digest(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir()) if p.is_file()}


# ----- Ctrl-C -------------------------------------------------------------------------------
@pytest.fixture
def ctrl_c_reaches_python(monkeypatch):
    """A shell's background job starts with SIGINT ignored (then Ctrl-C cannot happen at all): give
    the test Python's own handler, as in a terminal."""
    if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)
        yield
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    else:
        yield


def _sigint_default():                 # for child processes: Ctrl-C as in a terminal (see above)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_sigint_finishes_the_step_saves_and_propagates(tmp_path, ctrl_c_reaches_python):
    loop, one = make(tmp_path, every=0)

    def step(i):
        if i == 3:
            os.kill(os.getpid(), signal.SIGINT)        # Ctrl-C in the middle of step 3
        return one(i)

    with pytest.raises(training.TrainingInterrupted) as e:
        loop.run(step)
    assert str(e.value) == (f"interrupted at step 4 of 20 of t; checkpoint saved in {tmp_path / 'ckpt'}; "
                            f"run the same command again to resume")
    assert isinstance(e.value, KeyboardInterrupt) and signal.getsignal(signal.SIGINT) is signal.default_int_handler
    state = json.loads((tmp_path / "ckpt" / "state.json").read_text())
    assert state["step"] == 4 and len(state["history"]) == 4 and state["wall_s"] > 0
    loop2, one2 = make(tmp_path)
    assert loop2.step == 4 and loop2.wall_s == state["wall_s"]
    loop2.run(one2, until=6)
    assert json.loads((tmp_path / "ckpt" / "state.json").read_text())["wall_s"] > state["wall_s"]   # accumulated


def _run_dcgan(tmp_path, steps, env, popen=False):
    cmd = [sys.executable, str(ROOT / "scripts" / "train_dcgan.py"), "--preset", "quick", "--size", "16",
           "--width", "0.125", "--batch", "4", "--n-train", "32", "--sample-every", "1000",
           "--steps", str(steps), "--run-dir", str(tmp_path / "run")]
    if popen:
        return subprocess.Popen(cmd, cwd=tmp_path, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                                preexec_fn=_sigint_default)
    return subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)


def test_ctrl_c_in_train_dcgan_ships_nothing_and_the_rerun_resumes(tmp_path):
    ship = tmp_path / "ship"                       # INPAINTKIT_SHIP_DIR: never the package's weights
    ship.mkdir()
    (ship / "manifest.json").write_text('{"keep": {"file": "keep.weights.h5"}}\n')
    before, package = digest(ship), digest(weights.HERE)
    env = dict(os.environ, INPAINTKIT_NO_PROGRESS="1", TF_CPP_MIN_LOG_LEVEL="3", INPAINTKIT_SHIP_DIR=str(ship))
    proc = _run_dcgan(tmp_path, 100_000, env, popen=True)
    csv_file, t0 = tmp_path / "run" / "logs" / "scalars.csv", time.time()
    while not csv_file.exists() and proc.poll() is None and time.time() - t0 < 300:
        time.sleep(0.1)                            # training has started
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=300)
    assert proc.returncode == 130, err[-2000:]
    lines = [x for x in err.splitlines() if "interrupted" in x]
    assert len(lines) == 1 and lines[0].startswith("interrupted at step ") and "Traceback" not in err
    assert f"of DCGAN; checkpoint saved in {tmp_path / 'run' / 'ckpt'}; run the same command again" in lines[0]
    assert digest(ship) == before and digest(weights.HERE) == package      # nothing shipped
    step = json.loads((tmp_path / "run" / "ckpt" / "state.json").read_text())["step"]
    assert int(lines[0].split()[3]) == step >= 1
    r = _run_dcgan(tmp_path, step + 2, env)                   # the rerun (two more steps) resumes and ships
    assert r.returncode == 0, r.stderr[-2000:]
    assert f"step {step}/{step + 2}" in r.stdout
    entry = json.loads((ship / "manifest.json").read_text())["dcgan_toycars_generator"]
    assert entry["steps"]["trained"] == step + 2 and (ship / "dcgan_toycars_generator.weights.h5").exists()
    rows = list(csv.reader(csv_file.open()))[1:]
    assert sorted({int(r[0]) for r in rows}) == list(range(1, step + 3))
    assert len(rows) == len({(r[0], r[1]) for r in rows})                  # no step logged twice
    assert digest(weights.HERE) == package


def test_train_glcic_interrupted_in_phase_1_writes_nothing_and_resumes_there(tmp_path, monkeypatch):
    from inpaintkit.glcic import phases
    spec = importlib.util.spec_from_file_location("train_glcic_under_test", ROOT / "scripts" / "train_glcic.py")
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    monkeypatch.setattr(weights, "HERE", weights.HERE)         # restored after the test
    monkeypatch.setattr(weights, "MANIFEST", weights.MANIFEST)
    monkeypatch.setenv("INPAINTKIT_SHIP_DIR", str(tmp_path / "ship"))
    run, out = tmp_path / "run", tmp_path / "c.weights.h5"
    argv = ["--data", "toycars", "--preset", "quick", "--n-train", "32", "--steps", "4,1,1",
            "--run-dir", str(run), "--out", str(out)]
    one_step = phases.Phase1.one_step

    def ctrl_c_at_2(self, step):
        if step == 2:
            raise KeyboardInterrupt
        return one_step(self, step)

    monkeypatch.setattr(phases.Phase1, "one_step", ctrl_c_at_2)
    assert script.main(argv) == 130
    assert not out.exists() and not (run / "phase1_final.weights.h5").exists() and not (run / "phase2").exists()
    assert json.loads((run / "phase1" / "checkpoint" / "state.json").read_text())["step"] == 2
    assert not (tmp_path / "ship").exists() or not any((tmp_path / "ship").iterdir())
    assert json.loads((run / "wall.json").read_text())["phase1"] >= 0
    monkeypatch.setattr(phases.Phase1, "one_step", one_step)
    assert script.main(argv) == 0
    assert json.loads((run / "phase1" / "checkpoint" / "state.json").read_text())["history"][-1]["step"] == 4
    assert out.exists() and (run / "phase1_final.weights.h5").exists()
    assert not list(tmp_path.glob(".*staged*")) and json.loads((tmp_path / "ship" / "manifest.json").read_text())


@pytest.mark.parametrize("args, expected", [
    (["--preset", "bogus"], "error: preset: expected one of"),
    (["--sample-every", "4", "--keep-every", "6"], "--keep-every: expected 0 or a multiple of --sample-every (4), got 6"),
    (["--name", "../evil"], "--name: expected lower-case letters, digits and _ (a weights name), got '../evil'"),
    (["--preset", "quick", "--batch", "8", "--pack", "3"], "--pack: expected a whole number >= 1 that divides the batch (8), got 3"),
])
def test_train_dcgan_bad_arguments_are_one_line(tmp_path, args, expected):
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_dcgan.py"), *args, "--run-dir",
                        str(tmp_path / "run"), "--no-record"], cwd=tmp_path, capture_output=True, text=True,
                       timeout=300, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert r.returncode in (1, 2) and expected in r.stderr and "Traceback" not in r.stderr


# ----- damaged checkpoints ------------------------------------------------------------------
def _damage(path: Path, how: str) -> None:
    if how == "truncate":
        data = path.read_bytes()
        path.write_bytes(data[:len(data) // 2])
    else:
        path.unlink()


@pytest.mark.parametrize("name, how", [("m.weights.h5", "truncate"), ("opt.optimizer.npz", "truncate"),
                                       ("state.json", "truncate"), ("state.json", "delete"),
                                       ("m.weights.h5", "delete")])
def test_a_damaged_checkpoint_falls_back_to_the_previous_one(tmp_path, name, how):
    loop, one = make(tmp_path, every=5, fail_at=12)
    with pytest.raises(RuntimeError):
        loop.run(one)                              # checkpoints at 5 (.prev) and 10, then a crash
    assert make(tmp_path)[0].step == 10
    prev = digest(tmp_path / "ckpt.prev")
    _damage(tmp_path / "ckpt" / name, how)
    damaged = digest(tmp_path / "ckpt")
    with pytest.warns(RuntimeWarning, match=f"checkpoint: ckpt: {name.replace('.', '[.]')} .*resuming from "
                                            f".*ckpt[.]prev at step 5 instead"):
        loop, one = make(tmp_path, every=5)
    assert loop.step == 5 and len(loop.history) == 5
    assert digest(tmp_path / "ckpt") == damaged and digest(tmp_path / "ckpt.prev") == prev   # nothing deleted
    loop.run(one, until=10)                        # the next save keeps the damaged one aside
    assert digest(tmp_path / "ckpt.damaged") == damaged and make(tmp_path)[0].step == 10


def test_no_intact_checkpoint_stops_with_one_line_and_deletes_nothing(tmp_path):
    loop, one = make(tmp_path)
    ckpt = loop.checkpointer
    ckpt.save(3, [{"step": i} for i in range(1, 4)])
    _damage(tmp_path / "ckpt" / "opt.optimizer.npz", "truncate")
    kept = digest(tmp_path / "ckpt")
    with pytest.raises(InpaintkitError) as e:
        make(tmp_path)
    msg = str(e.value)
    assert "\n" not in msg and msg.startswith("checkpoint: expected an intact checkpoint in")
    assert "opt.optimizer.npz is truncated or changed" in msg and "move them away" in msg
    assert digest(tmp_path / "ckpt") == kept


def test_a_save_stopped_between_its_renames_resumes_from_the_new_checkpoint(tmp_path, monkeypatch):
    loop, one = make(tmp_path, every=5)
    loop.run(one, until=5)
    real = Path.rename

    def crash(self, target):
        if self.name == "ckpt.tmp":
            raise OSError("killed between the renames")
        return real(self, target)

    monkeypatch.setattr(Path, "rename", crash)
    with pytest.raises(OSError):
        loop.run(one, until=10)
    monkeypatch.setattr(Path, "rename", real)
    assert not (tmp_path / "ckpt").exists() and (tmp_path / "ckpt.prev").exists() and (tmp_path / "ckpt.tmp").exists()
    with pytest.warns(RuntimeWarning, match="ckpt is missing; resuming from .*ckpt[.]tmp at step 10"):
        loop2, one2 = make(tmp_path)
    assert loop2.step == 10 and (tmp_path / "ckpt" / "state.json").exists()      # the save was finished
    assert json.loads((tmp_path / "ckpt.prev" / "state.json").read_text())["step"] == 5


def test_resume_with_other_settings_is_refused_by_name(tmp_path):
    loop, one = make(tmp_path, config={"--width": 0.25, "--batch": 4})
    loop.run(one, until=3)
    with pytest.raises(InpaintkitError, match=r"^--width: checkpoint in .*ckpt was made with 0.25, got 0.5; "
                                              r"use another --run-dir or the same value$"):
        make(tmp_path, config={"--width": 0.5, "--batch": 4})
    with pytest.raises(InpaintkitError, match=r"^checkpoint: .*m.weights.h5 does not fit model 'm' .*other settings"):
        make(tmp_path, units=16)                   # no config stored for it: the shapes still tell
    assert make(tmp_path, config={"--width": 0.25, "--batch": 4})[0].step == 3


# ----- logs after a resume ------------------------------------------------------------------
def test_logs_after_a_crash_and_resume_hold_every_step_once(tmp_path):
    loop, one = make(tmp_path, total=10, every=5, fail_at=7)
    with pytest.raises(RuntimeError):
        loop.run(one)                                # rows 1-7 logged, checkpoint at 5
    loop, one = make(tmp_path, total=10, every=5)
    assert loop.step == 5
    loop.run(one)
    rows = list(csv.reader((tmp_path / "logs" / "scalars.csv").open()))
    assert rows[0] == ["step", "name", "value"] and [int(r[0]) for r in rows[1:]] == list(range(1, 11))
    tf = pytest.importorskip("tensorflow")
    from tensorflow.core.util import event_pb2
    files = sorted((tmp_path / "logs").glob("events.out.tfevents.*"), key=lambda p: p.stat().st_mtime)
    assert len(files) == 2                           # a new file for the resumed run, not appended to
    events = [event_pb2.Event.FromString(r.numpy()) for r in tf.data.TFRecordDataset(str(files[1]))]
    assert events[1].session_log.status == event_pb2.SessionLog.START and events[1].step == 6   # purge from 6
    assert [e.step for e in events[2:]] == list(range(6, 11))


def test_train_dcgan_ships_a_kept_step_under_its_own_name(tmp_path):
    """--ship-step N ships the generator kept at step N (not the last), with the run's last D, under
    --name; the package's own weights and the default names are untouched."""
    ship = tmp_path / "ship"
    ship.mkdir()
    (ship / "manifest.json").write_text("{}\n")
    env = dict(os.environ, INPAINTKIT_NO_PROGRESS="1", TF_CPP_MIN_LOG_LEVEL="3", INPAINTKIT_SHIP_DIR=str(ship))
    package = digest(weights.HERE)
    cmd = [sys.executable, str(ROOT / "scripts" / "train_dcgan.py"), "--preset", "quick", "--size", "16", "--width",
           "0.125", "--batch", "4", "--n-train", "32", "--steps", "4", "--sample-every", "2", "--keep-every", "2",
           "--upsample", "resize", "--run-dir", str(tmp_path / "run"), "--name", "dcgan_try"]
    r = subprocess.run([*cmd, "--ship-step", "2"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    manifest = json.loads((ship / "manifest.json").read_text())
    assert set(manifest) == {"dcgan_try_generator", "dcgan_try_discriminator"}
    g = manifest["dcgan_try_generator"]
    assert g["steps"]["dcgan"] == 2 and g["steps"]["trained"] == 4 and g["config"]["upsample"] == "resize"
    assert "--ship-step 2" in g["command"] and g["steps"]["selected_by"] == "ship-step 2"
    from inpaintkit import dcgan
    shipped, kept = dcgan.generator(16, 0.125, upsample="resize"), dcgan.generator(16, 0.125, upsample="resize")
    weights.load_file(shipped, ship / "dcgan_try_generator.weights.h5")
    weights.load_file(kept, tmp_path / "run" / "kept" / "generator_000002.weights.h5")
    z = dcgan.latent(2, seed=0)                        # float16 on disk: equal to storage precision
    assert np.allclose(dcgan.generate(shipped, z), dcgan.generate(kept, z), atol=2e-2)
    assert digest(weights.HERE) == package
    r = subprocess.run([*cmd, "--ship-step", "3"], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 2 and "--ship-step: expected a multiple of --keep-every (2), got 3" in r.stderr
