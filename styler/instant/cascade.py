"""The instant-mode pass: the photo's features at each level, coarse to fine, given the
painting's statistics and decoded back to pixels.

The networks that encode and decode are PyTorch's (styler.instant.torch_networks) or
onnxruntime's (styler.instant.runtime): both take and give uint8 images and hold the
features their own way; this module imports neither framework.

A photo up to `whole_side` runs in one piece. A larger one runs as overlapping tiles
twice per level: first every tile's features add to one set of statistics of the whole
image, then each tile gets the one transform those statistics give and is multi-band
joined to its neighbours (styler.fusion.tiles). Only uint8 images and one tile in float
are held, so memory is bounded by the tile size, not the photo's.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

import numpy as np

from styler.fusion.tiles import TileCanvas, tile_grid
from styler.instant.levels import STRIDE_OF_CHANNELS
from styler.instant.wct import AffineMap, FeatureStats, StatsAccumulator, whitening_colouring
from styler.progress import PassSteps, cancel_scope

# The levels a photo passes through, coarse to fine. One: the relu4_1 decoder, fine-tuned to
# paint every level's statistics, scored better alone than followed by a relu1_1 pass or run
# twice (docs/instant_mode.md, "Levels").
CASCADE: tuple[str, ...] = ("relu4_1",)
TILE_OVERLAP = 64  # px: past the decoders' receptive-field radius at relu4_1


class Passes(Protocol):
    """What the cascade asks of the networks (either framework's)."""

    precision: str  # what the passes run in, as the precision control names it
    infos: Mapping[str, dict]  # each level's decoder's training record
    encoder_note: str  # which encoder the photo's is, as outputs record it
    painting_key: str | None  # what paintings' statistics are kept under (None: not kept)

    @property
    def levels(self) -> tuple[str, ...]: ...

    def features(self, rgb: np.ndarray, level: str) -> Any:
        """(1, C, h, w) features of the photo padded to the encoder's stride."""

    def painted(self, features: Any, transform: AffineMap, level: str, h: int, w: int
                ) -> np.ndarray:  # fmt: skip
        """The features given the transform, decoded, cropped to h x w: uint8."""

    def style_stats(self, style: np.ndarray) -> dict[str, FeatureStats]:
        """A painting's statistics at every level."""


def cascade_passes(nets: Passes, shape: tuple[int, ...], *, whole_side: int, tile: int) -> int:
    """How many network passes run_cascade makes for a photo of this shape: one per level
    in one piece, two per tile and level when tiled (statistics, then painting)."""
    h, w = shape[:2]
    if not tile or max(h, w) <= whole_side:
        return len(nets.levels)
    return 2 * len(nets.levels) * sum(len(row) for row in tile_grid(h, w, tile, TILE_OVERLAP))


def run_cascade(
    nets: Passes,
    photo: np.ndarray,
    style: Mapping[str, FeatureStats],
    *,
    whole_side: int,
    tile: int,
    steps: PassSteps,
) -> np.ndarray:
    """photo (HxWx3 uint8) through every level, one step of `steps` per pass; raises
    Cancelled (styler.progress) within the pass under way once the run is cancelled."""
    image = photo
    with cancel_scope(steps):
        for level in nets.levels:
            steps.check()
            if not tile or max(photo.shape[:2]) <= whole_side:
                image = _whole_level(nets, image, level, style[level])
                steps.step()
            else:
                image = _tiled_level(nets, image, level, style[level], tile, steps)
    return image


def _whole_level(nets: Passes, rgb: np.ndarray, level: str, style: FeatureStats) -> np.ndarray:
    h, w = rgb.shape[:2]
    features = nets.features(rgb, level)
    transform = whitening_colouring(_unpadded_stats(features, h, w), style)
    return nets.painted(features, transform, level, h, w)


def _unpadded_stats(features: Any, h: int, w: int) -> FeatureStats:
    """Statistics of the positions that see the image, not its reflected padding."""
    stride = STRIDE_OF_CHANNELS[features.shape[1]]
    accumulator = StatsAccumulator()
    accumulator.add(features[..., : -(-h // stride), : -(-w // stride)])
    return accumulator.stats()


def _tiled_level(
    nets: Passes, rgb: np.ndarray, level: str, style: FeatureStats, tile: int, steps: PassSteps
) -> np.ndarray:
    h, w = rgb.shape[:2]
    grid = [t for row in tile_grid(h, w, tile, TILE_OVERLAP) for t in row]
    accumulator = StatsAccumulator()
    for window in grid:
        part = rgb[window.slices]
        accumulator.add(_core(nets.features(part, level), window, *part.shape[:2]))
        steps.step()
    transform = whitening_colouring(accumulator.stats(), style)
    canvas = TileCanvas(np.zeros_like(rgb))
    for window in grid:
        part = rgb[window.slices]
        canvas.paste(window, nets.painted(nets.features(part, level), transform, level,
                                          *part.shape[:2]))  # fmt: skip
        steps.step()
    return canvas.image


def _core(features: Any, window: object, h: int, w: int) -> Any:
    """The features of a tile's own part: half of each overlap belongs to the tile before."""
    stride = STRIDE_OF_CHANNELS[features.shape[1]]
    top = window.overlap_top // 2 // stride
    left = window.overlap_left // 2 // stride
    return features[..., top : -(-h // stride), left : -(-w // stride)]
