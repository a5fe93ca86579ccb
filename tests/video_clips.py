"""Small real clips for the video tests, written with PyAV: H.264 frames of a known moving
pattern, a sine-wave AAC track, and optionally a display rotation, as phones write them; and
animated GIF, WebP and PNG of the same pattern, written with Pillow."""

from __future__ import annotations

import re
from fractions import Fraction
from pathlib import Path
from typing import TYPE_CHECKING, Any

import av
import numpy as np
from PIL import Image, ImageSequence

import styler.video.reader as reader

if TYPE_CHECKING:  # the benchmarks use these clips too, where pytest need not be installed
    import pytest


def moving_pattern(width: int, height: int, frames: int, shift: int = 2) -> list[np.ndarray]:
    """A textured scene panning left by `shift` px a frame: frame t+1 is frame t moved."""
    rng = np.random.default_rng(3)
    wide = width + shift * frames
    y, x = np.mgrid[0:height, 0:wide].astype(np.float32)
    base = np.stack([128 + 90 * np.sin(x / 7.0), 128 + 90 * np.cos(y / 5.0),
                     128 + 60 * np.sin((x + y) / 11.0)], axis=-1)  # fmt: skip
    base += rng.normal(0, 12, base.shape)
    scene = base.clip(0, 255).astype(np.uint8)
    return [np.ascontiguousarray(scene[:, t * shift : t * shift + width]) for t in range(frames)]


def write_clip(
    path: Path,
    frames: list[np.ndarray],
    *,
    rate: int = 12,
    audio_seconds: float | None = None,
    rotation: int = 0,
    audio_only: bool = False,
    aspect: Fraction | None = None,
    interlaced: bool = False,
    keyframe_every: int | None = None,
    tags: dict[str, str] | None = None,
    sound_tags: dict[str, str] | None = None,
    video_tags: dict[str, str] | None = None,
    chapters: list[tuple[float, float, str]] | None = None,
    captions: list[tuple[float, float, str | bytes]] | None = None,
    caption_tags: dict[str, str] | None = None,
    caption_flags: Any = None,
) -> Path:
    """An MP4 of these frames (H.264, yuv420p) with a 440 Hz AAC track lasting as long as
    the video unless `audio_seconds`; `rotation` tags the stream for display, `aspect` is
    its pixels' shape (sample aspect ratio, as DV and HDV store widescreen); `interlaced`
    encodes the frames as interlaced (top field first), as camcorders do; `keyframe_every`
    sets the keyframe interval (x264's default: one keyframe in a short clip); `tags` are
    the container's (written as a phone does: QuickTime keys kept as they are),
    `sound_tags` the sound track's, `video_tags` the picture's (a `timecode` among them
    makes a timecode track, as cameras write); `chapters` (start and end seconds, title);
    `captions` (start and end seconds, text or its bytes) a subtitle track with
    `caption_tags` and `caption_flags` (its disposition): SubRip in Matroska, timed text
    (mov_text) in MP4. A name ending in .mkv makes a Matroska file instead of an MP4."""
    matroska = path.suffix == ".mkv"  # else MP4, whatever the name
    options = {"movflags": "use_metadata_tags"} if tags and not matroska else {}
    form = "matroska" if matroska else "mp4"
    with av.open(str(path), "w", format=form, options=options) as container:
        container.metadata.update(tags or {})
        container.set_chapters([
            {"id": index, "start": round(start * 1000), "end": round(end * 1000),
             "time_base": Fraction(1, 1000), "metadata": {"title": title}}
            for index, (start, end, title) in enumerate(chapters or [], 1)])  # fmt: skip
        video = None
        if not audio_only:
            video = container.add_stream("libx264", rate=rate)
            video.height, video.width = frames[0].shape[:2]
            video.pix_fmt = "yuv420p"
            video.metadata.update(video_tags or {})
            if rotation:
                video.set_display_rotation(rotation)
            if aspect:
                video.codec_context.sample_aspect_ratio = aspect
            if interlaced:
                video.options = {"x264-params": "interlaced=1:tff=1", "crf": "10"}
            if keyframe_every:
                video.options = {"g": str(keyframe_every), "keyint_min": str(keyframe_every)}
        sound = _mono_aac(container)
        sound.metadata.update(sound_tags or {})
        subtitles = None if captions is None else _caption_track(container, matroska)
        if subtitles is not None:
            subtitles.metadata.update(caption_tags or {})
            if caption_flags is not None:
                subtitles.disposition = caption_flags
        if video is not None:
            for index, rgb in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                frame.pts = index
                for packet in video.encode(frame):
                    container.mux(packet)
            for packet in video.encode(None):
                container.mux(packet)
        _write_tone(container, sound, audio_seconds if audio_seconds is not None
                    else len(frames) / rate)  # fmt: skip
        for start, end, text in captions or []:
            data = text if isinstance(text, bytes) else text.encode()
            if not matroska:  # mov_text: the text's length, then the text
                data = len(data).to_bytes(2, "big") + data
            packet = av.Packet(data)
            packet.pts = packet.dts = round(start * 1000)
            packet.duration = round((end - start) * 1000)
            packet.time_base, packet.stream = Fraction(1, 1000), subtitles
            container.mux(packet)
    return path


