"""Video frames in instant mode: painted by the frames' decoder (the photos' decoder
fine-tuned with the shift term), which keeps a moved frame's strokes in place; photos, and
the int8 graphs (quantized from the photos' decoder), keep the photos' decoder."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import GALLERY
from PIL import Image

from styler.instant.stylizer import InstantStylizer

pytest.importorskip("onnxruntime")

SHIFT = 3  # px: not a multiple of the encoder's 8-pixel grid, so strokes are laid out afresh
BORDER = 16  # px left out of the comparison: padding differs at the edges
PAINTING = GALLERY / "styles" / "swirls.jpg"


def _photo() -> np.ndarray:
    image = Image.open(GALLERY / "photos" / "astronaut.jpg").convert("RGB")
    return np.asarray(image.resize((256, 256), Image.Resampling.LANCZOS))


def _painted(stylizer: InstantStylizer, rgb: np.ndarray, frame: bool) -> tuple[np.ndarray, dict]:
    result = stylizer.run(rgb, grid=(0.0, 0.0) if frame else None)
    return np.asarray(result.image, np.int16), result.settings["engine"]


def _shift_change(stylizer: InstantStylizer, frame: bool) -> float:
    """Mean grey-level change between the painting of a photo moved by SHIFT px, moved
    back, and the painting of the photo: what a moving picture shows as flicker."""
    rgb = _photo()
    still, _ = _painted(stylizer, rgb, frame)
    moved, _ = _painted(stylizer, np.ascontiguousarray(rgb[SHIFT:, SHIFT:]), frame)
    inner = (slice(BORDER, -BORDER), slice(BORDER, -BORDER))
    return float(np.abs(moved[inner] - still[SHIFT:, SHIFT:][inner]).mean())


def test_frames_take_the_frames_decoder_which_paints_a_moved_frame_moved() -> None:
    stylizer = InstantStylizer(PAINTING, device="cpu", precision="fp32")
    photo, photo_notes = _painted(stylizer, _photo(), frame=False)
    frame, frame_notes = _painted(stylizer, _photo(), frame=True)
    assert "frames" not in photo_notes and frame_notes["frames"] == "frames decoder"
    assert frame_notes["decoders"] != photo_notes["decoders"]  # each records its own training
    # The same painting of the scene (fine-tuned from the photos' decoder), not the same pixels
    difference = np.abs(photo - frame).mean()
    assert 1 < difference < 25, difference
    assert _shift_change(stylizer, frame=True) < 0.9 * _shift_change(stylizer, frame=False)


def test_int8_frames_keep_the_graphs_quantized_from_the_photos_decoder() -> None:
    stylizer = InstantStylizer(PAINTING, device="cpu", precision="int8")
    photo, _ = _painted(stylizer, _photo(), frame=False)
    frame, notes = _painted(stylizer, _photo(), frame=True)
    assert "frames" not in notes
    assert np.array_equal(photo, frame)
