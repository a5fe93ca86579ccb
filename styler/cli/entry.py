"""The `styler` command's entry point: light, so that a Ctrl-C while the command line's
modules load (numpy, Pillow, the engine: half a second) ends as one during a run does, with
one line, not a traceback from inside an import."""

from __future__ import annotations

import importlib
import sys

EXIT_INTERRUPTED = 130  # as styler.cli.common's: that module is among those being loaded


def main() -> int:
    try:
        command_line = importlib.import_module("styler.cli.main")
    except KeyboardInterrupt:
        print("styler: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    return command_line.main()
