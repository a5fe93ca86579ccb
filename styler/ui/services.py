"""What the UI's handlers share: the server's temporary folder, the engines, the style list.

Nothing here imports gradio. One `Services` object lives as long as the server; every
browser session uses it through the handlers.
"""

from __future__ import annotations

import contextlib
import itertools
import logging
import queue
import re
import shutil
import tempfile
import threading
import time
from collections import OrderedDict
from collections.abc import Hashable, Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from styler.controls import CONTROLS, FAST
from styler.device import device_type, resolve_device
from styler.engine import Engine, build_engine, shared_stylizer
from styler.fast.manifest import StyleEntry, installed_styles
from styler.image_sizes import scaled_size
from styler.progress import CancelToken
from styler.recipe import Recipe
from styler.ui.config import UIConfig
from styler.ui.state import LEFT_QUEUED, Histories, Notice, page_of
from styler.ui.timing import RunTimes
from styler.ui.trainings import Trainings

log = logging.getLogger("styler.ui")

KEEP_FILES_S = 24 * 3600  # results and batch zips older than this are deleted
PRUNE_EVERY_S = 600
THUMB_SIDE = 192  # long side of the style-grid thumbnails
THUMB_PHOTOS = ("chelsea.jpg", "coffee.jpg", "astronaut.jpg")  # first one found is used
KEEP_FAST_ENGINES = 32  # fast engines kept built: a style grid's worth, in a few settings


class Workspace:
    """The server's own temporary folder; everything it writes or serves lives under it.

    root/gradio     uploads and Gradio's file cache (GRADIO_TEMP_DIR)
    root/examples   Gradio's example cache (GRADIO_EXAMPLES_CACHE)
    root/results    finished images, one sub-folder per browser session
    root/thumbs     style-grid thumbnails
    root/work       batch and fusion inputs and outputs
    """

    def __init__(self, parent: Path | None = None) -> None:
        self.root = Path(tempfile.mkdtemp(prefix="styler-ui-", dir=parent)).resolve()
        for name in ("gradio", "examples", "results", "thumbs", "work"):
            (self.root / name).mkdir()
        self._counter = itertools.count(1)
        self._lock = threading.Lock()
        self._pruned = time.time()

    @property
    def gradio_dir(self) -> Path:
        return self.root / "gradio"

    @property
    def examples_dir(self) -> Path:
        return self.root / "examples"

    def new_path(self, folder: str, name: str) -> Path:
        """A fresh path root/folder/NNNN-name (folder may hold a session sub-folder)."""
        with self._lock:
            number = next(self._counter)
        directory = self.root / folder
        directory.mkdir(parents=True, exist_ok=True)
        return directory / f"{number:04d}-{safe_name(name)}"

    def new_dir(self, folder: str) -> Path:
        path = self.new_path(folder, "job")
        path.mkdir()
        return path

    def contains(self, path: str | Path) -> bool:
        return Path(path).resolve().is_relative_to(self.root)

    def cleanup(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)

    def prune(self, max_age: float = KEEP_FILES_S, every: float = PRUNE_EVERY_S) -> int:
        """Delete results and batch work older than max_age (a long-running server's disk
        must not fill up); runs at most once per `every` seconds. Returns folders deleted."""
        now = time.time()
        with self._lock:
            if now - self._pruned < every:
                return 0
            self._pruned = now
        deleted = 0
        for folder in (self.root / "results", self.root / "work"):
            for job in folder.glob("*/*") if folder.name == "results" else folder.glob("*"):
                with contextlib.suppress(OSError):
                    if job.is_dir() and now - job.stat().st_mtime > max_age:
                        shutil.rmtree(job, ignore_errors=True)
                        deleted += 1
        return deleted


def safe_name(name: str, limit: int = 80) -> str:
    """A file name safe on every system: no folders, no odd characters, not empty."""
    name = Path(name.replace("\\", "/")).name
    cleaned = re.sub(r"[^A-Za-z0-9._+-]+", "_", name).strip("._") or "image"
    if len(cleaned) > limit:
        stem, dot, suffix = cleaned.rpartition(".")
        cleaned = (stem[: limit - len(suffix) - 1] + dot + suffix) if dot else cleaned[:limit]
    return cleaned


def devices(spec: str = "auto") -> list[str]:
    """The devices jobs run on: every CUDA GPU for 'auto' when there are several. PyTorch is
    asked only where a GPU may be there (styler.device.device_type), so a CPU server starts
    without importing it (its prewarm loads it once the page is up)."""
    if device_type(spec) == "cpu":
        return ["cpu"]
    import torch

    if spec == "auto" and torch.cuda.is_available() and torch.cuda.device_count() > 1:
        return [f"cuda:{i}" for i in range(torch.cuda.device_count())]
    return [str(resolve_device(spec))]


