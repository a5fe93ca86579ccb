"""Train the instant-mode decoders one level after another, resumable.

    python tools/train_instant.py [--levels relu1_1 relu4_1 ...] [--resume] [--out weights/instant]

Each level trains until its step count or its minute budget (styler.instant.train.BUDGETS),
writes weights/instant/decoder_<level>.safetensors (best validation loss), its log and the
manifest; --resume continues every level from its checkpoint. `styler train-instant` is
the same with the installed package's defaults.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from styler.instant.train import BUDGETS, train_levels

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def report(record: dict) -> None:
    val = record["val"]
    print(
        f"{record['level']} step {record['step']:5d} {record['elapsed']:7.0f}s "
        f"val pixel {val['pixel']:.4f} feature {val['feature']:.4f}"
        f"{' *' if record['best'] else ''}",
        flush=True,
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--levels", nargs="+", default=list(BUDGETS), choices=list(BUDGETS))
    parser.add_argument("--out", default=str(ROOT / "weights" / "instant"))
    parser.add_argument(
        "--data", nargs="+", default=[str(DATA / "train"), str(ROOT / "gallery" / "styles")]
    )
    parser.add_argument("--val", default=str(DATA / "val"))
    parser.add_argument("--minutes-scale", type=float, default=1.0, help="scale every budget")
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args()
    train_levels(
        args.levels,
        args.out,
        args.data,
        args.val,
        minutes_scale=args.minutes_scale,
        resume=args.resume,
        on_eval=report,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
