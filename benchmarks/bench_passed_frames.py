"""What a frame that is only passed over costs: a rerun takes the frames an earlier run
painted from its journal, and a preview (styler.video.frame_at) decodes from the keyframe
before its moment; neither needs those frames' pixels, which are made on first use
(styler.video.reader.Frame).

    python benchmarks/bench_passed_frames.py [--size 1920x1080] [--frames 60]

For an SDR clip (8-bit BT.709) and an HDR one (10-bit BT.2020 HLG, as phones record; both
4:4:4, tests/video_clips.py's yuv_clip), the gallery's portrait drifting 4 px a frame, one
keyframe: the milliseconds a frame of reading
the whole clip with each frame's pixels made (what every frame cost before) and with them
left unmade (what a passed-over frame costs now), then frame_at on the last frame.
Prints the time of day; compare only figures of one run.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from styler.video import frame_at  # noqa: E402
from styler.video.reader import ClipReader, Frame, probe_clip  # noqa: E402
from tests.video_clips import HLG, hdr_signal, yuv_clip  # noqa: E402

PHOTO = ROOT / "gallery" / "photos" / "astronaut.jpg"


def read_ms(path: Path, made: bool) -> float:
    """Milliseconds a frame to read the clip, each frame's pixels made or not."""
    info = probe_clip(path, max_pixels=10**9)
    start, count = time.perf_counter(), 0
    with ClipReader(info) as reader:
        for item in reader.items():
            if isinstance(item, Frame):
                count += 1
                if made:
                    item.rgb  # noqa: B018 - what every frame cost before
    return (time.perf_counter() - start) * 1000 / count


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="1920x1080")
    parser.add_argument("--frames", type=int, default=60)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.split("x"))
    photo = np.asarray(Image.open(PHOTO).convert("RGB").resize((width + 4 * args.frames, height)))
    views = [photo[:, 4 * i : 4 * i + width].astype(float) for i in range(args.frames)]
    print(f"## {args.frames} frames at {width}x{height}, one keyframe, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}")  # fmt: skip
    print(f"{'clip':28} {'pixels made ms':>14} {'passed over ms':>14} {'frame_at last s':>15}")
    with tempfile.TemporaryDirectory() as folder:
        one_keyframe = {"crf": "18", "preset": "ultrafast", "g": str(args.frames)}
        sdr = [view / 255 for view in views]
        hlg = [hdr_signal(view, HLG) for view in views]
        clips = {
            "SDR, 8-bit BT.709": yuv_clip(Path(folder) / "sdr.mp4", sdr, "bt709",
                                          options=one_keyframe),
            "HDR, HLG 10-bit BT.2020": yuv_clip(Path(folder) / "hlg.mp4", hlg, "bt2020", bits=10,
                                                transfer=HLG, options=one_keyframe),
        }  # fmt: skip
        for name, path in clips.items():
            read_ms(path, False)  # warm the file cache and the decoder's code
            made, passed = read_ms(path, True), read_ms(path, False)
            info = probe_clip(path, max_pixels=10**9)
            start = time.perf_counter()
            frame_at(info, info.duration).rgb  # noqa: B018
            seconds = time.perf_counter() - start
            print(f"{name:28} {made:14.1f} {passed:14.1f} {seconds:15.2f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
