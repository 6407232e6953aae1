"""``python -m inpaintkit``: the good path and every bad input a user can cause."""
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]


def run(*args, timeout=300):
    return subprocess.run([sys.executable, "-m", "inpaintkit", *map(str, args)], capture_output=True,
                          text=True, timeout=timeout, cwd=ROOT)


def assert_clean_failure(res, *words):
    assert res.returncode != 0
    assert "Traceback" not in res.stderr and "Traceback" not in res.stdout
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    for w in words:
        assert w in lines[0], lines[0]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("cli")
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:40, 0:56]
    img = np.stack([x * 4, y * 5, (x + y) * 2], -1).astype(np.uint8) + rng.integers(0, 20, (40, 56, 3)).astype(np.uint8)
    Image.fromarray(img).save(d / "image.png")
    Image.fromarray(img).save(d / "image.jpg", quality=95)
    mask = np.zeros((40, 56), np.uint8)
    mask[10:25, 20:40] = 255
    Image.fromarray(mask).save(d / "mask.png")
    rgba = np.zeros((40, 56, 4), np.uint8)
    rgba[..., 3] = 255                                # opaque alpha everywhere: alpha is ignored
    rgba[5:10, 5:12, 1] = 7                           # any non-zero colour channel = hole
    Image.fromarray(rgba).save(d / "mask_rgba.png")
    Image.fromarray(np.zeros((40, 56), np.uint8)).save(d / "empty.png")
    Image.fromarray(np.ones((40, 56), np.uint8)).save(d / "full.png")          # value 1: non-zero = hole
    Image.fromarray(mask[:20]).save(d / "small_mask.png")
    (d / "corrupt.png").write_bytes(b"\x89PNG\r\n\x1a\n this is not an image")
    (d / "truncated.png").write_bytes((d / "image.png").read_bytes()[:200])
    return d, img, mask


@pytest.mark.parametrize("method", ["telea", "ns", "biharmonic"])
def test_inpaint_good_path(files, method):
    d, img, mask = files
    out = d / f"out_{method}.png"
    res = run("inpaint", d / "image.png", "--mask", d / "mask.png", "--method", method, "--out", out)
    assert res.returncode == 0, res.stderr
    got = np.asarray(Image.open(out))
    assert got.shape == img.shape
    assert np.array_equal(got[mask == 0], img[mask == 0])
    assert not np.array_equal(got[mask > 0], img[mask > 0])   # the hole was actually filled


def test_inpaint_glcic_takes_a_shipped_name_as_weights(files):
    d, img, mask = files
    res = run("inpaint", d / "image.png", "--mask", d / "mask.png", "--method", "glcic", "--weights", "glcic_toycars",
              "--out", d / "glcic.png")
    assert res.returncode == 0, res.stderr
    got = np.asarray(Image.open(d / "glcic.png"))
    assert np.array_equal(got[mask == 0], img[mask == 0]) and not np.array_equal(got[mask > 0], img[mask > 0])
    assert_clean_failure(run("inpaint", d / "image.png", "--mask", d / "mask.png", "--method", "glcic", "--weights",
                             "glcic_nope", "--out", d / "o.png"), "weights", "glcic_photos_phase1", "glcic_nope")


def test_inpaint_empty_mask_returns_the_image(files):
    d, img, _ = files
    res = run("inpaint", d / "image.png", "--mask", d / "empty.png", "--out", d / "same.png")
    assert res.returncode == 0, res.stderr
    assert np.array_equal(np.asarray(Image.open(d / "same.png")), img)


def test_inpaint_reads_jpeg_and_rgba_masks(files):
    d, _, _ = files
    res = run("inpaint", d / "image.jpg", "--mask", d / "mask_rgba.png", "--out", d / "from_jpeg.png")
    assert res.returncode == 0, res.stderr
    src = np.asarray(Image.open(d / "image.jpg").convert("RGB"))
    got = np.asarray(Image.open(d / "from_jpeg.png"))
    changed = (got != src).any(-1)
    assert changed[5:10, 5:12].any() and not changed[:5].any() and not changed[10:].any()


