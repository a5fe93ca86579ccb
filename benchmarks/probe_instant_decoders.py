"""Which instant-mode decoder folder paints best? Style / content at 512 px per pair.

Each argument is a folder of decoders with its manifest (what `styler train-instant` or
tools/train_instant.py writes; the student encoder copied in), or `shipped`; all run the
same float32 graphs, so only the networks differ:

    python benchmarks/probe_instant_decoders.py shipped runs/decoder3
"""

from __future__ import annotations

import os
import sys

from bench_instant import PAIRS, painting, pair_photos  # this folder's benchmark: the same pairs
from PIL import Image

import styler.instant.stylizer as stylizer
from styler.evaluate import distances


def main() -> int:
    photos = pair_photos(512)
    if photos is None:
        return 2
    print("folder: style / content per pair, mean style / content")
    for folder in sys.argv[1:] or ["shipped"]:
        if folder == "shipped":
            os.environ.pop("STYLER_INSTANT_DIR", None)
        else:
            os.environ["STYLER_INSTANT_DIR"] = folder
        stylizer._NETWORKS.clear()  # load this folder's networks
        scores = []
        for content, style_name in PAIRS:
            style = Image.open(painting(style_name)).convert("RGB")
            painter = stylizer.InstantStylizer(style, device="cpu", precision="fp32")
            scores.append(distances(painter.stylize(photos[content]), photos[content], style))
        cells = " ".join(f"{d.style:.3f}/{d.content:.3f}" for d in scores)
        style_mean = sum(d.style for d in scores) / len(scores)
        content_mean = sum(d.content for d in scores) / len(scores)
        print(f"{folder:24} {cells}  {style_mean:.3f}/{content_mean:.3f}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
