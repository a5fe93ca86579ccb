"""Interlaced video (camcorders' 1080i, broadcast, DV) made progressive before it is painted.

An interlaced frame weaves two fields filmed a field's time apart, so anything that moves
shows combs: a network paints them as stripes, and the steadier's flow cannot follow them.
FFmpeg's bwdif (Bob Weaver, a motion-adaptive deinterlacer) makes one progressive frame of
each frame (its `send_frame` mode: the clip keeps its frame rate, count and timestamps), and
only of frames marked interlaced, so a clip that mixes in progressive frames keeps them.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import av

DEINTERLACE = "mode=send_frame:parity=auto:deint=interlaced"


class Deinterlacer:
    """bwdif over one video stream's decoded frames; it holds a frame back (it looks one
    ahead), so feed every frame in order, then flush()."""

    def __init__(self, stream: Any) -> None:
        self.graph = av.filter.Graph()
        source = self.graph.add_buffer(template=stream)
        bwdif = self.graph.add("bwdif", DEINTERLACE)
        sink = self.graph.add("buffersink")
        source.link_to(bwdif)
        bwdif.link_to(sink)
        self.graph.configure()

    def frames(self, frame: Any) -> Iterator[Any]:
        """The progressive frames ready once `frame` is in (none, one or, at the end, more)."""
        self.graph.push(frame)
        while True:
            try:
                yield self.graph.pull()
            except (av.error.BlockingIOError, av.error.EOFError):
                return

    def flush(self) -> Iterator[Any]:
        """The frames still held back, at the end of the stream."""
        return self.frames(None)
