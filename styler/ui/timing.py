"""How long a run should take, from the runs measured on this server, and how long a
Quality run has left, from its own pace. Nothing here imports gradio.

A run's work is counted in units that its time grows with: output megapixels for a Fast or
Instant pass, megapixels times steps for a Quality run. A run's time is the whole wait, from
reading the photo to its PNG written (for a large photo, writing the PNG can take longer
than a Fast pass). The estimate is the median time per unit of the mode's last runs here (a
busy server's runs slow down, and so does the estimate), times the new run's units.
"""

from __future__ import annotations

import statistics
import threading
from collections import deque

from styler.progress import Progress
from styler.schedule import split_steps
from styler.ui.messages import progress_text

KEPT = 8  # runs per mode the estimate comes from


class RunTimes:
    """The last runs of each mode on this server: their units of work and seconds."""

    def __init__(self) -> None:
        self._runs: dict[str, deque[float]] = {}  # mode -> seconds per unit, newest last
        self._lock = threading.Lock()

    def record(self, mode: str, units: float, seconds: float) -> None:
        if units <= 0 or seconds <= 0:
            return
        with self._lock:
            self._runs.setdefault(mode, deque(maxlen=KEPT)).append(seconds / units)

    def estimate(self, mode: str, units: float) -> float | None:
        """Seconds a run of `units` should take, or None before the mode's first run."""
        with self._lock:
            rates = list(self._runs.get(mode, ()))
        return statistics.median(rates) * units if rates else None


def run_units(
    mode_is_quality: bool, output_size: tuple[int, int], steps: int | None = None
) -> float:
    """A run's units of work: output megapixels, times the steps for a Quality run."""
    megapixels = output_size[0] * output_size[1] / 1e6
    return megapixels * (steps or 0) if mode_is_quality else megapixels


def duration(seconds: float) -> str:
    """'about 3 s', 'about 2 min 10 s': how the page says a time."""
    if seconds < 1:
        return "under a second"
    if seconds < 60:
        return f"about {seconds:.0f} s"
    minutes, rest = divmod(round(seconds / 10) * 10, 60)
    return f"about {minutes:.0f} min" + (f" {rest:.0f} s" if rest else "")


def time_left(p: Progress) -> float | None:
    """Seconds a Quality run has left, from its own pace. The optimizer gives each scale
    about the same time (its steps halve as the pixels double: split_steps), so the share
    of the time gone is the scales done plus this scale's share of its own steps. None
    until a few steps have set the pace."""
    if p.step < 3 or p.elapsed <= 0:
        return None
    counts = split_steps(p.total_steps, p.scales)
    if p.scale < len(counts) and sum(counts) == p.total_steps:
        before = sum(counts[: p.scale])
        done = (p.scale + min(1.0, (p.step - before) / counts[p.scale])) / p.scales
    else:  # tiled scales count their steps once per tile: the steps' share then
        done = p.step / p.total_steps
    return p.elapsed * (1 - done) / done if done > 0 else None


def progress_label(p: Progress) -> str:
    """A Quality run's progress bar text: scale and step, then the time left."""
    left = time_left(p)
    return progress_text(p) + (f" · {duration(left)} left" if left is not None else "")
