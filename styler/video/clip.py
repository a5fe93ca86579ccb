"""Stylizing a whole clip: decoded, stylized and encoded as a pipeline, one frame at a time,
so memory is bounded by a few frames however long the clip; the sound copied alongside;
nothing under the final name until the clip is complete.
"""

from __future__ import annotations

import contextlib
import math
import os
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from styler.engine import Engine, build_engine
from styler.imageio import PhotoOptions
from styler.progress import CancelToken, Progress, ProgressCallback
from styler.recipe import Recipe
from styler.video.animation import AnimationInfo, AnimationReader, AnimationWriter
from styler.video.frames import FrameStylizer
from styler.video.journal import ClipJournal, UnknownInput, discard, journal_key
from styler.video.kinds import ANIMATION_OUTPUT, VIDEO_OUTPUT
from styler.video.part import part_info, part_items, whole_items
from styler.video.reader import ClipInfo, ClipReader, Frame, VideoLoadError, probe_clip
from styler.video.span import Span, clock
from styler.video.writer import ClipWriter

PREVIEW_EVERY = 10  # frames between the stylized frames progress events carry
# A segment of the output (styler.video.writer; what a stopped run keeps, styler.video.journal)
# is SEGMENT_SECONDS of the clip, or SLOW_SEGMENT_FRAMES frames in optimizer mode.
SEGMENT_SECONDS, SLOW_SEGMENT_FRAMES = 2.0, 8


@dataclass
class VideoResult:
    """A finished (or cancelled) clip."""

    output: Path | None  # None when cancelled: nothing was written
    frames: int  # frames stylized
    completed: bool
    settings: dict[str, Any]
    elapsed: float
    info: ClipInfo
    resumed: int = 0  # frames an earlier, stopped run painted (taken from its journal)
    kept: int = 0  # a cancelled run's: frames its journal keeps for the next run to take
    journal: Path | None = None  # where those are kept (a hidden folder beside the output)
    picture_end: float | None = None  # seconds: where the written picture ends

    def cut_short(self) -> str | None:
        """A line where the picture ended well before the length its file states (a file cut
        off in a download or a copy decodes up to where it breaks, and no further)."""
        length = self.info.length
        if not self.completed or self.picture_end is None or not self.info.stated or not length:
            return None
        if length - self.picture_end <= max(1.0, 0.05 * length):
            return None
        return (f"the picture ends at {clock(self.picture_end)} of the {clock(length)} the "
                "file states: the file may be cut short")


