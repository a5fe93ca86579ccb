"""Which instant-mode decoder folder paints best? Style / content / edge recall per pair.

Each argument is a folder of decoders with its manifest (what `styler train-instant` or
tools/train_instant.py writes; the student encoder copied in), or `shipped`; all run the
same float32 graphs, so only the networks differ:

    python benchmarks/probe_instant_decoders.py shipped runs/decoder3
    python benchmarks/probe_instant_decoders.py shipped runs/decoder3 \\
        --sets pairs512 pairs1024 faces held-out

The sets: the six benchmark pairs with their photo at 512 px or 1024 px long (the pass as
the CLI runs it, on its 512 px stroke side for the larger one), the gallery's two faces with
the face paintings at their own size, and held-out pairs that no benchmark and no decoder
training saw: the gallery's four photos (not in ../shared) with the shared paintings that no
pair uses. Style and content distance at 512 px, edge recall at the output's size (as
benchmarks/bench_instant.py takes them); each set's mean style / content / edges after it.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Iterator

from bench_instant import FACE_PAINTINGS, FACES, GALLERY, PAIRS, painting, pair_photos
from PIL import Image

import styler.instant.stylizer as stylizer
from styler.evaluate import distances, edge_recall
from styler.image_sizes import resize_long_side

SETS = ("pairs512", "pairs1024", "faces", "held-out")
HELD_OUT_PAINTINGS = ("edtaonisl", "vg_houses", "vg_la_cafe", "vg_olive")


def cases(name: str) -> Iterator[tuple[str, Image.Image, str]]:
    """(label, photo, painting name) of one set."""
    if name.startswith("pairs"):
        photos = pair_photos(int(name[len("pairs") :]))
        if photos is None:
            raise SystemExit(2)
        for content, style in PAIRS:
            yield f"{content} x {style}", photos[content], style
    elif name == "faces":
        for face in FACES:
            for style in FACE_PAINTINGS:
                yield f"{face} x {style}", Image.open(GALLERY / f"{face}.jpg").convert("RGB"), style
    else:
        for path in sorted(GALLERY.glob("*.jpg")):
            image = resize_long_side(Image.open(path).convert("RGB"), 512)
            for style in HELD_OUT_PAINTINGS:
                yield f"{path.stem} x {style}", image, style


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="*", default=["shipped"])
    parser.add_argument("--sets", nargs="+", choices=SETS, default=["pairs512"])
    args = parser.parse_args()
    print("folder: style / content / edges per pair; the set's mean last")
    for set_name in args.sets:
        print(f"\n## {set_name}: " + ", ".join(label for label, _, _ in cases(set_name)))
        for folder in args.folders:
            if folder == "shipped":
                os.environ.pop("STYLER_INSTANT_DIR", None)
            else:
                os.environ["STYLER_INSTANT_DIR"] = folder
            stylizer._NETWORKS.clear()  # load this folder's networks
            rows = []
            for _, photo, style_name in cases(set_name):
                style = Image.open(painting(style_name)).convert("RGB")
                painter = stylizer.InstantStylizer(style, device="cpu", precision="fp32")
                out = painter.stylize(photo)
                found = distances(out, photo, style)
                rows.append((found.style, found.content, edge_recall(out, photo)))
            cells = " ".join(f"{s:.3f}/{c:.3f}/{e:.2f}" for s, c, e in rows)
            means = [sum(column) / len(rows) for column in zip(*rows, strict=True)]
            mean = "/".join(f"{value:.3f}" for value in means)
            print(f"{folder:24} {cells}  {mean}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
