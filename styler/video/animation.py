"""Animated GIF, WebP and PNG as clips: read frame by frame with Pillow (FFmpeg cannot decode
animated WebP) and written back animated in their own format, with each frame's duration and
the loop count, so an animation goes through the same pipeline as a video (painted, steadied,
cancellable, nothing under the final name until complete) and comes out animated.

An animation has no sound. Frames are composited as a viewer sees them (Pillow applies each
frame's disposal) and painted; their transparency is put back afterwards, as a photo's is (a
sticker stays a sticker; a GIF's is all or nothing). A GIF holds 256 colours: the stylized
frames share one palette (_one_palette). The frames are kept
until the file is written (the palette is chosen over them, and the encoders of these
formats take them all at once), up to MAX_HELD_BYTES: a longer animation is refused in one
line (a video file holds it).
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, UnidentifiedImageError

from styler.imageio import animation_settings, atomic_write_bytes, first_played_frame
from styler.transparency import hidden_filled
from styler.video.kinds import VideoLoadError, VideoTooLarge
from styler.video.reader import ClipInfo, Frame

MILLISECONDS = Fraction(1, 1000)  # the time base of an animation's frames
DEFAULT_DURATION = 100  # ms: a frame that states none (or 0, which browsers show as 100)
WEBP_QUALITY = 90
PALETTE_FRAMES = 8  # a GIF's one palette is chosen over this many of its frames
CLEAR = 255  # a transparent GIF's palette entry for its see-through pixels
# The stylized frames wait in memory until the file is written (three bytes a pixel): an
# animation that would need more is refused, in one line.
MAX_HELD_BYTES = 2 * 2**30


@dataclass
class AnimationInfo(ClipInfo):
    """A clip's facts, and what an animation's file says besides."""

    format: str = "GIF"  # Pillow's name: GIF, WEBP or PNG
    durations: tuple[int, ...] = ()  # ms, frame by frame
    loop: int | None = None  # times the animation plays again; 0 = for ever; None = once,
    # a GIF without a loop block (WebP and APNG always state a count: Pillow reads 0 if none)


def probe_animation(path: str | os.PathLike, *, max_pixels: int) -> AnimationInfo:
    """The animation's facts: its size, each frame's duration (read through every frame)
    and its loop count. VideoLoadError (one line) for a file that is not a readable one."""
    name = os.fsdecode(path)
    with _opened(name) as im:
        width, height = im.size
        if width * height > max_pixels:
            raise VideoTooLarge(name, (width, height), max_pixels)
        durations = tuple(_duration(frame) for frame in _frames(name, im))
        loop = None if im.info.get("loop") is None else int(im.info["loop"])
        form = str(im.format)
    held = len(durations) * width * height * 3
    if held > MAX_HELD_BYTES:
        raise VideoLoadError(name, f"{len(durations)} frames of {width}x{height} are more than "
                             f"styler holds for an animation ({MAX_HELD_BYTES / 2**30:g} GiB): "
                             "convert it to a video (MP4)")  # fmt: skip
    seconds = sum(durations) / 1000
    rate = Fraction(len(durations)) / Fraction(seconds).limit_denominator(100000)
    return AnimationInfo(name, width, height, 0, rate, MILLISECONDS, len(durations), seconds,
                         format=form, durations=durations, loop=loop)  # fmt: skip


class AnimationReader:
    """ClipReader's form for an animation: its frames (upright RGB, timestamps in ms)."""

    def __init__(self, info: AnimationInfo) -> None:
        self.info = info
        self.audio: list[Any] = []
        self.tracks: list[Any] = []

    def __enter__(self) -> AnimationReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        return None

    def items(self) -> Iterator[Frame]:
        start = 0
        with _opened(self.info.path) as im:
            for index, frame in enumerate(_frames(self.info.path, im)):
                alpha, rgb = None, np.asarray(frame.convert("RGB"))
                if frame.has_transparency_data:
                    alpha = np.asarray(frame.convert("RGBA").getchannel("A"))
                    rgb = hidden_filled(rgb, alpha)
                yield Frame(rgb, start, MILLISECONDS, alpha)
                start += self.info.durations[index] if index < len(self.info.durations) else 0


