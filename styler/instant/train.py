"""Training the instant-mode decoders, in two stages (docs/instant_mode.md, "Training").

Reconstruction: a decoder learns to turn VGG19 activations back into the image they came
from (pixel error plus feature error at every level up to its own); no style is needed.
Stylization: it is then fine-tuned on whitened-coloured features of photos towards style
images, scored by the style's Grams at every level, because a pure inverter loses much of
the transform on the way back to pixels. Style images are photos and procedural paintings
the project may redistribute; the benchmark paintings stay unseen. The loop, checkpoints
and resume are styler.training's.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from PIL import Image, ImageOps

from styler.device import autocast_dtype, resolve_device
from styler.errors import OptionsError
from styler.evaluate import EVAL_STYLE_LAYERS
from styler.fast.data import _short_side
from styler.fast.photo_files import image_files
from styler.imageio import ImageLoadError, load_image
from styler.instant.decoder import LEVELS, Decoder, DecoderConfig, pruned_from
from styler.instant.wct import feature_stats, whitening_colouring
from styler.instant.weights import read_decoder, read_student, save_decoder, write_manifest
from styler.losses import gram_matrix, relative_error
from styler.shift_term import drawn_shift, shift_error
from styler.tensors import to_tensor
from styler.training import CheckpointedTraining, FilesBesideOutput, TrainState
from styler.vgg import VGG19Features


@dataclass
class DecoderTrainConfig(FilesBesideOutput):
    """Settings of one decoder's training; recorded in its file and its log."""

    level: str
    data: list[str]  # folders of training images (photos, redistributable paintings)
    val: str
    output: str
    steps: int = 3000
    batch: int = 8
    crop: int = 128
    learning_rate: float = 5e-4
    warmup: int = 50
    feature_weight: float = 0.05  # relative feature error against squared pixel error
    eval_every: int = 100
    checkpoint_every: int = 100
    val_count: int = 16
    max_minutes: float | None = None
    seed: int = 0
    bf16: bool = True
    device: str = "auto"
    width_divisor: int = 2
    painting_share: float = 0.25  # share of crops drawn from the folders after the first
    zoom: tuple[float, float] = field(default=(1.0, 2.0))
    # "reconstruction": invert VGG19 (no style); "stylization": decode whitened-coloured
    # features so the image has the style's Gram statistics at every level (fine-tuning)
    objective: str = "reconstruction"
    styles: list[str] = field(default_factory=list)  # folders of style images (stylization)
    init_from: str | None = None  # a decoder file to fine-tune
    content_weight: float = 0.5  # stylization: decoded features against the WCT target
    # stylization: a student encoder file (styler.instant.student) that encodes the photos,
    # as it will at run time (the paintings' statistics stay VGG19's); None: VGG19's own
    encoder_from: str | None = None
    # stylization: a (wider) decoder file whose pictures this one also learns to match, with
    # this weight on the squared pixel difference: distilling a thinner decoder. Without
    # init_from it starts as the teacher pruned to width_divisor (styler.instant.decoder).
    teacher_from: str | None = None
    teacher_weight: float = 20.0
    # stylization: weight of the shift term (styler.shift_term), the decoder's picture of a
    # photo moved by a few pixels against its picture moved: steadier video
    shift_weight: float = 0.0
    # stylization: weight of the deepest level's (relu5_1's) Gram term against each other
    # level's 1, the mean taken with these weights: the decoder loses that level's
    # statistics most (docs/instant_mode.md, "Where the style distance goes")
    deep_weight: float = 1.0

    def __post_init__(self) -> None:
        if self.level not in LEVELS:
            raise OptionsError(f"level must be one of {', '.join(LEVELS)}, got {self.level!r}")
        if self.objective not in ("reconstruction", "stylization"):
            raise OptionsError(
                f"objective must be reconstruction or stylization, not {self.objective!r}"
            )
        if self.objective == "stylization" and not self.styles:
            raise OptionsError("the stylization objective needs style image folders")
        if self.teacher_from and self.objective != "stylization":
            raise OptionsError("a teacher decoder is distilled on the stylization objective")
        if self.shift_weight < 0 or (self.shift_weight and self.objective != "stylization"):
            raise OptionsError("the shift term is a weight >= 0 of the stylization objective")
        if self.deep_weight <= 0:
            raise OptionsError("the deepest level's style weight must be > 0")
        if self.steps < 1 or self.batch < 1 or not 32 <= self.crop <= 1024:
            raise OptionsError("steps and batch must be >= 1 and crop 32..1024 px")


