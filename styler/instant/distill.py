"""Training the student encoder to give VGG19's relu4_1 (styler.instant.student).

The teacher is the frozen VGG19 every other part of styler uses. The loss is the student's
relative squared error against the teacher's relu4_1, twice: as it is, and in a whitened
basis of the teacher's features (their inverse square-root covariance over fixed training
crops). The transform whitens before it colours, so an error in a weak direction of the
features, which the plain error hardly sees, is amplified as much as one in a strong
direction: the first students, trained on the plain error alone, lost the painting's
colours. Crops are of photos and of paintings the project may redistribute (the painting's
statistics come from the same encoder at run time). The loop, checkpoints and resume are
styler.training's; the best network by validation error is kept.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

import torch

from styler.device import resolve_device
from styler.errors import OptionsError
from styler.instant.student import LEVEL, StudentConfig, StudentEncoder, pruned_from
from styler.instant.train import CropTraining
from styler.instant.wct import StatsAccumulator
from styler.instant.weights import read_student, save_student
from styler.training import FilesBesideOutput
from styler.vgg import VGG19Features


@dataclass
class EncoderDistillConfig(FilesBesideOutput):
    """Settings of one distillation run; recorded in the student's file and its log."""

    data: list[str]  # folders: photos first, then redistributable paintings
    val: str
    output: str
    steps: int = 4000
    batch: int = 8
    crop: int = 192
    learning_rate: float = 1e-3
    warmup: int = 50
    eval_every: int = 100
    checkpoint_every: int = 100
    val_count: int = 16
    max_minutes: float | None = None
    seed: int = 0
    bf16: bool = True
    device: str = "auto"
    widths: tuple[int, ...] = StudentConfig().widths
    painting_share: float = 0.3  # share of crops drawn from the folders after the first
    zoom: tuple[float, float] = field(default=(1.0, 2.0))
    init_from: str | None = None  # a student file to continue from; else VGG19 pruned
    whitened_weight: float = 1.0  # the whitened error's weight against the plain one
    whitening_crops: int = 64  # fixed training crops the whitening basis is measured on

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch < 1 or not 32 <= self.crop <= 1024:
            raise OptionsError("steps and batch must be >= 1 and crop 32..1024 px")
        self.widths = tuple(self.widths)


# Eigenvalues of the teacher's covariance below this share of the largest are not
# amplified further: directions that weak hold too little to be worth the student's capacity.
WHITENING_FLOOR = 1e-3


def relative_feature_error(student: torch.Tensor, teacher: torch.Tensor) -> torch.Tensor:
    """Squared error over the teacher's energy: 0 is exact, 1 is as far as all zeros."""
    return torch.sum((student - teacher) ** 2) / torch.sum(teacher**2)


@dataclass(frozen=True)
class Whitening:
    """x -> basis @ (x - mean) over the channels of (N, C, h, w) features."""

    mean: torch.Tensor
    basis: torch.Tensor

    @classmethod
    def of(cls, features: torch.Tensor) -> Whitening:
        accumulator = StatsAccumulator()
        for image_features in features:
            accumulator.add(image_features)
        stats = accumulator.stats()
        values, vectors = torch.linalg.eigh(torch.from_numpy(stats.cov))
        values = values.clamp_min(WHITENING_FLOOR * float(values.max()))
        basis = (vectors * values**-0.5) @ vectors.T
        device = features.device
        return cls(torch.from_numpy(stats.mean).float().to(device), basis.float().to(device))

    def __call__(self, features: torch.Tensor) -> torch.Tensor:
        centred = features - self.mean.view(1, -1, 1, 1)
        return torch.einsum("dc,nchw->ndhw", self.basis, centred)


class EncoderDistiller(CropTraining):
    """One distillation run; `run()` trains until done, out of time or cancelled."""

    def __init__(self, config: EncoderDistillConfig, resume: bool = False) -> None:
        self.config = config
        torch.manual_seed(config.seed)
        self.device = resolve_device(config.device)
        self.teacher = VGG19Features([LEVEL]).to(self.device)
        self._start(self._initial_student(), resume)
        self.whitening = self._teacher_whitening()

    @torch.no_grad()
    def _teacher_whitening(self) -> Whitening:
        rng = random.Random(self.config.seed + 7_777)  # the same crops on every resume
        crops = self.data.batch(self.config.whitening_crops, rng).to(self.device)
        with self._autocast():
            feats = torch.cat([self.teacher(c, [LEVEL])[LEVEL].float() for c in crops.split(8)])
        return Whitening.of(feats)

    def _initial_student(self) -> StudentEncoder:
        config = self.config
        if not config.init_from:
            return pruned_from(self.teacher, StudentConfig(config.widths))
        net, _ = read_student(config.init_from)
        config.widths = net.config.widths
        return net.requires_grad_(True)  # files load frozen, for inference

    def loss(self, images: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        with torch.no_grad(), self._autocast():
            target = self.teacher(images, [LEVEL])[LEVEL].float()
        with self._autocast():
            out = self.net(images)[LEVEL].float()
        plain = relative_feature_error(out, target)
        white = self.whitening(target)
        whitened = relative_feature_error(self.whitening(out), white)
        total = plain + self.config.whitened_weight * whitened
        floats = {"total": total, "plain": plain, "whitened": whitened}
        return total, {k: float(v.detach()) for k, v in floats.items()}

    def validate(self) -> dict[str, float]:
        return self._validation_means(lambda _, chunk: self.loss(chunk)[1])

    def _train_step(self) -> float:
        def loss_of(rng: random.Random) -> torch.Tensor:
            return self.loss(self.data.batch(self.config.batch, rng).to(self.device))[0]

        return self._optimiser_step(loss_of, clip=5.0)

    def _evaluate(self, train_loss: float) -> dict:
        save = lambda: save_student(self.net, self.config.output, self.info())  # noqa: E731
        return self._evaluated(self.validate(), train_loss, save)

    def info(self) -> dict:
        return self._summary(self.config.data, level=LEVEL, val_error=self.state.best_val)
