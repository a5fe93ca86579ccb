"""A part of a clip: from `start` to `end` seconds (`--start`/`--end`, the Video tab's From and
To), and the times people type. Only that part is painted and written (styler.video.part),
so a film-maker can paint one shot of a long take, or try Quality mode on two seconds,
without an editor. Nothing here imports PyAV: the command line parses these for every run.
"""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True)
class Span:
    """Seconds from the clip's start: [start, end); end None is the clip's end."""

    start: float = 0.0
    end: float | None = None

    def __post_init__(self) -> None:
        if not math.isfinite(self.start) or self.start < 0:
            raise ValueError(f"a clip's part starts at 0 s or later, not {self.start:g} s")
        if self.end is not None and not self.end > self.start:
            raise ValueError(f"a clip's part must end after it starts ({self.start:g} s), "
                             f"not at {self.end:g} s")  # fmt: skip

    @property
    def whole(self) -> bool:
        return self.start == 0 and self.end is None

    def describe(self) -> str:
        """'from 1:30 to 1:45', for status lines."""
        end = "the end" if self.end is None else clock(self.end)
        return f"from {clock(self.start)} to {end}"


def parse_time(text: str) -> float:
    """Seconds from '90', '1:30' or '0:01:30.5'; ValueError saying what was expected."""
    parts = str(text).strip().split(":")
    try:
        if len(parts) > 3 or any(not p.strip() for p in parts):
            raise ValueError
        values = [float(p) for p in parts]
    except ValueError:
        raise ValueError(f"{text!r} is not a time: use seconds (90), minutes:seconds (1:30) "
                         "or hours:minutes:seconds (0:01:30.5)") from None  # fmt: skip
    seconds = 0.0
    for value in values:
        seconds = seconds * 60 + value
    if not math.isfinite(seconds) or seconds < 0 or any(v < 0 for v in values):
        raise ValueError(f"{text!r} is not a time: it must be 0 or more")
    return seconds


def clock(seconds: float) -> str:
    """90.5 -> '1:30.5'; 12 -> '0:12'; 3725.25 -> '1:02:05.25' (to the millisecond)."""
    minutes, rest = divmod(round(seconds, 3), 60)
    hours, minutes = divmod(int(minutes), 60)
    text = f"{rest:06.3f}".rstrip("0").rstrip(".") if round(rest % 1, 3) else f"{round(rest):02d}"
    return f"{hours}:{minutes:02d}:{text}" if hours else f"{minutes}:{text}"
