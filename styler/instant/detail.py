"""Painting on a reduced copy and putting the photo's own finer detail back.

Instant mode paints a photo longer than its stroke side on a copy at that side (the strokes
keep their size relative to the picture, and the pass costs a fraction), then adds to the
enlarged painting exactly what the copy lost: the photo minus the copy enlarged. Edges and
fine texture come back sharp and the colours stay the painting's. Pillow and integer
arithmetic only, so an app without styler reproduces it to the pixel (docs/embedding.md).
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from styler.image_sizes import scaled_size


def reduced_copy(photo: np.ndarray, side: int) -> np.ndarray:
    """photo (HxWx3 uint8) with its long side brought down to `side` (itself if not longer)."""
    h, w = photo.shape[:2]
    if max(h, w) <= side:
        return photo
    size = scaled_size((w, h), side)
    return np.asarray(Image.fromarray(photo).resize(size, Image.Resampling.LANCZOS))


def _enlarged(image: np.ndarray, h: int, w: int) -> np.ndarray:
    return np.asarray(Image.fromarray(image).resize((w, h), Image.Resampling.LANCZOS), np.int16)


def with_detail(painted: np.ndarray, copy: np.ndarray, photo: np.ndarray) -> np.ndarray:
    """painted (at the copy's size) enlarged to the photo's, plus photo - copy enlarged."""
    h, w = photo.shape[:2]
    detail = photo.astype(np.int16) - _enlarged(copy, h, w)
    return np.clip(_enlarged(painted, h, w) + detail, 0, 255).astype(np.uint8)
