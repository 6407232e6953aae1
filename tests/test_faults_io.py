"""Fault injection, command line and inputs (issue 17, items 2, 3, 5, 6): unsafe writes, huge
photos, NaN, bad environment variables, damaged shipped files, hostile images and masks.
Each case is reproduced here; docs/reliability.md lists them with what happened before."""
import errno
import json
import os
import shutil
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from inpaintkit import InpaintkitError, methods, metrics, weights
from inpaintkit.errors import check_images, check_masks

ROOT = Path(__file__).resolve().parents[1]


def cli(*args, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "inpaintkit", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env={**os.environ, **(env or {})})


def one_error_line(res, *words):
    assert res.returncode != 0, res.stdout
    assert "Traceback" not in res.stderr + res.stdout
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    for w in words:
        assert w in lines[0], lines[0]
    return lines[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("faults")
    rng = np.random.default_rng(0)
    img = rng.integers(0, 256, (40, 56, 3), dtype=np.uint8)
    Image.fromarray(img).save(d / "image.png")
    mask = np.zeros((40, 56), np.uint8)
    mask[10:25, 20:40] = 255
    Image.fromarray(mask).save(d / "mask.png")
    return d, img, mask


# --------------------------------------------------------------------------- writes (item 3)
def test_out_equal_to_the_input_is_refused_unless_overwrite(files, tmp_path):
    d, img, mask = files
    src = tmp_path / "photo.png"
    shutil.copy(d / "image.png", src)
    before = src.read_bytes()
    one_error_line(cli("inpaint", src, "--mask", d / "mask.png", "--out", src), "--out", "IMAGE", "--overwrite")
    assert src.read_bytes() == before
    res = cli("inpaint", src, "--mask", d / "mask.png", "--out", src, "--overwrite")
    assert res.returncode == 0, res.stderr
    got = np.asarray(Image.open(src))
    assert np.array_equal(got[mask == 0], img[mask == 0]) and not np.array_equal(got[mask > 0], img[mask > 0])
    with pytest.raises(InpaintkitError, match="^out: expected a file other than MASK"):
        methods.inpaint_file(d / "image.png", d / "mask.png", d / "mask.png")


def test_out_a_folder_is_one_line(files):
    d, _, _ = files
    one_error_line(cli("inpaint", d / "image.png", "--mask", d / "mask.png", "--out", d), "--out", "folder")


def _unwritable_folder(tmp_path) -> Path:
    """A folder this process cannot create files in: chmod 0o555, or (as root, whom chmod does not
    stop) /proc, which refuses new files to everyone."""
    if os.geteuid() != 0:
        ro = tmp_path / "ro"
        ro.mkdir()
        ro.chmod(0o555)
        return ro
    return Path("/proc")


def test_unwritable_out_is_one_line_and_keeps_the_previous_file(files, tmp_path):
    d, _, _ = files
    ro = _unwritable_folder(tmp_path)
    if ro == Path("/proc") and not ro.is_dir():
        pytest.skip("no unwritable folder: running as root without /proc")
    line = one_error_line(cli("inpaint", d / "image.png", "--mask", d / "mask.png", "--out", ro / "o.png"),
                          "--out", "writable", "nothing was written")
    assert not (ro / "o.png").exists() and "Traceback" not in line
    if ro != Path("/proc"):
        ro.chmod(0o755)


def test_full_disk_leaves_the_previous_output_intact(files, tmp_path, monkeypatch):
    """ENOSPC half-way through the encoder (simulated: a small full filesystem needs root)."""
    d, img, mask = files
    out = tmp_path / "out.png"
    methods.inpaint_file(d / "image.png", d / "mask.png", out)
    before = out.read_bytes()
    real_save = Image.Image.save

    def save_then_fill_the_disk(self, fp, *a, **kw):
        real_save(self, fp, *a, **kw)
        fp.truncate(100)                                  # a partial file on disk ...
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))     # ... then the disk is full
    monkeypatch.setattr(Image.Image, "save", save_then_fill_the_disk)
    with pytest.raises(InpaintkitError, match=r"^out: .*No space left on device; nothing was written, "
                                              r"the previous file is unchanged"):
        methods.inpaint_file(d / "image.png", d / "mask.png", out, method="ns")
    assert out.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png"]        # no temporary file left


