"""Which sequence of instant-mode passes paints best? Style / content at 512 px per pair.

Each argument is one sequence of levels, comma-separated (a level needs its decoder in the
decoder folder, STYLER_INSTANT_DIR for trained ones that do not ship):

    python benchmarks/probe_instant_levels.py relu4_1 relu4_1,relu1_1 relu4_1,relu4_1
"""

from __future__ import annotations

import argparse
import sys
import time

from bench_instant import PAIRS, painting, pair_photos  # this folder's benchmark: the same pairs
from PIL import Image

import styler.instant.cascade as cascade
from styler.evaluate import distances
from styler.instant.stylizer import InstantStylizer


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sequences", nargs="*", default=["relu4_1"], metavar="LEVELS",
                        help="comma-separated levels, one sequence each (default: relu4_1)")
    sequences = parser.parse_args().sequences
    photos = pair_photos(512)
    if photos is None:
        return 2
    print("passes: style / content per pair, mean style, mean seconds per photo")
    for sequence in sequences:
        cascade.CASCADE = tuple(sequence.split(","))
        scores, seconds = [], 0.0
        for content, style_name in PAIRS:
            style = Image.open(painting(style_name)).convert("RGB")
            stylizer = InstantStylizer(style, device="cpu")
            start = time.perf_counter()
            out = stylizer.stylize(photos[content])
            seconds += time.perf_counter() - start
            scores.append(distances(out, photos[content], style))
        cells = " ".join(f"{d.style:.3f}/{d.content:.2f}" for d in scores)
        mean = sum(d.style for d in scores) / len(scores)
        print(f"{sequence:28} {cells}  {mean:.3f}  {seconds / len(scores):.2f}s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
