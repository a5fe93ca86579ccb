"""Train the shipped instant-mode decoders: `styler train-instant` with this project's data.

    python tools/train_instant.py [--levels relu4_1 ...] [--resume] [--minutes-scale X]
    python tools/train_instant.py continue FILE --out DIR [--steps N] [--minutes M]
                                  [--learning-rate R] [--encoder STUDENT] [--resume]
                                  [--thinner DIVISOR] [--crop PX] [--batch N] [--shift W]
                                  [--deep W]

Paints the procedural styles the fine-tuning uses (gallery/make_styles.py with seeds the
gallery does not ship) into out/procedural, then runs `styler train-instant` on
../shared/data's train and val photos into weights/instant; any other option is passed
through to it (see `styler train-instant --help`). `continue` runs one more stylization
fine-tuning from a decoder file (a warm restart of the learning rate) into DIR, with the
same data: how the shipped decoder's last stage was made. `--encoder` fine-tunes it on a
student encoder's features (tools/distill_encoder.py) instead of VGG19's. `--thinner`
distils a thinner decoder from FILE: FILE's filters pruned to that width divisor, then
trained on the same objective plus matching FILE's pictures. `--shift` adds the shift
term (styler.shift_term): the decoder learns to paint a photo moved by a few pixels moved,
for steadier video. `--deep` weighs relu5_1's Gram term against each other level's 1.
"""

from __future__ import annotations

import argparse
import io
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # this checkout's styler, installed or not
    sys.path.insert(0, str(ROOT))

from styler.cli.main import main as styler_main  # noqa: E402
from styler.cli.train_instant_cmd import report  # noqa: E402
from styler.imageio import atomic_write_bytes  # noqa: E402
from styler.instant.train import DecoderTrainConfig, fine_tune_decoder  # noqa: E402
from styler.instant.weights import read_decoder, write_manifest  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
PROCEDURAL = ROOT / "out" / "procedural"
PROCEDURAL_SEEDS = range(100, 104)  # the shipped gallery styles use other seeds


def paint_procedural(folder: Path) -> None:
    """Original procedural paintings (swirls, mosaic, waves): style images the fine-tuning
    may see, so no painting of the benchmarks enters training."""
    wanted = {folder / f"{name}_{seed}.jpg": (name, seed)
              for name in ("swirls", "mosaic", "waves") for seed in PROCEDURAL_SEEDS}  # fmt: skip
    missing = {path: how for path, how in wanted.items() if not path.is_file()}
    if not missing:
        return
    sys.path.insert(0, str(ROOT / "gallery"))
    import make_styles
    from PIL import Image

    folder.mkdir(parents=True, exist_ok=True)
    for path, (name, seed) in missing.items():  # each whole or not at all: a kill leaves none half
        encoded = io.BytesIO()
        Image.fromarray(getattr(make_styles, name)(seed)).save(encoded, "JPEG", quality=92)
        atomic_write_bytes(path, encoded.getvalue())


def continue_fine_tuning(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(prog="train_instant.py continue")
    parser.add_argument("decoder", type=Path, help="the decoder file to fine-tune further")
    parser.add_argument("--out", type=Path, required=True, help="folder for the new decoder")
    parser.add_argument("--steps", type=int, default=4000, help="(default: %(default)s)")
    parser.add_argument("--minutes", type=float, default=65, help="budget (default: %(default)s)")
    parser.add_argument(
        "--learning-rate", type=float, default=2e-4, help="peak rate (default: %(default)s)"
    )
    parser.add_argument("--resume", action="store_true", help="continue from the checkpoint")
    parser.add_argument(
        "--encoder", type=Path, help="a student encoder file whose features the decoder takes"
    )
    parser.add_argument(
        "--thinner", type=int, help="distil a decoder of this width divisor from the file"
    )
    parser.add_argument(
        "--crop",
        type=int,
        default=DecoderTrainConfig.crop,
        help="crop side (default: %(default)s px)",
    )
    parser.add_argument(
        "--batch",
        type=int,
        default=DecoderTrainConfig.batch,
        help="crops a step (default: %(default)s)",
    )
    parser.add_argument(
        "--shift",
        type=float,
        default=0.0,
        help="weight of the shift term: a moved photo painted moved (default: %(default)s)",
    )
    parser.add_argument(
        "--deep",
        type=float,
        default=1.0,
        help="weight of relu5_1's Gram term against each other level's 1 (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    level = read_decoder(args.decoder)[1]["level"]
    args.out.mkdir(parents=True, exist_ok=True)
    fine_tune_decoder(
        args.decoder,
        args.out / f"decoder_{level}.safetensors",
        [str(DATA / "train")],
        str(DATA / "val"),
        [str(DATA / "train"), str(PROCEDURAL), str(ROOT / "gallery" / "styles")],
        steps=args.steps,
        minutes=args.minutes,
        learning_rate=args.learning_rate,
        resume=args.resume,
        encoder=args.encoder,
        thinner=args.thinner,
        crop=args.crop,
        batch=args.batch,
        shift=args.shift,
        deep=args.deep,
        on_eval=report,
    )
    write_manifest(args.out)
    return 0


def main() -> int:
    if not {"-h", "--help"} & set(sys.argv[1:]):  # help is read before any painting
        paint_procedural(PROCEDURAL)
    if sys.argv[1:2] == ["continue"]:
        return continue_fine_tuning(sys.argv[2:])
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
