"""What a live camera frame costs on the server: the Video tab's live painting
(styler.ui.live_runs.live_frame, a clip's stream kept between frames) on a 640x480 frame,
the size the tab asks the browser for, in Fast and Instant mode; and what encoding the
painted frame for the browser costs in JPEG (what the tab sends) against WebP and PNG.

    python benchmarks/bench_live.py [--frames 30] [--style starry_night]

The frames are the gallery's portrait at 640x480 drifting 2 px a frame, as a hand-held
camera would. Prints the median milliseconds a frame after the first three (the first
builds the engine). The browser's side (capturing, sending, showing) is not in it: the
Video tab's Chromium test shows the whole loop's rate in its status line.
"""

from __future__ import annotations

import argparse
import io
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from styler.ui.config import UIConfig  # noqa: E402
from styler.ui.inputs import FAST, INSTANT, Controls  # noqa: E402
from styler.ui.live_runs import live_frame  # noqa: E402
from styler.ui.services import Services  # noqa: E402

PHOTO = ROOT / "gallery" / "photos" / "astronaut.jpg"
PAINTING = ROOT / "gallery" / "styles" / "swirls.jpg"  # instant mode's: any painting

WARM_UP = 3  # frames painted before the timed ones: the first passes set up their sessions


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=30,
                        help=f"frames in all, the first {WARM_UP} untimed (default: %(default)s)")
    parser.add_argument("--style", default="starry_night", help="a shipped fast style")
    parser.add_argument("--painting", type=Path, default=PAINTING, help="instant mode's")
    args = parser.parse_args()
    if args.frames <= WARM_UP:
        parser.error(f"--frames must be over {WARM_UP}: the first {WARM_UP} are not timed")
    services = Services(UIConfig(device="cpu", temp_dir=tempfile.mkdtemp(), prewarm=False))
    photo = np.asarray(Image.open(PHOTO).convert("RGB").resize((640, 480)))
    frames = [np.roll(photo, 2 * i, axis=1) for i in range(args.frames)]
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    print(f"## a 640x480 live frame, {args.frames} frames, {stamp}")
    painted = None
    for mode, style, image in ((FAST, args.style, None), (INSTANT, None, str(args.painting))):
        state, seconds = None, []
        for frame in frames:
            start = time.perf_counter()
            painted, state, _ = live_frame(services, state, frame, mode, style, image, Controls())
            seconds.append(time.perf_counter() - start)
        median = statistics.median(seconds[WARM_UP:])
        print(f"{mode:8} painted and steadied  {median * 1000:6.1f} ms")
    for form in ("JPEG", "WEBP", "PNG"):
        start = time.perf_counter()
        for _ in range(10):
            Image.fromarray(painted).save(io.BytesIO(), form)
        print(f"encoded as {form:5}            {(time.perf_counter() - start) * 100:6.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
