"""What counts as a clip (a video, or an animated GIF, WebP or PNG), and how reading one
fails: all that a batch of photos needs to know of video, without importing PyAV, which a
one-photo command would otherwise load for nothing (docs/performance.md, "Start-up")."""

from __future__ import annotations

import os

from PIL import Image

from styler.imageio import ImageLoadError, ImageTooLarge, megapixels, plays_several_frames

# Camcorders write MPEG transport streams (.mts, .m2ts) or program streams (.mod, .tod),
# older phones 3GP, professional cameras MXF, tape DV, DVDs VOB: all read by FFmpeg.
VIDEO_EXTENSIONS = frozenset({".mp4", ".mov", ".mkv", ".webm", ".avi", ".m4v", ".mts", ".m2ts",
                              ".ts", ".3gp", ".3g2", ".mpg", ".mpeg", ".wmv", ".flv", ".mxf", ".dv",
                              ".vob", ".mod", ".tod", ".ogv"})  # fmt: skip
# Formats whose files may hold an animation, which is stylized as a clip and written back
# animated in its own format (styler.video.animation); a single frame is a photo.
ANIMATION_EXTENSIONS = frozenset({".gif", ".webp", ".png", ".apng"})
ANIMATION_OUTPUT = {"GIF": "gif", "WEBP": "webp", "PNG": "png"}  # by Pillow's format name
VIDEO_OUTPUT = "mp4"  # a video's output, whatever its source's container


class VideoLoadError(ImageLoadError):
    """A clip that cannot be read; str() is '<file>: <reason>'."""


class VideoTooLarge(VideoLoadError, ImageTooLarge):
    """A clip whose frames have more pixels than the limit; its header alone told."""

    def __init__(self, source: str, size: tuple[int, int], limit: int) -> None:
        self.size, self.limit = size, limit
        width, height = size
        VideoLoadError.__init__(self, source, f"frames are {width}x{height} = "
                                f"{megapixels(width * height, up=True)} MP, over the "
                                f"{megapixels(limit)} MP pixel limit")  # fmt: skip


def ffmpeg_path(path: str | os.PathLike) -> str:
    """The file's name as FFmpeg must get it: absolute, since FFmpeg reads a relative name's
    part before a colon as a protocol ("2024-05-06T12:30.mp4" would be protocol "2024-05-06T12")."""
    return os.path.abspath(os.fsdecode(path))


def is_video(path: str | os.PathLike) -> bool:
    """By extension, as folder scanning decides."""
    return os.path.splitext(os.fspath(path))[1].lower() in VIDEO_EXTENSIONS


def animation_format(path: str | os.PathLike) -> str | None:
    """Pillow's format name (GIF, WEBP, PNG) of a file that plays several frames (an APNG's
    cover is none: imageio.plays_several_frames), by its header;
    None for anything else. A file that cannot be read is not one: the photo path gives its
    one-line error."""
    if os.path.splitext(os.fspath(path))[1].lower() not in ANIMATION_EXTENSIONS:
        return None
    if not os.path.isfile(path):
        return None  # a pipe or a device would block the reader: the photo path refuses it
    try:
        with Image.open(path) as im:
            animated = im.format in ANIMATION_OUTPUT and plays_several_frames(im)
            return str(im.format) if animated else None
    except Exception:  # noqa: BLE001 - any unreadable file: not an animation
        return None


def is_animation(path: str | os.PathLike) -> bool:
    """A GIF, WebP or PNG of several frames (animation_format)."""
    return animation_format(path) is not None
