"""How close can a fast network get to optimizer mode on one photo, if it may overfit it?

Fine-tunes the base network on a single validation photo (the first one the quality
benchmark scores, at the same 512 px scale) and scores it on that very photo as
training goes. Overfitting removes the amortisation gap: what is left between this
network and optimizer mode on the photo is what the architecture and the step budget
allow, not what generalising over many photos costs. The shipped network and optimizer
mode are scored on the same photo for reference.

    python benchmarks/probe_fast_ceiling.py [--style udnie] [--steps 1000] [--content-weight 0.2]
        [--report-every 250] [--save DIR]

Quality only, no timings, so it may share the CPU with other work (it is slower then).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from styler import FastStylizer, Stylizer
from styler.device import use_all_cores
from styler.evaluate import EVAL_SIZE, Distances, distances
from styler.fast.manifest import weights_dir
from styler.fast.photo_files import image_files
from styler.fast.train import Evaluation, TrainConfig, Trainer
from styler.image_sizes import resize_long_side
from styler.imageio import load_image
from styler.tensors import to_image, to_tensor

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def row(label: str, d: Distances, reference: Distances) -> str:
    return f"{label:28} {d.style:8.4f} {d.style / reference.style:7.2f} {d.content:9.3f}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style", default="udnie", help="a shipped style's painting")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--content-weight", type=float, default=0.2)
    parser.add_argument("--learning-rate", type=float, default=3e-3)
    parser.add_argument("--report-every", type=int, default=250)
    parser.add_argument("--save", type=Path, help="folder for the photo's three results (PNG)")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"needs the shared data folder at {DATA}", file=sys.stderr)
        return 2
    use_all_cores()
    path = image_files(DATA / "val")[TrainConfig.val_count]
    photo = resize_long_side(load_image(path).rgb, EVAL_SIZE)
    style_path = DATA / "styles" / f"{args.style}.jpg"
    style = load_image(style_path).rgb

    results = {
        "optimizer": Stylizer(device="cpu").run(photo, style).image,
        "shipped": Image.fromarray(
            FastStylizer(args.style, device="cpu").stylize_array(np.asarray(photo))
        ),
    }
    optimized = distances(results["optimizer"], photo, style)
    shipped = distances(results["shipped"], photo, style)
    print(f"{path.name} x {args.style} at {EVAL_SIZE} px; ratio = style / optimizer's style")
    print(f"{'':28} {'style':>8} {'ratio':>7} {'content':>9}")
    print(row("optimizer mode (defaults)", optimized, optimized))
    print(row("shipped network", shipped, optimized), flush=True)

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "one"
        folder.mkdir()
        (folder / path.name).symlink_to(path)
        config = TrainConfig(
            styles=[str(style_path)],
            data=str(folder), val=str(folder), output=str(Path(tmp) / "fit.safetensors"),
            base=str(weights_dir() / "base.safetensors"), steps=args.steps,
            crop=min(photo.size), batch=1, learning_rate=args.learning_rate,
            freeze_fraction=0.0, content_weight=args.content_weight,
            eval_every=args.report_every, patience=args.steps,
        )  # fmt: skip
        trainer = Trainer(config)

        def report(evaluation: Evaluation) -> None:
            with torch.no_grad():
                out = to_image(trainer.net(to_tensor(photo).to(trainer.device)).cpu())
            results["fitted"] = out
            fitted = distances(out, photo, style)
            label = f"fitted to it, step {evaluation.step}"
            print(row(label, fitted, optimized), flush=True)

        trainer.run(on_eval=report)
    if args.save:
        args.save.mkdir(parents=True, exist_ok=True)
        for label, image in results.items():
            image.save(args.save / f"{path.stem}__{args.style}__{label}.png")
    return 0


if __name__ == "__main__":
    sys.exit(main())
