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
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from styler import photo_formats
from styler.engine import Engine, build_engine
from styler.errors import OptionsError, StylerError
from styler.imageio import (
    IMAGE_EXTENSIONS,
    OUTPUT_EXTENSIONS,
    ImageLoadError,
    ImageSaveError,
    PhotoOptions,
    checked_quality,
    frame_notes,
    load_image,
    output_format,
    read_settings,
    remove_stale_temporaries,
    save_image,
)
from styler.progress import CancelToken, Progress
from styler.recipe import Recipe
from styler.result import StylizeResult
from styler.video import VIDEO_EXTENSIONS, VideoLoadError, animation_format, is_video
from styler.video.kinds import ANIMATION_OUTPUT, VIDEO_OUTPUT
from styler.video.span import Span
from styler.wording import counted

INPUT_EXTENSIONS = IMAGE_EXTENSIONS | VIDEO_EXTENSIONS  # what folder scanning picks up

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
    notes: list[str] = field(default_factory=list)  # what planning left out, and why


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


if TYPE_CHECKING:  # PyAV: loaded only for a batch with clips
    from styler.video.clip import VideoResult

Outcome = Literal["stylized", "skipped", "cancelled"]


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
    """Jobs for every input image; an image named twice runs once, an input that is this
    run's own output for another input is none (a folder stylized into itself: its outputs
    of an earlier run would be painted again, after being overwritten), nor is one that
    styler made (its settings inside) in the folder its output goes to (an earlier run's
    into the same folder, with another style or format: a note says how many), and an input
    whose output name another input already claims fails rather than overwriting it.

    Raises InputNotFound for an input that does not exist at all (a typo: nothing runs);
    everything else that is wrong with one file becomes that file's failure, later.
    """
    plan = Plan()
    output_dir = Path(output_dir)
    claimed: dict[Path, Path] = {}  # output -> source
    seen: set[Path] = set()
    found: list[tuple[Path, Path, Path]] = []  # (source, its real path, its output)
    for source, relative in _discover(inputs, output_dir, recursive, plan.failures):
        resolved = _resolved(source)
        if resolved in seen:
            continue
        seen.add(resolved)
        name = output_name(source, styles, output_kind(source, extension))
        found.append((source, resolved, output_dir / relative / name))
    outputs = {_resolved(output) for _, _, output in found}
    made: list[Path] = []  # styler's earlier outputs, in the folder written to
    for source, resolved, output in found:
        if resolved in outputs:
            continue
        if _made_here(source, resolved, output):
            made.append(source)
            continue
        if output in claimed:
            plan.failures.append(printable(
                f"{source}: its output {output} is already the output of {claimed[output]}; "
                "rename one of them or stylize them separately"
            ))  # fmt: skip
            continue
        if not (photo_formats.is_raw(str(source)) and not photo_formats.raw_readable()):
            claimed[output] = source  # a RAW that cannot be read here fails: its JPEG twin runs
        plan.jobs.append(Job(source, output))
    if made:
        named = ", ".join(str(path) for path in made[:3]) + (", ..." if len(made) > 3 else "")
        plan.notes.append(printable(
            f"left out {counted(len(made), 'file')} styler made in the folder "
            f"written to ({named}): stylize them into another folder to paint them again"
        ))  # fmt: skip
    return plan


def _made_here(source: Path, resolved: Path, output: Path) -> bool:
    """Whether `source` is an output of styler's ('stem__style', its settings inside) that
    lies in the folder its own output would go to."""
    if "__" not in source.stem or resolved.parent != _resolved(output.parent):
        return False
    try:
        if is_video(source):
            from styler.video.writer import read_video_settings  # PyAV: only for clips

            return bool(read_video_settings(source))
        return bool(read_settings(source))
    except (StylerError, OSError):
        return False


