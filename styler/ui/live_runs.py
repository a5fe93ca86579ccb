"""What the Video tab's live camera does: each frame the browser sends is painted and steadied
as a clip's next frame is (styler.video.FrameStylizer), the page's stream kept between
frames, started afresh when the style or a control changes or the camera pauses.

Nothing here imports gradio; problems the user can fix raise UserError with one line.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from styler.ui.inputs import FAST, QUALITY, Controls
from styler.ui.messages import UserError
from styler.ui.services import Services
from styler.ui.video_runs import clip_recipe, engine_for
from styler.video import FrameStylizer

# A pause longer than this between two frames (Stop, then Record again) starts a new scene:
# the previous painting is not blended into a picture the camera took much later.
PAUSE_S = 1.0
# No frame for this long after the last (the camera's Stop, the stream's time limit): the
# status line stops saying "Live" and says the camera stopped.
QUIET_S = 2.0
LIVE_PREFIX = "Live: "
CAMERA_STOPPED = "Camera stopped: record again to paint live."
LIVE_QUALITY = ("Live painting needs Fast or Instant mode: Quality takes minutes for every "
                "frame.")  # fmt: skip


@dataclass
class LiveStream:
    """A page's live painting: its stream, what it paints with, and its rate so far."""

    key: tuple
    stream: FrameStylizer
    title: str
    frames: int = 0
    started: float = 0.0
    last: float = field(default_factory=time.monotonic)


def live_frame(
    services: Services, state: LiveStream | None, frame: np.ndarray | None, mode: str,
    style: str | None, style_image: str | None, controls: Controls,
) -> tuple[np.ndarray | None, LiveStream | None, str]:  # fmt: skip
    """The camera's frame (HxWx3 uint8 RGB) painted as a clip's next frame, the page's stream
    to hand back with the next one, and the status line. The recipe (its style image read
    and checked) is made only when the mode, style or a control changes."""
    if frame is None:
        return None, state, ""
    if mode == QUALITY:
        raise UserError(LIVE_QUALITY)
    key = (mode, style if mode == FAST else style_image, tuple(sorted(controls.values.items())))
    now = time.monotonic()
    if state is None or state.key != key:
        recipe, _, title = clip_recipe(services, mode, style, style_image, controls)
        state = LiveStream(key, FrameStylizer(engine_for(services, recipe)), title)
    elif now - state.last > PAUSE_S:
        state.stream.reset()
        state.frames = 0
    if state.frames == 0:
        state.started = now
    painted = state.stream.stylize(frame)
    state.last = time.monotonic()
    state.frames += 1
    height, width = painted.shape[:2]
    rate = state.frames / max(state.last - state.started, 1e-6)
    shown = f" · {rate:.1f} fps" if state.frames > 1 else ""
    return painted, state, f"{LIVE_PREFIX}{state.title}, {mode} · {width}×{height}{shown}"


def camera_stopped(state: LiveStream | None, status: str) -> bool:
    """Whether the status line still says "Live" of a stream whose frames have stopped."""
    quiet = state is None or time.monotonic() - state.last > QUIET_S
    return quiet and status.startswith(LIVE_PREFIX)
