"""Stylizing a whole clip: decoded, stylized and encoded as a pipeline, one frame at a time,
so memory is bounded by a few frames however long the clip; the sound copied alongside;
nothing under the final name until the clip is complete.
"""

from __future__ import annotations

import contextlib
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
from styler.progress import CancelToken, Progress, ProgressCallback
from styler.recipe import Recipe
from styler.video.animation import AnimationInfo, AnimationReader, AnimationWriter, probe_animation
from styler.video.frames import FrameStylizer
from styler.video.kinds import is_animation
from styler.video.part import part_info, part_items
from styler.video.reader import ClipInfo, ClipReader, Frame, VideoLoadError, probe_clip
from styler.video.span import Span
from styler.video.writer import ClipWriter

PREVIEW_EVERY = 10  # frames between the stylized frames progress events carry


@dataclass
class VideoResult:
    """A finished (or cancelled) clip."""

    output: Path | None  # None when cancelled: nothing was written
    frames: int  # frames stylized
    completed: bool
    settings: dict[str, Any]
    elapsed: float
    info: ClipInfo


def stylize_video(
    source: str | os.PathLike,
    output: str | os.PathLike,
    recipe: Recipe | Engine,
    *,
    progress: ProgressCallback | None = None,
    cancel: CancelToken | None = None,
    max_pixels: int | None = None,
    span: Span | None = None,
) -> VideoResult:
    """Stylize the clip `source` into the MP4 `output` with the recipe (or an engine built
    from one): every frame as the recipe paints a photo, steadied by its `temporal` control;
    the source's timestamps, rotation (made upright) and audio kept; the settings embedded.
    An animated GIF, WebP or PNG is written back animated in its own format instead
    (styler.video.animation). `span`: only that part of the clip, its times from 0
    (styler.video.span).

    progress hears of each frame (step = frames done, total = the clip's frame count; every
    few frames with the stylized image). A cancel stops after the frame under way and
    writes nothing. Raises VideoLoadError (one line) for a clip that cannot be read."""
    start = time.perf_counter()
    engine = build_engine(recipe) if isinstance(recipe, Recipe) else recipe
    limit = max_pixels or engine.recipe.controls["max_pixels"]
    if is_animation(source):
        whole: ClipInfo = probe_animation(source, max_pixels=limit)
    else:
        whole = probe_clip(source, max_pixels=limit)
    part = None if span is None or span.whole else span
    info = whole if part is None else part_info(whole, part)
    stream = FrameStylizer(engine)
    with reader_for(whole) as reader:
        pipeline = _Pipeline(Path(output), info, reader.audio, part)
        items = reader.items() if part is None else part_items(reader, part)
        try:
            for item in items:
                if not isinstance(item, Frame):
                    pipeline.audio(item)
                    continue
                result, steadied = stream.run_ahead(item.rgb, cancel=cancel)
                if not result.completed or (cancel is not None and cancel.cancelled):
                    pipeline.abort()
                    return VideoResult(None, pipeline.frames, False, result.settings,
                                       time.perf_counter() - start, info)  # fmt: skip
                image = np.asarray(result.image) if steadied is None else steadied
                pipeline.frame(image, result.image.size, item, result.settings)
                if progress is not None:
                    progress(_progress(pipeline.frames, info, result, steadied, start))
            written = pipeline.commit()
        except BaseException:
            pipeline.abort()
            raise
    return VideoResult(written, pipeline.frames, True, pipeline.settings,
                       time.perf_counter() - start, info)  # fmt: skip


def frame_at(info: ClipInfo, seconds: float) -> Frame:
    """The frame on screen `seconds` into the clip (its last frame past the end): a video
    seeks to the keyframe before that time and decodes on from there, so a frame deep in a
    long clip comes as quickly as its first. VideoLoadError where no frame decodes."""
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
    frame (or at commit)."""

    IN_FLIGHT = 2

    def __init__(self, target: Path, info: ClipInfo, audio: list[Any],
                 span: Span | None = None) -> None:  # fmt: skip
        self.target, self.info, self.audio_streams, self.span = target, info, audio, span
        self.writer: ClipWriter | AnimationWriter | None = None
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
    ) -> None:
        """One stylized frame (size: width, height), or the steadied frame to come: the
        encoding thread waits for it, so the blend overlaps the next frame's painting."""
        if self.writer is None:
            self.settings = _clip_settings(settings, self.info, self.span)
            sized = replace(self.info, width=size[0], height=size[1])
            kind = AnimationWriter if isinstance(sized, AnimationInfo) else ClipWriter
            self.writer = kind(self.target, sized, self.audio_streams, self.settings)
            for packet in self.waiting:
                self._write(self.writer.write_audio, packet)
            self.waiting.clear()
        self._write(_when_ready(self.writer.write_frame), rgb, frame)
        self.frames += 1

    def audio(self, packet: Any) -> None:
        if self.writer is None:
            self.waiting.append(packet)
        else:
            self._write(self.writer.write_audio, packet)

    def commit(self) -> Path:
        self._finish_writes()
        if self.writer is None:
            raise VideoLoadError(self.info.path, "no frame decodes (empty or damaged video)")
        return self.writer.commit()

    def abort(self) -> None:
        with contextlib.suppress(Exception):
            self._finish_writes()
        if self.writer is not None:
            self.writer.abort()

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
    done: int, info: ClipInfo, result: Any, steadied: Future[np.ndarray] | None, start: float
) -> Progress:
    """Every PREVIEW_EVERY frames with the frame's image (waiting for its blend)."""
    image = None
    if done % PREVIEW_EVERY == 1:
        image = result.image if steadied is None else Image.fromarray(steadied.result(), "RGB")
    return Progress(done, max(done, info.frames), 0, 1, result.image.size,
                    elapsed=time.perf_counter() - start, image=image)  # fmt: skip
