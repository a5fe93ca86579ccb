"""Reading only a part of a clip (styler.video.span.Span): its frames and sound, their times
counted from the part's start, and the facts its output must hold.

A frame belongs to the part when the time it is on screen overlaps it: the frame showing at
`start` comes first, shown from 0, and the last is the one showing just before `end`. Audio
packets are kept whole from the first that starts at `start` or after, up to `end`: the
sound starts within one packet (some 20 ms) of the picture.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import replace
from fractions import Fraction
from typing import Any

from styler.video.animation import AnimationInfo
from styler.video.kinds import VideoLoadError
from styler.video.reader import ClipInfo, ClipReader, Frame
from styler.video.span import Span, clock
from styler.video.tags import chapters_within, later_timecode


def part_info(info: ClipInfo, span: Span) -> ClipInfo:
    """The facts of the part, as its output must hold them (its length, a frame count for
    progress, an animation's frame durations). VideoLoadError for a part that starts at or
    after the clip's end."""
    if span.start >= info.duration:
        raise VideoLoadError(info.path, f"the part asked for starts at {clock(span.start)}, "
                             f"at or after the clip's end ({clock(info.duration)})")  # fmt: skip
    end = info.duration if span.end is None else min(span.end, info.duration)
    if isinstance(info, AnimationInfo):
        kept = list(_overlaps(info.durations, span.start * 1000, end * 1000))
        return replace(info, frames=len(kept), duration=sum(kept) / 1000,
                       durations=tuple(kept))  # fmt: skip
    frames = max(1, round((end - span.start) * info.rate))
    tags = dict(info.video_tags)  # a camera's timecode: the part's first frame's
    if "timecode" in tags:
        skipped = math.floor(span.start * info.rate + 1e-6)
        tags["timecode"] = later_timecode(tags["timecode"], skipped, info.rate)
    chapters = chapters_within(info.chapters, info.start + span.start, end - span.start)
    return replace(info, frames=frames, duration=end - span.start, video_tags=tags,
                   chapters=chapters)  # fmt: skip


def part_items(reader: Any, span: Span) -> Iterator[Frame | Any]:
    """The reader's items for the part: its frames (the one on screen at `start` first) with
    times counted from `start`, and a video's audio packets within it, likewise. A video is
    first moved to the keyframe before `start`; reading stops once both the picture and
    every sound track are past `end`."""
    origin = Fraction(span.start).limit_denominator(10**6)
    if isinstance(reader, ClipReader):  # an animation's frames are timed from 0
        reader.seek(span.start)
        origin += reader.start
    length = None if span.end is None else Fraction(span.end - span.start).limit_denominator(10**6)
    sounding = {stream.index for stream in reader.audio}
    held: Frame | None = None
    pictured = True  # frames still to come within the part
    for item in reader.items():
        if not isinstance(item, Frame):
            packet, ended = _audio_in_part(item, origin, length)
            if packet is not None:
                yield packet
            if ended:
                sounding.discard(item.stream.index)
        elif pictured:
            at = _time(item) - origin
            if held is not None and at > 0:  # the held frame is on screen within the part
                yield _shifted(held, origin)
            held = item
            if length is not None and at >= length:
                held, pictured = None, False
        if not pictured and not sounding:
            return
    if held is not None:
        yield _shifted(held, origin)


def _time(frame: Frame) -> Fraction:
    if frame.pts is None or frame.time_base is None:
        return Fraction(0)
    return frame.pts * Fraction(frame.time_base)


def _shifted(frame: Frame, origin: Fraction) -> Frame:
    """The frame shown from `origin` on: its time less `origin`, never before 0."""
    base = Fraction(frame.time_base or 1)
    pts = max(0, round((_time(frame) - origin) / base))
    return frame.shown_at(pts, base)


def _audio_in_part(packet: Any, origin: Fraction, length: Fraction | None) -> tuple[Any, bool]:
    """(the packet with its times from `origin`, or None outside the part; whether its track
    has passed the part's end). One that starts before the part is dropped whole: copied
    packets cannot be cut."""
    if packet.pts is None or packet.time_base is None:
        return None, False
    base = Fraction(packet.time_base)
    at = packet.pts * base - origin
    if length is not None and at >= length:
        return None, True
    if at < 0:
        return None, False
    shift = round(origin / base)
    packet.pts -= shift
    if packet.dts is not None:
        packet.dts -= shift
    return packet, False


def _overlaps(durations: tuple[int, ...], start: float, end: float) -> Iterator[int]:
    """An animation's frames (durations in ms) cut to [start, end) ms: the duration each
    frame that overlaps it keeps."""
    shown = 0
    for duration in durations:
        kept = min(shown + duration, end) - max(shown, start)
        if kept > 0:
            yield round(kept)
        shown += duration
