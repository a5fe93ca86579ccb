"""Run a planned batch from the command line: the engine's batch (styler.batch) with
progress bars, one line per failure on stderr, each written path on stdout, and a clean
stop on Ctrl-C."""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from styler import batch as engine
from styler.batch import Job, printable, runs_as_clip
from styler.cli.common import (
    EXIT_FAILED,
    EXIT_INTERRUPTED,
    EXIT_OK,
    failure_text,
    say,
    say_traceback,
)
from styler.engine import Engine
from styler.progress import CancelToken, Progress
from styler.video.span import Span

__all__ = ["Echo", "TerminalBatch", "TerminalSummary", "cancel_on_interrupt", "failure_line"]


class TerminalSummary(engine.Summary):
    """The engine's summary, worded for the command line, with its exit code."""

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
                "rerun the same command with --skip-existing to resume (a clip under way goes "
                "on from its last finished segment)"
            )
        return lines

    def exit_code(self) -> int:
        if self.interrupted:
            return EXIT_INTERRUPTED
        return EXIT_FAILED if self.failures else EXIT_OK


@dataclass
class TerminalBatch:
    """Everything shared by the jobs of one `styler stylize` run."""

    engine: Engine
    quality: int = 95
    skip_existing: bool = False
    quiet: bool = False
    cancel: CancelToken = field(default_factory=CancelToken)
    span: Span | None = None  # clips: only this part of each

    def run(self, jobs: Sequence[Job], summary: TerminalSummary) -> TerminalSummary:
        """Process every job; the first Ctrl-C stops the file under way, unsaved."""
        bars = _Bars(len(jobs), self.quiet)
        runner = engine.Batch(self.engine, quality=self.quality, skip_existing=self.skip_existing,
                              cancel=self.cancel, events=_Events(bars),
                              span=self.span)  # fmt: skip
        with cancel_on_interrupt(self.cancel), bars:
            try:
                runner.run(jobs, summary)
            except KeyboardInterrupt:  # a second Ctrl-C: stop now, still summarise
                self.cancel.cancel()
        summary.interrupted = self.cancel.cancelled
        return summary


class Echo(engine.BatchEvents):
    """A batch's outcomes on the terminal: failures and notes on stderr, written paths on
    stdout (the Ray engine, whose driver has its own bar, uses this alone)."""

    def written(self, job: Job) -> None:
        _say_path(job.output)

    def failed(self, job: Job, failure: str, exc: BaseException) -> None:
        say(f"error: {failure}")
        trace = getattr(exc, "trace", None)  # a failure on a Ray actor brings its own
        if trace:
            say(trace.rstrip())
        elif trace is None:
            say_traceback(exc)

    def note(self, job: Job, note: str) -> None:
        say(f"note: {note}")

    def describe(self, exc: BaseException) -> str:
        return failure_text(exc)


class _Events(Echo):
    """The local batch on a terminal: Echo's lines, and bars over files and passes."""

    def __init__(self, bars: _Bars) -> None:
        self.bars = bars

    def starting(self, job: Job) -> None:
        unit = "frame" if runs_as_clip(job) else "step"
        self.bars.start_file(printable(job.source.name), unit)

    def progress(self, progress: Progress) -> None:
        self.bars.on_step(progress)

    def written(self, job: Job) -> None:
        self.bars.file_done()
        super().written(job)

    def skipped(self, job: Job) -> None:
        self.bars.file_done()

    def failed(self, job: Job, failure: str, exc: BaseException) -> None:
        super().failed(job, failure, exc)
        self.bars.file_done()


def failure_line(source: Path, exc: BaseException) -> str:
    """'<file>: <reason>' in one line, for whatever processing one file raised, worded for
    the command line (flags, --debug)."""
    return engine.failure_line(source, exc, failure_text)


_stdout_closed = False


def _say_path(path: Path) -> None:
    """Print a written output's path on stdout, control characters escaped. Where stdout
    cannot encode the name (not valid UTF-8 under a strict encoding), its bytes escaped;
    where stdout is closed (`styler stylize ... | head -1`), nothing more: the batch goes on,
    the file is written all the same."""
    global _stdout_closed
    if _stdout_closed:
        return
    text = printable(str(path), keep_bytes=True)
    try:
        try:
            say(text, stdout=True)
        except UnicodeEncodeError:
            raw = os.fsencode(text).decode("utf-8", "backslashreplace")
            say(raw.encode("ascii", "backslashreplace").decode("ascii"), stdout=True)
    except BrokenPipeError:
        _stdout_closed = True
        with contextlib.suppress(OSError, ValueError):  # later writes and the exit's flush
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            os.close(devnull)
        say("note: stdout was closed; written outputs are no longer printed, the batch goes on")


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
    """A bar over files and a nested one over the current file's steps (stderr): optimisation
    steps in optimizer mode, network passes in fast and instant mode. Where stderr is not a
    terminal (a log file), only the files' bar: the nested one moves the cursor up and down,
    which a log keeps as escape codes."""

    def __init__(self, files: int, quiet: bool) -> None:
        self.files = tqdm(
            total=files, desc="images", unit="img", disable=quiet, position=0, dynamic_ncols=True
        )
        self.steps = tqdm(
            total=None, unit="step", disable=quiet or not sys.stderr.isatty(), position=1,
            leave=False, dynamic_ncols=True,
        )  # fmt: skip

    def __enter__(self) -> _Bars:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.steps.close()
        self.files.close()

    def start_file(self, name: str, unit: str) -> None:
        """A new file's bar, counting `unit`s: a clip's frames (with their rate and the time
        left), else optimisation steps or network passes."""
        self.steps.reset()
        self.steps.unit = unit
        self.steps.set_postfix_str("", refresh=False)
        self.steps.set_description_str(name if len(name) <= 30 else name[:27] + "...")

    def on_step(self, progress: Progress) -> None:
        """The engine's progress callback."""
        width, height = progress.size
        self.steps.total = progress.total_steps  # tiled scales add steps for large photos
        words = [f"{width}x{height}"]
        if progress.scales > 1:
            words.insert(0, f"scale {progress.scale + 1}/{progress.scales}")
        if "total" in progress.losses:
            words.append(f"loss {progress.losses['total']:.3g}")
        self.steps.set_postfix_str(" ".join(words), refresh=False)
        if progress.resumed >= progress.step:  # an earlier run's frames: not this run's rate
            self.steps.n = self.steps.initial = self.steps.last_print_n = progress.step
            self.steps.start_t = self.steps.last_print_t = time.time()
            self.steps.refresh()
            return
        self.steps.update(progress.step - self.steps.n)

    def file_done(self) -> None:
        self.files.update()
