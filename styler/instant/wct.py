"""Whitening-colouring transform (Li et al. 2017) as an affine map of feature statistics.

The transform of a photo's features towards a painting's is f -> A f + b, with A and b
fixed by the two sets' means and covariances. Because it is one affine map, statistics
can be gathered over a whole image tile by tile and the same map applied to every tile:
tiles join with no colour or texture shift. Statistics of several paintings mix as a
mixture distribution (weighted means, covariances about the common mean), which is how
blends work.

The statistics and the map are numpy float64 (C, C) matrices, small whatever the image; the
features they come from and go to are PyTorch tensors (on any device) or numpy arrays (the
onnxruntime passes, which run without PyTorch). numpy's BLAS runs these products one thread
a part (styler.blas_threads).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import Any

import numpy as np

from styler.blas_threads import by_columns, one_blas_thread

# Eigenvalues below this share of the largest are noise; WCT drops them (a tiny
# eigenvalue's inverse square root would amplify noise into speckles).
EIGEN_FLOOR = 1e-5


@dataclass(frozen=True)
class FeatureStats:
    """Mean (C,) and covariance (C, C) of a feature map's positions, in float64."""

    mean: np.ndarray
    cov: np.ndarray

    @property
    def second_moment(self) -> np.ndarray:
        return self.cov + np.outer(self.mean, self.mean)

    @cached_property
    def colouring(self) -> np.ndarray:
        """cov ** 1/2: a painting's is computed once, however many photos it paints."""
        return _powered(self.cov, 0.5)

    @classmethod
    def primed(cls, mean: np.ndarray, cov: np.ndarray, colouring: np.ndarray) -> FeatureStats:
        """Statistics whose colouring was computed before (styler.instant.stats_cache)."""
        stats = cls(mean, cov)
        stats.__dict__["colouring"] = colouring  # what cached_property would have stored
        return stats


def _float64(values: Any) -> np.ndarray:
    """A tensor (any device) or array as a numpy float64 array."""
    if isinstance(values, np.ndarray):
        return values.astype(np.float64)
    return values.detach().double().cpu().numpy()


class StatsAccumulator:
    """Sums of features and their outer products over any number of feature maps."""

    def __init__(self) -> None:
        self.count = 0
        self.total: np.ndarray | None = None
        self.outer: np.ndarray | None = None

    def add(self, features: Any) -> None:
        """features: (1, C, h, w) or (C, h, w) tensor or array, all positions counted.

        The products run in float32 where the features are (fast), the sums over tiles
        accumulate in float64."""
        flat = features.reshape(features.shape[-3], -1)
        if isinstance(flat, np.ndarray):
            flat = flat.astype(np.float32, copy=False)
            outer = sum(by_columns(lambda part: flat[:, part] @ flat[:, part].T,
                                    flat.shape[1]))  # fmt: skip
        else:
            flat = flat.float()
            outer = flat @ flat.T
        total, outer = _float64(flat.sum(1)), _float64(outer)
        if self.total is None or self.outer is None:
            self.total, self.outer = total, outer
        else:
            self.total, self.outer = self.total + total, self.outer + outer
        self.count += flat.shape[1]

    def stats(self) -> FeatureStats:
        if self.total is None or self.outer is None or self.count == 0:
            raise ValueError("no features were added")
        mean = self.total / self.count
        cov = self.outer / self.count - np.outer(mean, mean)
        if self.count == 1:  # a thumbnail's one position has none: its rounding would be
            cov = np.zeros_like(cov)  # whitened into noise, and painted as glaring colour
        return FeatureStats(mean, (cov + cov.T) / 2)


def feature_stats(features: Any) -> FeatureStats:
    accumulator = StatsAccumulator()
    accumulator.add(features)
    return accumulator.stats()


def mixture(stats: Sequence[FeatureStats], weights: Sequence[float]) -> FeatureStats:
    """Statistics of the weighted mixture of several feature distributions."""
    if len(stats) == 1:
        return stats[0]
    mean = sum(w * s.mean for s, w in zip(stats, weights, strict=True))
    second = sum(w * s.second_moment for s, w in zip(stats, weights, strict=True))
    return FeatureStats(mean, second - np.outer(mean, mean))


@dataclass(frozen=True)
class AffineMap:
    """f -> matrix @ f + bias over the channel dimension of a (N, C, h, w) feature map, a
    tensor (the result in float32 on its device) or a numpy array (float32)."""

    matrix: np.ndarray
    bias: np.ndarray

    def __call__(self, features: Any) -> Any:
        n, c, h, w = features.shape
        matrix, bias = self.matrix.astype(np.float32), self.bias.astype(np.float32)
        if isinstance(features, np.ndarray):
            flat = features.reshape(n, c, h * w).astype(np.float32, copy=False)
            out = np.empty_like(flat)

            def product(part: slice) -> None:
                for one, into in zip(flat, out, strict=True):
                    np.matmul(matrix, one[:, part], out=into[:, part])
                    into[:, part] += bias[:, None]

            by_columns(product, h * w)
            return out.reshape(n, c, h, w)
        import torch

        flat = features.float().reshape(n, c, h * w)
        out = torch.matmul(torch.from_numpy(matrix).to(features.device), flat)
        out = out + torch.from_numpy(bias).to(features.device).view(1, c, 1)
        return out.reshape(n, c, h, w)


def _powered(cov: np.ndarray, power: float) -> np.ndarray:
    """cov ** power on its significant eigenvalues (0 on the rest)."""
    with one_blas_thread():
        values, vectors = np.linalg.eigh(cov)
        keep = values > EIGEN_FLOOR * max(values.max(), 1e-12)
        scaled = np.where(keep, np.maximum(values, 1e-12) ** power, 0.0)
        return (vectors * scaled) @ vectors.T


def whitening_colouring(content: FeatureStats, style: FeatureStats) -> AffineMap:
    """The map that gives content's features style's mean and covariance."""
    whitening = _powered(content.cov, -0.5)
    with one_blas_thread():
        matrix = style.colouring @ whitening
        return AffineMap(matrix, style.mean - matrix @ content.mean)
