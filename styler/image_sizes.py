"""Image sizes by their long side, without PyTorch: every mode and face sizes images so."""

from __future__ import annotations

from PIL import Image

EVAL_SIZE = 512  # long side the quality distances (styler.evaluate) compare images at
# A picture's short side where it is measured, at least: relu5_1, four poolings down, still
# has two positions across it. Thin strips are measured longer than EVAL_SIZE, up to this:
MIN_MEASURED_SIDE, MAX_MEASURED_SIDE = 32, 4 * EVAL_SIZE


def scaled_size(size: tuple[int, int], long_side: int) -> tuple[int, int]:
    """(width, height) with the longer side set to `long_side`, aspect ratio kept."""
    w, h = size
    if long_side < 1:
        raise ValueError(f"size must be at least 1 px, got {long_side}")
    scale = long_side / max(w, h)
    return max(1, round(w * scale)), max(1, round(h * scale))


def resize_long_side(image: Image.Image, long_side: int) -> Image.Image:
    """Resize with Lanczos (antialiased when shrinking) so the long side is `long_side`."""
    target = scaled_size(image.size, long_side)
    return image if target == image.size else image.resize(target, Image.Resampling.LANCZOS)
