"""The shift term that teaches one-pass networks to paint a moved photo moved."""

from __future__ import annotations

import torch
import torch.nn.functional as F

from styler.shift_term import EVAL_SHIFT, drawn_shift, shift_error


def _photos() -> torch.Tensor:
    torch.manual_seed(0)
    return torch.rand(2, 3, 64, 64)


def test_a_network_that_moves_with_the_photo_scores_zero() -> None:
    photos = _photos()
    pointwise = torch.nn.Conv2d(3, 3, 1)  # paints each pixel alone: shifts commute with it
    with torch.no_grad():
        error = shift_error(pointwise, photos, pointwise(photos), (3, 5))
    assert float(error) < 1e-6


def test_an_eight_pixel_grid_lays_its_picture_out_afresh() -> None:
    """Downsampling by 8 and back, as the fast and instant networks do: a shift that is not a
    multiple of 8 changes the picture, one that is does not."""
    photos = _photos()

    def blocky(x: torch.Tensor) -> torch.Tensor:
        return F.interpolate(F.avg_pool2d(x, 8), scale_factor=8, mode="nearest")

    assert float(shift_error(blocky, photos, blocky(photos), (3, 5))) > 0.01
    assert float(shift_error(blocky, photos, blocky(photos), (0, 8))) < 1e-6


def test_shifts_are_drawn_from_the_step_and_fixed_for_validation() -> None:
    drawn = [drawn_shift(0, step, training=True) for step in range(50)]
    assert drawn == [drawn_shift(0, step, training=True) for step in range(50)]  # resumable
    assert len(set(drawn)) > 10
    assert all(0 <= down <= 7 and 1 <= right <= 7 for down, right in drawn)
    assert drawn_shift(0, 7, training=False) == EVAL_SHIFT
