"""The shift term of a one-pass network's training: its picture of a photo moved by a few
pixels against its picture of the photo, moved the same way.

Fast and instant networks downsample by 8, so a network trained on photos alone lays its
strokes out afresh when a scene moves by a few pixels, which a video shows as flicker
wherever the painting grid cannot follow the motion (a thing moving on its own, a zoom;
docs/video.md, "How it works"). The term is 0 for a network that paints a moved photo moved.
"""

from __future__ import annotations

import random
from collections.abc import Callable

import torch
import torch.nn.functional as F

SHIFT_BORDER = 8  # px left out at the pictures' edges, where the padding differs
EVAL_SHIFT = (3, 5)  # validation: one fixed shift, so its loss compares across evaluations
CUT = 8  # px the moved crop is shorter and narrower: its sides stay multiples of 8


def drawn_shift(seed: int, step: int, training: bool) -> tuple[int, int]:
    """(down, right) in 0-7 and 1-7 px: drawn from the seed and the step while training, so
    a resumed run draws the same; EVAL_SHIFT for validation."""
    if not training:
        return EVAL_SHIFT
    draw = random.Random(seed * 1_000_003 + step)
    return draw.randint(0, 7), draw.randint(1, 7)


def shift_error(
    paint: Callable[[torch.Tensor], torch.Tensor],
    photos: torch.Tensor,
    painted: torch.Tensor,
    shift: tuple[int, int],
) -> torch.Tensor:
    """Mean |paint(photos moved by shift) - painted moved by shift| away from the border.
    painted: paint(photos), already made by the caller's main loss."""
    down, right = shift
    h, w = photos.shape[-2:]
    window = (..., slice(down, down + h - CUT), slice(right, right + w - CUT))
    moved = paint(photos[window])
    inside = (..., slice(SHIFT_BORDER, -SHIFT_BORDER), slice(SHIFT_BORDER, -SHIFT_BORDER))
    return F.l1_loss(moved[inside], painted[window][inside])
