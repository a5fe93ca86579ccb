"""What the person at the browser reads: one line per problem, and the progress of a run.

Errors are worded from their data (a control by its label, a file by its name alone: the
server's temporary paths mean nothing in a browser). Nothing here imports gradio.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from pathlib import Path

from styler import controls
from styler.batch import printable
from styler.errors import InvalidOption, StylerError, UnknownOption
from styler.fusion.photo import SizesDiffer
from styler.imageio import ImageError, ImageTooLarge
from styler.progress import Progress
from styler.settings import SettingsError

log = logging.getLogger("styler.ui")

NO_PHOTO = "Add a photo first: upload one, paste it, use the webcam, or pick a sample below it."


class UserError(StylerError):
    """Something the person at the browser can fix; the message is shown as it is.

    `reason` is the message without the file's name, for lists that name it already.
    """

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


class NothingKept(UserError):
    """A run that ended (stopped, withdrawn) with nothing worth keeping: said plainly in the
    status line, not as an error."""


def option_message(exc: InvalidOption) -> str:
    """'Strength must be between 0 and 1 (got 2).': the control by its label."""
    if isinstance(exc, UnknownOption):
        return f"{exc}."
    control = controls.CONTROLS.get(exc.name)
    label = control.label if control else exc.name.replace("_", " ").capitalize()
    value = f"{exc.value:g}" if isinstance(exc.value, int | float) else repr(exc.value)
    return f"{label} must be {exc.expected} (got {value})."


def image_reason(exc: ImageError) -> str:
    """Why an image cannot be used, for someone who cannot change the server's limits."""
    if isinstance(exc, ImageTooLarge):
        return f"{exc.reason} (the server's limit: use a smaller image)"
    return f"{exc.reason}: use another file (JPEG, PNG, WebP, TIFF or HEIC)"


def user_message(exc: BaseException) -> str:
    """One line for the user, worded from the error's data."""
    if isinstance(exc, UserError):
        return str(exc)
    if isinstance(exc, InvalidOption):
        return option_message(exc)
    if isinstance(exc, SizesDiffer):  # its remedy is a checkbox here, not a flag
        return f"{exc.detail}; resize them, or tick “{controls.FUSION_CONTROLS['align'].label}”"
    if isinstance(exc, ImageError):
        return f"{printable(Path(exc.source).name)}: {image_reason(exc)}"
    if isinstance(exc, SettingsError):
        return f"{printable(Path(exc.source).name)}: {exc.reason}"
    return " ".join(str(exc).split()) or type(exc).__name__


def failure_reason(exc: BaseException) -> str:
    """Why one photo of a batch failed, without its name; a bug's details go to the log."""
    if isinstance(exc, UserError):
        return exc.reason
    if isinstance(exc, ImageError):
        return image_reason(exc)
    if isinstance(exc, StylerError):
        return user_message(exc)
    if isinstance(exc, MemoryError):
        return "out of memory (try a smaller output size)"
    log.error("a batch photo failed", exc_info=exc)
    return f"internal error ({type(exc).__name__}); the server log has the details"


def progress_text(p: Progress) -> str:
    width, height = p.size
    scale = f"Scale {p.scale + 1} of {p.scales} ({width}×{height})"
    return f"{scale} · step {p.step} of {p.total_steps}"


def progress_html(
    p: Progress | None, text: str = "", label: Callable[[Progress], str] = progress_text
) -> str:
    """A progress bar the browser can show and tests can read (the bar has role=progressbar),
    worded by `label` (steps here; a clip's frames on the Video tab)."""
    if p is None:
        return (
            f'<div class="styler-progress"><span>{html.escape(text)}</span></div>' if text else ""
        )
    percent = 100 * p.step / max(1, p.total_steps)
    return (
        f'<div class="styler-progress" data-step="{p.step}" data-total="{p.total_steps}">'
        f'<div class="styler-bar" role="progressbar" aria-valuenow="{p.step}" '
        f'aria-valuemin="0" aria-valuemax="{p.total_steps}">'
        f'<div class="styler-fill" style="width:{percent:.1f}%"></div></div>'
        f"<span>{html.escape(label(p))}</span></div>"
    )
