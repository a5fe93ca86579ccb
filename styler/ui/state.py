"""One browser session's results: the history gallery, and which result is on screen."""

from __future__ import annotations

import contextlib
import copy
import secrets
import shutil
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_HISTORY = 40  # older results drop out of the gallery, named in the status line as they go
STYLIZE_TAB, VIDEO_TAB = "stylize", "video"  # whose status line a Notice is for
# How long a page waits, at most, for a run of its history whose page was left (reloaded) to
# stop: within a step or frame, as Stop does.
SETTLE_S = 30.0
# What the next page of a history is told of a job still waiting in the queue when its page
# was left: Gradio drops it from the queue, so it never runs.
LEFT_QUEUED = {
    STYLIZE_TAB: ("Your last run was still waiting in the queue when the page was left, so it "
                  "was withdrawn: it never ran and nothing was made. Stylize queues it again."),
    VIDEO_TAB: ("Your last clip was still waiting for a free video slot when the page was "
                "left, so it was withdrawn: nothing was painted. Stylize clip queues it again."),
}  # fmt: skip


def page_of(session: str) -> str:
    """The page (Gradio's session hash) whose job `session` keys: a tab may key its jobs
    'HASH:TAB' (the Video tab does), so that Stop stops only that tab's."""
    return session.split(":")[0]


@dataclass(frozen=True)
class Entry:
    """A finished image: the full-resolution PNG (settings embedded) and a small preview."""

    path: Path  # full resolution PNG, what "Download" gives
    thumb: Path  # small JPEG for the history gallery
    caption: str
    settings: dict[str, Any]
    completed: bool = True  # False when Stop ended the run early
    elapsed: float = 0.0  # seconds the engine took
    steps_done: int = 0  # Quality: steps run, of steps_total
    steps_total: int = 0
    full_size: tuple[int, int] | None = None  # the size a finished run makes
    job: Any = None  # what made it (runs.RunRequest): Continue and Refine take it on
    notes: tuple[str, ...] = ()  # what the status line adds: an upscale, a first frame


@dataclass
class Session:
    """Kept in a gr.State: Gradio gives every browser tab its own deep copy."""

    # Secret: the browser keeps it to find its history again, and nobody can guess another's.
    id: str = field(default_factory=lambda: secrets.token_urlsafe(16))
    entries: list[Entry] = field(default_factory=list)
    current: int | None = None  # index of the result on screen
    left: tuple[Entry, ...] = ()  # what the last add pushed out of the history, to name it
    # The tabs (STYLIZE_TAB, VIDEO_TAB) where a run of this page is queued or in progress:
    # their run buttons stay disabled until it ends, even when a photo or clip lands
    # meanwhile (its check enables them otherwise).
    busy: set[str] = field(default_factory=set)

    def add(self, entry: Entry) -> Entry:
        self.entries.append(entry)
        self.left = tuple(self.entries[:-MAX_HISTORY])
        del self.entries[:-MAX_HISTORY]
        self.current = len(self.entries) - 1
        return entry

    def restore(self, kept: Session) -> None:
        """Take on `kept` (this browser's history, restored from the server): its id, and its
        entries before this page's own. In place: a run already under way holds this very
        object, and a result made before the restore arrived must stay, not be replaced."""
        known = {e.path for e in kept.entries}
        shown = self.shown
        own = [e for e in self.entries if e.path not in known]
        self.id = kept.id
        self.entries = [*kept.entries, *own][-MAX_HISTORY:]
        self.current = self.entries.index(shown) if shown in self.entries else kept.current

    def show(self, path: Path) -> Entry | None:
        """The entry of `path` put on screen (a run's whose page was left, on the page that
        came back); None where the history no longer has it."""
        at = next((i for i, e in enumerate(self.entries) if e.path == path), None)
        if at is None:
            return None
        self.current = at
        return self.entries[at]

    def select(self, index: int) -> Entry | None:
        """The result picked in the history gallery, which shows newest first."""
        position = len(self.entries) - 1 - index
        if not 0 <= position < len(self.entries):
            return None
        self.current = position
        return self.entries[position]

    @property
    def shown(self) -> Entry | None:
        if self.current is None or not 0 <= self.current < len(self.entries):
            return None
        return self.entries[self.current]

    def gallery(self) -> list[tuple[str, str]]:
        """(image, caption) pairs for gr.Gallery, newest first."""
        return [(str(e.thumb), e.caption) for e in reversed(self.entries)]


