"""Stylizing many files: which files, where each result goes, and a run no file can stop.

The engine of `styler stylize` and of the API's `stylize_files`; it prints nothing, faces
hear about each file through BatchEvents.

Planning: inputs are files or folders; folders yield their image files (recognised by
extension), sub-folders too with `recursive`. Outputs mirror the tree below each folder
given, named `<input-stem>__<style-stems>.<ext>`, so a rerun finds the same names and
`skip_existing` can resume. Symbolic links to folders are not followed (no loops); a file
link that loops or dangles is a job that fails with its reason.

Running: whatever one file raises (it cannot be read, the engine refuses its size, a bug,
MemoryError) is that file's failure, one line naming it, and the batch goes on. Outputs
are written atomically, so no partial file ever has a final name, and a run removes the
temporary files a killed run left in its output folders. Ctrl-C (KeyboardInterrupt) and
SystemExit are not a file's failure: they stop the batch, and the summary says how far it
got. See docs/reliability.md.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from PIL import Image

from styler.errors import StylerError
from styler.imageio import (
    ImageLoadError,
    ImageSaveError,
    LoadedImage,
    frame_notes,
    load_image,
    output_format,
    remove_stale_temporaries,
    save_image,
)
from styler.progress import CancelToken, Progress, ProgressCallback
from styler.result import ImageInput, StylizeResult

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})
_FORMAT_EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp"}
MAX_REASON = 300  # characters of an unexpected exception's message kept in its line


class InputNotFound(StylerError):
    """A file or folder given as input does not exist: nothing of the batch was done."""


@dataclass(frozen=True)
class Job:
    source: Path  # as the user's paths spell it, so messages name what they typed
    output: Path


@dataclass
class Plan:
    jobs: list[Job] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # '<path>: <reason>', found while planning


@dataclass
class Summary:
    """What a batch did; `failures` are one line each, '<file>: <reason>'."""

    stylized: int = 0
    skipped: int = 0
    failures: list[str] = field(default_factory=list)
    not_done: int = 0  # jobs a cancel (or Ctrl-C) left undone
    interrupted: bool = False
    written: list[Path] = field(default_factory=list)  # the outputs, in the order written
    notes: list[str] = field(default_factory=list)  # '<file>: <note>' (e.g. first frame only)

    @property
    def ok(self) -> bool:
        """Every job done (stylized or skipped), none failed."""
        return not self.failures and not self.interrupted


Outcome = Literal["stylized", "skipped", "cancelled"]
# Renders one input: (source path, progress callback, cancel token) -> result.
Render = Callable[[Path, ProgressCallback, CancelToken], StylizeResult]


# ------------------------------------------------------------------------------------ planning


def output_name(source: Path, styles: Sequence[str | os.PathLike], extension: str) -> str:
    """'<input-stem>__<style-stem>.<ext>'; blended styles' stems are joined with '+'."""
    style_stems = "+".join(Path(style).stem for style in styles)
    return f"{source.stem}__{style_stems}.{extension}"


def make_plan(
    inputs: Sequence[str | os.PathLike],
    styles: Sequence[str | os.PathLike],
    output_dir: str | os.PathLike,
    extension: str,
    *,
    recursive: bool = False,
) -> Plan:
    """Jobs for every input image; an image named twice runs once, and an input whose
    output name another input already claims fails rather than overwriting it.

    Raises InputNotFound for an input that does not exist at all (a typo: nothing runs);
    everything else that is wrong with one file becomes that file's failure, later.
    """
    plan = Plan()
    output_dir = Path(output_dir)
    claimed: dict[Path, Path] = {}  # output -> source
    seen: set[Path] = set()
    for source, relative in _discover(inputs, output_dir, recursive, plan.failures):
        resolved = _resolved(source)
        if resolved in seen:
            continue
        seen.add(resolved)
        output = output_dir / relative / output_name(source, styles, extension)
        if output in claimed:
            plan.failures.append(printable(
                f"{source}: its output {output} is already the output of {claimed[output]}; "
                "rename one of them or stylize them separately"
            ))  # fmt: skip
            continue
        claimed[output] = source
        plan.jobs.append(Job(source, output))
    return plan


