"""The 3x3 convolution instant mode's networks paint with: its input mirrored by one pixel.

With zero padding every layer of the decoder sees a dark frame around the picture, and in
flat areas (a clear sky) it painted lines parallel to the picture's edge, within about 25 px
of it (docs/instant_mode.md, "Border stripes"). Mirroring the input at every layer leaves
nothing at the edge for the network to answer. The mirror is made from slices and
concatenations, which keep PyTorch's channels-last layout: F.pad's reflect mode leaves it,
and cost the pass far more (the figures and the command that measures them are in that
section). The parameters are a Conv2d's, so networks trained with zero padding load
unchanged.
"""

from __future__ import annotations

import torch
from torch import nn


def mirrored(x: torch.Tensor) -> torch.Tensor:
    """x (N, C, H, W) with one row and one column mirrored at each side (as F.pad's reflect
    mode by 1), in x's memory format."""
    rows = torch.cat([x[:, :, 1:2], x, x[:, :, -2:-1]], dim=2)
    return torch.cat([rows[:, :, :, 1:2], rows, rows[:, :, :, -2:-1]], dim=3)


class MirrorConv2d(nn.Conv2d):
    """A 3x3, stride 1 convolution over its input mirrored by one pixel: same size out."""

    def __init__(self, in_channels: int, out_channels: int) -> None:
        super().__init__(in_channels, out_channels, 3, padding=0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(mirrored(x))