class ReconstructionCrops:
    """Random crops at random scales: a decoder must invert strokes and details of any size."""

    def __init__(
        self, folders: list[str], crop: int, zoom: tuple[float, float], painting_share: float
    ) -> None:
        self.crop, self.zoom, self.painting_share = crop, zoom, painting_share
        self.pools = [self._load(folder, round(crop * zoom[1])) for folder in folders]

    @staticmethod
    def _load(folder: str, side: int) -> list[Image.Image]:
        images = []
        for path in image_files(folder):
            try:
                image = load_image(path).rgb
            except ImageLoadError:
                continue
            images.append(_short_side(image, side))
        if not images:
            raise FileNotFoundError(f"{folder}: none of the images could be read")
        return images

    def batch(self, size: int, rng: random.Random) -> torch.Tensor:
        return torch.cat([self._sample(rng) for _ in range(size)])

    def _sample(self, rng: random.Random) -> torch.Tensor:
        use_painting = len(self.pools) > 1 and rng.random() < self.painting_share
        pool = rng.choice(self.pools[1:]) if use_painting else self.pools[0]
        image = rng.choice(pool)
        window = min(round(self.crop * rng.uniform(*self.zoom)), *image.size)
        x, y = rng.randint(0, image.width - window), rng.randint(0, image.height - window)
        patch = image.crop((x, y, x + window, y + window))
        patch = patch.resize((self.crop, self.crop), Image.Resampling.BILINEAR)
        return to_tensor(ImageOps.mirror(patch) if rng.random() < 0.5 else patch)


def _validation_crops(folder: str, count: int, side: int) -> torch.Tensor:
    crops = []
    for path in image_files(folder)[-count:]:  # the last ones: far from any tuning set
        image = _short_side(load_image(path).rgb, side)
        left, top = (image.width - side) // 2, (image.height - side) // 2
        crops.append(to_tensor(image.crop((left, top, left + side, top + side))))
    return torch.cat(crops)


class CropTraining(CheckpointedTraining):
    """What a decoder's and the student encoder's runs share: Adam on `net` with bf16
    autocast where the CPU has it, resume, random crops of the data folders and fixed
    validation crops (the last photos of the validation folder)."""

    device: torch.device

    def _start(self, net: torch.nn.Module, resume: bool) -> None:
        config: Any = self.config
        self.amp = autocast_dtype(self.device, cpu_bf16=config.bf16)
        self.net = net.to(self.device).train()
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=config.learning_rate)
        self.state = TrainState()
        if resume:
            self._resume()
        self.data = ReconstructionCrops(
            config.data, config.crop, config.zoom, config.painting_share
        )
        self.val = _validation_crops(config.val, config.val_count, 192).to(self.device)

    def _autocast(self) -> object:
        return torch.autocast(self.device.type, dtype=self.amp) if self.amp else nullcontext()

    @torch.no_grad()
    def _validation_means(
        self, terms_of: Callable[[int, torch.Tensor], dict[str, float]]
    ) -> dict[str, float]:
        """Each term's mean over the validation crops, `terms_of(index, chunk)` per chunk of
        8, with the network in evaluation mode."""
        self.net.eval()
        sums: dict[str, float] = {}
        for index, chunk in enumerate(self.val.split(8)):
            for key, value in terms_of(index, chunk).items():
                sums[key] = sums.get(key, 0.0) + value * len(chunk) / len(self.val)
        self.net.train()
        return sums