def test_webp_out_is_lossless_and_other_suffixes_list_the_supported_ones(files, tmp_path):
    d, img, mask = files
    res = cli("inpaint", d / "image.png", "--mask", d / "mask.png", "--out", tmp_path / "o.webp")
    assert res.returncode == 0, res.stderr
    got = np.asarray(Image.open(tmp_path / "o.webp").convert("RGB"))
    assert np.array_equal(got[mask == 0], img[mask == 0])
    with pytest.raises(InpaintkitError) as e:
        methods.inpaint_file(d / "image.png", d / "mask.png", tmp_path / "o.gif")
    assert ".png, .bmp, .tif, .tiff, .webp" in str(e.value) and "JPEG" not in str(e.value)
    with pytest.raises(InpaintkitError, match="JPEG would change"):
        methods.inpaint_file(d / "image.png", d / "mask.png", tmp_path / "o.jpg")


# --------------------------------------------------------------------------- NaN (item 5)
def test_nan_and_inf_images_and_masks_are_refused_by_name():
    x = np.full((8, 8, 3), 0.5, np.float32)
    x[2, 3, 1] = np.nan
    with pytest.raises(InpaintkitError, match=r"^image: .*got 1 NaN value") as e:
        check_images("image", x)
    assert "values in [0." not in str(e.value).split("got")[1]          # not a valid-looking range
    x[2, 3, 1] = np.inf
    with pytest.raises(InpaintkitError, match=r"^image: .*1 inf value"):
        check_images("image", x)
    m = np.zeros((8, 8, 1), np.float32)
    m[1, 1] = np.nan
    with pytest.raises(InpaintkitError, match=r"^mask: .*NaN"):
        check_masks("mask", m)
    with pytest.raises(InpaintkitError, match=r"^mask: .*NaN"):
        methods.inpaint(np.full((8, 8, 3), 0.5, np.float32), m)


def test_glcic_inference_blames_the_nan_mask():
    from inpaintkit.glcic import inference
    m = np.zeros((16, 16, 1), np.float32)
    m[4:8, 4:8] = np.nan
    with pytest.raises(InpaintkitError, match=r"^mask: .*NaN"):
        inference.inpaint(np.full((16, 16, 3), 0.5, np.float32), m, model=object())


def test_hole_metrics_with_an_empty_mask_raise():
    x = np.full((8, 8, 3), 0.5, np.float32)
    for fn in (metrics.hole_psnr, metrics.hole_l1, metrics.hole_sharpness, metrics.evaluate):
        with pytest.raises(InpaintkitError, match="mask: expected at least one hole pixel"):
            fn(x, x, np.zeros((8, 8, 1), np.float32))


# --------------------------------------------------------------------------- large photos (item 2)
class _FakeC:
    """Stands in for the completion network: records the input sizes, returns the mean pixel."""
    mean_pixel, context_pad, self_ensemble = (0.5, 0.5, 0.5), 8, False

    def __init__(self):
        self.seen = []

    def __call__(self, x, training=False):
        x = np.asarray(x)
        self.seen.append(x.shape[1:3])
        return np.full(x.shape[:3] + (3,), 0.25, np.float32)


