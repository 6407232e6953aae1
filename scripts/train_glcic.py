"""Train GLCIC's three phases on toy cars or photo patches and ship the completion network.

    nice -n 10 python scripts/train_glcic.py --data toycars --preset class --steps 1500,200,600 \
        --out inpaintkit/weights/glcic_toycars.weights.h5

Each phase checkpoints to ``--run-dir`` (default ``runs/train_glcic_<data>``), so killing and
re-running the same command resumes where it stopped. At the end the completion network is
saved in float16 (``weights.save_compact``), evaluated on held-out images (hole PSNR/SSIM vs
OpenCV Telea, fixed seeded holes) and recorded in ``inpaintkit/weights/manifest.json``; the
discriminator is saved next to it as ``<name>_disc``.
"""
import argparse
import json
import os
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def load_data(kind: str, n: int, size: int, seed: int):
    if kind == "toycars":
        from inpaintkit.data import toycars
        from inpaintkit.data.pipeline import VAL_START
        train, _ = toycars.generate(n, size, seed)
        val, _ = toycars.generate_range(VAL_START, VAL_START + 200, size, seed)
        return train, val
    from inpaintkit.data import photos
    return photos.patches(n, size, seed, "train"), photos.patches(200, size, seed + 1, "val")


def test_images(kind: str, size: int, n: int = 200):
    """Held-out test images (never used in training or validation) for the bar against Telea."""
    if kind == "toycars":
        from inpaintkit.data import toycars
        from inpaintkit.data.pipeline import TEST_START
        return toycars.generate_range(TEST_START, TEST_START + n, size, 0)[0]
    from inpaintkit.data import photos
    return photos.patches(n, size, 7, "test")


