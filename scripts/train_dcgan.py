"""Train the shipped DCGAN on toy cars and record it in inpaintkit/weights/manifest.json.

    nice -n 10 python scripts/train_dcgan.py --preset class --steps 2500 --width 0.25 --batch 32

Resumable: run the same command again after an interrupt and it continues from the last
checkpoint in ``--run-dir``. At the end the generator and discriminator are saved as compact
(float16) ``.weights.h5`` files, ``dcgan_toycars_generator`` / ``dcgan_toycars_discriminator``,
with the command, steps, wall time and metrics (final losses, sample diversity, and the toy-car
classifier's confidence on samples when its shipped weights exist).
"""
from __future__ import annotations

import argparse
import json
import os
import re
import shlex
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import numpy as np  # noqa: E402

from inpaintkit import backend, dcgan, dcgan_training, presets, training, weights  # noqa: E402
from inpaintkit.data import toycars  # noqa: E402


def save_grid(path, images, ncols=8):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    n, s = len(images), images.shape[1]
    rows = int(np.ceil(n / ncols))
    grid = np.ones((rows * (s + 2), ncols * (s + 2), 3), np.float32)
    for i, im in enumerate(images):
        r, c = divmod(i, ncols)
        grid[r * (s + 2):r * (s + 2) + s, c * (s + 2):c * (s + 2) + s] = im
    plt.imsave(path, np.clip(grid, 0, 1))


_CLASSIFIER = []


def classifier_probs(samples, full=False):
    """Top-class probabilities (all of them if ``full``) of the shipped toy-car classifier (None if not shipped)."""
    try:
        if not weights.available("classifier_toycars"):
            return None
        if not _CLASSIFIER:
            _CLASSIFIER.append(weights.load("classifier_toycars"))
        clf = _CLASSIFIER[0]
        if clf.input_shape[1] != samples.shape[1]:
            return None
        probs = np.concatenate([backend.to_numpy(clf(samples[i:i + 128], training=False))   # ends with a softmax
                                for i in range(0, len(samples), 128)])
        return probs if full else probs.max(axis=1)
    except Exception as e:  # noqa: BLE001 - an optional metric never breaks the run
        print("classifier confidence skipped:", type(e).__name__, e)
        return None


