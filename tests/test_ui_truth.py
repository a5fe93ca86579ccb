"""The Stylize tab tells the truth at every moment (issue 24): an error ends in the status
line with the buttons usable, nothing acts on a stale result while a run is queued, runs or
stops, and the history keeps what it is given (or says what left it), in Chromium on the live
test server (tests/live_ui.py).

Screenshots of the states these tests reach go to truth/ in tests/ui_helpers.py's SHOTS.
"""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path

import numpy as np
from PIL import Image

from styler.imageio import read_settings
from styler.ui.inputs import MAIN_STYLE, NO_STYLE, STYLE_IMAGES
from styler.ui.state import LEFT_QUEUED as LEFT_QUEUED_BY_TAB
from styler.ui.state import STYLIZE_TAB
from tests.test_ui import _download, _result_src, _slider, _status, _upload
from tests.ui_helpers import (
    DESKTOP,
    TIMEOUT,
    paint_red_stroke,
    photo,
    save,
    settled_text,
    wait_for_text,
)
from tests.ui_helpers import SHOTS as UI_SHOTS

SHOTS = UI_SHOTS / "truth"
LEFT_QUEUED = LEFT_QUEUED_BY_TAB[STYLIZE_TAB]


def _shot(page, name: str) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.mouse.move(1, 1)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def _wait_status(page, text: str, timeout: int = TIMEOUT) -> str:
    try:
        return wait_for_text(page, "#status", text, timeout)
    except AssertionError:
        _shot(page, "failed.png")
        raise


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


def _choose_region_style(page, index: int) -> list[str]:
    """The red region's style choices; the one at `index` is chosen."""
    page.locator("#region-red input").click()
    options = [o.split("\n")[-1] for o in page.get_by_role("option").all_inner_texts()]
    page.get_by_role("option", name=options[index], exact=True).click()
    return options


def test_a_style_file_that_is_no_image_is_refused_as_it_lands_as_a_photo_is(page,
                                                                            server) -> None:
    """fake.png (a text file) in a style slot: refused the moment it lands, in the photo's
    words, the slot cleared; Stylize then says what to add, and the buttons stay usable."""
    shown = _fast_result(page)
    fake = server.files / "fake.png"
    fake.write_text("this is a text file, not a painting")
    _mode(page, "Instant")
    _upload(page, "#style-1", fake)
    page.wait_for_function("document.querySelector('#style-message').innerText.includes("
                           "'That style image 1 cannot be used: fake.png: not an image styler "
                           "can read')")  # fmt: skip
    page.locator("#style-1 img").wait_for(state="detached")
    page.locator("#stylize-btn").click()
    status = _wait_status(page, "⚠")
    assert "Add a style image" in status, status
    _shot(page, "error-fake-style.png")
    _usable_after_error(page, shown)


def test_a_tiff_style_image_shows_through_its_png_copy(page, server) -> None:
    """A 16-bit TIFF, which browsers cannot show, lands as the PNG copy they can."""
    deep = np.asarray(photo(96, 72, seed=8).convert("L"), np.uint16) * 257
    tiff = server.files / "deep.tiff"
    Image.fromarray(deep).save(tiff)  # mode I;16
    _mode(page, "Instant")
    _upload(page, "#style-1", tiff)
    page.wait_for_function("(document.querySelector('#style-1 img') || {src: ''}).src"
                           ".endsWith('.png')")  # fmt: skip
    page.wait_for_function("document.querySelector('#style-message').innerText.trim() === ''")


def test_quality_without_a_style_image_says_what_to_add(page, server) -> None:
    shown = _fast_result(page)
    _mode(page, "Quality")
    page.locator("#style-1").wait_for()
    if page.locator("#style-1 img").count():  # the sample style the page starts with
        page.locator("#style-1 button[aria-label='Remove Image']").click()
        page.locator("#style-1 img").wait_for(state="detached")
    page.locator("#stylize-btn").click()
    status = _wait_status(page, "⚠")
    assert "Add a style image" in status, status
    _usable_after_error(page, shown)


