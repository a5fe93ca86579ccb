"""The look at 1, 4 and 12 MP in fast mode, with stroke_side at its default and at 0 (strokes
sized in pixels, as before the control existed): docs/ui/stroke-side.jpg, for docs/ui.md.

    python benchmarks/stroke_side_sheet.py ../shared/data/content/figures.jpg --style starry_night

Each column is one photo size (the photo resized down from the original); each result is shown
whole at one width, then its middle quarter (the same part of the picture at every size), so
strokes are compared relative to the picture, as a viewer sees them.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from PIL import Image, ImageDraw

from styler.controls import CONTROLS, FAST
from styler.engine import build_engine
from styler.image_sizes import scaled_size
from styler.recipe import Recipe

MEGAPIXELS = (1, 4, 12)
CELL = 400  # px: the width each result is shown at
LABEL = 26  # px: a caption's height


def _sized(photo: Image.Image, megapixels: float) -> Image.Image:
    """The photo resized so it has about `megapixels` million pixels."""
    scale = (megapixels * 1e6 / (photo.width * photo.height)) ** 0.5
    side = round(max(photo.size) * scale)
    return photo.resize(scaled_size(photo.size, side), Image.Resampling.LANCZOS)


def _cells(image: Image.Image) -> tuple[Image.Image, Image.Image]:
    """The whole picture and its middle quarter, each CELL px wide."""
    w, h = image.size
    whole = image.resize((CELL, round(CELL * h / w)), Image.Resampling.LANCZOS)
    box = (w * 3 // 8, h * 3 // 8, w * 5 // 8, h * 5 // 8)
    middle = image.crop(box).resize(whole.size, Image.Resampling.LANCZOS)
    return whole, middle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("photo", type=Path)
    parser.add_argument("--style", default="starry_night")
    parser.add_argument("--out", type=Path, default=Path("docs/ui/stroke-side.jpg"))
    args = parser.parse_args()
    photo = Image.open(args.photo).convert("RGB")
    default = CONTROLS["stroke_side"].default_for(FAST)
    rows = [(default, f"stroke_side {default} (default)"), (0, "stroke_side 0 (in pixels)")]
    columns = []
    for megapixels in MEGAPIXELS:
        sized = _sized(photo, megapixels)
        cells = []
        for value, _ in rows:
            engine = build_engine(Recipe.create(FAST, args.style, stroke_side=value))
            start = time.perf_counter()
            result = engine.run(sized)
            took = time.perf_counter() - start
            print(f"{megapixels} MP {sized.size[0]}x{sized.size[1]} stroke_side {value}: "
                  f"{took:.1f} s")  # fmt: skip
            cells += _cells(result.image)
        columns.append((f"{megapixels} MP ({sized.size[0]}x{sized.size[1]})", cells))
    height = sum(cell.height for cell in columns[0][1])
    sheet = Image.new("RGB", (CELL * len(columns) + 180, height + LABEL), "white")
    draw = ImageDraw.Draw(sheet)
    for index, (title, cells) in enumerate(columns):
        x = 180 + index * CELL
        draw.text((x + 8, 6), title, fill="black")
        y = LABEL
        for cell in cells:
            sheet.paste(cell, (x, y))
            y += cell.height
    y = LABEL
    cell_h = columns[0][1][0].height
    for _, name in rows:
        for part in ("whole", "middle quarter"):
            draw.text((8, y + cell_h // 2), f"{name}\n{part}", fill="black")
            y += cell_h
    args.out.parent.mkdir(parents=True, exist_ok=True)
    sheet.save(args.out, quality=88)
    print(args.out)


if __name__ == "__main__":
    main()