@dataclass(frozen=True)
class FastStyle:
    """A shipped style as the UI shows it."""

    name: str
    caption: str  # 'The Starry Night — Vincent van Gogh, 1889'
    title: str  # 'The Starry Night': fits under a thumbnail
    thumb: Path | None


class Engines:
    """The engines jobs run on, all built by styler.engine from a Recipe, on the server's
    devices and with its pixel limit. Fast engines are kept (LRU), as their passes take less
    time than loading a network; others are built per job (their style images differ);
    optimizer mode's VGG19 is the engine's shared one per device.

    Jobs take a device slot with `slot()`; with more slots than devices (--concurrency above
    the device count) jobs share a device, and its engine serialises their steps.
    """

    def __init__(self, device_list: list[str], slots: int, max_pixels: int) -> None:
        self.devices = device_list
        self.max_pixels = max_pixels
        self._free: queue.Queue[int] = queue.Queue()
        for index in range(slots):
            self._free.put(index % len(device_list))
        self._fast: OrderedDict[Hashable, Engine] = OrderedDict()
        self._fast_lock = threading.Lock()

    @contextlib.contextmanager
    def slot(self) -> Iterator[int]:
        index = self._free.get()
        try:
            yield index
        finally:
            self._free.put(index)

    def build(self, recipe: Recipe, index: int = 0, *, previews: int = 0) -> Engine:
        """The recipe's engine on device `index` (previews: see build_engine)."""
        return build_engine(recipe, device=self.devices[index], max_pixels=self.max_pixels,
                            previews=previews)  # fmt: skip

    def fast(self, recipe: Recipe, index: int = 0) -> Engine:
        """A fast-mode recipe's engine, kept for the next job with the same recipe (one with
        painted regions, which differ every time, is built for its job alone)."""
        if recipe.regions:
            return self.build(recipe, index)
        key = (recipe.styles, recipe.blend, tuple(sorted(recipe.controls.items())), index)
        with self._fast_lock:
            if key in self._fast:
                self._fast.move_to_end(key)
                return self._fast[key]
            engine = self._fast[key] = self.build(recipe, index)
            while len(self._fast) > KEEP_FAST_ENGINES:
                self._fast.popitem(last=False)
            return engine

    def forget_fast(self) -> None:
        """Drop the kept fast engines: a style of that name may now be another network."""
        with self._fast_lock:
            self._fast.clear()

    def prewarm(self, index: int = 0) -> None:
        """Load optimizer mode's VGG19 on device `index` (every Quality engine there shares
        it), so the first Quality run does not wait for it."""
        shared_stylizer(self.devices[index], CONTROLS["vgg"].default, self.max_pixels)


