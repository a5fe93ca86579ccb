"""The painting grid (styler/grid.py): a fast network paints a moved scene moved only when the
scene keeps its place on the network's 8-pixel grid; a video's frames follow the camera onto
it (styler/video/steady.py). Real shipped networks, real phase correlation."""

from __future__ import annotations

import numpy as np
import pytest

from styler import Recipe, build_engine
from styler.grid import grid_shift, shifted_pass
from styler.video import FrameStylizer
from styler.video.steady import Steadier, small_gray
from tests.video_clips import moving_pattern


def _scene(height: int, width: int) -> np.ndarray:
    """A photo-like scene: smooth shapes and fine texture, so strokes have edges to follow."""
    rng = np.random.default_rng(5)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    base = np.stack([128 + 80 * np.sin(x / 13.0) * np.cos(y / 17.0),
                     128 + 70 * np.cos((x - y) / 9.0),
                     128 + 60 * np.sin(np.hypot(x - width / 3, y - height / 2) / 6.0)],
                    axis=-1)  # fmt: skip
    return (base + rng.normal(0, 10, base.shape)).clip(0, 255).astype(np.uint8)


def test_grid_shift_is_the_phase_on_the_network_grid() -> None:
    assert grid_shift((2.4, -3.6), 1.0, 8) == (2, 4)
    assert grid_shift((-1.0, 17.0), 1.0, 8) == (7, 1)
    assert grid_shift((10.0, 5.0), 0.8, 8) == (0, 4)  # a reduced copy: 8 and 4 px there


def test_a_shifted_pass_paints_the_padded_photo_and_cuts_the_padding_off() -> None:
    rgb = _scene(20, 30)
    seen: list[tuple[int, ...]] = []

    def paint(image: np.ndarray) -> np.ndarray:
        seen.append(image.shape)
        return 255 - image

    np.testing.assert_array_equal(shifted_pass(paint, rgb, (3, 5)), 255 - rgb)
    assert seen == [(23, 35, 3)]


@pytest.mark.parametrize("moved", [(2, 3), (5, 1)])
def test_a_moved_photo_is_painted_moved_when_it_keeps_its_place_on_the_grid(moved) -> None:
    """With the grid held still, a shift of a few pixels lays the strokes out afresh. Every
    painting here is a video frame's (given a grid), so the same network paints them all."""
    engine = build_engine(Recipe.create("fast", ["udnie"]))
    scene = _scene(248, 328)
    down, right = moved
    first, second = scene[:240, :320], scene[down : down + 240, right : right + 320]
    painted = np.asarray(engine.run(first, grid=(0, 0)).image).astype(int)[down:-8, right:-8]

    def apart(image) -> float:  # against the first painting moved the same way
        return float(np.abs(np.asarray(image).astype(int)[: -8 - down, : -8 - right]
                            - painted).mean())  # fmt: skip

    free = apart(engine.run(second, grid=(0, 0)).image)
    kept = apart(engine.run(second, grid=(down, right)).image)
    assert kept < 0.5 * free, (kept, free)


def test_the_steadier_follows_the_camera_and_forgets_a_cancelled_frame() -> None:
    frames = moving_pattern(320, 192, 4, shift=3)  # the scene moves 3 px left a frame
    steadier = Steadier(0.6)
    phases = []
    for frame in frames[:3]:
        phases.append(steadier.grid_phase(small_gray(frame), frame.shape[1]))
        steadier.blend(frame, None)  # the frame done: its place is remembered
    assert phases[0] == (0.0, 0.0)
    np.testing.assert_allclose(np.diff(phases, axis=0), [(0, 3), (0, 3)], atol=0.5)
    # a frame that never reaches blend (cancelled) leaves the stream where it was
    first = steadier.grid_phase(small_gray(frames[3]), 320)
    assert steadier.grid_phase(small_gray(frames[3]), 320) == first


def test_a_still_camera_keeps_the_grid_where_it_is() -> None:
    """Estimates around zero never add up to a step that would re-lay every stroke, and an
    object moving over a still scene does not move the grid."""
    still = moving_pattern(320, 192, 1)[0]
    steadier = Steadier(0.6)
    rng = np.random.default_rng(0)
    for t in range(6):
        frame = still.astype(int) + rng.normal(0, 3, still.shape)  # sensor noise
        frame[40:120, 20 + 12 * t : 100 + 12 * t] = 60  # a dark object crossing
        frame = frame.clip(0, 255).astype(np.uint8)
        assert steadier.grid_phase(small_gray(frame), 320) == (0.0, 0.0)
        steadier.blend(frame, None)


def _moved_error(frames: list[np.ndarray], shift: int) -> float:
    """Each output against its predecessor moved by the scene's known motion."""
    return float(np.mean([np.abs(b[:, :-shift].astype(int) - a[:, shift:]).mean()
                          for a, b in zip(frames, frames[1:], strict=False)]))  # fmt: skip


def test_a_panning_clip_keeps_its_strokes_on_the_scene() -> None:
    """The stream hands the engine each frame's place: steadier than the same stream
    with the grid ignored, and far steadier than frames painted alone."""
    frames = moving_pattern(192, 128, 6, shift=3)
    engine = build_engine(Recipe.create("fast", ["udnie"]))
    stream = FrameStylizer(engine, temporal=0.3)
    locked = [stream.stylize(f) for f in frames]
    engine.grid_locks = False
    stream = FrameStylizer(engine, temporal=0.3)
    unlocked = [stream.stylize(f) for f in frames]
    assert _moved_error(locked, 3) < 0.7 * _moved_error(unlocked, 3)
