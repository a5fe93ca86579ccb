"""A clip's text subtitles carried into its stylized MP4 as MP4's timed text (mov_text),
which QuickTime, VLC, phones and editors show: SubRip and WebVTT from Matroska and WebM,
ASS/SSA, and an MP4's own. Each caption is decoded and encoded again (italics, bold and
line breaks kept; ASS's positions and effects are beyond mov_text), with its times and the
track's language and name. A caption that does not decode is left out, never the clip.

Picture subtitles (DVD, Blu-ray PGS, DVB) are bitmaps that MP4 players do not show: not kept.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

import av

from styler.imageio import PhotoOptions
from styler.video.tags import track_tags

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


def text_subtitles(container: Any) -> list[Any]:
    """The subtitle streams of `container` whose captions are text (what MP4 can carry)."""
    return [stream for stream in container.streams.subtitles
            if stream.codec_context.codec.text_sub]  # fmt: skip


class SubtitleTrack:
    """One text subtitle stream of the source in the output, as mov_text."""

    def __init__(self, container: Any, source: Any, photo: PhotoOptions) -> None:
        self.container, self.source = container, source
        decoder = source.codec_context
        if not decoder.is_open:  # its style sheet is made when it opens
            decoder.open()
        self.stream = container.add_stream("mov_text")
        self.stream.codec_context.subtitle_header = decoder.subtitle_header or DEFAULT_STYLE_SHEET
        self.stream.time_base = CAPTION_TIME_BASE
        self.stream.metadata.update(track_tags(source.metadata, photo, named=True))

    def write(self, packet: Any) -> None:
        """One caption packet (times on the output's clock), as mov_text."""
        try:
            captions = self.source.codec_context.decode2(packet)
            if captions is None or not len(captions):
                return
            encoded = self.stream.codec_context.encode_subtitle(captions)
        except av.error.FFmpegError:
            return  # a damaged caption, or one mov_text cannot say: the others go on
        base = Fraction(packet.time_base)
        length = (packet.duration or 0) * base
        if length <= 0:  # some ASS muxers give the caption's length only inside it
            length = Fraction(captions.end_display_time - captions.start_display_time, 1000)
        encoded.pts = encoded.dts = round(packet.pts * base / CAPTION_TIME_BASE)
        encoded.duration = max(1, round(length / CAPTION_TIME_BASE))
        encoded.time_base, encoded.stream = CAPTION_TIME_BASE, self.stream
        self.container.mux(encoded)
