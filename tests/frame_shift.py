"""What the frame-network tests of both one-pass modes measure: how much a painting changes
when the photo moves by a few pixels (what a moving picture shows as flicker)."""

from __future__ import annotations

from typing import Any

import numpy as np
from conftest import GALLERY
from PIL import Image

SHIFT = 3  # px: not a multiple of the networks' 8-pixel grid, so strokes are laid out afresh
BORDER = 16  # px left out of the comparison: padding differs at the edges


def astronaut() -> np.ndarray:
    image = Image.open(GALLERY / "photos" / "astronaut.jpg").convert("RGB")
    return np.asarray(image.resize((256, 256), Image.Resampling.LANCZOS))


def painted(stylizer: Any, rgb: np.ndarray, frame: bool) -> tuple[np.ndarray, dict]:
    """(the picture, the engine's notes) of rgb as a photo, or as a video frame (a frame
    comes with its place on the painting grid)."""
    result = stylizer.run(rgb, grid=(0.0, 0.0) if frame else None)
    return np.asarray(result.image, np.int16), result.settings["engine"]


def shift_change(stylizer: Any, frame: bool) -> float:
    """Mean grey-level change between the painting of the photo moved by SHIFT px, moved
    back, and the painting of the photo."""
    rgb = astronaut()
    still, _ = painted(stylizer, rgb, frame)
    moved, _ = painted(stylizer, np.ascontiguousarray(rgb[SHIFT:, SHIFT:]), frame)
    inner = (slice(BORDER, -BORDER), slice(BORDER, -BORDER))
    return float(np.abs(moved[inner] - still[SHIFT:, SHIFT:][inner]).mean())
