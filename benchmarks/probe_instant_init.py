"""Which Quality-mode schedule reaches the default run's quality fastest from the instant result?

For each pair (512 px), runs the default Quality run (init content, the default steps over
every scale) and, from init 'instant', every schedule in SCHEDULES: (coarsest scale's long
side, steps). Prints time (model loaded, instant pass included), both distances, and
whether the run reached the default run's quality (style and content both no higher).

    python benchmarks/probe_instant_init.py [--pairs 3]
"""

from __future__ import annotations

import argparse
import sys
import time

from bench_instant import DATA, QUALITY_MODE_PAIRS  # this folder's benchmark
from PIL import Image

from styler import OptimizeOptions, Stylizer
from styler.evaluate import distances
from styler.image_sizes import resize_long_side

PAIRS = QUALITY_MODE_PAIRS
# (coarsest long side, total steps); 512 alone is a single scale
SCHEDULES = [(512, 15), (512, 20), (512, 30)]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=len(PAIRS))
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"needs the shared data folder at {DATA}", file=sys.stderr)
        return 2
    engine = Stylizer(device="cpu")
    print(f"{'pair':30} {'run':22} {'time s':>7} {'style':>7} {'content':>8} reached")
    for content_name, style_name in PAIRS[: args.pairs]:
        photo = resize_long_side(
            Image.open(DATA / "content" / f"{content_name}.jpg").convert("RGB"), 512
        )
        style = Image.open(DATA / "styles" / f"{style_name}.jpg").convert("RGB")
        pair = f"{content_name} x {style_name}"
        engine.run(photo, style, OptimizeOptions(size=128, steps=2))  # warm-up
        runs = [("default", OptimizeOptions(size=512))]
        runs += [(f"instant {side}px {steps} steps",
                  OptimizeOptions(size=512, init="instant", min_size=side, steps=steps))
                 for side, steps in SCHEDULES]  # fmt: skip
        reference = None
        for name, options in runs:
            start = time.perf_counter()
            out = engine.run(photo, style, options).image
            seconds = time.perf_counter() - start
            d = distances(out, photo, style)
            reference = reference or d
            reached = d.style <= reference.style and d.content <= reference.content
            print(f"{pair:30} {name:22} {seconds:7.1f} {d.style:7.4f} {d.content:8.3f} "
                  f"{'yes' if reached else 'no'}", flush=True)  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