def test_region_choices_follow_the_mode_and_their_errors_end_in_the_status(page, server) -> None:
    shown = _fast_result(page)
    paint_red_stroke(page)
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


def test_a_run_stopped_at_once_adds_nothing(page, server) -> None:
    shown = _fast_result(page)
    _mode(page, "Quality")
    page.locator("#controls").get_by_text("4 · Adjust").click()
    page.locator("#steps").wait_for()
    _slider(page, "size", 128)
    _slider(page, "steps", 100)
    page.locator("#stylize-btn").click()
    page.locator("#progress .styler-progress[data-step]").first.wait_for(timeout=60_000)
    page.locator("#stop-btn").click()
    status = _wait_status(page, "too early", timeout=30_000)
    assert "nothing was added to the history" in status and "⚠" not in status, status
    assert page.locator("#history .thumbnail-item").count() == 1
    assert _result_src(page) == shown and page.locator("#download").is_enabled()


def _quality(page, size: int, steps: int) -> None:
    """Quality mode at a small size and a few steps (the sample style image the page has)."""
    _mode(page, "Quality")
    page.locator("#controls").get_by_text("4 · Adjust").click()
    page.locator("#steps").wait_for()
    _slider(page, "size", size)
    _slider(page, "steps", steps)


def _step_reached(page, step: int) -> None:
    page.wait_for_function("s => { const b = document.querySelector('#progress [data-step]');"
                           " return b && Number(b.dataset.step) >= s }", arg=step,
                           timeout=60_000)  # fmt: skip


def test_a_quality_run_left_by_a_reload_is_kept_and_the_page_says_so(page, server) -> None:
    """Leaving the page counts as Stop: the reloaded page's status line says where the run
    stopped, the image Stop would keep is on screen and in the history, and Continue
    finishes it; the page had no result before, so its history is known to the server only
    from the run on. (A reload threw the run away, and the page said nothing.)"""
    page.wait_for_function("localStorage.getItem('styler-history')")
    _quality(page, 128, 24)
    page.locator("#stylize-btn").click()
    _step_reached(page, 4)
    page.reload()
    page.locator("#status").wait_for()
    status = settled_text(page, "#status", "when the page was left", timeout=60_000)
    assert re.fullmatch(r"Your last run was stopped at step \d+ of 24 when the page was left: "
                        r"kept in History; Continue goes on from there\.", status.strip()), status
    assert page.locator("#history .thumbnail-item").count() == 1
    assert _result_src(page) and page.locator("#continue-btn").is_enabled()
    _shot(page, "left-quality.png")
    page.locator("#continue-btn").click()
    _wait_status(page, "Done", timeout=60_000)
    assert read_settings(_download(page, "#download", server.files / "left-done.png"))[
        "completed"] is True  # fmt: skip
    assert page.locator("#history .thumbnail-item").count() == 2


def test_stylize_clicked_twice_starts_one_run(page, server) -> None:
    """Stylize is disabled while its run is queued or runs, and a second click starts
    nothing: a double click in Fast mode makes one result; in Quality mode one Stop ends the
    run and its line stays. (Each click queued a run: the second began after the Stop.)"""
    page.locator("#content img").first.wait_for()
    page.locator("#stylize-btn").dblclick()
    _wait_status(page, "Done")
    page.wait_for_timeout(2000)  # a second run would be done by now
    assert page.locator("#history .thumbnail-item").count() == 1
    _quality(page, 128, 60)
    page.locator("#stylize-btn").click()
    page.wait_for_timeout(400)
    assert page.locator("#stylize-btn").is_disabled()
    page.locator("#stylize-btn").click(force=True)  # a person's second click, all the same
    _step_reached(page, 3)
    page.locator("#stop-btn").click()
    _wait_status(page, "Stopped at step", timeout=30_000)
    page.wait_for_timeout(3000)  # a second run would be painting by now
    status = _status(page).inner_text()
    assert status.startswith("Stopped at step") and "Painting" not in status, status
    assert page.locator("#progress [data-step]").count() == 0
    assert page.locator("#history .thumbnail-item").count() == 2
    assert page.locator("#stylize-btn").is_enabled()
    _shot(page, "stopped-after-two-clicks.png")


