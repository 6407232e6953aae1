"""Classifier-guided inpainting: the terms on hand examples, a short search, and PyTorch."""
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

from inpaintkit import guided, googlenet, semantic
from inpaintkit.errors import InpaintkitError

ROOT = Path(__file__).resolve().parents[1]


def test_divergences_on_hand_examples():
    p = np.array([[0.2, 0.3, 0.5]], np.float32)
    assert float(guided.symmetric_kl(p, p)[0]) == pytest.approx(0.0, abs=1e-6)
    assert float(guided.jensen_shannon(p, p)[0]) == pytest.approx(0.0, abs=1e-6)
    q = np.array([[0.5, 0.3, 0.2]], np.float32)
    expected = np.sum(p * np.log(p / q)) + np.sum(q * np.log(q / p))
    assert float(guided.symmetric_kl(p, q)[0]) == pytest.approx(expected, rel=1e-5)
    # disjoint distributions: JS reaches log 2 and never more, symmetric KL is unbounded
    a = np.array([[1.0, 0.0]], np.float32)
    b = np.array([[0.0, 1.0]], np.float32)
    assert float(guided.jensen_shannon(a, b)[0]) == pytest.approx(np.log(2), rel=1e-4)
    rng = np.random.default_rng(0)
    x = rng.dirichlet(np.ones(5), size=50).astype(np.float32)
    y = rng.dirichlet(np.ones(5) * 0.1, size=50).astype(np.float32)
    assert np.all(np.asarray(guided.jensen_shannon(x, y)) <= np.log(2) + 1e-6)
    assert float(guided.symmetric_kl(a, b)[0]) > 10


def test_seed_weights_keep_the_balance():
    w = guided.seed_weights(64)
    assert w == pytest.approx({"sem": 5e4, "cat": 5e5, "inp": 1.5})
    assert guided.seed_weights(32)["sem"] == pytest.approx(w["sem"] / 4)


@pytest.fixture(scope="module")
def models():
    from inpaintkit import backend, dcgan
    backend.seed(0)
    return dcgan.generator(32, 0.25), dcgan.discriminator(32, 0.25), googlenet.googlenet(32, 4, width=0.25)


def _ctx(gen, comp):
    hole = np.zeros(gen.shape[:3] + (1,), np.float32)
    return semantic.Context(z=None, generated=gen, target=comp, hole=hole, weights=hole, composite=comp)


def test_terms_on_hand_examples(models):
    _, _, C = models
    x = np.random.default_rng(0).uniform(size=(2, 32, 32, 3)).astype(np.float32)
    ext = googlenet.feature_extractor(C, ["inception_3b", "softmax"])
    same = _ctx(x, x)
    assert np.allclose(guided.FeatureMatch(ext, ["inception_3b"])(same), 0.0, atol=1e-6)
    assert np.allclose(guided.ClassMatch(ext)(same), 0.0, atol=1e-6)
    other = _ctx(x, x[::-1].copy())
    assert np.all(np.asarray(guided.FeatureMatch(ext, ["inception_3b"])(other)) > 0)
    flat_d = lambda im, training=False: np.zeros((im.shape[0], 1), np.float32)  # noqa: E731 - D says 50/50
    assert np.allclose(guided.CompositeAdversarial(flat_d)(same), np.log(2), atol=1e-6)
    with pytest.raises(InpaintkitError, match="kind"):
        guided.ClassMatch(ext, kind="jensen")
    with pytest.raises(InpaintkitError, match="layers"):
        guided.FeatureMatch(ext, ["inception_4b"])


def test_terms_follow_layers_and_lambdas(models):
    _, D, C = models
    names = lambda ts: [t.name for t in ts]  # noqa: E731
    full = dict(lambdas="sem_inpainting")
    assert names(guided.guided_terms(C, D, **full)) == ["context", "prior", "adversarial", "features", "class"]
    # the tuned default (chosen on val cars) keeps only sem_inpainting's discriminator-on-the-composite term
    assert names(guided.guided_terms(C, D)) == ["context", "prior", "adversarial"]
    assert names(guided.guided_terms(C, None, ["inception_3b"], **full)) == ["context", "features"]
    assert names(guided.guided_terms(C, D, ["softmax"], lambda_inp=0, **full)) == ["context", "prior", "class"]
    t = guided.guided_terms(C, D, lambda_sem=7.0, divergence="js", **full)
    assert t[3].weight == 7.0 and t[4].kind == "js"


