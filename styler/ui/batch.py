"""What the Batch tab's button does: every uploaded photo (or every image in the uploaded
zips) through one mode and style, one zip back with the errors listed; a photo that fails,
whatever the reason, costs only that photo. Nothing here imports gradio."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from styler.errors import StylerError
from styler.imageio import ImageError
from styler.ui import zips
from styler.ui.inputs import FAST, INSTANT, Controls, StyleSlots, style_list
from styler.ui.messages import UserError, image_reason, user_message
from styler.ui.runs import run_fast, run_instant, run_quality
from styler.ui.services import Services
from styler.ui.state import Entry, Session

log = logging.getLogger("styler.ui")


@dataclass
class BatchOutcome:
    zip_path: Path
    done: int
    errors: list[str]

    def summary(self) -> str:
        lines = [f"**{self.done} stylized, {len(self.errors)} failed.** The zip holds the results"
                 + (" and errors.txt." if self.errors else ".")]  # fmt: skip
        if self.errors:
            lines += ["", "Not stylized:", *(f"- {e}" for e in self.errors)]
        return "\n".join(lines)


def run_batch(
    services: Services,
    files: Sequence[str | Path] | None,
    mode: str,
    style: str | None,
    styles: StyleSlots,
    controls: Controls,
    report: Callable[[int, int, str], None] | None = None,
) -> BatchOutcome:
    """Every photo (or every image in the zips) through one style; a zip back, errors listed."""
    if not files:
        raise UserError("Upload some photos or a zip of photos first.")
    config = services.config
    work = services.workspace.new_dir("work")
    inputs, errors = zips.collect(
        [Path(f) for f in files],
        work / "in",
        max_files=config.max_batch_files,
        max_bytes=int(config.max_batch_mb * 1024 * 1024),
    )
    scratch = Session(id=f"batch-{work.name}")
    if mode == FAST:
        if not style or style not in services.style_names():
            raise UserError("Pick a fast style for the batch first.")
    else:
        style_list(services, styles)  # checked now, so a bad style fails before the first photo
    outputs: list[Path] = []
    for number, item in enumerate(inputs, start=1):
        if report:
            report(number - 1, len(inputs), item.name)
        try:
            entry = _one(services, scratch, item.path, mode, style, styles, controls)
        except UserError as exc:
            errors.append(f"{item.name}: {exc.reason}")
            continue
        except ImageError as exc:
            errors.append(f"{item.name}: {image_reason(exc)}")
            continue
        except StylerError as exc:
            errors.append(f"{item.name}: {user_message(exc)}")
            continue
        except MemoryError:
            errors.append(f"{item.name}: out of memory (try a smaller output size)")
            continue
        except Exception as exc:  # a bug must not cost the rest of the batch
            log.exception("batch: %s failed", item.name)
            errors.append(f"{item.name}: internal error ({type(exc).__name__}); the server "
                          "log has the details")  # fmt: skip
            continue
        outputs.append(entry.path)
    if report:
        report(len(inputs), len(inputs), "zip")
    zip_path = zips.write_zip(outputs, errors, work / "styled.zip")
    return BatchOutcome(zip_path=zip_path, done=len(outputs), errors=errors)


def _one(
    services: Services, scratch: Session, path: Path, mode: str, style: str | None,
    styles: StyleSlots, controls: Controls,
) -> Entry:  # fmt: skip
    """One photo through the chosen mode, saved in the batch's scratch session."""
    if mode == FAST:
        return run_fast(services, scratch, path, style, controls)
    if mode == INSTANT:
        return run_instant(services, scratch, scratch.id, path, styles, controls)
    updates = run_quality(services, scratch, scratch.id, path, styles, controls)
    return [u.entry for u in updates if u.entry is not None][0]
