"""Train the shipped instant-mode decoders: `styler train-instant` with this project's data.

    python tools/train_instant.py [--levels relu4_1 ...] [--resume] [--minutes-scale X]

Paints the procedural styles the fine-tuning uses (gallery/make_styles.py with seeds the
gallery does not ship) into out/procedural, then runs `styler train-instant` on
../shared/data's train and val photos into weights/instant. Any other option is passed
through to it (see `styler train-instant --help`).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # this checkout's styler, installed or not
    sys.path.insert(0, str(ROOT))

from styler.cli.main import main as styler_main  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
PROCEDURAL = ROOT / "out" / "procedural"
PROCEDURAL_SEEDS = range(100, 104)  # the shipped gallery styles use other seeds


def paint_procedural(folder: Path) -> None:
    """Original procedural paintings (swirls, mosaic, waves): style images the fine-tuning
    may see, so no painting of the benchmarks enters training."""
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


def main() -> int:
    paint_procedural(PROCEDURAL)
    gallery_styles = str(ROOT / "gallery" / "styles")
    return styler_main(
        [
            "train-instant",
            "--out", str(ROOT / "weights" / "instant"),
            "--data", str(DATA / "train"), gallery_styles,
            "--val", str(DATA / "val"),
            "--styles", str(DATA / "train"), str(PROCEDURAL), gallery_styles,
            *sys.argv[1:],
        ]
    )  # fmt: skip


if __name__ == "__main__":
    sys.exit(main())
