"""`styler train-instant`: train the instant-mode decoders, resumable.

A thin face over styler.instant.train.train_levels: each level trains within its budget
(steps, minutes) and the folder's manifest is rewritten after each, so the folder can be
used at once with STYLER_INSTANT_DIR. The default output is a folder of the user's, never
the shipped decoders.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from styler.cli.batch import cancel_on_interrupt
from styler.cli.common import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_OK, UsageError, say
from styler.device import use_all_cores
from styler.instant.train import BUDGETS, FINE_TUNE, DecoderTrainConfig, train_levels
from styler.progress import CancelToken

DEFAULT_OUT = Path("instant-decoders")
_TRAINING = DecoderTrainConfig.__dataclass_fields__  # the trainer's own defaults, quoted
PAINTING_SHARE = _TRAINING["painting_share"].default
CHECKPOINT_EVERY = _TRAINING["checkpoint_every"].default
BUDGET_TEXT = ", ".join(f"{level} {steps} steps / {minutes:g} min"
                        for level, (steps, minutes) in BUDGETS.items())  # fmt: skip

FINE_TUNE_TEXT = ", ".join(f"{level} {steps} steps / {minutes:g} min"
                           for level, (steps, minutes, _) in FINE_TUNE.items())  # fmt: skip

EPILOG = f"""\
Examples:
  styler train-instant --data photos/train --val photos/val --styles photos/train procedural/
  styler train-instant --data train/ --val val/ --minutes-scale 2   # reconstruction only
  styler train-instant --data train/ --val val/ --resume     # continue after a stop
  STYLER_INSTANT_DIR={DEFAULT_OUT} styler stylize a.jpg --style p.jpg --instant

Each level trains until its steps or its minutes run out:
  {BUDGET_TEXT}
then, with --styles, fine-tunes for stylization: {FINE_TUNE_TEXT}
Every evaluation prints one line and the best decoder so far is written to
OUT/decoder_<level>.safetensors, a checkpoint every {CHECKPOINT_EVERY} steps, so --resume
loses little. Ctrl-C stops after the current step, checkpointed.
"""


def add_parser(subparsers: Any, summary: str) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "train-instant",
        help=summary,
        description="Train the decoders of instant mode: each first learns to turn VGG19 "
        "features back into the image, then (with --styles) to paint whitening-coloured "
        "features so the image takes the style's statistics; any image serves as a style.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--levels",
        nargs="+",
        choices=list(BUDGETS),
        default=list(BUDGETS),
        metavar="LEVEL",
        help=f"decoders to train, in order (default: all: {' '.join(BUDGETS)})",
    )
    parser.add_argument(
        "-o",
        "--out",
        type=Path,
        default=DEFAULT_OUT,
        metavar="DIR",
        help="where the decoders, their logs and the manifest go (default: %(default)s; "
        "the shipped decoders are never overwritten unless named here)",
    )
    parser.add_argument(
        "--data",
        nargs="+",
        required=True,
        metavar="DIR",
        help="folders of training images: photos first, then any folders of paintings, "
        f"which give {PAINTING_SHARE:.0%}% of the crops",
    )
    parser.add_argument("--val", required=True, metavar="DIR", help="folder of validation photos")
    parser.add_argument(
        "--styles",
        nargs="+",
        metavar="DIR",
        help="folders of style images (photos count too: any image has statistics); with "
        f"them, {' '.join(FINE_TUNE)} is then fine-tuned to paint their statistics",
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue each level from its checkpoint"
    )
    parser.add_argument(
        "--minutes-scale",
        type=_positive,
        default=1.0,
        metavar="X",
        help="multiply every level's minute budget (default: %(default)s)",
    )
    return parser


def _positive(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"must be a number, got {text!r}") from None
    if not value > 0:
        raise argparse.ArgumentTypeError(f"must be above 0, got {text!r}")
    return value


def report(record: dict) -> None:
    """One line per evaluation: level, step, time, validation errors, * for a new best."""
    terms = " ".join(f"{name} {value:.4f}" for name, value in record["val"].items())
    say(
        f"{record['level']} step {record['step']:5d} {record['elapsed']:7.0f}s val {terms}"
        f"{' (best, saved)' if record['best'] else ''}"
    )


def run(args: argparse.Namespace) -> int:
    for folder in (*args.data, args.val, *(args.styles or [])):
        if not Path(folder).is_dir():
            raise UsageError(f"{folder}: no such folder")
    use_all_cores()
    token = CancelToken()
    with cancel_on_interrupt(token):
        train_levels(
            args.levels,
            args.out,
            args.data,
            args.val,
            styles=args.styles,
            minutes_scale=args.minutes_scale,
            resume=args.resume,
            on_eval=report,
            should_stop=lambda: token.cancelled,
        )
    if token.cancelled:
        say(f"interrupted: checkpoints are in {args.out}; rerun with --resume to continue")
        return EXIT_INTERRUPTED
    missing = [level for level in args.levels
               if not (Path(args.out) / f"decoder_{level}.safetensors").is_file()]  # fmt: skip
    if missing:  # a budget too short for one evaluation: there is no best decoder to keep
        say(f"error: no decoder for {', '.join(missing)} was saved: its time ran out before "
            f"its first evaluation; give it more (--minutes-scale) and rerun with --resume")
        return EXIT_FAILED
    say(f"decoders in {args.out}; use them with STYLER_INSTANT_DIR={args.out}")
    return EXIT_OK
