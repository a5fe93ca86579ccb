"""Train instant mode's student encoder against VGG19's relu4_1 (styler.instant.distill).

    python tools/distill_encoder.py [--out FILE] [--steps N] [--minutes M] [--resume]
                                    [--init FILE] [--learning-rate R] [--widths 16,16,...]

Data: ../shared/data's training photos, and as paintings the procedural styles of
tools/train_instant.py (painted into out/procedural when missing) and the gallery's; the
last 16 validation photos score it. The best student is written to FILE (default
runs/student/student_relu4_1.safetensors) with its log beside it; a checkpoint every 100
steps lets `--resume` continue exactly after a stop or a kill.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # this checkout's styler, installed or not
    sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from train_instant import DATA, PROCEDURAL, paint_procedural  # noqa: E402

from styler.instant.distill import EncoderDistillConfig, EncoderDistiller  # noqa: E402

STUDENT_FILE = "student_relu4_1.safetensors"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=ROOT / "runs" / "student" / STUDENT_FILE)
    parser.add_argument("--steps", type=int, default=4000, help="(default: %(default)s)")
    parser.add_argument("--minutes", type=float, default=None, help="time budget")
    parser.add_argument("--learning-rate", type=float, default=1e-3, help="(default: %(default)s)")
    parser.add_argument("--init", type=Path, help="a student file to continue from")
    parser.add_argument("--widths", help="output channels of the 9 convolutions, commas")
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    args = parser.parse_args()
    paint_procedural(PROCEDURAL)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    config = EncoderDistillConfig(
        data=[str(DATA / "train"), str(PROCEDURAL), str(ROOT / "gallery" / "styles")],
        val=str(DATA / "val"),
        output=str(args.out),
        steps=args.steps,
        max_minutes=args.minutes,
        learning_rate=args.learning_rate,
        init_from=str(args.init) if args.init else None,
        **({"widths": tuple(int(w) for w in args.widths.split(","))} if args.widths else {}),
    )
    trainer = EncoderDistiller(config, resume=args.resume)
    state = trainer.run(on_eval=lambda record: print(record, flush=True))
    print(f"step {state.step}, best validation error {state.best_val:.4f} "
          f"at step {state.best_step}: {args.out}")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