def check_output_folder(folder: Path, given: str) -> None:
    """Refuse, in one line that begins with `given` (how the user named it), a folder that
    outputs can neither be written in nor made in (it, or a folder above it, is a file; no
    write access where it would be made): once, before any painting or export, rather than
    once per output after the work. Nothing is made here, so a later error leaves no empty
    folder behind."""
    existing = next((path for path in (folder, *folder.parents) if path.exists()), None)
    if existing is None:
        return
    if not existing.is_dir():
        raise OptionsError(f"{given}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise OptionsError(f"{given}: no permission to write in {existing}")


def output_kind(source: str | os.PathLike, extension: str) -> str:
    """The output's extension: MP4 for a video, an animation's own format (a JPEG cannot
    hold its frames), else the photos' `extension`."""
    if is_video(source):
        return VIDEO_OUTPUT
    animated = animation_format(source)
    return ANIMATION_OUTPUT[animated] if animated else extension


def runs_as_clip(job: Job) -> bool:
    """Whether the job goes through the clip pipeline: a video, or an animation whose planned
    output is its own format (output_kind). An animation the plan named as a photo (a remote
    input it could not look into) gives its first frame, with a note, as a photo would."""
    if is_video(job.source):
        return True
    animated = animation_format(job.source)
    return animated is not None and job.output.suffix.lower() == f".{ANIMATION_OUTPUT[animated]}"


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
            if not _hidden(name) and Path(name).suffix.lower() in INPUT_EXTENSIONS:
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
    """Runs jobs one after the other with one engine; see the module's docstring."""

    engine: Engine
    quality: int = 95
    skip_existing: bool = False
    cancel: CancelToken = field(default_factory=CancelToken)
    events: BatchEvents = field(default_factory=BatchEvents)
    span: Span | None = None  # clips: only this part of each (styler.video.span)

    def __post_init__(self) -> None:
        self.quality = checked_quality(self.quality)  # once, not as every file's failure

    def run(self, jobs: Sequence[Job], summary: Summary | None = None) -> Summary:
        """Process every job, counting into `summary` as it goes, so that after a
        KeyboardInterrupt (which propagates) the summary still tells how far it got.

        A photo is written on a second thread while the next one is painted: encoding a
        PNG is a real share of a one-pass photo's time (docs/performance.md). At most one
        write is in flight, and every write a run began is finished and counted before it
        returns, an interrupted run included."""
        summary = Summary() if summary is None else summary
        summary.not_done = len(jobs)
        for folder in dict.fromkeys(job.output.parent for job in jobs):
            remove_stale_temporaries(folder)
        with ThreadPoolExecutor(1, thread_name_prefix="styler-write") as writer:
            pending: _Writing | None = None
            try:
                for job in jobs:
                    if self.cancel.cancelled:
                        break
                    try:
                        painted: _Painted | Exception = self._paint(job)
                    except Exception as exc:  # one file's failure; Ctrl-C and exit stop all
                        painted = exc
                    self._collect(pending, summary)
                    pending = None
                    if isinstance(painted, Exception):
                        self._count_failure(job, painted, summary)
                        summary.not_done -= 1
                    elif painted.result is not None:
                        pending = _Writing(job, painted.notes,
                                           writer.submit(self._save, job, painted))  # fmt: skip
                    elif self._count(job, painted.outcome, painted.notes, summary):
                        summary.not_done -= 1
            finally:
                self._collect(pending, summary)
        summary.interrupted = self.cancel.cancelled
        return summary

    def attempt(self, job: Job, summary: Summary) -> bool:
        """Run one job to its end, written, and count its outcome; False when a cancel cut
        it short."""
        try:
            painted = self._paint(job)
            if painted.result is not None:
                self._save(job, painted)
        except Exception as exc:  # anything one file raises; Ctrl-C and exit still stop all
            self._count_failure(job, exc, summary)
            return True
        return self._count(job, painted.outcome, painted.notes, summary)

    def _collect(self, pending: _Writing | None, summary: Summary) -> None:
        """Wait for the write in flight, if any, and count how it ended."""
        if pending is None:
            return
        try:
            pending.done.result()
        except Exception as exc:
            self._count_failure(pending.job, exc, summary)
        else:
            self._count(pending.job, "stylized", pending.notes, summary)
        summary.not_done -= 1

    def _count_failure(self, job: Job, exc: BaseException, summary: Summary) -> None:
        failure = failure_line(job.source, exc, self.events.describe)
        summary.failures.append(failure)
        self.events.failed(job, failure, exc)

    def _count(self, job: Job, outcome: Outcome, notes: tuple[str, ...], summary: Summary) -> bool:
        """Count a job's outcome and tell the face; False for a cancelled one (whose notes
        still reach the face: a stopped clip's says what its journal keeps)."""
        for note in notes:
            summary.notes.append(printable(f"{job.source}: {note}"))
            self.events.note(job, summary.notes[-1])
        if outcome == "cancelled":
            return False
        if outcome == "stylized":
            summary.stylized += 1
            summary.written.append(job.output)
            self.events.written(job)
        else:
            summary.skipped += 1
            self.events.skipped(job)
        return True

    def _paint(self, job: Job) -> _Painted:
        """The job up to its image: skipped, a clip stylized and written whole, a photo
        painted (its `result` still to write), or cancelled."""
        if self.skip_existing and is_complete(job.output):
            return _Painted("skipped")
        self.events.starting(job)
        if runs_as_clip(job):
            from styler.video import stylize_video  # PyAV: loaded only for a batch with clips

            clip = stylize_video(job.source, job.output, self.engine, span=self.span,
                                 progress=self.events.progress, cancel=self.cancel)  # fmt: skip
            return _Painted("stylized" if clip.completed else "cancelled", clip_notes(clip))
        result = self.engine.run(job.source, progress=self.events.progress, cancel=self.cancel)
        if not result.completed:  # never save a half-optimised image: resume would skip it
            return _Painted("cancelled")
        return _Painted("stylized", frame_notes(job.source), result)

    def _save(self, job: Job, painted: _Painted) -> None:
        result = painted.result
        assert result is not None
        settings = result.settings
        if painted.notes:  # the result's settings say so too (informational, like the engine's)
            engine = {**settings.get("engine", {}), "source_notes": list(painted.notes)}
            settings = {**settings, "engine": engine}
        photo = PhotoOptions.from_values(self.engine.recipe.controls)  # metadata, colour
        save_image(result.image, job.output, settings=settings, alpha=result.alpha,
                   quality=self.quality, source=job.source, photo=photo)  # fmt: skip


@dataclass(frozen=True)
class _Painted:
    outcome: Outcome
    notes: tuple[str, ...] = ()
    result: StylizeResult | None = None  # a photo's image, not yet written


@dataclass(frozen=True)
class _Writing:
    job: Job
    notes: tuple[str, ...]
    done: Future[None]


def clip_notes(clip: VideoResult) -> tuple[str, ...]:
    """What a clip's run says of its journal (the frames an earlier run left that it took,
    or, stopped, the frames it leaves for the next run and the space they hold) and of a
    picture that ended early."""
    notes = [] if (short := clip.cut_short()) is None else [short]
    if clip.resumed:
        notes.append(f"went on from frame {clip.resumed + 1} of {clip.frames}: the frames "
                     "before were painted by a run that stopped")  # fmt: skip
    elif clip.kept and clip.journal is not None:
        size = sum(p.stat().st_size for p in clip.journal.iterdir()) / 1e6
        notes.append(f"stopped; its first {clip.kept} frames are kept in {clip.journal} "
                     f"({size:.0f} MB) for the same command to go on from (delete that "
                     "folder to drop them)")  # fmt: skip
    return tuple(notes)


def is_complete(path: Path) -> bool:
    """Only an output that decodes counts as done, so a damaged leftover is redone: an
    animation's every frame, as many as its settings say it was painted with (a GIF cut
    short still opens, with its first frames); a photo whose settings say its run was
    stopped (the API and the web UI save such a best-so-far) is redone too."""
    try:
        if is_video(path):
            from styler.video import probe_clip  # PyAV: loaded only for a batch with clips

            probe_clip(path, max_pixels=2**62)
        elif animation_format(path):
            from styler.video.animation import probe_animation

            frames = read_settings(path).get("engine", {}).get("video", {}).get("frames")
            painted = frames if isinstance(frames, int) else 0
            return probe_animation(path, max_pixels=2**62).frames >= painted
        else:
            load_image(path)
            return read_settings(path).get("completed") is not False
    except (ImageLoadError, VideoLoadError):
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
    recipe: Recipe | Engine,
    *,
    format: str = "png",
    quality: int = 95,
    recursive: bool = False,
    skip_existing: bool = False,
    cancel: CancelToken | None = None,
    events: BatchEvents | None = None,
    span: Span | None = None,
) -> Summary:
    """Stylize image files and folders into output_dir, as `styler stylize` does.

    recipe: what to paint (styler.recipe.Recipe, any mode), or an engine already built
    from one (styler.engine.build_engine), whose models and styles then serve this batch
    too. Outputs are named '<input-stem>__<style-stems>.<format>' below output_dir,
    mirroring folder inputs.

    No file can stop the batch: each failure is one line in the returned Summary's
    `failures` ('<file>: <reason>'), the rest go on. Outputs are written atomically;
    skip_existing skips inputs whose output is already a readable image, so a rerun after
    a crash or kill resumes. `cancel` stops the file under way without saving it. `span`
    paints only that part of each clip (styler.video.span.Span; photos are whole). Raises
    InputNotFound for an input that does not exist, before any file is processed, and the
    errors of build_engine for a recipe whose styles or masks cannot be used.
    """
    given = [inputs] if isinstance(inputs, str | os.PathLike) else list(inputs)
    extension = OUTPUT_EXTENSIONS[output_format(format)]
    plan = make_plan(given, _recipe_of(recipe).names, output_dir, extension, recursive=recursive)
    engine = build_engine(recipe) if isinstance(recipe, Recipe) else recipe
    summary = Summary(failures=list(plan.failures), notes=list(plan.notes))
    batch = Batch(engine, quality=quality, skip_existing=skip_existing,
                  cancel=cancel or CancelToken(), events=events or BatchEvents(),
                  span=span)  # fmt: skip
    return batch.run(plan.jobs, summary)


def _recipe_of(recipe: Recipe | Engine) -> Recipe:
    if isinstance(recipe, Recipe):
        return recipe
    if not isinstance(getattr(recipe, "recipe", None), Recipe):
        raise TypeError(f"stylize_files takes a Recipe or an engine built from one, not "
                        f"{type(recipe).__name__}")  # fmt: skip
    return recipe.recipe
