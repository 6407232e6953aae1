"""Toy cars: a procedural, labelled data set of vehicle side views that stands in for Stanford Cars.

Each image is a side view of one vehicle of a known class on a road, with a random body colour,
size, position, facing direction, wheels (tyre, rim, hub), windows, lights and a random background
(sky gradient, sun, clouds, hills, trees, grass or sand, road). The classes differ by structure a
model can learn: a pickup has an open cargo bed (sky behind it), a bus a long row of windows and a
sports car is low and wedge-shaped. So a hole over a wheel or a cargo bed has one plausible answer.

    images, labels = generate(1000, size=64, seed=0)   # float32 (1000, 64, 64, 3) in [0, 1], int64
    CLASSES[labels[0]]                                  # e.g. 'pickup'

Determinism: image ``i`` depends only on ``(seed, i, size)``, never on ``n``; so ``generate(10)[0]``
equals ``generate(10_000)[0][:10]``. Drawing uses OpenCV at 2-4x the target size with anti-aliased
edges, then an area downsample.
"""
from __future__ import annotations

import math

import cv2
import numpy as np

from ..errors import check_int

CLASSES = ("sedan", "hatchback", "suv", "pickup", "van", "bus", "sports_car")

# Side profiles facing right, in metres: x from the rear bumper, y up from the ground.
# body: outline polygon; windows: glass polygons; pillars: x of the posts cutting the glass;
# doors: x of door seams; wheels: (x_rear, x_front); r: wheel radius; light_y: lamp height.
_SPECS = {
    "sedan": dict(
        length=4.7, r=0.33, wheels=(0.9, 3.8), light_y=0.72, doors=(2.35, 3.35), pillars=(2.35,),
        body=[(0.05, 0.25), (0.0, 0.55), (0.05, 0.9), (0.9, 0.97), (1.25, 0.99), (1.75, 1.42), (2.95, 1.44),
              (3.5, 1.0), (4.6, 0.82), (4.7, 0.5), (4.65, 0.25)],
        windows=[[(1.42, 1.0), (1.8, 1.35), (2.92, 1.36), (3.33, 1.0)]]),
    "hatchback": dict(
        length=4.0, r=0.31, wheels=(0.72, 3.3), light_y=0.8, doors=(2.15,), pillars=(0.7, 2.15),
        body=[(0.02, 0.28), (0.0, 0.95), (0.3, 1.47), (2.3, 1.49), (2.85, 0.98), (3.95, 0.8), (4.0, 0.45),
              (3.95, 0.25)],
        windows=[[(0.32, 1.0), (0.5, 1.38), (2.25, 1.4), (2.68, 1.0)]]),
    "suv": dict(
        length=4.7, r=0.45, wheels=(0.95, 3.8), light_y=1.0, doors=(2.35, 3.35), pillars=(1.25, 2.35),
        body=[(0.0, 0.42), (0.02, 1.15), (0.1, 1.82), (3.2, 1.84), (3.75, 1.22), (4.75, 1.12), (4.8, 0.72),
              (4.75, 0.42)],
        windows=[[(0.25, 1.24), (0.28, 1.72), (3.12, 1.74), (3.56, 1.24)]], rack=(0.4, 2.9), cladding=0.68),
    "pickup": dict(
        length=5.5, r=0.41, wheels=(1.05, 4.4), light_y=1.0, doors=(3.2,), pillars=(),
        body=[(0.0, 0.42), (0.0, 1.22), (2.15, 1.22), (2.2, 1.88), (3.55, 1.9), (4.1, 1.28), (5.45, 1.14),
              (5.5, 0.72), (5.45, 0.42)],
        windows=[[(2.38, 1.32), (2.38, 1.78), (3.48, 1.79), (3.88, 1.32)]], bed=(0.0, 2.15, 1.22)),
    "van": dict(
        length=5.0, r=0.36, wheels=(0.9, 4.0), light_y=0.85, doors=(1.4, 2.75, 3.7), pillars=(),
        body=[(0.0, 0.32), (0.0, 2.1), (0.12, 2.22), (3.75, 2.22), (4.5, 1.3), (4.98, 1.05), (5.0, 0.32)],
        windows=[[(0.22, 1.35), (0.22, 2.0), (1.3, 2.0), (1.3, 1.35)],
                 [(1.5, 1.35), (1.5, 2.0), (2.65, 2.0), (2.65, 1.35)],
                 [(2.85, 1.35), (2.85, 2.0), (3.6, 2.02), (3.6, 1.35)],
                 [(3.8, 1.35), (3.76, 2.02), (3.86, 2.06), (4.4, 1.35)]]),
    "bus": dict(
        length=11.0, r=0.52, wheels=(3.0, 8.7), light_y=0.7, doors=(), pillars=(),
        body=[(0.0, 0.38), (0.0, 3.0), (0.1, 3.12), (10.85, 3.12), (11.0, 2.95), (11.0, 0.38)],
        windows=[[(10.2, 1.25), (10.15, 2.85), (10.9, 2.85), (10.9, 1.25)]], bus=True),
    "sports_car": dict(
        length=4.4, r=0.33, wheels=(0.85, 3.55), light_y=0.55, doors=(2.6,), pillars=(),
        body=[(0.0, 0.2), (0.0, 0.74), (0.35, 0.82), (1.1, 0.86), (1.65, 1.06), (2.3, 1.07), (3.1, 0.74),
              (4.3, 0.5), (4.4, 0.34), (4.3, 0.18)],
        windows=[[(1.45, 0.89), (1.75, 1.01), (2.28, 1.02), (2.88, 0.76), (1.7, 0.76)]], spoiler=True),
}

