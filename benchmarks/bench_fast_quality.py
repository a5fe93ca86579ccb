"""Fast mode against optimizer mode on validation photos, for every shipped style.

For each style and photo (512 px), the style distance of the fast network's
result is divided by that of optimizer mode (default settings) on the same
photo and style; the target is a ratio of at most 1.5 for every pair. The
photos come after the ones training used for early stopping (val[24:]). Content
distances are printed beside them: a network can buy style distance with the photo.

    python benchmarks/bench_fast_quality.py [--photos 3] [--styles starry_night udnie]

Quality only, no timings, so it may share the CPU with other work.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
from PIL import Image

from styler import FastStylizer, Stylizer
from styler.evaluate import distances
from styler.fast.manifest import read_manifest
from styler.fast.photo_files import image_files
from styler.fast.train import TrainConfig
from styler.image_sizes import resize_long_side
from styler.imageio import load_image

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
TARGET_RATIO = 1.5


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=3, help="validation photos per style")
    parser.add_argument("--styles", nargs="+", help="shipped styles (default: all)")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"needs the shared data folder at {DATA}", file=sys.stderr)
        return 2
    skip = TrainConfig.val_count
    photos = [
        resize_long_side(load_image(p).rgb, 512)
        for p in image_files(DATA / "val")[skip : skip + args.photos]
    ]
    entries = [e for e in read_manifest() if not e.base]
    if args.styles:
        entries = [e for e in entries if e.name in args.styles]
    engine = Stylizer(device="cpu")
    print(f"distances at 512 px, mean of {len(photos)} validation photos (lower is better)")
    header = ("style", "fast style", "optimizer", "worst ratio", "fast content", "optimizer")
    print("{:16} {:>10} {:>9} {:>11} {:>12} {:>9}".format(*header))
    worst_overall = 0.0
    for entry in entries:
        style = load_image(DATA / "styles" / f"{entry.name}.jpg").rgb
        stylizer = FastStylizer(entry.name, device="cpu")
        fast, slow = [], []
        for photo in photos:
            ours = Image.fromarray(stylizer.stylize_array(np.asarray(photo)))
            optimized = engine.run(photo, style).image
            fast.append(distances(ours, photo, style))
            slow.append(distances(optimized, photo, style))
        worst = max(f.style / o.style for f, o in zip(fast, slow, strict=True))
        worst_overall = max(worst_overall, worst)
        row = (f"{entry.name:16} {np.mean([f.style for f in fast]):10.4f} "
               f"{np.mean([o.style for o in slow]):9.4f} {worst:11.2f} "
               f"{np.mean([f.content for f in fast]):12.3f} "
               f"{np.mean([o.content for o in slow]):9.3f}")  # fmt: skip
        print(row, flush=True)
    verdict = "met" if worst_overall <= TARGET_RATIO else "NOT met"
    print(f"\nworst fast/optimizer ratio {worst_overall:.2f}: target <= {TARGET_RATIO} {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