def _resolved(path: Path) -> Path:
    """The real path where there is one; a looping link has none (Python raises
    RuntimeError or OSError for it), so it stands for itself."""
    try:
        return path.resolve()
    except (OSError, RuntimeError):
        return Path(os.path.abspath(path))


def _discover(
    inputs: Sequence[str | os.PathLike], output_dir: Path, recursive: bool, failures: list[str]
) -> Iterator[tuple[Path, Path]]:
    """(image path, output sub-folder) pairs; a file given by name is taken whatever its name."""
    skip = _resolved(output_dir)
    for given in inputs:
        path = Path(given)
        if path.is_dir():
            yield from _folder_images(path, recursive, skip, failures)
        elif os.path.lexists(path):  # a file, or a link that dangles or loops: its job says so
            yield path, Path()
        else:
            raise InputNotFound(printable(f"{path}: no such file or folder"))


def _folder_images(
    root: Path, recursive: bool, skip: Path, failures: list[str]
) -> Iterator[tuple[Path, Path]]:
    """Image files under `root` in sorted order, leaving out hidden ones and the output folder,
    which would otherwise be stylized again on the next run."""

    def unreadable(exc: OSError) -> None:
        failures.append(printable(f"{exc.filename}: cannot list folder ({exc.strerror})"))

    for folder, subfolders, files in os.walk(root, onerror=unreadable):
        here = Path(folder)
        subfolders[:] = sorted(
            name
            for name in subfolders
            if recursive and not _hidden(name) and _resolved(here / name) != skip
        )
        for name in sorted(files):
            if not _hidden(name) and Path(name).suffix.lower() in IMAGE_EXTENSIONS:
                yield here / name, here.relative_to(root)


def _hidden(name: str) -> bool:
    return name.startswith(".")


# ------------------------------------------------------------------------------------- running


class BatchEvents:
    """What a batch tells its face as it goes; every method here does nothing.

    `describe` words an exception as the reason part of a failure line; faces may override
    it (the CLI names options as flags and points to --debug).
    """

    def starting(self, job: Job) -> None:
        """A job is about to run (not called for a skipped one)."""

    def progress(self, progress: Progress) -> None:
        """The engine's progress within the current job."""

    def written(self, job: Job) -> None:
        """job.output is written, complete."""

    def skipped(self, job: Job) -> None:
        """job.output already held a readable image (skip_existing)."""

    def failed(self, job: Job, failure: str, exc: BaseException) -> None:
        """The job failed; failure is its one line, '<file>: <reason>'."""

    def note(self, job: Job, note: str) -> None:
        """A one-line note on a finished job ('<file>: only the first frame ...')."""

    def describe(self, exc: BaseException) -> str:
        return failure_reason(exc)


@dataclass
class Batch:
    """Runs jobs one after the other with one render; see the module's docstring."""

    render: Render
    quality: int = 95
    skip_existing: bool = False
    cancel: CancelToken = field(default_factory=CancelToken)
    events: BatchEvents = field(default_factory=BatchEvents)

    def run(self, jobs: Sequence[Job], summary: Summary | None = None) -> Summary:
        """Process every job, counting into `summary` as it goes, so that after a
        KeyboardInterrupt (which propagates) the summary still tells how far it got."""
        summary = Summary() if summary is None else summary
        summary.not_done = len(jobs)
        for folder in dict.fromkeys(job.output.parent for job in jobs):
            remove_stale_temporaries(folder)
        for job in jobs:
            if self.cancel.cancelled:
                break
            if self.attempt(job, summary):
                summary.not_done -= 1
        summary.interrupted = self.cancel.cancelled
        return summary

    def attempt(self, job: Job, summary: Summary) -> bool:
        """Run one job and count its outcome; False when a cancel cut it short."""
        try:
            outcome, notes = self._stylize(job)
        except Exception as exc:  # anything one file raises; Ctrl-C and exit still stop all
            failure = failure_line(job.source, exc, self.events.describe)
            summary.failures.append(failure)
            self.events.failed(job, failure, exc)
            return True
        if outcome == "stylized":
            summary.stylized += 1
            summary.written.append(job.output)
            for note in notes:
                summary.notes.append(printable(f"{job.source}: {note}"))
                self.events.note(job, summary.notes[-1])
            self.events.written(job)
        elif outcome == "skipped":
            summary.skipped += 1
            self.events.skipped(job)
        return outcome != "cancelled"

    def _stylize(self, job: Job) -> tuple[Outcome, tuple[str, ...]]:
        if self.skip_existing and is_complete_image(job.output):
            return "skipped", ()
        self.events.starting(job)
        result = self.render(job.source, self.events.progress, self.cancel)
        if not result.completed:  # never save a half-optimised image: resume would skip it
            return "cancelled", ()
        notes = frame_notes(job.source)
        settings = result.settings
        if notes:  # the result's settings say so too (informational, like the engine's)
            engine = {**settings.get("engine", {}), "source_notes": list(notes)}
            settings = {**settings, "engine": engine}
        save_image(result.image, job.output, settings=settings, alpha=result.alpha,
                   quality=self.quality)  # fmt: skip
        return "stylized", notes