_BODY_COLOURS = np.array([
    (200, 30, 30), (30, 60, 170), (240, 240, 235), (25, 25, 30), (170, 175, 180), (240, 200, 30),
    (30, 130, 60), (240, 120, 20), (110, 30, 130), (20, 150, 170), (120, 80, 50), (90, 100, 110)])
_SHIFT = 4                      # OpenCV sub-pixel bits: coordinates are multiplied by 16
_ONE = 1 << _SHIFT
_AA = cv2.LINE_AA


def _pick(rng, probs):
    """Index drawn with probabilities ``probs`` (faster than Generator.choice for a handful)."""
    u, acc = rng.random(), 0.0
    for i, p in enumerate(probs):
        acc += p
        if u < acc:
            return i
    return len(probs) - 1


def _u(rng, lo, hi):
    return lo + (hi - lo) * rng.random()


def _clamp(v):
    return 0 if v < 0 else (255 if v > 255 else int(v))


def _col(c, scale=1.0):
    """An RGB tuple of ints in 0..255 (OpenCV colour), optionally scaled."""
    return (_clamp(c[0] * scale), _clamp(c[1] * scale), _clamp(c[2] * scale))


def _jit(rng, c, amount):
    d0, d1, d2 = rng.normal(0, amount, 3).tolist()
    return (_clamp(c[0] + d0), _clamp(c[1] + d1), _clamp(c[2] + d2))


def _fx(v):
    return int(v * _ONE + 0.5)


def _pts(p):
    return (np.asarray(p, dtype=np.float64) * _ONE + 0.5).astype(np.int32)


def _poly(img, pts, color):
    cv2.fillPoly(img, [_pts(pts)], color, _AA, _SHIFT)


def _circle(img, c, r, color):
    cv2.circle(img, (_fx(c[0]), _fx(c[1])), max(1, _fx(r)), color, -1, _AA, _SHIFT)


def _ellipse(img, c, axes, color, angle=0.0):
    cv2.ellipse(img, (_fx(c[0]), _fx(c[1])), (max(1, _fx(axes[0])), max(1, _fx(axes[1]))),
                angle, 0, 360, color, -1, _AA, _SHIFT)


def _line(img, p, q, color, width):
    cv2.line(img, (_fx(p[0]), _fx(p[1])), (_fx(q[0]), _fx(q[1])), color, max(1, int(width + 0.5)), _AA, _SHIFT)


def _rect(x0, y0, x1, y1):
    """The four corners of an axis-aligned box (in metres), for ``P``."""
    return [(x0, y0), (x0, y1), (x1, y1), (x1, y0)]


