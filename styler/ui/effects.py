"""Painted regions as masks: what the UI's region painter hands over, made into what the
engine takes. Strength, colour and compositing are the engine's own (the same
options the CLI and API pass), never re-applied here."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

# ------------------------------------------------------------------------------------- regions

# Brush colours of the region painter, one region each.
REGIONS: dict[str, tuple[int, int, int]] = {
    "Red": (229, 57, 53),
    "Blue": (30, 136, 229),
    "Green": (67, 160, 71),
    "Yellow": (253, 216, 53),
}


def brush_colours() -> list[str]:
    return [f"rgb({r}, {g}, {b})" for r, g, b in REGIONS.values()]


def region_masks(layers: Sequence[np.ndarray | None]) -> dict[str, np.ndarray]:
    """Painted layers (HxWx4 RGBA) -> {region name: HxW float mask}, for the regions painted.

    Every painted pixel goes to the region whose brush colour is nearest, so antialiased
    stroke edges and colour-picker near misses still land in a region.
    """
    painted = [layer for layer in layers if layer is not None and np.asarray(layer).ndim == 3]
    if not painted:
        return {}
    shape = painted[0].shape[:2]
    alpha = np.zeros(shape, np.float32)
    owner = np.zeros(shape, np.int64)
    palette = np.array(list(REGIONS.values()), np.float32)
    for layer in painted:
        layer = np.asarray(layer)
        if layer.shape[:2] != shape:
            layer = np.asarray(Image.fromarray(layer).resize(shape[::-1], Image.Resampling.NEAREST))
        a = layer[..., 3].astype(np.float32) / 255 if layer.shape[2] == 4 else np.ones(shape)
        distance = ((layer[..., None, :3].astype(np.float32) - palette) ** 2).sum(-1)
        on_top = a > 0
        owner[on_top] = distance.argmin(-1)[on_top]
        alpha = np.maximum(alpha, a)
    masks = {}
    for index, name in enumerate(REGIONS):
        mask = np.where(owner == index, alpha, 0).astype(np.float32)
        if mask.max() > 0.05:
            masks[name] = mask
    return masks
