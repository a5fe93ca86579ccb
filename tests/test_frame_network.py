"""Video frames in fast mode where `auto` runs float (a CPU without int8 dot products):
painted by the style's shift-trained twin, which keeps a moved frame's strokes in place;
photos, and any precision asked for by name, keep the network itself."""

from __future__ import annotations

import numpy as np
import pytest
from frame_shift import astronaut, painted, shift_change

from styler.fast.inference import FastStylizer
from styler.precision import NO_INT8_DOT_ENV

pytest.importorskip("onnxruntime")


@pytest.fixture
def no_int8_dot(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(NO_INT8_DOT_ENV, "1")


def test_frames_take_the_twin_where_auto_runs_float_and_it_paints_a_moved_frame_moved(
    no_int8_dot: None,
) -> None:
    stylizer = FastStylizer("udnie", device="cpu")
    photo, photo_notes = painted(stylizer, astronaut(), frame=False)
    frame, frame_notes = painted(stylizer, astronaut(), frame=True)
    assert photo_notes["precision"] == frame_notes["precision"] == "fp32"
    assert "frames" not in photo_notes and frame_notes["frames"] == "twin"
    # The same painting of the scene (the twin learned from the network) but not the same
    # pixels: the twin paints its own strokes.
    difference = np.abs(photo - frame).mean()
    assert 2 < difference < 25, difference
    assert shift_change(stylizer, frame=True) < 0.8 * shift_change(stylizer, frame=False)


def test_a_precision_asked_for_by_name_paints_frames_with_the_network_itself(
    no_int8_dot: None,
) -> None:
    stylizer = FastStylizer("udnie", device="cpu", precision="fp32")
    photo, _ = painted(stylizer, astronaut(), frame=False)
    frame, notes = painted(stylizer, astronaut(), frame=True)
    assert "frames" not in notes
    assert np.array_equal(photo, frame)
