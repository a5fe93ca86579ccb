"""Reading only a part of a clip (styler.video.span.Span): its frames and sound, their times
counted from the part's start, and the facts its output must hold.

A frame belongs to the part when the time it is on screen overlaps it: the frame showing at
`start` comes first, and the last is the one showing just before `end`. A video's part
starts on a whole frame, the one showing at `start`, from its own beginning (at most a frame
before `start`): every frame keeps its full length, so the part runs at the clip's frame
rate and a camera's timecode labels each of its frames as it labelled them in the take.
Audio packets are kept whole from the first that starts at the part's start or after, up to
`end`: the sound starts within one packet (some 20 ms) of the picture. Captions are cut to
the part: one on screen at its start is shown from it. An animation's part
starts at `start` itself (its frames have lengths of their own, cut to the part).
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
    progress, an animation's frame durations, a video's timecode and chapters).
    VideoLoadError for a part that starts at or after the clip's end."""
    if span.start >= info.duration:
        raise VideoLoadError(info.path, f"the part asked for starts at {clock(span.start)}, "
                             f"at or after the clip's end ({clock(info.duration)})")  # fmt: skip
    end = info.duration if span.end is None else min(span.end, info.duration)
    if isinstance(info, AnimationInfo):
        kept = list(_overlaps(info.durations, span.start * 1000, end * 1000))
        return replace(info, frames=len(kept), duration=sum(kept) / 1000,
                       durations=tuple(kept))  # fmt: skip
    skipped = math.floor(span.start * info.rate + Fraction(1, 10**6))  # frames before it
    start = float(skipped / info.rate)  # where its first frame begins
    frames = max(1, math.ceil((end - start) * info.rate - Fraction(1, 10**6)))
    tags = dict(info.video_tags)  # a camera's timecode: the part's first frame's
    if "timecode" in tags:
        tags["timecode"] = later_timecode(tags["timecode"], skipped, info.rate)
    chapters = chapters_within(info.chapters, info.start - info.origin + start, end - start)
    return replace(info, frames=frames, duration=end - start, video_tags=tags,
                   chapters=chapters, start=0.0, origin=0.0)  # the part's output's clock


def part_items(reader: Any, span: Span) -> Iterator[Frame | Any]:
    """The reader's items for the part: its frames (the one on screen at `start` first) with
    times counted from the part's start, and a video's audio packets within it, likewise.
    A video is first moved to the keyframe before `start`; its part starts where the frame
    on screen at `start` begins (sound read before that frame is known waits for it).
    Reading stops once both the picture and every sound track are past `end`."""
    wanted = Fraction(span.start).limit_denominator(10**6)
    video = isinstance(reader, ClipReader)  # an animation's frames are timed from 0
    if video:
        reader.seek(span.start, captions=True)
        wanted += reader.start
    end = None
    if span.end is not None:
        end = wanted + Fraction(span.end - span.start).limit_denominator(10**6)
    frame_length = 1 / Fraction(reader.info.rate) if video else Fraction(0)
    origin: Fraction | None = None if video else wanted  # where the part's clock starts
    sounding = {stream.index for stream in reader.audio}  # captions are sparse: not awaited
    waiting: list[Any] = []  # sound and captions read before the origin is known
    held: Frame | None = None
    pictured = True  # frames still to come within the part
    for item in reader.items():
        if not isinstance(item, Frame):
            if origin is None:
                waiting.append(item)
            elif (kept := _kept_packet(item, origin, end, sounding)) is not None:
                yield kept
        elif pictured:
            at = _time(item)
            if held is not None and at > wanted:  # the held frame is on screen within the part
                if origin is None:
                    origin = max(_time(held), wanted - frame_length)
                    yield from _waited(waiting, origin, end, sounding)
                yield _shifted(held, origin)
            held = item
            if end is not None and at >= end:
                held, pictured = None, False
        if not pictured and not sounding:
            return
    if held is not None:
        if origin is None:
            origin = max(_time(held), wanted - frame_length)
        yield _shifted(held, origin)
    if origin is not None:
        yield from _waited(waiting, origin, end, sounding)


