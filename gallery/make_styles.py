"""Paint the procedural style images bundled in ``gallery/styles``.

styler needs a few style images it may redistribute, and famous paintings cannot be shipped, so
this script paints original ones from scratch. Every stroke comes from a seeded random generator,
so the output is reproducible and the images are original works of the styler project (CC0).

    python gallery/make_styles.py            # writes gallery/styles/*.jpg

Only numpy, opencv and pillow are used. The images are drawn at twice the output size and
downsampled, which gives smooth antialiased strokes.
"""

from __future__ import annotations

import argparse
import math
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

Color = tuple[float, float, float]
FloatArray = np.ndarray

OUT_W, OUT_H = 768, 576
SCALE = 2  # supersampling factor
JPEG_QUALITY = 92
SHIFT = 4  # fixed-point bits for sub-pixel cv2 drawing
ONE = 1 << SHIFT


# ----------------------------------------------------------------------------------------------
# shared helpers
# ----------------------------------------------------------------------------------------------


def smooth_noise(
    rng: np.random.Generator, h: int, w: int, scale: float, octaves: int = 3
) -> FloatArray:
    """Fractal value noise in [0, 1] with features of roughly ``scale`` pixels."""
    total = np.zeros((h, w), np.float32)
    amp, norm = 1.0, 0.0
    for _ in range(octaves):
        gh, gw = max(2, int(h / scale) + 2), max(2, int(w / scale) + 2)
        grid = rng.random((gh, gw)).astype(np.float32)
        layer = cv2.resize(grid, (w, h), interpolation=cv2.INTER_CUBIC)
        layer = cv2.GaussianBlur(layer, (0, 0), max(0.8, scale * 0.35))
        total += amp * layer
        norm += amp
        amp *= 0.5
        scale /= 2.0
    total /= norm
    lo, hi = float(total.min()), float(total.max())
    return (total - lo) / max(hi - lo, 1e-6)


def ramp(t: FloatArray, colors: Sequence[Color]) -> FloatArray:
    """Map ``t`` in [0, 1] onto a piecewise-linear colour ramp; returns float RGB."""
    xs = np.linspace(0.0, 1.0, len(colors))
    cols = np.asarray(colors, np.float32)
    t = np.clip(t, 0.0, 1.0)
    return np.stack([np.interp(t, xs, cols[:, c]) for c in range(3)], axis=-1).astype(np.float32)


def smoothstep(e0: float, e1: float, x: FloatArray) -> FloatArray:
    t = np.clip((x - e0) / (e1 - e0), 0.0, 1.0)
    return t * t * (3.0 - 2.0 * t)


def jitter(rng: np.random.Generator, color: Sequence[float], sigma: float, value: float) -> Color:
    """Randomly perturb a colour per channel and in overall brightness."""
    c = np.asarray(color, np.float32) * (1.0 + rng.normal(0.0, value))
    c = c + rng.normal(0.0, sigma, 3)
    c = np.clip(c, 0, 255)
    return (float(c[0]), float(c[1]), float(c[2]))


def fixed(pts: FloatArray) -> np.ndarray:
    return np.round(np.asarray(pts) * ONE).astype(np.int32)