def test_learned_inpainting_runs_on_the_holes_neighbourhood_only():
    from inpaintkit.glcic import inference
    rng = np.random.default_rng(1)
    image = rng.uniform(size=(1500, 2000, 3)).astype(np.float32)
    mask = np.zeros((1500, 2000, 1), np.float32)
    mask[100:130, 200:240] = 1                      # two small holes far apart
    mask[1300:1320, 1700:1750] = 1
    net = _FakeC()
    out = inference.inpaint_regions(image, mask, net, postprocess=False)
    hole = mask[..., 0] > 0
    assert np.array_equal(out[~hole], image[~hole])                 # outside the hole: the input exactly
    assert np.allclose(out[hole], 0.25)
    assert len(net.seen) == 2                                       # one neighbourhood per hole
    for h, w in net.seen:                                           # hole + 152 px context (+ 8 px mirror)
        assert h <= 30 + 2 * inference.CONTEXT_MARGIN + 2 * 8 + 8 and w <= 50 + 2 * inference.CONTEXT_MARGIN + 24
    # a huge hole is downscaled to at most max_pixels (plus mirror and stride padding)
    big = np.zeros_like(mask)
    big[200:1300, 300:1800] = 1
    net = _FakeC()
    out = inference.inpaint_regions(image, big, net, postprocess=False, max_pixels=256 * 256)
    (h, w), = net.seen
    assert (h - 16) * (w - 16) <= 256 * 256 + 4 * (h + w)
    assert np.array_equal(out[big[..., 0] == 0], image[big[..., 0] == 0])


def test_semantic_neighbourhood_is_twice_the_hole_and_inside_the_image():
    from inpaintkit.semantic import neighbourhood
    hole = np.zeros((3000, 4000), bool)
    hole[1000:1100, 2000:2050] = True
    y0, y1, x0, x1 = neighbourhood(hole, 64)
    assert (y1 - y0, x1 - x0) == (200, 200) and y0 <= 1000 and y1 >= 1100 and x0 <= 2000 and x1 >= 2050
    hole[:] = False
    hole[0:5, 3995:4000] = True                                     # a corner: moved inside, >= 64
    assert neighbourhood(hole, 64) == (0, 64, 3936, 4000)
    assert neighbourhood(np.ones((20, 30), bool), 64) == (0, 20, 0, 30)   # small image: all of it


# --------------------------------------------------------------------------- smaller ones (item 6)
def test_glcic_on_a_tiny_image_says_the_image_is_too_small():
    from inpaintkit.glcic import inference
    m = np.zeros((8, 8, 1), np.float32)
    m[2:5, 2:5] = 1
    with pytest.raises(InpaintkitError, match=r"^image: expected at least 9 x 9 pixels .* got 8 x 8"):
        inference.inpaint_image(np.full((8, 8, 3), 0.5, np.float32), m)


@pytest.mark.parametrize("value, words", [("bogus", ["KERAS_BACKEND", "tensorflow or torch", "'bogus'"]),
                                          ("jax", ["KERAS_BACKEND", "JAX is not supported", "'jax'"])])
def test_bad_keras_backend_is_one_line(files, value, words):
    d, _, _ = files
    one_error_line(cli("inpaint", d / "image.png", "--mask", d / "mask.png", "--method", "glcic",
                       "--out", d / "o.png", env={"KERAS_BACKEND": value}, timeout=120), *words)
    assert not (d / "o.png").exists()


@pytest.fixture
def shipped_copy(tmp_path, monkeypatch):
    """The shipped manifest in a temporary folder (the real files are never touched)."""
    from inpaintkit.glcic import inference
    shutil.copy(weights.MANIFEST, tmp_path / "manifest.json")
    monkeypatch.setattr(weights, "HERE", tmp_path)
    monkeypatch.setattr(weights, "MANIFEST", tmp_path / "manifest.json")
    monkeypatch.setattr(inference, "_CACHE", {})
    return tmp_path


