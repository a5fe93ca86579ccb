"""`python -m styler.ui [--host ...] [--port ...]`: the same as `styler ui`."""

import argparse
import sys

from styler.cli import ui_cmd

if __name__ == "__main__":
    parser = argparse.ArgumentParser(prog="python -m styler.ui")
    subparsers = parser.add_subparsers(dest="command", required=True)
    ui_cmd.add_parser(subparsers)
    sys.exit(ui_cmd.run(parser.parse_args(["ui", *sys.argv[1:]])))
