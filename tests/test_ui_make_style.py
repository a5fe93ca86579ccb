"""The Make a style tab in Chromium, on a server of its own (a user styles folder in a
temporary folder, tiny trainings through STYLER_TRAINING_OVERRIDES, a folder of training
photos it offers): upload a painting and photos, train, see the bar and a preview, Stop,
Resume, stylize with the new style in Fast mode and download it; a second browser context
sees the style and uses it; bad input is one line; Delete removes the style.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import stripe_style
from ui_helpers import DESKTOP, TIMEOUT, photo, running_ui_server, save, wait_for_text

from styler.imageio import read_settings
from tests.test_ui import _shot

ROOT = Path(__file__).resolve().parents[1]
pytest.importorskip("gradio")
REFRESH_S = pytest.importorskip("styler.ui.style_lists").REFRESH_S
# 64 px crops, 60 steps with a pause each, a preview every second: a training a browser can
# follow, stop and resume in well under a minute.
TINY = {"crop": 64, "steps": 60, "eval_every": 5, "checkpoint_every": 5, "val_count": 2,
        "preview_s": 1.0, "step_delay_s": 0.25, "distance_photos": 1}  # fmt: skip
PHOTOS = 20
SEEN_BY_OTHERS_MS = (REFRESH_S + 10) * 1000  # an open page's lists follow the server's


@pytest.fixture(scope="module")
def trainer_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path | str]]:
    """`styler ui` with its own user styles folder and tiny trainings."""
    work = tmp_path_factory.mktemp("make-style")
    offered = work / "offered"
    offered.mkdir()
    for i in range(3):
        save(photo(96, 72, seed=100 + i), offered / f"server{i}.png")
    env = dict(os.environ, PYTHONUNBUFFERED="1", GRADIO_ANALYTICS_ENABLED="False",
               STYLER_USER_STYLES=str(work / "styles"),
               STYLER_TRAINING_OVERRIDES=json.dumps(TINY))  # fmt: skip
    with running_ui_server(work, env, "--train-photos", str(offered)) as (url, _, _):
        files = work / "files"
        files.mkdir()
        yield {"url": url, "files": files, "styles": work / "styles"}


def _open(browser, url: str):
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(url)
    page.locator("#stylize-btn").wait_for()
    return context, page


def _progress(page, condition: str, timeout: float = 60_000) -> None:
    """Wait until the bar's element `b` (.styler-progress in #ms-progress) meets condition;
    a timeout fails with the bar's state and line."""
    try:
        page.wait_for_function(
            "c => { const b = document.querySelector('#ms-progress .styler-progress');"
            " return b && eval(c) }", arg=condition, timeout=timeout)  # fmt: skip
    except Exception as exc:
        bar = page.locator("#ms-progress .styler-progress")
        state = bar.get_attribute("data-state", timeout=5_000) if bar.count() else None
        said = page.locator("#ms-progress").inner_text(timeout=5_000)
        raise AssertionError(f"the bar never met {condition} in {timeout / 1000:.0f} s: "
                             f"state {state}, {said!r}") from exc  # fmt: skip


def _status_has(page, text: str, timeout: float = TIMEOUT) -> None:
    wait_for_text(page, "#ms-status", text, timeout)


