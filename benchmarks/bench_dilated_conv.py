"""One 3x3 convolution with dilation 2/4/8/16 (256 -> 256 channels, batch 16, a 16² map: the dilated
layers of GLCIC's completion network at 64²), forward + backward, on the active backend: the backend's own
dilated kernel (``native``: ``tf.nn.convolution``, as Keras calls it; ``conv2d``: ``tf.nn.conv2d`` with
``dilations``, as ``backend.dilated_conv2d`` calls it) against the sum of shifted 1x1 products that ``inpaintkit.glcic.completion.Conv2D`` uses
(``sum``: the kit's own ``completion.shifted_products``; ``concat``: one product of the stacked shifts,
the alternative it was chosen over; ``nodrop``: without skipping the taps that only read zero padding). Prints one JSON line {case: [ms, max |difference|]}.

    python benchmarks/bench_dilated_conv.py [SIDE]
    KERAS_BACKEND=torch python benchmarks/bench_dilated_conv.py
"""
import os, sys, time, statistics, json
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import numpy as np, keras
from keras import ops
from inpaintkit.glcic.completion import dilation_taps, shifted_products
B=16; side=int(sys.argv[1]) if len(sys.argv)>1 else 16; C=256
def im2col(x, kernel, d, drop=True, mode="concat"):
    """The shifted products as one matrix product over the stacked shifts (``concat``), or the kit's sum."""
    k, h, w = kernel.shape[0], x.shape[1], x.shape[2]
    taps = dilation_taps(k, d, h, w) if drop else dilation_taps(k, d)
    if mode != "concat":
        return shifted_products(x, kernel, d, taps)
    r = k // 2
    pad = max(max(abs(i-r), abs(j-r)) for i,j in taps) * d
    xp = ops.pad(x, [[0,0],[pad,pad],[pad,pad],[0,0]]) if pad else x
    cols = [xp[:, pad+(i-r)*d: pad+(i-r)*d+h, pad+(j-r)*d: pad+(j-r)*d+w, :] for i,j in taps]
    p = ops.concatenate(cols, -1) if len(cols)>1 else cols[0]
    km = ops.concatenate([kernel[i, j] for i,j in taps], 0) if len(taps)>1 else kernel[taps[0][0], taps[0][1]]
    return ops.reshape(ops.matmul(ops.reshape(p, (-1, p.shape[-1])), km), (-1, h, w, kernel.shape[-1]))
def timeit(fn, n=5):
    fn(); fn(); ts=[]
    for _ in range(n):
        t0=time.perf_counter(); fn(); ts.append(time.perf_counter()-t0)
    return round(statistics.median(ts)*1000,1)
res={}
rng=np.random.default_rng(0)
x0=rng.normal(size=(B,side,side,C)).astype("float32"); k0=(rng.normal(size=(3,3,C,C))*0.05).astype("float32")
if keras.backend.backend()=="tensorflow":
    import tensorflow as tf
    x=tf.constant(x0); kv=tf.Variable(k0)
    for d in (2,4,8,16):
        ref=tf.nn.convolution(x, kv, padding="SAME", dilations=d)
        for name, fn in (("native", lambda x,kk,d=d: tf.nn.convolution(x, kk, padding="SAME", dilations=d)),
                         ("conv2d", lambda x,kk,d=d: tf.nn.conv2d(x, kk, 1, "SAME", dilations=d)),
                         ("concat", lambda x,kk,d=d: im2col(x,kk,d,True,"concat")),
                         ("sum", lambda x,kk,d=d: im2col(x,kk,d,True,"sum")),
                         ("concat_nodrop", lambda x,kk,d=d: im2col(x,kk,d,False,"concat"))):
            err=float(tf.reduce_max(tf.abs(fn(x,kv)-ref)))
            @tf.function
            def f(x, fn=fn):
                with tf.GradientTape() as t:
                    t.watch(x); y=fn(x,kv); loss=tf.reduce_sum(y*y)
                return t.gradient(loss,[x,kv])
            res[f"d{d} {name}"]=(timeit(lambda: f(x)[0].numpy()), err)
else:
    import torch
    x=torch.tensor(x0, requires_grad=True); kv=torch.tensor(k0, requires_grad=True)
    for d in (2,4,8,16):
        def nat(x,kk,d=d):
            return torch.nn.functional.conv2d(x.permute(0,3,1,2), kk.permute(3,2,0,1), padding=d, dilation=d).permute(0,2,3,1)
        ref=nat(x,kv).detach()
        for name, fn in (("native", nat), ("concat", lambda x,kk,d=d: im2col(x,kk,d,True,"concat")), ("sum", lambda x,kk,d=d: im2col(x,kk,d,True,"sum"))):
            err=float((fn(x,kv)-ref).abs().max())
            def f(fn=fn):
                y=fn(x,kv); return torch.autograd.grad((y*y).sum(),[x,kv])
            res[f"d{d} {name}"]=(timeit(f), err)
print(json.dumps(res))
