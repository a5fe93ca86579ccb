"""A clip's text subtitles carried into its stylized MP4 as MP4's timed text (mov_text),
which QuickTime, VLC, phones and editors show: SubRip and WebVTT from Matroska and WebM,
ASS/SSA, and an MP4's own. Each caption is decoded and encoded again (italics, bold and
line breaks kept; ASS's positions, drawings and effects are beyond mov_text), with its times
and the track's language and name. A caption that does not decode is left out, never the
clip; one in another encoding than UTF-8 is read as Windows' Western encoding, as subtitle
files from Windows tools are written.

mov_text shows one sample at a time, so captions on screen together (a sign above the
dialogue, two speakers) are written as one sample for each stretch of time they share,
their lines stacked; none lasts past the clip's end.

Picture subtitles (DVD, Blu-ray PGS, DVB) are bitmaps that MP4 players do not show: not kept.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fractions import Fraction
from typing import Any

import av

from styler.imageio import PhotoOptions
from styler.video.tags import legacy_text, track_disposition, track_tags

CAPTION_TIME_BASE = Fraction(1, 1000)  # mov_text's usual clock: milliseconds
# The style sheet a caption is written with where its source has none of its own (an ASS
# track without a header): the one FFmpeg's text decoders make by default.
DEFAULT_STYLE_SHEET = (
    b"[Script Info]\nScriptType: v4.00+\nPlayResX: 384\nPlayResY: 288\n"
    b"ScaledBorderAndShadow: yes\n\n"
    b"[V4+ Styles]\nFormat: Name, Fontname, Fontsize, PrimaryColour, SecondaryColour, "
    b"OutlineColour, BackColour, Bold, Italic, Underline, StrikeOut, ScaleX, ScaleY, Spacing, "
    b"Angle, BorderStyle, Outline, Shadow, Alignment, MarginL, MarginR, MarginV, Encoding\n"
    b"Style: Default,Arial,16,&Hffffff,&Hffffff,&H0,&H0,0,0,0,0,100,100,0,0,1,1,0,2,10,10,10,0\n\n"
    b"[Events]\nFormat: Layer, Start, End, Style, Name, MarginL, MarginR, MarginV, Effect, Text\n"
)
# Codecs whose packets are the caption's text itself (mov_text's carry a binary length and
# style boxes, and are UTF-8 by its specification).
PLAIN_TEXT_CODECS = frozenset({"subrip", "srt", "ass", "ssa", "webvtt", "text", "microdvd",
                               "subviewer", "subviewer1", "sami", "realtext", "mpl2", "pjs",
                               "jacosub", "vplayer", "stl"})  # fmt: skip
_OVERRIDE = re.compile(r"(\{[^}]*\})")  # an ASS override block
_DRAWING = re.compile(r"\\p(\d+)")  # drawing mode on (\p1 and up) or off (\p0)


def text_subtitles(container: Any) -> list[Any]:
    """The subtitle streams of `container` whose captions are text (what MP4 can carry)."""
    return [stream for stream in container.streams.subtitles
            if stream.codec_context.codec.text_sub]  # fmt: skip


@dataclass
class _Caption:
    start: Fraction  # seconds, on the output's clock
    end: Fraction
    fields: list[str]  # its ASS event: read order, layer, style, name, margins, effect, text


class SubtitleTrack:
    """One text subtitle stream of the source in the output, as mov_text, its captions cut
    at `length` seconds (the clip's end) where given."""

    def __init__(self, container: Any, source: Any, photo: PhotoOptions,
                 length: float | None = None) -> None:  # fmt: skip
        self.container, self.source = container, source
        self.length = None if length is None else Fraction(length).limit_denominator(10**6)
        decoder = source.codec_context
        if not decoder.is_open:  # its style sheet is made when it opens
            decoder.open()
        sheet = decoder.subtitle_header or DEFAULT_STYLE_SHEET
        self.stream = container.add_stream("mov_text")
        self.stream.codec_context.subtitle_header = sheet
        self.stream.time_base = CAPTION_TIME_BASE
        self.stream.metadata.update(track_tags(source.metadata, photo, named=True))
        self.stream.disposition = track_disposition(source)
        # decodes the samples this track writes, each an ASS event of its own making
        self._samples = av.CodecContext.create("ass", "r")
        self._samples.extradata = sheet
        self._showing: list[_Caption] = []  # on screen from self._written on
        self._written = Fraction(0)  # samples are written up to this time

    def write(self, packet: Any) -> None:
        """One caption packet (times on the output's clock)."""
        try:
            captions = self.source.codec_context.decode2(_utf8(packet))
        except av.error.FFmpegError:
            return  # a damaged caption: the others, and the clip, go on
        if captions is None or not len(captions):
            return
        base = Fraction(packet.time_base)
        start = packet.pts * base
        length = (packet.duration or 0) * base
        if length <= 0:  # some muxers give a caption's length only inside it
            length = Fraction(captions.end_display_time - captions.start_display_time, 1000)
        end = start + length if self.length is None else min(start + length, self.length)
        self._show_until(max(start, self._written))
        for caption in captions:
            fields = (caption.ass or b"").decode("utf-8", "replace").split(",", 8)
            if len(fields) == 9:
                fields[8] = _without_drawings(fields[8])
                if fields[8].strip() and end > self._written:
                    self._showing.append(_Caption(self._written, end, fields))

    def flush(self) -> None:
        """The captions still on screen, written to their ends."""
        ends = [caption.end for caption in self._showing]
        if ends:
            self._show_until(max(ends))

    def _show_until(self, until: Fraction) -> None:
        """Samples for the captions on screen from where the last ended up to `until`: one
        for each stretch in which the same captions show."""
        while self._showing and self._written < until:
            stop = min(until, *(caption.end for caption in self._showing))
            if stop > self._written:
                self._sample(self._written, stop, self._showing)
            self._written = stop
            self._showing = [caption for caption in self._showing if caption.end > stop]
        self._written = max(self._written, until)

    def _sample(self, start: Fraction, end: Fraction, captions: list[_Caption]) -> None:
        """One mov_text sample showing `captions` together, their lines stacked."""
        first = captions[0].fields
        text = r"\N".join(caption.fields[8] for caption in captions)
        event = av.Packet(",".join([*first[:8], text]).encode())
        try:
            made = self._samples.decode2(event)
            if made is None or not len(made):
                return
            sample = self.stream.codec_context.encode_subtitle(made)
        except av.error.FFmpegError:
            return  # one mov_text cannot say: the others go on
        sample.pts = sample.dts = round(start / CAPTION_TIME_BASE)
        sample.duration = max(1, round((end - start) / CAPTION_TIME_BASE))
        sample.time_base, sample.stream = CAPTION_TIME_BASE, self.stream
        self.container.mux(sample)


def _utf8(packet: Any) -> Any:
    """The packet, its text made UTF-8 where it was written in an older encoding."""
    if packet.stream.codec_context.name not in PLAIN_TEXT_CODECS:
        return packet
    raw = bytes(packet)
    text = legacy_text(raw)
    if text.encode("utf-8") == raw:
        return packet
    recoded = av.Packet(text.encode("utf-8"))
    recoded.pts, recoded.dts, recoded.duration = packet.pts, packet.dts, packet.duration
    recoded.time_base = packet.time_base
    return recoded


def _without_drawings(text: str) -> str:
    """An ASS caption's text without its drawings (the vector shapes between \\p1 and \\p0),
    which mov_text would show as their coordinates."""
    kept, drawing = [], False
    for piece in _OVERRIDE.split(text):
        if piece.startswith("{"):
            modes = _DRAWING.findall(piece)
            drawing = bool(int(modes[-1])) if modes else drawing
            kept.append(piece)
        elif not drawing:
            kept.append(piece)
    return "".join(kept)
