"""Fixtures for the tests that drive a real UI server: the server process, Chromium, and a
browser page on the server. tests/conftest.py registers them; no test module imports this.

Whether a test can run is decided when it asks for a fixture, never at import: a test
module imported before Chromium is installed (tests/browser.py installs it on first use)
must not have fixed its skips already. `server` skips without gradio; `chromium`, and so
`browser` and `page`, skip without playwright or a Chromium, saying how to get one.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import ui_helpers
from browser import ensure_chromium
from ui_helpers import DESKTOP

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # A fake camera (a moving test pattern) and no permission prompt, for the webcam test.
    "--use-fake-device-for-media-stream",
    "--use-fake-ui-for-media-stream",
]
STEP_DELAY = 0.35  # s per optimizer step on the test server: previews are visible, Stop is in time
NEEDS_GRADIO = "gradio is not installed (pip install 'styler[ui]')"
NEEDS_PLAYWRIGHT = "playwright is not installed (pip install playwright)"

_chromium: tuple[str | None, str] | None = None  # (path, "") or (None, why not): once a run


def chromium_status(announce: Callable[[str], None] = lambda _line: None) -> tuple[str | None, str]:
    """Chromium's path, found or installed on the first call of a run, or why there is none."""
    global _chromium
    if _chromium is None:
        _chromium = ensure_chromium(announce=announce)
    return _chromium


def _terminal_line(config: pytest.Config) -> Callable[[str], None]:
    """Write a line on the terminal while a test's output is being captured."""
    reporter = config.pluginmanager.get_plugin("terminalreporter")
    capture = config.pluginmanager.get_plugin("capturemanager")

    def announce(line: str) -> None:
        if reporter is None:
            return
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            reporter.write_line(line)

    return announce


@pytest.fixture(scope="session")
def chromium(request: pytest.FixtureRequest) -> str:
    """The Chromium executable for Playwright, or a skip that says how to get one."""
    if importlib.util.find_spec("playwright") is None:
        pytest.skip(NEEDS_PLAYWRIGHT)  # no browser installation when it could not be driven
    path, reason = chromium_status(announce=_terminal_line(request.config))
    if path is None:
        pytest.skip(reason)
    return path


class LiveServer:
    def __init__(self, url: str, root: Path, files: Path, pid: int = 0) -> None:
        self.url, self.root, self.files, self.pid = url.rstrip("/"), root, files, pid

    def peak_rss_mib(self) -> float:
        """The server process's peak resident memory so far (Linux's VmHWM)."""
        status = Path(f"/proc/{self.pid}/status").read_text()
        line = next(line for line in status.splitlines() if line.startswith("VmHWM:"))
        return int(line.split()[1]) / 1024


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    """`styler ui` in a subprocess on a free port: tiny styles unless the shipped ones exist."""
    if importlib.util.find_spec("gradio") is None:
        pytest.skip(NEEDS_GRADIO)
    work = tmp_path_factory.mktemp("ui")
    env = dict(os.environ, PYTHONUNBUFFERED="1", GRADIO_ANALYTICS_ENABLED="False")
    if not ui_helpers.shipped_styles_ready():
        env["STYLER_WEIGHTS_DIR"] = str(ui_helpers.make_tiny_styles(work / "weights"))
    limits = ("--step-delay", str(STEP_DELAY), "--max-upload-pixels", "3M", "--max-upload-mb", "1")
    with ui_helpers.running_ui_server(work, env, *limits) as (url, root, pid):
        files = work / "files"
        files.mkdir()
        yield LiveServer(url, Path(root), files, pid)


@pytest.fixture(scope="module")
def browser(chromium: str) -> Iterator[Any]:
    """Headless Chromium (installed once where possible, else the test skips)."""
    sync_api = pytest.importorskip("playwright.sync_api")

    with sync_api.sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS,
                                              headless=True)  # fmt: skip
        yield launched
        launched.close()


@pytest.fixture
def page(browser: Any, server: LiveServer) -> Iterator[Any]:
    """A desktop-sized page on the server, its Stylize button there."""
    with ui_helpers.stylize_page(
        browser, server.url, viewport=DESKTOP, accept_downloads=True
    ) as page:
        yield page
