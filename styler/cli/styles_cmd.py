"""`styler styles`: list the fast-mode styles, shipped and the user's own; delete one of
the user's."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from typing import Any

from styler.cli.common import EXIT_OK, say
from styler.fast.manifest import StyleEntry, read_manifest, user_styles, user_styles_dir
from styler.fast.style_jobs import (
    DONE,
    RESUMABLE,
    current_state,
    delete_style,
    job_dir,
    list_jobs,
)

EPILOG = """\
Examples:
  styler styles                      # name, painting, quality distances; unfinished trainings
  styler styles --json               # the whole manifest entry of each style
  styler styles --delete mystyle     # remove a style you made (styler train --name)
  styler stylize photo.jpg --fast starry_night
"""


def add_parser(subparsers: Any, summary: str) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "styles",
        help=summary,
        description="List the fast-mode style networks: those that ship with styler, then "
        "yours (made with `styler train --name` or the web UI's Make a style tab).",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--json", action="store_true", help="print the manifest entries")
    parser.add_argument("--delete", metavar="NAME", help="delete one of your own styles")
    return parser


def run(args: argparse.Namespace) -> int:
    if args.delete:
        delete_style(args.delete)
        say(f"deleted style {args.delete} and its training from {user_styles_dir()}")
        return EXIT_OK
    shipped = [e for e in read_manifest() if not e.base]
    own = user_styles()
    if args.json:
        print(json.dumps([asdict(e) for e in shipped + own], indent=2, ensure_ascii=False))
        return EXIT_OK
    width = max((len(e.name) for e in shipped + own), default=0)
    print("shipped styles:" if shipped else "no shipped fast-mode styles are installed")
    _print(shipped, width)
    folder = user_styles_dir()
    if own:
        print(f"your styles ({folder}):")
    else:
        print(f"no styles of your own yet (styler train --name NAME; they go in {folder})")
    _print(own, width)
    _print_unfinished()
    return EXIT_OK


def _print_unfinished() -> None:
    """Trainings that have not made their style yet (stopped, interrupted, failed, or
    running now), with how far each got: a name taken, and work to resume or delete."""
    jobs = [(job, current_state(job_dir(job.name))) for job in list_jobs()]
    unfinished = [(job, state) for job, state in jobs if state != DONE]
    if not unfinished:
        return
    print("trainings not finished (`styler train --name NAME --resume` continues a stopped one, "
          "`styler styles --delete NAME` drops it):")  # fmt: skip
    width = max(len(job.name) for job, _ in unfinished)
    for job, state in unfinished:
        how_far = f"{100 * job.done:.0f}% of {job.minutes:g} min, step {job.step}"
        action = "  (resume it)" if state in RESUMABLE else ""
        print(f"  {job.name:{width}}  {state}, {how_far}{action}")


def _print(entries: list[StyleEntry], width: int) -> None:
    for entry in entries:
        d = entry.distances
        quality = f"  style {d['style']:.3f} content {d['content']:.3f}" if d else ""
        print(f"  {entry.name:{width}}  {entry.caption()}{quality}")
