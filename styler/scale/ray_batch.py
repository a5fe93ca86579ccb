"""`styler stylize ... --engine ray`: the local batch, run on a Ray cluster with Ray Data.

The driver plans as the local engine does (styler.batch.make_plan, or storage.plan_any for URLs)
and streams the jobs, one small row each (index, input, output), through a pool of actors
(`ray.data.Dataset.map_batches` with an ActorPoolStrategy). Each actor builds the engine
once from the recipe with styler.engine.build_engine (models loaded once per actor; a GPU per actor
where the cluster has GPUs), then for each row runs the local engine's per-file step
(styler.batch): it reads the photo from storage every node sees, stylizes it and writes the
result itself, atomically. Images never go through the driver or the object store, so
memory stays bounded however large the library.
Only a row per photo comes back (outcome and failure line), for the progress bar, the
summary and the caller's BatchEvents (the CLI prints paths and error lines from them).

When an actor dies, Ray Data retries its task on another; the photos the dead actor had
finished come back from a ledger actor instead of being redone, the driver counts each
photo once, by its index, and the atomic writes mean a final name only ever holds a whole
file. Ray is imported only here, and only when the engine is used (docs/ray.md).
"""

from __future__ import annotations

import contextlib
import logging
import numbers
import os
import re
import shutil
import socket
import sys
import tempfile
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from styler import batch as engine
from styler.batch import BatchEvents, Job, Summary, failure_reason, runs_as_clip
from styler.controls import FAST
from styler.engine import build_engine
from styler.errors import InvalidOption, StylerError, debug_enabled, set_debug
from styler.fast.inference import network_file
from styler.imageio import checked_quality
from styler.recipe import Recipe
from styler.scale import storage
from styler.video.span import Span
from styler.wording import counted

INSTALL_HINT = "--engine ray needs Ray: pip install 'styler[ray]'"
# Photos per Ray Data task. Each task costs Ray Data a fixed overhead on the driver
# (docs/ray.md, Figures), so fast mode, whose photos take milliseconds, sends several per
# task, keeping at least TASKS_PER_ACTOR tasks per actor for balance; optimizer mode, whose
# photos take seconds, sends one. A task retried after its actor died redoes none of the
# photos the dead actor finished: the ledger (_Ledger) hands back their results.
PHOTOS_PER_TASK = {FAST: 16}
TASKS_PER_ACTOR = 4
MAX_TASKS = 20_000  # past this many, tasks grow: the driver holds an object per task


class ClusterError(StylerError):
    """The Ray job itself failed (the cluster went away, say), not one photo."""


class RayUnavailable(StylerError):
    """Ray is not installed, or the cluster cannot be joined or cannot hold the pool."""


class EngineNotBuilt(StylerError):
    """An actor could not build the engine (a network or style file its node lacks, say):
    nothing can run, for a reason that is not Ray's."""


class RemoteFailure(Exception):
    """A photo's failure on an actor, as BatchEvents.failed hears of it: `trace` is its
    traceback in debug mode, else ''."""

    def __init__(self, line: str, trace: str) -> None:
        super().__init__(line)
        self.trace = trace


def import_ray() -> Any:
    """The ray module with Ray Data, or RayUnavailable saying how to install it."""
    try:
        import ray
        import ray.data  # noqa: F401  # the [data] extra: pyarrow, pandas
    except ImportError as exc:
        raise RayUnavailable(INSTALL_HINT) from exc
    return ray


@dataclass(frozen=True)
class RayOptions:
    """How to run on Ray, beyond what to compute (the job) and which files (the plan)."""

    address: str | None = None  # None: RAY_ADDRESS, else a new local Ray; or 'auto', host:port
    actors: int | None = None  # None: one per GPU of the cluster, else one per CPU
    quality: int = 95
    skip_existing: bool = False
    quiet: bool = False  # no progress bar
    span: Span | None = None  # clips: only this part of each (styler.video.span)
    # How a failure's reason is worded on the actors (the CLI names flags, points to --debug).
    describe: Callable[[BaseException], str] = failure_reason

    def __post_init__(self) -> None:
        actors = self.actors
        whole = isinstance(actors, numbers.Integral) and not isinstance(actors, bool)
        if actors is not None and not (whole and actors >= 1):
            raise InvalidOption("actors", actors, "a whole number, at least 1")
        # frozen: as plain ints, numpy's included (they travel to the actors)
        object.__setattr__(self, "quality", checked_quality(self.quality))
        object.__setattr__(self, "actors", None if actors is None else int(actors))


