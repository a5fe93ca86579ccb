"""Train the shipped fast-mode networks and write weights/manifest.json.

    python tools/build_weights.py                  # base network, then every style, resumable
    python tools/build_weights.py --only starry_night --steps 1500
    python tools/build_weights.py --only udnie --steps 800 --rebuild   # train it again
    python tools/build_weights.py --scratch starry_night --minutes 45   # the comparison run

The base network is trained once on a blend of the project's own gallery
styles; every painting is then fine-tuned from it (transfer learning). Work
files (checkpoints) live in build/weights/, training logs in docs/training/,
finished networks and their manifest in this checkout's weights/ (never in an
installed copy of styler, whatever STYLER_WEIGHTS_DIR says). Re-running skips what is
finished and resumes what was interrupted. Needs the shared data folder (../shared/data).
Runs from the checkout's own styler, installed or not.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # this checkout's styler, even where another is installed
    sys.path.insert(0, str(ROOT))

from styler.device import use_all_cores  # noqa: E402
from styler.evaluate import distances  # noqa: E402
from styler.fast.inference import FastStylizer  # noqa: E402
from styler.fast.manifest import (  # noqa: E402
    MANIFEST,
    StyleEntry,
    read_manifest,
    sha256_of,
    write_manifest,
)
from styler.fast.photo_files import image_files  # noqa: E402
from styler.fast.train import Evaluation, TrainConfig, Trainer  # noqa: E402
from styler.fast.weights import read_network  # noqa: E402
from styler.image_sizes import resize_long_side  # noqa: E402
from styler.imageio import load_image  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
WORK = ROOT / "build" / "weights"
LOGS = ROOT / "docs" / "training"
WEIGHTS = ROOT / "weights"  # the networks this tool writes, and their manifest

# The paintings of ../shared/data/styles (see SOURCES.md there).
PAINTINGS: dict[str, tuple[str, str, str]] = {
    "starry_night": ("The Starry Night", "Vincent van Gogh", "1889"),
    "the_scream": ("The Scream", "Edvard Munch", "1893"),
    "shipwreck": ("The Shipwreck", "J. M. W. Turner", "1805"),
    "vg_la_cafe": ("The Night Café", "Vincent van Gogh", "1888"),
    "vg_houses": ("Thatched Cottages in the Sunshine", "Vincent van Gogh", "1890"),
    "vg_olive": ("Olive Trees", "Vincent van Gogh", "1889"),
    "vg_wheat_field": ("Wheat Field with Cypresses", "Vincent van Gogh", "1889"),
    "wave_crop": ("The Great Wave off Kanagawa (crop)", "Katsushika Hokusai", "c. 1831"),
    "edtaonisl": ("Edtaonisl (Ecclésiastique)", "Francis Picabia", "1913"),
    "udnie": ("Udnie (Young American Girl, The Dance)", "Francis Picabia", "1913"),
}
BASE = "base"


def train_network(config: TrainConfig, name: str, publish: bool = True) -> Path:
    """Train (or resume) into build/, then publish the best network into weights/."""
    final = WEIGHTS / f"{name}.safetensors"
    trainer = Trainer(config, resume=True)

    def report(e: Evaluation) -> None:
        print(f"  {name} step {e.step} val {e.val_loss:.4f}{' *' if e.best else ''}", flush=True)

    state = trainer.run(on_eval=report)
    print(f"{name}: best val {state.best_val:.4f} at step {state.best_step}", flush=True)
    if publish:
        shutil.copyfile(config.output, final)
    LOGS.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(config.log_path(), LOGS / f"{name}.log.jsonl")
    return final


def mean_distances(network: Path, style: Path, photos: list[Path]) -> dict[str, float]:
    """`styler evaluate` distances averaged over validation photos at 512 px."""
    stylizer = FastStylizer(network, device="cpu")
    style_image = load_image(style).rgb
    scores = []
    for photo in photos:
        content = resize_long_side(load_image(photo).rgb, 512)
        out = Image.fromarray(stylizer.stylize_array(np.asarray(content)))
        d = distances(out, content, style_image)
        scores.append((d.style, d.content))
    style_mean, content_mean = np.mean(scores, axis=0)
    return {"style": round(float(style_mean), 4), "content": round(float(content_mean), 4),
            "photos": len(photos)}  # fmt: skip


def config_for(name: str, styles: list[str], base: Path | None, args: argparse.Namespace):
    return TrainConfig(
        styles=styles,
        data=str(DATA / "train"),
        val=str(DATA / "val"),
        output=str(WORK / f"{name}.safetensors"),
        base=str(base) if base else None,
        steps=args.base_steps if base is None else args.steps,
        seed=args.seed,
    )


def train_from_scratch(args: argparse.Namespace) -> int:
    """Same style and settings as its fine-tuning, but no base: the baseline of the plot."""
    name = f"{args.scratch}_scratch"
    config = config_for(name, [str(DATA / "styles" / f"{args.scratch}.jpg")], None, args)
    config.steps, config.max_minutes, config.patience = 100_000, args.minutes, 10**9
    train_network(config, name, publish=False)
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", choices=sorted(PAINTINGS), help="styles to build")
    parser.add_argument(
        "--steps", type=int, default=1200, help="fine-tuning steps per style (shipped: 1200)"
    )
    parser.add_argument("--base-steps", type=int, default=1500)
    parser.add_argument(
        "--eval-photos",
        type=int,
        default=30,
        help="validation photos the manifest distances average over",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--scratch",
        choices=sorted(PAINTINGS),
        help="instead: train this style from scratch, for the transfer plot",
    )
    parser.add_argument("--minutes", type=float, default=45, help="time limit of --scratch")
    parser.add_argument(
        "--rebuild",
        action="store_true",
        help="train the --only styles again from the base, discarding their earlier run",
    )
    args = parser.parse_args()
    if args.rebuild and not args.only:
        parser.error("--rebuild retrains the styles named by --only; name them")
    if not DATA.is_dir():
        print(f"needs the shared data folder at {DATA}", file=sys.stderr)
        return 2
    use_all_cores()
    WORK.mkdir(parents=True, exist_ok=True)
    if args.scratch:
        return train_from_scratch(args)
    entries = {e.name: e for e in read_manifest(manifest_path())}
    if args.rebuild:
        for name in args.only or []:
            entries.pop(name, None)
            for work_file in WORK.glob(f"{name}.*"):  # checkpoint, log, network
                work_file.unlink()
    base_path = WEIGHTS / f"{BASE}.safetensors"
    if BASE not in entries:
        gallery = sorted(str(p) for p in (ROOT / "gallery" / "styles").glob("*.jpg"))
        base_path = train_network(config_for(BASE, gallery, None, args), BASE)
        entries[BASE] = _entry(BASE, base_path, ("Base network", "styler", ""), None, base=True)
        write_manifest(_in_painting_order(entries), manifest_path())
    # The first val_count photos steer early stopping; score on the ones after them.
    skip = TrainConfig.val_count
    photos = image_files(DATA / "val")[skip : skip + args.eval_photos]
    for name in args.only or list(PAINTINGS):
        if name in entries:
            continue
        style = DATA / "styles" / f"{name}.jpg"
        path = train_network(config_for(name, [str(style)], base_path, args), name)
        scores = mean_distances(path, style, photos)
        entries[name] = _entry(name, path, PAINTINGS[name], scores)
        write_manifest(_in_painting_order(entries), manifest_path())
        print(f"{name}: {scores}", flush=True)
    return 0


def manifest_path() -> Path:
    """The manifest beside the networks this tool writes (not styler's weights_dir(), which
    is an installed package's folder, or STYLER_WEIGHTS_DIR, when there is one)."""
    return WEIGHTS / MANIFEST


def _in_painting_order(entries: dict[str, StyleEntry]) -> list[StyleEntry]:
    """The base first, then the paintings as PAINTINGS lists them (rebuilt ones included)."""
    order = [BASE, *PAINTINGS]
    return sorted(entries.values(), key=lambda e: order.index(e.name) if e.name in order else 99)


def _entry(name, path: Path, meta, scores, base: bool = False) -> StyleEntry:
    _, info = read_network(path)
    title, artist, year = meta
    return StyleEntry(
        name=name,
        file=path.name,
        sha256=sha256_of(path),
        title=title,
        artist=artist,
        year=year,
        base=base,
        training=info,
        distances=scores or {},
    )


if __name__ == "__main__":
    sys.exit(main())
