"""Tried, not shipped: the camera's motion where DIS's flow is not trusted (docs/video.md).

    python benchmarks/probe_camera_fallback.py [--clips camera crowd big pan]
        [--strictness 1.0] [--textured-only] [--off-movers] [--frames-to DIR]

Where the steadier distrusts DIS's flow (the forward-backward or motion-boundary test
fails, as in the noisy dark parts of a camera clip), this variant moves the previous result
by the camera's own motion instead (a shift-rotation-zoom fitted with RANSAC to DIS's flow
at textured points), where the previous input so moved matches this frame within 6-12 grey
levels (blurred over 2 px), and only where the moved result and this frame's painting agree
within the check used beside movers: 16-32 grey levels at --strictness 1, the general 64-128
at 0, in between linearly. --textured-only keeps it off flat areas, --off-movers off the
area near things that move on their own (styler.video.steady._near_movers). Each clip runs
through bench_video's quality measure at temporal 0.6 with the shipped steadier and then
the variant, in one process: warping error and style as in the quality table.
--frames-to writes each run's steadied frames and the frames' own paintings as .npy, to
look at.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_video  # noqa: E402
from PIL import Image  # noqa: E402

import styler.video.frames as frames  # noqa: E402
import styler.video.steady as steady  # noqa: E402
from styler import Recipe  # noqa: E402
from styler.engine import build_engine  # noqa: E402

MATCH_LOW, MATCH_HIGH, MATCH_BLUR = 6.0, 12.0, 2.0


def camera_motion(flow: np.ndarray, textured: np.ndarray) -> np.ndarray | None:
    """The frame's own motion fitted to `flow` at textured points, as a flow; None where too
    few points or no fit."""
    h, w = flow.shape[:2]
    step = steady.PIN_GRID
    ys, xs = np.mgrid[step // 2 : h : step, step // 2 : w : step]
    keep = textured[ys, xs] >= 1.0
    if keep.sum() < steady.PIN_MIN_POINTS:
        return None
    grid = steady._grid(h, w)
    points = grid[ys[keep], xs[keep]]
    matrix, _ = cv2.estimateAffinePartial2D(
        points, points + flow[ys[keep], xs[keep]], method=cv2.RANSAC,
        maxIters=steady.PIN_TRIES, ransacReprojThreshold=steady.PIN_TOLERANCE,
    )  # fmt: skip
    return None if matrix is None else cv2.transform(grid, matrix) - grid


def variant(strictness: float, textured_only: bool, off_movers: bool) -> type:
    class CameraFallback(steady.Steadier):
        """The shipped steadier, with the camera's motion where DIS's flow is distrusted."""

        def warp_previous(self, frame, gray=None):
            warped = super().warp_previous(frame, gray)
            if warped is None:
                return None
            moved, reliable = warped
            gray, previous, textured = self._gray, self._previous_gray, self._textured
            # DIS's backward flow once more: the shipped steadier keeps only its pinned form
            camera = camera_motion(steady._dis_flow(self._flow, gray, previous), textured)
            if camera is None:
                return moved, reliable
            moved_gray = steady._warp(previous, camera).astype(np.float32)
            difference = cv2.absdiff(moved_gray, gray.astype(np.float32))
            difference = cv2.GaussianBlur(difference, (0, 0), MATCH_BLUR)
            fallback = np.clip((MATCH_HIGH - difference) / (MATCH_HIGH - MATCH_LOW), 0, 1)
            fallback *= 1 - reliable
            if textured_only:
                fallback *= textured
            if off_movers:  # this frame's movers and the last's, as the shipped check takes them
                movers = self._movers
                if (
                    self._previous_movers is not None
                    and self._previous_movers.shape == movers.shape
                ):
                    movers = np.maximum(movers, self._previous_movers)
                fallback *= 1 - movers
            used = cv2.GaussianBlur((fallback > reliable).astype(np.float32), (0, 0), 1.0)
            if used.max() == 0:
                return moved, reliable
            h, w = frame.shape[:2]
            by_camera = steady._warp(
                self._previous_out, steady._resized_flow(camera, h, w), self._interpolation
            )
            big = cv2.resize(used, (w, h), interpolation=cv2.INTER_LINEAR)
            moved = cv2.blendLinear(by_camera, moved, big, 1 - big)
            self._near = np.maximum(self._near, used * strictness)
            return moved, np.maximum(reliable, fallback)

    return CameraFallback


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--clips",
        nargs="+",
        default=["camera", "crowd", "big", "pan"],
        help="first words of the quality clips' names (big: Big Buck Bunny)",
    )
    parser.add_argument("--strictness", type=float, default=1.0)
    parser.add_argument("--textured-only", action="store_true")
    parser.add_argument("--off-movers", action="store_true")
    parser.add_argument("--frames-to", type=Path)
    args = parser.parse_args()
    bench_video.TEMPORALS = (0.6,)
    painting = Image.open(bench_video.DATA / "styles" / "udnie.jpg").convert("RGB")
    engine = build_engine(Recipe.create("fast", ["udnie"], size=0))
    shipped = frames.Steadier
    tried = variant(args.strictness, args.textured_only, args.off_movers)
    kept: dict[str, list[np.ndarray]] = {}

    class Kept(bench_video.FrameStylizer):
        def stylize(self, rgb: np.ndarray) -> np.ndarray:
            out = super().stylize(rgb)
            kept.setdefault("steadied", []).append(out)
            kept.setdefault("own", []).append(np.asarray(self.engine.given))
            return out

    bench_video.FrameStylizer = Kept
    options = argparse.Namespace(bbb_frames=60, bbb_start=420, synthetic_frames=40)
    with tempfile.TemporaryDirectory(prefix="fallback_") as folder:
        work = Path(folder)
        for name, clip, motion in bench_video.own_clips(options, work):
            if name.split()[0].lower() not in args.clips:
                continue
            for label, steadier in (("shipped", shipped), ("camera fallback", tried)):
                frames.Steadier = steadier
                kept.clear()
                print(f"\n# {label}")
                bench_video.quality_clip(name, clip, engine, painting, None, work, motion)
                if args.frames_to:
                    args.frames_to.mkdir(parents=True, exist_ok=True)
                    stem = f"{name.split()[0].lower()}_{label.split()[0]}"
                    for kind, seq in kept.items():
                        np.save(args.frames_to / f"{stem}_{kind}.npy", np.stack(seq))
    frames.Steadier = shipped
    print(
        f"\nstrictness {args.strictness}, textured only {args.textured_only}, "
        f"off movers {args.off_movers}; {os.cpu_count()} CPUs"
    )


if __name__ == "__main__":
    main()
