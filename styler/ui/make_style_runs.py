"""What the Make a style tab's buttons do: a training checked and queued, its progress as a
bar and a line, its latest preview, Stop, Resume and Delete, and the server's trainings as
every page lists them. Nothing here imports gradio; problems the user can fix raise
UserError with one line, naming files by their names alone (never a server path).
"""

from __future__ import annotations

import html
import threading
from collections.abc import Sequence
from pathlib import Path

from PIL import Image

from styler.batch import printable
from styler.errors import StylerError
from styler.fast import style_jobs
from styler.fast.manifest import user_styles as installed_user_styles
from styler.fast.photo_files import image_files
from styler.fast.style_jobs import DONE, FAILED, INTERRUPTED, QUEUED, RUNNING, STOPPED, JobStatus
from styler.ui.messages import UserError
from styler.ui.services import Services
from styler.wording import counted

PHOTOS_ADVICE = "The photos you mean to stylize are the best choice, the more the better."
FINISHED = (DONE, STOPPED, FAILED, INTERRUPTED)


def server_photos(services: Services) -> list[Path]:
    """The training photos the server offers (`styler ui --train-photos DIR`), or none."""
    folder = services.config.train_photos
    if folder is None:
        return []
    try:
        return image_files(folder)
    except FileNotFoundError:
        return []


def server_photos_label(services: Services) -> str | None:
    """The label of the box that adds the server's photos: how many a training can use, as
    it counts them (each read whole, a repeated file once: style_jobs.check_photos), and how
    many files it skips; None where it can use none."""
    return _photos_label(server_photos(services))


class ServerPhotosLabel:
    """server_photos_label, counted off the page's start-up path: reading every photo of a
    large folder takes seconds, which neither the server's start nor each page load should
    wait for. Counted once in the background at start-up, and again only when the folder's
    listing (names, sizes, times) has changed since."""

    def __init__(self, services: Services) -> None:
        self._services = services
        self._lock = threading.Lock()
        self._counted: tuple[tuple, str | None] | None = None
        threading.Thread(target=self.current, name="server-photos", daemon=True).start()

    def current(self) -> str | None:
        """The label for the folder as it is now (waits for a count under way)."""
        with self._lock:
            photos = server_photos(self._services)
            listing = tuple(_listing_entry(path) for path in photos)
            if self._counted is None or self._counted[0] != listing:
                self._counted = (listing, _photos_label(photos))
            return self._counted[1]


def _listing_entry(path: Path) -> tuple:
    try:
        stat = path.stat()
    except OSError:
        return (path.name,)
    return path.name, stat.st_size, stat.st_mtime_ns


def _photos_label(photos: Sequence[Path]) -> str | None:
    distinct, repeats = style_jobs.distinct_files(photos)
    readable, unreadable = style_jobs.readable_photos(distinct)
    if not readable:
        return None
    skipped = []
    if unreadable:
        skipped.append(f"{counted(len(unreadable), 'file')} that cannot be read")
    if repeats:
        skipped.append(counted(repeats, "repeated photo"))
    label = f"Also train on this server's {counted(len(readable), 'photo')}"
    return f"{label} (skipped: {', '.join(skipped)})" if skipped else label


def start(
    services: Services, painting: str | None, name: str | None, photos: list[str] | None,
    use_server_photos: bool, minutes: float,
) -> tuple[str, str]:  # fmt: skip
    """Check the inputs, set the job up and queue it: (its name, the status line). The
    server's folder alone is used where it is; uploads (with it or not) are copied."""
    name = (name or "").strip()
    chosen: list[str | Path] | Path = list(photos or [])
    offered = server_photos(services) if use_server_photos else []
    if use_server_photos and services.config.train_photos is not None:
        chosen = [*chosen, *offered] if chosen else Path(services.config.train_photos)
    try:
        style_jobs.prepare(name, painting, chosen, minutes=minutes)
        place = services.trainings.submit(name)
    except StylerError as exc:
        given = [painting, *(photos or []), *offered]
        raise UserError(_sentence(names_only(str(exc), given))) from exc
    return name, queued_text(place)


def names_only(text: str, paths: Sequence[str | Path | None]) -> str:
    """`text` with each of `paths` cut to its file name: an upload's path is the server's
    temporary folder, which means nothing in a browser (and is not the browser's business)."""
    for path in sorted({str(p) for p in paths if p}, key=len, reverse=True):
        text = text.replace(path, printable(Path(path).name))
    return text


def resume(services: Services, name: str | None) -> tuple[str, str]:
    """Queue a stopped or interrupted training again, from its last checkpoint."""
    if not name:
        raise UserError("Pick a stopped or interrupted training to resume.")
    try:
        place = services.trainings.submit(name)
    except StylerError as exc:
        raise UserError(_sentence(str(exc))) from exc
    return name, queued_text(place)