def test_a_file_with_no_settings_to_load_says_so_and_changes_nothing(page, server) -> None:
    """Load settings from a text file named .jpg, then from a photo no styler made: one line
    in the status each time; the mode, the style grid and every control as they were, no
    error badge on any. (Six outputs turned into red "Error" badges, with no message.)"""
    page.locator("#controls").get_by_text("4 · Adjust").click()
    page.locator("#advanced").get_by_text("Advanced").click()
    grid = page.locator("#style-grid .thumbnail-item").count()
    fake = server.files / "text.jpg"
    fake.write_text("this is a text file, not a result")
    plain = server.files / "plain.jpg"
    photo(96, 72, seed=5).save(plain)
    for path, why in ((fake, "not an image styler can read"), (plain, "no styler settings")):
        box = page.locator("#settings-from")
        if not box.locator("input[type=file]").count():
            box.get_by_label("Clear").first.click()
        _upload(page, "#settings-from", path)
        status = _wait_status(page, path.name)
        assert "No settings to load" in status and why in status, status
        page.wait_for_timeout(500)
        assert page.get_by_text("Error", exact=True).count() == 0
        assert page.locator("#mode input:checked").get_attribute("value") == "Fast"
        assert page.locator("#style-grid .thumbnail-item").count() == grid
        assert page.locator("#feather input[type=number]").is_visible()
    _shot(page, "no-settings-to-load.png")
    _fast_result(page)


RESTORE = re.compile(r'"data":\[null,"[A-Za-z0-9_-]{22}"\]')  # the page's session, its token


def _page_with_one_result(browser, server):
    """A new browser context with one Fast result in its history, kept under its token."""
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(server.url)
    page.wait_for_function("localStorage.getItem('styler-history')")
    _fast_result(page)
    page.locator("#history .thumbnail-item").first.wait_for()
    return context, page


def _history_reaches_two(page, what: str) -> None:
    try:
        page.wait_for_function("document.querySelectorAll('#history .thumbnail-item').length"
                               " === 2")  # fmt: skip
    except Exception:
        shown = page.locator("#history .thumbnail-item").count()
        raise AssertionError(f"{shown} in the history; status {_status(page).inner_text()!r}; "
                             f"{what}") from None
    page.wait_for_timeout(500)
    assert page.locator("#history .thumbnail-item").count() == 2


def _second_result_and_reload(page, release) -> None:
    """Another style's Fast result on the reloaded page, then the held restores released:
    both results in the history, and again after a reload."""
    page.locator("#style-grid .thumbnail-item").nth(1).click()
    _fast_result(page)
    answers = release()
    _history_reaches_two(page, f"the restores answered: {answers}")
    page.unroute("**/run/predict")
    page.reload()
    _history_reaches_two(page, "after a reload")


def test_a_result_made_before_the_history_restore_arrives_is_kept(browser, server) -> None:
    """The restore held back until a Fast result is on screen: both results are in the
    history after it lands, and after a reload."""
    context, page = _page_with_one_result(browser, server)
    held: list = []

    def hold(route) -> None:
        held.append(route) if RESTORE.search(route.request.post_data or "") else route.continue_()

    page.route("**/run/predict", hold)
    page.reload()
    page.locator("#stylize-btn").wait_for()
    for _ in range(200):
        if held:
            break
        page.wait_for_timeout(50)
    assert held, "no restore was held"

    def release() -> list[str]:
        answers = []
        for route in held:
            response = route.fetch()
            answers.append(f"{response.status}: {response.text()[:500]}")
            route.fulfill(response=response)
        return answers

    _second_result_and_reload(page, release)
    context.close()


