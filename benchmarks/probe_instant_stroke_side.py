"""Instant mode's stroke side at 1024x768: style, content (at 512 px) and edge recall (at the
output's size) on the six benchmark pairs, painted at full size and on reduced copies.

    python benchmarks/probe_instant_stroke_side.py [SIDE ...]    # default: 0 768 512 384
"""

from __future__ import annotations

import argparse

import numpy as np
from bench_instant import DATA, PAIRS  # this folder's: the same six pairs
from PIL import Image

from styler.evaluate import distances, edge_recall
from styler.instant.stylizer import InstantOptions, InstantStylizer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("sides", nargs="*", type=int, default=[0, 768, 512, 384], metavar="SIDE",
                        help="stroke sides to compare (0: the photo's own size)")
    sides = parser.parse_args().sides
    print("style / content / edge recall per stroke side (0: the photo's own size)")
    print(f"{'pair':30} " + " ".join(f"{side:>20}" for side in sides))
    for content, style in PAIRS:
        photo = Image.open(DATA / "content" / f"{content}.jpg").convert("RGB")
        photo = photo.resize((1024, 768), Image.Resampling.LANCZOS)
        painting = Image.open(DATA / "styles" / f"{style}.jpg").convert("RGB")
        stylizer = InstantStylizer(painting, device="cpu")
        cells = []
        for side in sides:
            options = InstantOptions(stroke_side=side)
            out = Image.fromarray(stylizer.stylize_array(np.asarray(photo), options))
            found = distances(out, photo, painting)
            cells.append(f"{found.style:.3f}/{found.content:.3f}/{edge_recall(out, photo):.2f}")
        row = " ".join(f"{cell:>20}" for cell in cells)
        print(f"{content + ' x ' + style:30} {row}", flush=True)


if __name__ == "__main__":
    main()