def test_short_guided_search_lowers_the_loss_and_keeps_known_pixels(models):
    G, D, C = models
    rng = np.random.default_rng(0)
    images = rng.uniform(0.2, 0.8, size=(2, 32, 32, 3)).astype(np.float32)
    holes = np.zeros((2, 32, 32, 1), np.float32)
    holes[:, 8:24, 8:24] = 1
    search = guided.guided_search(G, D, C, iters=12, restarts=2, lr=0.05, seed=0, lambdas="sem_inpainting")
    res = search.run(images, holes)
    assert res.history[-1]["loss"] < res.history[0]["loss"]
    known = holes[..., 0] == 0
    assert np.array_equal(res.blended[known], images[known])
    assert np.array_equal(res.composite[known], images[known])
    assert set(res.losses) == {"context", "prior", "adversarial", "features", "class", "total"}
    with pytest.raises(InpaintkitError, match="classifier"):
        guided.guided_search(G, D, googlenet.googlenet(64, 4, width=0.25))


SCRIPT = textwrap.dedent("""
    import json, numpy as np
    from inpaintkit import backend, dcgan, googlenet, guided
    backend.seed(0)
    G, D, C = dcgan.generator(32, 0.25), dcgan.discriminator(32, 0.25), googlenet.googlenet(32, 4, width=0.25)
    x = np.random.default_rng(0).uniform(0.2, 0.8, (2, 32, 32, 3)).astype("float32")
    h = np.zeros((2, 32, 32, 1), "float32"); h[:, :, :16] = 1
    r = guided.guided_search(G, D, C, iters=8, restarts=2, lr=0.05, lambdas="sem_inpainting").run(x, h)
    print(json.dumps({"backend": backend.NAME, "first": r.history[0]["loss"], "last": r.history[-1]["loss"],
                      "exact": bool(np.array_equal(r.blended[:, :, 16:], x[:, :, 16:]))}))
""")


def test_guided_search_runs_on_pytorch():
    pytest.importorskip("torch")
    env = dict(os.environ, KERAS_BACKEND="torch", INPAINTKIT_NO_PROGRESS="1")
    out = subprocess.run([sys.executable, "-c", SCRIPT], env=env, capture_output=True, text=True,
                         timeout=600, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-3000:]
    r = json.loads(out.stdout.strip().splitlines()[-1])
    assert r["backend"] == "torch" and r["exact"] and r["last"] < r["first"]


def _sweep(deltas):
    """A synthetic sweep: 8 images x 2 kinds; ``deltas``: {scale: (hole PSNR shift, accuracy)}."""
    rng = np.random.default_rng(0)
    base = rng.normal(15, 1, 16)
    pts = {}
    for s, (shift, acc) in {0.0: (0.0, 0.5), **deltas}.items():
        correct = (np.arange(16) < round(acc * 16)).astype(float)
        psnr = base + shift
        per = {k: {"hole_psnr": psnr[i * 8:(i + 1) * 8].tolist(), "correct": correct[i * 8:(i + 1) * 8].tolist()}
               for i, k in enumerate(("center", "half"))}
        res = {k: {w: {"mean": float(np.mean(per[k][q])), "ci95": [0.0, 1.0]}
                   for w, q in (("hole_psnr", "hole_psnr"), ("accuracy", "correct"))} for k in per}
        pts[repr(float(s))] = {"scale": float(s), "per_image": per, "results": res}
    return {"settings": {"kinds": ["center", "half"]}, "points": pts}