@contextlib.contextmanager
def _worker_paused(name: str) -> Iterator[None]:
    """The training's worker process suspended for the block (SIGSTOP, then SIGCONT): what
    the block does cannot race the training's end, however slow the machine is."""
    command = ["-m", "styler.fast.style_worker", name]
    workers = []
    for proc in Path("/proc").iterdir():
        try:
            if proc.name.isdigit() and (proc / "cmdline").read_bytes().split(b"\0")[1:-1] == [
                    part.encode() for part in command]:  # fmt: skip
                workers.append(int(proc.name))
        except OSError:  # a process that ended meanwhile
            continue
    assert len(workers) == 1, f"expected one worker training {name}, found {workers}"
    os.kill(workers[0], signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(workers[0], signal.SIGCONT)


def _pick(page, selector: str, option: str) -> None:
    """Pick `option` in a dropdown and wait until the dropdown shows it, so the next click
    sends it."""
    page.locator(f"{selector} input").click()
    page.get_by_role("option", name=option, exact=True).click()
    page.wait_for_function("([s, o]) => document.querySelector(s + ' input').value === o",
                           arg=[selector, option], timeout=TIMEOUT)  # fmt: skip


def _grid_item(page, title: str):
    """The Stylize tab's style thumbnail whose caption is `title`."""
    return page.locator("#style-grid .gallery-item", has_text=title)


def _stylize_with(page, name: str, photo_path: Path, target: Path) -> Path:
    """Fast mode, the style picked by its thumbnail's title, the photo in, Stylize, Download."""
    page.get_by_role("tab", name="Stylize").click()
    page.locator("#mode label", has_text="Fast").click()
    page.locator("#content input[type=file]").first.set_input_files(str(photo_path))
    page.locator("#content img").first.wait_for()
    _grid_item(page, name).locator(".thumbnail-item").click()
    page.wait_for_function("n => document.querySelector('#style input').value.includes(n)",
                           arg=name)  # fmt: skip
    page.locator("#stylize-btn").click()
    page.wait_for_function("document.querySelector('#status').innerText.includes('Done')",
                           timeout=60_000)  # fmt: skip
    with page.expect_download() as info:
        page.locator("#download").click()
    info.value.save_as(target)
    return target


def _queued_behind(page, painting: Path, photos: list[Path]) -> None:
    """Another user's training while one runs: it waits with its place shown, and Stop
    withdraws it before it ever trains."""
    page.get_by_role("tab", name="Make a style").click()
    page.locator("#ms-painting input[type=file]").first.set_input_files(str(painting))
    page.locator("#ms-painting img").first.wait_for()
    page.locator("#ms-name textarea, #ms-name input").first.fill("waiting")
    page.locator("#ms-photos input[type=file]").set_input_files([str(p) for p in photos])
    page.wait_for_function("document.querySelectorAll('#ms-photos .file-preview tr, "
                           "#ms-photos .file').length >= 20")  # fmt: skip
    page.locator("#ms-train").click()
    wait_for_text(page, "#ms-progress", "1 training ahead of yours (place 2)")
    page.locator("#ms-stop").click()
    _status_has(page, "Withdrawn: waiting will not train")


def test_make_a_style_train_stop_resume_use_and_share(browser, trainer_server) -> None:
    files = trainer_server["files"]
    painting = files / "painting.png"
    stripe_style(96, 96).save(painting)
    photos = [save(photo(80, 60, seed=i), files / f"photo{i:02d}.png") for i in range(PHOTOS)]
    context, page = _open(browser, trainer_server["url"])
    other_context, other = _open(browser, trainer_server["url"])  # another user, page kept open
    page.get_by_role("tab", name="Make a style").click()
    page.locator("#ms-train").wait_for()
    assert "3 photos" in page.locator("#ms-server-photos").inner_text()  # --train-photos

    # Bad input: one line each, nothing trains.
    page.locator("#ms-name textarea, #ms-name input").first.fill("stripes")
    page.locator("#ms-photos input[type=file]").set_input_files([str(p) for p in photos[:5]])
    page.locator("#ms-painting input[type=file]").first.set_input_files(str(painting))
    page.locator("#ms-painting img").first.wait_for()
    page.locator("#ms-train").click()
    _status_has(page, "at least 20 different photos that can be read, got 5")
    page.locator("#ms-name textarea, #ms-name input").first.fill("udnie")
    page.locator("#ms-photos input[type=file]").set_input_files([str(p) for p in photos])
    page.wait_for_function("document.querySelectorAll('#ms-photos .file-preview tr, "
                           "#ms-photos .file').length >= 20")  # fmt: skip
    page.locator("#ms-train").click()
    _status_has(page, "shipped style")
    page.locator("#ms-name textarea, #ms-name input").first.fill("my/stripes")
    page.locator("#ms-train").click()
    _status_has(page, "can only have letters")
    assert not list(trainer_server["styles"].glob("*.safetensors"))

    # Train: the bar with time left and the loss, then a preview; Stop keeps the best so far.
    page.locator("#ms-name textarea, #ms-name input").first.fill("stripes")
    page.locator("#ms-minutes label", has_text="5").first.click()
    page.locator("#ms-train").click()
    _progress(page, "b.dataset.state === 'running' && b.innerText.includes('loss')")
    assert "left" in page.locator("#ms-progress").inner_text()
    with _worker_paused("stripes"):
        _queued_behind(other, painting, photos)
    page.locator("#ms-preview img").first.wait_for(timeout=60_000)
    _shot(page, "make-style.png")
    page.locator("#ms-stop").click()
    _progress(page, "b.dataset.state === 'stopped'")
    assert "Fast mode's styles" in page.locator("#ms-progress").inner_text()
    stopped_at = int(page.locator("#ms-progress .styler-progress").get_attribute("data-done"))
    assert 0 < stopped_at < 100
    _grid_item(page, "stripes").wait_for(state="attached")
    _grid_item(other, "stripes").wait_for(state="attached", timeout=SEEN_BY_OTHERS_MS)

    # Resume from the checkpoint: it finishes.
    _pick(page, "#ms-jobs", "stripes")
    page.locator("#ms-resume").click()
    _progress(page, "b.dataset.state === 'done'", timeout=120_000)
    assert "Done: stripes" in page.locator("#ms-progress").inner_text()

    # Fast mode with the new style, downloaded: its settings name it.
    result = _stylize_with(page, "stripes", photos[0], files / "mine.png")
    settings = read_settings(result)
    assert settings["mode"] == "fast" and settings["styles"] == ["stripes"]

    # The other user's page, never reloaded, uses it: its grid picks what it shows.
    shared = _stylize_with(other, "stripes", photos[1], files / "theirs.png")
    assert read_settings(shared)["styles"] == ["stripes"]

    # Delete: gone from the lists and the folder.
    page.get_by_role("tab", name="Make a style").click()
    _pick(page, "#ms-own", "stripes")
    page.locator("#ms-delete").click()
    _status_has(page, "Deleted the style stripes")
    _grid_item(page, "stripes").wait_for(state="detached")
    _grid_item(other, "stripes").wait_for(state="detached", timeout=SEEN_BY_OTHERS_MS)
    assert not list(trainer_server["styles"].glob("stripes*.safetensors"))
    other_context.close()
    context.close()
