"""Tiling large images: the tile grid, and seamless multi-band joins between tiles.

Fast mode and optimizer mode both process images larger than memory allows as
overlapping tiles. Each finished tile is joined to the tiles before it with a
multi-band blend (styler.fusion.pyramid) whose mask steps from old to new in
the middle of their overlap: colour and shading cross over a wide transition,
fine strokes over a narrow one, so there is neither a seam nor the ghosting a
linear cross-fade of two different stroke patterns leaves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from styler.fusion.pyramid import blend_two


@dataclass(frozen=True)
class Tile:
    """A tile's rectangle, and how far it overlaps the tiles above and to its left."""

    top: int
    left: int
    bottom: int
    right: int
    overlap_top: int
    overlap_left: int

    @property
    def slices(self) -> tuple[slice, slice]:
        return slice(self.top, self.bottom), slice(self.left, self.right)


def tile_starts(length: int, tile: int, overlap: int) -> list[int]:
    """Start offsets covering [0, length) with tiles of `tile` px overlapping by >= `overlap`."""
    if length <= tile:
        return [0]
    stride = tile - overlap
    starts = list(range(0, length - tile, stride))
    return [*starts, length - tile]


def tile_grid(height: int, width: int, tile: int, overlap: int) -> list[list[Tile]]:
    """Rows of tiles in raster order; each knows its actual overlap with earlier tiles."""
    tops, lefts = tile_starts(height, tile, overlap), tile_starts(width, tile, overlap)
    rows = []
    for i, top in enumerate(tops):
        bottom = min(height, top + tile)
        over_top = tops[i - 1] + tile - top if i else 0
        row = []
        for j, left in enumerate(lefts):
            over_left = lefts[j - 1] + tile - left if j else 0
            row.append(Tile(top, left, bottom, min(width, left + tile), over_top, over_left))
        rows.append(row)
    return rows


def seam_levels(overlap: int) -> int:
    """Pyramid levels whose coarsest transition still fits inside half the overlap."""
    return max(1, int(math.log2(max(2, overlap) / 2)) - 1)


class TileCanvas:
    """An RGB uint8 image filled tile by tile in raster order (see tile_grid).

    A pasted tile overwrites what lies outside its overlaps; inside them it is multi-band
    blended with the earlier tiles, switching over at the middle of the overlap. Areas no
    tile has reached keep the canvas's initial pixels.
    """

    def __init__(self, image: np.ndarray) -> None:
        self.image = image

    def paste(self, tile: Tile, pixels: np.ndarray) -> None:
        region = self.image[tile.slices]
        if tile.overlap_top == 0 and tile.overlap_left == 0:
            region[:] = pixels
            return
        # Outside the overlaps "before" equals the new tile, so the blend leaves it alone.
        before = pixels.copy()
        before[: tile.overlap_top] = region[: tile.overlap_top]
        before[:, : tile.overlap_left] = region[:, : tile.overlap_left]
        height, width = pixels.shape[:2]
        rows = np.arange(height) >= tile.overlap_top // 2
        cols = np.arange(width) >= tile.overlap_left // 2
        mask = (rows[:, None] & cols[None, :]).astype(np.float32)
        overlaps = [o for o in (tile.overlap_top, tile.overlap_left) if o]
        region[:] = blend_two(pixels, before, mask, levels=seam_levels(min(overlaps)))
