"""`styler train`: train or fine-tune a fast-mode style network, resumable."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from tqdm import tqdm

from styler.cli.common import EXIT_FAILED, EXIT_OK, UsageError, add_control_argument, say
from styler.cli.train_named import add_named_arguments, run_named
from styler.device import use_all_cores
from styler.fast.style_jobs import FINE_TUNE_STEPS, VAL_COUNT
from styler.fast.train import Evaluation, TrainConfig, Trainer

# TrainConfig fields exposed one to one as --options of the same name.
INT_OPTIONS = ("steps", "batch", "crop", "warmup", "eval_every", "checkpoint_every", "patience",
               "val_count", "style_size", "seed")  # fmt: skip
FLOAT_OPTIONS = ("learning_rate", "content_weight", "style_weight", "tv_weight",
                 "freeze_fraction", "max_minutes", "clip")  # fmt: skip

# What a named training (--name) runs with instead (styler.fast.style_run.train_config)
NAMED_DEFAULTS = {"steps": f"{FINE_TUNE_STEPS} (the --minutes budget ends it)",
                  "val_count": VAL_COUNT}

EPILOG = """\
Examples:
  styler train --style painting.jpg --data my_photos/ --name mystyle --minutes 10
  styler train --name mystyle --resume       # a stopped or interrupted one, from its checkpoint
  styler train --style starry.jpg --data photos/train --val photos/val \\
      --from weights/base.safetensors -o weights/starry.safetensors
  styler train --style starry.jpg --data train/ --val val/ -o starry.safetensors --resume
  styler train --style a.jpg b.jpg c.jpg --data train/ --val val/ -o base.safetensors

With --name the network is fine-tuned from the shipped base for --minutes and saved in
the user styles folder ($STYLER_USER_STYLES, else the platform's data folder), where
`styler styles` lists it and `styler stylize --fast NAME` uses it. Ctrl-C stops it and keeps
the best network so far.

Every --eval-every steps the validation loss is logged to OUTPUT.log.jsonl and the
best network so far is written to OUTPUT; a checkpoint (OUTPUT.ckpt) is written
every --checkpoint-every steps, so --resume loses at most that many steps.
"""


def add_parser(subparsers: Any, summary: str) -> argparse.ArgumentParser:
    defaults = TrainConfig(styles=[], data="", val="", output="")
    parser = subparsers.add_parser(
        "train",
        help=summary,
        description="Train a feed-forward style network with the perceptual loss.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--style",
        nargs="+",
        metavar="IMAGE",
        help="style image(s); several are blended (see --style-blend)",
    )
    parser.add_argument("--style-blend", nargs="+", type=float, metavar="W",
                        help="one weight per --style image (default: equal)")
    parser.add_argument("--data", metavar="DIR", help="folder of training photos")
    parser.add_argument(
        "--val",
        metavar="DIR",
        help="folder of validation photos (with --name: default the training photos)",
    )
    parser.add_argument(
        "-o", "--output", metavar="NET.safetensors", help="where the network goes (not with --name)"
    )
    add_named_arguments(parser)
    parser.add_argument(
        "--from",
        dest="base",
        metavar="NET",
        help="fine-tune from this base network (transfer learning)",
    )
    parser.add_argument(
        "--resume",
        action="store_true",
        help="continue from OUTPUT.ckpt if it exists (with --name: the named training)",
    )
    for names, kind in ((INT_OPTIONS, int), (FLOAT_OPTIONS, float)):
        for name in names:
            # None when not given: --name runs have their own defaults (a time budget)
            own = f"; {NAMED_DEFAULTS[name]} with --name" if name in NAMED_DEFAULTS else ""
            parser.add_argument(f"--{name.replace('_', '-')}", type=kind,
                                help=f"default: {getattr(defaults, name)}{own}")  # fmt: skip
    add_control_argument(parser, "device")
    parser.add_argument(
        "--no-bf16",
        dest="bf16",
        action="store_false",
        help="keep VGG in fp32 on CPUs with native bfloat16",
    )
    parser.add_argument("-q", "--quiet", action="store_true", help="hide the progress bar")
    return parser  # fmt: skip


def run(args: argparse.Namespace) -> int:
    use_all_cores()
    tuning = {name: getattr(args, name) for name in (*INT_OPTIONS, *FLOAT_OPTIONS)
              if getattr(args, name) is not None}  # fmt: skip
    if args.name is not None:  # an empty name too: its own line says what a name takes
        return run_named(args, tuning)
    missing = [flag for flag, value in (("--style", args.style), ("--data", args.data),
               ("--val", args.val), ("-o/--output", args.output)) if not value]  # fmt: skip
    if missing:
        raise UsageError(f"{', '.join(missing)} needed (or --name NAME for a style of your own)")
    config = TrainConfig(styles=args.style, blend=args.style_blend, data=args.data, val=args.val,
                         output=args.output, base=args.base, device=args.device,
                         bf16=args.bf16, minutes=args.minutes, **tuning)  # fmt: skip
    trainer = Trainer(config, resume=args.resume)
    for skipped in trainer.data.skipped:
        say(f"warning: skipped training photo {skipped}")
    bar = tqdm(total=config.steps, initial=trainer.state.step, disable=args.quiet,
               desc="training", unit="step", dynamic_ncols=True)  # fmt: skip

    def on_step(step: int, loss: float) -> None:
        bar.update(1)
        bar.set_postfix(loss=f"{loss:.4f}", best=f"{trainer.state.best_val:.4f}")

    def on_eval(evaluation: Evaluation) -> None:
        mark = " (best, saved)" if evaluation.best else ""
        say(f"step {evaluation.step}: val {evaluation.val_loss:.4f}{mark}")

    with bar:
        state = trainer.run(on_step=on_step, on_eval=on_eval)
    if not Path(config.output).is_file():  # no evaluation yet: there is no best network
        say(f"error: no network was saved: its time ran out at step {state.step}, before its "
            f"first evaluation (step {config.eval_every}); give it more (--minutes) and rerun "
            "with --resume")  # fmt: skip
        return EXIT_FAILED
    say(f"best val {state.best_val:.4f} at step {state.best_step}; network in {config.output}")
    return EXIT_OK
