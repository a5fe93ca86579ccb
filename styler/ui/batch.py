"""What the Batch tab's button does: every uploaded photo (or every image in the uploaded
zips) through one recipe's engine, run by the engine's own batch (styler.batch), so a photo
that fails, whatever the reason, costs only that photo; one zip back, with each failure in
the browser's words. Nothing here imports gradio."""

from __future__ import annotations

import contextlib
import queue
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from styler.batch import Batch, BatchEvents, Job, output_kind
from styler.engine import RecipeImageError
from styler.progress import CancelToken
from styler.recipe import Recipe
from styler.ui import zips
from styler.ui.inputs import FAST, QUALITY, Controls, StyleSlots, style_list
from styler.ui.messages import UserError, failure_reason, user_message
from styler.ui.runs import make_recipe, style_label
from styler.ui.services import Services, safe_name

Report = Callable[[int, int, str], None]  # (photos done, photos in all, the one under way)
Started = Callable[[Report, CancelToken], "BatchOutcome"]  # run_batch with its inputs given
HEARTBEAT_S = 1.0  # longest wait for a report before followed_batch yields anyway


@dataclass
class BatchOutcome:
    zip_path: Path | None  # None: nothing made and nothing failed (a Stop before any photo)
    done: int
    errors: list[str]
    not_done: int = 0  # photos a Stop left unpainted
    left_out: list[str] = field(default_factory=list)  # what the zips held besides images

    def summary(self) -> str:
        counts = f"{self.done} stylized, {len(self.errors)} failed"
        if self.not_done:
            counts = f"Stopped: {counts}, {self.not_done} not done"
        if self.zip_path is None:
            held = "Nothing was made, so there is nothing to download."
        elif not self.done:
            held = "The zip holds errors.txt only."
        else:
            held = "The zip holds the results" + (" and errors.txt." if self.errors else ".")
        lines = [f"**{counts}.** {held}"]
        if self.errors:
            lines += ["", "Not stylized:", *(f"- {e}" for e in self.errors)]
        if self.left_out:
            lines += ["", "Left out, not images:", *(f"- {name}" for name in self.left_out)]
        return "\n".join(lines)


@dataclass
class _Events(BatchEvents):
    """The tab's progress bar, and each failure as '<photo as the user named it>: <reason>'."""

    names: dict[Path, str]  # job source -> what the user called it ('trip.zip/a.jpg')
    report: Report | None = None
    errors: list[str] = field(default_factory=list)
    started: int = 0

    def starting(self, job: Job) -> None:
        if self.report:
            self.report(self.started, len(self.names), self.names[job.source])
        self.started += 1

    def failed(self, job: Job, failure: str, exc: BaseException) -> None:
        self.errors.append(f"{self.names[job.source]}: {failure_reason(exc)}")


def run_batch(
    services: Services,
    files: Sequence[str | Path] | None,
    mode: str,
    style: str | None,
    styles: StyleSlots,
    controls: Controls,
    report: Report | None = None,
    cancel: CancelToken | None = None,
) -> BatchOutcome:
    """Every photo (or every image in the zips) through one style; a zip back, errors listed.
    A `cancel` (the tab's Stop) ends it at once, dropping the photo under way: the zip holds
    those done."""
    if not files:
        raise UserError("Upload some photos or a zip of photos first.")
    config = services.config
    work = services.workspace.new_dir("work")
    inputs, errors, left_out = zips.collect(
        [Path(f) for f in files],
        work / "in",
        max_files=config.max_batch_files,
        max_bytes=int(config.max_batch_mb * 1024 * 1024),
    )
    recipe, label = _recipe(services, mode, style, styles, controls)  # before any photo
    out = work / "out"  # a folder per photo: two uploads of one name must not share an output
    jobs = [Job(item.path, out / f"{n:04d}" / safe_name(
                f"{item.path.stem}__{label}.{output_kind(item.path, 'png')}"))  # an animated GIF
            for n, item in enumerate(inputs)]  # fmt: skip
    events = _Events({item.path: item.name for item in inputs}, report)
    # Quality runs take a device slot, as a Stylize tab's Quality run does.
    with services.engines.slot() if mode == QUALITY else contextlib.nullcontext(0) as index:
        try:
            engine = services.engines.build(recipe, index)
        except RecipeImageError as exc:
            raise UserError(f"That style image cannot be used: {user_message(exc.cause)}") from exc
        summary = Batch(engine, events=events, cancel=cancel or CancelToken()).run(jobs)
    if report:
        report(len(inputs), len(inputs), "zip")
    failed = [*errors, *events.errors]
    zip_path = None  # a Stop before any photo: an empty zip would promise results
    if summary.written or failed:
        zip_path = zips.write_zip(summary.written, failed, work / "styled.zip", left_out)
    return BatchOutcome(zip_path=zip_path, done=summary.stylized, errors=failed,
                        not_done=summary.not_done, left_out=left_out)  # fmt: skip


def _recipe(
    services: Services, mode: str, style: str | None, styles: StyleSlots, controls: Controls
) -> tuple[Recipe, str]:
    """The batch's recipe, and the styles' label its outputs are named with."""
    if mode == FAST:
        if not style or style not in services.style_names():
            raise UserError("Pick a fast style for the batch first.")
        return make_recipe(FAST, [style], controls), style
    if not any(path for path, _ in styles):  # the tab has one slot and no weights to set
        raise UserError("Add a style image (or pick one of the samples) for the batch first.")
    images, weights, names = style_list(services, styles)
    return make_recipe(mode, images, controls, blend=weights), style_label(names)


Followed = tuple[int, int, str] | BatchOutcome | None  # what followed_batch yields


def followed_batch(services: Services, stop_key: str, start: Started) -> Iterator[Followed]:
    """`start` in a thread, Stop for `stop_key` cancelling it; yields each report (photos
    done, in all, the one under way), None after HEARTBEAT_S without one, and last the
    outcome (or raises the failure). Closing this early (Gradio closes a handler's generator
    at a yield when its page is left: the heartbeat lets it, a Quality photo taking minutes)
    stops the batch as Stop does, so it no longer runs unseen, holding a device slot."""
    reports: queue.Queue[tuple[int, int, str] | None] = queue.Queue()
    outcome: dict[str, BatchOutcome | BaseException] = {}
    with services.cancellable(stop_key) as token:

        def work() -> None:
            try:
                outcome["done"] = start(lambda *report: reports.put(report), token)
            except BaseException as exc:  # handed to the generator, which raises it
                outcome["failed"] = exc
            finally:
                reports.put(None)

        threading.Thread(target=work, name="styler-ui-batch", daemon=True).start()
        finished = False
        try:
            while True:
                try:
                    report = reports.get(timeout=HEARTBEAT_S)
                except queue.Empty:
                    yield None
                    continue
                if report is None:
                    break
                yield report
            finished = True
        finally:
            if not finished:
                token.cancel()
    if "failed" in outcome:
        raise outcome["failed"]
    done = outcome["done"]
    assert isinstance(done, BatchOutcome)
    yield done

