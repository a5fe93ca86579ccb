"""What a picture holds under its fully transparent pixels is no part of it: whatever the app
that saved it left there (black, white, an earlier frame's picture). The networks see every
pixel, and a convolution's view reaches across the edge of the visible part, so those hidden
colours changed how the visible part was painted (a sticker painted pale on one frame and
dark on the next). They are replaced by the visible colours spread smoothly outwards."""

from __future__ import annotations

import numpy as np


def hidden_filled(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """`rgb` (HxWx3 uint8) with its pixels where `alpha` (HxW) is 0 filled from the visible
    ones by pull-push: the visible colours averaged over ever larger blocks, each hidden
    pixel given the finest average that reaches it, upsampled smoothly. The same visible
    pixels give the same fill, whatever was hidden. Returned as it is where nothing is
    hidden, or nothing visible."""
    hidden = alpha == 0
    if not hidden.any() or hidden.all():
        return rgb
    import cv2  # only for pictures with transparency: a photo's command never loads it

    weight = (~hidden).astype(np.float32)
    colour = rgb.astype(np.float32) * weight[..., None]
    levels = []  # each halving's (colour times weight, weight), down to 1x1
    while max(weight.shape) > 1:
        size = (max(1, weight.shape[1] // 2), max(1, weight.shape[0] // 2))
        colour = cv2.resize(colour, size, interpolation=cv2.INTER_AREA).reshape(*size[::-1], 3)
        weight = cv2.resize(weight, size, interpolation=cv2.INTER_AREA).reshape(size[::-1])
        levels.append((colour, weight))
    filled = colour / np.maximum(weight, 1e-12)[..., None]  # 1x1: the visible mean
    for colour, weight in reversed(levels[:-1]):
        filled = np.where(weight[..., None] > 0, colour / np.maximum(weight, 1e-12)[..., None],
                          _enlarged(filled, weight.shape))  # fmt: skip
    spread = np.clip(np.rint(_enlarged(filled, hidden.shape)), 0, 255).astype(np.uint8)
    out = rgb.copy()
    np.copyto(out, spread, where=hidden[..., None])  # the visible pixels keep their own
    return out


def _enlarged(picture: np.ndarray, shape: tuple[int, ...]) -> np.ndarray:
    import cv2

    height, width = shape[:2]
    return cv2.resize(picture, (width, height), interpolation=cv2.INTER_LINEAR).reshape(
        height, width, 3)