def stylize_video(
    source: str | os.PathLike,
    output: str | os.PathLike,
    recipe: Recipe | Engine,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    max_pixels: int | None = None,
    span: Span | None = None,
    resume: bool = True,
) -> VideoResult:
    """Stylize the clip `source` into the MP4 `output` with the recipe (or an engine built
    from one): every frame as the recipe paints a photo, steadied by its `temporal` control;
    the source's timestamps, rotation (made upright), audio and subtitles kept; the settings
    embedded.
    An animated GIF, WebP or PNG is written back animated in its own format instead
    (styler.video.animation). `span`: only that part of the clip, its times from 0
    (styler.video.span).

    progress hears of each frame (Progress.step: frames done, .total_steps: the clip's
    frames; every few frames with the stylized image). A cancel stops after the frame under way and
    writes nothing under the output's name. Raises VideoLoadError (one line) for a clip
    that cannot be read.

    resume: the segments a killed, stopped or failed run of the same clip and recipe
    finished are taken from its journal beside the output (styler.video.journal), and the
    clip comes out as one run would have made it; False starts from the first frame."""
    start = time.perf_counter()
    engine = build_engine(recipe) if isinstance(recipe, Recipe) else recipe
    limit = max_pixels or engine.recipe.controls["max_pixels"]
    whole = probe_clip(source, max_pixels=limit)
    _check_output_name(output, whole)
    _check_not_the_source(source, output)
    part = None if span is None or span.whole else span
    info = whole if part is None else part_info(whole, part)
    stream = FrameStylizer(engine)
    segment = 0 if isinstance(info, AnimationInfo) else segment_frames(info, engine)
    journal = None
    if segment and resume:
        journal = _journal(output, source, engine, part, segment)
    elif segment:
        discard(output)
    taken = 0 if journal is None else journal.segments * segment
    with reader_for(whole) as reader:
        photo = PhotoOptions.from_values(engine.recipe.controls)  # the tags the clip keeps
        pipeline = _Pipeline(Path(output), info, reader.tracks, part, segment, journal, photo)
        items = whole_items(reader) if part is None else part_items(reader, part)
        try:
            for item in items:
                if not isinstance(item, Frame):
                    pipeline.track(item)
                    continue
                if cancel is not None and cancel.cancelled:
                    return pipeline.stopped(pipeline.settings, start, taken)
                if pipeline.frames < taken:  # painted by an earlier run: its segment instead
                    assert journal is not None
                    if pipeline.take(stream) and progress is not None:
                        progress(_progress(pipeline.frames, info, None, None, start,
                                           pipeline.frames))  # fmt: skip
                    continue
                result, steadied = stream.run_ahead(item.rgb, cancel=cancel)
                if not result.completed or (cancel is not None and cancel.cancelled):
                    return pipeline.stopped(result.settings, start, taken)
                image = np.asarray(result.image) if steadied is None else steadied
                pipeline.frame(image, result.image.size, item, result.settings, stream)
                if progress is not None:
                    progress(_progress(pipeline.frames, info, result, steadied, start, taken))
            written = pipeline.commit()
        except BaseException as exc:
            pipeline.abort(keep_journal=not isinstance(exc, VideoLoadError))
            raise
    return VideoResult(written, pipeline.frames, True, pipeline.settings,
                       time.perf_counter() - start, info, taken,
                       picture_end=pipeline.picture_end)  # fmt: skip


def _check_output_name(output: str | os.PathLike, info: ClipInfo) -> None:
    """A video is written as MP4 and an animation in its own format: an output named for
    another (clip.gif, clip.mkv, no extension) would be a file whose name lies about what it
    holds, so it is refused (ValueError) before any painting."""
    written = ANIMATION_OUTPUT[info.format] if isinstance(info, AnimationInfo) else VIDEO_OUTPUT
    allowed = {written, "m4v", "mov"} if written == VIDEO_OUTPUT else {written}
    if Path(output).suffix.lower().lstrip(".") not in allowed:
        kind = f"an animated {info.format}" if isinstance(info, AnimationInfo) else "a video"
        raise ValueError(f"{os.fsdecode(output)}: {kind} is written as {written.upper()}: "
                         f"name the output .{written}")  # fmt: skip


def _check_not_the_source(source: str | os.PathLike, output: str | os.PathLike) -> None:
    """The clip written over itself would be lost as the output replaced it: refused
    (ValueError), whatever path names it (a link, another spelling)."""
    with contextlib.suppress(OSError):
        if os.path.samefile(source, output):
            raise ValueError(f"{os.fsdecode(output)}: is the source clip itself: write the "
                             "stylized clip under another name")  # fmt: skip


def segment_frames(info: ClipInfo, engine: Engine) -> int:
    """Frames a segment of the output holds (styler.video.writer): SEGMENT_SECONDS of the
    clip, or SLOW_SEGMENT_FRAMES where each frame is optimised (minutes a frame)."""
    if engine.warm_starts:
        return SLOW_SEGMENT_FRAMES
    return max(1, round(SEGMENT_SECONDS * info.rate))


def _journal(output: str | os.PathLike, source: str | os.PathLike, engine: Engine,
             span: Span | None, segment: int) -> ClipJournal | None:  # fmt: skip
    """The output's journal, with what an earlier run of the same clip and recipe finished;
    None where the recipe holds a style with no fingerprint (an object in memory)."""
    try:
        key = journal_key(source, engine.recipe, span, segment)
    except UnknownInput:
        discard(output)
        return None
    return ClipJournal.open(output, key)


