"""What counts as a video, and how reading one fails: all that a batch of photos needs to
know of video, without importing PyAV, which a one-photo command would otherwise load for
nothing (docs/performance.md, "Start-up")."""

from __future__ import annotations

import os

from styler.imageio import ImageLoadError, ImageTooLarge

VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v"})


class VideoLoadError(ImageLoadError):
    """A clip that cannot be read; str() is '<file>: <reason>'."""


class VideoTooLarge(VideoLoadError, ImageTooLarge):
    """A clip whose frames have more pixels than the limit; its header alone told."""

    def __init__(self, source: str, size: tuple[int, int], limit: int) -> None:
        self.size, self.limit = size, limit
        width, height = size
        VideoLoadError.__init__(self, source, f"frames are {width}x{height} = "
                                f"{width * height / 1e6:.1f} MP, over the "
                                f"{limit / 1e6:.1f} MP pixel limit")  # fmt: skip


def is_video(path: str | os.PathLike) -> bool:
    """By extension, as folder scanning decides."""
    return os.path.splitext(os.fspath(path))[1].lower() in VIDEO_EXTENSIONS