def _caption_track(container: Any, matroska: bool) -> Any:
    """A subtitle track whose packets the caller makes: SubRip's are the text, mov_text's
    the text after its length (its encoder, opened only to write the track's header)."""
    if matroska:
        track = container.add_mux_stream("subrip")
    else:
        track = container.add_stream("mov_text")
        track.codec_context.subtitle_header = CAPTION_STYLE_SHEET
    track.time_base = Fraction(1, 1000)
    return track


# The smallest style sheet the mov_text encoder opens with: one default style.
CAPTION_STYLE_SHEET = (
    b"[Script Info]\nScriptType: v4.00+\n\n[V4+ Styles]\nFormat: Name, Fontname, Fontsize\n"
    b"Style: Default,Arial,16\n\n[Events]\nFormat: Layer, Start, End, Style, Text\n"
)


def captions_of(path: Path) -> list[tuple[float, float, str]]:
    """Each caption of the file's first subtitle track: start and end seconds, its text."""
    with av.open(str(path)) as container:
        track = container.streams.subtitles[0]
        found = []
        for packet in container.demux(track):
            if packet.pts is None or not packet.size:
                continue
            for caption in packet.decode():
                text = _dialogue(caption.ass or b"")
                if text:
                    base = packet.time_base
                    found.append((float(packet.pts * base),
                                  float((packet.pts + packet.duration) * base), text))  # fmt: skip
        return found


def _dialogue(ass: bytes) -> str:
    """An ASS event's text: after its eight fields, '\\N' a line break, its override tags
    ({\\i1}) kept and its comments ({like this}) dropped. PyAV's `dialogue` did this until
    18.1.1, which drops the override tags too."""
    text = ass.decode("utf-8").split(",", 8)[-1].replace("\\N", "\n")
    return re.sub(r"\{(?!\\)[^}]*\}", "", text)


# An animation's frame durations (ms), as write_animation gives them.
DURATIONS = [80, 120, 200, 60, 100]


def write_animation(path: Path, form: str, frames: int = 5, loop: int = 2) -> Path:
    """A moving pattern as an animated GIF, WebP or PNG (Pillow's format name `form`)."""
    images = [Image.fromarray(f) for f in moving_pattern(48, 32, frames)]
    images[0].save(path, format=form, save_all=True, append_images=images[1:],
                   duration=DURATIONS[:frames], loop=loop)  # fmt: skip
    return path


def played(path: Path) -> tuple[str, list[int], int, list[np.ndarray]]:
    """(format, each frame's duration, loop count, frames) as a viewer gets them."""
    with Image.open(path) as im:
        frames = []
        for frame in ImageSequence.Iterator(im):
            frame.load()  # a WebP frame's duration is known once it is loaded
            frames.append((frame.info.get("duration"), np.asarray(frame.convert("RGB"))))
        loop = im.info.get("loop", 0)
        return str(im.format), [d for d, _ in frames], loop, [a for _, a in frames]


def _mono_aac(container: Any) -> Any:
    sound = container.add_stream("aac", rate=16000)
    sound.layout = "mono"
    return sound


def _write_tone(container: Any, sound: Any, seconds: float) -> None:
    """A 440 Hz tone of `seconds` into the AAC stream `sound`, flushed."""
    samples = int(16000 * seconds)
    tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(samples) / 16000)).astype(np.float32)
    for start in range(0, samples, 1024):
        chunk = np.ascontiguousarray(tone[None, start : start + 1024])
        frame = av.AudioFrame.from_ndarray(chunk, format="flt", layout="mono")
        frame.sample_rate, frame.pts = 16000, start
        for packet in sound.encode(frame):
            container.mux(packet)
    for packet in sound.encode(None):
        container.mux(packet)


def song_with_cover(path: Path) -> Path:
    """A second of AAC with its artwork, as music files carry it: FFmpeg lists the picture as
    a video stream (marked as an attached picture)."""
    with av.open(str(path), "w", format="mp4") as container:
        cover = container.add_stream("mjpeg", rate=1)
        cover.width, cover.height, cover.pix_fmt = 32, 32, "yuvj420p"
        cover.disposition = av.stream.Disposition.attached_pic
        sound = _mono_aac(container)
        art = av.VideoFrame.from_ndarray(np.full((32, 32, 3), 200, np.uint8), format="rgb24")
        art = art.reformat(format="yuvj420p")
        art.pts = 0
        for packet in [*cover.encode(art), *cover.encode(None)]:
            container.mux(packet)
        _write_tone(container, sound, 1.0)
    return path


def decoded(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="rgb24") for f in container.decode(video=0)]


def streams(path: Path) -> dict:
    """What a player sees: the video's size, rate, frame count, duration, rotation; the audio's
    codec and duration."""
    with av.open(str(path)) as container:
        video = container.streams.video[0]
        frames = list(container.decode(video))
        audio = container.streams.audio
        return {
            "size": (video.codec_context.width, video.codec_context.height),
            "rate": video.average_rate,
            "frames": len(frames),
            "duration": float(video.duration * video.time_base),
            "rotation": frames[0].rotation,
            "pix_fmt": video.codec_context.pix_fmt,
            "codec": video.codec_context.name,
            "audio": [(a.codec_context.name, float(a.duration * a.time_base)) for a in audio],
        }


