"""The independent evaluator (a small ResNet) and the large-hole evaluation harness."""
import json
import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

from inpaintkit import baselines, evaluation, evaluator, large_holes, weights
from inpaintkit.errors import InpaintkitError

shipped = pytest.mark.skipif(not weights.available(evaluator.SHIPPED),
                             reason="evaluator_toycars not shipped (scripts/train_evaluator.py)")


def test_resnet_shapes_and_features():
    net = evaluator.resnet(32, n_classes=5, width=0.25)
    assert net.input_shape == (None, 32, 32, 3) and net.output_shape == (None, 5)
    x = np.random.default_rng(0).random((3, 32, 32, 3)).astype(np.float32)
    p = evaluator.predict(net, x)
    assert p.shape == (3, 5) and np.allclose(p.sum(1), 1, atol=1e-5)
    f = evaluator.features(net, x)
    assert f.shape == (3, 32) and f.min() >= 0             # last stage 128 x 0.25 channels, after ReLU
    assert evaluator.predict(net, x[0]).shape == (1, 5)     # one image
    # other sizes are resized to the input: the same image at 64 gives (nearly) the same answer
    import cv2
    big = np.stack([cv2.resize(im, (64, 64), interpolation=cv2.INTER_NEAREST) for im in x])
    np.testing.assert_allclose(evaluator.predict(net, big), p, atol=1e-4)
    assert "pool" in [l.name for l in net.layers] and net.get_layer("pool").output.shape[-1] == 32
    assert not any("inception" in l.name for l in net.layers)   # not GoogLeNet
    two = evaluator.resnet(32, 5, width=0.25, blocks=2)
    assert two.count_params() > net.count_params()


def test_resnet_takes_01_images():
    net = evaluator.resnet(16, 3, width=0.25)
    assert net.get_layer("normalize").get_config()["scale"] == 2.0     # [0, 1] -> [-1, 1] inside
    x = np.full((1, 16, 16, 3), 0.5, np.float32)
    with pytest.raises(InpaintkitError, match="images"):
        evaluator.predict(net, x * 255)                   # 0-255 input is refused
    with pytest.raises(InpaintkitError, match="images"):
        evaluator.predict(net, x * 2 - 1.5)               # [-1, 1] input is refused
    with pytest.raises(InpaintkitError, match="labels"):
        evaluator.accuracy(net, x, [0, 1])


def test_seeds_are_disjoint():
    from inpaintkit import classifier
    used = {0, 1, 7, 123, 424_242, 424_243, classifier.TEST_SEED}           # other models and notebooks
    own = {evaluator.TRAIN_SEED, evaluator.TEST_SEED}
    holes = set(large_holes.SEEDS.values())
    fd = set(evaluation.FRECHET_SEEDS.values())
    assert len(own | holes | fd | used) == len(own) + len(holes) + len(fd) + len(used)


