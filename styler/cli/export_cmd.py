"""`styler export`: write a style network as ONNX for apps that do not use PyTorch."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from styler.cli.common import EXIT_OK, say
from styler.fast.export import export_onnx
from styler.fast.inference import load_network

EPILOG = """\
Examples:
  styler export starry_night --format onnx               # -> starry_night.onnx
  styler export starry_night --format onnx --half -o models/starry_fp16.onnx
  styler export my_style.safetensors --format onnx

The model's input 'image' is float32 RGB in [0, 1], shape (N, 3, H, W), any N, H, W;
its output 'stylized' has the same shape. See docs/embedding.md.
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "export",
        help="export a fast-mode style network (ONNX)",
        description="Export a fast-mode style network for use without PyTorch.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("network", metavar="NAME", help="a shipped style name or a .safetensors")
    parser.add_argument("--format", choices=("onnx",), default="onnx")
    parser.add_argument("--half", action="store_true", help="store weights as float16")
    parser.add_argument("-o", "--output", type=Path, metavar="FILE")
    return parser


EXPORT_DEVICE = "cpu"  # the graph is traced on the CPU; the exported file runs anywhere


def run(args: argparse.Namespace) -> int:
    name, network, _ = load_network(args.network)
    output = args.output or Path(f"{name}{'_fp16' if args.half else ''}.onnx")
    path = export_onnx(network.to(EXPORT_DEVICE).eval(), output, half=args.half)
    say(str(path), stdout=True)
    return EXIT_OK
