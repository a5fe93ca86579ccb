"""Video frames in fast mode where `auto` runs float (a CPU without int8 dot products):
painted by the style's shift-trained twin, which keeps a moved frame's strokes in place;
photos, and any precision asked for by name, keep the network itself."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import GALLERY
from PIL import Image

from styler.fast.inference import FastStylizer
from styler.precision import NO_INT8_DOT_ENV

pytest.importorskip("onnxruntime")

SHIFT = 3  # px: not a multiple of the network's 8-pixel grid, so strokes are laid out afresh
BORDER = 16  # px left out of the comparison: padding differs at the edges


@pytest.fixture
def no_int8_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NO_INT8_DOT_ENV, "1")


def _photo() -> np.ndarray:
    image = Image.open(GALLERY / "photos" / "astronaut.jpg").convert("RGB")
    return np.asarray(image.resize((256, 256), Image.Resampling.LANCZOS))


def _painted(stylizer: FastStylizer, rgb: np.ndarray, frame: bool) -> tuple[np.ndarray, dict]:
    result = stylizer.run(rgb, grid=(0.0, 0.0) if frame else None)
    return np.asarray(result.image, np.int16), result.settings["engine"]


def _shift_change(stylizer: FastStylizer, frame: bool) -> float:
    """Mean grey-level change between the painting of a photo moved by SHIFT px, moved
    back, and the painting of the photo: what a pan shows as flicker."""
    rgb = _photo()
    still, _ = _painted(stylizer, rgb, frame)
    moved, _ = _painted(stylizer, np.ascontiguousarray(rgb[SHIFT:, SHIFT:]), frame)
    inner = (slice(BORDER, -BORDER), slice(BORDER, -BORDER))
    return float(np.abs(moved[inner] - still[SHIFT:, SHIFT:][inner]).mean())


def test_frames_take_the_twin_where_auto_runs_float_and_it_paints_a_moved_frame_moved(
    no_int8_dot: None,
) -> None:
    stylizer = FastStylizer("udnie", device="cpu")
    photo, photo_notes = _painted(stylizer, _photo(), frame=False)
    frame, frame_notes = _painted(stylizer, _photo(), frame=True)
    assert photo_notes["precision"] == frame_notes["precision"] == "fp32"
    assert "frames" not in photo_notes and frame_notes["frames"] == "twin"
    # The same painting of the scene (the twin learned from the network) but not the same
    # pixels: the twin paints its own strokes.
    difference = np.abs(photo - frame).mean()
    assert 2 < difference < 25, difference
    assert _shift_change(stylizer, frame=True) < 0.8 * _shift_change(stylizer, frame=False)


def test_a_precision_asked_for_by_name_paints_frames_with_the_network_itself(
    no_int8_dot: None,
) -> None:
    stylizer = FastStylizer("udnie", device="cpu", precision="fp32")
    photo, _ = _painted(stylizer, _photo(), frame=False)
    frame, notes = _painted(stylizer, _photo(), frame=True)
    assert "frames" not in notes
    assert np.array_equal(photo, frame)