def paint_stroke(
    canvas: np.ndarray,
    pts: FloatArray,
    color: Color,
    thickness: int,
    edge: float = 0.8,
    highlight: float = 0.35,
) -> None:
    """Draw one impasto stroke: darker rim, body, and a thin light ridge offset to the top-left."""
    p = fixed(pts)
    rim = tuple(c * edge for c in color)
    cv2.polylines(canvas, [p], False, rim, thickness + 2, cv2.LINE_AA, SHIFT)
    cv2.polylines(canvas, [p], False, color, thickness, cv2.LINE_AA, SHIFT)
    if highlight > 0 and len(pts) > 2 and thickness >= 4:
        hi = tuple(c + (255.0 - c) * highlight for c in color)
        off = np.asarray(pts[1:-1]) - thickness * 0.22
        cv2.polylines(canvas, [fixed(off)], False, hi, max(1, thickness // 4), cv2.LINE_AA, SHIFT)


def trace(
    x: float,
    y: float,
    cos_f: FloatArray,
    sin_f: FloatArray,
    region: np.ndarray,
    step: float,
    n: int,
) -> FloatArray:
    """Follow a direction field from (x, y) for ``n`` steps without leaving the start region."""
    h, w = region.shape
    r0 = region[int(y), int(x)]
    pts = [(x, y)]
    for _ in range(n):
        iy, ix = int(y), int(x)
        nx, ny = x + step * float(cos_f[iy, ix]), y + step * float(sin_f[iy, ix])
        if not (0 <= nx < w and 0 <= ny < h) or region[int(ny), int(nx)] != r0:
            break
        x, y = nx, ny
        pts.append((x, y))
    return np.asarray(pts, np.float32)


def finish(canvas: np.ndarray, rng: np.random.Generator, grain: float = 0.035) -> np.ndarray:
    """Add fine canvas grain and downsample the supersampled canvas to the output size."""
    h, w = canvas.shape[:2]
    g = cv2.GaussianBlur(rng.normal(0.0, 1.0, (h, w)).astype(np.float32), (0, 0), 1.2)
    g = g / (g.std() + 1e-6)
    img = canvas.astype(np.float32) * (1.0 + grain * g[..., None])
    img = np.clip(img, 0, 255).astype(np.uint8)
    return cv2.resize(img, (OUT_W, OUT_H), interpolation=cv2.INTER_AREA)


def poisson_points(
    rng: np.random.Generator,
    w: int,
    h: int,
    min_dist: Callable[[float, float], float],
    tries: int,
) -> np.ndarray:
    """Dart-throwing sampler with a position-dependent minimum distance."""
    pts: list[tuple[float, float]] = []
    arr = np.zeros((0, 2), np.float32)
    for _ in range(tries):
        x, y = float(rng.uniform(0, w)), float(rng.uniform(0, h))
        d = min_dist(x, y)
        if len(pts) and np.min(np.hypot(arr[:, 0] - x, arr[:, 1] - y)) < d:
            continue
        pts.append((x, y))
        arr = np.asarray(pts, np.float32)
    return arr


def merge_slivers(labels: np.ndarray, min_area: int) -> np.ndarray:
    """Merge label regions smaller than ``min_area`` into their most common neighbour."""
    flat = labels.ravel()
    n = int(flat.max()) + 1
    area = np.bincount(flat, minlength=n)
    order = np.argsort(flat, kind="stable")
    starts = np.concatenate([[0], np.cumsum(area)])
    h, w = labels.shape
    kern = np.ones((3, 3), np.uint8)
    for lab in np.flatnonzero((area > 0) & (area < min_area)):
        idx = order[starts[lab] : starts[lab + 1]]
        ys, xs = idx // w, idx % w
        y0, y1 = max(0, ys.min() - 2), min(h, ys.max() + 3)
        x0, x1 = max(0, xs.min() - 2), min(w, xs.max() + 3)
        sub = labels[y0:y1, x0:x1]
        mask = (sub == lab).astype(np.uint8)
        ring = (cv2.dilate(mask, kern) > 0) & (mask == 0)
        neigh = sub[ring]
        neigh = neigh[neigh != lab]
        if neigh.size:
            vals, counts = np.unique(neigh, return_counts=True)
            sub[mask > 0] = vals[np.argmax(counts)]
    _, out = np.unique(labels, return_inverse=True)
    return out.reshape(h, w).astype(np.int32)


# ----------------------------------------------------------------------------------------------
# swirls: expressionist night sky
# ----------------------------------------------------------------------------------------------

NAVY: Color = (14, 24, 66)
ULTRAMARINE: Color = (26, 48, 140)
COBALT: Color = (42, 86, 172)
CERULEAN: Color = (92, 146, 204)
PALE_BLUE: Color = (168, 198, 222)
TEAL: Color = (38, 104, 118)
OCHRE: Color = (214, 154, 48)
YELLOW: Color = (244, 208, 72)
LEMON: Color = (250, 238, 146)
CREAM: Color = (252, 248, 226)
ORANGE: Color = (232, 124, 38)


def swirls(seed: int = 7) -> np.ndarray:
    """Expressionist night sky: short impasto strokes along a swirling flow, stars, fields."""
    rng = np.random.default_rng(seed)
    w, h = OUT_W * SCALE, OUT_H * SCALE
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)

    # --- stream function: wavy wind + vortices + smooth turbulence (divergence-free flow) ---
    u = 1.0
    psi = -u * yy + 0.05 * h * np.sin(2 * np.pi * (xx / w * 1.3 + yy / h * 0.5) + 0.7)
    # (cx, cy, radius, strength, warmth) in relative units; sign of strength sets the spin
    vortices = [
        (0.40, 0.34, 0.15, 3.2, 1.3),
        (0.60, 0.26, 0.11, -2.8, 1.0),
        (0.14, 0.22, 0.09, 2.4, 0.35),
        (0.82, 0.50, 0.10, 2.6, 0.5),
        (0.24, 0.56, 0.07, -2.2, 0.2),
        (0.70, 0.62, 0.06, 2.0, 0.3),
    ]
    warm_w = np.zeros((h, w), np.float32)
    for cx, cy, rr, st, warmth in vortices:
        r = rr * h
        d2 = ((xx - cx * w) ** 2 + (yy - cy * h) ** 2) / (r * r)
        psi += st * u * r / 0.86 * np.exp(-d2)
        warm_w = np.maximum(warm_w, warmth * np.exp(-d2 / 1.3))
    psi += (smooth_noise(rng, h, w, 220) - 0.5) * 0.5 * u * 220

    gy, gx = np.gradient(psi)
    ang = np.arctan2(-gx, gy)

    # --- regions: sky, distant hills, night fields ---
    xs = np.arange(w, dtype=np.float32)
    horizon = h * (
        0.76
        + 0.035 * np.sin(2 * np.pi * xs / w * 1.2 + 0.5)
        + 0.015 * np.sin(2 * np.pi * xs / w * 3.1 + 2.0)
    )
    hills = h * (
        0.70
        + 0.04 * np.sin(2 * np.pi * xs / w * 0.9 + 2.4)
        + 0.02 * np.sin(2 * np.pi * xs / w * 2.3)
    )
    hills = np.minimum(hills, horizon - 10)
    region = np.zeros((h, w), np.uint8)
    region[yy > hills[None, :]] = 1
    region[yy > horizon[None, :]] = 2

    n_turb = smooth_noise(rng, h, w, 160) - 0.5
    ang_h = np.arctan(np.gradient(hills))[None, :] + 0.5 * n_turb
    ang_f = np.arctan(np.gradient(horizon))[None, :] * (1 + (yy - horizon) / h * 3) + 0.4 * n_turb
    ang = np.where(region == 1, ang_h, np.where(region == 2, ang_f, ang))
    cos_f, sin_f = np.cos(ang).astype(np.float32), np.sin(ang).astype(np.float32)

    # --- colour field ---
    k = 2 * np.pi / (34.0 * u)
    n1 = smooth_noise(rng, h, w, 260)
    n2 = smooth_noise(rng, h, w, 90)
    s = 0.5 + 0.5 * np.sin(psi * k + 2.5 * n2)
    s2 = 0.5 + 0.5 * np.sin(psi * k * 0.7 + 1.3 + 2.0 * n2)
    sky_t = 0.05 + 0.5 * n1 + 0.5 * s**2 + 0.25 * smoothstep(0.5, 0.75, yy / h)
    color = ramp(sky_t, [NAVY, ULTRAMARINE, COBALT, CERULEAN, PALE_BLUE])
    teal_mix = 0.45 * smoothstep(0.6, 0.9, smooth_noise(rng, h, w, 200))[..., None]
    color = color * (1 - teal_mix) + np.asarray(TEAL, np.float32) * teal_mix
    warm = ramp(s2, [CERULEAN, OCHRE, YELLOW, LEMON, CREAM])
    mix = (np.clip(warm_w, 0, 1) * smoothstep(0.3, 0.62, s2))[..., None]
    color = color * (1 - mix) + warm * mix
    # a few pale lanes of light across the sky
    lanes = smoothstep(0.82, 0.95, s) * smoothstep(0.55, 0.8, n2) * 0.7
    color = color * (1 - lanes[..., None]) + np.asarray(PALE_BLUE, np.float32) * lanes[..., None]

    hill_c = ramp(
        0.5 + 0.5 * np.sin((yy - hills[None, :]) / 9.0 + 4 * n2),
        [(18, 26, 62), (34, 52, 112), (60, 86, 140)],
    )
    n3 = smooth_noise(rng, h, w, 140)
    field_t = 0.5 + 0.5 * np.sin((yy - horizon[None, :]) / (8.0 + 14.0 * n1) + 9 * n3)
    field_t = field_t * (0.35 + 0.9 * smooth_noise(rng, h, w, 110))
    field_c = ramp(
        field_t, [(16, 22, 48), (26, 58, 62), (58, 92, 64), (120, 118, 56), (196, 150, 58)]
    )
    color = np.where(region[..., None] == 1, hill_c, color)
    color = np.where(region[..., None] == 2, field_c, color)

    # --- underpainting and three passes of strokes, coarse to fine ---
    canvas = cv2.GaussianBlur(color, (0, 0), 6).clip(0, 255).astype(np.uint8)
    canvas = np.ascontiguousarray(canvas)
    passes = [(16, 8, 9.0, 2400, 0.10), (10, 7, 7.0, 5500, 0.08), (6, 5, 5.0, 4500, 0.07)]
    for thick, steps, step, count, val in passes:
        xs0 = rng.uniform(0, w - 1, count)
        ys0 = rng.uniform(0, h - 1, count)
        for x0, y0 in zip(xs0, ys0, strict=True):
            pts = trace(
                float(x0), float(y0), cos_f, sin_f, region, step * rng.uniform(0.8, 1.2), steps
            )
            if len(pts) < 2:
                continue
            c = jitter(rng, color[int(y0), int(x0)], 9.0, val)
            t = max(2, int(round(thick * rng.uniform(0.75, 1.2))))
            paint_stroke(canvas, pts, c, t, highlight=0.3 if rng.random() < 0.6 else 0.0)

    # --- stars and moon: concentric arcs of thick paint ---
    def star(cx: float, cy: float, rad: float, palette: Sequence[Color]) -> None:
        t = max(5, min(12, int(rad / 8)))
        r = rad * 0.12
        while r < rad:
            outer = r / rad
            seg = t * float(rng.uniform(2.5, 4.5))  # arc length of one dab
            n = max(1, int(2 * np.pi * r / seg * (1.0 - 0.45 * outer)))
            rot = float(rng.uniform(0, 2 * np.pi))
            for j in range(n):
                a0 = rot + (j + rng.uniform(-0.4, 0.4)) * 2 * np.pi / n
                span = seg / r * rng.uniform(0.7, 1.1)
                ts = np.linspace(a0, a0 + span, 6)
                rr = r + rng.normal(0, t * 0.15)
                pts = np.stack([cx + rr * np.cos(ts), cy + rr * np.sin(ts)], 1)
                col = jitter(rng, ramp(np.float32(outer), palette), 9.0, 0.07)
                paint_stroke(canvas, pts, col, max(3, int(t * rng.uniform(0.8, 1.2))))
            r += t * 0.9
        core = jitter(rng, palette[0], 4.0, 0.02)
        cv2.circle(
            canvas,
            (int(cx * ONE), int(cy * ONE)),
            int(rad * 0.14 * ONE),
            core,
            -1,
            cv2.LINE_AA,
            SHIFT,
        )
        for _ in range(5):
            a = rng.uniform(0, 2 * np.pi)
            rr = rng.uniform(0, rad * 0.15)
            p = np.array([[cx + rr * math.cos(a), cy + rr * math.sin(a)]], np.float32)
            q = p + rng.normal(0, rad * 0.08, 2).astype(np.float32)
            paint_stroke(canvas, np.vstack([p, q]), jitter(rng, palette[1], 6, 0.03), t)

    star_pal = [CREAM, LEMON, YELLOW, OCHRE, CERULEAN]
    moon_pal = [LEMON, YELLOW, ORANGE, OCHRE, YELLOW, CERULEAN]
    star(0.885 * w, 0.15 * h, 0.12 * h, moon_pal)
    centres: list[tuple[float, float]] = [(0.885 * w, 0.15 * h)]
    avoid = [(vx * w, vy * h, vr * h) for vx, vy, vr, _, vw in vortices if vw > 0.4]
    while len(centres) < 9:
        cx, cy = float(rng.uniform(0.04, 0.96)) * w, float(rng.uniform(0.05, 0.58)) * h
        if min(math.hypot(cx - a, cy - b) for a, b in centres) < 0.2 * h:
            continue
        if any(math.hypot(cx - a, cy - b) < 0.9 * rr for a, b, rr in avoid):
            continue
        centres.append((cx, cy))
        star(cx, cy, float(rng.uniform(0.028, 0.07)) * h, star_pal)
    for _ in range(40):  # faint small stars
        cx, cy = float(rng.uniform(0, w)), float(rng.uniform(0, 0.62 * h))
        if region[int(cy), int(cx)] == 0:
            p = np.array([[cx, cy], [cx + rng.normal(0, 4), cy + rng.normal(0, 4)]], np.float32)
            paint_stroke(canvas, p, jitter(rng, LEMON, 10, 0.05), int(rng.integers(4, 8)))

    # --- a few warm windows in the fields ---
    for _ in range(14):
        cx = float(rng.uniform(0.05, 0.95)) * w
        cy = float(horizon[int(cx)] + rng.uniform(10, 80))
        if cy < h - 10:
            p = np.array([[cx, cy], [cx + rng.uniform(4, 12), cy]], np.float32)
            paint_stroke(canvas, p, jitter(rng, YELLOW, 8, 0.05), int(rng.integers(5, 9)))

    return finish(canvas, rng)


# ----------------------------------------------------------------------------------------------
# mosaic: stained-glass rose window
# ----------------------------------------------------------------------------------------------

GLASS = {
    "gold": (236, 172, 34),
    "amber": (214, 110, 24),
    "ruby": (176, 24, 40),
    "crimson": (214, 50, 60),
    "cobalt": (24, 60, 170),
    "azure": (40, 120, 210),
    "turquoise": (24, 150, 160),
    "emerald": (22, 128, 70),
    "violet": (96, 44, 150),
    "navy": (20, 34, 110),
}


def mosaic(seed: int = 11) -> np.ndarray:
    """Stained-glass rose window: Voronoi glass pieces, dark lead came, streaky glass."""
    rng = np.random.default_rng(seed)
    w, h = OUT_W * SCALE, OUT_H * SCALE
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    cx, cy = 0.5 * w, 0.5 * h

    # --- Voronoi cells: smaller near the centre of the rose ---
    def min_dist(x: float, y: float) -> float:
        r = math.hypot(x - cx, y - cy) / h
        return 34.0 + 46.0 * min(1.0, r / 0.5)

    seeds = poisson_points(rng, w, h, min_dist, 9000)
    subdiv = cv2.Subdiv2D((-w, -h, 3 * w, 3 * h))
    subdiv.insert([(float(x), float(y)) for x, y in seeds])
    facets, _ = subdiv.getVoronoiFacetList([])
    cells = np.full((h, w), -1, np.int32)
    for i, f in enumerate(facets):
        cv2.fillPoly(cells, [np.round(f).astype(np.int32)], i)

    # --- rose window design: scalloped rings split into alternating petals ---
    r = np.hypot(xx - cx, yy - cy)
    th = np.arctan2(yy - cy, xx - cx)
    wob = (smooth_noise(rng, h, w, 120) - 0.5) * 14
    radii = [0.09, 0.19, 0.30, 0.41, 0.49]
    petals = [1, 8, 12, 16, 24]
    ring = np.full((h, w), len(radii), np.int32)
    for i in range(len(radii) - 1, -1, -1):
        bound = radii[i] * h * (1 + 0.06 * np.cos(petals[min(i + 1, 4)] * th)) + wob
        ring[r < bound] = i
    sector = np.zeros((h, w), np.int32)
    for i, n in enumerate(petals):
        off = 0.5 * (i % 2)
        sec = np.floor((th / (2 * np.pi) + 0.5) * n + off).astype(np.int32) % max(n, 1)
        sector = np.where(ring == i, sec, sector)
    design = ring * 64 + sector
    pieces_raw = cells.astype(np.int64) * 1024 + design
    _, pieces = np.unique(pieces_raw, return_inverse=True)
    pieces = merge_slivers(pieces.reshape(h, w).astype(np.int32), min_area=700)
    n_pieces = int(pieces.max()) + 1

    schemes: list[tuple[str, str]] = [
        ("gold", "amber"),
        ("ruby", "gold"),
        ("azure", "amber"),
        ("emerald", "crimson"),
        ("gold", "violet"),
    ]
    background = ["navy", "cobalt", "violet", "navy", "cobalt", "turquoise"]

    # one colour per glass piece, from its design region, with per-piece variation
    flat_idx = np.zeros(n_pieces, np.int64)
    flat_idx[pieces.ravel()] = np.arange(h * w)
    p_ring = ring.ravel()[flat_idx]
    p_sec = sector.ravel()[flat_idx]
    piece_col = np.zeros((n_pieces, 3), np.float32)
    for p in range(n_pieces):
        rg, sc = int(p_ring[p]), int(p_sec[p])
        if rg < len(schemes):
            name = schemes[rg][sc % 2]
            if rng.random() < 0.06:
                name = schemes[rg][(sc + 1) % 2]
        else:
            name = background[int(rng.integers(len(background)))]
            if rng.random() < 0.07:
                name = str(rng.choice(["amber", "crimson", "emerald"]))
        dim = 1.0 if rg < len(schemes) else 0.85
        piece_col[p] = jitter(rng, np.asarray(GLASS[name]) * dim, 14.0, 0.12)
    base = piece_col[pieces]

    # --- painterly streaks inside each piece, clipped to the piece ---
    piece_ang = rng.uniform(0, np.pi, n_pieces)
    strokes = base.copy()
    stroke_lab = np.full((h, w), -1, np.int32)
    for _ in range(14000):
        x0, y0 = float(rng.uniform(0, w - 1)), float(rng.uniform(0, h - 1))
        p = int(pieces[int(y0), int(x0)])
        a = piece_ang[p] + rng.normal(0, 0.25)
        ln = rng.uniform(10, 34)
        bend = rng.normal(0, 0.3)
        ts = np.linspace(-0.5, 0.5, 5)
        pts = np.stack(
            [
                x0 + ln * ts * math.cos(a) - bend * ln * (ts**2) * math.sin(a),
                y0 + ln * ts * math.sin(a) + bend * ln * (ts**2) * math.cos(a),
            ],
            1,
        )
        col = jitter(rng, piece_col[p], 8.0, 0.13)
        t = int(rng.integers(3, 9))
        cv2.polylines(strokes, [fixed(pts)], False, col, t, cv2.LINE_AA, SHIFT)
        cv2.polylines(stroke_lab, [fixed(pts)], False, p, t, cv2.LINE_8, SHIFT)
    keep = (stroke_lab == pieces)[..., None]
    glass = np.where(keep, strokes, base)

    # --- lead came between pieces ---
    kern = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (3, 3))
    pf = pieces.astype(np.float32)
    edge = (cv2.dilate(pf, kern) != cv2.erode(pf, kern)).astype(np.uint8)
    df = design.astype(np.float32)
    major = (cv2.dilate(df, kern) != cv2.erode(df, kern)).astype(np.uint8) & edge
    major[:8, :] = major[-8:, :] = 1
    major[:, :8] = major[:, -8:] = 1
    lead = cv2.dilate(edge, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (9, 9)))
    lead |= cv2.dilate(major, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (17, 17)))
    lead_f = cv2.GaussianBlur(lead.astype(np.float32), (0, 0), 2.2)
    alpha = smoothstep(0.3, 0.6, lead_f)[..., None]

    # glass glows brighter away from the lead, light falls unevenly across the window
    dist = cv2.distanceTransform((1 - lead).astype(np.uint8), cv2.DIST_L2, 5)
    glow = 0.55 + 0.6 * (1 - np.exp(-dist / 22.0))
    light = 0.8 + 0.4 * smooth_noise(rng, h, w, 300)
    streak = cv2.GaussianBlur(rng.normal(0, 1, (h // 4, w)).astype(np.float32), (0, 0), 2)
    streak = cv2.resize(streak, (w, h), interpolation=cv2.INTER_LINEAR)
    glass = glass * (glow * light)[..., None] * (1 + 0.05 * streak[..., None])

    ridge = cv2.distanceTransform(lead, cv2.DIST_L2, 5)
    lead_col = 10 + 36 * np.clip(ridge / 7.0, 0, 1) ** 2
    lead_rgb = np.stack([lead_col, lead_col * 0.96, lead_col * 1.04], -1)
    img = glass * (1 - alpha) + lead_rgb * alpha
    canvas = np.clip(img, 0, 255).astype(np.uint8)
    return finish(canvas, rng, grain=0.03)


# ----------------------------------------------------------------------------------------------
# waves: woodblock-print sea
# ----------------------------------------------------------------------------------------------

PAPER: Color = (238, 226, 196)
INK: Color = (22, 32, 56)
PRUSSIAN: Color = (24, 56, 104)
PRUSSIAN_MID: Color = (46, 92, 148)
PRUSSIAN_LIGHT: Color = (122, 160, 190)
FOAM: Color = (246, 240, 222)


def waves(seed: int = 5) -> np.ndarray:
    """Woodblock-print sea: banded prussian-blue waves, foam curls, sun, wood grain."""
    rng = np.random.default_rng(seed)
    w, h = OUT_W * SCALE, OUT_H * SCALE
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)
    xs = np.arange(w, dtype=np.float32)

    # --- paper, graded sky (bokashi), sun and clouds ---
    sky_t = smoothstep(0.0, 0.27 * h, yy)
    sky = ramp(sky_t, [(40, 72, 118), (96, 126, 156), (214, 206, 190), PAPER])
    peach = (smoothstep(0.17 * h, 0.3 * h, yy) * 0.45)[..., None]
    sky = sky * (1 - peach) + np.asarray((232, 196, 166), np.float32) * peach
    canvas = np.clip(sky, 0, 255).astype(np.uint8)
    sun = (int(0.76 * w * ONE), int(0.17 * h * ONE))
    cv2.circle(canvas, sun, int(0.085 * h * ONE), (196, 64, 44), -1, cv2.LINE_AA, SHIFT)
    for _ in range(7):  # cloud bands: outlined capsules
        cy = float(rng.uniform(0.05, 0.26)) * h
        x0 = float(rng.uniform(-0.1, 0.8)) * w
        length = float(rng.uniform(0.15, 0.4)) * w
        for _j in range(int(rng.integers(3, 6))):
            t = int(rng.uniform(14, 30))
            a = x0 + rng.uniform(0, length * 0.4)
            b = a + rng.uniform(0.4, 0.8) * length
            yv = cy + rng.normal(0, 10)
            pts = np.array([[a, yv], [b, yv]], np.float32)
            cv2.polylines(canvas, [fixed(pts)], False, (142, 146, 158), t + 5, cv2.LINE_AA, SHIFT)
            cv2.polylines(
                canvas, [fixed(pts)], False, jitter(rng, FOAM, 3, 0.01), t, cv2.LINE_AA, SHIFT
            )

    # --- wave layers, back to front ---
    n_layers = 11
    horizon = 0.31 * h
    wobble = (smooth_noise(rng, h, w, 70) - 0.5) * 10.0
    for i in range(n_layers):
        f = i / (n_layers - 1)
        base = horizon + (h * 1.02 - horizon) * (f**1.35) + 6
        amp = 6 + 150 * f**1.8
        lam = 40 + 330 * f**1.5
        phase = float(rng.uniform(0, np.pi))
        th = np.pi * xs / lam + phase
        th = th + 0.35 * np.sin(th)  # lean the crests forward
        th2 = np.pi * xs / (0.61 * lam) + float(rng.uniform(0, np.pi))
        shape = 0.7 * (1 - np.abs(np.sin(th))) ** 1.6 + 0.3 * (1 - np.abs(np.sin(th2))) ** 2
        swell = 0.55 + 0.45 * np.sin(2 * np.pi * xs / (3.3 * lam) + rng.uniform(0, 6))
        crest = base - amp * shape * swell + 3 * np.sin(xs / 17.0 + i)
        d = yy - crest[None, :]
        inside = d > 0
        if not inside.any():
            continue
        # foam band with dripping "claws", thick near the peaks
        claw = 0.5 + 0.5 * np.cos(2 * np.pi * xs / max(14.0, lam / 5) + i)
        foam = 5 + 6 * f + (shape * swell) ** 1.3 * (8 + amp * 0.4 * claw**2)
        dw = d + wobble * (0.3 + f)
        band = (dw - foam[None, :]) / (8 + 10 * f)
        body_t = np.clip(band / 7.0, 0, 1)
        body = ramp(body_t, [PRUSSIAN_MID, PRUSSIAN, PRUSSIAN, (16, 38, 76)])
        lines = smoothstep(0.72, 0.86, 0.5 + 0.5 * np.cos(2 * np.pi * band)) * (1 - body_t)
        lines = lines[..., None]
        col = body * (1 - lines) + np.asarray(PRUSSIAN_LIGHT, np.float32) * lines
        col = np.where((dw < foam[None, :])[..., None], np.asarray(FOAM, np.float32), col)
        key = (d < 2.5 + 2 * f) | (np.abs(dw - foam[None, :]) < 1.5 + 1.2 * f)
        col = np.where(key[..., None], np.asarray(INK, np.float32), col)
        canvas = np.where(inside[..., None], np.clip(col, 0, 255).astype(np.uint8), canvas)
        canvas = np.ascontiguousarray(canvas)

        # curls and spray at the tallest peaks
        if amp < 30:
            continue
        for k in range(int(lam / 4), w - int(lam / 4), max(1, int(lam / 2))):
            lo, hi = max(0, k - int(lam / 2)), min(w, k + int(lam / 2))
            px = lo + int(np.argmin(crest[lo:hi]))
            height = base - crest[px]
            if height < 0.55 * amp:
                continue
            py = float(crest[px])
            rad = 0.28 * height
            cxs, cys = px + 0.6 * rad, py + 0.95 * rad
            ts = np.linspace(0.0, 2.3 * np.pi, 40)
            rr = rad * (1 - ts / (3.2 * np.pi))
            ang = -np.pi / 2 - np.pi * 0.35 + ts
            spiral = np.stack([cxs - rr * np.cos(ang), cys + rr * np.sin(ang)], 1)
            tt = max(3, int(rad * 0.35))
            cv2.polylines(canvas, [fixed(spiral)], False, INK, tt + 5, cv2.LINE_AA, SHIFT)
            cv2.polylines(canvas, [fixed(spiral)], False, FOAM, tt, cv2.LINE_AA, SHIFT)
            for _ in range(int(3 + height / 12)):  # spray droplets
                sx = px + rng.normal(rad, rad * 1.6)
                sy = py - abs(rng.normal(0, rad * 0.9)) + rad * 0.2
                sr = rng.uniform(2.0, 3.0 + rad * 0.08)
                c = (int(sx * ONE), int(sy * ONE))
                cv2.circle(canvas, c, int((sr + 2) * ONE), INK, -1, cv2.LINE_AA, SHIFT)
                cv2.circle(canvas, c, int(sr * ONE), FOAM, -1, cv2.LINE_AA, SHIFT)

    # --- wood grain, ink mottling and paper fibre ---
    grain = rng.normal(0, 1, (h // 3, w // 40)).astype(np.float32)
    grain = cv2.resize(grain, (w, h), interpolation=cv2.INTER_CUBIC)
    grain = cv2.GaussianBlur(grain, (0, 0), 1.5)
    grain /= grain.std() + 1e-6
    mottle = smooth_noise(rng, h, w, 40) - 0.5
    img = canvas.astype(np.float32) * (1 + 0.045 * grain + 0.12 * mottle)[..., None]
    return finish(np.clip(img, 0, 255).astype(np.uint8), rng, grain=0.03)


# ----------------------------------------------------------------------------------------------
# main
# ----------------------------------------------------------------------------------------------

STYLES: dict[str, Callable[[], np.ndarray]] = {
    "swirls.jpg": swirls,
    "mosaic.jpg": mosaic,
    "waves.jpg": waves,
}


def main() -> None:
    argparse.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    out_dir = Path(__file__).resolve().parent / "styles"
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, fn in STYLES.items():
        t0 = time.perf_counter()
        img = fn()
        path = out_dir / name
        Image.fromarray(img, "RGB").save(path, "JPEG", quality=JPEG_QUALITY, optimize=True)
        dt = time.perf_counter() - t0
        print(f"{name}: {img.shape[1]}x{img.shape[0]}, {path.stat().st_size} bytes, {dt:.1f}s")


if __name__ == "__main__":
    main()