def _chaikin(p, iters=2, cut=0.2):
    """Round a closed polygon's corners (Chaikin's corner cutting)."""
    p = np.asarray(p, dtype=np.float64)
    for _ in range(iters):
        q = np.concatenate([p[1:], p[:1]])
        out = np.empty((2 * len(p), 2))
        out[0::2] = (1 - cut) * p + cut * q
        out[1::2] = cut * p + (1 - cut) * q
        p = out
    return p


def _background(rng, R):
    """Sky gradient, sun, clouds, hills, trees, ground and road. Returns (canvas, ground_y, road colour)."""
    kind = _pick(rng, (0.6, 0.2, 0.2))               # day, dusk, overcast
    if kind == 0:
        top, bottom = (_u(rng, 40, 110), _u(rng, 110, 170), _u(rng, 200, 250)), (170, 205, 240)
    elif kind == 1:
        top, bottom = (_u(rng, 50, 90), _u(rng, 50, 90), _u(rng, 120, 170)), (250, _u(rng, 140, 190), 110)
    else:
        g = _u(rng, 140, 200)
        top, bottom = (g, g + 5, g + 12), (g + 30, g + 32, g + 35)
    ends = np.array([[_col(top)], [_col(bottom)]], np.uint8)          # 2 x 1 pixels, stretched
    img = cv2.resize(ends, (R, R), interpolation=cv2.INTER_LINEAR)
    horizon = R * _u(rng, 0.42, 0.62)
    if kind != 2 and rng.random() < 0.6:                  # sun
        _circle(img, (_u(rng, 0.1, 0.9) * R, _u(rng, 0.08, 0.3) * R), _u(rng, 0.04, 0.08) * R,
                (255, 240, 190) if kind == 0 else (255, 200, 120))
    for _ in range(rng.integers(0, 4)):                  # clouds: a few overlapping ellipses
        cx, cy, w = _u(rng, 0, 1) * R, _u(rng, 0.05, 0.35) * R, _u(rng, 0.06, 0.14) * R
        shade = _jit(rng, (245, 245, 248) if kind != 2 else (225, 225, 230), 4)
        for _k in range(3):
            _ellipse(img, (cx + _u(rng, -1, 1) * w, cy + _u(rng, -0.3, 0.3) * w), (w, w * _u(rng, 0.35, 0.55)), shade)
    if rng.random() < 0.6:                                # distant hills
        xs = np.linspace(-0.1, 1.1, 7) * R
        ys = horizon - rng.random(7) * 0.15 * R
        hills = np.concatenate([np.stack([xs, ys], 1), [(1.1 * R, horizon + 2), (-0.1 * R, horizon + 2)]])
        _poly(img, _chaikin(hills, 2, 0.25), _jit(rng, (90, 130, 110), 15))
    ground = (_jit(rng, (80, 140, 60), 18), _jit(rng, (200, 180, 130), 12), _jit(rng, (235, 238, 242), 5))[
        _pick(rng, (0.65, 0.2, 0.15))]
    cv2.rectangle(img, (0, int(horizon)), (R, R), ground, -1)
    for _ in range(rng.integers(0, 5)):                  # trees on the horizon
        x, h = _u(rng, 0, 1) * R, _u(rng, 0.1, 0.28) * R
        base = horizon + _u(rng, 0, 0.04) * R
        _poly(img, [(x - 0.03 * h, base), (x - 0.03 * h, base - 0.5 * h), (x + 0.03 * h, base - 0.5 * h),
                    (x + 0.03 * h, base)], _jit(rng, (90, 60, 35), 8))
        leaf = _jit(rng, (40, 105, 45), 15)
        if rng.random() < 0.5:                            # pine
            _poly(img, [(x - 0.28 * h, base - 0.25 * h), (x, base - h), (x + 0.28 * h, base - 0.25 * h)], leaf)
        else:
            _circle(img, (x, base - 0.68 * h), 0.3 * h, leaf)
            _circle(img, (x - 0.15 * h, base - 0.55 * h), 0.2 * h, leaf)
    ground_y = R * _u(rng, 0.8, 0.93)                    # where the wheels touch the road
    road = _jit(rng, (95, 95, 100), 12)
    top_y, bot_y = ground_y - _u(rng, 0.06, 0.12) * R, min(R, ground_y + _u(rng, 0.03, 0.08) * R)
    cv2.rectangle(img, (0, int(top_y)), (R, int(np.ceil(bot_y))), road, -1)
    if rng.random() < 0.5:                                # dashed lane line behind the car
        y, dash = top_y + 0.02 * R, _u(rng, 0.06, 0.1) * R
        for x in np.arange(_u(rng, 0, 1) * dash * 2 - 2 * dash, R, 2 * dash):
            _line(img, (x, y), (x + dash, y), (230, 230, 220), 0.012 * R)
    return img, ground_y, road