def classifier_confidence(samples):
    """Mean top-class probability of the shipped toy-car classifier (None if not shipped)."""
    top = classifier_probs(samples)
    return None if top is None else float(top.mean())


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--preset", default="class")
    p.add_argument("--steps", type=int, default=None, help="total steps (default: the preset's dcgan_steps)")
    p.add_argument("--width", type=float, default=None, help="channel multiplier (default: the preset's)")
    p.add_argument("--batch", type=int, default=None)
    p.add_argument("--size", type=int, default=None)
    p.add_argument("--n-train", type=int, default=8000)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--run-dir", default=str(ROOT / "runs" / "dcgan_toycars"))
    p.add_argument("--sample-every", type=int, default=250)
    # against mode collapse (docs/dcgan_coverage.md measures each)
    p.add_argument("--lr", type=float, default=2e-4, help="G's Adam learning rate (and D's unless --d-lr)")
    p.add_argument("--d-lr", type=float, default=None, help="D's learning rate (two time-scale update rule)")
    p.add_argument("--beta1", type=float, default=0.5)
    p.add_argument("--label-smoothing", type=float, default=0.0, help="one-sided: real targets 1 - s")
    p.add_argument("--r1", type=float, default=0.0,
                   help="R1 gradient penalty weight gamma on D's real images (Mescheder et al. 2018), e.g. 1")
    p.add_argument("--augment", default="", help="DiffAugment policy, e.g. color,translation,cutout")
    p.add_argument("--minibatch-std", action="store_true", help="minibatch standard deviation in D")
    p.add_argument("--ema", type=float, default=None,
                   help="keep a moving average of G's weights (e.g. 0.999); selection and shipping use it")
    p.add_argument("--spectral-norm", action="store_true", help="spectral normalisation in D (no BatchNorm)")
    p.add_argument("--upsample", choices=dcgan.UPSAMPLING, default="transposed",
                   help="G's upsampling: the paper's transposed convolutions, or resize-convolution (no checkerboard)")
    p.add_argument("--pack", type=int, default=1,
                   help="PacGAN (Lin et al. 2018): D judges packs of this many images, e.g. 2")
    p.add_argument("--ship", choices=("last", "best", "coverage"), default="last",
                   help="ship the last step's weights, or the sampled step whose 256 samples (seed 2) the "
                        "toy-car classifier was most confident about (GAN practice: pick the checkpoint by a "
                        "sample-quality score; the recorded metrics use other samples, seed 1); coverage: among the "
                        "sampled steps whose 1024 samples (seed 2) meet the coverage bar (entropy >= 0.97, every "
                        "class >= 9 %%), the one with the highest class-histogram entropy x mean confidence; the "
                        "highest of all steps while none meets it")
    p.add_argument("--keep-every", type=int, default=0,
                   help="also keep the (averaged) generator and the discriminator of every K-th step in RUN_DIR/kept "
                        "(a multiple of --sample-every), to score other steps afterwards with scripts/eval_dcgan.py "
                        "or scripts/eval_large_holes.py --generator (the discriminator gives the search its prior term)")
    p.add_argument("--recall", type=float, default=0.0,
                   help="weight of |G(E(x)) - x|_1 with an encoder E trained along (G must redraw real cars: its "
                        "range covers the data), e.g. 5; with --cycle times |E(G(z)) - z|^2")
    p.add_argument("--cycle", type=float, default=1.0, help="weight of the code cycle term (with --recall)")
    p.add_argument("--jit", action="store_true", help="compile the steps with XLA (slower on CPU, try on a GPU)")
    p.add_argument("--no-record", action="store_true", help="train only, do not write shipped weights")
    p.add_argument("--ship-step", type=int, default=0,
                   help="ship the generator kept at this step (RUN_DIR/kept, see --keep-every), chosen on the "
                        "selection samples, with the run's last discriminator; overrides --ship")
    p.add_argument("--name", default="dcgan_toycars",
                   help="record as NAME_generator / NAME_discriminator (the kit's notebooks load dcgan_toycars_*)")
    p.add_argument("--init-generator", default=None,
                   help="start G from these weights (a shipped name such as dcgan_toycars_generator, or a "
                        ".weights.h5 file) against a fresh D: fine-tuning a collapsed generator with the "
                        "anti-collapse options; ignored when resuming from a checkpoint")
    p.add_argument("--init-discriminator", default=None,
                   help="start D from these weights (a shipped name or a .weights.h5 file), e.g. to fine-tune the "
                        "shipped pair with --recall; ignored when resuming from a checkpoint")
    args = p.parse_args(argv)
    if args.recall < 0 or args.cycle < 0:
        p.error(f"--recall/--cycle: expected weights >= 0, got {args.recall} and {args.cycle}")
    if args.ship_step and (args.ship_step < 0 or not args.keep_every or args.ship_step % args.keep_every):
        p.error(f"--ship-step: expected a multiple of --keep-every ({args.keep_every}), got {args.ship_step}")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", args.name):
        p.error(f"--name: expected lower-case letters, digits and _ (a weights name), got {args.name!r}")
    if args.keep_every < 0 or (args.keep_every and args.keep_every % args.sample_every):
        p.error(f"--keep-every: expected 0 or a multiple of --sample-every ({args.sample_every}), got {args.keep_every}")
    weights.use_directory()          # $INPAINTKIT_SHIP_DIR set: ship there instead (tests)

    P = presets.get(args.preset)
    size, width = args.size or P.dcgan_size, args.width or P.dcgan_width
    batch, steps = args.batch or P.dcgan_batch, args.steps or P.dcgan_steps
    if args.pack < 1 or batch % args.pack:          # before the data is generated
        p.error(f"--pack: expected a whole number >= 1 that divides the batch ({batch}), got {args.pack}")
    run = Path(args.run_dir)
    run.mkdir(parents=True, exist_ok=True)
    backend.seed(args.seed)
    images, _ = toycars.generate(args.n_train, size=size, seed=args.seed)
    d_config = {"minibatch_std": args.minibatch_std, "spectral_norm": args.spectral_norm}
    if args.pack > 1:
        d_config["pack"] = args.pack
    g_config = {"upsample": args.upsample} if args.upsample != "transposed" else {}
    G, D = dcgan.generator(size, width, **g_config), dcgan.discriminator(size, width, **d_config)
    for model, init, flag in ((G, args.init_generator, "--init-generator"), (D, args.init_discriminator, "--init-discriminator")):
        if init and Path(init).suffix == ".h5":
            weights.load_file(model, init, what=flag)
        elif init:
            weights.load(init, model)
    # what a resumed run must share with its checkpoint (--steps may grow, shipping options change)
    same = {f"--{k.replace('_', '-')}": v for k, v in vars(args).items()
            if k not in ("preset", "steps", "run_dir", "sample_every", "ship", "jit", "no_record", "init_generator",
                         "init_discriminator", "keep_every", "name")
            and not (k == "pack" and v == 1) and not (k == "upsample" and v == "transposed")
            and not (k in ("recall", "cycle") and not args.recall)}
    # (runs from before --pack and --upsample resume as they were)
    same.update({"--size": size, "--width": width, "--batch": batch})
    trainer = dcgan_training.DCGANTrainer(G, D, images, batch_size=batch, seed=args.seed, directory=run / "ckpt",
                                 lr=args.lr, d_lr=args.d_lr, beta_1=args.beta1, augment=args.augment,
                                 label_smoothing=args.label_smoothing, r1=args.r1, ema=args.ema, recall=args.recall,
                                 cycle=args.cycle, encoder=dcgan.encoder(size, width) if args.recall else None,
                                 checkpoint_every=100, sample_every=args.sample_every, jit=args.jit,
                                 config=same)
    clock = run / "wall_time.json"
    spent = json.loads(clock.read_text())["seconds"] if clock.exists() and trainer.step else 0.0
    print(f"DCGAN {size}² width {width} batch {batch}: G {G.count_params():,} D {D.count_params():,} params; "
          f"step {trainer.step}/{steps}", flush=True)

    best_file = run / "best.json"
    best = json.loads(best_file.read_text()) if best_file.exists() and trainer.step else {"confidence": -1.0}

    def consider(step):
        """Keep G and D of the sampled step with the best selection score (see --ship)."""
        n_sel = 1024 if args.ship == "coverage" else 256
        Gs = trainer.averaged_generator() if args.ema else G
        if step and args.keep_every and step % args.keep_every == 0:      # for choosing a step afterwards
            weights.save_file(Gs, run / "kept" / f"generator_{step:06d}.weights.h5")
            weights.save_file(D, run / "kept" / f"discriminator_{step:06d}.weights.h5")   # its prior term
        probs = classifier_probs(dcgan.sample(Gs, n_sel, seed=2), full=True) if step else None
        if probs is None:
            return None
        conf = float(probs.max(axis=1).mean())
        cov = dcgan.coverage_stats(dcgan.class_shares(probs))
        covers = dcgan.meets_bar(cov)
        # coverage: a step that meets the bar beats every step that does not (entropy x confidence <= 1)
        score = cov["entropy"] * conf + float(covers) if args.ship == "coverage" else conf
        print(f"  selection samples: entropy {cov['entropy']:.3f} rarest {cov['min_share']:.3f} "
              f"confidence {conf:.3f} score {score:.4f}" + (" (meets the bar)" if covers else ""), flush=True)
        if score > best.get("score", best["confidence"]):
            best.update(confidence=round(conf, 4), score=round(score, 4), entropy=cov["entropy"], step=step)
            weights.save_file(Gs, run / "best_generator.weights.h5")
            weights.save_file(D, run / "best_discriminator.weights.h5")
            best_file.write_text(json.dumps(best))
        return conf

    if trainer.step and not best_file.exists():     # resuming a run from before the selection existed
        consider(trainer.step)

    def on_sample(step, imgs, history):
        save_grid(run / f"samples_{step:06d}.png", imgs)
        last = history[-1] if history else {}
        conf = consider(step)
        print(f"step {step}: " + " ".join(f"{k}={v:.3f}" for k, v in last.items() if k != "step")
              + ("" if conf is None else f" classifier_confidence={conf:.3f}"), flush=True)
        clock.write_text(json.dumps({"seconds": spent + time.perf_counter() - t0}))

    t0 = time.perf_counter()
    try:
        history = trainer.train(steps, on_sample=on_sample, log_dir=run / "logs")
    except training.TrainingInterrupted as e:       # never ship a half-trained model
        clock.write_text(json.dumps({"seconds": spent + time.perf_counter() - t0}))
        print(f"{e} (training time so far {spent + time.perf_counter() - t0:.0f} s)", file=sys.stderr)
        return 130
    wall = spent + time.perf_counter() - t0
    clock.write_text(json.dumps({"seconds": wall}))
    if args.no_record:
        return 0

    shipped_step = len(history)
    if args.ship_step:
        kept = run / "kept" / f"generator_{args.ship_step:06d}.weights.h5"
        if args.ship_step > shipped_step or not kept.exists():
            print(f"error: --ship-step: expected a kept step of this run (<= {shipped_step}), got {args.ship_step}",
                  file=sys.stderr)
            return 1
        weights.load_file(G, kept)
        shipped_step = args.ship_step
        kept_d = kept.with_name(kept.name.replace("generator", "discriminator"))
        if kept_d.exists():                     # kept since session 29: the pair of that step
            weights.load_file(D, kept_d)
            print(f"shipping the generator and discriminator kept at step {shipped_step}")
        else:
            print(f"shipping the generator kept at step {shipped_step} with the discriminator of step {len(history)}")
    elif args.ship == "last" and args.ema:
        G.set_weights(trainer.averaged_generator().get_weights())
    if args.ship in ("best", "coverage") and best.get("step") and not args.ship_step:
        weights.load_file(G, run / "best_generator.weights.h5")
        weights.load_file(D, run / "best_discriminator.weights.h5")
        shipped_step = best["step"]
        print(f"shipping step {shipped_step} (confidence {best['confidence']} on the selection samples)")
    tail = history[max(0, shipped_step - 100):shipped_step]       # the 100 steps before the shipped one
    samples = dcgan.sample(G, 64, seed=1)
    metrics = {
        "d_loss_last100": round(float(np.mean([h["d_loss"] for h in tail])), 4),
        "g_loss_last100": round(float(np.mean([h["g_loss"] for h in tail])), 4),
        "sample_diversity": round(dcgan.diversity(samples), 4),
        "real_diversity": round(dcgan.diversity(images[:64]), 4),
        "seconds_per_step": round(wall / max(1, len(history)), 3),
        "selection_confidence": None if args.ship_step else best.get("confidence"),
    }
    top = classifier_probs(dcgan.sample(G, 512, seed=1))
    if top is not None:     # top-class probability of the toy-car classifier: samples vs real
        metrics["classifier_confidence"] = round(float(top.mean()), 4)
        metrics["classifier_confidence_median"] = round(float(np.median(top)), 4)
        metrics["share_confident_0.9"] = round(float((top >= 0.9).mean()), 4)
        metrics["classifier_confidence_real"] = round(classifier_confidence(images[:512]), 4)
        metrics["confidence_samples"] = 512
    command = "python scripts/train_dcgan.py " + " ".join(shlex.quote(a) for a in (argv or sys.argv[1:]))
    common = dict(command=command, preset=args.preset, seed=args.seed,
                  steps={"dcgan": shipped_step, "trained": len(history),
                         "selected_by": f"ship-step {args.ship_step}" if args.ship_step else args.ship},
                  wall_time_s=wall, metrics=metrics,
                  notes=f"toy cars {size}², n_train {args.n_train}, batch {batch}, Adam G {args.lr:g} D {args.d_lr or args.lr:g} "
                        f"beta1 {args.beta1:g}, label smoothing {args.label_smoothing:g}, R1 {args.r1:g}, "
                        f"DiffAugment {args.augment or 'none'}, D {d_config}, "
                        f"backend {backend.NAME} on {backend.threads()} CPU threads (shared)")
    with training.deferred_interrupt():             # Ctrl-C waits: both parts are shipped, or none
        for part, model, builder in (("generator", G, "inpaintkit.dcgan:generator"),
                                     ("discriminator", D, "inpaintkit.dcgan:discriminator")):
            name = f"{args.name}_{part}"
            file = weights.HERE / f"{name}.weights.h5"
            weights.save_compact(model, file)
            config = {"size": size, "width": width} | ({"latent_dim": dcgan.LATENT_DIM, **g_config} if part == "generator"
                                                        else {k: v for k, v in d_config.items() if v})
            weights.record(name, file, builder=builder, config=config, **common)
            print("recorded", name, file.stat().st_size, "bytes")
    print(json.dumps(metrics))
    return 0


if __name__ == "__main__":
    os.environ.setdefault("INPAINTKIT_NO_PROGRESS", "1")
    from inpaintkit.errors import InpaintkitError
    try:
        sys.exit(main())
    except InpaintkitError as e:        # a bad argument or a damaged/incompatible checkpoint: one line
        sys.exit(f"error: {e}")
    except KeyboardInterrupt:           # outside the training loop: nothing was shipped half-way
        print("interrupted; nothing shipped half-way: run the same command again to resume", file=sys.stderr)
        sys.exit(130)
