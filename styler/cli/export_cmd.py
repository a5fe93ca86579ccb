"""`styler export`: write a one-pass model as ONNX for apps that do not use PyTorch."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from styler.cli.common import EXIT_OK, UsageError, say
from styler.controls import CONTROLS
from styler.precision import EXPORT_PRECISIONS, FP32, INT8

EPILOG = """\
Examples:
  styler export starry_night                              # -> starry_night.onnx
  styler export starry_night --precision int8 -o models/starry_int8.onnx
  styler export starry_night -o models/                   # -> models/starry_night.onnx
  styler export my_style.safetensors --precision int8 --calibrate photos/
  styler export --instant -o instant/                     # any painting: see docs/embedding.md
  styler export --instant --precision int8 -o instant8/

A fast network's input 'image' is float32 RGB in [0, 1], shape (N, 3, H, W), any N, H, W;
its output 'stylized' has the same shape. Instant mode is an encoder, a decoder and
instant.json; docs/embedding.md has a complete app for both.
precision: fp32; fp16 stores the weights in float16 (half the file, float32 arithmetic);
int8 is quantized (QDQ): shipped for the shipped styles and instant mode, made for your
own networks from photos given with --calibrate.
"""
PRECISION_HELP = "number format of the graphs: fp32, fp16 or int8, as below (default: %(default)s)"
OUTPUT_HELP = ("the file to write, or a folder to write it in under its default name (as "
               "NAME_int8.onnx): an existing folder, or one ending in a path separator (made if "
               "missing); with --instant, the folder of its graphs (default: instant)")  # fmt: skip


def add_parser(subparsers: Any, summary: str) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "export",
        help=summary,
        description="Export a one-pass model for use without PyTorch.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "network", nargs="?", metavar="NAME", help="a style name or a .safetensors network"
    )
    parser.add_argument("--instant", action="store_true", help="export instant mode (a folder)")
    parser.add_argument("--format", choices=("onnx",), default="onnx",
                        help="the exported file format (default: onnx)")
    # export's own choices and help: the registry's help describes stylize's auto and bf16
    parser.add_argument(CONTROLS["precision"].flag, choices=EXPORT_PRECISIONS, default=FP32,
                        help=PRECISION_HELP)  # fmt: skip
    parser.add_argument("--calibrate", type=Path, metavar="DIR",
                        help="photos to calibrate an int8 network of your own on")  # fmt: skip
    parser.add_argument("-o", "--output", metavar="FILE|DIR", help=OUTPUT_HELP)
    return parser


def run(args: argparse.Namespace) -> int:
    from styler.export_models import export_fast, export_instant

    if args.instant and args.network:
        raise UsageError("name one fast network, or give --instant (not both)")
    if not args.instant and not args.network:
        raise UsageError("name the fast network to export (styler styles lists them), or "
                         "give --instant for instant mode's models")  # fmt: skip
    if args.calibrate is not None and (args.instant or args.precision != INT8):
        raise UsageError("--calibrate quantizes a fast network of your own: it goes with "
                         "--precision int8 and a network's name")  # fmt: skip
    if args.instant:
        for path in export_instant(Path(args.output or "instant"), args.precision):
            say(str(path), stdout=True)
        return EXIT_OK
    path = export_fast(args.network, args.output, args.precision, args.calibrate)
    say(str(path), stdout=True)
    return EXIT_OK