def test_the_history_names_its_cap_and_clear_asks_first(page, server) -> None:
    assert "last 40 kept" in page.locator("#history").inner_text()
    _fast_result(page)
    page.locator("#clear-history").click()
    question = page.locator("#clear-question")
    question.wait_for()
    assert "deletes its one result" in question.inner_text()
    _shot(page, "clear-confirm.png")
    page.locator("#clear-no").click()
    question.wait_for(state="hidden")
    assert page.locator("#history .thumbnail-item").count() == 1
    page.locator("#clear-history").click()
    page.locator("#clear-yes").click()
    _wait_status(page, "cleared")
    assert page.locator("#history .thumbnail-item").count() == 0
    assert page.locator("#download").is_disabled()


def test_a_result_pushing_the_oldest_out_names_it(tmp_path: Path) -> None:
    from styler.ui.results import history_note
    from styler.ui.state import MAX_HISTORY, Entry, Session

    session = Session()
    for n in range(MAX_HISTORY + 1):
        session.add(Entry(path=tmp_path / f"{n}.png", thumb=tmp_path / "t.jpg",
                          caption=f"result {n}", settings={}))  # fmt: skip
        assert bool(history_note(session)) == (n == MAX_HISTORY)
    assert len(session.entries) == MAX_HISTORY and "“result 0”" in history_note(session)


def test_a_restore_keeps_the_page_results_and_the_one_on_screen(tmp_path: Path) -> None:
    from styler.ui.state import Entry, Session

    def entry(name: str) -> Entry:
        return Entry(path=tmp_path / name, thumb=tmp_path / "t.jpg", caption=name, settings={})

    kept, page = Session(), Session()
    kept.add(entry("old.png"))
    page.add(entry("new.png"))
    page.restore(kept)
    assert page.id == kept.id and [e.caption for e in page.entries] == ["old.png", "new.png"]
    assert page.shown.caption == "new.png"


def test_a_run_makes_its_history_known_and_a_reload_waits_only_for_a_page_left(
    tmp_path: Path,
) -> None:  # fmt: skip
    """A page with no result yet has a secret the server does not keep; a run of it makes
    the server keep it, or the page reloaded during the run would get a new one and never
    hear of the run again. A page of the history loading while the run's own page is still
    open (a second tab) does not wait for it; once that page is gone, the page coming back
    waits for the run to end, and is told once. A one-pass run (Fast, Instant) tells its
    result only where its page was left before it ended."""
    import time

    from styler.ui.state import STYLIZE_TAB, Histories, Notice, Session

    histories, page = Histories(), Session()
    assert histories.recall(page.id).id != page.id
    with histories.running(page.id, STYLIZE_TAB, "first-tab"):
        assert histories.recall(page.id).id == page.id
        began = time.perf_counter()
        assert histories.settled(page.id, STYLIZE_TAB, 10) is None  # a second tab: no wait
        assert time.perf_counter() - began < 1
        histories.left("first-tab")
        assert histories.settled(page.id, STYLIZE_TAB, 0.05) is None  # left, still stopping
        histories.tell(page.id, STYLIZE_TAB, Notice("stopped", tmp_path / "kept.png"))
    assert histories.settled(page.id, STYLIZE_TAB, 0).text == "stopped"
    assert histories.settled(page.id, STYLIZE_TAB, 0) is None

    done = Notice("ended", tmp_path / "fast.png")
    with histories.running(page.id, STYLIZE_TAB, "open") as flight:
        flight.notice = done
    assert histories.settled(page.id, STYLIZE_TAB, 0) is None  # its page shows it itself
    with histories.running(page.id, STYLIZE_TAB, "gone") as flight:
        histories.left("gone")
        flight.notice = done
    assert histories.settled(page.id, STYLIZE_TAB, 0) == done