def _vehicle(img, rng, cls, ground_y, road):
    """Draw one vehicle of class ``cls`` standing on ``ground_y``."""
    R = img.shape[0]
    s = _SPECS[cls]
    sx, sy = _u(rng, 0.95, 1.05), _u(rng, 0.95, 1.05)     # per-image proportions
    length_px = R * _u(rng, 0.7, 0.95)
    k = length_px / (s["length"] * sx)                     # pixels per metre along x
    x0 = _u(rng, 0.02 * R, 0.98 * R - length_px)

    scale, offset = np.array([sx * k, -sy * k]), np.array([x0, ground_y])

    def P(pts, jitter=0.0):
        p = np.asarray(pts, dtype=np.float64)
        if jitter:
            p = p + rng.normal(0, jitter, p.shape)
        return p * scale + offset

    body_c = (_BODY_COLOURS[rng.integers(len(_BODY_COLOURS))] * _u(rng, 0.85, 1.1)).tolist()
    body, dark = _col(body_c), _col(body_c, 0.55)
    glass = _jit(rng, (60, 75, 95) if rng.random() < 0.7 else (120, 150, 175), 10)
    r = s["r"] * _u(rng, 0.92, 1.1)
    wheels_x = [x0 + w * sx * k for w in s["wheels"]]
    # shadow, body outline with rounded corners
    shadow = (0.62 * length_px, 0.1 * r * k + 1)
    _ellipse(img, ((wheels_x[0] + wheels_x[1]) / 2, ground_y), shadow, _col(road, 0.45))
    outline = _chaikin(P(s["body"], 0.015), 2, 0.18 if cls != "bus" else 0.08)
    _poly(img, outline, body)
    if s.get("bed"):                                       # open cargo bed: dark rim, tailgate seam
        x_a, x_b, top = s["bed"]
        _line(img, *P([(x_a + 0.05, top - 0.04), (x_b, top - 0.04)]), dark, 0.02 * k)
        _line(img, *P([(x_b, 0.55), (x_b, top)]), dark, 0.015 * k)
        _line(img, *P([(0.12, 0.6), (0.12, top - 0.1)]), dark, 0.012 * k)
    if s.get("bus"):                                       # a row of 5-7 windows, a glass door, a stripe
        n = int(rng.integers(5, 8))
        edges = np.linspace(0.4, 9.1, n + 1)
        gap = 0.18
        for a, b in zip(edges[:-1], edges[1:]):
            _poly(img, P(_rect(a + gap, 1.55, b - gap, 2.75)), glass)
        _poly(img, P(_rect(9.3, 0.45, 10.0, 2.75)), _col(glass, 0.8))
        _line(img, *P([(9.65, 0.45), (9.65, 2.75)]), dark, 0.02 * k)
        if rng.random() < 0.6:
            _poly(img, P(_rect(0.02, 1.05, 10.98, 1.25)), _jit(rng, [255 - v for v in body_c], 20))
    for w in s["windows"]:
        _poly(img, P(w), glass)
    hi = _col((glass[0] + 45, glass[1] + 45, glass[2] + 45))   # a reflection streak across the first window
    cx, cy = P(s["windows"][0]).mean(0)
    d = 0.04 * length_px
    _line(img, (cx - 2.5 * d, cy + d), (cx - d, cy - d), hi, 0.01 * R)
    w0 = np.asarray(s["windows"][0])
    for x in s["pillars"]:
        _line(img, *P([(x, w0[:, 1].min()), (x, w0[:, 1].max())]), body, 0.07 * k)
    for x in s["doors"]:
        _line(img, *P([(x, 0.45), (x, 1.3 if cls != "sports_car" else 0.9)]), dark, 0.015 * k)
    if s.get("rack"):
        a, b = s["rack"]
        _poly(img, P(_rect(a, 1.84, b, 1.95)), (40, 40, 45))
    if s.get("cladding"):
        _poly(img, P(_rect(0.02, 0.42, s["length"] - 0.02, s["cladding"])), (50, 50, 55))
    if s.get("spoiler"):
        _poly(img, P([(0.02, 0.9), (0.05, 0.96), (0.7, 0.96), (0.7, 0.91)]), dark)
        _line(img, *P([(0.45, 0.8), (0.45, 0.92)]), dark, 0.05 * k)
    front = s["length"]
    ly = s["light_y"]
    _ellipse(img, P([(front - 0.05, ly)])[0], (0.08 * k, 0.06 * k + 0.5), (255, 245, 200))
    _ellipse(img, P([(0.04, ly + 0.05)])[0], (0.06 * k, 0.08 * k + 0.5), (210, 25, 25))
    bumper_y = 0.38 if s["r"] < 0.4 else 0.5
    _poly(img, P(_rect(front - 0.35, bumper_y - 0.14, front + 0.02, bumper_y)), (45, 45, 50))
    _poly(img, P(_rect(-0.02, bumper_y - 0.14, 0.35, bumper_y)), (45, 45, 50))
    # wheels: arch, tyre, rim, hub, spokes
    rim = _jit(rng, ((190, 192, 198), (60, 60, 66), (200, 170, 90))[_pick(rng, (0.6, 0.3, 0.1))], 6)
    rk = r * sy * k
    for wx in wheels_x:
        c = (wx, ground_y - rk)
        _circle(img, c, rk * 1.15, (25, 25, 28))
        _circle(img, c, rk, (30, 30, 32))
        _circle(img, c, rk * 0.58, rim)
        phase, spoke = rng.random() * math.pi, _col(rim, 0.6)
        for j in range(5):
            a = phase + j * 2 * math.pi / 5
            _line(img, c, (c[0] + 0.5 * rk * math.cos(a), c[1] + 0.5 * rk * math.sin(a)), spoke, 0.1 * rk)
        _circle(img, c, rk * 0.18, _col(rim, 0.5))


