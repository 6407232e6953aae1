"""Each layer of GLCIC's completion network (width 1, batch 16) alone, forward + backward, in
milliseconds: ``tf`` (the Keras layer in a tf.function) or ``torch`` (torch.nn). Shows where one
framework loses time to the other (docs/benchmarks.md, *Where the time goes*). One JSON line.

    python benchmarks/bench_glcic_layers.py tf 64
    python benchmarks/bench_glcic_layers.py torch 64
"""
import os, sys, time, statistics, json
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
which = sys.argv[1]; size = int(sys.argv[2]) if len(sys.argv) > 2 else 64
B = 16
TABLE = [("conv",5,1,1,64,4),("conv",3,1,2,128,64),("conv",3,1,1,128,128),("conv",3,1,2,256,128),("conv",3,1,1,256,256),
         ("dil2",3,2,1,256,256),("dil4",3,4,1,256,256),("dil8",3,8,1,256,256),("dil16",3,16,1,256,256),
         ("deconv",4,1,2,128,256),("conv",3,1,1,128,128),("deconv",4,1,2,64,128),("conv",3,1,1,32,64),("out",3,1,1,3,32)]
sides = [size, size//2, size//2, size//4, size//4, size//4, size//4, size//4, size//4, size//4, size//2, size//2, size, size]
import numpy as np
res = {}
def timeit(fn, n=5):
    fn(); fn()
    ts=[]
    for _ in range(n):
        t0=time.perf_counter(); fn(); ts.append(time.perf_counter()-t0)
    return statistics.median(ts)*1000
if which == "tf":
    import tensorflow as tf, keras
    from keras import layers
    for (kind,k,d,s,c,cin),side in zip(TABLE,sides):
        if kind=="deconv": L=layers.Conv2DTranspose(c,k,strides=s,padding="same")
        else: L=layers.Conv2D(c,k,strides=s,dilation_rate=d,padding="same")
        x=tf.random.uniform((B,side,side,cin)); L.build(x.shape)
        @tf.function
        def f(x):
            with tf.GradientTape() as t:
                t.watch(x); y=L(x); loss=tf.reduce_sum(y*y)
            return t.gradient(loss,[x]+L.trainable_weights)
        res[f"{kind}{k}s{s} {cin}->{c} @{side}"]=timeit(lambda: [g.numpy() for g in f(x)][0])
    bn=keras.layers.BatchNormalization(); x=tf.random.uniform((B,size//4,size//4,256)); bn.build(x.shape)
    from inpaintkit.backend import BatchNormalization as FBN
    fbn=FBN(); fbn.build(x.shape)
    for name,l in (("bn keras",bn),("bn fused",fbn)):
        @tf.function
        def g(x,l=l):
            with tf.GradientTape() as t:
                t.watch(x); y=tf.nn.relu(l(x,training=True)); loss=tf.reduce_sum(y*y)
            return t.gradient(loss,[x]+l.trainable_weights)
        res[f"{name}+relu 256@{size//4}"]=timeit(lambda: g(x)[0].numpy())
else:
    import torch
    from torch import nn
    for (kind,k,d,s,c,cin),side in zip(TABLE,sides):
        if kind=="deconv": L=nn.ConvTranspose2d(cin,c,k,stride=s,padding=1)
        else: L=nn.Conv2d(cin,c,k,stride=s,padding=d*(k//2),dilation=d)
        x=torch.rand(B,cin,side,side,requires_grad=True)
        def f():
            y=L(x); loss=(y*y).sum(); return torch.autograd.grad(loss,[x]+list(L.parameters()))
        res[f"{kind}{k}s{s} {cin}->{c} @{side}"]=timeit(f)
    bn=nn.BatchNorm2d(256); x=torch.rand(B,256,size//4,size//4,requires_grad=True)
    def g():
        y=torch.relu(bn(x)); return torch.autograd.grad((y*y).sum(),[x]+list(bn.parameters()))
    res[f"bn+relu 256@{size//4}"]=timeit(g)
print(json.dumps({k:round(v,1) for k,v in res.items()}))