class Services:
    """The server-wide state: configuration, workspace, engines, styles, running jobs."""

    def __init__(self, config: UIConfig, workspace: Workspace | None = None) -> None:
        self.config = config
        self.workspace = workspace or Workspace(config.temp_dir)
        device_list = devices(config.device)
        self.concurrency = config.concurrency or len(device_list)
        self.engines = Engines(device_list, self.concurrency, config.max_upload_pixels)
        self._cancel: dict[str, set[CancelToken]] = {}
        # per session: the (history, tab) of each of its jobs waiting in the queue
        self._queued: dict[str, list[tuple[str, str]]] = {}
        self._cancel_lock = threading.Lock()
        self._cancel_ended = threading.Condition(self._cancel_lock)  # a cancellable block ended
        self.histories = Histories()
        self.timings = RunTimes()  # the runs measured here: what the next should take
        # per session: the clip, output name and part a stopped Video run was of, where its
        # journal is and the clip file's time then (styler.ui.video_runs), for the next run
        # of them to go on from
        self.stopped_clips: dict[str, tuple[tuple[object, ...], Path, int]] = {}
        self.styles: list[FastStyle] = []
        self.style_problems: list[str] = []
        self._style_files: set[tuple[str, str]] = set()
        self._trainings: Trainings | None = None
        self._styles_lock = threading.Lock()
        self.refresh_styles()

    @property
    def trainings(self) -> Trainings:
        """The Make a style tab's queue, started on first use (it finds earlier jobs)."""
        with self._cancel_lock:
            if self._trainings is None:
                self._trainings = Trainings(on_published=lambda _name: self.refresh_styles())
            return self._trainings

    def stop_trainings(self) -> None:
        """At server stop: a running training stops, keeping its best network and checkpoint."""
        if self._trainings is not None:
            self._trainings.close()

    # ------------------------------------------------------------------------------- styles

    def refresh_styles(self) -> None:
        """Read the manifests (shipped and the user's own styles) and make a thumbnail of each
        style from a gallery photo."""
        with self._styles_lock:
            self._refresh_styles()

    def _refresh_styles(self) -> None:
        try:
            entries = installed_styles()
        except Exception as exc:  # a broken manifest must not stop the server: Quality still works
            self.style_problems = [str(exc)]
            entries = []
        files = {(e.name, e.sha256) for e in entries}
        if files != self._style_files:  # a style replaced or deleted: no engine may keep it
            self.engines.forget_fast()
            self._style_files = files
        photo = self._thumb_photo()
        styles: list[FastStyle] = []
        for entry in entries:
            if not entry.path.is_file():
                self.style_problems.append(f"{entry.name}: network file {entry.file} is missing")
                continue
            try:
                thumb = self._thumbnail(entry, photo)
            except Exception as exc:
                self.style_problems.append(f"{entry.name}: {exc}")
                continue
            styles.append(FastStyle(entry.name, entry.caption(), entry.title or entry.name, thumb))
        self.styles = styles

    def style_names(self) -> list[str]:
        return [s.name for s in self.styles]

    def style_caption(self, name: str) -> str:
        return next((s.caption for s in self.styles if s.name == name), name)

    def style_title(self, name: str) -> str:
        """A style's title ('The Starry Night'), where the UI names one in a few words."""
        return next((s.title for s in self.styles if s.name == name), name)

    def _thumb_photo(self) -> Image.Image:
        photos = {p.name: p for p in self.config.photos()}
        for name in THUMB_PHOTOS:
            if name in photos:
                with Image.open(photos[name]) as im:
                    rgb = im.convert("RGB")
                break
        else:  # no gallery: a plain gradient still shows each style's palette and texture
            y, x = np.mgrid[0:144, 0:192].astype(np.float32)
            rgb = Image.fromarray(np.dstack([x / 0.75, y * 1.5, 255 - x]).astype(np.uint8))
        return rgb.resize(scaled_size(rgb.size, THUMB_SIDE), Image.Resampling.LANCZOS)

    def _thumbnail(self, entry: StyleEntry, photo: Image.Image) -> Path:
        path = self.workspace.root / "thumbs" / f"{safe_name(entry.name)}-{entry.sha256[:12]}.jpg"
        if not path.is_file():
            self.engines.fast(Recipe.create(FAST, [entry.name])).run(photo).image.save(
                path, quality=90)
        return path

    # ------------------------------------------------------------------------- cancellation

    @contextlib.contextmanager
    def cancellable(self, session: str) -> Iterator[CancelToken]:
        """A token the session's Stop button can set while the block runs."""
        token = CancelToken()
        with self._cancel_lock:
            self._cancel.setdefault(session, set()).add(token)
        try:
            yield token
        finally:
            with self._cancel_lock:
                tokens = self._cancel.get(session, set())
                tokens.discard(token)
                if not tokens:
                    self._cancel.pop(session, None)
                self._cancel_ended.notify_all()

    def cancel(self, session: str) -> int:
        """Stop the session's running jobs; returns how many there were."""
        with self._cancel_lock:
            tokens = list(self._cancel.get(session, ()))
        for token in tokens:
            token.cancel()
        return len(tokens)

    def wait_stopped(self, session: str, timeout: float) -> bool:
        """Wait up to `timeout` seconds for the session's running jobs to end (after a
        cancel); True once none runs."""
        with self._cancel_lock:
            return self._cancel_ended.wait_for(lambda: session not in self._cancel, timeout)

    def queued(self, session: str, token: str, tab: str) -> None:
        """A job of the session (its page's history `token`, on `tab`) went into the queue."""
        self.histories.known(token)
        with self._cancel_lock:
            self._queued.setdefault(session, []).append((token, tab))

    def started(self, session: str) -> None:
        """A queued job of the session left the queue and runs."""
        with self._cancel_lock:
            waiting = self._queued.get(session, [])
            if waiting:
                waiting.pop(0)
            if not waiting:
                self._queued.pop(session, None)

    def withdraw(self, session: str) -> int:
        """Forget the session's queued jobs (the page cancels them); how many there were."""
        with self._cancel_lock:
            return len(self._queued.pop(session, []))

    def left(self, page: str) -> None:
        """The page `page` (its session hash) is gone: closed or reloaded. Gradio drops its
        queued jobs (its tabs' too: state.page_of), so the next page of each one's history
        is told it never ran; that page waits for the gone page's runs in flight."""
        with self._cancel_lock:
            mine = [s for s in self._queued if page_of(s) == page]
            waiting = [job for s in mine for job in self._queued.pop(s)]
        for token, tab in waiting:
            self.histories.tell(token, tab, Notice(LEFT_QUEUED[tab]))
        self.histories.left(page)

    def prewarm(self) -> threading.Thread:
        """Load VGG19 in the background so the first Quality run does not wait for it."""

        def load() -> None:
            try:
                self.engines.prewarm(0)
            except Exception as exc:  # reported again, readably, when a Quality run needs it
                log.warning("could not load the optimizer engine: %s", exc)

        thread = threading.Thread(target=load, name="styler-ui-prewarm", daemon=True)
        thread.start()
        return thread
