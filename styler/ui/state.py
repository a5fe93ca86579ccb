"""One browser session's results: the history gallery, and which result is on screen."""

from __future__ import annotations

import copy
import secrets
import shutil
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MAX_HISTORY = 40  # older results drop out of the gallery, named in the status line as they go


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


class Histories:
    """Every browser's history, kept on the server under its session's secret id, which the
    browser holds in its own storage: a reload finds it again, another browser never does.
    Entries whose files the workspace has pruned drop out."""

    def __init__(self) -> None:
        self._sessions: dict[str, Session] = {}
        self._lock = threading.Lock()

    def keep(self, session: Session) -> None:
        with self._lock:
            self._sessions[session.id] = copy.deepcopy(session)

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
