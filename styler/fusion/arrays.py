"""Input checks and conversions shared by the fusion modules.

Fusion works on raw numpy arrays, so a wrong shape or dtype would otherwise surface as an
obscure OpenCV assertion; these turn it into a one-line OptionsError naming the input.
"""

from __future__ import annotations

import cv2
import numpy as np

from styler.errors import OptionsError


def check_rgb(image: np.ndarray, name: str) -> np.ndarray:
    """The image itself when it is HxWx3 uint8, else OptionsError naming it."""
    if not isinstance(image, np.ndarray) or image.ndim != 3 or image.shape[2] != 3:
        shape = getattr(image, "shape", type(image).__name__)
        raise OptionsError(f"{name}: expected an HxWx3 RGB array, got {shape}")
    if image.dtype != np.uint8:
        raise OptionsError(f"{name}: expected uint8 pixels, got {image.dtype}")
    if image.size == 0:
        raise OptionsError(f"{name}: image is empty (shape {image.shape})")
    return image


def check_mask(mask: np.ndarray, shape: tuple[int, int], name: str) -> np.ndarray:
    """The mask as float32 when it is HxW (matching shape) with values in [0, 1]."""
    mask = np.asarray(mask)
    if mask.shape != shape:
        raise OptionsError(f"{name}: expected an HxW mask of shape {shape}, got {mask.shape}")
    if not np.issubdtype(mask.dtype, np.floating):
        raise OptionsError(f"{name}: expected float values in [0, 1], got dtype {mask.dtype}")
    mask = mask.astype(np.float32, copy=False)
    low, high = float(mask.min()), float(mask.max())
    if not (low >= 0.0 and high <= 1.0):  # also rejects NaN
        raise OptionsError(f"{name}: mask values must lie in [0, 1], got [{low:g}, {high:g}]")
    return mask


def size_text(image: np.ndarray) -> str:
    """'WxH', the way image sizes are written everywhere else in styler."""
    return f"{image.shape[1]}x{image.shape[0]}"


def to_uint8(values: np.ndarray) -> np.ndarray:
    """Round and clip float pixels (0..255 scale) to uint8."""
    return np.clip(np.rint(values), 0, 255).astype(np.uint8)


def resize_to(image: np.ndarray, height: int, width: int) -> np.ndarray:
    """image at height x width: area averaging to shrink (no aliasing), cubic to enlarge."""
    if image.shape[:2] == (height, width):
        return image
    shrinking = image.shape[0] * image.shape[1] > height * width
    interpolation = cv2.INTER_AREA if shrinking else cv2.INTER_CUBIC
    return cv2.resize(image, (width, height), interpolation=interpolation)
