"""Tiny and extreme shapes in optimizer mode and in fusion (fast mode: test_reliability.py).

1x1, 2x2, 1xN, Nx1 and 1x20000 photos give a result of the right size (optimizer mode pads
what VGG19 cannot take and crops it back) or a clear one-line refusal, never a crash.
"""

from __future__ import annotations

import numpy as np
import pytest

from styler import Stylizer
from styler.errors import ImageSizeError, StylerError
from styler.fusion import (
    add_detail,
    apply_strength,
    blend_two,
    composite,
    exposure_fusion,
    focus_stack,
    hue_statistics,
    luminance_transfer,
    match_colors,
    multiband_blend,
    preserve_colors,
)
from styler.image_sizes import scaled_size
from styler.optimize import VGG_MIN_SIDE, _vgg_padding
from tests.conftest import stripe_style

SHAPES = [(1, 1), (2, 2), (1, 7), (7, 1), (3, 40), (1, 20000), (20000, 1)]


def noise(height: int, width: int, seed: int = 0) -> np.ndarray:
    return np.random.default_rng(seed).integers(0, 256, (height, width, 3), np.uint8)


@pytest.fixture(scope="module")
def stylizer() -> Stylizer:
    return Stylizer(device="cpu")


@pytest.mark.slow
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_optimizer_mode_takes_every_shape(stylizer, shape) -> None:
    """At size 32 with colour preservation 'match' (np.cov of one pixel once raised
    LinAlgError), and at size 0 (the photo's own) where the size control allows it."""
    photo = noise(*shape)
    style = np.asarray(stripe_style(24, 24))
    height, width = shape
    for size, preserve in ((32, "match"), (0, "luminance")):
        if size == 0 and max(shape) > 16384:
            with pytest.raises(ImageSizeError, match="its own size is over the 16384 px limit"):
                stylizer.stylize(photo, style, size=0, steps=1)
            continue
        out = stylizer.stylize(photo, style, size=size, steps=1, preserve_color=preserve)
        expected = {scaled_size((width, height), size or max(shape)),
                    scaled_size((width, height), min(size or max(shape), max(shape)))}
        assert (out.shape[1], out.shape[0]) in expected and out.dtype == np.uint8


@pytest.mark.slow
@pytest.mark.parametrize("shape", [(1, 1), (1, 7)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_optimizer_regions_on_tiny_photos(stylizer, shape) -> None:
    mask = np.zeros(shape, bool)
    mask[:, : max(1, shape[1] // 2)] = True
    out = stylizer.stylize(noise(*shape), np.asarray(stripe_style(24, 24)), size=0, steps=1,
                           regions=[(mask, None)])  # fmt: skip
    assert out.shape == (*shape, 3)


def test_vgg_padding_reaches_the_minimum_and_is_centred() -> None:
    for width, height in [(1, 1), (7, 40), (32, 5), (100, 100)]:
        left, right, top, bottom = _vgg_padding((width, height))
        assert width + left + right >= VGG_MIN_SIDE and height + top + bottom >= VGG_MIN_SIDE
        assert abs(left - right) <= 1 and abs(top - bottom) <= 1
    assert _vgg_padding((100, 100)) == (0, 0, 0, 0)


FUSIONS = {
    "match_colors": lambda a, b, m: match_colors(a, b),
    "preserve match": lambda a, b, m: preserve_colors(a, b, "match"),
    "luminance yiq": lambda a, b, m: luminance_transfer(a, b),
    "luminance lab": lambda a, b, m: luminance_transfer(a, b, space="lab"),
    "strength": lambda a, b, m: apply_strength(a, b, 0.5),
    "blend": lambda a, b, m: blend_two(a, b, m),
    "blend feathered": lambda a, b, m: blend_two(a, b, m, feather=4),
    "multiband 5 levels": lambda a, b, m: multiband_blend([a, b], [m, 1 - m], levels=5),
    "composite": lambda a, b, m: composite(a, [(b, m)], feather=8),
    "add_detail": lambda a, b, m: add_detail(a, b, 3),
    "exposure fusion": lambda a, b, m: exposure_fusion([a, b]),
    "focus stack": lambda a, b, m: focus_stack([a, b], align_first=False),
    "aligned exposure fusion": lambda a, b, m: exposure_fusion([a, a.copy()], align_first=True),
    "aligned focus stack": lambda a, b, m: focus_stack([a, a.copy()]),
}


@pytest.mark.parametrize("name", sorted(FUSIONS))
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_fusion_takes_every_shape(shape, name) -> None:
    a, b = noise(*shape, seed=1), noise(*shape, seed=2)
    mask = np.random.default_rng(3).random(shape).astype(np.float32)
    out = FUSIONS[name](a, b, mask)
    assert out.shape == a.shape and out.dtype == np.uint8


def test_match_colors_of_one_pixel_moves_it_to_the_photo_colour() -> None:
    dot = np.array([[[10, 200, 30]]], np.uint8)
    photo = np.array([[[120, 40, 220]]], np.uint8)
    assert np.abs(match_colors(dot, photo).astype(int) - photo).max() <= 1
    assert hue_statistics(dot).strength > 0


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("method", ["ecc", "orb"])
def test_aligning_tiny_frames_works_or_refuses_in_one_line(shape, method) -> None:
    """Two different noise frames have nothing in common: alignment says so in one line
    (and does not send the user to the other method when neither can work)."""
    a, b = noise(*shape, seed=4), noise(*shape, seed=5)
    try:
        out = exposure_fusion([a, b], align_first=True, method=method)
    except StylerError as exc:
        assert "\n" not in str(exc) and str(exc).startswith("image 2: cannot align it")
        if max(shape) < 64 or min(shape) < 64:
            assert "try the orb method" not in str(exc)
    else:
        assert out.shape == a.shape
