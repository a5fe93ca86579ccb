"""A named style's training job: its inputs checked first, then a work folder that survives
restarts, its status, its lock and its stop request. styler.fast.style_run trains it and
publishes the result to the user styles folder (styler.fast.user_styles).

`styler train --name` runs a job in its own process; the UI runs each in a worker process
(styler.fast.style_worker). Either way the job lives in `user_styles_dir()/.training/NAME`:

    job.json        what to train (JobSpec)
    status.json     how far it got (JobStatus), rewritten atomically as it goes
    painting.EXT    the painting, copied in
    photos/         the uploaded photos, copied in (a folder on disk is used where it is)
    net.*           the best network so far, its checkpoint (resume) and validation log
    previews/       a preview photo in the new style, about every minute
    stop            present: the training stops at its next step (Stop, from any process)
    lock            held while a process trains it

Nothing is written under the style's own name until the network is published, at the end
or at Stop (which keeps the best network so far); a stopped or interrupted job resumes from
its last checkpoint.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from styler.errors import OptionsError
from styler.fast import user_styles
from styler.fast.manifest import sha256_of, user_styles_dir, weights_dir
from styler.fast.photo_files import IMAGE_SUFFIXES, image_files
from styler.fast.user_styles import check_free_space, check_name
from styler.imageio import ImageLoadError, atomic_write_bytes, load_image

JOBS = ".training"
STOP_FILE = "stop"  # in a job's folder: its process stops at its next step
MIN_PHOTOS = 20
PREVIEW_EVERY_S = 60.0
DISTANCE_PHOTOS = 4  # validation photos the published style's distances are measured on
FINE_TUNE_STEPS = 100_000  # a time-budgeted run's step limit: the budget ends it first
VAL_COUNT = 8  # validation crops per evaluation (fewer than `styler train`'s: a quick loop)
# Test-only: a JSON object of TrainConfig fields (crop, steps, eval_every, ...) plus the
# JobSpec fields preview_s, step_delay_s and distance_photos, for every job prepared while
# it is set.
OVERRIDES_ENV = "STYLER_TRAINING_OVERRIDES"

QUEUED, RUNNING, STOPPED, INTERRUPTED, DONE, FAILED = (
    "queued", "running", "stopped", "interrupted", "done", "failed")  # fmt: skip
RESUMABLE = (STOPPED, INTERRUPTED, FAILED)


class JobError(OptionsError):
    """A job's inputs or state do not allow what was asked: one line saying why."""


@dataclass
class JobSpec:
    """What a job trains; job.json."""

    name: str
    painting: str  # the copy in the job folder
    data: str  # folder of training photos
    val: str  # folder of validation photos
    minutes: float
    base: str
    preview_photo: str
    painting_name: str = ""  # the file name the painting had
    settings: dict[str, Any] = field(default_factory=dict)  # TrainConfig fields to override
    preview_s: float = PREVIEW_EVERY_S
    step_delay_s: float = 0.0  # test-only: a pause per step, so a browser can follow
    distance_photos: int = DISTANCE_PHOTOS


@dataclass
class JobStatus:
    """How far a job got; status.json."""

    name: str
    state: str = QUEUED
    step: int = 0
    done: float = 0.0  # share of the time budget (or steps) behind it
    elapsed: float = 0.0  # seconds trained
    minutes: float = 0.0
    loss: float | None = None
    best_val: float | None = None
    previews: int = 0  # previews written so far (the latest is previews/latest.png)
    message: str = ""
    distances: dict[str, float] = field(default_factory=dict)


def jobs_dir() -> Path:
    return user_styles_dir() / JOBS


def job_dir(name: str) -> Path:
    return jobs_dir() / name


def read_spec(folder: Path) -> JobSpec:
    return JobSpec(**json.loads((folder / "job.json").read_text()))


def read_status(folder: Path) -> JobStatus:
    """The job's last written status; a job that never wrote one is queued."""
    try:
        return JobStatus(**json.loads((folder / "status.json").read_text()))
    except (OSError, ValueError, TypeError):
        return JobStatus(name=folder.name)


def write_status(folder: Path, status: JobStatus) -> None:
    atomic_write_bytes(folder / "status.json", json.dumps(asdict(status)).encode())


