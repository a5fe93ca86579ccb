"""The Stylize tab tells the truth at every moment (issue 24): an error ends in the status
line with the buttons usable, nothing acts on a stale result while a run is queued, runs or
stops, and the history keeps what it is given (or says what left it), in Chromium on the live
test server (tests/live_ui.py).

Screenshots of the states these tests reach go to $STYLER_UI_SHOTS/truth, or a temporary
folder: never over the committed docs/ui pictures.
"""

from __future__ import annotations

import io
import os
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from styler.imageio import read_settings
from styler.ui.inputs import MAIN_STYLE, NO_STYLE, STYLE_IMAGES
from tests.test_ui import _download, _result_src, _slider, _status, _upload
from tests.ui_helpers import TIMEOUT, photo, save

SHOTS = Path(os.environ.get("STYLER_UI_SHOTS") or tempfile.gettempdir()) / "truth"


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(1, 1)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def _wait_status(page, text: str, timeout: int = TIMEOUT) -> str:
    try:
        page.wait_for_function("t => document.querySelector('#status').innerText.includes(t)",
                               arg=text, timeout=timeout)  # fmt: skip
    except Exception:
        _shot(page, "failed.png")
        raise AssertionError(f"status {_status(page).inner_text()!r}, not {text!r}") from None
    return _status(page).inner_text()


def _fast_result(page) -> str:
    """A Fast result on screen (the one every error below must leave in place)."""
    page.locator("#content img").first.wait_for()
    page.locator("#stylize-btn").click()
    _wait_status(page, "Done")
    return _result_src(page) or ""


def _usable_after_error(page, shown: str) -> None:
    """The status line holds the error, not 'Working…'; the earlier result is back on screen
    and every button acts on it."""
    assert "Working" not in _status(page).inner_text()
    assert "Waiting" not in _status(page).inner_text()
    assert _result_src(page) == shown
    for button in ("#stylize-btn", "#download", "#reuse"):
        assert page.locator(button).is_enabled(), button
    assert read_settings(_download(page, "#download", Path(tempfile.mkdtemp()) / "d.png"))[
        "mode"] == "fast"  # fmt: skip


def _mode(page, name: str) -> None:
    page.locator("#mode label", has_text=name).click()


def _paint_red(page) -> None:
    page.locator("#regions").get_by_text("Regions:").click()
    page.locator("#editor button[aria-label=Brush]").click()
    box = page.locator("#editor canvas").first.bounding_box()
    x, top = box["x"] + box["width"] * 0.4, box["y"] + box["height"] * 0.2
    page.mouse.move(x, top)
    page.mouse.down()
    page.mouse.move(x, top + box["height"] * 0.6, steps=12)
    page.mouse.up()


def _choose_region_style(page, index: int) -> list[str]:
    """The red region's style choices; the one at `index` is chosen."""
    page.locator("#region-red input").click()
    options = [o.split("\n")[-1] for o in page.get_by_role("option").all_inner_texts()]
    page.get_by_role("option", name=options[index], exact=True).click()
    return options


def test_a_style_file_that_is_no_image_ends_in_the_status_line(page, server) -> None:
    shown = _fast_result(page)
    fake = server.files / "fake.png"
    fake.write_text("this is a text file, not a painting")
    _mode(page, "Instant")
    _upload(page, "#style-1", fake)
    page.wait_for_timeout(500)
    page.locator("#stylize-btn").click()
    status = _wait_status(page, "⚠")
    assert "fake.png: not an image styler can read" in status, status
    _shot(page, "error-fake-style.png")
    _usable_after_error(page, shown)


def test_quality_without_a_style_image_says_what_to_add(page, server) -> None:
    shown = _fast_result(page)
    _mode(page, "Quality")
    clear = page.locator("#style-1 button[aria-label='Remove Image']")
    if clear.count():  # the sample style the page starts with
        clear.first.click()
        page.locator("#style-1 img").wait_for(state="detached")
    page.locator("#stylize-btn").click()
    status = _wait_status(page, "⚠")
    assert "Add a style image" in status, status
    _usable_after_error(page, shown)


def test_region_choices_follow_the_mode_and_their_errors_end_in_the_status(page, server) -> None:
    shown = _fast_result(page)
    _paint_red(page)
    fast_options = _choose_region_style(page, 2)  # a fast style
    assert len(fast_options) > 2 and STYLE_IMAGES[0] not in fast_options, fast_options
    _mode(page, "Instant")
    page.wait_for_function("v => document.querySelector('#region-red input').value === v",
                           arg=MAIN_STYLE)  # fmt: skip
    options = _choose_region_style(page, 3)  # style image 2: an empty slot
    assert options == [MAIN_STYLE, NO_STYLE, *STYLE_IMAGES], options
    page.locator("#stylize-btn").click()
    status = _wait_status(page, "⚠")
    assert "Red region has Style image 2, but that slot is empty" in status, status
    _usable_after_error(page, shown)


def test_nothing_acts_on_the_old_result_while_a_refine_runs_and_stops(page, server) -> None:
    """Refine an Instant result, Stop it: while it waits, runs and stops, Download, Use as
    content and Refine are disabled; the stopped image then downloads exactly as shown."""
    _mode(page, "Quality")
    page.locator("#controls").get_by_text("4 · Adjust").click()
    page.locator("#steps").wait_for()
    _slider(page, "steps", 40)
    _mode(page, "Instant")
    _upload(page, "#content", save(photo(200, 150, seed=21), server.files / "refine.png"))
    page.locator("#content img").first.wait_for()
    _upload(page, "#style-1", save(photo(96, 96, seed=4, gain=0.5), server.files / "s.png"))
    page.locator("#style-1 img").first.wait_for()
    page.wait_for_timeout(300)
    page.locator("#stylize-btn").click()
    _wait_status(page, "Instant")
    page.locator("#refine-btn").click()
    for button in ("#download", "#reuse", "#refine-btn"):
        page.wait_for_function("s => document.querySelector(s).disabled", arg=button)
    page.wait_for_function("document.querySelector('#progress .styler-progress[data-step]')"
                           " && document.querySelector('#progress [data-step]').dataset.step > 4",
                           timeout=60_000)  # fmt: skip
    page.locator("#stop-btn").click()
    # Stopping lasts at most a step: every frame is looked at until it shows.
    stopping = page.wait_for_function(
        "() => document.querySelector('#status').innerText.includes('Stopping') && "
        "['#download', '#reuse', '#refine-btn'].map(s => document.querySelector(s).disabled)",
        polling="raf").json_value()  # fmt: skip
    _shot(page, "stopping.png")
    assert stopping == [True, True, True], stopping
    status = _wait_status(page, "Stopped at step", timeout=60_000)
    png = _download(page, "#download", server.files / "stopped-refine.png")
    settings = read_settings(png)
    assert settings["mode"] == "optimize" and settings["completed"] is False, settings
    assert settings["controls"]["init"] == "instant"
    shown = page.evaluate("s => fetch(s).then(r => r.arrayBuffer()).then(b => Array.from("
                          "new Uint8Array(b)))", _result_src(page))  # fmt: skip
    on_screen = np.asarray(Image.open(io.BytesIO(bytes(shown))).convert("RGB"))
    assert np.array_equal(on_screen, np.asarray(Image.open(png).convert("RGB"))), status
