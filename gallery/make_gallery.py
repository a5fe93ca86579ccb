"""Rebuild the example results in gallery/ from the sample photos, in one command.

    python gallery/make_gallery.py              # optimizer examples + every shipped fast style
    python gallery/make_gallery.py --fast-only  # just the fast-mode images (seconds)

Writes gallery/examples/<photo>__<style>.jpg (optimizer mode, bundled styles),
gallery/fast/<style>.jpg (one strip per shipped style over the sample photos)
and gallery/fast/contact_sheet.jpg (every style on every photo).
"""

from __future__ import annotations

import argparse
import sys
import unicodedata
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from styler import FastStylizer, Stylizer
from styler.fast.manifest import read_manifest
from styler.image_sizes import resize_long_side
from styler.imageio import load_image, save_image

GALLERY = Path(__file__).resolve().parent
PHOTOS = sorted((GALLERY / "photos").glob("*.jpg"))
OPTIMIZER_EXAMPLES = [
    ("astronaut", "swirls"),
    ("coffee", "mosaic"),
    ("chelsea", "waves"),
    ("rocket", "swirls"),
]
CELL = 256  # long side of each photo in strips and the contact sheet
LABEL = 22


def optimizer_examples() -> None:
    engine = Stylizer()
    for photo, style in OPTIMIZER_EXAMPLES:
        out = GALLERY / "examples" / f"{photo}__{style}.jpg"
        photo_path, style_path = (
            GALLERY / "photos" / f"{photo}.jpg",
            GALLERY / "styles" / f"{style}.jpg",
        )
        result = engine.run(photo_path, style_path)
        save_image(result.image, out, settings=result.settings, quality=90)
        print(out, f"{result.elapsed:.1f} s", flush=True)


def _labelled(image: Image.Image, text: str) -> Image.Image:
    # PIL's built-in font is ASCII only: "Café — Gogh" would show boxes.
    text = unicodedata.normalize("NFKD", text.replace("—", "-")).encode("ascii", "ignore").decode()
    canvas = Image.new("RGB", (image.width, image.height + LABEL), "white")
    canvas.paste(image, (0, LABEL))
    ImageDraw.Draw(canvas).text((4, 5), text, fill="black")
    return canvas


def _row(images: list[Image.Image], gap: int = 6) -> Image.Image:
    width = sum(im.width for im in images) + gap * (len(images) - 1)
    height = max(im.height for im in images)
    row = Image.new("RGB", (width, height), "white")
    x = 0
    for im in images:
        row.paste(im, (x, 0))
        x += im.width + gap
    return row


def _column(rows: list[Image.Image], gap: int = 6) -> Image.Image:
    width = max(r.width for r in rows)
    sheet = Image.new("RGB", (width, sum(r.height for r in rows) + gap * (len(rows) - 1)), "white")
    y = 0
    for r in rows:
        sheet.paste(r, (0, y))
        y += r.height + gap
    return sheet


def fast_gallery() -> None:
    photos = [resize_long_side(load_image(p).rgb, CELL) for p in PHOTOS]
    # Equal heights so strips line up: crop every photo to the smallest height.
    height = min(p.height for p in photos)
    photos = [p.crop((0, (p.height - height) // 2, p.width, (p.height - height) // 2 + height))
              for p in photos]  # fmt: skip
    rows = [_row([_labelled(p, path.stem) for p, path in zip(photos, PHOTOS, strict=True)])]
    for entry in (e for e in read_manifest() if not e.base):
        stylizer = FastStylizer(entry.name)
        styled = [Image.fromarray(stylizer.stylize_array(np.asarray(p))) for p in photos]
        strip = _row([_labelled(s, entry.caption()) for s in styled])
        strip.save(GALLERY / "fast" / f"{entry.name}.jpg", quality=88)
        rows.append(strip)
        print(GALLERY / "fast" / f"{entry.name}.jpg", flush=True)
    _column(rows).save(GALLERY / "fast" / "contact_sheet.jpg", quality=85)
    print(GALLERY / "fast" / "contact_sheet.jpg")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--fast-only", action="store_true")
    parser.add_argument("--optimizer-only", action="store_true")
    args = parser.parse_args()
    (GALLERY / "examples").mkdir(exist_ok=True)
    (GALLERY / "fast").mkdir(exist_ok=True)
    if not args.fast_only:
        optimizer_examples()
    if not args.optimizer_only:
        fast_gallery()
    return 0


if __name__ == "__main__":
    sys.exit(main())
