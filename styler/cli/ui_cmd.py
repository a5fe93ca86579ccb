"""`styler ui`: the web UI, a Gradio app over the same engine (needs the `ui` extra)."""

from __future__ import annotations

import argparse
import importlib.util
import socket
from pathlib import Path
from typing import Any

from styler.cli.common import EXIT_OK, UsageError, add_control_argument, say
from styler.errors import OptionsError
from styler.ui.config import (
    DEFAULT_MAX_BATCH_FILES,
    DEFAULT_MAX_UPLOAD_MB,
    UI_MAX_PIXELS,
    UIConfig,
    parse_pixels,
)

EPILOG = """\
Examples:
  styler ui                                  # http://127.0.0.1:7860, open it in a browser
  styler ui --open                           # ... and open the browser too
  styler ui --host 0.0.0.0 --port 8080       # reachable from other machines on the network
  styler ui --concurrency 2 --max-upload-pixels 24M --max-upload-mb 20
  styler ui --train-photos photos/           # Make a style offers these photos to train on

Jobs wait in a queue; each waiting user sees their place in it. By default one job runs
per device (GPU, or the CPU). The server only reads and serves files in its own temporary
folder (deleted when it stops) and in the sample gallery. Stop it with Ctrl-C.
"""


def add_parser(subparsers: Any, summary: str) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "ui",
        help=summary,
        description="Start the web UI: stylize, batch and fusion tabs in the browser.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on; 0.0.0.0 for every network interface (default: %(default)s)",
    )
    parser.add_argument(
        "--port", type=int, default=7860, help="port to listen on (default: %(default)s)"
    )
    add_control_argument(parser, "device")
    parser.add_argument(
        "--concurrency",
        type=int,
        metavar="N",
        help="jobs that run at once; the rest queue (default: one per device)",
    )
    # The server's own limit, not the engine's max_pixels control: a shared machine refuses
    # what a desktop run would take. --max-pixels is its former name.
    parser.add_argument(
        "--max-upload-pixels",
        "--max-pixels",
        dest="max_upload_pixels",
        type=_pixels,
        default=UI_MAX_PIXELS,
        metavar="N",
        help="refuse uploaded images with more pixels than this, from their header, before "
        f"decoding them; 50M or 50000000 (default: {UI_MAX_PIXELS / 1e6:g}M)",
    )
    parser.add_argument(
        "--max-upload-mb",
        type=float,
        default=DEFAULT_MAX_UPLOAD_MB,
        metavar="MB",
        help="refuse larger uploaded files (default: %(default)s)",
    )
    parser.add_argument(
        "--max-batch-files",
        type=int,
        default=DEFAULT_MAX_BATCH_FILES,
        metavar="N",
        help="most images in one batch (default: %(default)s)",
    )
    parser.add_argument(
        "--temp-dir",
        type=Path,
        metavar="DIR",
        help="where the server's temporary folder goes (default: the system's)",
    )
    parser.add_argument(
        "--train-photos",
        type=Path,
        metavar="DIR",
        help="a folder of photos the Make a style tab offers to train on",
    )
    parser.add_argument("--open", action="store_true", help="open the UI in a browser")
    return parser


def _pixels(text: str) -> int:
    """--max-upload-pixels, its reason in argparse's usage error."""
    try:
        return parse_pixels(text)
    except OptionsError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _check_places(args: argparse.Namespace) -> None:
    """Paths and the host checked before the server starts, each one usage error (Gradio
    would start without the photos, or blame a bad host on its ports)."""
    if args.train_photos is not None and not args.train_photos.is_dir():
        raise UsageError(f"--train-photos {args.train_photos}: no such folder")
    if args.temp_dir is not None and not Path(args.temp_dir).is_dir():  # was its sub-folder's
        raise UsageError(f"--temp-dir {args.temp_dir}: no such folder")
    try:
        socket.getaddrinfo(args.host, args.port)
    except (OSError, UnicodeError) as exc:
        raise UsageError(f"--host {args.host}: not an address of this machine's network "
                         f"({getattr(exc, 'strerror', None) or exc})") from None  # fmt: skip


def run(args: argparse.Namespace) -> int:
    if importlib.util.find_spec("gradio") is None:
        raise UsageError(
            "the web UI needs gradio: pip install 'styler[ui]' (or pip install gradio)"
        )
    _check_places(args)
    config = UIConfig(
        host=args.host,
        port=args.port,
        device=args.device,
        concurrency=args.concurrency,
        max_upload_pixels=args.max_upload_pixels,
        max_upload_mb=args.max_upload_mb,
        max_batch_files=args.max_batch_files,
        temp_dir=args.temp_dir,
        open_browser=args.open,
        train_photos=args.train_photos,
    )
    from styler.ui import serve

    server = serve(config, block=False)
    say(f"styler ui: running at {server.url} (Ctrl-C to stop)")
    try:
        server.wait()  # until Ctrl-C or SIGTERM
    finally:
        server.close()  # also deletes the server's temporary folder
        say("styler ui: stopped")
    return EXIT_OK
