"""Shared fixtures: small generated images, and the shared data folder when present."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from styler.device import use_all_cores

use_all_cores()

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
GALLERY = Path(__file__).resolve().parents[1] / "gallery"


def gradient_photo(width: int = 64, height: int = 48, seed: int = 0) -> Image.Image:
    """A smooth 'photo': colour gradients plus a bright square, so content has structure."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([x / width, y / height, 0.5 + 0.5 * np.sin(x / 5.0)], axis=-1) * 200
    rgb[height // 4 : height // 2, width // 4 : width // 2] = 250
    rgb += rng.normal(0, 4, rgb.shape)
    return Image.fromarray(rgb.clip(0, 255).astype(np.uint8), "RGB")


def stripe_style(width: int = 64, height: int = 64) -> Image.Image:
    """A 'painting' with a strong texture: diagonal blue and yellow stripes."""
    y, x = np.mgrid[0:height, 0:width]
    band = ((x + y) // 4) % 2 == 0
    rgb = np.where(band[..., None], [30, 60, 200], [240, 210, 40]).astype(np.uint8)
    return Image.fromarray(rgb, "RGB")


@pytest.fixture
def photo() -> Image.Image:
    return gradient_photo()


@pytest.fixture
def style() -> Image.Image:
    return stripe_style()


def shared_file(relative: str) -> Path:
    """A file from ../shared/data, or skip: the suite must pass without it."""
    path = SHARED_DATA / relative
    if not path.is_file():
        pytest.skip(f"needs {relative} from the shared data folder, absent here")
    return path
