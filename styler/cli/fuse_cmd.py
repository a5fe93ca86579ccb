"""`styler fuse`: combine photos without a network: masked blends, exposure and focus fusion."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

import numpy as np
from PIL import Image

from styler.cli.common import EXIT_OK, say
from styler.controls import FUSE_BLEND, FUSE_EXPOSURE, FUSE_FOCUS, FUSION_CONTROLS, fusion_controls
from styler.errors import InvalidOption, OptionsError
from styler.fusion.masked_blend import blend_through_mask
from styler.fusion.photo import exposure_fusion, focus_stack
from styler.imageio import load_image, output_format, save_image

# A tool's picture, the settings that made it, and its transparency (None: opaque).
Fused = tuple[np.ndarray, dict[str, Any], Image.Image | None]

EPILOG = """\
Examples:
  styler fuse blend day.jpg night.jpg --mask sky.png -o blended.png
  styler fuse blend a.jpg b.jpg --mask mask.png --feather 20 -o blended.jpg
  styler fuse exposure dark.jpg normal.jpg bright.jpg -o fused.png --align
  styler fuse focus near.jpg middle.jpg far.jpg -o sharp.png

Each tool prints the written path on stdout and embeds its settings in the file.
Exit status: 0 done, 2 bad command line or input. See docs/fusion.md.
"""

BLEND_EPILOG = """\
Examples:
  styler fuse blend day.jpg night.jpg --mask sky.png -o blended.png
  styler fuse blend a.jpg b.jpg --mask mask.png --feather 20 --levels 4 -o blended.jpg

The mask is read as greyscale (transparent pixels count as black) and resized to A's size:
white takes A, black takes B, grey mixes them. A and B must have the same size.
"""

EXPOSURE_EPILOG = """\
Examples:
  styler fuse exposure dark.jpg normal.jpg bright.jpg -o fused.png
  styler fuse exposure bracket_*.jpg -o fused.jpg --align      # hand-held series

Mertens exposure fusion: no exposure times or tone mapping needed. Without --align the
images must have one size; with it they are resized to the first image's size and aligned
to it, correcting a shift and rotation (--motion affine or homography for more).
"""

FOCUS_EPILOG = """\
Examples:
  styler fuse focus near.jpg middle.jpg far.jpg -o sharp.png
  styler fuse focus stack_*.png -o sharp.png --no-align        # tripod, frames already match

