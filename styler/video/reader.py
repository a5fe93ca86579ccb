"""Reading a clip with PyAV (FFmpeg inside its wheels): what it holds, then its frames upright
as RGB arrays (in the colours a viewer sees, styler.video.colour) and its audio packets, in
file order, one at a time, so memory stays bounded by a frame however long the clip.

Every way a file can fail to be a usable clip is a VideoLoadError, one line naming the file:
not a video (or damaged), no video stream, over the pixel limit, a stream that stops
decoding part way.
"""

from __future__ import annotations

import itertools
import os
import re
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any

import av
import cv2
import numpy as np

from styler.video.colour import frame_rgb
from styler.video.deinterlace import Deinterlacer
from styler.video.kinds import VideoLoadError, VideoTooLarge, ffmpeg_path, is_animation
from styler.video.languages import mp4_language
from styler.video.subtitles import text_subtitles
from styler.video.tags import Chapter, chapters_within, picture_tags, read_chapters, tag_text


@dataclass
class ClipInfo:
    """What a clip holds, as the output must reproduce it."""

    path: str
    width: int  # as shown: square pixels (see stretch), upright (after the rotation)
    height: int
    rotation: int  # degrees counterclockwise that turn a decoded frame upright
    rate: Fraction  # frames per second (average)
    time_base: Fraction  # the video stream's unit of time, which the output keeps
    frames: int  # the count the container states, else one estimated from the duration
    duration: float  # seconds
    audio: list[str] = field(default_factory=list)  # codec of each audio stream
    # How much wider than tall a stored pixel is shown (the sample aspect ratio: DV and HDV
    # store a 16:9 picture in 720x480 or 1440x1080). Frames are resampled to square pixels,
    # so strokes are painted on the picture as it is seen and the output plays everywhere.
    stretch: Fraction = Fraction(1)
    interlaced: bool = False  # its frames weave two fields: deinterlaced as they are read
    # the container's and the picture's own tags (date, camera, ...): styler.video.tags says
    # which the output keeps
    tags: dict[str, str] = field(default_factory=dict)
    video_tags: dict[str, str] = field(default_factory=dict)
    chapters: tuple[Chapter, ...] = ()  # in seconds from the output's start (see origin)
    start: float = 0.0  # when the picture's first frame is shown, on the file's clock
    # Where a whole clip's output starts on that clock: at its first frame or sound, where
    # that is later than 0 (MPEG-TS and its camcorder kin, a cut copied from a stream),
    # which would otherwise begin with that long a blank. Chapters are on the output's clock.
    origin: float = 0.0
    subtitles: list[str] = field(default_factory=list)  # language of each text subtitle track
    stated: bool = False  # the duration is the picture's own, as its file states it

    @property
    def length(self) -> float | None:
        """Seconds from the output's start to the picture's end (None where unknown)."""
        return self.start - self.origin + self.duration if self.duration > 0 else None


class Frame:
    """A decoded frame: when it is shown, and its upright RGB pixels.

    A video frame's pixels are made on first use, since some frames are decoded only to be
    passed over: a rerun takes the frames an earlier run painted from its journal, and a
    preview seeks to the keyframe before its moment. Making them costs more than decoding
    (an HDR frame's conversion to SDR most: docs/video.md, "What is kept")."""

    def __init__(
        self,
        rgb: np.ndarray | Callable[[], np.ndarray],
        pts: int | None,
        time_base: Fraction | None,
        alpha: np.ndarray | None = None,
    ) -> None:
        self._rgb = rgb  # HxWx3 uint8, or what makes it
        self.pts, self.time_base = pts, time_base
        self.alpha = alpha  # HxW uint8, an animation's transparency (none in video)

    @property
    def rgb(self) -> np.ndarray:
        if callable(self._rgb):
            self._rgb = self._rgb()  # the decoded frame is let go once its pixels are made
        return self._rgb

    def shown_at(self, pts: int, time_base: Fraction) -> Frame:
        """The same picture, shown at another time."""
        return Frame(self._rgb, pts, time_base, self.alpha)


