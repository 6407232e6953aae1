"""The training scripts that produced the shipped weights still run (quick preset, a few steps,
nothing recorded in the manifest)."""
import ast
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def run(script, *args, tmp_path):
    env = dict(os.environ, INPAINTKIT_NO_PROGRESS="1", TF_CPP_MIN_LOG_LEVEL="3")
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / script), *args], cwd=tmp_path, env=env,
                       capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    return r.stdout


def test_train_glcic_mixed_holes_and_the_bar_against_telea(tmp_path):
    out = tmp_path / "c.weights.h5"
    log = run("train_glcic.py", "--data", "photos", "--preset", "quick", "--masks", "mixed", "--steps", "2,1,1",
              "--anneal", "1,3", "--save-phase1", "--context-pad", "4", "--self-ensemble",
              "--n-train", "64", "--out", str(out), "--run-dir", str(tmp_path / "run"), "--no-record",
              tmp_path=tmp_path)
    assert out.exists() and "versus_telea" in log and "'strokes'" in log and "phase 3: 1 steps" in log
    # the bar is measured for each shipped network: phase 1's numbers are not the final network's
    bars = {line.split(" {")[0]: ast.literal_eval(line[line.index("{"):])["versus_telea"]
            for line in log.splitlines() if line.startswith(("metrics {", "phase-1 metrics {"))}
    assert set(bars) == {"metrics", "phase-1 metrics"} and bars["metrics"] != bars["phase-1 metrics"]
    assert out.with_name("c_phase1.weights.h5").exists()


def test_train_glcic_names_a_bad_init(tmp_path):
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_glcic.py"), "--data", "photos", "--preset",
                        "quick", "--n-train", "16", "--init", "no_such_weights", "--no-record",
                        "--out", str(tmp_path / "c.weights.h5"), "--run-dir", str(tmp_path / "run")],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300,
                       env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert r.returncode == 1 and "error: weights: expected one of" in r.stderr and "no_such_weights" in r.stderr
    assert "Traceback" not in r.stderr


def test_train_dcgan_runs_and_resumes(tmp_path):
    args = ["--preset", "quick", "--steps", "3", "--n-train", "64", "--run-dir", str(tmp_path / "run"),
            "--sample-every", "2", "--no-record", "--ship", "coverage", "--keep-every", "2"]
    log = run("train_dcgan.py", *args, tmp_path=tmp_path)
    assert "step 2:" in log
    assert (tmp_path / "run" / "ckpt").exists()
    kept = sorted(p.name for p in (tmp_path / "run" / "kept").iterdir())
    assert kept == ["discriminator_000002.weights.h5", "generator_000002.weights.h5"]   # every 2nd step, no temporary file


def test_train_dcgan_fine_tunes_the_shipped_pair_with_recall(tmp_path):
    args = ["--preset", "class", "--steps", "2", "--n-train", "16", "--batch", "8", "--width", "0.25", "--upsample",
            "resize", "--minibatch-std", "--ema", "0.999", "--recall", "5", "--init-generator", "dcgan_toycars_resize_generator",
            "--init-discriminator", "dcgan_toycars_resize_discriminator", "--run-dir", str(tmp_path / "run"),
            "--sample-every", "1", "--keep-every", "2", "--no-record"]
    log = run("train_dcgan.py", *args, tmp_path=tmp_path)
    assert "recall=" in log and "cycle=" in log
    assert (tmp_path / "run" / "ckpt" / "encoder.weights.h5").exists()
    G, D = __import__("inpaintkit.semantic", fromlist=["x"]).load_models(tmp_path / "run" / "kept" / "generator_000002.weights.h5")
    assert D is not None and G.count_params() == 302_963          # the kept pair loads as semantic inpainting's
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_dcgan.py"), "--recall", "-1"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "--recall/--cycle: expected weights >= 0" in r.stderr


