"""What reading a frame in the colours a viewer sees costs (styler.video.colour.frame_rgb),
against PyAV's plain conversion, for SDR clips (tagged, untagged, in BT.2020's gamut) and HDR
ones (HLG, PQ).

    python benchmarks/bench_video_colour.py [--size 1920x1080] [--repeat 10]

Each clip is the gallery's portrait encoded here (tests/video_clips.py's yuv_clip), 10-bit
BT.2020 for the HDR ones, as phones record; one decoded frame is converted `repeat` times on
one thread. Prints milliseconds per frame and how far each picture is from the photo.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from styler.video.colour import frame_rgb  # noqa: E402
from tests.video_clips import (  # noqa: E402
    BT2020_10,
    HLG,
    PQ,
    hdr_signal,
    wide_sdr_signal,
    yuv_clip,
)

PHOTO = ROOT / "gallery" / "photos" / "astronaut.jpg"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--repeat", type=int, default=10)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    cv2.setNumThreads(1)
    photo = np.asarray(Image.open(PHOTO).convert("RGB").resize((width, height)))
    cases = {
        "SDR, BT.709 tagged": (photo / 255.0, "bt709", {}),
        "SDR, untagged": (photo / 255.0, "bt709", {"tagged": False}),
        "SDR, 10-bit BT.2020": (wide_sdr_signal(photo.astype(float)), "bt2020",
                                {"bits": 10, "transfer": BT2020_10}),  # fmt: skip
        "HDR, HLG (10-bit BT.2020)": (hdr_signal(photo.astype(float), HLG), "bt2020",
                                      {"bits": 10, "transfer": HLG}),  # fmt: skip
        "HDR, PQ (10-bit BT.2020)": (hdr_signal(photo.astype(float), PQ), "bt2020",
                                     {"bits": 10, "transfer": PQ}),  # fmt: skip
    }
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"## one {width}x{height} frame, one thread, {stamp}; mean |diff| to the photo, levels")
    print(f"{'clip':28} {'frame_rgb ms':>12} {'its diff':>8} {'plain ms':>8} {'its diff':>8}")
    with tempfile.TemporaryDirectory() as work:
        for name, (signal, matrix, options) in cases.items():
            clip = yuv_clip(Path(work) / "clip.mp4", signal, matrix, **options)
            with av.open(str(clip)) as container:
                frame = next(container.decode(video=0))
            ours, plain = timed(lambda f=frame: frame_rgb(f), args.repeat), timed(
                lambda f=frame: f.to_ndarray(format="rgb24"), args.repeat)  # fmt: skip
            ours_diff = np.abs(frame_rgb(frame).astype(int) - photo).mean()
            plain_diff = np.abs(frame.to_ndarray(format="rgb24").astype(int) - photo).mean()
            print(f"{name:28} {ours:12.1f} {ours_diff:8.2f} {plain:8.1f} {plain_diff:8.2f}")
    return 0


def timed(call, repeat: int) -> float:
    call()
    start = time.perf_counter()
    for _ in range(repeat):
        call()
    return (time.perf_counter() - start) / repeat * 1000


if __name__ == "__main__":
    raise SystemExit(main())