class AnimationWriter:
    """ClipWriter's form for an animation: frames gathered, then the file written at once,
    atomically, in the source's format with its durations and loop and the settings."""

    def __init__(self, target: str | os.PathLike, info: AnimationInfo, tracks: list[Any],
                 settings: dict[str, Any]) -> None:  # fmt: skip
        self.target, self.info, self.settings = target, info, settings
        self.frames: list[Image.Image] = []
        self.alphas: list[Image.Image | None] = []

    def write_frame(self, rgb: np.ndarray, frame: Frame) -> None:
        """The stylized frame, and the source frame's transparency put back (fitted to the
        painted size), as a photo's is."""
        image = Image.fromarray(np.ascontiguousarray(rgb), "RGB")
        alpha = None if frame.alpha is None else Image.fromarray(frame.alpha, "L")
        if alpha is not None and alpha.size != image.size:
            alpha = alpha.resize(image.size, Image.Resampling.LANCZOS)
        self.frames.append(image)
        self.alphas.append(alpha)

    def write_track(self, packet: Any) -> None:
        """An animation has no sound or subtitles to carry."""

    def commit(self) -> Path:
        see_through = any(alpha is not None for alpha in self.alphas)
        options: dict[str, Any] = {}
        if self.info.format == "GIF":
            frames = _one_palette(self.frames, self.alphas if see_through else None)
            if see_through:  # each frame clears to the background before the next is drawn
                options.update(transparency=CLEAR, disposal=2, optimize=False)
        else:
            frames = [image if alpha is None else _with_alpha(image, alpha)
                      for image, alpha in zip(self.frames, self.alphas, strict=True)]  # fmt: skip
        first, *rest = frames
        durations = list(self.info.durations[: len(self.frames)])
        durations += [DEFAULT_DURATION] * (len(self.frames) - len(durations))
        if self.info.loop is not None:  # none given: Pillow writes a GIF that plays once
            options.update(loop=self.info.loop)
        options.update({
            "save_all": True, "append_images": rest, "duration": durations,
            **animation_settings(self.info.format, self.settings),
        })  # fmt: skip
        if self.info.format == "WEBP":
            options.update(quality=WEBP_QUALITY, method=4)
        buffer = io.BytesIO()
        first.save(buffer, format=self.info.format, **options)
        atomic_write_bytes(self.target, buffer.getvalue())
        return Path(self.target)

    def abort(self) -> None:
        self.frames.clear()
        self.alphas.clear()


def _with_alpha(image: Image.Image, alpha: Image.Image) -> Image.Image:
    rgba = image.convert("RGBA")
    rgba.putalpha(alpha)
    return rgba


def _one_palette(
    frames: list[Image.Image], alphas: list[Image.Image | None] | None = None
) -> list[Image.Image]:
    """The frames in GIF's 256 colours, one palette for all (median cut over a few of them,
    evenly spread), undithered: what stays still in the picture stays still in the file,
    where a palette per frame, or dithering, makes still areas shimmer. With `alphas`, the
    palette keeps its last entry (CLEAR) for the pixels under half opaque: GIF's
    transparency is all or nothing."""
    picks = [frames[i] for i in np.linspace(0, len(frames) - 1, min(len(frames), PALETTE_FRAMES))
             .round().astype(int)]  # fmt: skip
    width, height = picks[0].size
    sample = Image.new("RGB", (width, height * len(picks)))
    for index, image in enumerate(picks):
        sample.paste(image, (0, height * index))
    palette = sample.quantize(CLEAR if alphas else 256, method=Image.Quantize.MEDIANCUT)
    quantized = [image.quantize(palette=palette, dither=Image.Dither.NONE) for image in frames]
    for image, alpha in zip(quantized, alphas or [], strict=False):
        if alpha is not None:
            indices = np.array(image)
            indices[np.asarray(alpha) < 128] = CLEAR
            image.frombytes(indices.tobytes())
    return quantized


def _opened(name: str) -> Any:
    try:
        return Image.open(name)
    except FileNotFoundError as exc:
        raise VideoLoadError(name, "file not found") from exc
    except UnidentifiedImageError as exc:  # its message names the path again (a server's)
        raise VideoLoadError(name, "not an animation styler can read (unknown or damaged "
                             "image data)") from exc  # fmt: skip
    except (OSError, ValueError, Image.DecompressionBombError) as exc:
        raise VideoLoadError(name, f"not an animation styler can read ({exc})") from exc


def _frames(name: str, im: Image.Image) -> Iterator[Image.Image]:
    """Every frame viewers play, as they composite it (an APNG's cover is none:
    imageio.first_played_frame); a damaged frame is VideoLoadError."""
    try:
        for index in range(first_played_frame(im), im.n_frames):
            im.seek(index)
            im.load()
            yield im
    except (OSError, ValueError, EOFError) as exc:
        raise VideoLoadError(name, f"damaged animation ({exc})") from exc


def _duration(frame: Image.Image) -> int:
    """The frame's duration in ms; none or 0 is shown as DEFAULT_DURATION by browsers."""
    duration = frame.info.get("duration") or 0
    return int(round(duration)) if duration > 0 else DEFAULT_DURATION