def _main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--data", choices=("toycars", "photos"), required=True)
    p.add_argument("--preset", default="class", help="sizes/widths/batch/lr from this preset")
    p.add_argument("--steps", default=None, help="phase1,phase2,phase3 steps (default: the preset's)")
    p.add_argument("--n-train", type=int, default=None, help="training images (default: the preset's n_train)")
    p.add_argument("--size", type=int, default=None, help="image side (default: the preset's glcic_size)")
    p.add_argument("--masks", choices=("box", "mixed"), default="box",
                   help="training holes: the paper's boxes, or half boxes and half free-form strokes")
    p.add_argument("--init", default=None,
                   help="start the completion network from these weights (a shipped name or a .weights.h5); "
                        "it is fully convolutional, so weights trained at one size continue at another")
    p.add_argument("--anneal", nargs="?", const="3", default="", metavar="PHASES",
                   help="cosine-anneal the learning rate to 0 over these phases (comma-separated among 1 and 3; "
                        "bare --anneal: phase 3 only), so that the weights are not a noisy last iterate of Adam; "
                        "the other phases keep a constant rate")
    p.add_argument("--lr", type=float, default=None, help="Adam learning rate of every phase (default: the preset's)")
    p.add_argument("--context-pad", type=int, default=0, metavar="PX",
                   help="train (and infer) on images and holes mirrored by PX pixels on every side, even "
                        "(phases.Phase1(context_pad=); not in the paper; default 0)")
    p.add_argument("--self-ensemble", action="store_true",
                   help="ship the network to be run averaged with its mirror image (inference.complete's "
                        "self_ensemble; not in the paper): recorded in its config and measured so")
    p.add_argument("--precise-bn", type=int, default=0, metavar="N",
                   help="after the last phase, re-estimate BatchNorm statistics as the average over N training "
                        "batches (precise BN) instead of the last ~10 (momentum 0.9)")
    p.add_argument("--ema", type=float, default=None, metavar="BETA",
                   help="C's weights shipped as their exponential moving average over phases 1 and 3 "
                        "(momentum BETA, e.g. 0.99; not in the paper)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--precision", choices=("auto", "float32", "mixed_bfloat16"), default="auto",
                   help="auto (default): bfloat16 where the CPU computes it in "
                        "hardware (AVX512-BF16/AMX), float32 elsewhere (docs/benchmarks.md, bf16); or float32, mixed_bfloat16")
    p.add_argument("--alpha", type=float, default=None, help="GAN weight (default 0.0004, the paper's)")
    p.add_argument("--out", default=None, help="default inpaintkit/weights/glcic_<data>.weights.h5")
    p.add_argument("--run-dir", default=None)
    p.add_argument("--save-phase1", action="store_true",
                   help="also ship the completion network as it was after phase 1 (<name>_phase1)")
    p.add_argument("--ship-disc", action="store_true", help="also ship the discriminator (<name>_disc)")
    p.add_argument("--no-record", action="store_true", help="do not touch the manifest")
    a = p.parse_args(argv)

    from inpaintkit import backend, presets, training, weights
    from inpaintkit.glcic import completion as cm, discriminators as dm, inference, phases

    weights.use_directory()          # $INPAINTKIT_SHIP_DIR set: ship there instead (tests)
    P = presets.get(a.preset)
    try:
        steps = [int(s) for s in a.steps.split(",")] if a.steps else [P.phase1_steps, P.phase2_steps, P.phase3_steps]
    except ValueError:
        steps = []
    if len(steps) != 3 or min(steps) < 0:
        p.error(f"--steps: expected three comma-separated numbers >= 0 (e.g. 400,50,200), got {a.steps!r}")
    for flag, value, low in (("--size", a.size, 8), ("--n-train", a.n_train, 1), ("--precise-bn", a.precise_bn, 0)):
        if value is not None and value < low:
            p.error(f"{flag}: expected a number >= {low}, got {value}")
    if a.size is not None and a.size % 4:
        p.error(f"--size: expected a multiple of 4, got {a.size}")
    if a.alpha is not None and not a.alpha >= 0:
        p.error(f"--alpha: expected a GAN weight >= 0, got {a.alpha}")
    alpha = phases.ALPHA if a.alpha is None else a.alpha
    anneal = [x.strip() for x in a.anneal.split(",") if x.strip()]
    if not set(anneal) <= {"1", "3"}:
        p.error(f"--anneal: expected phases among 1 and 3 separated by commas (e.g. 1,3), got {a.anneal!r}")
    anneal = sorted(int(x) for x in set(anneal))
    lr = P.glcic_lr if a.lr is None else a.lr
    if not lr > 0:
        p.error(f"--lr: expected a positive learning rate, got {a.lr}")
    if a.context_pad < 0 or a.context_pad % 2:
        p.error(f"--context-pad: expected an even number of pixels >= 0, got {a.context_pad}")
    if a.ema is not None and not 0 <= a.ema < 1:
        p.error(f"--ema: expected a momentum in [0, 1), e.g. 0.99, got {a.ema}")
    name = f"glcic_{a.data}"
    out = Path(a.out or weights.HERE / f"{name}.weights.h5")
    run_dir = Path(a.run_dir or ROOT / "runs" / f"train_glcic_{a.data}")
    size, n_train = a.size or P.glcic_size, a.n_train or P.n_train
    t0 = time.time()
    train, val = load_data(a.data, n_train, size, a.seed)
    print(f"{name}: {len(train)} training images {size}², preset {P.name}, steps {steps}, "
          f"data in {time.time() - t0:.0f}s", flush=True)

    precision = backend.set_precision(a.precision)
    print(f"precision {precision}" + (f" (auto on {'a CPU with' if precision != 'float32' else 'no'} bf16 units)"
                                      if a.precision == "auto" else ""), flush=True)
    backend.seed(a.seed)
    mean = cm.mean_pixel_of(train)
    C = cm.completion_network(size + 2 * a.context_pad, P.glcic_width, mean_pixel=mean, context_pad=a.context_pad)
    if a.init:
        weights.load_file(C, a.init if a.init.endswith(".h5") else weights.path(a.init), what="--init")
    D = dm.discriminator(size, P.glcic_disc_width)
    kw = dict(batch_size=P.glcic_batch, lr=lr, mean_pixel=mean, seed=a.seed, show=False, masks=a.masks,
              context_pad=a.context_pad, ema=a.ema)
    # what a resumed run must share with its checkpoints (--steps may grow, shipping options change)
    kw["config"] = {"--data": a.data, "--preset": P.name, "--size": size, "--n-train": n_train, "--masks": a.masks,
                    "--init": a.init, "--lr": lr, "--context-pad": a.context_pad, "--ema": a.ema, "--seed": a.seed,
                    "--alpha": alpha, "--anneal": anneal, "--precision": precision}
    every = max(50, P.checkpoint_every)
    # wall time accumulates over interrupted + resumed runs of the same command (run_dir/wall.json)
    run_dir.mkdir(parents=True, exist_ok=True)
    wall_file = run_dir / "wall.json"
    wall = json.loads(wall_file.read_text()) if wall_file.exists() else {}

    def add_wall(key, seconds):
        wall[key] = round(wall.get(key, 0.0) + seconds, 1)
        wall_file.write_text(json.dumps(wall))

    wall["data"] = round(time.time() - t0, 1)      # loaded again by every resumed run: count it once
    for i, (cls, args) in enumerate([(phases.Phase1, (C,)), (phases.Phase2, (C, D)), (phases.Phase3, (C, D))]):
        extra = {"alpha": alpha} if cls is phases.Phase3 else {}
        if i + 1 in anneal and steps[i]:
            extra["lr_decay_steps"] = steps[i]
        trainer = cls(*args, train, val[:8], run_dir=run_dir / f"phase{i + 1}", **kw, **extra)
        ts = time.time()
        try:
            hist = trainer.run(steps[i], checkpoint_every=every)
        except training.TrainingInterrupted as e:        # no later phase, nothing shipped
            add_wall(f"phase{i + 1}", time.time() - ts)
            print(f"{e} (training time so far {sum(wall.values()):.0f} s)", file=sys.stderr)
            return 130
        add_wall(f"phase{i + 1}", time.time() - ts)
        if steps[i] and trainer.use_average():
            print(f"phase {i + 1}: C now holds its moving average of weights (momentum {a.ema})", flush=True)
        if i == 0:      # phase 1 is complete here (C = its checkpoint's weights on a rerun): rewrite, atomically
            weights.save_file(C, run_dir / "phase1_final.weights.h5")
        last = {k: round(v, 5) for k, v in hist[-1].items()} if hist else {}
        print(f"phase {i + 1}: {steps[i]} steps, {wall[f'phase{i + 1}']}s, last {last}", flush=True)
    if a.precise_bn:
        ts = time.time()
        phases.precise_batchnorm(C, train, mean, a.precise_bn, P.glcic_batch, a.masks, a.seed, a.context_pad)
        add_wall("precise_bn", time.time() - ts)
        print(f"BatchNorm statistics re-estimated on {a.precise_bn} batches", flush=True)
    wall_time = sum(wall.values())

    out.parent.mkdir(parents=True, exist_ok=True)
    # staged next to --out; moved into place with the manifest at the end (a stop before leaves them as they were)
    stage = lambda f: f.with_name(f".{f.name[:-len('.weights.h5')]}.staged.weights.h5")   # noqa: E731
    weights.save_compact(C, stage(out))
    disc_out = out.with_name(out.name.replace(".weights.h5", "_disc.weights.h5"))
    if a.ship_disc:
        weights.save_compact(D, stage(disc_out))
    D.save_weights(str(run_dir / "discriminator_final.weights.h5"))
    # evaluate the float16 weights exactly as shipped
    shipped = cm.completion_network(None, P.glcic_width, mean_pixel=mean, context_pad=a.context_pad,
                                    self_ensemble=a.self_ensemble)
    weights.load_file(shipped, stage(out))
    masks, _ = phases.sample_holes(len(val), size, 12345, phases.HOLE)
    test = test_images(a.data, size)
    r = lambda d: {k: round(float(v), 4) for k, v in d.items()}

    def measure(model) -> dict:
        """The manifest's metrics of one shipped network: val holes (raw, post-processed, Telea), test bar."""
        res = inference.evaluate(model, val, masks, also_postprocessed=True)      # C runs once
        return {"eval": f"{len(val)} held-out {a.data} images {size}², holes phases.sample_holes(seed 12345), "
                        f"sides {phases.HOLE[0]:.3f}-{phases.HOLE[1]:.3f} of the side",
                **{k: r(v) for k, v in res.items()}, "versus_telea": inference.versus_telea(model, test)}

    metrics = measure(shipped)
    phase1_out = out.with_name(out.name.replace(".weights.h5", "_phase1.weights.h5"))
    if a.save_phase1:
        weights.load_file(C, run_dir / "phase1_final.weights.h5")
        weights.save_compact(C, stage(phase1_out))
        weights.load_file(shipped, stage(phase1_out))
        metrics_p1 = measure(shipped)
        print("phase-1 metrics", metrics_p1, flush=True)
    print("metrics", metrics, flush=True)
    with training.deferred_interrupt():       # Ctrl-C waits: files and manifest entries change together
        for f, wanted in ((out, True), (disc_out, a.ship_disc), (phase1_out, a.save_phase1)):
            if wanted:
                stage(f).replace(f)
        if not a.no_record:
            cmd = "python scripts/train_glcic.py " + " ".join(shlex.quote(x) for x in (argv or sys.argv[1:]))
            config = {"size": None, "width": P.glcic_width, "mean_pixel": [round(float(v), 6) for v in mean]}
            if a.context_pad:
                config["context_pad"] = a.context_pad
            if a.self_ensemble:
                config["self_ensemble"] = True
            common = dict(command=cmd, preset=P.name, seed=a.seed, wall_time_s=wall_time,
                          steps={"phase1": steps[0], "phase2": steps[1], "phase3": steps[2]})
            annealed = f" (cosine-annealed to 0 over phase {' and '.join(map(str, anneal))})" if anneal else ""
            note = (f"GLCIC completion network trained on {n_train} {a.data} images {size}² ({a.masks} holes"
                    f"{', from ' + a.init if a.init else ''}"
                    f"{f', mirror-padded by {a.context_pad} px' if a.context_pad else ''}), batch {P.glcic_batch}, "
                    f"Adam lr {lr}{annealed}"
                    f"{f', precise BN over {a.precise_bn} batches' if a.precise_bn else ''}"
                    f"{f', weights averaged (EMA {a.ema}) over phases 1 and 3' if a.ema is not None else ''}, alpha {alpha}, discriminator width {P.glcic_disc_width}; "
                    f"{'run with self-ensemble (mirror-image average); ' if a.self_ensemble else ''}"
                    f"backend {backend.NAME}; wall times (s) {wall}; float16 storage.")
            weights.record(name, out, builder="inpaintkit.glcic.completion:completion_network", config=config,
                           metrics=metrics, notes=note, **common)
            if a.ship_disc:
                weights.record(name + "_disc", disc_out, builder="inpaintkit.glcic.discriminators:discriminator",
                               config={"size": size, "width": P.glcic_disc_width}, metrics={},
                               notes=f"context discriminator trained with {name} (phases 2 and 3).", **common)
            elif name + "_disc" in weights.manifest():      # shipped by an earlier run: withdraw it
                m = weights.manifest()
                m.pop(name + "_disc")
                weights.MANIFEST.write_text(json.dumps(m, indent=2, sort_keys=True) + "\n")
                disc_out.unlink(missing_ok=True)
            if a.save_phase1:
                weights.record(name + "_phase1", phase1_out, builder="inpaintkit.glcic.completion:completion_network",
                               config=config, metrics=metrics_p1,
                               notes=f"{name} after phase 1 only (MSE, {steps[0]} steps), for comparison with "
                                     f"phase 3; wall_time_s is the whole command's.", **common)
            print(f"recorded {name} in {weights.MANIFEST}")
    return 0


def main(argv=None):
    """The script; Keras's global dtype policy (``--precision``) is put back afterwards, so an in-process
    call (a test, a notebook) does not leave bf16 behind."""
    import keras
    policy = keras.mixed_precision.global_policy().name
    try:
        return _main(argv)
    finally:
        keras.mixed_precision.set_global_policy(policy)


if __name__ == "__main__":
    from inpaintkit.errors import InpaintkitError
    try:
        sys.exit(main())
    except InpaintkitError as e:         # a bad argument or file: one line, no traceback
        sys.exit(f"error: {e}")
    except KeyboardInterrupt:            # outside the training loops: run again to resume
        print("interrupted; run the same command again to resume from the last checkpoint", file=sys.stderr)
        sys.exit(130)