def list_jobs() -> list[JobStatus]:
    """Every job with a folder, by name."""
    folder = jobs_dir()
    if not folder.is_dir():
        return []
    return [read_status(p) for p in sorted(folder.iterdir()) if (p / "job.json").is_file()]


def training_overrides() -> dict[str, Any]:
    """STYLER_TRAINING_OVERRIDES as a dict (test-only), or {}."""
    raw = os.environ.get(OVERRIDES_ENV, "").strip()
    return json.loads(raw) if raw else {}


def check_painting(path: str | Path | None) -> Path:
    """The painting's path, or JobError naming the file and why it cannot be used."""
    if not path:
        raise JobError("add the painting to learn the style from")
    try:
        load_image(path)
    except ImageLoadError as exc:
        raise JobError(f"that painting cannot be used: {exc}") from exc
    return Path(path)


def readable_photos(paths: Sequence[str | Path]) -> tuple[list[Path], list[str]]:
    """(the photos that decode, one line for each that does not)."""
    good, bad = [], []
    for path in paths:
        try:
            load_image(path)
            good.append(Path(path))
        except ImageLoadError as exc:
            bad.append(str(exc))
    return good, bad


def distinct_files(paths: Sequence[str | Path]) -> tuple[list[Path], int]:
    """(each file once, by its bytes, in the order given; how many repeats were left out).
    A photo dropped twice (the same upload again after an error) must neither count twice
    towards MIN_PHOTOS nor weigh twice in the training."""
    seen: set[str] = set()
    distinct = []
    for path in paths:
        digest = sha256_of(Path(path)) if Path(path).is_file() else str(path)
        if digest not in seen:
            seen.add(digest)
            distinct.append(Path(path))
    return distinct, len(paths) - len(distinct)


def check_photos(paths: Sequence[str | Path]) -> list[Path]:
    """The distinct photos that decode, or JobError when fewer than MIN_PHOTOS do."""
    distinct, repeats = distinct_files(paths)
    good, bad = readable_photos(distinct)
    if len(good) < MIN_PHOTOS:
        unreadable = f" ({len(bad)} could not be read: {bad[0]})" if bad else ""
        repeated = f" ({repeats} repeated another photo)" if repeats else ""
        raise JobError(
            f"training needs at least {MIN_PHOTOS} different photos that can be read, got "
            f"{len(good)}{unreadable}{repeated}; the photos you mean to stylize work best"
        )
    return good


def folder_photos(folder: str | Path) -> list[Path]:
    """The image files directly in `folder`, or JobError for a missing or empty folder."""
    try:
        return image_files(folder)
    except FileNotFoundError as exc:
        raise JobError(str(exc)) from exc


