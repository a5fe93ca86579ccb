"""`styler info`: what this machine runs styler as (styler.machine_facts), for a user who
wonders why a run is slow and for bug reports."""

from __future__ import annotations

import argparse
import json
from typing import Any

from styler.cli.common import EXIT_OK
from styler.wording import counted

EPILOG = """\
Examples:
  styler info            # CPU, device, what --precision auto runs in each mode, packages
  styler info --json     # the same as JSON, for a bug report or a script
"""


def add_parser(subparsers: Any, summary: str) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "info",
        help=summary,
        description="Show what this machine runs styler as: the CPU's instructions that decide "
        "the speed (int8 dot products, native bf16), the device --device auto picks, the "
        "precision --precision auto takes in each mode, the installed packages, and where "
        "the networks, your styles and the caches are.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print the report as JSON")
    return parser


def run(args: argparse.Namespace) -> int:
    from styler.machine_facts import machine_report

    report = machine_report()
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
        return EXIT_OK
    features = report.cpu_features
    rows = [
        ("styler", f"{report.styler} (Python {report.python}, {report.system})"),
        ("CPU", f"{report.cpu}, {counted(report.cores, 'core')} usable"
         + (f" (a CPU quota of {report.cpu_quota})" if report.cpu_quota else "")),
        ("  AVX2 / AVX-512", f"{_yes(features['avx2'])} / {_yes(features['avx512'])}"),
        ("  int8 dot products", _yes(features["int8_dot_products"])
         + ("" if features["int8_dot_products"] else " (int8 would be slower than float)")),
        ("  native bf16", _yes(features["native_bf16"])
         + ("" if features["native_bf16"] else " (VGG19 runs in fp32)")),
        ("device (auto)", report.device),
        *((f"precision (auto), {mode}", choice) for mode, choice in report.precision.items()),
        ("packages", ""),
        *((f"  {name}", version or "not installed") for name, version in report.packages.items()),
        *((f"{place.replace('_', ' ')}", path) for place, path in report.places.items()),
    ]  # fmt: skip
    width = max(len(label) for label, _ in rows)
    print("\n".join(f"{label:<{width}}  {value}".rstrip() for label, value in rows))
    for note in report.notes:
        print(f"note: {note}")
    return EXIT_OK


def _yes(flag: bool) -> str:
    return "yes" if flag else "no"
