"""The data layer: toy cars, photo patches, Stanford Cars devkit loader, folders, pipeline."""
import cv2
import numpy as np
import pytest

from inpaintkit import InpaintkitError, presets
from inpaintkit.data import folder, photos, pipeline, stanford_cars, toycars


# ---------------------------------------------------------------- toy cars
def test_toycars_shapes_dtypes_range():
    for size in (16, 33, 64):
        x, y = toycars.generate(9, size=size, seed=3)
        assert x.shape == (9, size, size, 3) and x.dtype == np.float32
        assert y.shape == (9,) and y.dtype == np.int64
        assert x.min() >= 0.0 and x.max() <= 1.0
        assert x.std() > 0.1  # not blank


def test_toycars_deterministic_and_independent_of_n():
    a, la = toycars.generate(12, 32, seed=5)
    b, lb = toycars.generate(12, 32, seed=5)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)
    c, lc = toycars.generate(30, 32, seed=5)
    np.testing.assert_array_equal(a, c[:12])
    np.testing.assert_array_equal(la, lc[:12])
    d, ld = toycars.generate_range(7, 12, 32, seed=5)
    np.testing.assert_array_equal(a[7:], d)
    np.testing.assert_array_equal(la[7:], ld)
    e, _ = toycars.generate(12, 32, seed=6)
    assert np.abs(a - e).mean() > 0.05  # another seed, other pictures


def test_toycars_workers_give_the_same_images():
    a, la = toycars.generate(30, 16, seed=4, workers=2)
    b, lb = toycars.generate(30, 16, seed=4)
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(la, lb)


def test_toycars_every_class_in_every_block():
    K = len(toycars.CLASSES)
    assert K >= 6 and len(set(toycars.CLASSES)) == K
    labels = toycars.labels_for(0, 10 * K, seed=1)
    for block in labels.reshape(10, K):
        assert sorted(block) == list(range(K))
    assert not np.array_equal(labels[:K], labels[K:2 * K])  # shuffled, not periodic
    _, y = toycars.generate(K, 16, seed=2)
    assert sorted(y) == list(range(K))


def test_toycars_anti_aliased():
    # Edges are blended, so an image has many distinct colours, not only the few flat fills.
    x, _ = toycars.generate(1, 64, seed=0)
    colours = np.unique((x[0] * 255).round().astype(np.uint8).reshape(-1, 3), axis=0)
    assert len(colours) > 200


def test_toycars_generate_one_and_bad_input():
    img = toycars.generate_one("bus", 40, np.random.default_rng(0))
    assert img.shape == (40, 40, 3) and img.dtype == np.float32
    np.testing.assert_array_equal(img, toycars.generate_one(5, 40, 0))
    for bad, name in ((dict(n=-1), "n"), (dict(n=3, size=4), "size"), (dict(n=3, size=64.0), "size"),
                      (dict(n=3, seed=-2), "seed")):
        with pytest.raises(InpaintkitError, match=f"^{name}: expected"):
            toycars.generate(**bad)
    with pytest.raises(InpaintkitError, match="label"):
        toycars.generate_one("tractor")


def _flip_invariant_gradients(x):
    g = x.mean(-1)
    f = np.stack([np.abs(np.diff(g, axis=2))[:, :-1], np.abs(np.diff(g, axis=1))[:, :, :-1]], -1)
    f = f + f[:, :, ::-1]
    return np.stack([cv2.resize(i, (8, 8), interpolation=cv2.INTER_AREA) for i in f]).reshape(len(x), -1)


def test_toycars_classes_are_visually_distinct():
    """A linear classifier on coarse edge maps (a weak learner) clearly beats chance on held-out cars."""
    K = len(toycars.CLASSES)
    xtr, ytr = toycars.generate(700, 32, seed=0)
    xte, yte = toycars.generate(350, 32, seed=1)
    ftr, fte = _flip_invariant_gradients(xtr), _flip_invariant_gradients(xte)
    mu, sd = ftr.mean(0), ftr.std(0) + 1e-6
    ftr, fte = (ftr - mu) / sd, (fte - mu) / sd
    W, b, Y = np.zeros((ftr.shape[1], K)), np.zeros(K), np.eye(K)[ytr]
    for _ in range(200):  # softmax regression by gradient descent
        z = ftr @ W + b
        p = np.exp(z - z.max(1, keepdims=True))
        p /= p.sum(1, keepdims=True)
        g = (p - Y) / len(ftr)
        W -= 0.5 * (ftr.T @ g + 1e-3 * W)
        b -= 0.5 * g.sum(0)
    acc = ((fte @ W + b).argmax(1) == yte).mean()
    assert acc > 2.5 / K, acc