def is_complete_image(path: Path) -> bool:
    """Only an output that decodes counts as done, so a damaged leftover is redone."""
    try:
        load_image(path)
    except ImageLoadError:
        return False
    return True


def failure_reason(exc: BaseException) -> str:
    """The reason part of a failure line, for any exception, in one line: expected failures
    (StylerError, OSError) in their own words, anything else as an internal error."""
    if isinstance(exc, OSError) and exc.filename is not None and exc.strerror:
        return f"{os.fsdecode(exc.filename)}: {exc.strerror}"
    message = " ".join(str(exc).split())
    if isinstance(exc, StylerError | OSError):
        return message or type(exc).__name__
    if len(message) > MAX_REASON:
        message = message[: MAX_REASON - 3] + "..."
    if isinstance(exc, MemoryError):
        return "out of memory" + (f" ({message})" if message else "")
    return f"internal error ({type(exc).__name__})" + (f": {message}" if message else "")


def failure_line(
    source: Path,
    exc: BaseException,
    describe: Callable[[BaseException], str] = failure_reason,
) -> str:
    """'<file>: <reason>' in one line, for whatever processing one file raised.

    Image errors name their own file (the input, or the output that could not be written).
    """
    if isinstance(exc, ImageLoadError | ImageSaveError):
        return printable(str(exc))
    reason = describe(exc)
    return printable(reason if reason.startswith(f"{source}:") else f"{source}: {reason}")


_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def printable(text: str, *, keep_bytes: bool = False) -> str:
    """text with control characters escaped ('\\n', '\\x1b'): a file name holding a newline
    or a terminal escape sequence must not break a one-line message or drive the terminal.
    Bytes of a name that is not valid UTF-8 (surrogate escapes) become '\\xe9' too, so any
    stream can print it, unless keep_bytes (for paths a program may read back)."""
    text = _CONTROL.sub(lambda m: repr(m.group())[1:-1], text)
    if keep_bytes:
        return text
    try:
        return text.encode("utf-8", "surrogateescape").decode("utf-8", "backslashreplace")
    except UnicodeEncodeError:  # a lone surrogate that is no escaped byte
        return text.encode("utf-8", "backslashreplace").decode("utf-8")


# ---------------------------------------------------------------------------------- the API


