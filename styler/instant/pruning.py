"""Filter pruning by L1 norm: the start of a distilled network (student encoder, thin decoder).

A thinner copy of a trained chain of convolutions keeps, layer by layer, the filters of
largest L1 norm over the inputs the layer before kept (Li et al. 2017, "Pruning filters for
efficient ConvNets"; the start collaborative distillation, Wang et al. 2020, uses), so
distillation only has to recover what pruning lost.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import torch
from torch import nn


def conv_layers(chain: Iterable[nn.Module]) -> list[nn.Conv2d]:
    """The convolutions of a sequential chain, in order: what pruning pairs layer by layer."""
    return [m for m in chain if isinstance(m, nn.Conv2d)]


def copy_largest_filters(
    sources: Sequence[nn.Conv2d], targets: Sequence[nn.Conv2d], keep_last_whole: bool = False
) -> None:
    """Fill each of `targets` (same chain, fewer channels) from `sources`; the first layer
    keeps every input. `keep_last_whole`: the last layer keeps all its outputs in order."""
    kept_inputs = torch.arange(sources[0].in_channels)
    pairs = list(zip(sources, targets, strict=True))
    with torch.no_grad():
        for index, (source, target) in enumerate(pairs):
            weight = source.weight[:, kept_inputs]
            if keep_last_whole and index == len(pairs) - 1:
                kept = torch.arange(source.out_channels)
            else:
                norms = weight.abs().sum(dim=(1, 2, 3))
                kept = torch.sort(torch.topk(norms, target.out_channels).indices).values
            target.weight.copy_(weight[kept])
            target.bias.copy_(source.bias[kept])
            kept_inputs = kept
