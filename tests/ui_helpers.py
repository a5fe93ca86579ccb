"""Helpers for tests/test_ui.py: tiny style networks, test images, and a UI server process.

Run as a script it serves the UI for the browser tests (a subprocess, so Gradio's
environment is set before import and the server's CPU work never holds the test's GIL):

    python tests/ui_helpers.py --port 7861 --step-delay 0.3 --max-upload-pixels 2M
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import socket
import subprocess
import sys
import tempfile
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
# Where the browser tests' screenshots go: $STYLER_UI_SHOTS (`STYLER_UI_SHOTS=docs/ui` refreshes
# the pictures docs/ui.md shows), else a folder under the system's temporary one, so that a
# test run never rewrites committed files.
SHOTS = Path(os.environ.get("STYLER_UI_SHOTS") or Path(tempfile.gettempdir()) / "styler-ui-shots")

from styler.fast.manifest import (  # noqa: E402
    StyleEntry,
    read_manifest,
    sha256_of,  # noqa: E402
    write_manifest,
)
from styler.fast.network import NetworkConfig, StyleNetwork  # noqa: E402
from styler.fast.weights import save_network  # noqa: E402

TIMEOUT = 30_000  # ms, Playwright waits
DESKTOP = {"width": 1280, "height": 900}  # the browser tests' page size, as the screenshots show it

TINY = NetworkConfig(widths=(8, 16, 16), res_blocks=1)

# Two recognisably different untrained "styles": a warm and a cool tint over the structure.
TINY_STYLES = {
    "warm_test": ("Warm test style", (0.75, 0.45, 0.25), 0),
    "cool_test": ("Cool test style", (0.25, 0.45, 0.8), 1),
}


def make_tiny_styles(folder: Path) -> Path:
    """Two tiny networks and their manifest in folder (use as STYLER_WEIGHTS_DIR)."""
    folder.mkdir(parents=True, exist_ok=True)
    entries = []
    for name, (title, bias, seed) in TINY_STYLES.items():
        torch.manual_seed(seed)
        net = StyleNetwork(TINY)
        with torch.no_grad():
            net.decoder[-1].weight.mul_(0.3)
            net.decoder[-1].bias.copy_(torch.tensor(bias))
        path = folder / f"{name}.safetensors"
        save_network(net, path, {"styles": [name], "test": True})
        entries.append(StyleEntry(name=name, file=path.name, sha256=sha256_of(path),
                                  title=title, artist="styler tests", year="2026"))  # fmt: skip
    write_manifest(entries, folder / "manifest.json")
    return folder


def shipped_styles_ready() -> bool:
    """True when the real shipped networks exist (nicer screenshots); else tests use tiny ones."""
    try:
        entries = [e for e in read_manifest() if not e.base]
    except Exception:
        return False
    return len(entries) >= 2 and all(e.path.is_file() for e in entries)


def photo(width: int = 120, height: int = 90, seed: int = 0, gain: float = 1.0) -> Image.Image:
    """A small 'photo' with structure: gradients, a bright square and a dark disc."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([x / width, y / height, 0.5 + 0.5 * np.sin(x / 6.0)], axis=-1) * 200
    rgb[height // 4 : height // 2, width // 4 : width // 2] = 245
    disc = (x - 0.7 * width) ** 2 + (y - 0.6 * height) ** 2 < (0.15 * height) ** 2
    rgb[disc] = 30
    rgb = rgb * gain + rng.normal(0, 3, rgb.shape)
    return Image.fromarray(rgb.clip(0, 255).astype(np.uint8), "RGB")


def save(image: Image.Image, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    image.save(path)
    return path


def zip_of(path: Path, members: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def png_bytes(image: Image.Image) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_text(page, selector: str, text: str, timeout: float = TIMEOUT) -> str:
    """Wait until the element's text includes `text`, and return that text; a timeout fails
    with what it says instead, so a CI log shows where the page stood."""
    try:
        page.wait_for_function("([s, t]) => document.querySelector(s).innerText.includes(t)",
                               arg=[selector, text], timeout=timeout)  # fmt: skip
    except Exception as exc:
        said = page.locator(selector).inner_text(timeout=5_000)
        raise AssertionError(f"{selector} never said {text!r} in {timeout / 1000:.0f} s; "
                             f"it says {said!r}") from exc  # fmt: skip
    return page.locator(selector).inner_text()


def settled_text(page, selector: str, text: str, timeout: float = TIMEOUT) -> str:
    """The element's text once it includes `text` and shows no Gradio timer: a page's load
    events may still be finishing when their line arrives, and their timer ('0.1s') is part
    of the element's text until they end."""
    wait_for_text(page, selector, text, timeout)
    page.wait_for_function(
        "s => { const t = document.querySelector(s + ' .meta-text, ' + s + ' .meta-text-center');"
        " return !t || t.offsetParent === null }", arg=selector, timeout=TIMEOUT)  # fmt: skip
    return page.locator(selector).inner_text()


def paint_red_stroke(page) -> None:
    """Open the Regions panel and drag one vertical stroke of the red brush over the photo."""
    page.locator("#regions").get_by_text("Regions:").click()
    page.locator("#editor button[aria-label=Brush]").click()
    drag_stroke(page)


def drag_stroke(page) -> None:
    """One vertical drag over the region painter's photo, with whatever tool is on, the
    painter scrolled into view first (as a person sees it: mouse events off the page are lost)."""
    canvas = page.locator("#editor canvas").first
    canvas.scroll_into_view_if_needed()
    box = canvas.bounding_box()
    x, top = box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.2
    page.mouse.move(x, top)
    page.mouse.down()
    page.mouse.move(x, top + box["height"] * 0.6, steps=12)
    page.mouse.up()


def main() -> None:
    from styler.ui import UIConfig, serve
    from styler.ui.config import UI_MAX_PIXELS, parse_pixels

    parser = argparse.ArgumentParser()
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--step-delay", type=float, default=0.0)
    parser.add_argument("--max-upload-pixels", type=parse_pixels, default=UI_MAX_PIXELS)
    parser.add_argument("--max-upload-mb", type=float, default=50.0)
    parser.add_argument("--concurrency", type=int, default=None)
    parser.add_argument("--temp-dir", type=Path, default=None)
    parser.add_argument("--train-photos", type=Path, default=None)
    args = parser.parse_args()
    config = UIConfig(
        port=args.port,
        device="cpu",
        step_delay=args.step_delay,
        max_upload_pixels=args.max_upload_pixels,
        max_upload_mb=args.max_upload_mb,
        concurrency=args.concurrency,
        temp_dir=args.temp_dir,
        train_photos=args.train_photos,
    )
    server = serve(config, block=False)
    print(f"READY {server.url} {server.services.workspace.root}", flush=True)
    try:
        server.wait()
    finally:
        server.close()


@contextlib.contextmanager
def running_ui_server(
    work: Path, env: dict[str, str], *args: str
) -> Iterator[tuple[str, str, int]]:
    """This script's `styler ui` in a subprocess on a free port, its temporary
    folder `work`: (url, its temporary root, pid) once it says READY; stopped after."""
    command = [sys.executable, str(ROOT / "tests" / "ui_helpers.py"), "--port",
               str(free_port()), "--temp-dir", str(work), *args]  # fmt: skip
    log = open(work / "server.log", "w+")  # noqa: SIM115 - closed below
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=log,
                               text=True)  # fmt: skip
    line = ""
    deadline = time.monotonic() + 90
    while time.monotonic() < deadline and process.poll() is None:
        line = process.stdout.readline()
        if line.startswith("READY"):
            break
    if not line.startswith("READY"):
        process.kill()
        log.seek(0)
        raise RuntimeError(f"UI server did not start:\n{log.read()[-3000:]}")
    _, url, root = line.split()
    try:
        yield url, root, process.pid
    finally:
        process.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            process.wait(timeout=30)
        if process.poll() is None:
            process.kill()
        log.close()


@contextlib.contextmanager
def stylize_page(browser: object, url: str, **context_options: object) -> Iterator[object]:
    """A page of a new browser context (`context_options`) on the UI at `url`, its Stylize
    button there; the context is closed after."""
    context = browser.new_context(**context_options)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(url)
    page.locator("#stylize-btn").wait_for()
    try:
        yield page
    finally:
        context.close()


if __name__ == "__main__":
    main()
