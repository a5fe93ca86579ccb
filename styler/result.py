"""The outcome of stylizing one image, whatever the mode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from PIL import Image


@dataclass
class StylizeResult:
    """A finished (or cancelled) run: the RGB image, its alpha, and what made it."""

    image: Image.Image
    alpha: Image.Image | None
    settings: dict[str, Any]
    losses: dict[str, float]
    completed: bool
    elapsed: float

    def with_alpha(self) -> Image.Image:
        """The image with the content's transparency put back (RGBA), if it had any."""
        if self.alpha is None:
            return self.image
        rgba = self.image.copy()
        rgba.putalpha(self.alpha.resize(self.image.size, Image.Resampling.LANCZOS))
        return rgba