def test_resnet_on_torch_backend(tmp_path):
    script = textwrap.dedent(f"""
        import json, sys, numpy as np
        from inpaintkit import backend, classifier, evaluator
        from inpaintkit.data import toycars
        x, y = toycars.generate(14, 32, seed=5)
        net = evaluator.resnet(32, 7, width=0.125)
        h = classifier.train(net, x, y, steps=2, batch_size=7, directory={str(tmp_path / 'run')!r}, checkpoint_every=1)
        p, f = evaluator.predict(net, x), evaluator.features(net, x)
        print(json.dumps({{"backend": backend.NAME, "steps": len(h), "p": list(p.shape), "f": list(f.shape),
                          "finite": bool(np.isfinite(p).all() and np.isfinite(f).all()),
                          "tensorflow_loaded": "tensorflow" in sys.modules}}))
    """)
    env = dict(os.environ, KERAS_BACKEND="torch", INPAINTKIT_NO_PROGRESS="1")
    out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    if out.returncode in (-11, -6):
        # PyTorch 2.13's CPU backward of this ResNet crashed (SIGSEGV; SIGABRT "corrupted size vs. prev_size")
        # in 3 of 6 clean-clone CI runs, through its oneDNN kernels (backend.TORCH_ONEDNN: 7 of 22 paired runs
        # crashed with them, 0 of 20 without). The suite turns them off (conftest.py); one rerun stays as a
        # guard. TensorFlow must stay out of this process too (Keras's set_random_seed used to import it).
        out = subprocess.run([sys.executable, "-c", script], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r == {"backend": "torch", "steps": 2, "p": [14, 7], "f": [14, 16], "finite": True,
                 "tensorflow_loaded": False}


@shipped
def test_shipped_evaluator_accuracy():
    """The shipped evaluator on 350 held-out toy cars of a seed it never saw (its manifest: >= 0.95)."""
    from inpaintkit.data import toycars
    E = evaluator.load()
    e = weights.entry(evaluator.SHIPPED)
    assert e["builder"] == "inpaintkit.evaluator:resnet" and e["metrics"]["test_accuracy"] >= 0.95
    x, y = toycars.generate(350, 64, seed=evaluator.TEST_SEED + 1000)
    acc, correct = evaluator.accuracy(E, x, y)
    assert acc >= 0.9 and correct.shape == (350,)
    # and on the intact large-hole test images
    xt, yt = large_holes.split("test", 64)
    assert evaluator.accuracy(E, xt, yt)[0] >= 0.9


def test_bootstrap_mean_interval():
    rng = np.random.default_rng(0)
    v = rng.normal(10, 2, 200)
    r = evaluation.bootstrap_mean(v)
    assert r["n"] == 200 and r["mean"] == pytest.approx(v.mean(), abs=1e-4)
    lo, hi = r["ci95"]
    assert lo < r["mean"] < hi and 0.3 < hi - lo < 0.8          # ~ 2 * 1.96 * 2 / sqrt(200) = 0.55
    b = evaluation.bootstrap_mean([1, 1, 0, 1, np.nan])          # NaN dropped; an accuracy
    assert b["n"] == 4 and b["mean"] == 0.75 and b["ci95"][0] <= 0.75 <= b["ci95"][1]
    assert evaluation.bootstrap_mean([3.0, 3.0])["ci95"] == [3.0, 3.0]
    with pytest.raises(InpaintkitError, match="values"):
        evaluation.bootstrap_mean([np.nan])


def test_large_hole_masks_geometry():
    m = large_holes.masks(3, 64)
    assert list(m) == ["center", "lower", "half"] and all(v.shape == (3, 64, 64, 1) for v in m.values())
    c, low, h = (m[k][0, ..., 0] for k in ("center", "lower", "half"))
    assert c.mean() == 0.25 and c[16:48, 16:48].min() == 1
    assert h.mean() == 0.5 and h[:, :32].min() == 1 and h[:, 32:].max() == 0
    rows, cols = np.nonzero(low)
    assert (rows.min(), rows.max(), cols.min(), cols.max()) == (38, 60, 4, 59) and low.sum() == 23 * 56
    # the lower box covers the wheels: the darkest pixels (tyres) of toy cars lie mostly inside it
    x, _ = large_holes.split("val", 14)
    dark = x.max(-1) < 0.14
    assert dark[:, low > 0].sum() > 0.9 * dark.sum()          # 98 % on val and test
    # splits are fixed, disjoint and grow without changing
    a, la = large_holes.split("val", 3)
    np.testing.assert_array_equal(a, x[:3])
    t, _ = large_holes.split("test", 3)
    assert not np.allclose(a, t)
    with pytest.raises(InpaintkitError, match="split"):
        large_holes.split("train", 3)
    with pytest.raises(InpaintkitError, match="kind"):
        large_holes.mask("wheel")


def test_large_hole_compare_scores_against_true_labels():
    """An 'evaluator' that always answers class 0: accuracy = share of true class 0, per method."""
    import keras
    probe = keras.Sequential([keras.Input((32, 32, 3)), keras.layers.GlobalAveragePooling2D(name="pool"),
                              keras.layers.Dense(3, kernel_initializer="zeros",
                                                 bias_initializer=keras.initializers.Constant([5, 0, 0])),
                              keras.layers.Softmax()])
    rng = np.random.default_rng(0)
    images = np.clip(rng.normal(0.5, 0.05, (4, 32, 32, 3)), 0, 1).astype(np.float32)
    labels = np.array([0, 1, 0, 2])
    methods = {"telea": baselines.telea, "grey": evaluation.batched(lambda x, m: np.full_like(x, 0.5))}
    res = large_holes.compare(methods, images, labels, model=probe, resamples=200, verbose=False)
    assert res["intact_accuracy"]["mean"] == 0.5
    assert set(res["results"]) == {"center", "lower", "half"}
    for kind, per in res["results"].items():
        for name, r in per.items():
            assert r["accuracy"]["mean"] == 0.5 and res["per_image"][kind][name]["correct"] == [1, 0, 1, 0]
            for k in ("hole_psnr", "ssim", "accuracy"):
                assert r[k]["ci95"][0] <= r[k]["mean"] <= r[k]["ci95"][1] and r[k]["n"] == 4
        assert per["grey"]["hole_psnr"]["mean"] > 20
        assert per["grey"]["vs_telea"]["correct"]["mean"] == 0.0 and "vs_telea" not in per["telea"]
    table = large_holes.table(res)
    assert "| lower | grey |" in table and "intact" in table
    assert "| lower | grey |" not in large_holes.table(res, methods=("telea",)) and "| lower | telea |" in table
    # guided is also paired with semantic inpainting
    two = {"semantic": methods["grey"], "guided": evaluation.batched(lambda x, m: np.full_like(x, 0.4))}
    res2 = large_holes.compare(two, images, labels, model=probe, resamples=200, verbose=False)
    gap = res2["results"]["center"]["guided"]["vs_semantic"]["hole_psnr"]
    assert gap["mean"] < 0 and "vs_semantic" not in res2["results"]["center"]["semantic"]
    json.dumps({k: res[k] for k in ("intact_accuracy", "results", "per_image")})      # JSON-ready
    with pytest.raises(InpaintkitError, match="labels"):
        large_holes.compare(methods, images, labels[:3], model=probe, verbose=False)


def test_chunked_search_seeds_follow_the_image():
    """Latent searches run in chunks start image i from seed + i, whatever the chunk size."""
    seen = []

    class Fake:
        seed = None

        def run(self, images, holes):
            seen.append((self.seed, len(images)))
            return type("R", (), {"blended": images})()

    search = large_holes._searcher(Fake(), 10)
    fn = large_holes._chunked("fake", lambda x, m, start: search(x, m, start).blended, 2, False)
    x = np.zeros((5, 8, 8, 3), np.float32)
    assert fn(x, np.zeros((5, 8, 8, 1), np.float32)).shape == x.shape
    assert seen == [(10, 2), (12, 2), (14, 1)]


def test_shared_search_runs_once_for_both_users_and_both_pay_for_it():
    """semantic and ilo share one latent search per chunk, whichever runs first: the second gets the
    result and the seconds it took; the entry is dropped after both; one user: no cache."""
    calls = []

    def fn(images, holes, start):
        calls.append(start)
        return images.sum()
    shared = large_holes._shared(fn, users=2)
    x, m = np.ones((2, 4, 4, 3), np.float32), np.zeros((2, 4, 4, 1), np.float32)
    assert shared(x, m, 0) == (96, 0.0)
    value, seconds = shared(x, m, 0)
    assert value == 96 and seconds > 0
    shared(x, m, 0)                              # dropped after two users: computed again
    shared(x, m + 1, 0)                          # other holes: another computation
    assert calls == [0, 0, 0]
    once = large_holes._shared(fn, users=1)
    once(x, m, 2), once(x, m, 2)
    assert calls[-2:] == [2, 2]


def test_methods_in_either_order_report_the_shared_search_in_both_times(monkeypatch):
    """``evaluation.compare`` adds a method's reused seconds to its own time: with ilo first, semantic
    (which then only reads the shared result) still reports the search's time."""
    import time as _time
    shared = large_holes._shared(lambda x, m, s: (_time.sleep(0.2), (np.zeros((len(x), 1)), x))[1], users=2)
    first = large_holes._reusing("first", shared, lambda x, m, z, blended: blended, 8, False)
    second = large_holes._reusing("second", shared, lambda x, m, z, blended: blended, 8, False)
    x = np.random.default_rng(0).random((4, 8, 8, 3)).astype(np.float32)
    hole = np.zeros((4, 8, 8, 1), np.float32)
    hole[:, 2:6, 2:6] = 1
    res = evaluation.compare({"ilo": first, "semantic": second}, x, {"center": hole}, verbose=False)
    sec = res["seconds_per_image"]["center"]
    assert sec["ilo"] >= 0.2 / 4 and sec["semantic"] >= 0.2 / 4


def test_evaluator_frechet_scale():
    net = evaluator.resnet(32, 7, width=0.125)
    from inpaintkit.data import toycars
    real = toycars.generate(40, 32, seed=evaluation.FRECHET_SEEDS["real"])[0]
    ref = toycars.generate(40, 32, seed=evaluation.FRECHET_SEEDS["reference"])[0]
    noise = np.random.default_rng(0).random((40, 32, 32, 3)).astype(np.float32)
    r = evaluation.evaluator_frechet(noise, real, ref, model=net)
    assert r["dim"] == 16 and r["n_images"] == r["n_real"] == r["n_reference"] == 40
    assert r["frechet"] > r["real_vs_real"] >= 0
    same = evaluation.evaluator_frechet(real, real, real, model=net)
    assert same["frechet"] == pytest.approx(0, abs=1e-3)
    d = evaluation.evaluator_frechet(noise[:8], model=net, n_real=12)       # default real sets
    assert d["n_real"] == 12 and d["n_reference"] == 8


from tests.test_scripts import run as run_script  # noqa: E402


def test_train_evaluator_script_smoke(tmp_path):
    before = weights.manifest().get(evaluator.SHIPPED)
    log = run_script("train_evaluator.py", "--steps", "2", "--batch", "8", "--width", "0.125", "--n-train", "28",
                  "--n-test", "14", "--n-intact", "7", "--size", "32", "--no-ship", "--run-dir", str(tmp_path / "run"),
                  tmp_path=tmp_path)
    assert '"test_accuracy"' in log and '"intact_accuracy"' in log and "sports_car" in log
    assert (tmp_path / "run" / "state.json").exists()
    assert weights.manifest().get(evaluator.SHIPPED) == before          # --no-ship leaves the manifest alone


@shipped
def test_eval_large_holes_script_smoke(tmp_path):
    out = tmp_path / "r.json"
    log = run_script("eval_large_holes.py", "--methods", "telea", "glcic", "--n", "3", "--split", "val",
                  "--resamples", "200", "--json", str(out), "--outputs", str(tmp_path / "o.npz"), tmp_path=tmp_path)
    assert "| lower | glcic |" in log
    d = json.loads(out.read_text())
    assert d["settings"]["split"] == "val" and d["settings"]["n"] == 3
    assert set(d["results"]) == {"center", "lower", "half"} and set(d["results"]["half"]) == {"telea", "glcic"}
    assert "vs_telea" in d["results"]["center"]["glcic"] and len(d["labels"]) == 3
    o = np.load(tmp_path / "o.npz")
    assert o["center__glcic"].shape == (3, 64, 64, 3) and o["mask_lower"].shape == (64, 64, 1)
