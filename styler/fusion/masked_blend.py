"""Two photos blended through a mask, as `styler fuse blend` and the web UI's Fusion tab do
it: one function, so both faces give the same pixels and the same words (the tab read the
mask without its transparency and stretched a second photo of another size, where the
command refused it)."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from PIL import Image

from styler.errors import OptionsError
from styler.fusion.arrays import resize_to, size_text
from styler.fusion.pyramid import blend_alphas, blend_two, default_levels
from styler.imageio import LoadedImage


@dataclass
class MaskedBlend:
    image: np.ndarray  # HxWx3 uint8
    alpha: Image.Image | None  # the blended transparency, None where neither photo has any
    levels: int  # the pyramid's depth used (0 asked for the default)
    notes: list[str] = field(default_factory=list)  # warnings, each a sentence


def blend_through_mask(first: LoadedImage, second: LoadedImage, mask: LoadedImage,
                       names: tuple[str, str, str], *, feather: float,
                       levels: int) -> MaskedBlend:  # fmt: skip
    """`first` where the mask is white, `second` where it is black (its transparent pixels
    count as black), blended band by band. `names` (first, second, mask) word the errors
    and notes; photos of different sizes are refused, never stretched."""
    first_name, second_name, mask_name = names
    if first.rgb.size != second.rgb.size:
        raise OptionsError(
            f"images differ in size: {first_name} is {size_text(np.asarray(first.rgb))}, "
            f"{second_name} is {size_text(np.asarray(second.rgb))}; resize them first"
        )
    width, height = first.rgb.size
    weights = np.asarray(mask.rgb.convert("L"), dtype=np.float32) / 255.0
    if mask.alpha is not None:
        weights *= np.asarray(mask.alpha, dtype=np.float32) / 255.0
    notes = []
    if weights.max() == 0.0:
        notes.append(f"{mask_name} is all black: the output is {second_name} unchanged")
    elif weights.min() == 1.0:
        notes.append(f"{mask_name} is all white: the output is {first_name} unchanged")
    weights = np.clip(resize_to(weights, height, width), 0.0, 1.0)
    levels = levels or default_levels(height, width)
    image = blend_two(np.asarray(first.rgb), np.asarray(second.rgb), weights, feather=feather,
                      levels=levels)  # fmt: skip
    alphas = [None if item.alpha is None else np.asarray(item.alpha) for item in (first, second)]
    alpha = blend_alphas(*alphas, weights, feather=feather, levels=levels)
    return MaskedBlend(image, None if alpha is None else Image.fromarray(alpha), levels, notes)