def stylize_files(
    inputs: str | os.PathLike | Sequence[str | os.PathLike],
    output_dir: str | os.PathLike,
    engine: Any,
    *,
    style: Any = None,
    options: Any = None,
    blend: Sequence[float] | None = None,
    regions: Sequence[Any] = (),
    init_image: ImageInput | None = None,
    format: str = "png",
    quality: int = 95,
    recursive: bool = False,
    skip_existing: bool = False,
    cancel: CancelToken | None = None,
    events: BatchEvents | None = None,
) -> Summary:
    """Stylize image files and folders into output_dir, as `styler stylize` does.

    engine is a Stylizer (optimizer mode: give `style`, one or more style images, and
    OptimizeOptions), a FastStylizer (fast mode: its networks; FastOptions) or an
    InstantStylizer (instant mode: its style images; InstantOptions). Styles and masks are
    decoded once for the whole batch. Outputs are named
    '<input-stem>__<style-stems>.<format>' below output_dir, mirroring folder inputs.

    No file can stop the batch: each failure is one line in the returned Summary's
    `failures` ('<file>: <reason>'), the rest go on. Outputs are written atomically;
    skip_existing skips inputs whose output is already a readable image, so a rerun after
    a crash or kill resumes. `cancel` stops after the current file (optimizer mode: after
    the current step, without saving that file). Raises InputNotFound for an input that
    does not exist, OptionsError for bad options, before any file is processed.
    """
    from styler.api import Stylizer
    from styler.fast.inference import FastOptions, FastStylizer
    from styler.instant.stylizer import InstantOptions, InstantStylizer

    given = [inputs] if isinstance(inputs, str | os.PathLike) else list(inputs)
    extension = _FORMAT_EXTENSIONS[output_format(format)]
    own_styles = isinstance(engine, FastStylizer | InstantStylizer)
    if own_styles and (style is not None or blend is not None or init_image is not None):
        raise StylerError(f"{type(engine).__name__} holds its styles and blend; style, blend "
                          "and init_image are for a Stylizer")  # fmt: skip
    if isinstance(engine, FastStylizer):
        fast_options = options if options is not None else FastOptions()
        names = [Path(spec).stem for spec in engine.specs]
        render = fast_render(engine, fast_options, regions)
    elif isinstance(engine, InstantStylizer):
        names = [_named(name, i) for i, name in enumerate(engine.style_names, start=1)]
        render = instant_render(engine, options or InstantOptions(), regions)
    elif isinstance(engine, Stylizer):
        if style is None:
            raise StylerError("optimizer mode needs style: one or more style images")
        styles = _loaded_styles(engine, style)
        names = [_style_name(s, i) for i, s in enumerate(styles, start=1)]
        loaded_regions = [(mask, None if s is None else engine.load(s)) for mask, s in regions]
        init = None if init_image is None else engine.load(init_image).rgb
        render = optimizer_render(engine, styles, options, blend, loaded_regions, init)
    else:
        raise TypeError("engine must be a Stylizer, FastStylizer or InstantStylizer, not "
                        f"{type(engine).__name__}")  # fmt: skip
    plan = make_plan(given, names, output_dir, extension, recursive=recursive)
    summary = Summary(failures=list(plan.failures))
    batch = Batch(render, quality=quality, skip_existing=skip_existing,
                  cancel=cancel or CancelToken(), events=events or BatchEvents())  # fmt: skip
    return batch.run(plan.jobs, summary)


def _loaded_styles(engine: Any, style: Any) -> list[LoadedImage]:
    from styler.api import _as_list

    return [engine.load(item) for item in _as_list(style)]


def _style_name(style: LoadedImage, number: int) -> str:
    """A style's name in output names: its file's stem, else 'style<N>' (arrays, images)."""
    return _named(style.source, number)


def _named(name: str, number: int) -> str:
    return name if not name.startswith("<") else f"style{number}"


def optimizer_render(
    stylizer: Any,
    styles: list[LoadedImage],
    options: Any,
    blend: Sequence[float] | None,
    regions: Sequence[Any] | None = None,
    init_image: Image.Image | None = None,
) -> Render:
    """Optimizer mode: one engine and one set of decoded styles (and masks) for every input."""

    def render(source: Path, progress: ProgressCallback, cancel: CancelToken) -> StylizeResult:
        return stylizer.run(str(source), styles, options, blend=blend, regions=regions or (),
                            init_image=init_image, progress=progress,
                            cancel=cancel)  # fmt: skip

    return render


def fast_render(stylizer: Any, options: Any, regions: Sequence[Any] = ()) -> Render:
    """Fast mode: one set of networks for every input; regions' networks load once here."""
    for _, spec in regions:
        if spec is not None:
            stylizer.region_network(spec)  # an unknown style stops here, before any work
    regions = list(regions)

    def render(source: Path, _progress: ProgressCallback, _cancel: CancelToken) -> StylizeResult:
        return stylizer.run(source, options, regions=regions)

    return render


def instant_render(stylizer: Any, options: Any, regions: Sequence[Any] = ()) -> Render:
    """Instant mode: one set of decoded styles for every input; regions' style images are
    decoded once here (a bad one stops the batch before any work), masks as given. A
    cancel stops a photo between levels, and that photo is not saved."""
    regions = [(mask, None if style is None else stylizer.load(style)) for mask, style in regions]

    def render(source: Path, _progress: ProgressCallback, cancel: CancelToken) -> StylizeResult:
        return stylizer.run(source, options, regions=regions, cancelled=lambda: cancel.cancelled)

    return render