def _supersample(size: int) -> int:
    return 4 if size <= 32 else 2


def render(label: int, size: int, rng: np.random.Generator) -> np.ndarray:
    """One uint8 ``(size, size, 3)`` image of class ``CLASSES[label]`` drawn with ``rng``."""
    R = size * _supersample(size)
    img, ground_y, road = _background(rng, R)
    _vehicle(img, rng, CLASSES[label], ground_y, road)
    small = cv2.resize(img, (size, size), interpolation=cv2.INTER_AREA)
    return cv2.flip(small, 1) if rng.random() < 0.5 else small


def generate_one(label: int, size: int = 64, rng: np.random.Generator | int = 0) -> np.ndarray:
    """One float32 ``(size, size, 3)`` image in [0, 1] of class ``label`` (an index or a name)."""
    if isinstance(label, str):
        from ..errors import check_choice
        check_choice("label", label, CLASSES)
        label = CLASSES.index(label)
    label = check_int("label", label, 0, len(CLASSES) - 1)
    size = check_int("size", size, 16, 512)
    if not isinstance(rng, np.random.Generator):
        rng = np.random.default_rng(check_int("rng", rng, 0))
    return render(label, size, rng).astype(np.float32) / 255.0


def labels_for(start: int, stop: int, seed: int = 0) -> np.ndarray:
    """Labels of images ``start..stop-1``: each block of len(CLASSES) images is a shuffled copy of all classes."""
    K = len(CLASSES)
    out = np.empty(max(0, stop - start), np.int64)
    for block in range(start // K, (stop + K - 1) // K):
        perm = np.random.default_rng([seed, 1, block]).permutation(K)
        lo, hi = max(start, block * K), min(stop, (block + 1) * K)
        out[lo - start:hi - start] = perm[lo - block * K:hi - block * K]
    return out


def _render_range(start: int, stop: int, size: int, seed: int) -> np.ndarray:
    labels = labels_for(start, stop, seed)
    out = np.empty((stop - start, size, size, 3), np.uint8)
    for j, i in enumerate(range(start, stop)):
        out[j] = render(int(labels[j]), size, np.random.default_rng([seed, 0, i]))
    return out


def _render_parallel(start: int, stop: int, size: int, seed: int, workers: int) -> np.ndarray:
    """:func:`_render_range` in ``workers`` spawned processes (safe even after TensorFlow started its
    threads). The workers need nothing from the caller's script, so ``__main__`` is hidden from them
    while they start: a script without an ``if __name__ == "__main__":`` guard is not re-run in each
    (which made every worker fail, BrokenProcessPool). Should the pool still break, the images are
    drawn in this process, with a warning."""
    import concurrent.futures
    import multiprocessing
    import sys
    import warnings
    edges = np.linspace(start, stop, 4 * workers + 1).astype(int)
    ctx = multiprocessing.get_context("spawn")
    main = sys.modules.get("__main__")
    hidden = {k: main.__dict__.pop(k) for k in ("__file__",) if main is not None and k in main.__dict__}
    spec = getattr(main, "__spec__", None)
    try:
        if main is not None:
            main.__spec__ = None
        with concurrent.futures.ProcessPoolExecutor(workers, mp_context=ctx) as pool:
            parts = pool.map(_render_range, edges[:-1].tolist(), edges[1:].tolist(), [size] * (len(edges) - 1),
                             [seed] * (len(edges) - 1))
            return np.concatenate(list(parts))
    except (concurrent.futures.process.BrokenProcessPool, OSError) as e:
        warnings.warn(f"workers: the {workers} worker processes failed ({type(e).__name__}); drawing the "
                      "images in this process instead", stacklevel=3)
        return _render_range(start, stop, size, seed)
    finally:
        if main is not None:
            main.__dict__.update(hidden)
            main.__spec__ = spec


def generate_range(start: int, stop: int, size: int = 64, seed: int = 0, workers: int = 1):
    """Images ``start..stop-1`` of the sequence defined by ``seed``: ``(images, labels)``.

    ``workers > 1`` draws chunks in that many processes (worth it for tens of thousands of images on
    a many-core machine); the result is identical to ``workers=1``.
    """
    start = check_int("start", start, 0)
    stop = check_int("stop", stop, start)
    size = check_int("size", size, 16, 512)
    seed = check_int("seed", seed, 0)
    workers = check_int("workers", workers, 1, 256)
    labels = labels_for(start, stop, seed)
    if workers == 1 or stop - start < 2 * workers:
        out = _render_range(start, stop, size, seed)
    else:
        out = _render_parallel(start, stop, size, seed, workers)
    images = out.astype(np.float32)
    images *= 1.0 / 255.0
    return images, labels


def generate(n: int, size: int = 64, seed: int = 0, workers: int = 1):
    """``n`` toy cars: ``(images float32 (n, size, size, 3) in [0, 1], labels int64 (n,))``.

    Every class appears once in each consecutive block of ``len(CLASSES)`` images. Image ``i`` depends
    on ``(seed, i, size)`` only. Use different seeds for train/validation/test. ``workers``: processes
    (see ``generate_range``).
    """
    n = check_int("n", n, 0)
    return generate_range(0, n, size, seed, workers)


def stream(batch_size: int, size: int = 64, seed: int = 0, start: int = 0):
    """An endless iterator of fresh ``(images, labels)`` batches (never repeats; for long runs on a GPU)."""
    batch_size = check_int("batch_size", batch_size, 1)
    i = check_int("start", start, 0)
    while True:
        yield generate_range(i, i + batch_size, size, seed)
        i += batch_size
