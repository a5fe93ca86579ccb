"""Writing a stylized clip: H.264 in MP4 (yuv420p, even sides, BT.709 and tagged so) that
browsers play, at the source's timestamps (so its frame rate, frame count and duration,
variable rates included), its audio copied packet by packet where MP4 can carry the codec
(re-encoded to AAC where it cannot), its text subtitles as MP4's (styler.video.subtitles),
the settings that made it in the container's comment
tag, and what the photo rules keep of the source's tags (date, camera, credits:
styler.video.tags).

The file is written under a hidden temporary name beside the final one (the naming
styler.imageio uses, so a killed run's leftover is recognised and removed) and renamed only
once complete: an interrupted or failed clip never has a final name.

The picture is encoded in segments, each by an encoder of its own that starts on a keyframe
and is flushed at the segment's end: a segment's packets depend on its frames alone, so a
run that stopped can take the segments it finished from its journal (styler.video.journal)
and the clip comes out as it would have, had it never stopped.
"""

from __future__ import annotations

import contextlib
import json
import os
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any

import av
import numpy as np

from styler.imageio import PhotoOptions, commit_temporary, temporary_name
from styler.video.colour import tag_bt709, yuv_bt709
from styler.video.kinds import ffmpeg_path
from styler.video.reader import ClipInfo, Frame
from styler.video.subtitles import SubtitleTrack
from styler.video.tags import (
    chapter_entries,
    clip_tags,
    needs_key_value_tags,
    track_disposition,
    track_tags,
)

SETTINGS_PREFIX = "styler.settings:"  # the comment tag's text: this prefix, then JSON
# Audio codecs the MP4 muxer carries as they are; others are re-encoded to AAC.
MP4_AUDIO = frozenset({"aac", "mp3", "alac", "ac3", "eac3", "opus", "flac"})
CRF = 18  # x264 quality: visually lossless for stylized frames, a few MB a minute at 720p
PRESET = "superfast"  # x264 speed: half veryfast's CPU, same PSNR, larger files (docs/video.md)