class DecoderTrainer(CropTraining):
    """One decoder's training run; `run()` trains until done, out of time or cancelled."""

    def __init__(self, config: DecoderTrainConfig, resume: bool = False) -> None:
        self.config = config
        torch.manual_seed(config.seed)
        self.device = resolve_device(config.device)
        names = list(LEVELS)[: list(LEVELS).index(config.level) + 1]
        self.layers = names  # feature error at every level up to the decoder's own
        if config.objective == "stylization":
            names = list(dict.fromkeys([*EVAL_STYLE_LAYERS, config.level]))
        self.vgg = VGG19Features(names).to(self.device)
        self.encoder = (
            read_student(config.encoder_from)[0].to(self.device) if config.encoder_from else None
        )
        self.teacher = (
            self._decoder_file(config.teacher_from).to(self.device) if config.teacher_from else None
        )
        self._start(self._initial_decoder(), resume)
        self.style_data = (
            ReconstructionCrops(config.styles, config.crop, config.zoom, 0.5)
            if config.objective == "stylization"
            else None
        )
        self.val_styles = (
            self.style_data.batch(len(self.val), random.Random(12345))
            if self.style_data is not None
            else None
        )
        weights = {k: 1.0 for k in EVAL_STYLE_LAYERS} | {EVAL_STYLE_LAYERS[-1]: config.deep_weight}
        self._style_weights = {k: w / sum(weights.values()) for k, w in weights.items()}

    def _decoder_file(self, path: str) -> Decoder:
        net, _ = read_decoder(path)
        if net.config.level != self.config.level:
            raise OptionsError(f"{path}: a {net.config.level} decoder, not {self.config.level}")
        return net

    def _initial_decoder(self) -> Decoder:
        """The `init_from` file's decoder (its architecture is the file's), the teacher
        pruned, or a fresh one."""
        config = self.config
        if config.init_from:
            net = self._decoder_file(config.init_from)
            config.width_divisor = net.config.width_divisor
        elif self.teacher is not None:
            net = pruned_from(self.teacher, config.width_divisor)
        else:
            net = Decoder(DecoderConfig(config.level, config.width_divisor))
        return net.requires_grad_(True)  # files load frozen, for inference

    def loss(
        self, images: torch.Tensor, styles: torch.Tensor | None = None
    ) -> tuple[torch.Tensor, dict[str, float]]:
        if self.config.objective == "stylization":
            assert styles is not None
            return self._stylization_loss(images, styles)
        with torch.no_grad(), self._autocast():
            target = {k: v.float() for k, v in self.vgg(images).items()}
        with self._autocast():
            out = self.net(target[self.config.level]).float()
            feats = {k: v.float() for k, v in self.vgg(out).items()}
        pixel = torch.mean((out - images) ** 2)
        feature = torch.stack(
            [
                torch.sum((feats[k] - target[k]) ** 2) / torch.sum(target[k] ** 2)
                for k in self.layers
            ]
        ).mean()
        total = pixel + self.config.feature_weight * feature
        floats = {"total": total, "pixel": pixel, "feature": feature}
        return total, {k: float(v.detach()) for k, v in floats.items()}

    def _stylization_loss(
        self, images: torch.Tensor, styles: torch.Tensor
    ) -> tuple[torch.Tensor, dict[str, float]]:
        level = self.config.level
        with torch.no_grad(), self._autocast():
            style = {k: v.float() for k, v in self.vgg(styles).items()}
        painting_stats = [feature_stats(s[None]) for s in style[level]]
        target = self._transformed(images, painting_stats)
        with self._autocast():
            out = self.net(target).float()
            feats = {k: v.float() for k, v in self.vgg(out).items()}
        content_error = relative_error(feats[level], target)
        errors = {
            k: relative_error(gram_matrix(feats[k]), gram_matrix(style[k]))
            for k in EVAL_STYLE_LAYERS
        }
        # the log's "style" stays the plain mean, comparable across runs of any deep_weight
        floats = {"content": content_error, "style": torch.stack(list(errors.values())).mean()}
        floats["deep"] = errors[EVAL_STYLE_LAYERS[-1]]
        style_error = sum(errors[k] * weight for k, weight in self._style_weights.items())
        total = self.config.content_weight * content_error + style_error
        if self.teacher is not None:
            with torch.no_grad(), self._autocast():
                painted = self.teacher(target).float()
            floats["teacher"] = torch.mean((out - painted) ** 2)
            total = total + self.config.teacher_weight * floats["teacher"]
        if self.config.shift_weight > 0:
            def paint(moved: torch.Tensor) -> torch.Tensor:
                with self._autocast():
                    return self.net(self._transformed(moved, painting_stats)).float()

            shift = drawn_shift(self.config.seed, self.state.step, self.net.training)
            floats["shift"] = shift_error(paint, images, out, shift)
            total = total + self.config.shift_weight * floats["shift"]
        terms = {"total": total, **floats}  # total first, as the logs and reports have it
        return total, {k: float(v.detach()) for k, v in terms.items()}

    @torch.no_grad()
    def _transformed(self, images: torch.Tensor, painting_stats: list) -> torch.Tensor:
        """The photos' features at the decoder's level, whitened and coloured with each
        painting's statistics: the decoder's input. The photo's encoder is the student where
        one is given; the painting's is always VGG19."""
        level = self.config.level
        encoder = self.encoder if self.encoder is not None else self.vgg
        with self._autocast():
            content = encoder(images, [level])[level].float()
        return torch.cat([whitening_colouring(feature_stats(c[None]), stats)(c[None])
                          for c, stats in zip(content, painting_stats, strict=True)])  # fmt: skip

    def validate(self) -> dict[str, float]:
        styles = self.val_styles.split(8) if self.val_styles is not None else None
        return self._validation_means(
            lambda i, chunk: self.loss(chunk, styles[i] if styles is not None else None)[1]
        )

    def _train_step(self) -> float:
        config = self.config

        def loss_of(rng: random.Random) -> torch.Tensor:
            images = self.data.batch(config.batch, rng).to(self.device)
            styles = (
                self.style_data.batch(config.batch, rng).to(self.device)
                if self.style_data is not None
                else None
            )
            return self.loss(images, styles)[0]

        return self._optimiser_step(loss_of, clip=5.0)

    def _evaluate(self, train_loss: float) -> dict:
        save = lambda: save_decoder(self.net, self.config.output, self.info())  # noqa: E731
        return self._evaluated(self.validate(), train_loss, save, level=self.config.level)

    def info(self) -> dict:
        return self._summary(self.config.data, level=self.config.level,
                             val_loss=self.state.best_val)  # fmt: skip


