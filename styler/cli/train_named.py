"""`styler train --name NAME`: a style of the user's own, fine-tuned from the shipped base
within a time budget and saved in the user styles folder (styler.fast.style_jobs)."""

from __future__ import annotations

import argparse
import signal
from typing import Any

from tqdm import tqdm

from styler.cli.common import EXIT_INTERRUPTED, EXIT_OK, UsageError, say
from styler.controls import TRAINING_CONTROLS
from styler.fast.manifest import user_styles_dir
from styler.fast.style_jobs import DONE, JobStatus, job_dir, prepare
from styler.fast.style_run import run_job

# Options that mean nothing to a named style: it learns one painting from the base.
NOT_NAMED = (("-o/--output", "output"), ("--style-blend", "style_blend"))
# What a named training's job file fixed when it started (argument name: flag): --resume
# takes none of them.
RESUME_KEEPS = {"style": "--style", "data": "--data", "val": "--val", "base": "--from",
                "minutes": "--minutes"}  # fmt: skip


def add_named_arguments(parser: argparse.ArgumentParser) -> None:
    minutes = TRAINING_CONTROLS["minutes"]
    parser.add_argument(
        "--name", metavar="NAME",
        help="save the style under this name in the user styles folder (letters, digits, "
        "- and _), for `styler stylize --fast NAME` and the web UI",
    )  # fmt: skip
    parser.add_argument(
        minutes.flag, type=float, metavar="MIN",
        help=f"{minutes.help} (default with --name: {minutes.default:g})",
    )  # fmt: skip


def run_named(args: argparse.Namespace, tuning: dict[str, Any]) -> int:
    """Prepare (or resume) the named job, train it with a bar, report where the style is."""
    for flag, name in NOT_NAMED:
        if getattr(args, name):
            raise UsageError(f"{flag} does not go with --name")
    if args.resume:
        if not (job_dir(args.name) / "job.json").is_file():
            raise UsageError(f"there is no training of {args.name!r} to resume")
        flags = {**RESUME_KEEPS, **{name: f"--{name.replace('_', '-')}" for name in tuning}}
        given = [flag for name, flag in flags.items() if getattr(args, name) is not None]
        if given:
            raise UsageError(f"{', '.join(given)}: {args.name} resumes with the settings it "
                             f"started with; leave them out, or start afresh after "
                             f"`styler styles --delete {args.name}`")  # fmt: skip
    else:
        if not args.style or not args.data:
            raise UsageError("--style PAINTING and --data DIR are needed with --name")
        if len(args.style) > 1:
            raise UsageError("a named style learns one painting: give one --style")
        minutes = TRAINING_CONTROLS["minutes"].default if args.minutes is None else args.minutes
        TRAINING_CONTROLS["minutes"].check(minutes, "train")
        settings = {**tuning, "device": args.device, "bf16": args.bf16}
        prepare(args.name, args.style[0], args.data, minutes=minutes, val=args.val,
                base=args.base, settings=settings)  # fmt: skip
    stopping = {"asked": False}

    def interrupt(signum: int, frame: object) -> None:
        if stopping["asked"]:
            raise KeyboardInterrupt
        stopping["asked"] = True
        say("stopping: the best network so far is kept (Ctrl-C again to abandon it)")

    previous = signal.signal(signal.SIGINT, interrupt)
    bar = tqdm(total=100, disable=args.quiet, desc=args.name, unit="%", dynamic_ncols=True,
               bar_format="{l_bar}{bar}| {n:.0f}% [{elapsed}<{remaining}{postfix}]")  # fmt: skip

    def on_status(status: JobStatus) -> None:
        bar.n = round(100 * status.done, 1)
        if status.loss is not None:
            bar.set_postfix(step=status.step, loss=f"{status.loss:.4f}", refresh=False)
        bar.refresh()

    try:
        with bar:
            status = run_job(args.name, on_status=on_status, should_stop=lambda: stopping["asked"])
    finally:
        signal.signal(signal.SIGINT, previous)
    d = status.distances
    say(f"style {args.name} saved in {user_styles_dir()} after {status.step} steps "
        f"({status.elapsed / 60:.1f} min): style distance {d.get('style', float('nan')):.4f}, "
        f"content {d.get('content', float('nan')):.4f} on {d.get('photos', 0):.0f} "
        f"validation photos")  # fmt: skip
    if status.state != DONE:
        say(f"stopped early: `styler train --name {args.name} --resume` continues it")
        return EXIT_INTERRUPTED
    say(f"use it: styler stylize photo.jpg --fast {args.name}")
    return EXIT_OK