@dataclass
class Done:
    """What an actor reports for one photo."""

    index: int
    outcome: str  # stylized, skipped, failed, or fatal (the actor could not build the engine)
    message: str = ""  # the failure line, or why the engine could not be built
    notes: str = ""  # the local engine's notes on the file, one per line
    trace: str = ""  # the failure's traceback, in debug mode
    node: str = ""  # the actor: its Ray node's id (first 8 digits) and process, 'id:pid'
    seconds: float = 0.0  # time in the actor, from reading the photo to its file written
    finished: float = 0.0  # when it was done, time.time() on the actor's node


class _Recorder(engine.BatchEvents):
    """The engine batch's events inside an actor: failures worded as the caller words them,
    the traceback kept for debug mode; the driver hands them to the caller's events."""

    trace = ""

    def __init__(self, describe: Callable[[BaseException], str]) -> None:
        self.describe = describe  # type: ignore[method-assign]

    def failed(self, job: Job, failure: str, exc: BaseException) -> None:
        self.trace = "".join(traceback.format_exception(exc)) if debug_enabled() else ""


class _Ledger:
    """A Ray actor that remembers the photos the pool finished and the driver has not yet
    received, with their results: a task retried after its actor died hands those back
    instead of stylizing them again; only the photo in flight is redone."""

    def __init__(self) -> None:
        self.done: dict[int, dict[str, Any]] = {}

    def finished(self, indices: list[int]) -> dict[int, dict[str, Any]]:
        return {i: self.done[i] for i in indices if i in self.done}

    def record(self, index: int, result: dict[str, Any]) -> None:
        self.done[index] = result

    def forget(self, indices: list[int]) -> None:
        """The driver has these: memory stays bounded however large the batch."""
        for index in indices:
            self.done.pop(index, None)


