"""The outcome of stylizing one image, whatever the mode."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import numpy as np
from PIL import Image

from styler.imageio import to_array

# What every face accepts as an image: a path, a PIL image, or an HxWxC array.
ImageInput = str | os.PathLike | Image.Image | np.ndarray


@dataclass
class StylizeResult:
    """A finished (or cancelled) run: the RGB image, its alpha, and what made it."""

    image: Image.Image
    alpha: Image.Image | None
    settings: dict[str, Any]
    losses: dict[str, float]
    completed: bool  # False: stopped early, `image` is the best so far at the scale reached
    elapsed: float
    steps_done: int = 0  # optimizer mode: steps run, of steps_total
    steps_total: int = 0

    def with_alpha(self) -> Image.Image:
        """The image with the content's transparency put back (RGBA), if it had any."""
        if self.alpha is None:
            return self.image
        rgba = self.image.copy()
        rgba.putalpha(self.alpha.resize(self.image.size, Image.Resampling.LANCZOS))
        return rgba

    def returned_as(self, given: ImageInput, bgr: bool = False) -> Image.Image | np.ndarray:
        """The result in the kind of image the caller gave: arrays for arrays, PIL otherwise."""
        image = self.with_alpha()
        return to_array(image, bgr=bgr) if isinstance(given, np.ndarray) else image