def probe_clip(path: str | os.PathLike, *, max_pixels: int) -> ClipInfo:
    """The clip's facts, read from its headers (and its first frame, for the rotation and
    the interlacing); an animated GIF, WebP or PNG's from its own reader (its AnimationInfo),
    so that every clip stylize_video takes can be probed, and previewed with frame_at."""
    name = os.fsdecode(path)
    if is_animation(name):
        from styler.video.animation import probe_animation  # it builds on this module

        return probe_animation(name, max_pixels=max_pixels)
    with open_clip(name) as container:
        if _still_image(container):
            raise VideoLoadError(name, "a still image, not a video: stylize it as a photo")
        stream = _video_stream(name, container)
        stored = (stream.codec_context.width, stream.codec_context.height)
        if min(stored) < 2:  # H.264 in yuv420p: even sides, from 2 up
            raise VideoLoadError(name, f"{stored[0]}×{stored[1]} is too small for a video: "
                                 "H.264 needs at least 2×2 pixels")  # fmt: skip
        stretch = Fraction(stream.sample_aspect_ratio or 1) or Fraction(1)
        width = _shown_width(stream.codec_context.width, stretch)
        height = stream.codec_context.height
        if width * height > max_pixels:
            raise VideoTooLarge(name, (width, height), max_pixels)
        first = _first_frame(name, container, stream)
        rotation, interlaced = round(first.rotation or 0) % 360, bool(first.interlaced_frame)
        if rotation % 180:
            width, height = height, width
        rate = Fraction(stream.average_rate or stream.guessed_rate or 25)
        time_base = Fraction(stream.time_base or Fraction(1, 90000))
        duration, stated = _duration(container, stream)
        frames = stream.frames or max(1, round(duration * rate))
        audio = [s.codec_context.name for s in container.streams.audio]
        start = float((stream.start_time or 0) * time_base)  # the picture's, on the file's clock
        origin = _origin(stream, container.streams.audio)
        return ClipInfo(name, width, height, rotation, rate, time_base, frames, duration, audio,
                        stretch, interlaced, dict(container.metadata),
                        picture_tags(stream.metadata, container.metadata),
                        chapters_within(read_chapters(container), origin,
                                        start - origin + duration),
                        start, origin=origin, stated=stated,
                        subtitles=[mp4_language(tag_text(s.metadata.get("language", "")))
                                   for s in text_subtitles(container)])  # fmt: skip


def _origin(video: Any, audio: list[Any]) -> float:
    """ClipInfo.origin: the earliest start of the picture and the sound, or 0 where one
    starts at 0 or before (an AAC track's priming)."""
    starts = [s.start_time * Fraction(s.time_base) for s in (video, *audio)
              if s.start_time is not None and s.time_base]  # fmt: skip
    return float(max(Fraction(0), min(starts, default=Fraction(0))))


def open_clip(name: str) -> Any:
    """An input container, or VideoLoadError saying why there is none."""
    if not os.path.isfile(name):
        raise VideoLoadError(name, "no such file" if not os.path.exists(name) else "not a file")
    if os.path.getsize(name) == 0:
        raise VideoLoadError(name, "empty file (0 bytes)")
    try:
        # tags that are not UTF-8 kept as surrogate escapes: styler.video.tags reads them
        return av.open(ffmpeg_path(name), metadata_errors="surrogateescape")
    except (av.error.FFmpegError, UnicodeDecodeError) as exc:
        if _index_missing(name):
            raise VideoLoadError(name, "an unfinished recording: its frames are there but not "
                                 "the index (moov) a camera writes last, so it cannot be "
                                 "played") from exc  # fmt: skip
        raise VideoLoadError(name, f"not a video styler can read ({_reason(exc)})") from exc