@pytest.mark.parametrize("script, args, expected", [
    ("eval_dcgan.py", ["missing.weights.h5"], "error: generators: expected an existing .weights.h5 file"),
    ("eval_large_holes.py", ["--methods", "telea", "--n", "0"], "error: n: expected"),
    ("eval_large_holes.py", ["--methods", "ilo", "--n", "1", "--ilo-resolution", "5"],
     "error: ilo_resolution: expected the side of one of the generator's feature maps (4, 8, 16, 32), got 5"),
])
def test_evaluation_scripts_name_a_bad_argument_in_one_line(tmp_path, script, args, expected):
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / script), *args], cwd=tmp_path, capture_output=True,
                       text=True, timeout=300, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
    assert r.returncode == 1 and expected in r.stderr and "Traceback" not in r.stderr, r.stderr[-1500:]


def test_latent_search_scripts_name_a_bad_window(tmp_path):
    for script in ("eval_large_holes.py", "sweep_guided.py"):
        r = subprocess.run([sys.executable, str(ROOT / "scripts" / script), "--window", "4",
                            *(["--out", str(tmp_path / "s.json")] if script == "sweep_guided.py" else [])],
                           cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert r.returncode == 2 and "--window: expected an odd integer >= 1, got 4" in r.stderr, r.stderr[-1500:]
        assert "Traceback" not in r.stderr and not (tmp_path / "s.json").exists()


def test_own_samples_search_reports_the_search_on_the_generators_own_cars(tmp_path):
    out = tmp_path / "own.json"
    log = run("own_samples_search.py", "--n", "2", "--iters", "3", "--restarts", "2", "--candidates", "8",
              "--kinds", "half", "--json", str(out), tmp_path=tmp_path)
    assert "half: loss found" in log and "real cars: loss found" in log
    doc = json.loads(out.read_text())
    row = doc["results"]["half"]
    assert doc["candidates"] == 8 and doc["iters"] == 3 and doc["command"].startswith("python scripts/own_samples_search.py")
    assert abs(row["own_true_loss"]["median"]) < 0.01 and row["own_found_loss"]["median"] > row["own_true_loss"]["median"]
    assert 0 <= row["own_class_kept"] <= 1 and row["z_error_random"] == 0.8165
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "own_samples_search.py"), "--lr", "0"],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "--lr: expected a number > 0, got 0.0" in r.stderr and "Traceback" not in r.stderr


def test_eval_large_holes_runs_ilo_after_semantic_and_pairs_it(tmp_path):
    """ilo reuses semantic inpainting's search over z (one search, and its time counts for both) and is
    paired against semantic; ilo_sweep scores every setting from one such search."""
    out = tmp_path / "e.json"
    log = run("eval_large_holes.py", "--methods", "ilo", "semantic", "--n", "2", "--iters", "3", "--restarts", "1",
              "--ilo-iters", "3", "--ilo-resolution", "8", "--kinds", "center", "--split", "val", "--json", str(out),
              tmp_path=tmp_path)
    assert "ilo - semantic, center: hole PSNR" in log
    doc = json.loads(out.read_text())
    r = doc["results"]["center"]
    assert doc["settings"]["ilo"] == {"resolution": 8, "leash": 0.01, "iters": 3} and "vs_semantic" in r["ilo"]
    # ilo ran the shared search first; semantic only read it, and its time still counts the search
    assert r["ilo"]["seconds_per_image"] > 0 and r["semantic"]["seconds_per_image"] > 0.01
    sweep = tmp_path / "s.json"
    log = run("ilo_sweep.py", "--n", "2", "--iters", "3", "--restarts", "1", "--ilo-iters", "3", "--resolutions", "4", "8",
              "--leashes", "0.01", "--kinds", "half", "--json", str(sweep), tmp_path=tmp_path)
    doc = json.loads(sweep.read_text())
    assert [r["method"] for r in doc["rows"]] == ["telea", "semantic", "ilo r4 mu0.01", "ilo r8 mu0.01"]
    assert doc["best"] in ("ilo r4 mu0.01", "ilo r8 mu0.01") and "minus_semantic" in doc["rows"][3]
    assert doc["settings"]["seed_images"] == 8101
    half = tmp_path / "h.json"          # the same 2 val cars under the half hole, from eval_large_holes.py
    run("eval_large_holes.py", "--methods", "telea", "--n", "2", "--kinds", "half", "--split", "val", "--json", str(half),
        tmp_path=tmp_path)
    log = run("paired_large_holes.py", "--base", f"{half}:telea", f"{sweep}:ilo r8 mu0.01", tmp_path=tmp_path)
    assert "pooled: hole PSNR" in log     # a sweep's file pairs with an evaluation's, image by image
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "ilo_sweep.py"), "--n", "2", "--resolutions", "5",
                        "--iters", "1"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "--resolutions: expected sides of the generator's feature maps" in r.stderr


