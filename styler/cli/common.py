"""What every sub-command shares: exit codes, the command protocol and one-line messages."""

from __future__ import annotations

import argparse
import sys
import traceback
from typing import Any, Protocol

from tqdm import tqdm

from styler.batch import failure_reason
from styler.controls import CONTROLS
from styler.engine import RecipeImageError
from styler.errors import (  # the debug switch lives in the engine; faces import it here
    InvalidOption,
    StylerError,
    UnknownOption,
    debug_enabled,
    set_debug,  # noqa: F401
)
from styler.imageio import ImageTooLarge

EXIT_OK = 0
EXIT_FAILED = 1  # some inputs failed, the rest were done
EXIT_USAGE = 2  # nothing was attempted: bad command line, options, styles or weights
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


class Command(Protocol):
    """A sub-command module: main.py dispatches to it by name, so adding one is one dict entry."""

    def add_parser(self, subparsers: Any, summary: str) -> argparse.ArgumentParser: ...

    def run(self, args: argparse.Namespace) -> int: ...


class UsageError(StylerError):
    """The command line cannot be acted on (no inputs, a missing path): exit code 2."""


def error_text(exc: BaseException) -> str:
    """One line for an expected failure, worded for the command line from the error's data;
    OSError's own text carries '[Errno N]' noise."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    if isinstance(exc, InvalidOption):
        return flag_message(exc)
    if isinstance(exc, RecipeImageError):
        return f"{exc.what} {error_text(exc.cause)}"
    if isinstance(exc, ImageTooLarge):
        return f"{exc} (raise --max-pixels to allow it)"
    return " ".join(str(exc).split()) or type(exc).__name__


def add_control_argument(parser: Any, name: str, **overrides: Any) -> None:
    """A control of styler.controls as an option of a command other than stylize (which adds
    them all): flag, help and default from the registry; `overrides` only where a command
    has its own policy (the UI server's lower pixel limit, say)."""
    control = CONTROLS[name]
    default = overrides.pop("default", control.default)
    parser.add_argument(control.flag, default=default, help=f"{control.help} (default: "
                        "%(default)s)", **overrides)  # fmt: skip


def flag_message(exc: InvalidOption) -> str:
    """'--strength must be between 0 and 1, got 2.0': the control named as its flag."""
    if isinstance(exc, UnknownOption):  # no flag to name: its own words list the known
        return str(exc)
    flag = CONTROLS[exc.name].flag if exc.name in CONTROLS else exc.name
    return f"{flag} must be {exc.expected}, got {exc.value!r}"


def say(text: str, *, stdout: bool = False) -> None:
    """Print a line without tearing the progress bars; messages go to stderr, results to stdout."""
    stream = sys.stdout if stdout else sys.stderr
    tqdm.write(text, file=stream)
    stream.flush()  # consumers of stdout may act on each path as it is written


def failure_text(exc: BaseException) -> str:
    """One line for any failure: expected ones (StylerError, OSError) as error_text words
    them, the rest as the engine words them (styler.batch.failure_reason: an internal
    error, out of memory) with a pointer to --debug."""
    if isinstance(exc, StylerError | OSError):
        return error_text(exc)
    text = failure_reason(exc)
    if isinstance(exc, MemoryError) or debug_enabled():
        return text
    return f"{text}; rerun with --debug for the traceback"


def say_traceback(exc: BaseException) -> None:
    """The failure's traceback on stderr, only in debug mode."""
    if debug_enabled():
        say("".join(traceback.format_exception(exc)).rstrip())