def test_a_page_state_is_written_by_one_load_event_at_most(tmp_path: Path, monkeypatch) -> None:
    """For a gr.State with a callable value Gradio adds a queued load event writing a fresh
    value. It raced the history restore: when it landed last, the page's session on the
    server was an empty one under a new secret (CI saw a reload lose its history, and Clear
    find nothing to clear). Each page state may have one writer at load, never two."""
    import gradio as gr

    from styler.ui.app import build
    from styler.ui.config import UIConfig
    from styler.ui.services import Services
    from tests.ui_helpers import make_tiny_styles

    monkeypatch.setenv("STYLER_WEIGHTS_DIR", str(make_tiny_styles(tmp_path / "weights")))
    services = Services(UIConfig(device="cpu", temp_dir=tmp_path, prewarm=False))
    demo = build(services)
    states = {key for key, block in demo.blocks.items() if isinstance(block, gr.State)}
    writers: dict[int, int] = {}
    for dependency in demo.get_config_file()["dependencies"]:
        if any(event == "load" for _, event in dependency["targets"]):
            for state in states & set(dependency["outputs"]):
                writers[state] = writers.get(state, 0) + 1
    assert writers and max(writers.values()) == 1, writers
    services.workspace.cleanup()


def _browser_page(browser, server):
    """A page of a new browser context (its own history), its sample photo there."""
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = _open(context, server)
    return context, page


def _open(context, server):
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(server.url)
    page.locator("#content img").first.wait_for()
    page.wait_for_function("localStorage.getItem('styler-history')")
    return page


def _engine_held(browser, server):
    """Another user's long Quality run, holding the test server's one engine slot."""
    context, page = _browser_page(browser, server)
    _quality(page, 128, 300)
    page.locator("#stylize-btn").click()
    _step_reached(page, 1)
    return context, page


def _queued(page) -> None:
    """A short Quality job of `page`, waiting for the engine."""
    _quality(page, 64, 2)
    page.locator("#stylize-btn").click()
    _wait_status(page, "Waiting for the engine")


def test_a_job_still_queued_when_its_page_is_left_never_runs_and_the_next_page_says_so(
    browser, server
) -> None:  # fmt: skip
    """A reload (then a close) of a page whose Quality job waits behind another user's run:
    Gradio drops the job, and the page that comes back says so, where it said nothing. The
    job never runs once the engine is free."""
    holder_context, holder = _engine_held(browser, server)
    context, page = _browser_page(browser, server)
    _queued(page)
    page.reload()
    page.locator("#status").wait_for()
    status = _wait_status(page, "when the page was left")
    assert status.strip() == LEFT_QUEUED, status
    _shot(page, "left-queued.png")

    _queued(page)
    page.close()
    page = _open(context, server)  # the browser's next page, after a close
    assert _wait_status(page, "when the page was left").strip() == LEFT_QUEUED
    holder.locator("#stop-btn").click()
    _wait_status(holder, "Stopped", timeout=30_000)
    page.wait_for_timeout(4000)  # the engine is free: a job still queued would have run
    assert page.locator("#history .thumbnail-item").count() == 0
    assert _status(page).inner_text().strip() == LEFT_QUEUED
    assert page.locator("#stylize-btn").is_enabled()
    context.close()
    holder_context.close()


