"""Regional styles: masks that give each part of a photo its own style, or none.

A mask may be an image file, a PIL image or an array of any size and mode (greyscale, RGB,
RGBA, palette, bool): its grey level times its opacity is the region's weight in [0, 1], and
it is resized to the photo. Regions are joined with a multi-band blend, so their edges
never show a hard cut; `feather` widens the transition further.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from styler.controls import CONTROLS, OPTIMIZE
from styler.errors import OptionsError
from styler.fusion.arrays import check_rgb, resize_to
from styler.fusion.pyramid import multiband_blend
from styler.imageio import LoadedImage, load_image

MaskInput = str | os.PathLike | Image.Image | np.ndarray | LoadedImage
REGION_FEATHER = CONTROLS["feather"].default  # px at the output size


def check_feather(feather: float) -> float:
    """feather as a float when the feather control accepts it, else InvalidOption."""
    return CONTROLS["feather"].check(feather, OPTIMIZE)


def mask_name(source: MaskInput) -> str:
    """How settings and messages refer to a mask: its path, or '<array>' / '<image>'."""
    if isinstance(source, LoadedImage):
        return source.source
    if isinstance(source, str | os.PathLike):
        return os.fsdecode(source)
    return "<array>" if isinstance(source, np.ndarray) else "<image>"


def split_regions(regions: Sequence[Any]) -> tuple[list[MaskInput], list[Any]]:
    """Masks and styles of (mask, style) pairs; anything else is a one-line OptionsError."""
    for number, region in enumerate(regions, start=1):
        if not (isinstance(region, tuple | list) and len(region) == 2):
            raise OptionsError(f"region {number}: expected a (mask, style or None) pair")
    return [mask for mask, _ in regions], [style for _, style in regions]


def load_mask(source: MaskInput, height: int, width: int) -> np.ndarray:
    """HxW float32 weights in [0, 1] at height x width: grey level times opacity.

    Raises ImageLoadError naming an unreadable file, OptionsError for an empty mask (nothing
    selected would silently drop the region's style).
    """
    if isinstance(source, np.ndarray) and source.dtype == bool:
        source = source.astype(np.float32)
    loaded = load_image(source)
    weight = np.asarray(loaded.rgb.convert("L"), np.float32) / 255.0
    if loaded.alpha is not None:
        weight *= np.asarray(loaded.alpha, np.float32) / 255.0
    if float(weight.max()) <= 0.0:
        raise OptionsError(
            f"mask {mask_name(source)} is empty (all black or transparent): paint the region white"
        )
    return np.clip(resize_to(weight, height, width), 0.0, 1.0)


def load_region_masks(
    masks: Sequence[MaskInput], styles: Sequence[object], height: int, width: int
) -> list[np.ndarray]:
    """One weight mask per region style, each at height x width (see load_mask)."""
    if len(masks) != len(styles):
        raise OptionsError(
            f"{len(masks)} region masks but {len(styles)} region styles: "
            "give each mask one style (or none)"
        )
    return [load_mask(mask, height, width) for mask in masks]


def composite(
    base: np.ndarray,
    layers: Sequence[tuple[np.ndarray, np.ndarray]],
    feather: float = REGION_FEATHER,
) -> np.ndarray:
    """base everywhere except the (image, mask) regions, each showing its image.

    Images and masks are resized to base's size; the seams are multi-band blended
    (feather: Gaussian sigma in px applied to the masks first).
    """
    check_rgb(base, "base image")
    if not layers:
        return base
    height, width = base.shape[:2]
    images = [base] + [resize_to(check_rgb(image, "region image"), height, width)
                       for image, _ in layers]  # fmt: skip
    masks = [np.clip(resize_to(np.asarray(mask, np.float32), height, width), 0.0, 1.0)
             for _, mask in layers]  # fmt: skip
    rest = np.clip(1.0 - np.sum(masks, axis=0), 0.0, 1.0)
    return multiband_blend(images, [rest, *masks], feather=check_feather(feather))
