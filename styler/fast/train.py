"""Training and fine-tuning style networks with the engine's perceptual loss.

Fine-tuning starts from a base network and first trains only the
normalisation parameters and the decoder (where a style mostly lives), then
everything: a new style converges in a fraction of the time training from
scratch takes. Checkpoints are written atomically every
`checkpoint_every` steps and the data order is a pure function of (seed, step),
so `resume` continues exactly where a run stopped, even after kill -9.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from contextlib import nullcontext
from dataclasses import asdict, dataclass
from pathlib import Path

import torch

from styler.device import autocast_dtype, resolve_device
from styler.errors import OptionsError
from styler.fast.data import PhotoCrops, validation_batch
from styler.fast.network import NetworkConfig, StyleNetwork
from styler.fast.weights import read_network, save_network
from styler.image_sizes import resize_long_side
from styler.imageio import load_image
from styler.losses import LossWeights, blended_grams, gram_matrix, perceptual_loss
from styler.tensors import to_tensor
from styler.training import CheckpointedTraining, FilesBesideOutput, TrainState
from styler.vgg import VGG19Features

# Fast networks need more content weight than the optimizer (0.15): they cannot adapt to
# each photo, and at 0.1 they paint the style's motifs over faces and objects (the astronaut
# vanished under the_scream). 288 px whole-photo crops keep more of the photo than the
# 192 px windows did, so 0.2 spends that margin on style. The distances behind both are in
# docs/fast_mode.md ("Content weight"). A little TV keeps their flat areas clean.
FAST_CONTENT_WEIGHT = 0.2
FAST_TV_WEIGHT = 2.0


@dataclass
class TrainConfig(FilesBesideOutput):
    """Settings of one training run; recorded in the network file and the log."""

    styles: list[str]
    data: str
    val: str
    output: str
    base: str | None = None  # fine-tune from this network instead of training from scratch
    blend: list[float] | None = None
    steps: int = 1500
    # Bigger crops, smaller batch, about the same cost per step: relu5_1 sees 18x18 positions
    # instead of 12x12, far from the borders, and both distances came out lower on udnie
    # (docs/fast_mode.md, "Crops").
    batch: int = 2
    crop: int = 288
    # Fine-tuning too: lower rates converged more slowly from the base (docs/fast_mode.md,
    # "Training and transfer learning"). The freeze schedule is what protects the base early.
    learning_rate: float = 1e-3
    warmup: int = 50
    clip: float = 5.0
    eval_every: int = 50
    checkpoint_every: int = 50
    patience: int = 6  # evaluations without improvement before stopping early
    val_count: int = 24
    style_size: int = 512  # style image long side: the scale strokes are learned at
    content_weight: float = FAST_CONTENT_WEIGHT
    style_weight: float = 1.0
    tv_weight: float = FAST_TV_WEIGHT
    freeze_fraction: float = 0.3  # fine-tuning: share of steps training norms + decoder only
    max_minutes: float | None = None
    # A time budget: the freeze and the learning rate's decay run over these minutes (or
    # the steps, whichever ends first), and training stops there. A user's "10 minutes".
    minutes: float | None = None
    seed: int = 0
    # VGG in bfloat16 where the CPU has it natively: faster steps (docs/performance.md)
    bf16: bool = True
    device: str = "auto"
    widths: tuple[int, int, int] = NetworkConfig.widths
    res_blocks: int = NetworkConfig.res_blocks

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch < 1 or self.eval_every < 1 or self.checkpoint_every < 1:
            raise OptionsError("steps, batch, eval and checkpoint intervals must be >= 1")
        if not 32 <= self.crop <= 1024:
            raise OptionsError(f"crop must be between 32 and 1024 px, got {self.crop}")
        if not self.learning_rate > 0:
            raise OptionsError(f"learning rate must be > 0, got {self.learning_rate}")
        if self.minutes is not None:
            if not self.minutes > 0:
                raise OptionsError(f"minutes must be > 0, got {self.minutes}")
            if self.max_minutes is None or self.max_minutes > self.minutes:
                self.max_minutes = self.minutes


@dataclass
class Evaluation:
    step: int
    elapsed: float
    train_loss: float
    val_loss: float
    val_terms: dict[str, float]
    lr: float
    best: bool


def _set_trainable(net: StyleNetwork, everything: bool) -> None:
    """Freeze schedule: first only norms and decoder learn, then the whole network."""
    net.requires_grad_(everything)
    net.decoder.requires_grad_(True)
    for norm in net.norms():
        norm.requires_grad_(True)


class Trainer(CheckpointedTraining):
    """One training run: `run()` trains until done, early-stopped, out of time or cancelled."""

    def __init__(self, config: TrainConfig, resume: bool = False) -> None:
        self.config = config
        torch.manual_seed(config.seed)
        self.weights = LossWeights(
            content=config.content_weight, style=config.style_weight, tv=config.tv_weight
        )
        self.device = resolve_device(config.device)
        self.vgg = VGG19Features(self.weights.layers).to(self.device)
        self.amp = autocast_dtype(self.device, cpu_bf16=config.bf16)
        self.style_targets = self._style_targets()
        self.net = self._initial_network().to(self.device)
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=config.learning_rate)
        self.state = TrainState()
        if resume:
            self._resume()
        self.data = PhotoCrops(config.data, crop=config.crop)
        self.val = validation_batch(config.val, config.val_count).to(self.device)

    def _style_targets(self) -> dict[str, torch.Tensor]:
        blend = self.config.blend or [1.0] * len(self.config.styles)
        per_style = []
        with torch.no_grad():
            for path in self.config.styles:
                style = resize_long_side(load_image(path).painting(), self.config.style_size)
                layers = list(self.weights.style_layers)
                feats = self._features(to_tensor(style, self.device), layers)
                per_style.append({k: gram_matrix(v) for k, v in feats.items()})
        return blended_grams(per_style, blend)

    def _initial_network(self) -> StyleNetwork:
        if self.config.base:
            net, _ = read_network(self.config.base)
            self.config.widths, self.config.res_blocks = net.config.widths, net.config.res_blocks
            return net.train()
        return StyleNetwork(NetworkConfig(self.config.widths, self.config.res_blocks)).train()

    def _features(self, images: torch.Tensor, layers: list[str] | None = None) -> dict:
        """VGG features, in bf16 where the CPU/GPU does it natively; losses stay in fp32."""
        ctx = torch.autocast(images.device.type, dtype=self.amp) if self.amp else nullcontext()
        with ctx:
            feats = self.vgg(images, layers)
        return {k: v.float() for k, v in feats.items()}

    def loss(self, photos: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        with torch.no_grad():
            content_feats = self._features(photos, list(self.weights.content_layers))
        out = self.net(photos)
        feats = self._features(out)
        terms = perceptual_loss(out, feats, content_feats, self.style_targets, self.weights)
        return terms.total, terms.as_floats()

    @torch.no_grad()
    def validate(self) -> tuple[float, dict[str, float]]:
        self.net.eval()
        sums: dict[str, float] = {}
        chunks = self.val.split(8)
        for chunk in chunks:
            _, terms = self.loss(chunk)
            for key, value in terms.items():
                sums[key] = sums.get(key, 0.0) + value * len(chunk) / len(self.val)
        self.net.train()
        return sums["total"], sums

    def _stops_early(self) -> bool:
        return self.state.evals_since_best >= self.config.patience

    def done(self) -> float:
        """The share of the run behind us: steps, or the time budget when that is further."""
        config, state = self.config, self.state
        share = state.step / config.steps
        if config.minutes is not None:
            share = max(share, state.elapsed / (60 * config.minutes))
        return min(1.0, share)

    def _decay_done(self) -> float | None:
        if self.config.minutes is None:
            return None
        config, state = self.config, self.state
        by_steps = (state.step - config.warmup) / max(1, config.steps - config.warmup)
        return max(by_steps, state.elapsed / (60 * config.minutes))

    def _train_step(self) -> float:
        config = self.config
        if config.base:
            _set_trainable(self.net, everything=self.done() >= config.freeze_fraction)

        def loss_of(rng: random.Random) -> torch.Tensor:
            return self.loss(self.data.batch(config.batch, rng).to(self.device))[0]

        return self._optimiser_step(loss_of, config.clip)

    def _evaluate(self, train_loss: float) -> Evaluation:
        val_loss, terms = self.validate()
        best = self._is_new_best(val_loss)
        if best:
            self._save_best()
        evaluation = Evaluation(
            step=self.state.step,
            elapsed=round(self.state.elapsed, 2),
            train_loss=train_loss,
            val_loss=val_loss,
            val_terms=terms,
            lr=self.optimizer.param_groups[0]["lr"],
            best=best,
        )
        self._append_log(asdict(evaluation))
        return evaluation

    def _save_best(self) -> None:
        save_network(self.net, self.config.output, self.info())

    def evaluate(self, train_loss: float) -> Evaluation:
        """Validate now, saving the network when best, and checkpoint what it decided: a
        run that ended between evaluations gets one for its last steps."""
        evaluation = self._evaluate(train_loss)
        self._checkpoint()
        return evaluation

    def info(self) -> dict:
        """What the network file records about how it was made."""
        return {
            "styles": [Path(s).name for s in self.config.styles],
            "blend": self.config.blend,
            "base": Path(self.config.base).name if self.config.base else None,
            "step": self.state.step,
            "val_loss": self.state.best_val,
            "elapsed_s": round(self.state.elapsed, 1),
            "settings": {
                k: v
                for k, v in asdict(self.config).items()
                if k not in ("styles", "data", "val", "output", "base")
            },
        }


def train(config: TrainConfig, resume: bool = False, **callbacks: Callable) -> TrainState:
    return Trainer(config, resume=resume).run(**callbacks)
