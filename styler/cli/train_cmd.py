"""`styler train`: train or fine-tune a fast-mode style network, resumable."""

from __future__ import annotations

import argparse
from typing import Any

from tqdm import tqdm

from styler.cli.common import EXIT_OK, add_control_argument, say
from styler.device import use_all_cores
from styler.fast.train import Evaluation, TrainConfig, Trainer

# TrainConfig fields exposed one to one as --options of the same name.
INT_OPTIONS = ("steps", "batch", "crop", "warmup", "eval_every", "checkpoint_every", "patience",
               "val_count", "style_size", "seed")  # fmt: skip
FLOAT_OPTIONS = ("learning_rate", "content_weight", "style_weight", "tv_weight",
                 "freeze_fraction", "max_minutes", "clip")  # fmt: skip

EPILOG = """\
Examples:
  styler train --style starry.jpg --data photos/train --val photos/val \\
      --from weights/base.safetensors -o weights/starry.safetensors
  styler train --style starry.jpg --data train/ --val val/ -o starry.safetensors --resume
  styler train --style a.jpg b.jpg c.jpg --data train/ --val val/ -o base.safetensors

Every --eval-every steps the validation loss is logged to OUTPUT.log.jsonl and the
best network so far is written to OUTPUT; a checkpoint (OUTPUT.ckpt) is written
every --checkpoint-every steps, so --resume loses at most that many steps.
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    defaults = TrainConfig(styles=[], data="", val="", output="")
    parser = subparsers.add_parser(
        "train",
        help="train or fine-tune a fast-mode style network",
        description="Train a feed-forward style network with the perceptual loss.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--style",
        nargs="+",
        required=True,
        metavar="IMAGE",
        help="style image(s); several are blended (see --style-blend)",
    )
    parser.add_argument("--style-blend", nargs="+", type=float, metavar="W")
    parser.add_argument("--data", required=True, metavar="DIR", help="folder of training photos")
    parser.add_argument("--val", required=True, metavar="DIR", help="folder of validation photos")
    parser.add_argument("-o", "--output", required=True, metavar="NET.safetensors")
    parser.add_argument(
        "--from",
        dest="base",
        metavar="NET",
        help="fine-tune from this base network (transfer learning)",
    )
    parser.add_argument(
        "--resume", action="store_true", help="continue from OUTPUT.ckpt if it exists"
    )
    for names, kind in ((INT_OPTIONS, int), (FLOAT_OPTIONS, float)):
        for name in names:
            parser.add_argument(
                f"--{name.replace('_', '-')}",
                type=kind,
                default=getattr(defaults, name),
                help="default: %(default)s",
            )
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
    tuning = {name: getattr(args, name) for name in (*INT_OPTIONS, *FLOAT_OPTIONS)}
    config = TrainConfig(styles=args.style, blend=args.style_blend, data=args.data, val=args.val,
                         output=args.output, base=args.base, device=args.device,
                         bf16=args.bf16, **tuning)  # fmt: skip
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
    say(f"best val {state.best_val:.4f} at step {state.best_step}; network in {config.output}")
    return EXIT_OK
