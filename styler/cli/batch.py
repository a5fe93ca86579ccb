"""Run a planned batch: one engine and one set of style images for every job, with progress
bars, per-file errors that do not stop the rest, and a clean stop on Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import signal
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from PIL import Image
from tqdm import tqdm

from styler.api import RegionInput, Stylizer, StylizeResult
from styler.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    failure_text,
    say,
    say_traceback,
)
from styler.cli.plan import Job
from styler.imageio import ImageLoadError, ImageSaveError, LoadedImage, load_image, save_image
from styler.optimize import OptimizeOptions
from styler.progress import CancelToken, Progress, ProgressCallback

Outcome = Literal["stylized", "skipped", "cancelled"]


@dataclass
class Summary:
    stylized: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)  # '<path>: <reason>'
    not_done: int = 0  # jobs never finished because of Ctrl-C
    interrupted: bool = False

    def lines(self) -> list[str]:
        lines = [
            f"{self.stylized} stylized, {self.skipped} skipped (existing), "
            f"{len(self.failures)} failed"
        ]
        if self.failures:
            lines += ["failed:", *(f"  {failure}" for failure in self.failures)]
        if self.interrupted:
            lines.append(
                f"interrupted: {self.not_done} not done; "
                "rerun the same command with --skip-existing to resume"
            )
        return lines

    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_FAILED if self.failures else EXIT_OK


# Renders one input: (source path, progress callback, cancel token) -> result.
Render = Callable[[Path, ProgressCallback, CancelToken], StylizeResult]


def optimizer_render(
    stylizer: Stylizer,
    styles: list[LoadedImage],
    options: OptimizeOptions,
    blend: list[float] | None,
    regions: list[RegionInput] | None = None,
    init_image: Image.Image | None = None,
) -> Render:
    """Optimizer mode: one engine and one set of decoded styles (and masks) for every input."""

    def render(source: Path, progress: ProgressCallback, cancel: CancelToken) -> StylizeResult:
        return stylizer.run(str(source), styles, options, blend=blend, regions=regions or (),
                            init_image=init_image, progress=progress,
                            cancel=cancel)  # fmt: skip

    return render


@dataclass
class Batch:
    """Everything shared by the jobs of one `styler stylize` run."""

    render: Render
    steps_per_file: int  # the length of the per-file progress bar
    quality: int = 95
    skip_existing: bool = False
    quiet: bool = False
    cancel: CancelToken = field(default_factory=CancelToken)

    def run(self, jobs: Sequence[Job], summary: Summary) -> Summary:
        """Process every job; the first Ctrl-C stops after the current optimisation step."""
        finished = 0
        bars = _Bars(len(jobs), self.steps_per_file, self.quiet)
        with cancel_on_interrupt(self.cancel), bars:
            try:
                for job in jobs:
                    if self.cancel.cancelled:
                        break
                    if self._attempt(job, bars, summary):
                        finished += 1
                        bars.file_done()
            except KeyboardInterrupt:  # a second Ctrl-C: stop now, still summarise
                self.cancel.cancel()
        summary.interrupted = self.cancel.cancelled
        summary.not_done = len(jobs) - finished
        return summary

    def _attempt(self, job: Job, bars: _Bars, summary: Summary) -> bool:
        """Run one job and count its outcome; False when Ctrl-C cut it short."""
        try:
            outcome = self._stylize(job, bars)
        except Exception as exc:  # anything one file raises; Ctrl-C and exit still stop all
            failure = failure_line(job.source, exc)
            say(f"error: {failure}")
            say_traceback(exc)
            summary.failures.append(failure)
            return True
        if outcome == "stylized":
            summary.stylized += 1
        elif outcome == "skipped":
            summary.skipped += 1
        return outcome != "cancelled"

    def _stylize(self, job: Job, bars: _Bars) -> Outcome:
        if self.skip_existing and _is_readable_image(job.output):
            return "skipped"
        bars.start_file(job.source.name)
        result = self.render(job.source, bars.on_step, self.cancel)
        if not result.completed:  # never save a half-optimised image: resume would skip it
            return "cancelled"
        save_image(
            result.image,
            job.output,
            settings=result.settings,
            alpha=result.alpha,
            quality=self.quality,
        )
        _say_path(job.output)
        return "stylized"


def failure_line(source: Path, exc: BaseException) -> str:
    """'<file>: <reason>' in one line, for whatever processing one file raised.

    Image errors name their own file (the input, or the output that could not be written).
    """
    if isinstance(exc, ImageLoadError | ImageSaveError):
        return str(exc)
    reason = failure_text(exc)
    return reason if reason.startswith(f"{source}:") else f"{source}: {reason}"


def _say_path(path: Path) -> None:
    """Print a written output's path on stdout, even where stdout cannot encode its name
    (not valid UTF-8 under a strict encoding): its bytes, backslash-escaped, then."""
    try:
        say(str(path), stdout=True)
    except UnicodeEncodeError:
        raw = os.fsencode(path).decode("utf-8", "backslashreplace")
        say(raw.encode("ascii", "backslashreplace").decode("ascii"), stdout=True)


def _is_readable_image(path: Path) -> bool:
    """Only an output that decodes counts as done, so a damaged leftover is redone."""
    try:
        load_image(path)
    except ImageLoadError:
        return False
    return True


@contextlib.contextmanager
def cancel_on_interrupt(token: CancelToken) -> Iterator[None]:
    """Turn the first Ctrl-C into a cancel request, so the engine stops between steps and
    nothing is half-written; the previous handler comes back, so a second Ctrl-C is immediate."""
    previous = signal.getsignal(signal.SIGINT)
    if previous is signal.SIG_IGN:  # e.g. a background job of a script: Ctrl-C is not for us
        yield
        return

    def request_cancel(signum: int, frame: object) -> None:
        token.cancel()
        signal.signal(signal.SIGINT, previous)

    signal.signal(signal.SIGINT, request_cancel)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class _Bars:
    """A bar over files and a nested one over the current file's optimisation steps (stderr)."""

    def __init__(self, files: int, steps: int, quiet: bool) -> None:
        self.files = tqdm(
            total=files, desc="images", unit="img", disable=quiet, position=0, dynamic_ncols=True
        )
        self.steps = tqdm(
            total=steps, unit="step", disable=quiet, position=1, leave=False, dynamic_ncols=True
        )

    def __enter__(self) -> _Bars:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.steps.close()
        self.files.close()

    def start_file(self, name: str) -> None:
        self.steps.reset()
        self.steps.set_postfix_str("", refresh=False)
        self.steps.set_description_str(name if len(name) <= 30 else name[:27] + "...")

    def on_step(self, progress: Progress) -> None:
        """The engine's progress callback."""
        width, height = progress.size
        loss = progress.losses.get("total", float("nan"))
        self.steps.total = progress.total_steps  # tiled scales add steps for large photos
        self.steps.set_postfix_str(
            f"scale {progress.scale + 1}/{progress.scales} {width}x{height} loss {loss:.3g}",
            refresh=False,
        )
        self.steps.update(progress.step - self.steps.n)

    def file_done(self) -> None:
        self.files.update()
