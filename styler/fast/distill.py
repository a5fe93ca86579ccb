"""A deployment twin of a fast network whose 1/8-scale trunk quantizes end to end.

onnxruntime runs instance normalisation and reflection padding in float, in NCHW, with
layout changes around every int8 convolution next to them, so quantizing a fast network's
convolutions alone gained little (docs/fast_mode.md, "int8"). Most of those normalisations
sit in the 1/8-scale trunk (the last encoder block and the residual blocks). The twin
freezes them at their average statistics on training photos, folds each into the
convolution before it, and gives the residual convolutions zero padding, so the trunk
becomes a chain of int8 convolutions, ReLUs and adds. The normalisations at 1/2 and 1/4
scale stay per-photo: freezing those too lost the subject under the strokes (the lion
buried in udnie's facets), since they are what adapts the painting to a photo's contrast.

The twin starts as the teacher with the trunk folded (`folded_twin`), then trains on the
teacher's own objective with the teacher's picture as an anchor (`TwinTrainer`). Only its
int8 graph ships; the teacher stays the float network.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from styler.fast.network import StyleNetwork, TileableInstanceNorm
from styler.fast.train import TrainConfig, Trainer
from styler.fast.twin import folded, save_twin, twin_shell
from styler.losses import perceptual_loss
from styler.shift_term import drawn_shift, shift_error

Statistics = list[tuple[torch.Tensor, torch.Tensor]]  # per norm: mean, std per channel


def average_statistics(teacher: StyleNetwork, photos: Iterable[torch.Tensor]) -> Statistics:
    """Each normalisation's per-channel mean and std, averaged over whole photos."""
    norms = list(teacher.norms())
    sums = [(torch.zeros(n.weight.shape), torch.zeros(n.weight.shape)) for n in norms]
    count = 0
    for photo in photos:
        for norm in norms:
            norm.mode = "capture"
        with torch.no_grad():
            teacher(photo)
        for (mean, std), norm in zip(sums, norms, strict=True):
            assert norm.stats is not None
            mean += norm.stats[0].flatten()
            std += norm.stats[1].flatten()
        count += 1
    for norm in norms:
        norm.mode, norm.stats = "instance", None
    return [(mean / count, std / count) for mean, std in sums]


def folded_twin(teacher: StyleNetwork, statistics: Statistics) -> StyleNetwork:
    """The teacher with the trunk's normalisations frozen at `statistics` (one per
    normalisation, in order) and folded into the convolution before each: the same network
    wherever a photo's trunk statistics are those."""
    source = copy.deepcopy(teacher).float()
    folds: list[tuple[nn.Conv2d, TileableInstanceNorm, tuple[torch.Tensor, torch.Tensor]]] = []
    previous: nn.Conv2d | None = None
    norms_seen = 0
    for name, module in source.named_modules():
        if isinstance(module, nn.Conv2d):
            previous = module
        elif isinstance(module, TileableInstanceNorm):
            if folded(name):
                assert previous is not None
                folds.append((previous, module, statistics[norms_seen]))
            norms_seen += 1
    with torch.no_grad():
        for conv, norm, (mean, std) in folds:
            scale = norm.weight / std
            conv.weight.mul_(scale.view(-1, 1, 1, 1))
            conv.bias.copy_((conv.bias - mean) * scale + norm.bias)
    twin = twin_shell(teacher.config)
    kept = {k: v for k, v in source.state_dict().items() if k in twin.state_dict()}
    twin.load_state_dict(kept)
    return twin


# The anchor compares 4x4-pixel means: where the teacher puts its light, dark and colour,
# not where each stroke falls. On full pixels, L1 between strokes that land a little apart
# pays the twin for blurring them (docs/fast_mode.md, "Int8").
ANCHOR_POOL = 4


class TwinTrainer(Trainer):
    """Trains a folded twin on its style's own objective (content and Gram losses, as the
    teacher was trained) plus an anchor: the L1 distance between the 4x4 means of its picture
    and the teacher's, which keeps the twin painting the teacher's picture rather than any
    picture of the style.
    Checkpoints, resume and the log are the Trainer's."""

    def __init__(self, config: TrainConfig, teacher: StyleNetwork, twin: StyleNetwork,
                 anchor_weight: float, info: dict, resume: bool = False,
                 shift_weight: float = 0.0) -> None:  # fmt: skip
        self.teacher = teacher.float().eval().requires_grad_(False)
        self._twin, self.anchor_weight, self._info = twin, anchor_weight, info
        self.shift_weight = shift_weight
        super().__init__(config, resume=resume)
        self.teacher.to(self.device)

    def _initial_network(self) -> StyleNetwork:
        return self._twin.train()

    def loss(self, photos: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        with torch.no_grad():
            content_feats = self._features(photos, list(self.weights.content_layers))
            target = self.teacher(photos)
        out = self.net(photos)
        terms = perceptual_loss(out, self._features(out), content_feats, self.style_targets,
                                self.weights)  # fmt: skip
        anchor = self.anchor_weight * F.l1_loss(F.avg_pool2d(out, ANCHOR_POOL),
                                                F.avg_pool2d(target, ANCHOR_POOL))  # fmt: skip
        total = terms.total + anchor
        extra = {"anchor": float(anchor.detach())}
        if self.shift_weight > 0:
            shift = self.shift_weight * self._shift_loss(photos, out)
            total = total + shift
            extra["shift"] = float(shift.detach())
        return total, {**terms.as_floats(), **extra, "total": float(total.detach())}

    def _shift_loss(self, photos: torch.Tensor, out: torch.Tensor) -> torch.Tensor:
        """styler.shift_term's error of the twin: 0 for one that paints a moved photo moved."""
        shift = drawn_shift(self.config.seed, self.state.step, self.net.training)
        return shift_error(self.net, photos, out, shift)

    def _learning_settings(self) -> dict:
        return {**super()._learning_settings(), "anchor_weight": self.anchor_weight,
                "shift_weight": self.shift_weight}  # fmt: skip

    def info(self) -> dict:
        return {**super().info(), **self._info, "anchor_weight": self.anchor_weight,
                "shift_weight": self.shift_weight}  # fmt: skip

    def _save_best(self) -> None:
        save_twin(self.net, Path(self.config.output), self.info())