@pytest.mark.parametrize("case, words", [
    (["inpaint", "{d}/nope.png", "--mask", "{d}/mask.png", "--out", "{d}/o.png"], ["image", "no such file"]),
    (["inpaint", "{d}/image.png", "--mask", "{d}/nope.png", "--out", "{d}/o.png"], ["mask", "no such file"]),
    (["inpaint", "{d}/corrupt.png", "--mask", "{d}/mask.png", "--out", "{d}/o.png"], ["image", "readable"]),
    (["inpaint", "{d}/truncated.png", "--mask", "{d}/mask.png", "--out", "{d}/o.png"], ["image", "readable"]),
    (["inpaint", "{d}/image.png", "--mask", "{d}/corrupt.png", "--out", "{d}/o.png"], ["mask", "readable"]),
    (["inpaint", "{d}/image.png", "--mask", "{d}/small_mask.png", "--out", "{d}/o.png"], ["mask", "56x40", "56x20"]),
    (["inpaint", "{d}/image.png", "--mask", "{d}/mask.png", "--method", "magic", "--out", "{d}/o.png"],
     ["method", "telea"]),
    (["inpaint", "{d}/image.png", "--mask", "{d}/mask.png", "--out", "{d}/o.jpg"], ["out", "lossless"]),
    (["inpaint", "{d}/image.png", "--mask", "{d}/mask.png", "--out", "{d}/no/dir/o.png"], ["out", "folder"]),
    (["inpaint", "{d}/image.png", "--mask", "{d}/mask.png", "--weights", "{d}/w.weights.h5", "--out", "{d}/o.png"],
     ["weights"]),
    (["inpaint", "{d}", "--mask", "{d}/mask.png", "--out", "{d}/o.png"], ["image"]),
    (["inpaint", "{d}/image.png", "--mask", "{d}/full.png", "--out", "{d}/o.png"], ["mask", "known pixel"]),
    (["inpaint", "{d}/image.png", "--mask", "{d}/mask.png", "--seed", "-1", "--out", "{d}/o.png"], ["seed"]),
    (["run", "notebooks/00_setup_and_data.ipynb", "--preset", "fast"], ["preset", "quick"]),
    (["run", "{d}/missing.ipynb", "--preset", "quick"], ["notebook", "missing.ipynb"]),
], ids=["missing-image", "missing-mask", "corrupt-image", "truncated-image", "corrupt-mask", "size-mismatch",
        "unknown-method", "jpeg-out", "no-out-folder", "missing-weights", "image-is-a-folder", "all-hole-mask",
        "negative-seed", "bad-preset",
        "missing-notebook"])
def test_bad_inputs_fail_with_one_clear_line(files, case, words):
    d, _, _ = files
    res = run(*[a.format(d=d) for a in case])
    assert_clean_failure(res, *words)
    assert not (d / "o.png").exists()


def test_check_exits_zero():
    res = run("check", timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "usable" in res.stdout and "preset" in res.stdout


def test_run_strips_tensorflow_start_up_lines_from_saved_notebooks():
    import nbformat
    from inpaintkit.cli import strip_tf_noise
    noise = ("WARNING: All log messages before absl::InitializeLog() is called are written to STDERR\n"
             "I0000 00:00:1795276758.406048    6403 port.cc:153] oneDNN custom operations are on.\n"
             "E0000 00:00:1795276761.391467    6403 cuda_platform.cc:52] failed call to cuInit: (303)\n")
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("x", outputs=[
        nbformat.v4.new_output("stream", name="stderr", text=noise),
        nbformat.v4.new_output("stream", name="stderr", text=noise + "UserWarning: real\n"),
        nbformat.v4.new_output("stream", name="stdout", text="E0000 kept on stdout\n")])])
    assert strip_tf_noise(nb) == 6
    outs = nb.cells[0].outputs
    assert [o.name for o in outs] == ["stderr", "stdout"] and outs[0].text == "UserWarning: real\n"


def test_run_polls_the_shell_channel_so_a_missed_wake_up_cannot_hang_a_widget_cell():
    """nbclient#312: after a widget cell one long get_msg(timeout=T) can miss the reply until T
    runs out. The runner's client asks in short slices instead: a reply that is there is found."""
    import asyncio
    import time
    from queue import Empty

    from inpaintkit import cli

    calls = []

    async def missed_then_there(timeout=None):       # like the stuck channel: only a new ask sees it
        calls.append(timeout)
        if len(calls) < 3:
            await asyncio.sleep(min(timeout, 0.05))
            raise Empty
        return {"msg": "reply"}

    t0 = time.monotonic()
    assert asyncio.run(cli._polling(missed_then_there)(timeout=None)) == {"msg": "reply"}
    assert len(calls) == 3 and all(t is not None and t <= cli.POLL_S for t in calls)
    assert time.monotonic() - t0 < 5

    async def never(timeout=None):
        await asyncio.sleep(timeout)
        raise Empty

    t0 = time.monotonic()
    with pytest.raises(Empty):                        # a real timeout still ends as nbclient expects
        asyncio.run(cli._polling(never)(timeout=1.2))
    assert 1.1 < time.monotonic() - t0 < 3
    assert asyncio.run(cli._polling(lambda timeout=None: {"sync": True})()) == {"sync": True}   # a blocking client