def _index_missing(name: str) -> bool:
    """Whether an MP4 or MOV file holds media (an mdat box) but no index (moov): a
    recording cut off before its end, whose index is written last."""
    boxes = set()
    try:
        with open(name, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            at = 0
            while at + 8 <= size and len(boxes) < 64:
                file.seek(at)
                header = file.read(16)
                length, kind = int.from_bytes(header[:4], "big"), header[4:8]
                if length == 1 and len(header) == 16:
                    length = int.from_bytes(header[8:16], "big")
                elif length == 0:
                    length = size - at
                if length < 8:
                    break
                boxes.add(kind)
                at += length
    except OSError:
        return False
    return b"mdat" in boxes and b"moov" not in boxes


def _still_image(container: Any) -> bool:
    """FFmpeg opens a photo (JPEG, PNG, ...) as a video of one frame: image2 or an image
    pipe demuxer. An animated GIF, WebP or PNG never gets here (styler.video.animation), so
    a GIF or APNG that does is a single frame too."""
    form = container.format.name
    return form in ("image2", "gif", "apng") or form.endswith("_pipe")


def _video_stream(name: str, container: Any) -> Any:
    """The clip's picture: FFmpeg's best video stream, not merely the first, which in some
    files is a thumbnail track of one small frame; never a cover picture (an audio file's
    artwork, which FFmpeg lists as a video stream)."""
    pictures = [s for s in container.streams.video
                if not s.disposition & av.stream.Disposition.attached_pic]  # fmt: skip
    if not pictures:
        cover = ", with a cover picture" if container.streams.video else ""
        kind = f"audio only{cover}" if container.streams.audio else "no streams styler can use"
        raise VideoLoadError(name, f"no video stream ({kind})")
    best = container.streams.best("video")
    return best if best in pictures else pictures[0]


def _first_frame(name: str, container: Any, stream: Any) -> Any:
    """The first decoded frame: its side data holds the display rotation (where FFmpeg puts
    it), its flags whether the clip is interlaced."""
    try:
        for frame in container.decode(stream):
            return frame
    except av.error.FFmpegError as exc:
        raise _damaged(name, exc) from exc
    raise VideoLoadError(name, "no frame decodes (empty or damaged video stream)")


def _duration(container: Any, stream: Any) -> tuple[float, bool]:
    """The picture's length: its stream's, else the one Matroska and WebM tag it with (both
    the picture's own: True), else the file's (False: its sound or subtitles may outlast
    it, and some formats' is an estimate)."""
    if stream.duration and stream.time_base:
        return float(stream.duration * stream.time_base), True
    tagged = _MATROSKA_DURATION.fullmatch(stream.metadata.get("DURATION", ""))
    if tagged:
        hours, minutes, seconds = tagged.groups()
        return int(hours) * 3600 + int(minutes) * 60 + float(seconds), True
    if container.duration:
        return container.duration / av.time_base, False
    return 0.0, False


_MATROSKA_DURATION = re.compile(r"(\d+):(\d\d):(\d\d(?:\.\d+)?)")


class ClipReader:
    """An open clip: its audio and text subtitle streams (carried into the output) and,
    once, its contents in file order."""

    def __init__(self, info: ClipInfo) -> None:
        self.info = info
        self.container = open_clip(info.path)
        self.video = _video_stream(info.path, self.container)  # the picture (the probe's)
        self.video.thread_type = "AUTO"  # before any decoding opens the codec (seek's check)
        self.audio = list(self.container.streams.audio)
        self.tracks = [*self.audio, *text_subtitles(self.container)]
        self._earlier: list[Any] = []  # captions from before a seek's keyframe (seek)

    def __enter__(self) -> ClipReader:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.container.close()

    @property
    def start(self) -> Fraction:
        """When the video stream's first frame is shown, in seconds of the file's clock."""
        return (self.video.start_time or 0) * Fraction(self.video.time_base)

    def seek(self, seconds: float, *, captions: bool = False) -> int:
        """Move to the keyframe at or before `seconds` from the clip's start, so items()
        decodes on from there; the time `seconds` as a pts of the video stream. `captions`:
        items() gives the captions that start before `seconds` too (one may be on screen)."""
        video = self.video
        target = (video.start_time or 0) + round(Fraction(seconds) / video.time_base)
        if seconds > 0:
            self.container.seek(self._landing_before(target), stream=video, backward=True)
            if captions:
                self._earlier = self._captions_before(target * Fraction(video.time_base))
        return target

    def _landing_before(self, target: int) -> int:
        """A time to seek to whose first decoded frame is at or before `target`. MPEG
        transport and program streams (.mts, .ts, .mpg) have no index: FFmpeg's search by
        bytes may land on a keyframe after the time asked for (even when asked for the
        clip's first timestamp), so the aim moves back (one second, then twice as far each
        time) down to 0, the file's beginning."""
        video = self.video
        lowest, aim = min(0, video.start_time or 0), target
        back = max(1, round(1 / Fraction(video.time_base)))
        while aim > lowest:
            self.container.seek(aim, stream=video, backward=True)
            first = self._first_time()
            if first is not None and first <= target:
                break
            aim, back = max(lowest, aim - back), 2 * back
        return aim

    def _first_time(self) -> int | None:
        """The first timestamp decoded from where the container stands (None: none within a
        long GOP's packets); the caller seeks again, which resets the decoder."""
        for packet in itertools.islice(self.container.demux(self.video), _SEEK_CHECK_PACKETS):
            for frame in packet.decode():
                if frame.pts is not None:
                    return frame.pts
        return None

    def _captions_before(self, at: Fraction) -> list[Any]:
        """The caption packets that start in the CAPTION_LOOKBACK seconds before `at` (the
        file's clock): one of them may still be on screen there. Matroska and WebM seek
        to a cluster, and those stored before the keyframe would never be read."""
        ours = {stream.index: stream for stream in self.tracks if stream.type == "subtitle"}
        if not ours:
            return []
        found = []
        try:
            with av.open(ffmpeg_path(self.info.path), metadata_errors="surrogateescape") as other:
                earliest = max(Fraction(0), at - CAPTION_LOOKBACK)
                if earliest > 0:
                    other.seek(int(earliest * av.time_base), backward=True)
                streams = [s for s in other.streams.subtitles if s.index in ours]
                for packet in other.demux(*streams):
                    if packet.pts is None or packet.time_base is None:
                        continue
                    if packet.pts * Fraction(packet.time_base) >= at:
                        break
                    found.append(_moved(packet, ours[packet.stream.index]))
        except av.error.FFmpegError:
            pass  # damage before the part: its captions from the part on, as before
        return found

    def items(self) -> Iterator[Frame | Any]:
        """A Frame for each video frame (deinterlaced where the clip is interlaced) and the
        tracks' packets (sound, subtitles) as they are, in file order, one at a time. A
        stream that stops decoding part way is VideoLoadError."""
        video = self.video
        deinterlacer = Deinterlacer(video) if self.info.interlaced else None
        earlier = {(p.stream.index, p.pts) for p in self._earlier}
        yield from self._earlier
        try:
            packets = self.container.demux(video, *self.tracks)
            ahead = list(itertools.islice(packets, _LOOK_AHEAD))
            times = _PacketOrderTimes() if _pts_in_decode_order(video, ahead) else None
            for packet in itertools.chain(ahead, packets):
                if packet.stream is not video:
                    if packet.dts is not None and (packet.stream.index, packet.pts) not in earlier:
                        yield packet
                    continue
                if times is not None:
                    times.note(packet)
                for frame in packet.decode():
                    if times is not None:
                        frame.pts = times.shown(frame.pts)
                    shown = deinterlacer.frames(frame) if deinterlacer else (frame,)
                    yield from map(self._frame, shown)
            if deinterlacer is not None:
                yield from map(self._frame, deinterlacer.flush())
        except av.error.FFmpegError as exc:
            raise _damaged(self.info.path, exc) from exc

    def _frame(self, frame: Any) -> Frame:
        def pixels() -> np.ndarray:
            try:
                rgb = _square_pixels(frame_rgb(frame), self.info.stretch)
            except av.error.FFmpegError as exc:
                raise _damaged(self.info.path, exc) from exc
            return _clip_sized(_upright(rgb, self.info.rotation), self.info.width,
                               self.info.height)  # fmt: skip

        return Frame(pixels, frame.pts, frame.time_base)


def _moved(packet: Any, stream: Any) -> Any:
    """A copy of `packet` as a packet of `stream` (its own container is about to close)."""
    copy = av.Packet(bytes(packet))
    copy.stream = stream
    copy.pts, copy.dts, copy.duration = packet.pts, packet.dts, packet.duration
    copy.time_base = packet.time_base
    return copy


BAR_STRETCHED = 2  # px: black bars this thin or thinner are no bars (_clip_sized)
_LOOK_AHEAD = 64  # packets read before decoding, to tell how the clip's times are kept
_SEEK_CHECK_PACKETS = 600  # a seek's landing is checked within this many video packets
CAPTION_LOOKBACK = Fraction(60)  # seconds: longer than a caption stays on screen


def _pts_in_decode_order(video: Any, packets: Iterable[Any]) -> bool:
    """Whether the video's packets carry the times they are decoded at, not shown at: AVI
    keeps no presentation times, so a clip with B-frames there has packet times that rise
    in file order, and its frames, which come out in the order they are shown, would carry
    them shuffled (a muxer refuses those)."""
    if not video.codec_context.has_b_frames:
        return False
    times = [p.pts for p in packets if p.stream is video and p.pts is not None]
    return len(times) > 1 and all(a < b for a, b in itertools.pairwise(times))


class _PacketOrderTimes:
    """Times for frames of a clip whose packets rise in file order: the k-th frame shown is
    shown at the k-th packet's time."""

    def __init__(self) -> None:
        self._times: deque[int] = deque()

    def note(self, packet: Any) -> None:
        if packet.pts is not None:
            self._times.append(packet.pts)

    def shown(self, pts: int | None) -> int | None:
        return self._times.popleft() if self._times else pts


def _damaged(path: str, exc: av.error.FFmpegError) -> VideoLoadError:
    """A stream that stops decoding (or converting) part way."""
    return VideoLoadError(path, f"damaged video stream ({_reason(exc)})")


def _shown_width(stored: int, stretch: Fraction) -> int:
    """The width a stored frame is shown at, in square pixels (ClipInfo.stretch)."""
    return max(2, round(stored * stretch))


def _square_pixels(rgb: np.ndarray, stretch: Fraction) -> np.ndarray:
    """The stored frame resampled to the width it is shown at (ClipInfo.stretch)."""
    if stretch == 1:
        return rgb
    h, w = rgb.shape[:2]
    shown = _shown_width(w, stretch)
    smaller = cv2.INTER_AREA if shown < w else cv2.INTER_CUBIC
    return cv2.resize(rgb, (shown, h), interpolation=smaller)


def _upright(rgb: np.ndarray, rotation: int) -> np.ndarray:
    """Turn the frame by the display rotation (counterclockwise), as players do."""
    turns = (rotation // 90) % 4
    return np.ascontiguousarray(np.rot90(rgb, turns)) if turns else rgb


def _clip_sized(rgb: np.ndarray, width: int, height: int) -> np.ndarray:
    """A frame of another size than the clip's first (a stream that switches resolution
    part way) fitted into the clip's size, black bars where its shape differs: the
    steadier and the encoder take one size. Bars of a pixel or two (sizes rounded to even
    numbers differently) would be painted as lines at the edges: it is stretched instead."""
    h, w = rgb.shape[:2]
    if (w, h) == (width, height):
        return rgb
    scale = min(width / w, height / h)
    fitted = max(1, round(w * scale)), max(1, round(h * scale))
    if width - fitted[0] <= BAR_STRETCHED and height - fitted[1] <= BAR_STRETCHED:
        fitted = (width, height)
    smaller = cv2.INTER_AREA if scale < 1 else cv2.INTER_CUBIC
    resized = cv2.resize(rgb, fitted, interpolation=smaller)
    if fitted == (width, height):
        return resized
    out = np.zeros((height, width, 3), np.uint8)
    top, left = (height - fitted[1]) // 2, (width - fitted[0]) // 2
    out[top : top + fitted[1], left : left + fitted[0]] = resized
    return out


def _reason(exc: Exception) -> str:
    text = getattr(exc, "strerror", None) or str(exc)
    return " ".join(str(text).split()) or type(exc).__name__
