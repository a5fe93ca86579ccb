"""Video: clips stylized in every mode, steady from frame to frame, their sound kept.

    from styler import Recipe
    from styler.video import FrameStylizer, stylize_video
    stylize_video("clip.mp4", "out/clip__udnie.mp4", Recipe.create("fast", ["udnie"]))
    stream = FrameStylizer(Recipe.create("fast", ["udnie"]))   # frames in, frames out

See docs/video.md for the method and its measurements.
"""

from styler.video.clip import VideoResult, stylize_video
from styler.video.frames import FrameStylizer
from styler.video.reader import VIDEO_EXTENSIONS, VideoLoadError, is_video, probe_clip
from styler.video.writer import read_video_settings

__all__ = ["VIDEO_EXTENSIONS", "FrameStylizer", "VideoLoadError", "VideoResult", "is_video",
           "probe_clip", "read_video_settings", "stylize_video"]
