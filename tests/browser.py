"""Chromium for the browser tests: found, installed once with apt-get where we may, or a
one-line reason to skip them.

The README's test command must work on a fresh Debian machine, where Chromium is not
installed. When `chromium` is missing and the tests run as root with apt-get available,
the `chromium` fixture (tests/live_ui.py) calls ensure_chromium() once, when the first
browser test asks for it (never at collection, so no skip is decided before it ran): it
runs `apt-get update` and `apt-get install -y --no-install-recommends chromium`, quietly,
under a time limit, and under a file lock so that parallel runs install it once. Anywhere
else the browser tests skip, saying how to enable them; a missing browser never fails.

Environment: STYLER_CHROMIUM=/path/to/chromium uses that browser (never installs);
STYLER_INSTALL_CHROMIUM=0 never installs; STYLER_CHROMIUM_TIMEOUT (seconds, default 900)
bounds the whole installation.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

CHROMIUM_ENV = "STYLER_CHROMIUM"
INSTALL_ENV = "STYLER_INSTALL_CHROMIUM"
TIMEOUT_ENV = "STYLER_CHROMIUM_TIMEOUT"
DEFAULT_PATH = "/usr/bin/chromium"  # Debian's package; Playwright launches it by path
NAMES = ("chromium", "chromium-browser")
INSTALL_TIMEOUT = 900.0  # s for apt-get update + install together
RETRY_AFTER = 600.0  # s: a failed installation is not retried sooner (parallel runs)
HOW_TO_ENABLE = (
    "apt-get install chromium, or run the tests as root and they install it, "
    f"or set {CHROMIUM_ENV}=/path/to/chromium"
)


def lock_path() -> Path:
    return Path(tempfile.gettempdir()) / "styler-chromium-install.lock"


def find_chromium() -> str | None:
    """The Chromium to launch: STYLER_CHROMIUM, else one on PATH, else Debian's path."""
    if explicit := os.environ.get(CHROMIUM_ENV):
        return explicit if Path(explicit).is_file() else None
    for name in NAMES:
        if found := shutil.which(name):
            return found
    return DEFAULT_PATH if Path(DEFAULT_PATH).is_file() else None


def ensure_chromium(
    *,
    apt_get: str = "apt-get",
    timeout: float | None = None,
    lock: Path | None = None,
    announce: Callable[[str], None] = lambda _line: None,
) -> tuple[str | None, str]:
    """(path, "") when Chromium is there or could be installed, else (None, why not)."""
    if found := find_chromium():
        return found, ""
    if explicit := os.environ.get(CHROMIUM_ENV):
        return None, f"no Chromium at {CHROMIUM_ENV}={explicit}"
    missing = "no Chromium (chromium is not on PATH)"
    if os.environ.get(INSTALL_ENV, "1").strip().lower() in ("0", "no", "off", "false"):
        return None, f"{missing} and {INSTALL_ENV}=0; to enable: {HOW_TO_ENABLE}"
    apt = shutil.which(apt_get)
    if apt is None or os.geteuid() != 0:
        return None, f"{missing}; to enable: {HOW_TO_ENABLE}"
    if timeout is None:
        timeout = float(os.environ.get(TIMEOUT_ENV, INSTALL_TIMEOUT))
    lock = lock or lock_path()
    with _locked(lock):  # another run may be installing it: wait, then look again
        if found := find_chromium():
            return found, ""
        failed = lock.with_suffix(".failed")
        if failed.is_file() and time.time() - failed.stat().st_mtime < RETRY_AFTER:
            return None, failed.read_text().strip()
        announce(f"installing Chromium for the browser tests (apt-get, at most {timeout:g} s)")
        reason = _apt_install(apt, timeout)
        found = find_chromium()
        if found:
            failed.unlink(missing_ok=True)
            return found, ""
        reason = reason or "apt-get installed chromium but it is not on PATH"
        reason = f"{missing}; installing it failed: {reason}; to enable: {HOW_TO_ENABLE}"
        failed.write_text(reason + "\n")
        return None, reason


def _apt_install(apt: str, timeout: float) -> str:
    """Run apt-get update and install, quietly; '' on success, else one line saying why.

    A failed update does not stop the install, which may work from the lists and
    packages the machine already has (offline, say); both failures are then reported.
    """
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    deadline = time.monotonic() + timeout
    steps = (["update", "-qq"], ["install", "-y", "-qq", "--no-install-recommends", "chromium"])
    failures = []
    for step in steps:
        try:
            code, output = _run_bounded([apt, *step], env, deadline - time.monotonic())
        except subprocess.TimeoutExpired:
            return f"'apt-get {step[0]}' took longer than {timeout:g} s ({TIMEOUT_ENV})"
        except OSError as exc:
            return f"'apt-get {step[0]}' could not run: {exc.strerror or exc}"
        if code != 0:
            lines = [line.strip() for line in output.splitlines() if line.strip()]
            failures.append(f"'apt-get {step[0]}' failed: "
                            f"{lines[-1] if lines else f'exit status {code}'}")  # fmt: skip
    return "; ".join(failures) if failures and code != 0 else ""


def _run_bounded(command: list[str], env: dict, timeout: float) -> tuple[int, str]:
    """(exit status, output) of a command whose whole process group is killed on timeout
    (apt-get's helpers would otherwise keep the pipe, and this wait, open)."""
    process = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                               start_new_session=True)  # fmt: skip
    try:
        output, _ = process.communicate(timeout=max(timeout, 0.1))
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.communicate()
        raise
    return process.returncode, output


@contextlib.contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
