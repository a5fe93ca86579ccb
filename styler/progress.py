"""Progress reports and cancellation shared by every long-running engine job."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass, field

from PIL import Image


@dataclass(frozen=True)
class Progress:
    """One step of a long job, handed to the caller's callback."""

    step: int  # 1-based, counted over all scales
    total_steps: int
    scale: int  # 0-based index of the current scale
    scales: int
    size: tuple[int, int]  # (width, height) being optimised at this scale
    losses: dict[str, float] = field(default_factory=dict)
    elapsed: float = 0.0
    image: Image.Image | None = None  # the current image, every `preview_every` steps


ProgressCallback = Callable[[Progress], None]


class CancelToken:
    """Thread-safe flag a caller sets to stop a job; the job returns its best result so far."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()
