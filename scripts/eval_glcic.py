"""Hole PSNR of GLCIC completion networks against OpenCV Telea on a held-out split (one JSON line each).

    python scripts/eval_glcic.py glcic_photos runs/glcic_photos128_anneal/snaps/*.weights.h5 --split val

Pick checkpoints on ``--split val`` (the patches ``train_glcic.py`` validates on) and report the
chosen one on ``--split test`` (the bar's patches, ``photos.patches(200, size, 7, "test")``), never
the other way round. Each argument is a shipped name or a ``.weights.h5`` with the architecture of
``--like``; ``--precise-bn N`` re-estimates BatchNorm statistics over N training batches first;
``--context-pad PX`` mirrors each image and its hole by PX pixels before the network sees it and
``--self-ensemble on|off`` averages C on each image and its mirror image (defaults: as the
network is shipped, the manifest's config of ``--like``). ``--toward W --t T [T ...]`` scores,
instead of each network A, the network interpolation (1 - T)·A + T·W at each T
(:mod:`inpaintkit.glcic.interpolation`), e.g. the MSE-to-GAN curve::

    python scripts/eval_glcic.py glcic_photos_phase1 --toward glcic_photos --t 0 0.25 0.5 0.75 1 --split val
"""
import argparse
import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "scripts"))           # train_glcic's data splits
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("weights", nargs="+", help="shipped names or .weights.h5 files")
    p.add_argument("--data", choices=("toycars", "photos"), default="photos")
    p.add_argument("--split", choices=("val", "test"), default="val")
    p.add_argument("--n", type=int, default=200, help="images (default 200)")
    p.add_argument("--size", type=int, default=None, help="image side (default: 128 photos, 64 toy cars)")
    p.add_argument("--like", default=None, help="shipped name whose architecture and mean pixel the files share "
                                                "(default glcic_<data>)")
    p.add_argument("--precise-bn", type=int, default=0, metavar="N")
    p.add_argument("--self-ensemble", choices=("on", "off"), default=None,
                   help="average C on each image and its mirror image (inference.complete; default: as the "
                        "network is shipped)")
    p.add_argument("--context-pad", type=int, default=None, metavar="PX",
                   help="mirror the image and its hole by PX pixels before C sees it (inference.complete; "
                        "default: as the network was trained)")
    p.add_argument("--toward", default=None, metavar="W",
                   help="score the interpolation (1-T)*weights + T*W instead (shipped name or .weights.h5)")
    p.add_argument("--t", type=float, nargs="+", default=None, metavar="T",
                   help="interpolation weights in [0, 1] for --toward (default 0 0.25 0.5 0.75 1)")
    p.add_argument("--near-perfect", type=float, default=None, metavar="DB",
                   help="also split each difference to Telea at DB: images where either reaches it vs the rest")
    a = p.parse_args(argv)
    if a.n < 1:
        p.error(f"--n: expected at least 1 image, got {a.n}")
    if a.t is not None and a.toward is None:
        p.error("--t: only with --toward W (the network to interpolate toward)")
    ts = [None] if a.toward is None else (a.t or [0.0, 0.25, 0.5, 0.75, 1.0])
    if any(t is not None and not 0 <= t <= 1 for t in ts):
        p.error(f"--t: expected numbers in [0, 1], got {a.t}")

    from inpaintkit import weights
    from inpaintkit.glcic import inference, interpolation, phases
    from train_glcic import load_data, test_images

    like = a.like or f"glcic_{a.data}"
    size = a.size or (128 if a.data == "photos" else 64)
    if a.split == "test":
        images = test_images(a.data, size, a.n)
    else:
        images = load_data(a.data, 8, size, 0)[1][:a.n]
    train = load_data(a.data, 2000, size, 0)[0] if a.precise_bn else None

    def load(w):
        named = not w.endswith(".h5")         # a shipped name is built as itself
        return inference.load_file(weights.path(w) if named else w, like=w if named and not a.like else like)

    toward = load(a.toward) if a.toward else None
    for w in a.weights:
        base = load(w)
        for t in ts:
            model = base if t is None else interpolation.interpolate(base, toward, t)
            if a.context_pad is not None:
                model.context_pad = a.context_pad
            if a.self_ensemble is not None:
                model.self_ensemble = a.self_ensemble == "on"
            if a.precise_bn:
                phases.precise_batchnorm(model, train, model.mean_pixel, a.precise_bn, 16, "mixed", 0, model.context_pad)
            res = inference.versus_telea(model, images, near_perfect=a.near_perfect)
            print(json.dumps({"weights": w, "split": a.split, "n": len(images), "size": size,
                              **({} if t is None else {"toward": a.toward, "t": t}), "precise_bn": a.precise_bn,
                              "context_pad": model.context_pad, "self_ensemble": model.self_ensemble, **res}),
                  flush=True)


if __name__ == "__main__":
    from inpaintkit.errors import InpaintkitError
    try:
        main()
    except InpaintkitError as e:
        sys.exit(f"error: {e}")
