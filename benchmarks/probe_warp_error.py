"""Where the warping error that steadying leaves comes from: split by the steadier's weight.

    python benchmarks/probe_warp_error.py [--style udnie] [--frames 40] [--temporal 0.6]
        [--clip PATH[:START:COUNT] ...]

For Big Buck Bunny (frames 420 on, needs ../shared), the synthetic pan and the synthetic
camera clip of benchmarks/bench_video.py, styler's fast mode is run frame by frame and
steadied; each pair of frames is judged as bench_video judges it (Lai et al.'s warping
error, Farneback flow on the input, occluded pixels masked out), and every judged pixel is
put in a bin by the weight the steadier gave the moved previous result there (its
reliability and agreement, before `temporal`). Per bin: its share of the pixels, its share
of the per-frame and the steadied warping error, and the mean error of the per-frame
output, the steadied output and the input itself (what the judge charges a video with no
flicker at all). Where the steadier trusts the flow it can only lower the error there; the
error it leaves in the bins it distrusts bounds how far any flow-following steadier gets.
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import cv2
import numpy as np
from bench_video import (  # this folder's benchmark: the same clips and judge
    BBB,
    DATA,
    PHOTOS,
    camera_clip,
    farneback,
    footage_clip,
    non_occluded,
    pan_clip,
    read_frames,
    trimmed,
    warp,
    warping_error_map,
)

from styler import Recipe
from styler.engine import build_engine
from styler.video import FrameStylizer
from styler.video.steady import Steadier

EDGES = (0.0, 0.05, 0.3, 0.6, 1.01)  # weight bins
BBB_START = 420  # the bird flapping on its branch (docs/video.md)
OUTPUTS = ("per-frame", "steadied", "input")


class RecordingSteadier(Steadier):
    """A Steadier that keeps each frame's blend weight, at the frame's size."""

    def __init__(self, strength: float, textured: bool) -> None:
        super().__init__(strength, textured=textured)
        self.weights: list[np.ndarray | None] = []

    def blend_pixels(self, styled: np.ndarray, warped: tuple[np.ndarray, np.ndarray] | None):
        if warped is None:
            self.weights.append(None)
        return super().blend_pixels(styled, warped)

    def blend_weight(self, moved: np.ndarray, styled: np.ndarray, reliable: np.ndarray):
        weight = super().blend_weight(moved, styled, reliable)
        h, w = styled.shape[:2]
        self.weights.append(cv2.resize(weight.astype(np.float32), (w, h)))
        return weight


def probe(clip: Path, recipe: Recipe, temporal: float) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """(judged pixels per bin, summed squared error per bin for each of OUTPUTS)."""
    engine = build_engine(recipe)
    stream = FrameStylizer(engine, temporal=temporal)
    stream.steadier = recorder = RecordingSteadier(temporal, engine.textured)
    counts = np.zeros(len(EDGES) - 1)
    sums = {name: np.zeros(len(EDGES) - 1) for name in OUTPUTS}
    previous = None
    for rgb in read_frames(clip):
        frame = {
            "per-frame": np.asarray(engine.run(rgb).image),
            "steadied": stream.stylize(rgb),
            "input": rgb,
        }
        gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
        weight = recorder.weights[-1]
        if previous is not None and weight is not None:
            forward, backward = farneback(previous["gray"], gray), farneback(gray, previous["gray"])
            judged = non_occluded(forward, backward)
            # The weight sits on this frame's pixels, the judge's error on the previous one's.
            bins = np.digitize(warp(weight, forward), EDGES) - 1
            errors = {n: warping_error_map(previous[n], frame[n], forward) for n in OUTPUTS}
            for b in range(len(EDGES) - 1):
                kept = judged & (bins == b)
                counts[b] += kept.sum()
                for name in OUTPUTS:
                    sums[name][b] += errors[name][kept].sum()
        previous = {**frame, "gray": gray}
    return counts, sums


def report(name: str, counts: np.ndarray, sums: dict[str, np.ndarray]) -> None:
    total = counts.sum()
    per_frame, steadied = sums["per-frame"].sum() / total, sums["steadied"].sum() / total
    print(
        f"\n{name}: warp err x1000 per-frame {per_frame * 1000:.3f}, steadied "
        f"{steadied * 1000:.3f} ({steadied / per_frame:.2f}x)"
    )
    header = (
        f"{'weight':12} {'pixels':>7} {'per-frame share':>16} {'steadied share':>15} "
        f"{'per-frame':>10} {'steadied':>9} {'input':>7}"
    )
    print(header + "\n" + "-" * len(header))
    for b in range(len(EDGES) - 1):
        n = max(counts[b], 1)
        shares = [sums[o][b] / sums[o].sum() * 100 for o in OUTPUTS[:2]]
        means = [sums[o][b] / n * 1000 for o in OUTPUTS]
        print(
            f"{f'{EDGES[b]:.2f}-{min(EDGES[b + 1], 1):.2f}':12} {counts[b] / total * 100:6.1f}% "
            f"{shares[0]:15.1f}% {shares[1]:14.1f}% {means[0]:10.2f} {means[1]:9.2f} "
            f"{means[2]:7.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style", default="udnie", help="shipped fast style")
    parser.add_argument("--frames", type=int, default=40, help="frames of each clip")
    parser.add_argument("--temporal", type=float, default=0.6)
    parser.add_argument("--instant", action="store_true",
                        help="instant mode with the style's painting, not its network")
    parser.add_argument("--clip", action="append", default=[], metavar="PATH[:START:COUNT]",
                        help="footage of your own instead of the clips above (repeatable)")
    args = parser.parse_args()
    recipe = Recipe.create("fast", [args.style], size=0)
    if args.instant:
        recipe = Recipe.create("instant", [DATA / "styles" / f"{args.style}.jpg"], size=0)
    mode = "instant" if args.instant else "fast"
    with tempfile.TemporaryDirectory(prefix="probe_warp_") as folder:
        work = Path(folder)
        if args.clip:
            clips, each = dict(footage_clip(spec, work) for spec in args.clip), ""
        else:
            clips, each = own_clips(work, args.frames), f", {args.frames} frames each"
        print(f"{mode} mode '{args.style}', temporal {args.temporal:g}{each}")
        for name, clip in clips.items():
            report(name, *probe(clip, recipe, args.temporal))


def own_clips(work: Path, frames: int) -> dict[str, Path]:
    """Big Buck Bunny from BBB_START (where ../shared has it), the synthetic pan and camera
    clip, `frames` each."""
    clips = {}
    if BBB.is_file():
        clips["Big Buck Bunny"] = trimmed(BBB, work / "bbb.mp4", frames, start=BBB_START)
    else:
        print(f"{BBB} not found: Big Buck Bunny is skipped")
    clips["pan"] = pan_clip(work / "pan.mp4", PHOTOS / "rocket.jpg", frames)[0]
    clips["camera"] = camera_clip(
        work / "camera.mp4", PHOTOS / "astronaut.jpg", PHOTOS / "chelsea.jpg", frames
    )
    return clips

if __name__ == "__main__":
    main()