# ---------------------------------------------------------------- photos
def test_photos_patches():
    x = photos.patches(10, size=24, seed=0, split="val")
    assert x.shape == (10, 24, 24, 3) and x.dtype == np.float32 and 0 <= x.min() and x.max() <= 1
    np.testing.assert_array_equal(x, photos.patches(10, 24, 0, "val"))
    np.testing.assert_array_equal(x[:4], photos.patches(4, 24, 0, "val"))
    assert np.abs(x - photos.patches(10, 24, 0, "test")).mean() > 0.02
    with pytest.raises(InpaintkitError, match="split"):
        photos.patches(2, split="validation")
    with pytest.raises(InpaintkitError, match="photos"):
        photos.patches(2, photos=["lena"])


def test_photo_split_regions_are_disjoint_and_cover():
    for name in photos.PHOTOS:
        h, w = photos.photo(name).shape[:2]
        owner = np.zeros((h, w), int)
        for split in photos.SPLITS:
            y0, y1, x0, x1 = photos.region(name, split)
            owner[y0:y1, x0:x1] += 1
        assert (owner == 1).all(), name  # every pixel belongs to exactly one split


def test_photo_patches_stay_inside_their_region(monkeypatch):
    seen = []
    real_resize = cv2.resize

    def spy(crop, *args, **kwargs):
        seen.append(crop)
        return real_resize(crop, *args, **kwargs)

    monkeypatch.setattr(photos.cv2, "resize", spy)
    photos.patches(40, 32, seed=1, split="test", photos=["chelsea"])
    img = photos.photo("chelsea")
    y0, y1, x0, x1 = photos.region("chelsea", "test")
    assert len(seen) == 40
    for crop in seen:  # each crop is a view into the photo; its columns lie in the test band
        offset = (crop.__array_interface__["data"][0] - img.__array_interface__["data"][0]) // 3 % img.shape[1]
        assert x0 <= offset and offset + crop.shape[1] <= x1


# ---------------------------------------------------------------- pipeline
def test_to_float_to_uint8_round_trip():
    u = np.arange(256, dtype=np.uint8).reshape(16, 16, 1).repeat(3, -1)
    f = pipeline.to_float(u)
    assert f.dtype == np.float32 and f.min() == 0 and f.max() == 1
    np.testing.assert_array_equal(pipeline.to_uint8(f), u)
    with pytest.raises(InpaintkitError, match="images"):
        pipeline.to_float(np.full((2, 2, 3), 2.0))
    with pytest.raises(InpaintkitError, match="images"):
        pipeline.to_uint8(np.array([[np.nan]]))


def test_split_indices_disjoint_cover():
    parts = pipeline.split_indices(103, (0.8, 0.1, 0.1), seed=1)
    allidx = np.concatenate(parts)
    assert sorted(allidx) == list(range(103)) and [len(p) for p in parts] == [82, 11, 10]
    a, b = pipeline.split_indices(10, (0.5, 0.2), seed=0)
    assert len(a) == 5 and len(b) == 2 and not set(a) & set(b)
    with pytest.raises(InpaintkitError, match="fractions"):
        pipeline.split_indices(10, (0.8, 0.5))


def test_batches_shuffle_align_and_epochs():
    x = np.arange(10, dtype=np.float32)[:, None, None, None] * np.ones((10, 2, 2, 3), np.float32)
    y = np.arange(10)
    got = list(pipeline.batches(x, 3, seed=0, epochs=2, extra=y))
    assert len(got) == 6 and all(b[0].shape == (3, 2, 2, 3) for b in got)
    for xb, yb in got:
        np.testing.assert_array_equal(xb[:, 0, 0, 0], yb)  # labels stay aligned
    first_epoch = np.concatenate([yb for _, yb in got[:3]])
    assert len(set(first_epoch)) == 9  # no repeats within an epoch
    rest = list(pipeline.batches(x, 4, epochs=1, drop_remainder=False))
    assert [len(b) for b in rest] == [4, 4, 2]
    endless = pipeline.batches(x, 5)
    assert len([next(endless) for _ in range(7)]) == 7
    with pytest.raises(InpaintkitError, match="batch_size"):
        pipeline.batches(x, 11)
    with pytest.raises(InpaintkitError, match="extra"):
        pipeline.batches(x, 2, extra=y[:5])


