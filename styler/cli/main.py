"""The `styler` command: parse, dispatch to a sub-command module, turn errors into one line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from styler.cli import (
    evaluate_cmd,
    export_cmd,
    fuse_cmd,
    styles_cmd,
    stylize_cmd,
    train_cmd,
    train_instant_cmd,
    ui_cmd,
)
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

# Each module provides add_parser(subparsers) and run(args) -> int.
COMMANDS: dict[str, Command] = {
    "stylize": stylize_cmd,
    "evaluate": evaluate_cmd,
    "train": train_cmd,
    "train-instant": train_instant_cmd,
    "styles": styles_cmd,
    "export": export_cmd,
    "fuse": fuse_cmd,
    "ui": ui_cmd,
}

# Failures whose message says it all; anything else is a bug: one line, and its traceback
# under --debug (or STYLER_DEBUG=1).
EXPECTED_ERRORS = (StylerError, OSError)

EPILOG = """\
Examples:
  styler stylize photo.jpg --style starry.jpg          # -> styled/photo__starry.png
  styler stylize photos/ --recursive --style starry.jpg -o out/ --size 1024
  styler stylize photos/ --style starry.jpg --instant  # any painting, one pass a photo
  styler evaluate styled/photo__starry.png --content photo.jpg --style starry.jpg

Run 'styler COMMAND --help' for a command's options and more examples.
"""


def build_parser() -> argparse.ArgumentParser:
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
    for command in COMMANDS.values():
        command.add_parser(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    set_debug(args.debug)
    try:
        return COMMANDS[args.command].run(args)
    except EXPECTED_ERRORS as exc:
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


if __name__ == "__main__":
    sys.exit(main())
