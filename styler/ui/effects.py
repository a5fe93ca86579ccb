"""Strength, colour preservation and region compositing, as the UI applies them.

The algorithms live in the engine (`styler.fusion`); this module only chooses which to call
for each mode and converts between PIL images and the arrays fusion works on. It imports
`styler.fusion` lazily, so a build without it still serves everything else.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from PIL import Image

from styler import fusion

COLOUR_MODES = {
    "Off": "off",
    "Keep photo colours (luminance)": "luminance",
    "Match style to photo colours": "match",
}
REGION_FEATHER = 6.0  # px at the output size; the engine's default (fusion.regions) too


def as_array(image: Image.Image) -> np.ndarray:
    return np.asarray(image.convert("RGB"))


def as_image(array: np.ndarray) -> Image.Image:
    return Image.fromarray(np.ascontiguousarray(array), "RGB")


def fit(image: Image.Image, size: tuple[int, int]) -> Image.Image:
    return image if image.size == size else image.resize(size, Image.Resampling.LANCZOS)


def apply_strength(stylized: Image.Image, photo: Image.Image, strength: float) -> Image.Image:
    """Mix from the untouched photo (0) to full style (1), keeping edges crisp in between
    (the engine's edge-preserving mix, fusion.strength)."""
    if strength == 1:
        return stylized
    return as_image(fusion.apply_strength(as_array(stylized), as_array(photo), strength))


def preserve_colour(stylized: Image.Image, photo: Image.Image, mode: str) -> Image.Image:
    """After the transfer: 'luminance' keeps the photo's chroma; 'match' (fast mode, where the
    style image cannot be recoloured first) moves the result's colour statistics to the photo's."""
    if mode == "off":
        return stylized
    return as_image(fusion.preserve_colors(as_array(stylized), as_array(photo), mode))


def match_style_colours(style: Image.Image, photo: Image.Image) -> Image.Image:
    """Before an optimizer run: recolour the style image to the photo's colour statistics."""
    return as_image(fusion.match_colors(as_array(style), as_array(photo)))


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


def composite(
    base: Image.Image,
    regions: Sequence[tuple[Image.Image, np.ndarray]],
    feather: float = REGION_FEATHER,
) -> Image.Image:
    """base everywhere except the painted regions, each with its own image, multi-band blended
    (the engine's fusion.regions.composite)."""
    if not regions:
        return base
    layers = [(as_array(image), mask) for image, mask in regions]
    return as_image(fusion.composite(as_array(base), layers, feather=feather))
