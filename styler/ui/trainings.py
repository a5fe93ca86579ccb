"""The server's trainings: one at a time, the others queued in order, each in a worker
process (styler.fast.style_worker) so Stylize runs never wait for it.

Nothing here imports gradio. Jobs live in the user styles folder (styler.fast.style_jobs),
so a job the server was running when it stopped is found again at start, as interrupted,
and can be resumed from its checkpoint.
"""

from __future__ import annotations

import logging
import os
import subprocess
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from styler.device import THREADS_ENV, usable_cores
from styler.fast import style_jobs
from styler.fast.style_jobs import (
    INTERRUPTED,
    QUEUED,
    RESUMABLE,
    RUNNING,
    JobError,
    JobStatus,
    job_dir,
    read_status,
    write_status,
)

log = logging.getLogger("styler.ui")


def training_threads() -> int:
    """A worker's torch threads: every core but one, which stays free for Stylize runs (the
    worker's lower priority alone does not stop a busy thread pool from slowing them)."""
    return max(1, usable_cores() - 1)


class Trainings:
    """The queue and its one running worker. `on_published(name)` runs (in the supervisor's
    thread) after a worker ends having published its style. The worker gets `threads` torch
    threads unless the server was started with STYLER_THREADS."""

    def __init__(self, on_published: Callable[[str], None], *, threads: int | None = None) -> None:
        self.on_published = on_published
        self.threads = threads or training_threads()
        self._waiting: list[str] = []
        self._running: str | None = None
        self._process: subprocess.Popen | None = None
        self._wake = threading.Condition()
        self._mark_interrupted()
        self._thread = threading.Thread(target=self._supervise, name="styler-ui-trainings",
                                        daemon=True)  # fmt: skip
        self._thread.start()

    def _mark_interrupted(self) -> None:
        """Jobs left queued or running by an earlier server: interrupted, resumable."""
        for status in style_jobs.list_jobs():
            folder = job_dir(status.name)
            if status.state in (QUEUED, RUNNING) and not style_jobs.is_running(folder):
                status.state = INTERRUPTED
                status.message = "interrupted (the server stopped): resume it to continue"
                write_status(folder, status)

    # ------------------------------------------------------------------------------ queue

    def submit(self, name: str) -> int:
        """Queue a prepared (or resumable) job; returns its place (0: it runs now)."""
        with self._wake:
            if name == self._running or name in self._waiting:
                raise JobError(f"the training of {name!r} is already queued or running")
            status = read_status(job_dir(name))
            if status.state not in (QUEUED, *RESUMABLE):
                raise JobError(f"the training of {name!r} is {status.state}: nothing to resume")
            status.state, status.message = QUEUED, ""
            write_status(job_dir(name), status)
            style_jobs.clear_stop_request(job_dir(name))  # asked of an earlier run
            self._waiting.append(name)
            self._wake.notify_all()
            return self.place(name)

    def place(self, name: str) -> int | None:
        """0 while it runs, N when N trainings go before it, None when not queued."""
        with self._wake:  # a re-entrant lock: submit() asks while holding it
            if name == self._running:
                return 0
            if name in self._waiting:
                return self._waiting.index(name) + (self._running is not None)
            return None

    def active(self) -> list[str]:
        """The running training, then the queued ones in their order: what every page of
        the server shows, whichever page started them."""
        with self._wake:
            return [*([self._running] if self._running else []), *self._waiting]

    def stop(self, name: str) -> str:
        """Stop a running training (it keeps the best network so far) or withdraw a queued
        one; returns what happened, in a few words."""
        with self._wake:
            if name in self._waiting:
                self._waiting.remove(name)
                status = read_status(job_dir(name))
                status.state, status.message = style_jobs.STOPPED, "withdrawn from the queue"
                write_status(job_dir(name), status)
                return "withdrawn"
            if name == self._running:
                style_jobs.request_stop(name)
                return "stopping"
        return "not running"

    def status(self, name: str) -> JobStatus:
        return read_status(job_dir(name))

    # ------------------------------------------------------------------------- supervisor

    def _supervise(self) -> None:
        while True:
            with self._wake:
                while not self._waiting:
                    self._wake.wait()
                name = self._waiting.pop(0)
                self._running = name
            try:
                self._run_worker(name)
            except Exception as exc:  # the next job must still run
                log.warning("training %s failed to start: %s", name, exc)
            finally:
                with self._wake:
                    self._running, self._process = None, None
            status = read_status(job_dir(name))
            if status.state in (style_jobs.DONE, style_jobs.STOPPED) and status.distances:
                self.on_published(name)

    def _run_worker(self, name: str) -> None:
        env = dict(os.environ)
        env.setdefault(THREADS_ENV, str(self.threads))
        folder = job_dir(name)
        with open(folder / "worker.log", "ab") as output:
            process = subprocess.Popen(
                [sys.executable, "-m", "styler.fast.style_worker", name], env=env,
                stdout=output, stderr=output, cwd=Path.cwd(),
            )  # fmt: skip
            with self._wake:
                self._process = process
            process.wait()
        status = read_status(folder)
        if status.state in (QUEUED, RUNNING):  # the worker died before it could say so
            status.state = INTERRUPTED
            status.message = f"the training process ended unexpectedly (exit {process.returncode})"
            write_status(folder, status)

    def close(self) -> None:
        """Stop the running worker (it keeps its best network and checkpoint). The queued
        ones stay queued on disk, unstarted (the next server lists them as interrupted): a
        worker started as the server exits would train on with no server to stop it."""
        with self._wake:
            self._waiting.clear()
            process, name = self._process, self._running
        if process is not None and name is not None:
            style_jobs.request_stop(name)
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