def stop(services: Services, name: str | None) -> str:
    if not name:
        return "Nothing is training."
    what = services.trainings.stop(name)
    return {"withdrawn": f"Withdrawn: {name} will not train. Resume it to queue it again.",
            "stopping": f"Stopping {name}: the best network so far becomes the style…",
            }.get(what, f"{name} is not training.")  # fmt: skip


def not_shown(name: str) -> str:
    """What Stop says on a page that showed no training while `name` trains: it shows it."""
    return f"{name} is training: its bar is above. Press Stop again to stop it."


def delete(services: Services, name: str | None) -> str:
    """Delete a user style and its training files."""
    if not name:
        raise UserError("Pick one of your styles to delete.")
    try:
        style_jobs.delete_style(name)
    except StylerError as exc:
        raise UserError(_sentence(str(exc))) from exc
    services.refresh_styles()
    return f"Deleted the style {name}."


def queued_text(place: int) -> str:
    if place == 0:
        return "Starting the training…"
    ahead = "1 training" if place == 1 else f"{place} trainings"
    return f"Queued: {ahead} ahead of yours (place {place + 1}). It starts by itself."


def line_html(text: str) -> str:
    """The bar's place with only a line in it (queued, starting)."""
    return f'<div class="styler-progress"><span>{html.escape(text)}</span></div>'


def progress_html(status: JobStatus, place: int | None) -> str:
    """The bar (role=progressbar, data-done in percent) and its line."""
    percent = round(100 * status.done)
    text = status_text(status, place)
    return (f'<div class="styler-progress" data-state="{status.state}" data-done="{percent}">'
            f'<div class="styler-bar" role="progressbar" aria-valuenow="{percent}" '
            f'aria-valuemin="0" aria-valuemax="100">'
            f'<div class="styler-fill" style="width:{percent}%"></div></div>'
            f"<span>{html.escape(text)}</span></div>")  # fmt: skip


def status_text(status: JobStatus, place: int | None) -> str:
    """'Training mystyle: 42% · step 310 · loss 0.412 · about 6 min left', or how it ended."""
    name = status.name
    if status.state == QUEUED and place:
        return queued_text(place)
    if status.state == RUNNING:
        if status.message:
            return f"{name}: {status.message}"
        left = status.minutes * 60 - status.elapsed
        when = f"{left:.0f} s" if left < 90 else f"{left / 60:.0f} min"
        loss = f" · loss {status.loss:.3f}" if status.loss is not None else ""
        return (f"Training {name}: {100 * status.done:.0f}% · step {status.step}{loss} · "
                f"about {when} left")  # fmt: skip
    distance = status.distances.get("style")
    measured = f" (style distance {distance:.3f})" if distance is not None else ""
    if status.state == DONE:
        return f"Done: {name} is in Fast mode's styles{measured}."
    if status.state == STOPPED:
        kept = (f"the best network so far is in Fast mode's styles{measured}"
                if status.distances else status.message or "nothing was kept")  # fmt: skip
        return f"Stopped {name} after {status.step} steps: {kept}. Resume continues it."
    if status.state == INTERRUPTED:
        return f"{name} was interrupted after {status.step} steps: Resume continues it."
    if status.state == FAILED:
        return f"⚠ {name} failed: {status.message}. Resume tries again from its checkpoint."
    return f"{name}: {status.state}"


def latest_preview(name: str) -> Image.Image | None:
    """The job's newest preview (its photo in the style as trained so far), if any."""
    path = style_jobs.job_dir(name) / "previews" / "latest.png"
    try:
        with Image.open(path) as image:
            return image.convert("RGB")
    except OSError:
        return None


def current(services: Services) -> str | None:
    """The training a page follows when it follows none of its own: the running one, else
    the first queued. Trainings are the server's, as its styles are: every page sees them,
    so a reload or a second tab never loses one that is running."""
    active = services.trainings.active()
    return active[0] if active else None


def trainings() -> list[tuple[str, str]]:
    """Every training not done, as (its name and state, its name): the running and queued
    ones too, so that none is ever out of sight (a done one is under Your styles)."""
    return [(f"{s.name} · {s.state}", s.name) for s in style_jobs.list_jobs() if s.state != DONE]


def listings() -> tuple[list[tuple[str, str]], list[str]]:
    """The Trainings list's choices and Your styles', as every page of the server shows
    them: a page compares them with what it shows to see another page's changes."""
    return trainings(), own_styles()


def own_styles() -> list[str]:
    try:
        return [e.name for e in installed_user_styles()]
    except StylerError:
        return []


def _sentence(text: str) -> str:
    """An engine message as the status line shows it: capitalised, one line."""
    text = " ".join(text.split())
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")
