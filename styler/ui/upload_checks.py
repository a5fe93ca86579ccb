"""Files checked the moment they land in a slot, every slot in the same words: an image by
check_photo (inputs.py), a zip of photos by opening it. Nothing here imports gradio."""

from __future__ import annotations

import html
import zipfile
from collections.abc import Sequence
from pathlib import Path

from styler.batch import printable
from styler.ui.inputs import check_photo
from styler.ui.messages import UserError
from styler.ui.services import Services


def refusal(exc: UserError) -> str:
    """The line beside a slot that refused a file, as the page shows it."""
    return f"⚠ {html.escape(str(exc))}."


def check_zip(path: str | Path, what: str) -> None:
    """A zip of photos that opens, else UserError in check_photo's words; its images are
    checked one by one when the batch runs (they may be many)."""
    try:
        with zipfile.ZipFile(path):
            pass
    except (zipfile.BadZipFile, OSError) as exc:
        reason = "not a readable zip file: use another file (a .zip of photos)"
        raise UserError(f"That {what} cannot be used: {printable(Path(path).name)}: {reason}",
                        reason) from exc  # fmt: skip


def check_files(
    services: Services, paths: Sequence[str | Path], what: str, *, zips: bool = False
) -> tuple[list[str], list[str]]:
    """Several files landing in one slot (shown as names, never as pictures): the usable
    ones (zips too, when `zips`), and one refusal line per file that is not."""
    usable, refused = [], []
    for path in paths:
        try:
            if zips and Path(path).suffix.lower() == ".zip":
                check_zip(path, what)
                usable.append(str(path))
            else:
                check_photo(services, path, what)
                usable.append(str(path))
        except UserError as exc:
            refused.append(refusal(exc))
    return usable, refused
