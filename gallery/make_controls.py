"""One picture per fusion control, each made by the one CLI command docs/controls.md shows.

    python gallery/make_controls.py            # every example (about 10 minutes on 2 cores)
    python gallery/make_controls.py --only strength_fast colour_luminance

Inputs the commands need besides the sample photos and styles (region masks, an
exposure bracket, a focus series, all derived from the CC0/public-domain sample
photos) are drawn first into gallery/controls/inputs/. Results go to
gallery/controls/<name>.jpg, each beside its input photo, labelled.
"""

from __future__ import annotations

import argparse
import shlex
import subprocess
import sys
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

GALLERY = Path(__file__).resolve().parent
ROOT = GALLERY.parent
OUT = GALLERY / "controls"
INPUTS = OUT / "inputs"
PANEL = 320  # long side of each panel in the pictures


@dataclass(frozen=True)
class Example:
    name: str
    command: str  # as typed in the repository root; {out} is a scratch output folder
    before: str  # the input shown on the left of the picture
    label: str
    detail: tuple[int, int, int, int] | None = None  # a full-resolution crop to add


EXAMPLES = [
    Example("blend_optimizer",
            "styler stylize gallery/photos/chelsea.jpg --style gallery/styles/swirls.jpg "
            "gallery/styles/waves.jpg --style-blend 0.5 0.5 -o {out}",
            "gallery/photos/chelsea.jpg", "swirls + waves, 50/50 (optimizer)"),
    Example("blend_fast_params",
            "styler stylize gallery/photos/chelsea.jpg --fast starry_night the_scream "
            "--fast-blend 0.5 0.5 --blend-method params -o {out}",
            "gallery/photos/chelsea.jpg", "starry_night + the_scream, parameters"),
    Example("blend_fast_outputs",
            "styler stylize gallery/photos/chelsea.jpg --fast starry_night the_scream "
            "--fast-blend 0.5 0.5 --blend-method outputs -o {out}",
            "gallery/photos/chelsea.jpg", "starry_night + the_scream, outputs"),
    Example("blend_instant",
            "styler stylize gallery/photos/chelsea.jpg --style gallery/styles/swirls.jpg "
            "gallery/styles/waves.jpg --style-blend 0.5 0.5 --instant -o {out}",
            "gallery/photos/chelsea.jpg", "swirls + waves, 50/50 (instant)"),
    Example("strength_fast_030",
            "styler stylize gallery/photos/astronaut.jpg --fast udnie --strength 0.3 -o {out}",
            "gallery/photos/astronaut.jpg", "strength 0.3 (fast)"),
    Example("strength_fast_060",
            "styler stylize gallery/photos/astronaut.jpg --fast udnie --strength 0.6 -o {out}",
            "gallery/photos/astronaut.jpg", "strength 0.6 (fast)"),
    Example("strength_optimizer_050",
            "styler stylize gallery/photos/astronaut.jpg --style gallery/styles/mosaic.jpg "
            "--strength 0.5 -o {out}",
            "gallery/photos/astronaut.jpg", "strength 0.5 (optimizer)"),
    Example("strength_instant_050",
            "styler stylize gallery/photos/astronaut.jpg --style gallery/styles/mosaic.jpg "
            "--strength 0.5 --instant -o {out}",
            "gallery/photos/astronaut.jpg", "strength 0.5 (instant)"),
    Example("colour_luminance",
            "styler stylize gallery/photos/coffee.jpg --style gallery/styles/swirls.jpg "
            "--preserve-color luminance -o {out}",
            "gallery/photos/coffee.jpg", "colour: luminance only"),
    Example("colour_match",
            "styler stylize gallery/photos/coffee.jpg --style gallery/styles/swirls.jpg "
            "--preserve-color match -o {out}",
            "gallery/photos/coffee.jpg", "colour: style recoloured"),
    Example("colour_fast",
            "styler stylize gallery/photos/coffee.jpg --fast starry_night "
            "--preserve-color luminance -o {out}",
            "gallery/photos/coffee.jpg", "colour: luminance (fast)"),
    Example("colour_instant",
            "styler stylize gallery/photos/coffee.jpg --style gallery/styles/swirls.jpg "
            "--preserve-color match --instant -o {out}",
            "gallery/photos/coffee.jpg", "colour: style recoloured (instant)"),
    Example("regions_optimizer",
            "styler stylize gallery/photos/coffee.jpg --style gallery/styles/waves.jpg "
            "--region gallery/controls/inputs/coffee_cup_mask.png gallery/styles/mosaic.jpg "
            "--feather 8 -o {out}",
            "gallery/controls/inputs/coffee_cup_mask.png", "cup: mosaic, table: waves"),
    Example("regions_fast",
            "styler stylize gallery/photos/coffee.jpg --fast vg_wheat_field "
            "--region gallery/controls/inputs/coffee_cup_mask.png none --feather 8 -o {out}",
            "gallery/controls/inputs/coffee_cup_mask.png", "cup kept, table styled (fast)"),
    Example("regions_instant",
            "styler stylize gallery/photos/coffee.jpg --style gallery/styles/waves.jpg "
            "--region gallery/controls/inputs/coffee_cup_mask.png gallery/styles/mosaic.jpg "
            "--feather 8 --instant -o {out}",
            "gallery/controls/inputs/coffee_cup_mask.png", "cup: mosaic, table: waves (instant)"),
    Example("scale_optimizer_small",
            "styler stylize gallery/photos/rocket.jpg --style gallery/styles/swirls.jpg "
            "--style-scale 0.5 -o {out}",
            "gallery/photos/rocket.jpg", "style scale 0.5: small strokes"),
    Example("scale_optimizer_large",
            "styler stylize gallery/photos/rocket.jpg --style gallery/styles/swirls.jpg "
            "--style-scale 2 -o {out}",
            "gallery/photos/rocket.jpg", "style scale 2: large strokes"),
    Example("scale_fast_large",
            "styler stylize gallery/photos/rocket.jpg --fast starry_night --style-scale 2 "
            "-o {out}",
            "gallery/photos/rocket.jpg", "style scale 2 (fast)"),
    Example("scale_instant_large",
            "styler stylize gallery/photos/rocket.jpg --style gallery/styles/swirls.jpg "
            "--style-scale 2 --instant -o {out}",
            "gallery/photos/rocket.jpg", "style scale 2 (instant)"),
    Example("tiles_optimizer",
            "styler stylize gallery/photos/astronaut.jpg --style gallery/styles/swirls.jpg "
            "--size 1024 --tile 512 -o {out}",
            "gallery/photos/astronaut.jpg", "1024 px in 512 px tiles",
            detail=(352, 352, 672, 672)),  # where four tiles meet, at full size
    Example("fuse_blend",
            "styler fuse blend gallery/controls/inputs/coffee_day.jpg "
            "gallery/controls/inputs/coffee_night.jpg "
            "--mask gallery/controls/inputs/coffee_cup_mask.png -o {out}/fused.jpg",
            "gallery/controls/inputs/coffee_night.jpg", "multi-band blend through the mask"),
    Example("fuse_exposure",
            "styler fuse exposure gallery/controls/inputs/bracket_dark.jpg "
            "gallery/controls/inputs/bracket_mid.jpg gallery/controls/inputs/bracket_bright.jpg "
            "-o {out}/fused.jpg",
            "gallery/controls/inputs/bracket_mid.jpg", "exposure fusion of 3 brackets"),
    Example("fuse_focus",
            "styler fuse focus gallery/controls/inputs/focus_near.jpg "
            "gallery/controls/inputs/focus_far.jpg -o {out}/fused.jpg",
            "gallery/controls/inputs/focus_near.jpg", "focus stack of 2 frames"),
]  # fmt: skip