def test_an_instant_result_ending_while_the_page_reloads_is_on_the_reloaded_page(
    page, server
) -> None:  # fmt: skip
    """An Instant run (a second or more at 2048 px) that ends while its page reloads: the
    reloaded page shows its result, with Download, and says what happened. (It appeared
    only in the history of the reload after.) The same run is timed first, on this machine,
    so that the reload lands in the middle of the second one however fast the machine is."""
    page.wait_for_function("localStorage.getItem('styler-history')")
    _mode(page, "Instant")
    _upload(page, "#content", save(photo(1600, 1200, seed=30), server.files / "wide.jpg"))
    _upload(page, "#style-1", save(photo(96, 96, seed=4, gain=0.5), server.files / "s30.png"))
    page.locator("#style-1 img").first.wait_for()
    page.locator("#controls").get_by_text("4 · Adjust").click()
    page.locator("#upscale input").check()
    _slider(page, "size", 2048)
    page.wait_for_function("document.querySelector('#content img').src.includes('wide')")
    page.locator("#stylize-btn").click()
    first = _wait_status(page, "Done in", timeout=60_000)
    seconds = float(re.search(r"Done in ([\d.]+) s", first).group(1))
    page.locator("#stylize-btn").click()
    _wait_status(page, "Working")
    page.wait_for_timeout(round(seconds * 400))  # past its queue, well before its end
    page.reload()
    page.locator("#status").wait_for()
    status = settled_text(page, "#status", "as the page was left", timeout=60_000)
    assert re.fullmatch(r"Your last run ended as the page was left: kept in History\. Done in "
                        r"[\d.]+ s: s30 · Instant, 2048×1536 px\. Upscaled from the photo's "
                        r"1600×1200 px\. Download gives the full-size PNG\. Refine paints it "
                        r"further in Quality mode\.", status.strip()), status  # fmt: skip
    assert page.locator("#history .thumbnail-item").count() == 2
    assert _result_src(page) and page.locator("#download").is_enabled()
    _shot(page, "left-instant.png")
    png = _download(page, "#download", server.files / "left-instant.png")
    assert Image.open(png).size == (2048, 1536) and read_settings(png)["mode"] == "instant"


def test_a_photo_landing_while_a_run_works_leaves_stylize_disabled(page, server) -> None:
    """A new photo dropped during a Quality run: it lands (checked, in the painter) but
    Stylize stays disabled until the run is stopped. (The photo's check enabled it, and a
    second run could be queued behind the first.)"""
    _quality(page, 128, 60)
    page.locator("#stylize-btn").click()
    _step_reached(page, 2)
    with page.expect_response(lambda r: r.url.endswith("/run/predict")):
        _upload(page, "#content", save(photo(160, 120, seed=31), server.files / "new.png"))
    page.wait_for_function("document.querySelector('#content img').src.includes('new')")
    page.wait_for_timeout(500)
    assert page.locator("#stylize-btn").is_disabled()
    _step_reached(page, 4)  # the run goes on
    assert page.locator("#stylize-btn").is_disabled()
    page.locator("#stop-btn").click()
    _wait_status(page, "Stopped at step", timeout=30_000)
    page.wait_for_function("!document.querySelector('#stylize-btn').disabled")


def test_a_second_tab_of_the_browser_loads_at_once_and_leaves_the_first_its_notice(
    browser, server
) -> None:  # fmt: skip
    """Two tabs of one browser share its history. While the first runs Quality, the second
    loads with nothing pending (it waited up to 30 s, unseen, for that run, holding a server
    thread) and stylizes at once; the first, reloaded, is told where its run stopped, and
    the second is not (it could take that notice)."""
    context, first = _browser_page(browser, server)
    _quality(first, 128, 200)
    first.locator("#stylize-btn").click()
    _step_reached(first, 2)
    second = context.new_page()
    second.set_default_timeout(TIMEOUT)
    pending: set = set()
    second.on("request", lambda r: pending.add(r) if "/run/predict" in r.url else None)
    second.on("requestfinished", lambda r: pending.discard(r))
    second.on("requestfailed", lambda r: pending.discard(r))
    second.goto(server.url)
    second.locator("#content img").first.wait_for()
    second.wait_for_timeout(3000)
    assert not pending, [r.post_data[:80] for r in pending]
    second.locator("#stylize-btn").click()  # Fast
    _wait_status(second, "Done")
    first.reload()
    first.locator("#status").wait_for()
    status = _wait_status(first, "when the page was left", timeout=60_000)
    assert status.startswith("Your last run was stopped at step"), status
    second.wait_for_timeout(1000)
    assert "when the page was left" not in _status(second).inner_text()
    context.close()
