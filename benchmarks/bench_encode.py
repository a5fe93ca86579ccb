"""What each x264 preset costs the video writer: CPU per frame, file size, PSNR.

Stylizes the first frames of Big Buck Bunny (../shared) upscaled to 1280x720 with fast mode
(temporal 0), then encodes the same frames at styler's CRF (styler.video.writer) with each
preset, and decodes them back to compare. The writer's preset is the one that leaves the
painting most of two cores at 8 frames a second without costing picture (docs/video.md,
"Encoding").

    python benchmarks/bench_encode.py [--frames 60]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_video import BBB, read_frames, stamp, trimmed, write_clip  # noqa: E402

from styler import Recipe  # noqa: E402
from styler.engine import build_engine  # noqa: E402
from styler.video.writer import CRF, PRESET  # noqa: E402

PRESETS = ("veryfast", "superfast", "ultrafast")


def encode(frames: list[np.ndarray], path: Path, preset: str) -> float:
    """CPU seconds per frame to encode `frames` into `path` with x264 at `preset`."""
    start = time.process_time()
    write_clip(path, frames, crf=CRF, preset=preset)
    return (time.process_time() - start) / len(frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=60)
    args = parser.parse_args()
    if not BBB.is_file():
        sys.exit(f"needs {BBB}")
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        clip = trimmed(BBB, work / "bbb720.mp4", args.frames, (1280, 720))
        engine = build_engine(Recipe.create("fast", ["udnie"]))
        painted = [np.asarray(engine.run(rgb).image) for rgb in read_frames(clip)]
        print(f"\n## x264 at CRF {CRF}, {len(painted)} stylized 1280x720 frames ({stamp()})")
        print(f"{'preset':<12} {'CPU ms/frame':>12} {'file KB':>8} {'PSNR dB':>8}")
        for preset in PRESETS:
            path = work / f"{preset}.mp4"
            cpu = encode(painted, path, preset)
            decoded = list(read_frames(path))
            psnr = np.mean([cv2.PSNR(a, b) for a, b in zip(painted, decoded, strict=True)])
            mark = " (styler's)" if preset == PRESET else ""
            size = os.path.getsize(path) // 1024
            print(f"{preset:<12} {1000 * cpu:>12.1f} {size:>8} {psnr:>8.2f}{mark}")


if __name__ == "__main__":
    main()
