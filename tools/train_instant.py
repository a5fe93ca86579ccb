"""Train the instant-mode decoders one level after another, resumable.

    python tools/train_instant.py [--levels relu1_1 relu4_1 ...] [--resume] [--out weights/instant]

Each level trains until its step count or its minute budget (styler.instant.train.BUDGETS),
writes weights/instant/decoder_<level>.safetensors (best validation loss), its log and the
manifest; --resume continues every level from its checkpoint. `styler train-instant` runs
the same training for an installed package (its --data and --val are required).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from styler.instant.train import BUDGETS, train_levels

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


PROCEDURAL = ROOT / "out" / "procedural"
PROCEDURAL_SEEDS = range(100, 104)  # the shipped gallery styles use other seeds


def paint_procedural(folder: Path) -> None:
    """More procedural styles from gallery/make_styles.py (swirls, mosaic, waves) and new seeds:
    original works, so the stylization fine-tuning sees no painting of the benchmarks."""
    if folder.is_dir() and any(folder.iterdir()):
        return
    sys.path.insert(0, str(ROOT / "gallery"))
    import make_styles
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for name in ("swirls", "mosaic", "waves"):
        for seed in PROCEDURAL_SEEDS:
            image = getattr(make_styles, name)(seed)
            Image.fromarray(image).save(folder / f"{name}_{seed}.jpg", quality=92)


def report(record: dict) -> None:
    terms = " ".join(f"{name} {value:.4f}" for name, value in record["val"].items())
    print(
        f"{record['level']} step {record['step']:5d} {record['elapsed']:7.0f}s val {terms}"
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
    parser.add_argument(
        "--styles",
        nargs="+",
        default=[str(DATA / "train"), "/tmp/procedural", str(ROOT / "gallery" / "styles")],
        help="style folders for the fine-tuning (photos, procedural styles)",
    )
    parser.add_argument("--minutes-scale", type=float, default=1.0, help="scale every budget")
    parser.add_argument("--resume", action="store_true")
    args = parser.parse_args()
    if str(PROCEDURAL) in args.styles:
        paint_procedural(PROCEDURAL)
    train_levels(
        args.levels,
        args.out,
        args.data,
        args.val,
        styles=args.styles,
        minutes_scale=args.minutes_scale,
        resume=args.resume,
        on_eval=report,
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
