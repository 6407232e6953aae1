import keras

from inpaintkit import benchmarking


def test_flops_are_counted_by_hand():
    inp = keras.Input((8, 8, 3))
    x = keras.layers.Conv2D(4, 3, padding="same")(inp)                 # 2*9*3*4*64   = 13 824
    x = keras.layers.Conv2DTranspose(2, 4, strides=2, padding="same")(x)  # 2*16*4*2*64 = 16 384
    x = keras.layers.Flatten()(x)
    out = keras.layers.Dense(5)(x)                                     # 2*(16*16*2)*5 = 5 120
    m = keras.Model(inp, out)
    assert benchmarking.forward_flops(m) == 13_824 + 16_384 + 5_120
    assert benchmarking.train_flops(m, batch=2) == 6 * (13_824 + 16_384 + 5_120)


def test_median_seconds_reports_spread():
    calls = []
    r = benchmarking.median_seconds(lambda: calls.append(1), warmup=1, repeats=3, inner=2)
    assert len(calls) == 1 + 3 * 2
    assert r["min_s"] <= r["median_s"] <= r["max_s"]


def test_time_latent_search_times_one_compiled_step():
    import numpy as np

    from inpaintkit import dcgan, masks, semantic
    G, D = dcgan.generator(16, 0.25), dcgan.discriminator(16, 0.25)
    search = semantic.LatentSearch(G, semantic.default_terms(D), iters=5, restarts=2, seed=0)
    images = np.random.default_rng(0).uniform(size=(3, 16, 16, 3)).astype("float32")
    secs, first = benchmarking.time_latent_search(search, images, masks.batch("center_box", 3, 16), 2,
                                                  repeats=2, max_seconds=600)
    assert secs["repeats"] == 2 and secs["median_s"] > 0 and first > 0


def test_cpu_info_reads_model_flags_and_bf16(monkeypatch, tmp_path):
    from inpaintkit import cpu
    fake = tmp_path / "cpuinfo"
    fake.write_text("processor\t: 0\nmodel name\t: AMD EPYC 9R45\nflags\t\t: fpu sse avx2 fma avx512f avx512_bf16\n")
    real_open = open
    monkeypatch.setattr("builtins.open", lambda p, *a, **k: real_open(fake if p == "/proc/cpuinfo" else p, *a, **k))
    info = cpu.cpu_info()
    assert info["model"] == "AMD EPYC 9R45" and info["flags"] == ["avx2", "fma", "avx512f", "avx512_bf16"]
    assert info["bf16_units"] and cpu.has_bf16()
    fake.write_text("model name\t: Some CPU\nflags\t\t: fpu avx2 fma\n")
    assert not cpu.has_bf16() and cpu.cpu_info()["flags"] == ["avx2", "fma"]


