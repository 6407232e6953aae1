"""Can a small CNN tell the toy-car classes apart? Prints one JSON line: test accuracy and confusion matrix.

    nice -n 10 python benchmarks/toycars_separability.py                  # 7 000 cars at 32², 8 epochs
    python benchmarks/toycars_separability.py --size 64 --n 7000 --epochs 8

A 4-block CNN (conv-BN-ReLU-pool, 16-32-64-64 channels, global average pooling) trained with Adam and a
one-cycle learning rate on ``toycars.generate(n, size, seed=0)``, tested on ``n // 5`` cars from seed 1.
"""
import argparse
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--n", type=int, default=7000)
    p.add_argument("--size", type=int, default=32)
    p.add_argument("--epochs", type=int, default=8)
    p.add_argument("--batch", type=int, default=64)
    a = p.parse_args(argv)

    import keras
    import numpy as np

    from inpaintkit import backend
    from inpaintkit.data import keras_dataset, toycars

    backend.seed(0)
    t0 = time.perf_counter()
    x, y = toycars.generate(a.n, a.size, seed=0)
    xt, yt = toycars.generate(a.n // 5, a.size, seed=1)
    t_data = time.perf_counter() - t0

    def block(h, c):
        h = keras.layers.Conv2D(c, 3, padding="same", use_bias=False)(h)
        h = keras.layers.BatchNormalization()(h)
        return keras.layers.MaxPooling2D()(keras.layers.ReLU()(h))

    inp = keras.Input((a.size, a.size, 3))
    h = inp
    for c in (16, 32, 64, 64):
        h = block(h, c)
    out = keras.layers.Dense(len(toycars.CLASSES))(keras.layers.GlobalAveragePooling2D()(h))
    model = keras.Model(inp, out)
    steps = a.epochs * -(-a.n // a.batch)
    lr = keras.optimizers.schedules.CosineDecay(3e-4, steps, warmup_target=3e-3, warmup_steps=steps // 4)
    model.compile(keras.optimizers.Adam(lr), keras.losses.SparseCategoricalCrossentropy(from_logits=True),
                  metrics=["accuracy"])
    t1 = time.perf_counter()
    model.fit(keras_dataset(x, a.batch, y, seed=0), epochs=a.epochs, verbose=0)
    t_train = time.perf_counter() - t1
    pred = model.predict(xt, batch_size=256, verbose=0).argmax(1)
    cm = np.zeros((len(toycars.CLASSES),) * 2, int)
    np.add.at(cm, (yt, pred), 1)
    print(json.dumps({"benchmark": "toycars_separability", "config": vars(a), "backend": backend.NAME,
                      "test_accuracy": round(float((pred == yt).mean()), 4), "classes": list(toycars.CLASSES),
                      "confusion": cm.tolist(), "data_s": round(t_data, 1), "train_s": round(t_train, 1)}))


if __name__ == "__main__":
    main()