def frame_at(info: ClipInfo, seconds: float) -> Frame:
    """The frame on screen `seconds` into the clip (its last frame past the end): a video
    seeks to the keyframe before that time and decodes on from there, so a frame deep in a
    long clip comes as quickly as its first. VideoLoadError where no frame decodes."""
    if not math.isfinite(seconds):
        raise ValueError(f"a time in the clip is a finite number of seconds, got {seconds}")
    with reader_for(info) as reader:
        # an animation's frames are timed in ms from 0
        target = reader.seek(seconds) if isinstance(reader, ClipReader) else round(seconds * 1000)
        shown = None
        for item in reader.items():
            if not isinstance(item, Frame) or item.pts is None:
                continue
            if item.pts > target and shown is not None:
                break
            shown = item
    if shown is None:
        raise VideoLoadError(info.path, "no frame decodes (empty or damaged video)")
    return shown


def reader_for(info: ClipInfo) -> ClipReader | AnimationReader:
    """The opened source of a probed clip: a video's container, or an animation's frames."""
    return AnimationReader(info) if isinstance(info, AnimationInfo) else ClipReader(info)


class _Pipeline:
    """The output side: opened at the first stylized frame (whose size it takes), audio
    packets that come before it held until then.

    Encoding runs on a second thread, in order, while the next frame is painted; at most
    IN_FLIGHT writes wait, so memory stays bounded, and a write's error surfaces at the next
    frame (or at commit). A video's output is cut into segments of `segment` frames, each
    kept in the journal (where there is one) with the stream's state after it."""

    IN_FLIGHT = 2

    def __init__(self, target: Path, info: ClipInfo, tracks: list[Any], span: Span | None = None,
                 segment: int = 0, journal: ClipJournal | None = None,
                 photo: PhotoOptions | None = None) -> None:  # fmt: skip
        self.target, self.info, self.tracks, self.span = target, info, tracks, span
        self.segment, self.journal, self.photo = segment, journal, photo
        self.writer: ClipWriter | AnimationWriter | None = None
        self.picture_end: float | None = None  # a video's, once committed
        self.waiting: list[Any] = []
        self.frames = 0
        self.settings: dict[str, Any] = {}
        self._encoder = ThreadPoolExecutor(1, thread_name_prefix="styler-encode")
        self._writes: deque[Future[None]] = deque()

    def frame(
        self,
        rgb: np.ndarray | Future[np.ndarray],
        size: tuple[int, int],
        frame: Frame,
        settings: dict[str, Any],
        stream: FrameStylizer,
    ) -> None:
        """One stylized frame (size: width, height), or the steadied frame to come: the
        encoding thread waits for it, so the blend overlaps the next frame's painting. At a
        segment's last frame, the segment closed and journalled with the `stream`'s state."""
        if self.writer is None:
            self._open(_clip_settings(settings, self.info, self.span), size)
        assert self.writer is not None
        self._write(_when_ready(self.writer.write_frame), rgb, frame)
        self.frames += 1
        if self.segment and self.frames % self.segment == 0:
            state = stream.checkpoint() if self.journal is not None else {}
            self._write(self._end_segment, self.frames // self.segment - 1, state, size)

    def take(self, stream: FrameStylizer) -> bool:
        """One frame an earlier run painted, in place of painting it: at its segment's last
        frame the segment is written from the journal, and at the journal's last the stream
        is left as that run left it. True where a segment was written."""
        assert self.journal is not None and self.journal.settings is not None
        self.frames += 1
        if self.frames % self.segment:
            return False
        segment = self.journal.load(self.frames // self.segment - 1)
        if self.writer is None:
            width, height = self.journal.size or (self.info.width, self.info.height)
            self._open(self.journal.settings, (width, height))
        assert isinstance(self.writer, ClipWriter)
        self._write(self.writer.replay, segment)
        if self.frames == self.journal.segments * self.segment:
            stream.restore(self.journal.state())
        return True

    def _open(self, settings: dict[str, Any], size: tuple[int, int]) -> None:
        self.settings = settings
        sized = replace(self.info, width=size[0], height=size[1])
        if isinstance(sized, AnimationInfo):
            self.writer = AnimationWriter(self.target, sized, self.tracks, self.settings)
        else:
            self.writer = ClipWriter(self.target, sized, self.tracks, self.settings,
                                     self.photo)  # fmt: skip
        for packet in self.waiting:
            self._write(self.writer.write_track, packet)
        self.waiting.clear()

    def _end_segment(self, number: int, state: dict[str, np.ndarray],
                     size: tuple[int, int]) -> None:  # fmt: skip
        assert isinstance(self.writer, ClipWriter)
        segment = self.writer.end_segment()
        if self.journal is not None:
            self.journal.save(number, segment, state, self.settings, size)

    def track(self, packet: Any) -> None:
        """A sound or subtitle packet, written in turn with the frames."""
        if self.writer is None:
            self.waiting.append(packet)
        else:
            self._write(self.writer.write_track, packet)

    def commit(self) -> Path:
        self._finish_writes()
        if self.writer is None:
            raise VideoLoadError(self.info.path, "no frame decodes (empty or damaged video)")
        if isinstance(self.writer, ClipWriter):
            self.picture_end = self.writer.picture_end
        written = self.writer.commit()
        if self.journal is not None:
            self.journal.remove()
        return written

    def stopped(self, settings: dict[str, Any], start: float, taken: int) -> VideoResult:
        """The run cancelled: nothing under the final name, the journal kept."""
        self.abort()
        kept = 0 if self.journal is None else self.journal.segments * self.segment
        folder = self.journal.folder if kept and self.journal is not None else None
        return VideoResult(None, self.frames, False, settings, time.perf_counter() - start,
                           self.info, taken, kept, folder)  # fmt: skip

    def abort(self, keep_journal: bool = True) -> None:
        """Nothing under the final name; the journal kept for a run that goes on later
        (`keep_journal` False: the clip itself is bad, so no run will)."""
        with contextlib.suppress(Exception):
            self._finish_writes()
        if self.writer is not None:
            self.writer.abort()
        if self.journal is not None and not keep_journal:
            self.journal.remove()

    def _write(self, write: Any, *args: Any) -> None:
        self._writes.append(self._encoder.submit(write, *args))
        while len(self._writes) > self.IN_FLIGHT:
            self._writes.popleft().result()

    def _finish_writes(self) -> None:
        try:
            while self._writes:
                self._writes.popleft().result()
        finally:
            self._encoder.shutdown(wait=True, cancel_futures=True)


def _clip_settings(settings: dict[str, Any], info: ClipInfo,
                   span: Span | None) -> dict[str, Any]:  # fmt: skip
    """The first frame's settings (the recipe's), with the clip's facts as engine notes (the
    part painted among them, where it was one)."""
    video: dict[str, Any] = {"frames": info.frames, "rate": str(info.rate)}
    if span is not None:
        video["part"] = [span.start, span.end]
    notes = {**settings.get("engine", {}), "video": video}
    return {**settings, "engine": notes}


def _when_ready(write: Callable[..., None]) -> Callable[..., None]:
    """write, taking a frame that may still be on its way (a Future)."""

    def written(rgb: np.ndarray | Future[np.ndarray], *args: Any) -> None:
        write(rgb.result() if isinstance(rgb, Future) else rgb, *args)

    return written


def _progress(
    done: int, info: ClipInfo, result: Any, steadied: Future[np.ndarray] | None, start: float,
    resumed: int,
) -> Progress:
    """Every PREVIEW_EVERY frames with the frame's image (waiting for its blend); `result`
    None for frames taken from the journal (no image); `resumed`: frames taken so far."""
    image = None
    if result is not None and done % PREVIEW_EVERY == 1:
        image = result.image if steadied is None else Image.fromarray(steadied.result(), "RGB")
    size = (info.width, info.height) if result is None else result.image.size
    return Progress(done, max(done, info.frames), 0, 1, size, elapsed=time.perf_counter() - start,
                    image=image, resumed=resumed)  # fmt: skip
