"""Serving the app safely: the server's own temporary folder, the only files it serves
(that folder and the sample gallery), upload limits, and a clean stop that deletes them."""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import os
import signal
import threading
import time
from dataclasses import dataclass
from importlib import resources

import gradio as gr

from styler.onnx_models import prefer_lean_memory
from styler.ui.app import build
from styler.ui.config import UIConfig
from styler.ui.services import Services, Workspace

M_ARENA_MAX = -8  # glibc's mallopt parameter: how many heaps threads may spread over
SHARED_HEAPS = 2

CSS = resources.files("styler.ui").joinpath("style.css").read_text(encoding="utf-8")


@dataclass
class Server:
    """A running app: its address, and how to stop it (which also deletes its files)."""

    demo: gr.Blocks
    services: Services
    url: str

    def close(self) -> None:
        self.services.stop_trainings()
        self.demo.close(verbose=False)
        self.services.workspace.cleanup()

    def wait(self) -> None:
        """Until the server stops, Ctrl-C or SIGTERM (a service manager's stop); both return
        normally, so the caller's close() deletes the temporary folder."""
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _interrupt) if main else None
        try:
            with contextlib.suppress(KeyboardInterrupt):
                while self.demo.is_running:
                    time.sleep(0.2)
        finally:
            if main:
                signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def share_heaps() -> None:
    """Let the server's threads share SHARED_HEAPS malloc heaps, not one each.

    Gradio runs requests on many threads. glibc gives each of them a heap of its own, and
    memory freed in one heap is not reused by the others, so resident memory grew with every
    thread that once handled a large image (docs/performance.md). A MALLOC_ARENA_MAX set by
    the person running the server wins; other C libraries have nothing to tune."""
    if os.environ.get("MALLOC_ARENA_MAX"):
        return
    try:
        libc = ctypes.CDLL("libc.so.6")
        libc.mallopt(M_ARENA_MAX, SHARED_HEAPS)
    except (OSError, AttributeError):  # not glibc
        return


def serve(config: UIConfig, *, block: bool = True) -> Server:
    """Build and launch; with block=False return at once, the server running in a thread."""
    workspace = Workspace(config.temp_dir)
    # Gradio keeps uploads and its file cache here; set before anything is built.
    os.environ["GRADIO_TEMP_DIR"] = str(workspace.gradio_dir)
    os.environ["GRADIO_EXAMPLES_CACHE"] = str(workspace.examples_dir)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    atexit.register(workspace.cleanup)
    prefer_lean_memory()  # a server lives long: memory of one large run goes back after it
    share_heaps()
    services = Services(config, workspace)
    demo = build(services)
    demo.queue(default_concurrency_limit=services.concurrency, max_size=64)
    allowed = [str(workspace.root)]
    if config.gallery.is_dir():
        allowed.append(str(config.gallery.resolve()))
    demo.launch(
        server_name=config.host,
        server_port=config.port,
        prevent_thread_lock=True,
        inbrowser=config.open_browser,
        allowed_paths=allowed,
        max_file_size=config.max_upload_bytes,
        show_error=False,
        quiet=True,
        ssr_mode=False,
        css=CSS,
        theme=gr.themes.Soft(),
        footer_links=["api"],
    )
    if config.prewarm:  # PyTorch and VGG19 load once the page can be served, not before it
        services.prewarm()
    server = Server(demo=demo, services=services, url=demo.local_url or "")
    if block:
        try:
            server.wait()
        finally:
            server.close()
    return server