# Steps and minutes per level (the shipped set is relu4_1 alone: styler.instant.cascade).
BUDGETS: dict[str, tuple[int, float]] = {"relu4_1": (4000, 40)}
# Levels whose reconstruction decoder is then fine-tuned on the stylization objective, with
# its (steps, minutes) and learning rate (docs/instant_mode.md, "Training").
FINE_TUNE: dict[str, tuple[int, float, float]] = {"relu4_1": (1800, 35, 3e-4)}


def fine_tune_decoder(
    decoder: str | Path,
    output: str | Path,
    photos: list[str],
    val: str,
    styles: list[str],
    *,
    steps: int,
    minutes: float,
    learning_rate: float,
    resume: bool = False,
    encoder: str | Path | None = None,
    thinner: int | None = None,
    crop: int = DecoderTrainConfig.crop,
    batch: int = DecoderTrainConfig.batch,
    shift: float = 0.0,
    deep: float = 1.0,
    on_eval: Callable[[dict], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> TrainState:
    """Fine-tune a decoder file on the stylization objective (its level is the file's), on
    the features of VGG19 or of the `encoder` student file, with `batch` crops of `crop` px
    a step, `shift` the weight of the shift term and `deep` that of the deepest level's
    Gram term against the others' 1. With `thinner` (a width divisor),
    distil instead: the file is the teacher, pruned to that width to start."""
    distil = {"teacher_from": str(decoder), "width_divisor": thinner} if thinner else {}
    config = DecoderTrainConfig(
        level=read_decoder(decoder)[1]["level"],
        data=photos,  # the content images
        val=val,
        output=str(output),
        steps=steps,
        batch=batch,
        crop=crop,
        max_minutes=minutes,
        learning_rate=learning_rate,
        objective="stylization",
        styles=styles,
        init_from=None if thinner else str(decoder),
        encoder_from=str(encoder) if encoder else None,
        shift_weight=shift,
        deep_weight=deep,
        **distil,
    )
    return DecoderTrainer(config, resume=resume).run(on_eval=on_eval, should_stop=should_stop)


def train_levels(
    levels: list[str],
    out: str | Path,
    data: list[str],
    val: str,
    *,
    styles: list[str] | None = None,
    minutes_scale: float = 1.0,
    resume: bool = False,
    on_eval: Callable[[dict], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> None:
    """Train each level's decoder in turn within its budget, rewriting the manifest after each.

    With `styles` (folders of style images), the levels in FINE_TUNE are then fine-tuned on
    the stylization objective from their reconstruction decoder.
    """
    folder = Path(out)
    folder.mkdir(parents=True, exist_ok=True)
    for level in levels:
        steps, minutes = BUDGETS[level]
        final = folder / f"decoder_{level}.safetensors"
        tuned = bool(styles) and level in FINE_TUNE
        first = folder / f"reconstruction_{level}.safetensors" if tuned else final
        config = DecoderTrainConfig(
            level=level,
            data=data,
            val=val,
            output=str(first),
            steps=steps,
            max_minutes=minutes * minutes_scale,
        )
        DecoderTrainer(config, resume=resume).run(on_eval=on_eval, should_stop=should_stop)
        # a reconstruction budget that ended before its first evaluation saved no decoder
        # to fine-tune: the level has none, which the caller reports
        if tuned and first.is_file() and not (should_stop is not None and should_stop()):
            steps, minutes, rate = FINE_TUNE[level]
            fine_tune_decoder(first, final, data[:1], val, list(styles or []), steps=steps,
                              minutes=minutes * minutes_scale, learning_rate=rate,
                              resume=resume, on_eval=on_eval, should_stop=should_stop)  # fmt: skip
        if any(folder.glob("decoder_*.safetensors")):  # a manifest of nothing would load
            write_manifest(folder)
        if should_stop is not None and should_stop():
            return
