"""A small encoder that gives VGG19's relu4_1 features at a fraction of the cost.

Instant mode's pass is VGG19 to relu4_1, the whitening-colouring transform and a decoder;
the encoder alone cost more than the peer's whole pass (docs/instant_mode.md, "Speed"). The
student keeps VGG19's shape up to relu4_1 (the same convolutions and poolings)
with a quarter of the channels before the last layer, and that layer still gives all 512
relu4_1 channels, so the transform and the trained decoder take its output unchanged. It
starts as VGG19 pruned (each layer keeps its filters of largest L1 norm) and is then trained
to reproduce VGG19's relu4_1 on photos and paintings (styler.instant.distill), as in
collaborative distillation (Wang et al. 2020).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass

import torch
from torch import nn

from styler.instant.padding import MirrorConv2d
from styler.instant.pruning import conv_layers, copy_largest_filters
from styler.vgg import CAFFE, VGG19Features

LEVEL = "relu4_1"
# VGG19's convolutions up to relu4_1, in order, and where the 2x2 max poolings fall.
CONVS = ("conv1_1", "conv1_2", "conv2_1", "conv2_2", "conv3_1", "conv3_2", "conv3_3",
         "conv3_4", "conv4_1")  # fmt: skip
POOL_AFTER = frozenset({"conv1_2", "conv2_2", "conv3_4"})
VGG_WIDTHS = (64, 64, 128, 128, 256, 256, 256, 256, 512)


@dataclass(frozen=True)
class StudentConfig:
    """Output channels of each convolution; the last must stay 512 (relu4_1's)."""

    widths: tuple[int, ...] = (16, 16, 32, 32, 64, 64, 64, 64, 512)

    def __post_init__(self) -> None:
        if len(self.widths) != len(CONVS) or self.widths[-1] != VGG_WIDTHS[-1]:
            raise ValueError(f"widths must be {len(CONVS)} numbers ending in 512: {self.widths}")

    def as_dict(self) -> dict[str, list[int]]:
        return {k: list(v) for k, v in asdict(self).items()}


class StudentEncoder(nn.Module):
    """RGB in [0, 1] (N, 3, H, W) -> {"relu4_1": (N, 512, H/8, W/8)}, called as
    VGG19Features is, so instant mode's networks, export and cache take either."""

    def __init__(self, config: StudentConfig | None = None) -> None:
        super().__init__()
        self.config = config or StudentConfig()
        self.preprocessing = CAFFE  # distilled from the original (Caffe) VGG19
        layers: list[nn.Module] = []
        channels = 3
        for name, width in zip(CONVS, self.config.widths, strict=True):
            # the first as VGG19Features (replicated edge pixels), the others mirrored: zero
            # padding drew stripes along the edge (styler.instant.padding)
            conv = (nn.Conv2d(channels, width, 3, padding=1, padding_mode="replicate")
                    if name == "conv1_1" else MirrorConv2d(channels, width))  # fmt: skip
            layers += [conv, nn.ReLU()]
            if name in POOL_AFTER:
                layers.append(nn.MaxPool2d(2, 2))
            channels = width
        self.body = nn.Sequential(*layers)
        self.to(memory_format=torch.channels_last)

    def forward(
        self, rgb: torch.Tensor, layers: Sequence[str] | None = None
    ) -> dict[str, torch.Tensor]:
        if layers is not None and set(layers) - {LEVEL}:
            raise ValueError(f"the student encoder gives only {LEVEL}, not {list(layers)}")
        x = self.preprocessing.apply(rgb).contiguous(memory_format=torch.channels_last)
        return {LEVEL: self.body(x)}

    def convs(self) -> list[nn.Conv2d]:
        return conv_layers(self.body)


def pruned_from(vgg: VGG19Features, config: StudentConfig | None = None) -> StudentEncoder:
    """A student whose filters are VGG19's of largest L1 norm, layer by layer: a start that
    already gives relu4_1-like features, so distillation only has to recover what pruning
    lost."""
    if vgg.preprocessing != CAFFE:
        raise ValueError("the student is distilled from the original (Caffe) VGG19 weights")
    student = StudentEncoder(config)
    teacher = conv_layers(vgg.body)[: len(CONVS)]
    copy_largest_filters(teacher, student.convs())
    return student