def prepare(
    name: str, painting: str | Path | None, photos: Sequence[str | Path] | str | Path, *,
    minutes: float, val: str | Path | None = None, base: str | Path | None = None,
    settings: dict[str, Any] | None = None,
) -> Path:  # fmt: skip
    """Check everything, then make the job's folder in one rename; returns it.

    `photos` is a folder (used where it is) or a list of files (copied in: uploads vanish).
    Without `val` the first training photos are the validation photos too: a style made for
    an artist's own photos is measured on them. A name that cannot be used, a painting that
    is not an image, too few readable photos or a full disk raise one line, and leave
    nothing behind.
    """
    name = check_name(name)
    if not minutes > 0:
        raise JobError(f"the time budget must be more than 0 minutes, got {minutes}")
    target = job_dir(name)
    if (target / "job.json").is_file():
        raise JobError(f"a training of {name!r} exists already ({current_state(target)}): "
                       "resume it, or delete it first")  # fmt: skip
    base = Path(base) if base else weights_dir() / "base.safetensors"
    if not base.is_file():
        raise JobError(f"the base network {base} is missing: reinstall styler, or give one")
    painting = check_painting(painting)
    listed = folder_photos(photos) if isinstance(photos, str | Path) else [Path(p) for p in photos]
    good = check_photos(listed)
    if val is not None:
        folder_photos(val)
    check_free_space()
    overrides = {**training_overrides(), **(settings or {})}
    copied = not isinstance(photos, str | Path)
    # A folder of this call's own: two requests for one name (a double-click on Train) each
    # stage theirs, and the second's rename finds the first's job there.
    try:
        jobs_dir().mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=jobs_dir()))
    except OSError as exc:
        raise JobError(f"could not set up the training of {name!r}: "
                       f"{exc.strerror or exc}") from exc  # fmt: skip
    try:
        if copied:
            good = _copy_photos(good, staging / "photos")
        painting_copy = staging / f"painting{painting.suffix.lower() or '.png'}"
        shutil.copyfile(painting, painting_copy)
        data = target / "photos" if copied else Path(photos).resolve()
        spec = JobSpec(
            name=name, painting=str(target / painting_copy.name), data=str(data),
            val=str(Path(val).resolve()) if val is not None else str(data),
            minutes=float(minutes),
            base=str(base.resolve()),
            preview_photo=str(data / good[0].name), painting_name=painting.name,
            preview_s=float(overrides.pop("preview_s", PREVIEW_EVERY_S)),
            step_delay_s=float(overrides.pop("step_delay_s", 0.0)),
            distance_photos=int(overrides.pop("distance_photos", DISTANCE_PHOTOS)),
            settings=overrides,
        )  # fmt: skip
        atomic_write_bytes(staging / "job.json", json.dumps(asdict(spec), indent=2).encode())
        write_status(staging, JobStatus(name=name, minutes=spec.minutes))
        try:
            staging.rename(target)
        except OSError:
            if (target / "job.json").is_file():
                raise JobError(f"a training of {name!r} exists already "
                               f"({current_state(target)})") from None  # fmt: skip
            raise
    except BaseException as exc:
        shutil.rmtree(staging, ignore_errors=True)
        if isinstance(exc, OSError):
            raise JobError(f"could not set up the training of {name!r}: "
                           f"{exc.strerror or exc}") from exc  # fmt: skip
        raise
    return target


def _copy_photos(photos: list[Path], folder: Path) -> list[Path]:
    """Copies under numbered names (uploads may share a name), in the order given."""
    folder.mkdir()
    copies = []
    for number, photo in enumerate(photos):
        suffix = photo.suffix.lower() if photo.suffix.lower() in IMAGE_SUFFIXES else ".png"
        copies.append(folder / f"{number:04d}{suffix}")
        shutil.copyfile(photo, copies[-1])
    return copies


def remove_job(name: str) -> None:
    """Forget a job and its files (not a published style); JobError while it trains."""
    folder = job_dir(name)
    with locked(folder) as free:
        if not free:
            raise JobError(f"the training of {name!r} is running: stop it first")
        shutil.rmtree(folder, ignore_errors=True)


def delete_style(name: str) -> None:
    """A user style and its training, both: a training left behind keeps its name taken
    (training the name again was refused). OptionsError where neither exists, JobError
    while it trains."""
    had_job = job_dir(name).is_dir()
    remove_job(name)
    try:
        user_styles.delete(name)
    except OptionsError:
        if not had_job:
            raise


def current_state(folder: Path) -> str:
    """The job's state, a 'running' one that no process trains (killed, its machine
    restarted) told as what it is: interrupted."""
    state = read_status(folder).state
    return INTERRUPTED if state == RUNNING and not is_running(folder) else state


def is_running(folder: Path) -> bool:
    """True while some process holds the job's lock (trains it)."""
    with locked(folder) as free:
        return not free


@contextlib.contextmanager
def locked(folder: Path) -> Iterator[bool]:
    """Hold the job's lock while the block runs; yields False (holding nothing) when another
    process holds it. Where the OS has no flock (Windows) the lock always looks free."""
    try:
        import fcntl
    except ImportError:
        yield True
        return
    if not folder.is_dir():
        yield True
        return
    with open(folder / "lock", "a+b") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        try:
            yield True
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def request_stop(name: str) -> None:
    """Ask the job's process to stop at its next step (it keeps the best network so far),
    or, while it starts, at its first."""
    folder = job_dir(name)
    if folder.is_dir():
        (folder / STOP_FILE).touch()


def clear_stop_request(folder: Path) -> None:
    """Forget a stop asked of an earlier run (one that ended, or died, before answering)."""
    (folder / STOP_FILE).unlink(missing_ok=True)
