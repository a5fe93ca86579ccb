"""Where a photo sits on a network's pixel grid, so a moving camera does not re-roll strokes.

A feed-forward network that downsamples by 8 (three stride-2 stages) paints the same scene
the same way only when it lands on the same place of that 8-pixel grid: shifted by 8 px its
picture moves with it, shifted by 1-4 px its strokes are laid out afresh, which is most of
what makes a panning or shaking video flicker (docs/video.md, "How it works"). A video
keeps a continuous phase that follows the camera (styler.video.steady) and each frame is
padded at its top and left so the scene falls where it fell on the frame before.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

GridPhase = tuple[float, float]  # (down, right) in the photo's pixels, any real values
Shift = tuple[int, int]  # (down, right) in the network's input pixels, 0 <= each < period


def grid_shift(phase: GridPhase, scale: float, period: int) -> Shift:
    """The padding that puts the photo at `phase` on the network's grid; scale: the network
    input's pixels per photo pixel (below 1 when it paints a reduced copy)."""
    down, right = (round(value * scale) % period for value in phase)
    return int(down), int(right)


def shifted_pass(paint: Callable[[np.ndarray], np.ndarray], rgb: np.ndarray,
                 shift: Shift) -> np.ndarray:  # fmt: skip
    """paint(rgb) with rgb padded by `shift` px at the top and left (edge pixels repeated)
    and the padding cut off the result."""
    down, right = shift
    if down == 0 and right == 0:
        return paint(rgb)
    padded = np.pad(rgb, ((down, 0), (right, 0), (0, 0)), mode="edge")
    return paint(padded)[down:, right:]
