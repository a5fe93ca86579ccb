"""A Quality run as a stream the browser can follow: the engine works in a thread while the
generator hands on its progress and previews, and Stop (or the browser leaving) cancels it.
Nothing here imports gradio."""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass

from PIL import Image

from styler.errors import StylerError
from styler.progress import CancelToken, Progress, ProgressCallback
from styler.ui.messages import UserError, progress_text, user_message
from styler.ui.services import Services
from styler.ui.state import Entry

PREVIEW_INTERVAL = 0.25  # s between live previews sent to the browser (the last always goes)
log = logging.getLogger("styler.ui")


@dataclass
class Update:
    """One step of a Quality run as the browser sees it."""

    text: str = ""
    progress: Progress | None = None
    preview: Image.Image | None = None
    entry: Entry | None = None  # set on the last update


def streamed(
    services: Services,
    session_key: str,
    work: Callable[[ProgressCallback, CancelToken], None],
    *,
    in_flight: AbstractContextManager[object],
    left: Callable[[], None],
) -> Iterator[Update]:
    """Run `work` in a thread, yielding its progress (the newest report, previews at least
    every PREVIEW_INTERVAL); Stop for `session_key` cancels it.

    Closing this early (the browser left: Gradio closes the generator on its event loop, so
    nothing here waits) cancels it too, and counts as Stop: once the engine has stopped,
    `left` keeps what Stop would and says so, in the worker thread, as nobody reads this any
    more. The worker holds `in_flight` (Histories.running) until then, so that the page
    coming back waits for it (the server hears that the page is gone: Services.left)."""
    reports: queue.Queue[Progress | None] = queue.Queue()
    failure: list[BaseException] = []
    gone, read = threading.Event(), threading.Event()  # the browser left; reading is over
    delay = services.config.step_delay

    def report(p: Progress) -> None:
        reports.put(p)
        if delay:
            time.sleep(delay)

    with services.cancellable(session_key) as token:

        def run() -> None:
            with in_flight:
                try:
                    work(report, token)
                except BaseException as exc:  # handed to the generator, which re-raises it
                    failure.append(exc)
                finally:
                    reports.put(None)
                read.wait()
                if gone.is_set() and not failure:
                    _safely(left)

        yield Update(text="Starting…")
        worker = threading.Thread(target=run, name="styler-ui-quality", daemon=True)
        worker.start()
        finished = False
        try:
            yield from _drained(reports)
            finished = True
        finally:
            if not finished:  # closed early: the browser left, so stop the engine
                gone.set()
                token.cancel()
            read.set()
    worker.join()
    if failure:
        if isinstance(failure[0], StylerError):
            raise UserError(user_message(failure[0])) from failure[0]
        raise failure[0]


def _safely(left: Callable[[], None]) -> None:
    """`left` in a thread nobody waits on: a failure goes to the server log."""
    try:
        left()
    except Exception:
        log.exception("keeping a run whose page was left failed")


def _drained(reports: queue.Queue[Progress | None]) -> Iterator[Update]:
    """Updates from the reports until the end marker, catching up to the newest each time."""
    last_sent = 0.0
    latest_image: Image.Image | None = None
    while True:
        pending = [reports.get()]
        while not reports.empty():
            pending.append(reports.get())
        progress_items = [p for p in pending if p is not None]
        fresh = [p.image for p in progress_items if p.image is not None]
        if fresh:
            latest_image = fresh[-1]
        if progress_items and (fresh or time.perf_counter() - last_sent >= PREVIEW_INTERVAL):
            last_sent = time.perf_counter()
            p = progress_items[-1]
            yield Update(text=progress_text(p), progress=p, preview=latest_image)
        if pending[-1] is None:
            return
