"""`styler evaluate`: the style and content distances used to compare tools and settings."""

from __future__ import annotations

import argparse
import json
from typing import Any

from styler.cli.common import EXIT_OK
from styler.image_sizes import EVAL_SIZE, MIN_MEASURED_SIDE
from styler.imageio import load_image

EPILOG = f"""\
Examples:
  styler evaluate styled/photo__starry.png --content photo.jpg --style starry.jpg
  styler evaluate out.png --content photo.jpg --style starry.jpg --json

Both distances are relative squared errors of VGG19 features (style: Gram matrices of
relu1_1..relu5_1; content: relu4_2), on images scaled to a {EVAL_SIZE} px long side (a
thin strip's short side to {MIN_MEASURED_SIDE} px); the photo is scaled to the output's size
(stretched, where their shapes differ); an animation's first frame is measured.
Lower is better. They compare outputs made from the same photo and painting (two tools,
two settings): each is relative to its reference's feature energy, so a distance to another
photo is on another scale, and a stylized picture can score nearer a busier photo than its
own.
"""


def add_parser(subparsers: Any, summary: str) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "evaluate",
        help=summary,
        description="Print the style and content distances of a stylized image.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("output", metavar="OUTPUT", help="the stylized image")
    parser.add_argument("--content", required=True, metavar="IMAGE", help="the original photo")
    parser.add_argument("--style", required=True, metavar="IMAGE", help="the style image")
    parser.add_argument(
        "--json", action="store_true", help='print {"style": x, "content": y} instead of two lines'
    )
    return parser


def run(args: argparse.Namespace) -> int:
    """Read all three images before loading VGG19, so a bad path fails at once."""
    from styler.evaluate import distances, measuring_size

    paths = (args.output, args.content, args.style)
    output, content, style = [load_image(path).rgb for path in paths]
    for path, image in ((args.output, output), (args.style, style)):
        measuring_size(image.size, path)  # too thin: one line naming it, before VGG19 loads
    result = distances(output, content, style)
    if args.json:
        print(json.dumps({"style": result.style, "content": result.content}))
    else:
        print(f"style {result.style:.6g}")
        print(f"content {result.content:.6g}")
    return EXIT_OK
