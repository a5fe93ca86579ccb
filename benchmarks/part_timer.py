"""Timing the parts of a run in place: a function or method is replaced by a wrapper that
adds each call's wall time to a tally under a label, so a whole run shows where its time
goes without its code changing (benchmarks/profile_video_frame.py, tools/measure_figures.py).
Parts that run at the same time, or inside each other, overlap in the tally."""

from __future__ import annotations

import functools
import time
from collections import Counter
from collections.abc import Callable


def time_calls(owner: object, name: str, label: str, tally: Counter[str]) -> None:
    """Replace owner.name by a wrapper that adds its seconds to tally[label]."""
    original: Callable = getattr(owner, name)

    @functools.wraps(original)
    def wrapper(*args: object, **kwargs: object) -> object:
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            tally[label] += time.perf_counter() - start

    setattr(owner, name, wrapper)