def test_side_by_side_benchmark_runs_both_sides_and_records_the_cpu(tmp_path):
    """benchmarks/bench_glcic_vs_torch.py at toy size: every side timed in each round, the paired ratio,
    the CPU; the plain-PyTorch reference is the paper's 17-layer network."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path
    import pytest
    torch = pytest.importorskip("torch")
    root = Path(__file__).resolve().parents[1]
    sys.path.insert(0, str(root / "benchmarks"))
    try:
        import glcic_torch_reference as ref
    finally:
        sys.path.pop(0)
    net = ref.CompletionNet(1.0)
    assert ref.parameters(net) == 6_066_179 + 5_952          # the paper's 6.07 M (the kit's count too)
    assert tuple(net(torch.zeros(1, 4, 64, 64)).shape) == (1, 3, 64, 64)
    holes = ref.box_holes(5, 32, __import__("numpy").random.default_rng(0))
    assert holes.shape == (5, 1, 32, 32) and all(12 <= h.sum() ** 0.5 <= 16 for h in holes[:, 0])
    out = tmp_path / "r.json"
    r = subprocess.run([sys.executable, str(root / "benchmarks" / "bench_glcic_vs_torch.py"), "--sides", "ref", "kit",
                        "--sizes", "16", "--width", "0.125", "--batch", "2", "--steps", "1", "--rounds", "2",
                        "--warmup", "1", "--pause", "0", "--out", str(out)],
                       env=dict(os.environ, INPAINTKIT_NO_PROGRESS="1"), capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    d = json.loads(out.read_text())
    sides = d["results"][0]["sides"]
    assert set(sides) == {"ref", "kit"} and all(len(s["rounds"]) == 2 for s in sides.values())
    assert sides["ref"]["ratio_to_ref"] == 1.0 and sides["kit"]["ratio_to_ref"] > 0
    assert sides["kit"]["worker"]["backend"] == "tensorflow" and "model" in d["cpu"] and "flags" in d["cpu"]


def test_precision_auto_follows_the_cpu_and_bad_names_are_refused(monkeypatch):
    import keras
    import pytest
    from inpaintkit import backend, cpu
    from inpaintkit.errors import InpaintkitError
    with pytest.raises(InpaintkitError, match="precision: expected one of"):
        backend.set_precision("half")
    monkeypatch.setattr(cpu, "has_bf16", lambda: False)
    assert backend.auto_precision() == "float32"
    monkeypatch.setattr(cpu, "has_bf16", lambda: True)
    assert backend.auto_precision() == ("float32" if backend.accelerators() else "mixed_bfloat16")
    try:
        assert backend.set_precision("float32") == "float32"
        assert keras.mixed_precision.global_policy().name == "float32"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_phase1_runs_under_mixed_bfloat16():
    """The losses stay float32 (C's output is cast), so a bf16 step runs and its loss is finite."""
    import keras
    import numpy as np
    from inpaintkit import backend
    from inpaintkit.glcic import completion, phases
    try:
        backend.set_precision("mixed_bfloat16")
        x = np.random.default_rng(0).uniform(size=(8, 16, 16, 3)).astype("float32")
        t = phases.Phase1(completion.completion_network(16, 0.125), x, batch_size=4, show=False)
        logs = t.one_step(0)
        assert np.isfinite(logs["loss"]) and t.C.layers[1].compute_dtype == "bfloat16"
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_dcgan_and_latent_searches_run_under_mixed_bfloat16():
    """The DCGAN step, the semantic and the guided search keep their losses float32 under bf16
    (G's output, D's logits and the classifier's outputs are cast), so they run and stay finite."""
    import keras
    import numpy as np
    from inpaintkit import backend, dcgan, dcgan_training, googlenet, guided, semantic
    try:
        backend.set_precision("mixed_bfloat16")
        backend.seed(0)
        rng = np.random.default_rng(0)
        images = rng.uniform(size=(8, 16, 16, 3)).astype("float32")
        G, D = dcgan.generator(16, 0.125), dcgan.discriminator(16, 0.125)
        assert G.layers[1].compute_dtype == "bfloat16"
        h = dcgan_training.DCGANTrainer(G, D, images, batch_size=4, n_fixed=4).train(2)
        assert all(np.isfinite(v) for e in h for v in e.values())
        holes = np.zeros((2, 16, 16, 1), "float32")
        holes[:, 4:12, 4:12] = 1
        r = semantic.LatentSearch(G, [semantic.ContextLoss(), semantic.PriorLoss(D)], iters=3, restarts=1).run(
            images[:2], holes)
        assert np.isfinite(r.history[-1]["loss"]) and r.composite.dtype == np.float32
        C = googlenet.googlenet(32, 4, width=0.25)
        G32, D32 = dcgan.generator(32, 0.125), dcgan.discriminator(32, 0.125)
        big = rng.uniform(size=(1, 32, 32, 3)).astype("float32")
        hole = np.zeros((1, 32, 32, 1), "float32")
        hole[:, 8:24, 8:24] = 1
        g = guided.guided_search(G32, D32, C, iters=3, restarts=1, lambdas="sem_inpainting").run(big, hole)
        assert all(np.isfinite(v) for v in g.history[-1].values())
    finally:
        keras.mixed_precision.set_global_policy("float32")


def test_every_report_records_the_cpu(capsys):
    import json
    out = benchmarking.report("demo", {"n": 1}, {"median_s": 0.5}, items=2)
    printed = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    assert printed == out and out["img/s"] == 4.0
    assert set(out["cpu"]) >= {"model", "flags", "threads_allowed", "bf16_units"} and out["cpu"]["model"]