class StylizeActor:
    """One per actor of the pool: builds the recipe's engine once (styler.engine), then runs
    the local engine's own per-file step (styler.batch.Batch.attempt) row by row."""

    def __init__(self, recipe: Recipe, options: RayOptions, cwd: str, debug: bool,
                 ledger: Any) -> None:  # fmt: skip
        import ray

        set_debug(debug)
        self.ray, self.ledger = ray, ledger
        self.node = f"{ray.get_runtime_context().get_node_id()[:8]}:{os.getpid()}"
        self.skip_existing = options.skip_existing
        self.describe = options.describe
        self.events = _Recorder(options.describe)
        self.fatal = ""
        try:
            if os.path.isdir(cwd):  # relative paths mean what they meant to the driver
                os.chdir(cwd)
            built = build_engine(recipe)
        except Exception as exc:  # reported with the first row; the driver stops there
            self.fatal = options.describe(exc)
            return
        self.batch = engine.Batch(built, quality=options.quality,
                                  skip_existing=options.skip_existing,
                                  events=self.events, span=options.span)  # fmt: skip

    def __call__(self, batch: dict[str, Any]) -> dict[str, list]:
        indices = [int(i) for i in batch["index"]]
        known = {} if self.fatal else self.ray.get(self.ledger.finished.remote(indices))
        done = []
        for index, source, output in zip(indices, batch["source"], batch["output"],
                                         strict=True):  # fmt: skip
            if index in known:  # finished by an actor that died before its task returned
                done.append(Done(**known[index]))
                continue
            done.append(self._one(index, str(source), str(output)))
            if done[-1].outcome != "fatal":
                self.ledger.record.remote(index, asdict(done[-1]))
        return {name: [getattr(d, name) for d in done] for name in Done.__dataclass_fields__}

    def _one(self, index: int, source: str, output: str) -> Done:
        if self.fatal:
            return Done(index, "fatal", self.fatal, node=self.node)
        start = time.perf_counter()
        summary = Summary()
        self.events.trace = ""
        if storage.is_url(source) or storage.is_url(output):
            self._remote(source, output, summary)
        else:
            self.batch.attempt(Job(Path(source), Path(output)), summary)
        outcome = ("failed" if summary.failures else "stylized" if summary.stylized
                   else "skipped")  # fmt: skip
        return Done(index, outcome, "".join(summary.failures), "\n".join(summary.notes),
                    self.events.trace, self.node, time.perf_counter() - start,
                    time.time())  # fmt: skip

    def _remote(self, source: str, output: str, summary: Summary) -> None:
        """A job with URLs: the engine's step on local copies (the input fetched, the output
        written into a temporary folder, then published), messages naming the URLs."""
        folder = Path(tempfile.mkdtemp(prefix="styler-ray-"))
        local = folder / "out" / output.rsplit("/", 1)[-1] if storage.is_url(output) else (
            Path(output))  # fmt: skip
        names = {str(local): output}
        try:
            if self.skip_existing and storage.is_url(output) and storage.exists(output):
                storage.fetch(output, local)
                if engine.is_complete(local):
                    summary.skipped += 1
                    return
            photo = folder / "in" / source.rsplit("/", 1)[-1] if storage.is_url(source) else (
                Path(source))  # fmt: skip
            names[str(photo)] = source
            if storage.is_url(source):
                storage.fetch(source, photo)
            self.batch.attempt(Job(photo, local), summary)
            if summary.stylized and storage.is_url(output):
                storage.publish(local, output)
        except Exception as exc:  # the store itself failed: that photo's failure
            summary.stylized = 0
            summary.failures.append(engine.failure_line(Path(source), exc, self.describe))
        finally:
            shutil.rmtree(folder, ignore_errors=True)
        for texts in (summary.failures, summary.notes):
            for local_name, url in names.items():
                texts[:] = [text.replace(local_name, url) for text in texts]