def test_keras_dataset_feeds_fit():
    keras = pytest.importorskip("keras")
    x, y = toycars.generate(20, 16, seed=0)
    ds = pipeline.keras_dataset(x, 8, y, seed=0)
    assert len(ds) == 3
    seen = np.concatenate([ds[i][1] for i in range(len(ds))])
    assert sorted(seen) == sorted(y) and ds[2][0].shape == (4, 16, 16, 3)
    order = ds.order.copy()
    ds.on_epoch_end()
    assert not np.array_equal(order, ds.order) and sorted(ds.order) == list(range(20))  # reshuffled
    model = keras.Sequential([keras.Input((16, 16, 3)), keras.layers.GlobalAveragePooling2D(),
                              keras.layers.Dense(len(toycars.CLASSES))])
    model.compile("adam", keras.losses.SparseCategoricalCrossentropy(from_logits=True))
    hist = model.fit(ds, epochs=1, verbose=0)
    assert np.isfinite(hist.history["loss"][0])
    with pytest.raises(InpaintkitError, match="labels"):
        pipeline.keras_dataset(x, 4, y[:3])


def test_toycar_splits_never_overlap():
    s = pipeline.toycar_splits(40, size=16, seed=0)
    assert s.train[0].shape == (40, 16, 16, 3) and len(s.val[0]) == 8 and len(s.test[0]) == 8
    flat = {a.tobytes() for part in s for a in part[0]}
    assert len(flat) == 56
    q = pipeline.toycar_splits(presets.get("quick"), seed=0)
    assert q.train[0].shape == (presets.QUICK.n_train, presets.QUICK.glcic_size, presets.QUICK.glcic_size, 3)


def test_mean_pixel():
    x = np.zeros((2, 4, 4, 3), np.float32)
    x[..., 0] = 1.0
    x[1, ..., 2] = 0.5
    np.testing.assert_allclose(pipeline.mean_pixel(x), [1.0, 0.0, 0.25])


# ---------------------------------------------------------------- Stanford Cars
def test_stanford_cars_fixture_crop_resize_labels(tmp_path):
    ref = stanford_cars.make_fixture(tmp_path, n_train=5, n_test=3, size=40, seed=0)
    x, y, names = stanford_cars.load(tmp_path, "train", size=40)
    assert x.shape == (5, 40, 40, 3) and x.dtype == np.float32 and y.dtype == np.int64
    np.testing.assert_array_equal(y, ref["train"][1])
    assert names[y[0]].startswith("Toy ")
    assert np.abs(x - ref["train"][0]).mean() < 0.04  # the box crop gives the car back (JPEG aside)
    full, _, _ = stanford_cars.load(tmp_path, "train", size=40, crop=False)
    assert np.abs(full - ref["train"][0]).mean() > 0.08  # without the crop the noisy border shows
    xt, yt, _ = stanford_cars.load(tmp_path, "test", size=20, limit=2)
    assert xt.shape == (2, 20, 20, 3)
    np.testing.assert_array_equal(yt, ref["test"][1][:2])


def test_stanford_cars_unlabelled_test_and_errors(tmp_path):
    stanford_cars.make_fixture(tmp_path, 2, 2, 32, seed=1, test_labels=False)
    _, y, _ = stanford_cars.load(tmp_path, "test", 32)
    assert (y == -1).all()
    with pytest.raises(InpaintkitError, match="cars_train_annos.mat"):
        stanford_cars.load(tmp_path / "missing")
    nested = tmp_path / "cars_train" / "cars_train"       # the nesting some archives use
    nested.mkdir()
    for f in list((tmp_path / "cars_train").glob("*.jpg")):
        f.rename(nested / f.name)
    assert stanford_cars.load(tmp_path, "train", 16)[0].shape == (2, 16, 16, 3)
    (tmp_path / "devkit" / "cars_train_annos.mat").unlink()
    with pytest.raises(InpaintkitError, match="cars_train_annos.mat not found"):
        stanford_cars.load(tmp_path, "train")
    with pytest.raises(InpaintkitError, match="split"):
        stanford_cars.load(tmp_path, "val")


