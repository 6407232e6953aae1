"""A plain-PyTorch GLCIC completion network and its phase-1 step: the yardstick for the kit's speed.

Written for this benchmark from the layer table of Iizuka, Simo-Serra & Ishikawa (2017), Table 1
(not from any repository, and not importing the kit), the way a PyTorch user would write it:
``nn.Sequential`` of Conv2d / BatchNorm2d / ReLU in NCHW, the masked MSE of phase 1, a fresh box hole
per image per step drawn in NumPy, and ``loss.item()`` every step (a training loop logs it).

    net = CompletionNet(width=1.0)
    step = Phase1Step(net, images, batch=16)          # images (N, S, S, 3) float32 in [0, 1]
    step(0)                                           # one update; returns the loss

Used by ``benchmarks/bench_glcic_vs_torch.py``.
"""
from __future__ import annotations

import numpy as np
import torch
from torch import nn

# (kind, kernel, dilation, stride, output channels): Table 1 of the paper, 17 rows.
TABLE = (
    ("conv", 5, 1, 1, 64), ("conv", 3, 1, 2, 128), ("conv", 3, 1, 1, 128), ("conv", 3, 1, 2, 256),
    ("conv", 3, 1, 1, 256), ("conv", 3, 1, 1, 256),
    ("conv", 3, 2, 1, 256), ("conv", 3, 4, 1, 256), ("conv", 3, 8, 1, 256), ("conv", 3, 16, 1, 256),
    ("conv", 3, 1, 1, 256), ("conv", 3, 1, 1, 256),
    ("deconv", 4, 1, 2, 128), ("conv", 3, 1, 1, 128), ("deconv", 4, 1, 2, 64), ("conv", 3, 1, 1, 32),
    ("out", 3, 1, 1, 3),
)


class CompletionNet(nn.Sequential):
    """C: 4 channels in (RGB with the hole filled by the mean colour, and the mask), RGB out in [0, 1]."""

    def __init__(self, width: float = 1.0):
        mods, cin = [], 4
        for kind, k, d, s, c in TABLE:
            if kind == "out":
                mods += [nn.Conv2d(cin, 3, k, padding=k // 2), nn.Sigmoid()]
                break
            c = max(1, round(c * width))
            if kind == "deconv":    # 4x4, stride 2, padding 1: exactly doubles the side
                mods.append(nn.ConvTranspose2d(cin, c, k, stride=s, padding=1))
            else:                   # stride 2 with padding 1 halves an even side; dilation d keeps it
                mods.append(nn.Conv2d(cin, c, k, stride=s, padding=d * (k // 2), dilation=d))
            mods += [nn.BatchNorm2d(c), nn.ReLU(inplace=True)]
            cin = c
        super().__init__(*mods)


def box_holes(n: int, size: int, rng: np.random.Generator, lo: float = 3 / 8, hi: float = 1 / 2) -> np.ndarray:
    """``n`` masks (n, 1, size, size), one box each with sides in [lo, hi] x size (vectorised)."""
    a, b = max(1, round(lo * size)), max(1, round(hi * size))
    h, w = rng.integers(a, b + 1, n), rng.integers(a, b + 1, n)
    top, left = rng.integers(0, size - h + 1), rng.integers(0, size - w + 1)
    r = np.arange(size)
    rows = (r >= top[:, None]) & (r < (top + h)[:, None])
    cols = (r >= left[:, None]) & (r < (left + w)[:, None])
    return (rows[:, :, None] & cols[:, None, :]).astype(np.float32)[:, None]


class Phase1Step:
    """One phase-1 update: ``mean(‖M ⊙ (C(x, M) − x)‖²)``, Adam (or ``optimizer="adadelta"``, the paper's)."""

    def __init__(self, net: nn.Module, images: np.ndarray, batch: int = 16, lr: float = 1e-3,
                 optimizer: str = "adam", channels_last: bool = False, seed: int = 0, autocast: bool = False):
        self.net, self.batch_size, self.seed = net.train(), batch, seed
        self.autocast = autocast         # bf16 autocast of the forward pass (the loss stays float32)
        self.images = torch.from_numpy(np.ascontiguousarray(images.transpose(0, 3, 1, 2)))   # NCHW
        self.mean = self.images[:2000].mean((0, 2, 3)).view(1, 3, 1, 1)
        self.memory_format = torch.channels_last if channels_last else torch.contiguous_format
        if channels_last:
            self.net.to(memory_format=torch.channels_last)
        self.opt = (torch.optim.Adadelta(net.parameters()) if optimizer == "adadelta"
                    else torch.optim.Adam(net.parameters(), lr=lr))

    def batch(self, step: int):
        """The images and holes of step ``step`` (NCHW), drawn in NumPy: the host work of a step."""
        rng = np.random.default_rng((self.seed, step))
        x = self.images[torch.from_numpy(rng.integers(0, len(self.images), self.batch_size))]
        return x, torch.from_numpy(box_holes(self.batch_size, x.shape[-1], rng))

    def __call__(self, step: int) -> float:
        x, m = self.batch(step)
        inp = torch.cat([x * (1 - m) + self.mean * m, m], 1).contiguous(memory_format=self.memory_format)
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=self.autocast):
            out = self.net(inp)
        loss = ((m * (out.float() - x)) ** 2).mean()
        self.opt.zero_grad(set_to_none=True)
        loss.backward()
        self.opt.step()
        return loss.item()


def parameters(net: nn.Module) -> int:
    return sum(p.numel() for p in net.parameters())
