"""Video frames in instant mode: painted by the frames' decoder (the photos' decoder
fine-tuned with the shift term), which keeps a moved frame's strokes in place, in float and
in int8 (its own int8 graph); photos keep the photos' decoder."""

from __future__ import annotations

import numpy as np
import pytest
from conftest import GALLERY
from frame_shift import astronaut, painted, shift_change

import styler.instant.stylizer as stylizer_module
from styler.instant.runtime import FRAMES_DECODER_KEY
from styler.instant.stylizer import InstantStylizer

pytest.importorskip("onnxruntime")

PAINTING = GALLERY / "styles" / "swirls.jpg"


def test_frames_take_the_frames_decoder_which_paints_a_moved_frame_moved() -> None:
    stylizer = InstantStylizer(PAINTING, device="cpu", precision="fp32")
    photo, photo_notes = painted(stylizer, astronaut(), frame=False)
    frame, frame_notes = painted(stylizer, astronaut(), frame=True)
    assert "frames" not in photo_notes and frame_notes["frames"] == "frames decoder"
    assert frame_notes["decoders"] != photo_notes["decoders"]  # each records its own training
    # The same painting of the scene (fine-tuned from the photos' decoder), not the same pixels
    difference = np.abs(photo - frame).mean()
    assert 1 < difference < 25, difference
    assert shift_change(stylizer, frame=True) < 0.9 * shift_change(stylizer, frame=False)


def test_int8_frames_take_the_frames_decoders_own_int8_graph() -> None:
    stylizer = InstantStylizer(PAINTING, device="cpu", precision="int8")
    _, photo_notes = painted(stylizer, astronaut(), frame=False)
    _, notes = painted(stylizer, astronaut(), frame=True)
    assert "frames" not in photo_notes and notes["frames"] == "frames decoder"
    assert notes["precision"] == photo_notes["precision"] == "int8"
    assert shift_change(stylizer, frame=True) < 0.9 * shift_change(stylizer, frame=False)


def test_int8_frames_without_their_graph_keep_the_photos_decoder(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    shipped = stylizer_module.shipped_int8
    monkeypatch.setattr(stylizer_module, "shipped_int8",
                        lambda *nets_and_key: None if nets_and_key[-1] == FRAMES_DECODER_KEY
                        else shipped(*nets_and_key))  # fmt: skip
    monkeypatch.setattr(stylizer_module, "_NETWORKS", {})  # not the graphs loaded before
    stylizer = InstantStylizer(PAINTING, device="cpu", precision="int8")
    photo, _ = painted(stylizer, astronaut(), frame=False)
    frame, notes = painted(stylizer, astronaut(), frame=True)
    assert "frames" not in notes
    assert np.array_equal(photo, frame)