def test_guided_ilo_val_refines_the_guided_search(tmp_path):
    out = tmp_path / "g.json"
    log = run("guided_ilo_val.py", "--n", "2", "--iters", "2", "--ilo-iters", "2", "--sweep", "none", "--json", str(out),
              tmp_path=tmp_path)
    doc = json.loads(out.read_text())
    assert "class kept per hole" in log and set(doc["class_kept"]) == {"guided", "guided_ilo"}
    assert doc["settings"]["ilo"]["iters"] == 2 and doc["command"].startswith("python scripts/guided_ilo_val.py")
    r = subprocess.run([sys.executable, str(ROOT / "scripts" / "guided_ilo_val.py"), "--n", "2", "--sweep",
                        str(ROOT / "docs" / "large_holes" / "val_ilo_sweep_n64.json")],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 2 and "--sweep: expected ilo_sweep.py's JSON of the same 2 val cars" in r.stderr


def test_eval_large_holes_names_a_bad_lr_or_candidates(tmp_path):
    for args, expected in ((["--lr", "-1"], "--lr: expected a number > 0"),
                           (["--candidates", "0"], "--candidates: expected an integer >= 1"),
                           (["--ilo-leash", "-1"], "--ilo-leash: expected a number >= 0")):
        r = subprocess.run([sys.executable, str(ROOT / "scripts" / "eval_large_holes.py"), *args],
                           cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert r.returncode == 2 and expected in r.stderr and "Traceback" not in r.stderr, r.stderr[-1500:]


def test_train_glcic_names_a_bad_anneal_or_lr(tmp_path):
    for args, expected in ((["--anneal", "2"], "--anneal: expected phases among 1 and 3"),
                           (["--lr", "0"], "--lr: expected a positive learning rate"),
                           (["--context-pad", "3"], "--context-pad: expected an even number")):
        r = subprocess.run([sys.executable, str(ROOT / "scripts" / "train_glcic.py"), "--data", "photos",
                            "--preset", "quick", "--no-record", *args], cwd=tmp_path, capture_output=True,
                           text=True, timeout=300, env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
        assert r.returncode == 2 and expected in r.stderr and "Traceback" not in r.stderr


def test_bench_guided_merges_one_method_into_a_stored_comparison_once(tmp_path):
    import json
    kinds = ("center", "half", "random_boxes", "strokes")
    stored = tmp_path / "cmp.json"
    stored.write_text(json.dumps({"command": "x", "preset": "quick", "n_images": 2, "models": "shipped",
                                  **{k: {kind: {} for kind in kinds}
                                     for k in ("metrics", "seconds_per_image", "frechet", "hole_psnr_ci95",
                                               "evaluator_keeps_class", "evaluator_frechet")}}))
    env = dict(os.environ, INPAINTKIT_PRESET="quick", TF_CPP_MIN_LOG_LEVEL="3")
    args = ["--compare", "2", "--out", str(stored), "--only", "glcic"]
    for _ in range(2):
        r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_guided.py"), *args], cwd=tmp_path,
                           env=env, capture_output=True, text=True, timeout=600)
        assert r.returncode == 0, r.stderr[-3000:]
    d = json.loads(stored.read_text())
    assert d["models"] == "shipped + glcic_toycars" and len(d["merged"]) == 1
    assert all(d["metrics"][kind]["glcic"]["hole_psnr"] > 0 for kind in kinds)
    # ilo after semantic's search: metrics, intervals, the evaluator's verdict and Fréchet distance merged too
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_guided.py"), "--compare", "2", "--out",
                        str(stored), "--only", "semantic", "ilo"], cwd=tmp_path, env=env, capture_output=True,
                       text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    d = json.loads(stored.read_text())
    assert len(d["merged"]) == 2 and d["evaluator_keeps_class"]["intact"]["original"]["n"] == 2
    for kind in kinds:
        assert {"glcic", "semantic", "ilo"} <= set(d["metrics"][kind]) and "ci95" in d["hole_psnr_ci95"][kind]["ilo"]
        assert 0 <= d["evaluator_keeps_class"][kind]["ilo"]["mean"] <= 1 and "frechet" in d["evaluator_frechet"][kind]["ilo"]
        # semantic was not in the file: its time, like ilo's, comes from this run (kept with the run's command)
        timed = d["seconds_per_image_merged"][d["merged"][1]][kind]
        assert d["seconds_per_image"][kind]["ilo"] == timed["ilo"] and timed["semantic"] > 0


def test_eval_glcic_prints_the_bar_per_weights_and_names_bad_input(tmp_path):
    import json
    log = run("eval_glcic.py", "glcic_toycars", "--data", "toycars", "--n", "3", "--context-pad", "4",
              tmp_path=tmp_path)
    r = json.loads(log.strip().splitlines()[-1])
    assert r["weights"] == "glcic_toycars" and r["n"] == 3 and r["context_pad"] == 4
    assert {"random_boxes", "strokes"} <= set(r) and "wins" in r["strokes"]["glcic_postprocessed"]
    for args, expected in ((["no_such_weights"], "no_such_weights"), (["glcic_toycars", "--n", "0"], "--n"),
                           (["glcic_toycars", "--context-pad", "64"], "context_pad")):
        e = subprocess.run([sys.executable, str(ROOT / "scripts" / "eval_glcic.py"), *args, "--data", "toycars"],
                           cwd=tmp_path, capture_output=True, text=True, timeout=300,
                           env=dict(os.environ, TF_CPP_MIN_LOG_LEVEL="3"))
        assert e.returncode in (1, 2) and expected in e.stderr and "Traceback" not in e.stderr, e.stderr[-2000:]


def test_eval_glcic_interpolates_toward_a_second_network(tmp_path):
    import json
    log = run("eval_glcic.py", "glcic_toycars_phase1", "--toward", "glcic_toycars", "--t", "0", "1", "--data",
              "toycars", "--n", "2", tmp_path=tmp_path)
    rows = [json.loads(line) for line in log.strip().splitlines() if line.startswith("{")]
    assert [(r["weights"], r["toward"], r["t"]) for r in rows] == [("glcic_toycars_phase1", "glcic_toycars", 0.0),
                                                                     ("glcic_toycars_phase1", "glcic_toycars", 1.0)]
    assert "sharpness" in rows[0]["strokes"]["glcic"]
    for args, expected in ((["--t", "0.5"], "--toward"), (["--toward", "glcic_toycars", "--t", "2"], "[0, 1]")):
        e = subprocess.run([sys.executable, str(ROOT / "scripts" / "eval_glcic.py"), "glcic_toycars", *args],
                           cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert e.returncode == 2 and expected in e.stderr and "Traceback" not in e.stderr, e.stderr[-2000:]


def test_run_all_benchmarks_smoke_on_pytorch(tmp_path):
    """benchmarks/run_all.py (the GPU column's one command) runs every benchmark script and collects
    their JSON; here at the smallest settings on PyTorch, the backend the lent GPUs have."""
    pytest.importorskip("torch")
    import json
    out = tmp_path / "bench.json"
    env = dict(os.environ, KERAS_BACKEND="torch", OMP_NUM_THREADS="1", TF_CPP_MIN_LOG_LEVEL="3")
    r = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "run_all.py"), "--smoke", "--out", str(out)],
                       cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:]
    report = json.loads(out.read_text())
    assert report["machine"]["keras_backend"] == "torch" and report["machine"]["backend"]
    assert [run["command"].split()[1] for run in report["runs"]] == [
        "benchmarks/bench_guided.py", "benchmarks/bench_semantic.py", "benchmarks/bench_glcic.py",
        "benchmarks/bench_glcic.py", "benchmarks/bench_dcgan.py"]
    for run in report["runs"]:
        assert run["status"] == "ok" and run["results"], run
    glcic = report["runs"][2]["results"][0]
    assert glcic["backend"] == "torch" and glcic["phase"] == 1 and glcic["img_per_s"] > 0


