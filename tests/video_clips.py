"""Small real clips for the video tests, written with PyAV: H.264 frames of a known moving
pattern, a sine-wave AAC track, and optionally a display rotation, as phones write them."""

from __future__ import annotations

from pathlib import Path

import av
import numpy as np


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
) -> Path:
    """An MP4 of these frames (H.264, yuv420p) with a 440 Hz AAC track lasting as long as
    the video unless `audio_seconds`; `rotation` tags the stream for display."""
    with av.open(str(path), "w", format="mp4") as container:
        video = None
        if not audio_only:
            video = container.add_stream("libx264", rate=rate)
            video.height, video.width = frames[0].shape[:2]
            video.pix_fmt = "yuv420p"
            if rotation:
                video.set_display_rotation(rotation)
        sound = container.add_stream("aac", rate=16000)
        sound.layout = "mono"
        if video is not None:
            for index, rgb in enumerate(frames):
                frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
                frame.pts = index
                for packet in video.encode(frame):
                    container.mux(packet)
        seconds = audio_seconds if audio_seconds is not None else len(frames) / rate
        samples = int(16000 * seconds)
        tone = (0.3 * np.sin(2 * np.pi * 440 * np.arange(samples) / 16000)).astype(np.float32)
        for start in range(0, samples, 1024):
            chunk = tone[None, start : start + 1024]
            frame = av.AudioFrame.from_ndarray(np.ascontiguousarray(chunk), format="flt",
                                               layout="mono")  # fmt: skip
            frame.sample_rate, frame.pts = 16000, start
            for packet in sound.encode(frame):
                container.mux(packet)
        for stream in (video, sound):
            if stream is not None:
                for packet in stream.encode(None):
                    container.mux(packet)
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
