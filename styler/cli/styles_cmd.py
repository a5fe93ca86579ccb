"""`styler styles`: list the shipped fast-mode styles."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from styler.cli.common import EXIT_OK
from styler.fast.manifest import read_manifest

EPILOG = """\
Examples:
  styler styles                      # name, painting, quality distances
  styler styles --json               # the whole manifest entry of each style
  styler stylize photo.jpg --fast starry_night
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "styles",
        help="list the shipped fast-mode styles",
        description="List the fast-mode style networks that ship with styler.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print the manifest entries")
    return parser


def run(args: argparse.Namespace) -> int:
    entries = [e for e in read_manifest() if not e.base]
    if args.json:
        print(json.dumps([asdict(e) for e in entries], indent=2, ensure_ascii=False))
        return EXIT_OK
    if not entries:
        print("no fast-mode styles are installed")
        return EXIT_OK
    width = max(len(e.name) for e in entries)
    for entry in entries:
        d = entry.distances
        quality = f"  style {d['style']:.3f} content {d['content']:.3f}" if d else ""
        print(f"{entry.name:{width}}  {entry.caption()}{quality}")
    return EXIT_OK
