"""Video: clips (and animated GIF, WebP, PNG) stylized in every mode, steady from frame to
frame, their sound kept.

    from styler import Recipe
    from styler.video import FrameStylizer, stylize_video
    stylize_video("clip.mp4", "out/clip__udnie.mp4", Recipe.create("fast", ["udnie"]))
    stream = FrameStylizer(Recipe.create("fast", ["udnie"]))   # frames in, frames out

See docs/video.md for the method and its measurements. The names that need PyAV (or
OpenCV's flow) are imported on first use, so a batch of photos never loads them.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from styler.lazy import lazy_attributes
from styler.video.kinds import (
    VIDEO_EXTENSIONS,
    VideoLoadError,
    animation_format,
    is_animation,
    is_video,
)

if TYPE_CHECKING:  # for type checkers and editors; at run time __getattr__ imports them
    from styler.video.clip import VideoResult, frame_at, stylize_video  # noqa: F401
    from styler.video.frames import FrameStylizer  # noqa: F401
    from styler.video.reader import probe_clip  # noqa: F401
    from styler.video.writer import read_video_settings  # noqa: F401

_HOMES = {
    "FrameStylizer": "styler.video.frames",
    "VideoResult": "styler.video.clip",
    "frame_at": "styler.video.clip",
    "probe_clip": "styler.video.reader",
    "read_video_settings": "styler.video.writer",
    "stylize_video": "styler.video.clip",
}

__all__ = ["VIDEO_EXTENSIONS", "VideoLoadError", "animation_format", "is_animation", "is_video",
           *_HOMES]


__getattr__, __dir__ = lazy_attributes(__name__, _HOMES)
