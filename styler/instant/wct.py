"""Whitening-colouring transform (Li et al. 2017) as an affine map of feature statistics.

The transform of a photo's features towards a painting's is f -> A f + b, with A and b
fixed by the two sets' means and covariances. Because it is one affine map, statistics
can be gathered over a whole image tile by tile and the same map applied to every tile:
tiles join with no colour or texture shift. Statistics of several paintings mix as a
mixture distribution (weighted means, covariances about the common mean), which is how
blends work.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import torch

# Eigenvalues below this share of the largest are noise; WCT drops them (a tiny
# eigenvalue's inverse square root would amplify noise into speckles).
EIGEN_FLOOR = 1e-5


@dataclass(frozen=True)
class FeatureStats:
    """Mean (C,) and covariance (C, C) of a feature map's positions, in float64."""

    mean: torch.Tensor
    cov: torch.Tensor

    @property
    def second_moment(self) -> torch.Tensor:
        return self.cov + torch.outer(self.mean, self.mean)

    @cached_property
    def colouring(self) -> torch.Tensor:
        """cov ** 1/2: a painting's is computed once, however many photos it paints."""
        return _powered(self.cov, 0.5)


class StatsAccumulator:
    """Sums of features and their outer products over any number of feature maps."""

    def __init__(self) -> None:
        self.count = 0
        self.total: torch.Tensor | None = None
        self.outer: torch.Tensor | None = None

    def add(self, features: torch.Tensor) -> None:
        """features: (1, C, h, w) or (C, h, w), all positions counted.

        The products run in float32 (fast), the sums over tiles accumulate in float64."""
        flat = features.reshape(features.shape[-3], -1).float()
        total, outer = flat.sum(dim=1).double(), (flat @ flat.T).double()
        if self.total is None:
            self.total, self.outer = total, outer
        else:
            self.total, self.outer = self.total + total, self.outer + outer
        self.count += flat.shape[1]

    def stats(self) -> FeatureStats:
        if self.total is None or self.outer is None or self.count == 0:
            raise ValueError("no features were added")
        mean = self.total / self.count
        cov = self.outer / self.count - torch.outer(mean, mean)
        return FeatureStats(mean, (cov + cov.T) / 2)


def feature_stats(features: torch.Tensor) -> FeatureStats:
    accumulator = StatsAccumulator()
    accumulator.add(features)
    return accumulator.stats()


def mixture(stats: Sequence[FeatureStats], weights: Sequence[float]) -> FeatureStats:
    """Statistics of the weighted mixture of several feature distributions."""
    if len(stats) == 1:
        return stats[0]
    mean = sum(w * s.mean for s, w in zip(stats, weights, strict=True))
    second = sum(w * s.second_moment for s, w in zip(stats, weights, strict=True))
    return FeatureStats(mean, second - torch.outer(mean, mean))


@dataclass(frozen=True)
class AffineMap:
    """f -> matrix @ f + bias over the channel dimension of a (N, C, h, w) feature map."""

    matrix: torch.Tensor
    bias: torch.Tensor

    def __call__(self, features: torch.Tensor) -> torch.Tensor:
        n, c, h, w = features.shape
        flat = features.float().reshape(n, c, h * w)
        out = torch.matmul(self.matrix.float().to(features.device), flat)
        out = out + self.bias.float().to(features.device).view(1, c, 1)
        return out.reshape(n, c, h, w)


def _powered(cov: torch.Tensor, power: float) -> torch.Tensor:
    """cov ** power on its significant eigenvalues (0 on the rest)."""
    values, vectors = torch.linalg.eigh(cov)
    keep = values > EIGEN_FLOOR * values.max().clamp_min(1e-12)
    scaled = torch.where(keep, values.clamp_min(1e-12) ** power, torch.zeros_like(values))
    return (vectors * scaled) @ vectors.T


def whitening_colouring(content: FeatureStats, style: FeatureStats) -> AffineMap:
    """The map that gives content's features style's mean and covariance."""
    matrix = style.colouring @ _powered(content.cov, -0.5)
    return AffineMap(matrix, style.mean - matrix @ content.mean)