def whole_items(reader: Any) -> Iterator[Frame | Any]:
    """The reader's items for the whole clip, their times counted from its origin
    (ClipInfo.origin): the output starts with its first frame or sound, however late the
    file's clock starts."""
    origin = Fraction(reader.info.origin).limit_denominator(10**6)
    if not origin:
        yield from reader.items()
        return
    for item in reader.items():
        if isinstance(item, Frame):
            yield _shifted(item, origin)
        elif (kept := _kept_packet(item, origin, None, set())) is not None:
            yield kept


def _waited(packets: list[Any], origin: Fraction, end: Fraction | None,
            sounding: set[int]) -> Iterator[Any]:  # fmt: skip
    """The sound packets that waited for the part's origin, those within the part."""
    for packet in packets:
        if (kept := _kept_packet(packet, origin, end, sounding)) is not None:
            yield kept
    packets.clear()


def _kept_packet(packet: Any, origin: Fraction, end: Fraction | None,
                sounding: set[int]) -> Any | None:  # fmt: skip
    """`packet` timed from `origin` where it lies within the part, else None; its track
    struck from `sounding` once past the part's end. A caption (a subtitle packet) is
    kept for as long as it is on screen within the part."""
    if packet.stream.type == "subtitle":
        return _caption_in_part(packet, origin, end)
    kept, ended = _audio_in_part(packet, origin, end)
    if ended:
        sounding.discard(packet.stream.index)
    return kept


def _time(frame: Frame) -> Fraction:
    if frame.pts is None or frame.time_base is None:
        return Fraction(0)
    return frame.pts * Fraction(frame.time_base)


def _shifted(frame: Frame, origin: Fraction) -> Frame:
    """The frame shown from `origin` on: its time less `origin`, never before 0."""
    base = Fraction(frame.time_base or 1)
    pts = max(0, round((_time(frame) - origin) / base))
    return frame.shown_at(pts, base)


def _audio_in_part(packet: Any, origin: Fraction, end: Fraction | None) -> tuple[Any, bool]:
    """(the packet with its times from `origin`, or None outside the part; whether its track
    has passed the part's end, a time on the file's clock). One that starts before the part
    is dropped whole: copied packets cannot be cut."""
    if packet.pts is None or packet.time_base is None:
        return None, False
    base = Fraction(packet.time_base)
    if end is not None and packet.pts * base >= end:
        return None, True
    at = packet.pts * base - origin
    if at < 0:
        return None, False
    shift = round(origin / base)
    packet.pts -= shift
    if packet.dts is not None:
        packet.dts -= shift
    return packet, False


def _caption_in_part(packet: Any, origin: Fraction, end: Fraction | None) -> Any | None:
    """The caption cut to the part (a caption is re-encoded, so it can be: one on screen
    when the part starts is shown from the part's start), its times from `origin`; None
    where it is not on screen within the part. One without a length (it has it inside)
    is kept where it starts within the part."""
    if packet.pts is None or packet.time_base is None:
        return None
    base = Fraction(packet.time_base)
    shown = packet.pts * base
    gone = (packet.pts + (packet.duration or 0)) * base if packet.duration else None
    if end is not None and shown >= end:
        return None
    if gone is None:
        if shown < origin:
            return None
    elif gone <= origin:
        return None
    else:
        gone = gone if end is None else min(gone, end)
        packet.duration = round((gone - max(shown, origin)) / base)
    packet.pts = packet.dts = round((max(shown, origin) - origin) / base)
    return packet


def _overlaps(durations: tuple[int, ...], start: float, end: float) -> Iterator[int]:
    """An animation's frames (durations in ms) cut to [start, end) ms: the duration each
    frame that overlaps it keeps."""
    shown = 0
    for duration in durations:
        kept = min(shown + duration, end) - max(shown, start)
        if kept > 0:
            yield round(kept)
        shown += duration
