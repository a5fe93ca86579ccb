"""Shared fixtures: small generated images, the shared data folder when present, and the
live UI server with Chromium for the browser tests (tests/live_ui.py: installed on first
use where possible, else those tests skip)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import numpy as np
import pytest
from live_ui import browser, chromium, page, server  # noqa: F401 - fixtures for every module
from PIL import Image

from styler.device import use_all_cores

use_all_cores()
# onnxruntime exports of test networks go to a throwaway cache, not the user's; it is
# removed when the run ends (each run's exports would otherwise stay behind in /tmp).
_TEST_CACHE = tempfile.TemporaryDirectory(prefix="styler-test-cache-")
os.environ.setdefault("STYLER_CACHE_DIR", _TEST_CACHE.name)

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


@pytest.fixture(scope="module")
def tiny_net(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tiny fast-mode network file (one of tests.ui_helpers' two), made once a module."""
    from tests.ui_helpers import make_tiny_styles  # PyTorch: loaded by the modules that ask

    return make_tiny_styles(tmp_path_factory.mktemp("weights")) / "warm_test.safetensors"


def shared_file(relative: str) -> Path:
    """A file from ../shared/data, or skip: the suite must pass without it."""
    path = SHARED_DATA / relative
    if not path.is_file():
        pytest.skip(f"needs {relative} from the shared data folder, absent here")
    return path


def border_gradients(image: np.ndarray, rows: list[list]) -> tuple[float, float]:
    """Mean |gradient| across tile borders, and across every other row/column boundary.

    Borders are where a tile starts, where the one before it ends, and the middle of their
    overlap (where a multi-band join switches its finest band); rows come from tile_grid.
    """
    pixels = image.astype(np.float32)
    across_cols = np.abs(np.diff(pixels, axis=1)).mean(axis=(0, 2))  # boundary c-1 | c
    across_rows = np.abs(np.diff(pixels, axis=0)).mean(axis=(1, 2))
    cols, lines = set(), set()
    for tile in rows[0][1:]:
        cols |= {tile.left, tile.left + tile.overlap_left // 2, tile.left + tile.overlap_left}
    for row in rows[1:]:
        tile = row[0]
        lines |= {tile.top, tile.top + tile.overlap_top // 2, tile.top + tile.overlap_top}
    col_mask = np.zeros(len(across_cols), bool)
    col_mask[[c - 1 for c in cols]] = True
    row_mask = np.zeros(len(across_rows), bool)
    row_mask[[r - 1 for r in lines]] = True
    border = np.concatenate([across_cols[col_mask], across_rows[row_mask]])
    rest = np.concatenate([across_cols[~col_mask], across_rows[~row_mask]])
    return float(border.mean()), float(rest.mean())
