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