def run_planned(
    recipe: Recipe,
    jobs: Sequence[Job],
    summary: Summary,
    *,
    options: RayOptions,
    events: BatchEvents | None = None,
    on_done: Callable[[Done], None] | None = None,
) -> Summary:
    """Stylize every planned job on the cluster, counting into `summary` as the local engine
    counts; `events` hears of each photo as the local batch's would (written, skipped,
    failed with a RemoteFailure, notes), on_done of each actor's report."""
    if recipe.mode == FAST:  # an unknown style name is known here, before Ray starts
        for style in recipe.styles:
            network_file(style)
    if not (options.address or os.environ.get("RAY_ADDRESS")):
        # A Ray of this command's own lives and dies with it: nobody joins it, so it listens
        # on 127.0.0.1 only (Ray reads this switch when it is first imported).
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    ray = import_ray()
    started = _connect(ray, options.address)
    try:
        resources, actors = _actor_resources(ray, recipe.controls["device"], options.actors,
                                             len(jobs))  # fmt: skip
        clips = any(runs_as_clip(job) for job in jobs)  # one clip a task: minutes each
        per_task = 1 if clips else photos_per_task(recipe.mode, len(jobs), actors)
        rows = [{"index": i, "source": os.fspath(j.source), "output": os.fspath(j.output)}
                for i, j in enumerate(jobs)]  # fmt: skip
        dataset = ray.data.from_items(rows, override_num_blocks=-(-len(rows) // per_task))
        ledger = ray.remote(num_cpus=0, max_restarts=-1)(_Ledger).remote()
        results = dataset.map_batches(
            StylizeActor,
            batch_size=per_task,
            batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=actors),
            fn_constructor_args=(recipe, options, os.getcwd(), debug_enabled(), ledger),
            **resources,
        )
        with _ray_notices_on_stderr():
            return _collect(results, jobs, summary, options, actors,
                            events or BatchEvents(), on_done, ledger)  # fmt: skip
    finally:
        if started:
            ray.shutdown()


def photos_per_task(mode: str, photos: int, actors: int) -> int:
    """How many photos one Ray Data task carries (see PHOTOS_PER_TASK)."""
    wanted = min(PHOTOS_PER_TASK.get(mode, 1), photos // (actors * TASKS_PER_ACTOR))
    return max(1, wanted, -(-photos // MAX_TASKS))


def _collect(results: Any, jobs: Sequence[Job], summary: Summary, options: RayOptions,
             actors: int, events: BatchEvents, on_done: Callable[[Done], None] | None,
             ledger: Any) -> Summary:  # fmt: skip
    """Count each photo once as its row streams back; errors in plan order at the end."""
    seen = bytearray(len(jobs))
    failures: dict[int, str] = {}
    bar = tqdm(total=len(jobs), desc="images", unit="img", disable=options.quiet,
               dynamic_ncols=True, postfix=f"{actors} actor{'s' * (actors != 1)}")  # fmt: skip
    try:
        with bar:
            for batch in results.iter_batches(batch_size=None, batch_format="numpy"):
                rows = [Done(**{name: _plain(batch[name][i]) for name in batch})
                        for i in range(len(batch["index"]))]  # fmt: skip
                ledger.forget.remote([done.index for done in rows])
                for done in rows:
                    if done.outcome == "fatal":
                        raise EngineNotBuilt(done.message)
                    if seen[done.index]:
                        continue  # a retried task's repeat
                    seen[done.index] = 1
                    _count(done, jobs[done.index], summary, failures, events)
                    if on_done is not None:
                        on_done(done)
                    bar.update()
    except KeyboardInterrupt:
        summary.interrupted = True
    except StylerError:
        raise
    except Exception as exc:
        finished = sum(seen)
        raise ClusterError(
            f"the Ray job stopped after {finished} of {len(jobs)} photos: "
            f"{options.describe(exc)}; rerun with --skip-existing to resume"
        ) from exc
    summary.failures += [failures[i] for i in sorted(failures)]
    summary.not_done = len(jobs) - sum(seen)
    return summary


def _count(done: Done, job: Job, summary: Summary, failures: dict[int, str],
           events: BatchEvents) -> None:  # fmt: skip
    """One photo's outcome into the summary, and to the caller's events as the local batch
    tells them."""
    notes = done.notes.split("\n") if done.notes else []
    summary.notes += notes
    if done.outcome == "stylized":
        summary.stylized += 1
        summary.written.append(job.output)
    elif done.outcome == "skipped":
        summary.skipped += 1
        events.skipped(job)
    else:
        failures[done.index] = done.message
        events.failed(job, done.message, RemoteFailure(done.message, done.trace))
    for note in notes:
        events.note(job, note)
    if done.outcome == "stylized":
        events.written(job)


def _plain(value: Any) -> Any:
    """A numpy scalar from Ray Data as the Python value."""
    return value.item() if hasattr(value, "item") else value


def _connect(ray: Any, address: str | None) -> bool:
    """Join the cluster at `address` (or RAY_ADDRESS, or start a local Ray); False when the
    caller already connected this process, whose session is left open."""
    if ray.is_initialized():
        _quiet_ray_data()
        return False
    _check_reachable(address or os.environ.get("RAY_ADDRESS"))
    debug = debug_enabled()
    passed = {name: value for name, value in os.environ.items() if name.startswith("STYLER_")}
    try:
        with _core_logs_quiet(not debug):
            ray.init(
                address=address,
                logging_level=logging.DEBUG if debug else logging.WARNING,
                log_to_driver=debug,
                runtime_env={"env_vars": passed} if passed else None,
                **({} if address or os.environ.get("RAY_ADDRESS") else
                   {"include_dashboard": False}),  # fmt: skip
            )
    except (ConnectionError, ValueError, RuntimeError) as exc:
        where = address or os.environ.get("RAY_ADDRESS") or "a new local Ray"
        reason = " ".join(str(exc).split()) or type(exc).__name__
        raise RayUnavailable(f"cannot start or join Ray at {where}: {reason}") from exc
    _quiet_ray_data()
    return True


def _check_reachable(address: str | None, timeout: float = 5.0) -> None:
    """RayUnavailable where a cluster's 'host:port' (or 'ray://host:port') has nothing
    listening: ray.init waits on such an address for ever, without a word."""
    found = re.fullmatch(r"(?:ray://)?\[?([^\]\s]+?)\]?:(\d+)", (address or "").strip())
    if found is None:  # 'auto', 'local', none: Ray finds its own
        return
    try:
        with socket.create_connection((found.group(1), int(found.group(2))), timeout=timeout):
            return
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise RayUnavailable(f"cannot join Ray at {address}: nothing answers there ({reason}); "
                             "is its head running (ray start --head)?") from exc


@contextlib.contextmanager
def _core_logs_quiet(quiet: bool) -> Iterator[None]:
    """While ray.init runs: Ray's C++ core in this process logs only fatal errors (else it
    prints warnings meant for Ray's developers, about actors' arguments say, on stderr), and
    the line that announces this is dropped. Python errors still raise as usual."""
    if not quiet or "RAY_BACKEND_LOG_LEVEL" in os.environ:
        yield
        return
    sys.stderr.flush()
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.environ["RAY_BACKEND_LOG_LEVEL"] = "fatal"
    try:
        os.dup2(devnull, 2)
        yield
    finally:
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)
        del os.environ["RAY_BACKEND_LOG_LEVEL"]


@contextlib.contextmanager
def _ray_notices_on_stderr() -> Iterator[None]:
    """Ray prints its cluster notices ('Task ... failed ... will be retried', when a worker
    dies) on the driver's stdout, which holds the written paths and nothing else: while the
    batch runs they go to stderr with the other messages."""
    from ray._private import worker

    original = worker.print_to_stdstream

    def to_stderr(data: dict, ignore_prefix: bool) -> None:
        original({**data, "is_err": True}, ignore_prefix)

    worker.print_to_stdstream = to_stderr
    try:
        yield
    finally:
        worker.print_to_stdstream = original


def _quiet_ray_data() -> None:
    """Ray Data's own bars and INFO lines would tear ours: only its errors reach the console
    (the rest stays in the session's ray-data.log), except in debug mode."""
    import ray.data

    context = ray.data.DataContext.get_current()
    context.enable_progress_bars = False
    if debug_enabled():
        return
    for handler in logging.getLogger("ray.data").handlers:
        if type(handler) is not logging.FileHandler and isinstance(handler, logging.StreamHandler):
            handler.setLevel(logging.ERROR)


def _actor_resources(
    ray: Any, device: str, wanted: int | None, jobs: int
) -> tuple[dict[str, float], int]:
    """Ray resources of one actor and the pool size: a GPU each where the cluster has GPUs
    (unless --device cpu), else a CPU each, and one CPU per actor in any case. More actors
    than GPUs share them, 1/k of a GPU each (k actors per GPU), so a GPU's photos are
    decoded and encoded on k CPUs. Refuses a pool the cluster cannot hold, which Ray Data
    would otherwise wait for forever. No more actors than `jobs`: the extra ones would only
    start, load the models and idle, and Ray Data warns of a pool larger than its input."""
    total = ray.cluster_resources()
    gpus, cpus = int(total.get("GPU", 0)), int(total.get("CPU", 0))
    actors = wanted if wanted is not None else (gpus if gpus and device != "cpu" else cpus)
    if actors > cpus or actors < 1:
        raise RayUnavailable(
            f"--actors {actors}: the cluster has {counted(cpus, 'CPU')} "
            "for actors of one CPU each" + ("" if cpus else "; is every node started?")
        )
    actors = min(actors, max(1, jobs))
    if not gpus or device == "cpu":
        return {"num_cpus": 1.0}, actors
    return {"num_gpus": 1.0 / -(-actors // gpus), "num_cpus": 1.0}, actors