@dataclass(frozen=True)
class Notice:
    """What became of a run whose page was left (reloaded, closed) before it ended, for the
    status line of the next page of its history: leaving counts as Stop, and says so."""

    text: str
    path: Path | None = None  # the result it left, shown with the notice


@dataclass
class Flight:
    """A run in flight of one page of a history (`page`: its job's session key, page_of).
    `left` once that page is gone (closed, reloaded): the next page of the history waits for
    what became of it. `notice`, set by the run once it has its result, is told to that page
    if its own was left by the time the run ends (a Fast or Instant run, which leaving does
    not stop)."""

    page: str
    left: bool = False
    notice: Notice | None = None


class Histories:
    """Every browser's history, kept on the server under its session's secret id, which the
    browser holds in its own storage: a reload finds it again, another browser never does.
    Entries whose files the workspace has pruned drop out.

    With them, each history's runs in flight and what became of those whose page was left:
    the page that comes back waits for those to end (`settled`), then says so. A run of
    another page of the same browser (a second tab), still open, is none of its business."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._running: dict[tuple[str, str], list[Flight]] = {}  # (token, tab): in flight
        self._notices: dict[tuple[str, str], Notice] = {}
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # a run ended, or a notice came

    def keep(self, session: Session) -> None:
        with self._lock:
            self._sessions[session.id] = copy.deepcopy(session)

    def kept(self, token: str) -> Session:
        """A copy of the session kept under `token`, or an empty one of that id: where a run
        whose page was left puts its result, beside what the browser's other pages added."""
        with self._lock:
            kept = self._sessions.get(token)
            return copy.deepcopy(kept) if kept is not None else Session(id=token)

    def known(self, token: str) -> None:
        """Keep the history `token` from now on, if it was not (no result yet): a job of it
        is queued or runs, and a reload meanwhile must find it under the same secret, to be
        told what became of that job."""
        with self._lock:
            self._sessions.setdefault(token, Session(id=token))

    @contextlib.contextmanager
    def running(self, token: str, tab: str, page: str) -> Iterator[Flight]:
        """A run of the history `token` on `tab`, from the page `page`, in flight until its
        result (or what became of it) is recorded; the history known from then on."""
        key, flight = (token, tab), Flight(page)
        self.known(token)
        with self._lock:
            self._running.setdefault(key, []).append(flight)
        try:
            yield flight
        finally:
            with self._lock:
                flights = self._running[key]
                flights.remove(flight)
                if not flights:
                    del self._running[key]
                if flight.left and flight.notice is not None:
                    self._notices[key] = flight.notice
                self._changed.notify_all()

    def left(self, page: str) -> None:
        """The page `page` is gone (closed, reloaded): the next page of its history waits for
        its runs in flight to say what became of them."""
        with self._lock:
            for flights in self._running.values():
                for flight in flights:
                    flight.left = flight.left or page_of(flight.page) == page

    def tell(self, token: str, tab: str, notice: Notice) -> None:
        """Say what became of a run whose page was left, to the next page of its history."""
        with self._lock:
            self._notices[(token, tab)] = notice
            self._changed.notify_all()

    def settled(self, token: str, tab: str, timeout: float) -> Notice | None:
        """What became of the last run on `tab` whose page was left. A page reloaded during a
        run loads before that run has stopped (within a step), so this waits until the
        history has no run in flight there whose page was left, or it has a notice, up to
        `timeout` seconds. Runs of pages still open (another tab of the same browser) are
        not waited for: they may go on for long, and their own page shows how they end."""
        key = (token, tab)

        def said() -> bool:
            return key in self._notices or not any(f.left for f in self._running.get(key, ()))

        with self._lock:
            self._changed.wait_for(said, timeout)
            return self._notices.pop(key, None)

    def recall(self, token: str | None) -> Session:
        """The session this browser had, or a new one."""
        with self._lock:
            kept = self._sessions.get(token or "")
            session = copy.deepcopy(kept) if kept is not None else Session()
        session.entries = [e for e in session.entries if e.path.is_file()]
        session.current = len(session.entries) - 1 if session.entries else None
        return session

    def clear(self, session: Session) -> Session:
        """Forget the session and delete its files; a fresh session (a new secret) replaces it."""
        with self._lock:
            self._sessions.pop(session.id, None)
        for entry in session.entries:
            shutil.rmtree(entry.path.parent, ignore_errors=True)
        return Session()