def make_inputs() -> None:
    """Masks, a bracket and a focus series derived from the sample photos (same licences)."""
    INPUTS.mkdir(parents=True, exist_ok=True)
    coffee = Image.open(GALLERY / "photos" / "coffee.jpg").convert("RGB")
    mask = Image.new("L", coffee.size, 0)
    ImageDraw.Draw(mask).ellipse((20, 50, 470, 390), fill=255)  # the cup on its saucer
    mask.save(INPUTS / "coffee_cup_mask.png")
    pixels = np.asarray(coffee, np.float32) / 255
    night = np.clip(pixels**1.8 * np.array([0.55, 0.65, 1.0]), 0, 1)  # a cool, dark variant
    _save(pixels, INPUTS / "coffee_day.jpg")
    _save(night, INPUTS / "coffee_night.jpg")
    for name, gain in (("dark", 0.3), ("mid", 1.0), ("bright", 3.0)):
        _save(np.clip(pixels**1.2 * gain, 0, 1), INPUTS / f"bracket_{name}.jpg")
    chelsea = Image.open(GALLERY / "photos" / "chelsea.jpg").convert("RGB")
    blurred = chelsea.filter(ImageFilter.GaussianBlur(4))
    half = chelsea.width // 2
    near, far = chelsea.copy(), chelsea.copy()
    near.paste(blurred.crop((half, 0, chelsea.width, chelsea.height)), (half, 0))
    far.paste(blurred.crop((0, 0, half, chelsea.height)), (0, 0))
    near.save(INPUTS / "focus_near.jpg", quality=92)
    far.save(INPUTS / "focus_far.jpg", quality=92)


def _save(pixels: np.ndarray, path: Path) -> None:
    Image.fromarray((pixels * 255 + 0.5).astype(np.uint8)).save(path, quality=92)


def _panel(path: Path, label: str) -> Image.Image:
    image = Image.open(path).convert("RGB")
    image.thumbnail((PANEL, PANEL), Image.Resampling.LANCZOS)
    return _labelled(image, label)


def _labelled(image: Image.Image, label: str) -> Image.Image:
    canvas = Image.new("RGB", (image.width, image.height + 22), "white")
    canvas.paste(image, (0, 22))
    ImageDraw.Draw(canvas).text((4, 5), label, fill="black")
    return canvas


def run(example: Example) -> Path:
    with tempfile.TemporaryDirectory() as scratch:
        command = shlex.split(example.command.format(out=scratch))
        styler = [sys.executable, "-m", "styler.cli.main"]
        subprocess.run([*styler, *command[1:], "-q"] if command[1] == "stylize"
                       else [*styler, *command[1:]], check=True, cwd=ROOT)  # fmt: skip
        (result,) = Path(scratch).iterdir()
        panels = [_panel(ROOT / example.before, "input"), _panel(result, example.label)]
        if example.detail:
            crop = Image.open(result).convert("RGB").crop(example.detail)
            panels.append(_labelled(crop, "full-size crop across tile borders"))
        sheet = Image.new("RGB", (sum(p.width for p in panels) + 6 * (len(panels) - 1),
                                  max(p.height for p in panels)), "white")  # fmt: skip
        x = 0
        for panel in panels:
            sheet.paste(panel, (x, 0))
            x += panel.width + 6
        target = OUT / f"{example.name}.jpg"
        sheet.save(target, quality=88)
    return target


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=[e.name for e in EXAMPLES])
    args = parser.parse_args()
    make_inputs()
    for example in EXAMPLES:
        if args.only and example.name not in args.only:
            continue
        print(f"$ {example.command.format(out='out')}", flush=True)
        print(run(example), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
