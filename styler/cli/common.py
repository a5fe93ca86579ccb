"""What every sub-command shares: exit codes, the command protocol and one-line messages."""

from __future__ import annotations

import argparse
import sys
from typing import Any, Protocol

from tqdm import tqdm

from styler.errors import StylerError

EXIT_OK = 0
EXIT_FAILED = 1  # some inputs failed, the rest were done
EXIT_USAGE = 2  # nothing was attempted: bad command line, options, styles or weights
EXIT_INTERRUPTED = 130  # Ctrl-C, as shells report SIGINT


class Command(Protocol):
    """A sub-command module: main.py dispatches to it by name, so adding one is one dict entry."""

    def add_parser(self, subparsers: Any) -> argparse.ArgumentParser: ...

    def run(self, args: argparse.Namespace) -> int: ...


class UsageError(StylerError):
    """The command line cannot be acted on (no inputs, a missing path): exit code 2."""


def error_text(exc: BaseException) -> str:
    """One line for an expected failure; OSError's own text carries '[Errno N]' noise."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{exc.filename}: {exc.strerror}"
    return " ".join(str(exc).split()) or type(exc).__name__


def say(text: str, *, stdout: bool = False) -> None:
    """Print a line without tearing the progress bars; messages go to stderr, results to stdout."""
    stream = sys.stdout if stdout else sys.stderr
    tqdm.write(text, file=stream)
    stream.flush()  # consumers of stdout may act on each path as it is written
