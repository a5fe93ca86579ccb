"""Distill a shipped fast style into its int8-friendly twin (styler.fast.distill).

    python tools/distill_fast.py udnie --style-weight 1.15   # train (resumes if stopped)
    python tools/distill_fast.py udnie --ship                # copy the best twin to weights/int8/
    python tools/quantize_weights.py --only udnie            # then quantize and measure it

Runs in the background happily: a checkpoint every 50 steps under runs/distill/NAME/, and
running the same command again continues from it. Needs the shared data folder. The
defaults are what the shipped twins were trained with (docs/fast_mode.md, "Int8").
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # this checkout's styler, even where another is installed
    sys.path.insert(0, str(ROOT))

from styler.fast.distill import TwinTrainer, average_statistics, folded_twin  # noqa: E402
from styler.fast.inference import load_network  # noqa: E402
from styler.fast.photo_files import image_files  # noqa: E402
from styler.fast.train import TrainConfig  # noqa: E402
from styler.fast.twin import read_twin, twin_shell  # noqa: E402
from styler.imageio import load_image  # noqa: E402
from styler.int8_models import int8_dir, twin_log_name, twin_name  # noqa: E402
from styler.onnx_models import parameters_digest  # noqa: E402
from styler.tensors import to_tensor  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
STATISTICS_PHOTOS = 48  # whole training photos the folded normalisation is averaged over
# The style's own training settings that the twin's run keeps (weights/manifest.json).
KEPT = ("batch", "crop", "style_size", "content_weight", "style_weight", "tv_weight", "seed")


def work_dir(name: str) -> Path:
    return ROOT / "runs" / "distill" / name


def train_config(name: str, info: dict, args: argparse.Namespace) -> TrainConfig:
    settings = {k: v for k, v in info["settings"].items() if k in KEPT}
    if args.style_weight is not None:
        settings["style_weight"] = args.style_weight
    return TrainConfig(
        styles=[str(DATA / "styles" / style) for style in info["styles"]],
        data=str(DATA / "train"),
        val=str(DATA / "val"),
        output=str(work_dir(name) / "twin.safetensors"),
        steps=args.steps,
        learning_rate=args.learning_rate,
        max_minutes=args.minutes,
        patience=1000,  # the anchor moves the validation loss slowly; keep the schedule
        **settings,
    )


def distill(name: str, args: argparse.Namespace) -> None:
    _, teacher, info = load_network(name)
    teacher = teacher.float().eval()
    config = train_config(name, info, args)
    work_dir(name).mkdir(parents=True, exist_ok=True)
    resume = config.checkpoint_path().is_file()
    if resume:  # the checkpoint holds the weights: only the architecture is needed
        print(f"{name}: resuming from {config.checkpoint_path()}", flush=True)
        twin = twin_shell(teacher.config)
    elif args.init:
        twin = read_twin(args.init)
    else:
        files = image_files(config.data)[::-1][:STATISTICS_PHOTOS]
        photos = (to_tensor(load_image(path).rgb) for path in files)
        twin = folded_twin(teacher, average_statistics(teacher, photos))
    made = {"teacher": name, "teacher_digest": parameters_digest(teacher)}
    trainer = TwinTrainer(config, teacher, twin, args.anchor, made, resume=resume,
                          shift_weight=args.shift)  # fmt: skip

    def on_eval(e) -> None:  # noqa: ANN001 (styler.fast.train.Evaluation)
        terms = ", ".join(f"{k} {v:.4f}" for k, v in e.val_terms.items())
        print(f"{name} step {e.step}: {terms}, {e.elapsed:.0f} s", flush=True)

    state = trainer.run(on_eval=on_eval)
    if state.step % config.eval_every:  # stopped by --minutes between evaluations
        on_eval(trainer.evaluate(float("nan")))


def ship(name: str) -> None:
    work = work_dir(name)
    shutil.copyfile(work / "twin.safetensors", int8_dir() / twin_name(name))
    shutil.copyfile(work / "twin.log.jsonl", int8_dir() / twin_log_name(name))
    print(f"{name}: {int8_dir() / twin_name(name)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="+", help="shipped fast styles")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--minutes", type=float, default=None, help="stop after this long")
    parser.add_argument("--learning-rate", type=float, default=3e-4)
    parser.add_argument("--anchor", type=float, default=1.0, help="weight of the teacher's picture")
    parser.add_argument("--style-weight", type=float, help="instead of the teacher's: the frozen "
                        "trunk paints a little less style at the same weight")  # fmt: skip
    parser.add_argument("--shift", type=float, default=0.0, help="weight of the shift term: "
                        "a photo moved by 1-7 px painted moved (steadier video)")  # fmt: skip
    parser.add_argument("--init", type=Path, help="start from this twin, not the folded teacher")
    parser.add_argument("--ship", action="store_true", help="copy the best twin to weights/int8")
    args = parser.parse_args()
    for name in args.names:
        if args.ship:
            ship(name)
        else:
            distill(name, args)


if __name__ == "__main__":
    main()