def test_choose_scale_keeps_within_the_psnr_budget_and_maximises_the_evaluator():
    sweep = _sweep({1e-6: (-0.05, 0.5), 1e-4: (-0.3, 0.75), 1.0: (-2.0, 1.0)})
    c = guided.choose_scale(sweep)
    assert c["scale"] == 1e-4                         # 1.0 keeps more classes but costs 2 dB
    assert c["helps"] and c["lambdas"]["cat"] == pytest.approx(guided.seed_weights(64)["cat"] * 1e-4)
    assert [r["scale"] for r in c["table"]] == [0.0, 1e-6, 1e-4, 1.0]
    assert guided.choose_scale(sweep, max_psnr_loss=3)["scale"] == 1.0
    none = guided.choose_scale(_sweep({1.0: (-2.0, 1.0)}))
    assert none["scale"] is None and "no scale" in none["rule"]
    flat = guided.choose_scale(_sweep({1e-6: (0.0, 0.5), 1e-3: (-0.1, 0.5)}))
    assert flat["scale"] == 1e-6 and not flat["helps"]   # ties on accuracy: the higher PSNR
    del sweep["points"][repr(0.0)]
    with pytest.raises(InpaintkitError, match="sweep: expected a point at scale 0"):
        guided.choose_scale(sweep)


def test_choose_setting_compares_the_sweeps_choices():
    a = _sweep({1e-6: (-0.05, 0.5), 1e-4: (-0.3, 0.75)})
    b = _sweep({1.0: (-0.1, 0.75), 3.0: (-0.2, 0.75)})
    b["settings"]["terms"] = ["inp"]
    c = guided.choose_setting([a, b])
    assert c["multipliers"] == {"sem": 0.0, "cat": 0.0, "inp": 1.0}      # ties on accuracy: the higher PSNR
    assert c["terms"] == ["inp"] and c["helps"] and len(c["candidates"]) == 2
    assert guided.choose_scale(b)["lambdas"] == {"sem": 0.0, "cat": 0.0, "inp": guided.seed_weights(64)["inp"]}
    assert guided.choose_setting([_sweep({1.0: (-2.0, 1.0)})])["multipliers"] is None
    other = _sweep({1e-6: (0.0, 0.5)})
    other["settings"]["kinds"] = ["center"]
    with pytest.raises(InpaintkitError, match="sweeps: expected sweeps of the same images"):
        guided.choose_setting([a, other])


def test_lambda_sweep_plot():
    import matplotlib
    matplotlib.use("Agg")
    from inpaintkit import plotting
    sweep = _sweep({1e-6: (-0.05, 0.5), 1e-4: (-0.3, 0.75)})
    fig = plotting.lambda_sweep(sweep, guided.choose_scale(sweep))
    assert len(fig.axes) == 2 and fig.axes[0].get_xscale() == "log"
    assert len(fig.axes[0].lines) >= 4                # a line per kind, semantic dashed, the choice
    assert "PSNR" in fig.axes[0].get_ylabel() and "class" in fig.axes[1].get_ylabel()