def test_build_notebooks_keeps_outputs_only_when_no_code_changed():
    import importlib.util

    import nbformat
    spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "scripts" / "build_notebooks.py")
    build = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(build)
    old = nbformat.v4.new_notebook(cells=list(build.cells_of("# %% [markdown]\n# Old text\n\n# %%\nprint(1)\n")))
    old.cells[1].outputs = [nbformat.v4.new_output("stream", text="1\n")]
    new = nbformat.v4.new_notebook(cells=list(build.cells_of("# %% [markdown]\n# New text\n\n# %%\nprint(1)\n")))
    build.carry_outputs(old, new, "nb")
    assert new.cells[0].source == "New text" and new.cells[1].outputs[0]["text"] == "1\n"
    assert [c.id for c in new.cells] == [c.id for c in old.cells]
    changed = nbformat.v4.new_notebook(cells=list(build.cells_of("# %%\nprint(2)\n")))
    with pytest.raises(SystemExit, match="code cell 1 changed"):
        build.carry_outputs(old, changed, "nb")


def test_paired_large_holes_compares_stored_results_image_by_image(tmp_path):
    import json

    def result(name, psnr, correct, n=4):
        doc = {"settings": {"split": "val", "seed_images": 8101, "n": n, "kinds": ["center", "half"]},
               "per_image": {k: {"semantic": {"hole_psnr": psnr, "correct": correct},
                                 "telea": {"hole_psnr": [10.0] * n, "correct": [0.0] * n}} for k in ("center", "half")}}
        (tmp_path / name).write_text(json.dumps(doc))
        return str(tmp_path / name)

    a = result("a.json", [11.0, 12.0, 13.0, 14.0], [1.0, 1.0, 0.0, 1.0])
    b = result("b.json", [10.0, 10.0, 10.0, 10.0], [0.0, 1.0, 0.0, 1.0])
    script = [sys.executable, str(ROOT / "scripts" / "paired_large_holes.py")]
    r = subprocess.run(script + ["--base", f"{b}:semantic", f"{a}:semantic", "--json", str(tmp_path / "d.json")],
                       cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-1500:]
    d = json.loads((tmp_path / "d.json").read_text())["differences"][f"{a}:semantic - {b}:semantic"]
    assert d["pooled"]["hole_psnr"]["mean"] == 2.5 and d["pooled"]["hole_psnr"]["n"] == 8
    assert d["center"]["class_kept"]["mean"] == 0.25 and set(d) == {"center", "half", "pooled"}
    r = subprocess.run(script + [f"{a}:semantic", f"{a}:telea"], cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "pooled: hole PSNR +2.50 dB" in r.stdout
    old = json.loads(Path(b).read_text())
    del old["settings"]["seed_images"]                   # ilo_sweep.py's files before session 29
    (tmp_path / "old.json").write_text(json.dumps(old))
    r = subprocess.run(script + [f"{a}:semantic", f"{tmp_path / 'old.json'}:semantic"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0 and "pooled: hole PSNR +2.50 dB" in r.stdout, r.stderr[-1500:]
    del old["settings"]["split"]                         # no file of these scripts: named, no traceback
    (tmp_path / "bad.json").write_text(json.dumps(old))
    r = subprocess.run(script + [f"{a}:semantic", f"{tmp_path / 'bad.json'}:semantic"], cwd=tmp_path,
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 1 and "expected files of eval_large_holes.py or ilo_sweep.py" in r.stderr
    assert "Traceback" not in r.stderr
    c = result("c.json", [1.0] * 3, [1.0] * 3, n=3)
    for args, expected in (([f"{a}:glcic", f"{b}:semantic"], "expected a method of"),
                           ([f"{a}:semantic", f"{c}:semantic"], "expected the images and holes of"),
                           ([f"{tmp_path / 'none.json'}:semantic", f"{a}:semantic"], "expected FILE:METHOD")):
        r = subprocess.run(script + args, cwd=tmp_path, capture_output=True, text=True, timeout=300)
        assert r.returncode == 1 and expected in r.stderr and "Traceback" not in r.stderr, r.stderr[-1500:]