Each pixel comes from the frame that is sharpest there, blended band by band so seams do
not show. Frames are resized to the first one's size and aligned to it (a homography, which
also corrects focus breathing) unless --no-align.
"""


def add_parser(subparsers: Any, summary: str) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "fuse",
        help=summary,
        description="Combine several photos into one (no style network involved).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    tools = parser.add_subparsers(dest="tool", metavar="TOOL", required=True)

    blend = _tool(tools, FUSE_BLEND, "multi-band blend of two photos through a mask",
                  BLEND_EPILOG)  # fmt: skip
    blend.add_argument("first", metavar="A", help="the photo shown where the mask is white")
    blend.add_argument("second", metavar="B", help="the photo shown where the mask is black")
    blend.add_argument("--mask", required=True, metavar="MASK", help="a greyscale mask image")

    exposure = _tool(tools, FUSE_EXPOSURE, "fuse an exposure bracket (Mertens)",
                     EXPOSURE_EPILOG)  # fmt: skip
    exposure.add_argument("images", nargs="+", metavar="IMG", help="the bracketed photos")

    focus = _tool(tools, FUSE_FOCUS, "focus-stack a series into one sharp image", FOCUS_EPILOG)
    focus.add_argument("images", nargs="+", metavar="IMG", help="the photos, any focus order")
    for tool, tool_parser in ((FUSE_BLEND, blend), (FUSE_EXPOSURE, exposure), (FUSE_FOCUS, focus)):
        _add_control_options(tool_parser, tool)
    return parser


def _tool(tools: Any, name: str, summary: str, epilog: str) -> argparse.ArgumentParser:
    parser = tools.add_parser(
        name,
        help=summary,
        description=summary[0].upper() + summary[1:] + ".",
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("-o", "--output", required=True, metavar="OUT",
                        help="output file: .png, .jpg, .webp, .tif, .heic or .avif")  # fmt: skip
    return parser


def _add_control_options(parser: argparse.ArgumentParser, tool: str) -> None:
    """One argument per control of the tool (styler.controls.FUSION_CONTROLS, which the web
    UI's Fusion tab shares): flag, type, choices, default and help come from there."""
    for control in fusion_controls(tool):
        if control.kind is bool:  # --align / --no-align
            extra: dict[str, Any] = {"action": argparse.BooleanOptionalAction}
        elif control.choices:
            extra = {"choices": control.choices}
        else:
            extra = {"type": _checked(control.name, tool), "metavar": control.unit.upper() or "N"}
        default = control.default_for(tool)
        parser.add_argument(control.flag, default=default, **extra,
                            help=f"{control.describe(tool)} (default: {_shown(default)})")


def _shown(value: Any) -> str:
    """A default as --help shows it: on/off, 0 rather than 0.0."""
    if isinstance(value, bool):
        return "on" if value else "off"
    return f"{value:g}" if isinstance(value, float) else str(value)


def _checked(name: str, tool: str) -> Callable[[str], Any]:
    """An argparse type: the text as the control's kind, in its range for the tool."""
    control = FUSION_CONTROLS[name]

    def parse(text: str) -> Any:
        try:
            return control.check(text, tool)
        except InvalidOption as exc:
            raise argparse.ArgumentTypeError(f"must be {exc.expected}, got {text!r}") from exc

    parse.__name__ = control.kind.__name__
    return parse


def run(args: argparse.Namespace) -> int:
    try:
        output_format(args.output)  # a bad extension should fail before the work, not after
    except ValueError as exc:
        raise OptionsError(f"{args.output}: {exc}") from exc
    image, settings, alpha = _TOOLS[args.tool](args)
    first = args.first if args.tool == "blend" else args.images[0]
    # the first photo's date, camera and credits, as a stylized photo keeps its own
    path = save_image(Image.fromarray(image), args.output, settings=settings, alpha=alpha,
                      source=first)  # fmt: skip
    say(str(path), stdout=True)
    return EXIT_OK


def _load(path: str) -> np.ndarray:
    return np.asarray(load_image(path).rgb)


def _blend(args: argparse.Namespace) -> Fused:
    blended = blend_through_mask(load_image(args.first), load_image(args.second),
                                 load_image(args.mask), (args.first, args.second, args.mask),
                                 feather=args.feather, levels=args.levels)  # fmt: skip
    for note in blended.notes:
        say(f"warning: {note}")
    settings = {
        "mode": "fuse-blend",
        "inputs": [args.first, args.second],
        "mask": args.mask,
        "feather": args.feather,
        "levels": blended.levels,
    }
    return blended.image, settings, blended.alpha


def _exposure(args: argparse.Namespace) -> Fused:
    images = [_load(path) for path in args.images]
    image = exposure_fusion(
        images, args.align, method=args.align_method, motion=args.motion, names=args.images
    )
    return image, _series_settings("fuse-exposure", args), None


def _focus(args: argparse.Namespace) -> Fused:
    images = [_load(path) for path in args.images]
    image = focus_stack(
        images, args.align, method=args.align_method, motion=args.motion, names=args.images
    )
    return image, _series_settings("fuse-focus", args), None


def _series_settings(mode: str, args: argparse.Namespace) -> dict[str, Any]:
    settings: dict[str, Any] = {"mode": mode, "inputs": list(args.images), "align": args.align}
    if args.align:
        settings.update(align_method=args.align_method, motion=args.motion)
    return settings


_TOOLS: dict[str, Callable[[argparse.Namespace], Fused]] = {
    "blend": _blend,
    "exposure": _exposure,
    "focus": _focus,
}
