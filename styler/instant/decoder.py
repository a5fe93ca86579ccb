"""Decoders that invert VGG19 activations back to RGB, one per level.

Each mirrors VGG19 from its level down to pixels at a fraction of VGG's width (trained at
half; the shipped one is thinner, distilled from that: pruned_from, docs/instant_mode.md):
nearest-neighbour upsampling then 3x3 convolutions, no normalisation (the
whitening-colouring transform sets the feature statistics; a norm layer would undo it).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from styler.instant.levels import LEVELS
from styler.instant.padding import MirrorConv2d
from styler.instant.pruning import conv_layers, copy_largest_filters

_VGG_WIDTH_AT_STRIDE = {1: 64, 2: 128, 4: 256, 8: 512}
# About the spread of the original (Caffe, 0-255 input) VGG19's activations at each level:
# inputs of order one let the first convolution start from its usual initialisation.
INPUT_SCALE = {"relu1_1": 1 / 40, "relu2_1": 1 / 150, "relu3_1": 1 / 200, "relu4_1": 1 / 650}


@dataclass(frozen=True)
class DecoderConfig:
    level: str
    width_divisor: int = 2  # decoder channels = VGG's channels at that resolution / this

    def as_dict(self) -> dict[str, object]:
        return {"level": self.level, "width_divisor": self.width_divisor}


def _conv(cin: int, cout: int, relu: bool = True) -> list[nn.Module]:
    layers: list[nn.Module] = [MirrorConv2d(cin, cout)]  # no stripes along the edge
    return [*layers, nn.ReLU(inplace=True)] if relu else layers


class Decoder(nn.Module):
    """VGG19 features at `config.level` (N, C, H/s, W/s) -> RGB in about [0, 1] (N, 3, H, W)."""

    def __init__(self, config: DecoderConfig) -> None:
        super().__init__()
        if config.level not in LEVELS:
            raise ValueError(f"no decoder for {config.level!r}; choose from {', '.join(LEVELS)}")
        self.config = config
        channels, stride = LEVELS[config.level]
        layers: list[nn.Module] = []
        cin = channels
        while stride > 1:
            width = _VGG_WIDTH_AT_STRIDE[stride] // config.width_divisor
            layers += _conv(cin, width)
            if cin != channels:  # stages below the first get a second conv, as VGG has
                layers += _conv(width, width)
            layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
            cin, stride = width, stride // 2
        width = _VGG_WIDTH_AT_STRIDE[1] // config.width_divisor
        layers += _conv(cin, width)
        layers += _conv(width, 3, relu=False)
        self.body = nn.Sequential(*layers)
        self.input_scale = INPUT_SCALE[config.level]
        self.to(memory_format=torch.channels_last)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        scaled = features * self.input_scale
        return self.body(scaled.contiguous(memory_format=torch.channels_last))

    def convs(self) -> list[nn.Conv2d]:
        return conv_layers(self.body)


def pruned_from(teacher: Decoder, width_divisor: int) -> Decoder:
    """A thinner decoder of the teacher's level whose filters are the teacher's of largest L1
    norm, layer by layer (its input and RGB output stay whole): a start that already paints,
    so distillation (styler.instant.train, `teacher_from`) only recovers what pruning lost."""
    if width_divisor < teacher.config.width_divisor:
        raise ValueError(
            f"a pruned decoder is thinner than its teacher (divisor >= "
            f"{teacher.config.width_divisor}), not {width_divisor}"
        )
    student = Decoder(DecoderConfig(teacher.config.level, width_divisor))
    copy_largest_filters(teacher.convs(), student.convs(), keep_last_whole=True)
    return student
