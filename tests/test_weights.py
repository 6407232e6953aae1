"""Shipped-weights registry: sha256 check, clear errors, float16 storage that loads back."""
import json

import keras
import numpy as np
import pytest

from inpaintkit import weights
from inpaintkit.errors import InpaintkitError


def tiny():
    inp = keras.Input((3,))
    return keras.Model(inp, keras.layers.Dense(2, name="d")(inp), name="tiny")


def test_every_shipped_entry_matches_its_file():
    for name, e in weights.manifest().items():
        p = weights.path(name)                       # raises on a sha256 mismatch
        assert p.stat().st_size == e["bytes"]
        for key in ("command", "preset", "steps", "seed", "wall_time_s", "metrics", "builder", "config"):
            assert key in e, f"{name} lacks {key}"


def test_compact_save_loads_back_close(tmp_path):
    m = tiny()
    f = tmp_path / "t.weights.h5"
    weights.save_compact(m, f)
    m2 = tiny()
    weights.load_file(m2, f)
    for a, b in zip(m.get_weights(), m2.get_weights()):
        np.testing.assert_allclose(a, b, atol=1e-3, rtol=1e-3)


def test_save_file_is_exact_and_leaves_no_partial_file(tmp_path):
    m = tiny()
    f = tmp_path / "run" / "g.weights.h5"
    weights.save_file(m, f)
    weights.save_file(m, f)                          # replaces the first one
    m2 = tiny()
    weights.load_file(m2, f)
    assert all(np.array_equal(a, b) for a, b in zip(m.get_weights(), m2.get_weights()))
    assert sorted(p.name for p in f.parent.iterdir()) == ["g.weights.h5"]


def test_clear_errors(tmp_path):
    with pytest.raises(InpaintkitError, match="weights: expected one of"):
        weights.entry("no_such_model")
    with pytest.raises(InpaintkitError, match="expected an existing .weights.h5 file"):
        weights.load_file(tiny(), tmp_path / "missing.weights.h5")
    f = tmp_path / "other.weights.h5"
    small = keras.Sequential([keras.Input((5,)), keras.layers.Dense(7)])
    small.save_weights(str(f))
    with pytest.raises(InpaintkitError, match="does not fit model 'tiny'"):
        weights.load_file(tiny(), f)


def test_corrupt_file_is_detected(tmp_path, monkeypatch):
    m = tiny()
    f = tmp_path / "x.weights.h5"
    m.save_weights(str(f))
    monkeypatch.setattr(weights, "HERE", tmp_path)
    monkeypatch.setattr(weights, "MANIFEST", tmp_path / "manifest.json")
    weights.record("x", f, builder="k:f", config={}, command="python train.py", preset="quick",
                   steps={"all": 1}, seed=0, wall_time_s=1.0, metrics={})
    assert weights.path("x") == f
    f.write_bytes(f.read_bytes()[:-10] + b"0123456789")
    with pytest.raises(InpaintkitError, match="does not match the manifest's sha256"):
        weights.path("x")
    assert json.loads((tmp_path / "manifest.json").read_text())["x"]["command"] == "python train.py"