def test_truncated_manifest_is_one_line(shipped_copy):
    text = (shipped_copy / "manifest.json").read_text()
    (shipped_copy / "manifest.json").write_text(text[:len(text) // 2])
    with pytest.raises(InpaintkitError, match=r"^weights manifest: expected valid JSON .*git checkout") as e:
        weights.names()
    assert "\n" not in str(e.value)


def test_deleted_shipped_weights_name_the_file_and_how_to_restore_it(shipped_copy):
    from inpaintkit.glcic import inference
    with pytest.raises(InpaintkitError, match=r"glcic_photos\.weights\.h5.*missing.*git checkout.*reinstall"):
        inference.load_shipped("glcic_photos")
    with pytest.raises(InpaintkitError, match=r"glcic_toycars\.weights\.h5.*missing"):
        methods.inpaint(np.full((16, 16, 3), 0.5, np.float32), np.pad(np.ones((4, 4, 1)), ((6, 6), (6, 6), (0, 0))),
                        "glcic", weights="glcic_toycars")


def _png_header_only(path, width, height):
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
                     + chunk(b"IDAT", zlib.compress(b"\0" * 16)) + chunk(b"IEND", b""))


def test_decompression_bomb_is_one_line(files, tmp_path):
    d, _, _ = files
    _png_header_only(tmp_path / "bomb.png", 30000, 30000)            # 900 megapixels claimed, 70 bytes
    one_error_line(cli("inpaint", tmp_path / "bomb.png", "--mask", d / "mask.png", "--out", tmp_path / "o.png"),
                   "image", "decompression-bomb", "900,000,000 pixels")
    one_error_line(cli("inpaint", d / "image.png", "--mask", tmp_path / "bomb.png", "--out", tmp_path / "o.png"),
                   "--mask", "decompression-bomb")


def test_jpeg_mask_is_binarised_at_one_half_with_a_warning(tmp_path):
    mask = np.zeros((64, 80), np.uint8)
    mask[21:43, 27:58] = 255                               # off JPEG's 8 x 8 grid: ringing at every edge
    Image.fromarray(mask).save(tmp_path / "m.jpg", quality=75)
    assert (np.asarray(Image.open(tmp_path / "m.jpg")) > 0).mean() > 1.3 * (mask > 0).mean()   # JPEG ringing
    with pytest.warns(UserWarning, match=r"JPEG \(lossy\), binarised at 0.5"):
        m = methods.read_mask(tmp_path / "m.jpg")
    assert abs(m.mean() - (mask > 0).mean()) < 0.01


def test_inverted_mask_warns_in_one_line(files, tmp_path):
    d, img, mask = files
    Image.fromarray(255 - mask).save(tmp_path / "inverted.png")
    res = cli("inpaint", d / "image.png", "--mask", tmp_path / "inverted.png", "--out", tmp_path / "o.png")
    assert res.returncode == 0
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("warning: --mask: 87% of the image is hole") \
        and "inverted" in lines[0], res.stderr


def test_negative_seeds_and_empty_batches_are_one_line():
    from inpaintkit import dcgan, evaluation
    with pytest.raises(InpaintkitError, match="^seed: expected an integer >= 0, got -1"):
        dcgan.latent(2, seed=-1)
    with pytest.raises(InpaintkitError, match="^seed: expected an integer >= 0, got -1"):
        evaluation.paired_difference(np.ones(3), np.zeros(3), seed=-1)
    with pytest.raises(InpaintkitError, match="^seed"):
        methods.inpaint_file("x.png", "m.png", "o.png", seed=-1)
    empty = np.zeros((0, 8, 8, 3), np.float32)
    with pytest.raises(InpaintkitError, match="^image: expected a batch of at least one image"):
        methods.inpaint(empty, np.zeros((0, 8, 8, 1), np.float32))
    with pytest.raises(InpaintkitError, match="^pred: expected a batch of at least one image"):
        metrics.psnr(empty, empty)


def test_toycars_workers_from_a_script_without_a_main_guard(tmp_path):
    script = tmp_path / "no_guard.py"
    script.write_text("import numpy as np\nfrom inpaintkit.data import toycars\nprint('top level')\n"
                      "a, la = toycars.generate(24, size=16, workers=2)\nb, lb = toycars.generate(24, size=16)\n"
                      "print('same', np.array_equal(a, b) and np.array_equal(la, lb))\n")
    res = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert res.returncode == 0 and "BrokenProcessPool" not in res.stderr, res.stderr
    assert res.stdout.split() == ["top", "level", "same", "True"]           # the script ran once, not per worker


def test_manifest_is_valid_json_here():
    """The real manifest is untouched by these tests."""
    assert isinstance(json.loads(weights.MANIFEST.read_text()), dict)