class ClipWriter:
    """One output clip being written; `commit()` gives it its final name, anything else
    (an exception, a cancel) removes it."""

    def __init__(self, target: str | os.PathLike, info: ClipInfo, tracks: list[Any],
                 settings: dict[str, Any], photo: PhotoOptions | None = None) -> None:  # fmt: skip
        photo = photo or PhotoOptions()
        self.target = Path(target)
        self.temp = temporary_name(self.target)
        tags = clip_tags(info.tags, photo)
        options = {"movflags": "use_metadata_tags"} if needs_key_value_tags(tags) else {}
        self.container = av.open(ffmpeg_path(self.temp), "w", format="mp4", options=options)
        self.container.metadata.update(tags)
        if info.chapters:
            self.container.set_chapters(chapter_entries(info.chapters))
        self.container.metadata["comment"] = SETTINGS_PREFIX + json.dumps(settings)
        self.info = info
        self.video = self.container.add_stream("libx264", rate=info.rate)
        self.video.time_base = info.time_base
        self.video.metadata.update(track_tags(info.video_tags, photo))
        # the stream's own encoder only gives the file its headers (the segments' encoders,
        # set up alike, make the same ones: checked at each segment's first packet)
        _set_up_encoder(self.video.codec_context, info)
        # A frame's length in the stream's unit, for frames whose own timestamps are missing
        # or go backwards (damaged or oddly muxed files).
        self._ticks = max(1, round(1 / (info.rate * info.time_base)))
        self._last_pts: int | None = None
        self._index = 0
        self._encoder: Any = None  # the segment's, from its first frame to end_segment()
        self._headers_checked = False
        self._packets: list[EncodedPacket] = []  # the segment's so far
        self._tracks = {stream.index: _carried_track(self.container, stream, photo, info)
                        for stream in tracks}  # fmt: skip

    def write_frame(self, rgb: np.ndarray, frame: Frame) -> None:
        """The stylized pixels of `frame`, shown when `frame` was."""
        out = self._frame(rgb)
        out.pts, out.time_base = self._timestamp(frame)
        if self._encoder is None:
            self._encoder = av.CodecContext.create("libx264", "w")
            _set_up_encoder(self._encoder, self.info)
            self._encoder.flags = self.video.codec_context.flags  # global headers, as MP4's
            self._headers_checked = False
        self._mux(self._encoder.encode(out))
        self._index += 1

    def end_segment(self) -> EncodedSegment:
        """The segment so far closed (its encoder flushed, the next frame starts a new one
        on a keyframe): its packets and where the frame count and timestamps stand."""
        if self._encoder is not None:
            self._mux(self._encoder.encode(None))
            self._encoder = None
        segment = EncodedSegment(tuple(self._packets), self._index, self._last_pts)
        self._packets = []
        return segment

    def replay(self, segment: EncodedSegment) -> None:
        """A segment an earlier run encoded, written as it was, in place of its frames."""
        for saved in segment.packets:
            packet = av.Packet(saved.data)
            packet.pts, packet.dts, packet.duration = saved.pts, saved.dts, saved.duration
            packet.time_base, packet.is_keyframe = self.info.time_base, saved.keyframe
            packet.stream = self.video
            self.container.mux(packet)
        self._index, self._last_pts = segment.frames, segment.last_pts

    def _mux(self, packets: list[Any]) -> None:
        for packet in packets:
            saved = EncodedPacket(bytes(packet), packet.pts, packet.dts, packet.duration or 0,
                                  packet.is_keyframe)  # fmt: skip
            self._packets.append(saved)
            packet.stream = self.video
            self.container.mux(packet)
            if not self._headers_checked:
                self._check_headers()

    def _check_headers(self) -> None:
        """A segment's encoder must make the headers the file carries (its SPS and PPS), or
        its frames would not decode: the same settings make the same ones."""
        self._headers_checked = True
        if self._encoder is not None and self._encoder.extradata != \
                self.video.codec_context.extradata:  # fmt: skip
            raise RuntimeError("a video segment's encoder made headers unlike the file's")

    def _frame(self, rgb: np.ndarray) -> Any:
        """The pixels copied into a frame FFmpeg allocated (padded rows, aligned as FFmpeg
        wants them), cropped to the even size H.264 in yuv420p needs, in BT.709's YUV."""
        h, w = self.video.height, self.video.width
        frame = av.VideoFrame(w, h, "rgb24")
        plane = frame.planes[0]
        rows = np.frombuffer(plane, np.uint8).reshape(h, plane.line_size)
        rows[:, : w * 3] = rgb[:h, :w].reshape(h, w * 3)
        return yuv_bt709(frame)

    def _timestamp(self, frame: Frame) -> tuple[int, Fraction]:
        """The source frame's timestamp in the encoders' unit (the source's: the stream's own
        may change when the file's header is written), so a variable frame rate stays as it
        was; one that is missing or not after the last becomes the last plus a frame."""
        base = self.info.time_base
        pts = None
        if frame.pts is not None and frame.time_base is not None:
            pts = round(frame.pts * Fraction(frame.time_base) / base)
        if pts is None or (self._last_pts is not None and pts <= self._last_pts):
            pts = self._index * self._ticks if self._last_pts is None else (
                self._last_pts + self._ticks)  # fmt: skip
        self._last_pts = pts
        return pts, base

    @property
    def picture_end(self) -> float | None:
        """Seconds from the output's start to the end of the last frame written so far."""
        if self._last_pts is None:
            return None
        return float((self._last_pts + self._ticks) * self.info.time_base)

    def write_track(self, packet: Any) -> None:
        """A packet of a sound or subtitle track, carried into the output."""
        track = self._tracks.get(packet.stream.index)
        if track is not None:
            track.write(packet)

    def commit(self) -> Path:
        """Flush the encoders, close the file and give it its final name."""
        self.end_segment()
        for track in self._tracks.values():
            track.flush()
        self.container.close()
        commit_temporary(self.temp, self.target)
        return self.target

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self.container.close()
        with contextlib.suppress(OSError):
            os.unlink(self.temp)


@dataclass(frozen=True)
class EncodedPacket:
    """One packet of the picture as the encoder made it (times in the clip's time base)."""

    data: bytes
    pts: int | None
    dts: int | None
    duration: int
    keyframe: bool


@dataclass(frozen=True)
class EncodedSegment:
    """A closed segment's packets, and the frames written and the last timestamp after it."""

    packets: tuple[EncodedPacket, ...]
    frames: int
    last_pts: int | None