# Colour encodings: (Kr, Kb) of each matrix, and FFmpeg's code for it (AVColorSpace; the
# primaries use the same numbers), for clips encoded from known RGB.
LUMA = {"bt601": (0.299, 0.114), "bt709": (0.2126, 0.0722), "bt2020": (0.2627, 0.0593)}
TAGS = {"bt709": 1, "bt601": 6, "bt2020": 9}  # AVColorSpace (and primaries: 1, 6, 9)
PQ, HLG = 16, 18
BT2020_10 = 14  # AVColorTransferCharacteristic: BT.2020's 10-bit transfer, an SDR one


def yuv_clip(path: Path, signal: np.ndarray | list[np.ndarray], matrix: str, *, bits: int = 8,
             tagged: bool = True, transfer: int | None = None,
             options: dict[str, str] | None = None) -> Path:  # fmt: skip
    """An H.264 clip (4:4:4) of `signal` (HxWx3 non-linear R'G'B' in 0..1; one picture shown
    twice, or a list of them) encoded by `matrix` in limited range, its matrix (and
    primaries, transfer) in the stream only if `tagged`; x264's `options`, lossless unless
    given."""
    pictures = signal if isinstance(signal, list) else [signal] * 2
    kr, kb = LUMA[matrix]
    scale = 1 << (bits - 8)
    form, dtype = ("yuv444p", np.uint8) if bits == 8 else ("yuv444p10le", np.uint16)
    h, w = pictures[0].shape[:2]
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("libx264", rate=10)
        stream.width, stream.height, stream.pix_fmt = w, h, form
        stream.options = options or {"qp": "0", "preset": "ultrafast"}
        if tagged:
            context = stream.codec_context
            context.colorspace = context.color_primaries = TAGS[matrix]
            context.color_trc = transfer or TAGS[matrix]
            context.color_range = 1
        for index, picture in enumerate(pictures):
            r, g, b = np.moveaxis(picture, -1, 0)
            y = kr * r + (1 - kr - kb) * g + kb * b
            u, v = (b - y) / (2 * (1 - kb)), (r - y) / (2 * (1 - kr))
            planes = [(16 + 219 * y) * scale, (128 + 224 * u) * scale, (128 + 224 * v) * scale]
            frame = av.VideoFrame(w, h, form)
            for plane, values in zip(frame.planes, planes, strict=True):
                rows = np.frombuffer(plane, dtype).reshape(h, plane.line_size // dtype().itemsize)
                rows[:, :w] = np.round(values).astype(dtype)
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode(None):
            container.mux(packet)
    return path


# Linear BT.709 RGB to linear BT.2020 RGB (BT.2087).
BT709_TO_BT2020 = np.array([[0.6274, 0.3293, 0.0433], [0.0691, 0.9195, 0.0114],
                            [0.0164, 0.0880, 0.8956]])  # fmt: skip


def wide_sdr_signal(rgb: np.ndarray) -> np.ndarray:
    """BT.2020 R'G'B' in SDR (BT.1886's gamma) whose colours are the BT.709 picture `rgb`:
    what a camera's 10-bit BT.2020 SDR mode records."""
    return (((rgb / 255.0) ** 2.4) @ BT709_TO_BT2020.T) ** (1 / 2.4)


def hdr_signal(rgb: np.ndarray, transfer: int) -> np.ndarray:
    """BT.2020 R'G'B' (HLG or PQ) whose SDR rendering, by BT.2408's reference white (203
    cd/m2 as SDR white) and a BT.1886 display, is `rgb`: what a phone would record."""
    light = (rgb / 255.0) ** 2.4
    nits = light @ BT709_TO_BT2020.T * 203
    if transfer == PQ:
        m1, m2, c1, c2, c3 = 0.1593017578125, 78.84375, 0.8359375, 18.8515625, 18.6875
        power = (nits / 10000) ** m1
        return ((c1 + c2 * power) / (1 + c3 * power)) ** m2
    display = nits / 1000  # HLG: undo the OOTF of a 1000 cd/m2 display (system gamma 1.2)
    luma = np.maximum(display @ np.array([0.2627, 0.6780, 0.0593]), 1e-9)
    scene = display * (luma ** (1 / 1.2 - 1))[..., None]
    a, b, c = 0.17883277, 0.28466892, 0.55991073
    high = a * np.log(np.maximum(12 * scene - b, 1e-9)) + c
    return np.where(scene <= 1 / 12, np.sqrt(3 * scene), high)


def counted_pixels(monkeypatch: pytest.MonkeyPatch) -> list[None]:
    """A list that grows by one each time a decoded video frame's pixels are made."""
    made: list[None] = []
    convert = reader.frame_rgb

    def counting(frame):
        made.append(None)
        return convert(frame)

    monkeypatch.setattr(reader, "frame_rgb", counting)
    return made