# ---------------------------------------------------------------- folders and files
def _write(path, array, mode=None):
    from PIL import Image
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(array, mode).save(path)


def test_load_image_modes_and_errors(tmp_path):
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, (12, 20, 3), dtype=np.uint8)
    _write(tmp_path / "rgb.png", rgb)
    np.testing.assert_allclose(folder.load_image(tmp_path / "rgb.png"), rgb / 255, atol=1e-6)
    _write(tmp_path / "grey.png", rgb[..., 0])
    g = folder.load_image(tmp_path / "grey.png")
    assert g.shape == (12, 20, 3) and np.allclose(g[..., 0], g[..., 2])
    rgba = np.concatenate([rgb, np.full((12, 20, 1), 100, np.uint8)], -1)
    _write(tmp_path / "rgba.png", rgba)
    np.testing.assert_allclose(folder.load_image(tmp_path / "rgba.png"), rgb / 255, atol=1e-6)
    _write(tmp_path / "deep.png", (rgb[..., 0].astype(np.uint16) * 257))
    np.testing.assert_allclose(folder.load_image(tmp_path / "deep.png")[..., 1], rgb[..., 0] / 255, atol=1e-4)
    (tmp_path / "bad.jpg").write_bytes(b"\xff\xd8\xff\xe0 not really a jpeg")
    with pytest.raises(InpaintkitError, match="bad.jpg"):
        folder.load_image(tmp_path / "bad.jpg")
    with pytest.raises(InpaintkitError, match="no such file"):
        folder.load_image(tmp_path / "nope.png")
    with pytest.raises(InpaintkitError, match="a folder"):
        folder.load_image(tmp_path)


def test_save_image_round_trip(tmp_path):
    x = toycars.generate(1, 24, seed=0)[0][0]
    p = folder.save_image(tmp_path / "sub" / "car.png", x)
    np.testing.assert_allclose(folder.load_image(p), x, atol=0.5 / 255 + 1e-6)
    folder.save_image(tmp_path / "mask.png", np.ones((5, 5, 1), np.float32))
    assert folder.load_image(tmp_path / "mask.png").min() == 1.0
    with pytest.raises(InpaintkitError, match="suffix"):
        folder.save_image(tmp_path / "car.xyz", x)
    with pytest.raises(InpaintkitError, match="image"):
        folder.save_image(tmp_path / "car.png", x * 3)


def test_load_folder(tmp_path):
    rng = np.random.default_rng(1)
    _write(tmp_path / "a.png", rng.integers(0, 256, (30, 50, 3), dtype=np.uint8))
    _write(tmp_path / "deeper" / "b.JPG", rng.integers(0, 256, (40, 20, 3), dtype=np.uint8))
    (tmp_path / "notes.txt").write_text("not an image")
    (tmp_path / "broken.png").write_bytes(b"garbage")
    with pytest.warns(UserWarning, match="broken.png"):
        x = folder.load_folder(tmp_path, size=16)
    assert x.shape == (2, 16, 16, 3) and x.dtype == np.float32
    with pytest.warns(UserWarning):
        assert folder.load_folder(tmp_path, size=16, recursive=False).shape[0] == 1
    with pytest.raises(InpaintkitError, match="broken.png"):
        folder.load_folder(tmp_path, size=16, on_error="raise")
    # centre crop: a wide image with a distinct centre square keeps only that square
    wide = np.zeros((10, 30, 3), np.uint8)
    wide[:, 10:20] = 255
    _write(tmp_path / "c" / "wide.png", wide)
    assert folder.load_folder(tmp_path / "c", size=10).min() > 0.99
    (tmp_path / "empty").mkdir()
    with pytest.raises(InpaintkitError, match="with none"):
        folder.load_folder(tmp_path / "empty")
    with pytest.raises(InpaintkitError, match="no such folder"):
        folder.load_folder(tmp_path / "nowhere")
    with pytest.raises(InpaintkitError, match="size"):
        folder.load_folder(tmp_path, size=0)