def test_sweep_script_writes_each_point_resumes_and_never_overwrites_another_sweep(tmp_path):
    env = dict(os.environ, INPAINTKIT_NO_PROGRESS="1", TF_CPP_MIN_LOG_LEVEL="3", INPAINTKIT_PRESET="quick")
    out = tmp_path / "sweep.json"
    args = [sys.executable, str(ROOT / "scripts" / "sweep_guided.py"), "--n", "2", "--iters", "2", "--restarts", "1",
            "--batch", "2", "--kinds", "center", "--scales", "1e-3", "--out", str(out)]
    r = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    doc = json.loads(out.read_text())
    assert sorted(doc["points"]) == [repr(0.0), repr(1e-3)] and doc["settings"]["split"] == "val"
    assert doc["choice"]["table"][1]["vs_semantic_psnr"]["n"] == 2
    r = subprocess.run(args, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0 and r.stdout.count("done already") == 2, r.stdout + r.stderr[-2000:]
    before = out.read_text()
    r = subprocess.run(args[:-2] + ["--iters", "3", "--out", str(out)], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode != 0 and "--out:" in r.stderr and out.read_text() == before
    # one term only, its scale-0 point taken from the first sweep (same images and search)
    other = tmp_path / "cat_only.json"
    r = subprocess.run(args[:-3] + ["1", "--terms", "cat", "--reference", str(out), "--out", str(other)],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    cat = json.loads(other.read_text())
    assert cat["settings"]["terms"] == ["cat"] and cat["points"][repr(0.0)] == doc["points"][repr(0.0)]
    assert cat["points"][repr(1.0)]["lambdas"] == {"lambda_sem": 0.0, "lambda_cat": guided.seed_weights(64)["cat"],
                                                   "lambda_inp": 0.0}
    r = subprocess.run(args[:-2] + ["--iters", "3", "--reference", str(out), "--out", str(tmp_path / "x.json")],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode != 0 and "--reference: expected" in r.stderr and not (tmp_path / "x.json").exists()
    r = subprocess.run(args[:-2] + ["--reference", str(tmp_path / "none.json"), "--out", str(tmp_path / "y.json")],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode != 0 and "--reference: expected an existing sweep file" in r.stderr
    assert "Traceback" not in r.stderr and not (tmp_path / "y.json").exists()


def test_the_tuned_default_is_what_the_shipped_sweeps_chose():
    """"tuned" is what the sweeps of the kit's generator (docs/guided_sweep/resize) chose; "light" is the
    all-terms choice of the first generator's sweeps (docs/guided_sweep), kept by name."""
    from inpaintkit import semantic, weights
    sweeps = [json.loads(f.read_text()) for f in sorted((ROOT / "docs" / "guided_sweep" / "resize").glob("val_n32*.json"))]
    assert len(sweeps) >= 3 and all(sw["settings"]["split"] == "val" for sw in sweeps)
    if weights.available(semantic.GENERATOR):
        assert all(sw["settings"]["generator"] == semantic.GENERATOR for sw in sweeps)
    for sw in sweeps:
        assert guided.choose_scale(sw) == sw["choice"]      # each stored choice is the rule's
    choice = guided.choose_setting(sweeps)
    assert guided.WEIGHT_SETS["tuned"] == choice["multipliers"] and guided.DEFAULT_WEIGHTS == "tuned"
    assert choice["layers"] is None or choice["multipliers"]["sem"] == 0   # no layer choice the set cannot hold
    first = [json.loads(f.read_text()) for f in sorted((ROOT / "docs" / "guided_sweep").glob("val_n32*.json"))]
    all_terms = next(sw for sw in first if "terms" not in sw["settings"])
    assert guided.choose_scale(all_terms) == all_terms["choice"]
    assert guided.WEIGHT_SETS["light"] == {k: all_terms["choice"]["scale"] for k in guided.TERMS}
    assert guided.weights("sem_inpainting") == guided.seed_weights(64)
    with pytest.raises(InpaintkitError, match="weights"):
        guided.weights("loud")


def test_guided_by_name_fills_any_size_and_keeps_the_known_pixels(monkeypatch):
    """``methods.inpaint(image, mask, "guided")`` (the CLI, notebook 10's own photo): the hole's
    neighbourhood at the generator's size, known pixels exact, no hole = the image unchanged."""
    from inpaintkit import methods
    from inpaintkit.data import toycars
    monkeypatch.setenv("INPAINTKIT_PRESET", "quick")
    image = toycars.generate(1, size=64, seed=3)[0][0][:48, 4:60]
    mask = np.zeros((48, 56, 1), np.float32)
    mask[14:34, 18:40] = 1
    out = methods.inpaint(image, mask, "guided", seed=0)
    known = mask[..., 0] < 0.5
    assert out.shape == image.shape and np.array_equal(out[known], image[known])
    assert not np.array_equal(out[~known], image[~known])
    assert np.array_equal(guided.inpaint_image(image, np.zeros_like(mask)), image)
    with pytest.raises(InpaintkitError, match="^mask: expected"):
        guided.inpaint_image(image, np.zeros((8, 8, 1), np.float32))