def _set_up_encoder(context: Any, info: ClipInfo) -> None:
    """x264 as every segment of a clip is encoded: even sides, yuv420p, BT.709, the clip's
    time base and rate, CRF and PRESET."""
    context.width, context.height = info.width // 2 * 2, info.height // 2 * 2
    context.pix_fmt = "yuv420p"
    context.time_base, context.framerate = info.time_base, info.rate
    tag_bt709(context)
    context.options = {"crf": str(CRF), "preset": PRESET}


def _carried_track(container: Any, source: Any, photo: PhotoOptions, info: ClipInfo) -> Any:
    """The output's track for a sound or text subtitle stream of the source (captions end
    with the picture)."""
    if source.type == "subtitle":
        return SubtitleTrack(container, source, photo, info.length)
    return _AudioTrack(container, source, photo)


class _AudioTrack:
    """One audio stream of the source in the output: its packets copied, or re-encoded to AAC
    when MP4 cannot carry its codec, at the source's times (a late start, a gap)."""

    def __init__(self, container: Any, source: Any, photo: PhotoOptions) -> None:
        self.container, self.source = container, source
        # the codec's own name ("mp3"), not its decoder's ("mp3float")
        self.copy = source.codec_context.codec.canonical_name in MP4_AUDIO
        if self.copy:
            self.stream = container.add_stream_from_template(source)
        else:
            rate = aac_rate(source.codec_context.sample_rate or 48000)
            self.stream = container.add_stream("aac", rate=rate)
            self.stream.layout = _aac_layout(source.codec_context.layout)
            self.resampler = av.AudioResampler(format="fltp", layout=self.stream.layout,
                                               rate=rate)  # fmt: skip
            self._next: int | None = None  # where the last frame ended, in samples
        self.stream.metadata.update(track_tags(source.metadata, photo, named=True))
        self.stream.disposition = track_disposition(source)

    def write(self, packet: Any) -> None:
        if self.copy:
            packet.stream = self.stream
            self.container.mux(packet)
            return
        for frame in packet.decode():
            self._retime(frame)
            for resampled in self.resampler.resample(frame):
                self.container.mux(self.stream.encode(resampled))

    def _retime(self, frame: Any) -> None:
        """The frame's time in samples of its own rate: the source's, so sound that starts
        late or pauses stays where it was; one missing or overlapping the last frame's end
        follows it (the encoder needs rising times)."""
        rate = frame.sample_rate
        pts = None
        if frame.pts is not None and frame.time_base is not None:
            pts = round(frame.pts * Fraction(frame.time_base) * rate)
        if pts is None or (self._next is not None and pts < self._next):
            pts = self._next or 0
        frame.pts, frame.time_base = pts, Fraction(1, rate)
        self._next = pts + frame.samples

    def flush(self) -> None:
        if not self.copy:
            self.container.mux(self.stream.encode(None))


def aac_rate(rate: int) -> int:
    """The sample rate a track is encoded to AAC at: its own where AAC has it, else 48 kHz
    above that (192 kHz studio sound), else the next rate AAC has (an odd low rate)."""
    rates = sorted(av.Codec("aac", "w").audio_rates or (48000,))
    if rate in rates:
        return rate
    return 48000 if rate > 48000 else min(r for r in rates if r > rate)


# FFmpeg's default layout for a count of channels whose order a file does not say (PCM in
# Matroska or AVI): the AAC encoder takes only named layouts.
_NAMED_LAYOUTS = {1: "mono", 2: "stereo", 3: "2.1", 4: "4.0", 5: "5.0", 6: "5.1", 7: "6.1",
                  8: "7.1"}  # fmt: skip


def _aac_layout(layout: Any) -> str:
    """The layout the AAC copy of a track is encoded in: the source's, named; stereo where
    the source has none or more channels than AAC's layouts name."""
    if layout is None or not layout.nb_channels:
        return "stereo"
    if not layout.name.endswith("channels"):
        return layout.name
    return _NAMED_LAYOUTS.get(layout.nb_channels, "stereo")


def read_video_settings(path: str | os.PathLike) -> dict[str, Any]:
    """The settings a clip styler wrote carries, or {} when there are none."""
    try:
        with av.open(ffmpeg_path(path), metadata_errors="ignore") as container:
            text = container.metadata.get("comment", "")
    except (av.error.FFmpegError, OSError):
        return {}
    if not text.startswith(SETTINGS_PREFIX):
        return {}
    try:
        settings = json.loads(text[len(SETTINGS_PREFIX) :])
    except ValueError:
        return {}
    return settings if isinstance(settings, dict) else {}

