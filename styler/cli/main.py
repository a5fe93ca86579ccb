"""The `styler` command: parse, dispatch to a sub-command module, turn errors into one line.

Only the sub-command that runs is imported (the others are listed by name and summary), so
a command starts without what it does not need: `styler stylize --fast` without PyTorch
(docs/performance.md, "Start-up").
"""

from __future__ import annotations

import argparse
import importlib
import os
import select
import sys
from collections.abc import Sequence
from typing import cast

from styler.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_USAGE,
    Command,
    error_text,
    failure_text,
    say_traceback,
    set_debug,
)
from styler.errors import StylerError
from styler.settings import styler_version

# Each sub-command: its module (which provides add_parser(subparsers, summary) and
# run(args) -> int) and the summary `styler --help` lists it with.
COMMANDS: dict[str, tuple[str, str]] = {
    "stylize": ("stylize_cmd", "stylize image files and folders with one or more style images"),
    "evaluate": ("evaluate_cmd", "measure how close an output is to its style and content images"),
    "train": ("train_cmd", "train or fine-tune a fast-mode style network"),
    "train-instant": ("train_instant_cmd", "train the instant-mode decoders"),
    "styles": ("styles_cmd", "list the fast-mode styles (shipped and your own)"),
    "export": ("export_cmd", "export a fast-mode network or instant mode (ONNX)"),
    "fuse": ("fuse_cmd", "blend photos through a mask, fuse exposure brackets, stack focus series"),
    "ui": ("ui_cmd", "start the web UI (Gradio) in this machine's browser"),
    "info": ("info_cmd", "what this machine runs styler as: CPU, device, precisions, packages"),
}


def command_module(name: str) -> Command:
    return cast(Command, importlib.import_module(f"styler.cli.{COMMANDS[name][0]}"))

# Failures whose message says it all; anything else is a bug: one line, and its traceback
# under --debug (or STYLER_DEBUG=1).
EXPECTED_ERRORS = (StylerError, OSError)
EXIT_READER_GONE = 141  # stdout's reader went away (`| head`): as shells report SIGPIPE

EPILOG = """\
Examples:
  styler stylize photo.jpg --style starry.jpg          # -> styled/photo__starry.png
  styler stylize photos/ --recursive --style starry.jpg -o out/ --size 1024
  styler stylize photos/ --style starry.jpg --instant  # any painting, one pass a photo
  styler evaluate styled/photo__starry.png --content photo.jpg --style starry.jpg

Run 'styler COMMAND --help' for a command's options and more examples.
"""


def build_parser(only: str | None = None) -> argparse.ArgumentParser:
    """The whole parser, or with `only` that sub-command's options in full and the others by
    name and summary (enough for `styler --help` and for argparse's own errors; "" lists
    them all so)."""
    parser = argparse.ArgumentParser(
        prog="styler",
        description="Neural style transfer: repaint photos in the style of other images.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"styler {styler_version()}")
    parser.add_argument(
        "--debug",
        action="store_true",
        help="print the traceback of every failure, for bug reports (or set STYLER_DEBUG=1)",
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, (_, summary) in COMMANDS.items():
        if only is None or name == only:
            command_module(name).add_parser(subparsers, summary)
        else:
            subparsers.add_parser(name, help=summary)
    for command in subparsers.choices.values():  # also after the command: where errors say it
        command.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                             help=argparse.SUPPRESS)  # fmt: skip
    return parser


def _command_in(argv: Sequence[str]) -> str:
    """The sub-command argv names: its first word that is not an option (the top-level
    options take no value), or "" when there is none."""
    first = next((arg for arg in argv if not arg.startswith("-")), "")
    return first if first in COMMANDS else ""


def main(argv: Sequence[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        args = build_parser(_command_in(argv)).parse_args(argv)  # loads the command's module
        set_debug(args.debug)
        return command_module(args.command).run(args)
    except EXPECTED_ERRORS as exc:
        if isinstance(exc, BrokenPipeError) and _reader_gone():
            return EXIT_READER_GONE
        say_traceback(exc)
        print(f"styler: error: {error_text(exc)}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("styler: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except Exception as exc:  # a bug: one line (the traceback under --debug), as Python's 1
        say_traceback(exc)
        print(f"styler: error: {failure_text(exc)}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        set_debug(False)  # main() may run again in this process (tests)


def _reader_gone() -> bool:
    """Whether the broken pipe is stdout's (`styler styles --json | head` read what it
    wanted: the pipe's write end polls as an error): then stdout goes to the null device, so
    that Python's flush at exit is quiet too, and the command ends without a word, as the
    shell's own tools do."""
    try:
        out = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return False
    if not hasattr(select, "poll"):  # Windows
        return False
    poller = select.poll()
    poller.register(out, select.POLLOUT)
    if not any(events & select.POLLERR for _, events in poller.poll(0)):
        return False
    os.dup2(os.open(os.devnull, os.O_WRONLY), out)
    return True


if __name__ == "__main__":
    sys.exit(main())
