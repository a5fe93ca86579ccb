"""Progress reports and cancellation shared by every long-running engine job."""

from __future__ import annotations

import contextlib
import threading
import time
from collections.abc import Callable, Iterator
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
    resumed: int = 0  # of the steps, those an earlier run that stopped did (a clip's journal)


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

    def wait(self, timeout: float) -> bool:
        """Block up to `timeout` seconds for a cancel; True once cancelled."""
        return self._event.wait(timeout)


class Cancelled(Exception):
    """Raised inside a pass when its CancelToken is set; the run catches it and returns its
    best result so far. Never escapes an engine's run()."""


class PassSteps:
    """The Progress of a feed-forward run (fast and instant mode), one step per network pass
    (a whole photo, or one tile), and its cancellation: the same events and token as the
    optimizer's, so every face reports and stops every mode alike."""

    def __init__(
        self,
        total: int,
        size: tuple[int, int],
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> None:
        self.total, self.size = max(1, total), size
        self.progress, self.cancel = progress, cancel
        self.done = 0
        self._start = time.perf_counter()

    def check(self) -> None:
        """Raise Cancelled when the caller asked to stop."""
        if self.cancel is not None and self.cancel.cancelled:
            raise Cancelled

    def step(self, image: Image.Image | None = None) -> None:
        """One pass is done: report it, then stop here if cancelled."""
        self.done = min(self.total, self.done + 1)
        if self.progress is not None:
            self.progress(Progress(self.done, self.total, 0, 1, self.size,
                                   elapsed=time.perf_counter() - self._start,
                                   image=image))  # fmt: skip
        self.check()


_running = threading.local()  # the PassSteps of the run on this thread, if it can be cancelled


def running_steps() -> PassSteps | None:
    """The steps of the cancellable run on this thread (see cancel_scope), if any."""
    return getattr(_running, "steps", None)


@contextlib.contextmanager
def cancel_scope(steps: PassSteps) -> Iterator[None]:
    """Within this block, a pass that asks running_steps() stops on `steps`' cancel: modules
    prepared by styler.tensors.check_between_layers between two layers, onnxruntime sessions
    through their terminate flag (styler.instant.runtime)."""
    previous = getattr(_running, "steps", None)
    _running.steps = steps
    try:
        yield
    finally:
        _running.steps = previous
