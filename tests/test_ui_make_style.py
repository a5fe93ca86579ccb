"""The Make a style tab in Chromium, on a server of its own (a user styles folder in a
temporary folder, tiny trainings through STYLER_TRAINING_OVERRIDES, a folder of training
photos it offers, one of them broken): upload a painting and photos, train, see the bar and
a preview; reload, and a second browser context, find the training running, listed and
stoppable; Stop, Resume, stylize with the new style in Fast mode and download it; the
second context sees the style and uses it; bad input is one line, a bad file is refused as
it lands, by its name alone; Delete removes the style.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import time
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
WATCH_S = pytest.importorskip("styler.ui.make_style_tab").WATCH_S
FOUND_BY_OTHERS_MS = (WATCH_S + 10) * 1000
LAPTOP = {"width": 1280, "height": 800}  # the QA pass's screen, where a label was cut off
NOT_AN_IMAGE = b"just some text, renamed .jpg\n" * 20


@pytest.fixture(scope="module")
def trainer_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Path | str]]:
    """`styler ui` with its own user styles folder and tiny trainings."""
    work = tmp_path_factory.mktemp("make-style")
    offered = work / "offered"
    offered.mkdir()
    for i in range(3):
        save(photo(96, 72, seed=100 + i), offered / f"server{i}.png")
    (offered / "broken.jpg").write_bytes(NOT_AN_IMAGE)  # a server folder has its bad files too
    env = dict(os.environ, PYTHONUNBUFFERED="1", GRADIO_ANALYTICS_ENABLED="False",
               STYLER_USER_STYLES=str(work / "styles"),
               STYLER_TRAINING_OVERRIDES=json.dumps(TINY))  # fmt: skip
    with running_ui_server(work, env, "--train-photos", str(offered)) as (url, _, _):
        files = work / "files"
        files.mkdir()
        yield {"url": url, "files": files, "styles": work / "styles"}


def _open(browser, url: str, viewport: dict[str, int] = DESKTOP):
    context = browser.new_context(viewport=viewport, accept_downloads=True)
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


def _workers(name: str) -> list[int]:
    """The process ids of the worker processes training `name`."""
    command = [part.encode() for part in ("-m", "styler.fast.style_worker", name)]
    workers = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if (proc / "cmdline").read_bytes().split(b"\0")[1:-1] == command:
                workers.append(int(proc.name))
        except OSError:  # a process that ended meanwhile
            continue
    return workers


def _no_worker_left(name: str, timeout: float = 60.0) -> None:
    """Wait until no process trains `name` (a stopped training's worker exits)."""
    deadline = time.monotonic() + timeout
    while _workers(name) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert not _workers(name), f"the worker training {name} still runs {timeout:.0f} s later"


@contextlib.contextmanager
def _worker_paused(name: str) -> Iterator[None]:
    """The training's worker process suspended for the block (SIGSTOP, then SIGCONT): what
    the block does cannot race the training's end, however slow the machine is."""
    workers = _workers(name)
    assert len(workers) == 1, f"expected one worker training {name}, found {workers}"
    os.kill(workers[0], signal.SIGSTOP)
    try:
        yield
    finally:
        os.kill(workers[0], signal.SIGCONT)


def _pick(page, selector: str, option: str) -> None:
    """Pick `option` (its label) in a dropdown and wait until the dropdown shows it, so the
    next click sends it."""
    page.locator(f"{selector} input").click()
    page.get_by_role("option", name=option, exact=True).click()
    page.wait_for_function("([s, o]) => document.querySelector(s + ' input').value === o",
                           arg=[selector, option], timeout=TIMEOUT)  # fmt: skip


def _options(page, selector: str) -> list[str]:
    """The labels a dropdown offers, read by opening it (then closed again, and left, so
    that the next click opens it)."""
    field = page.locator(f"{selector} input")
    field.click()
    page.get_by_role("option").first.wait_for()
    labels = page.get_by_role("option").all_inner_texts()
    page.keyboard.press("Escape")
    field.blur()
    return [label.strip() for label in labels]


def _listed(page, selector: str, option: str, timeout: float = TIMEOUT) -> None:
    """Wait until the dropdown offers `option` (its lists follow the server's)."""
    deadline = time.monotonic() + timeout / 1000
    while option not in (offered := _options(page, selector)):
        assert time.monotonic() < deadline, f"{selector} never offered {option!r}: {offered}"
        time.sleep(1)


def _reopen(page) -> None:
    """Reload the page and open its Make a style tab again."""
    page.reload()
    page.locator("#stylize-btn").wait_for()
    page.get_by_role("tab", name="Make a style").click()
    page.locator("#ms-train").wait_for()


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
    """Another user's training while one runs: it waits with its place shown; the page
    reloaded lists both and follows the running one, the queued one picked is followed, and
    Stop withdraws it before it ever trains."""
    page.get_by_role("tab", name="Make a style").click()
    page.locator("#ms-painting input[type=file]").first.set_input_files(str(painting))
    page.locator("#ms-painting img").first.wait_for()
    page.locator("#ms-name textarea, #ms-name input").first.fill("waiting")
    page.locator("#ms-photos input[type=file]").set_input_files([str(p) for p in photos])
    page.wait_for_function("document.querySelectorAll('#ms-photos .file-preview tr, "
                           "#ms-photos .file').length >= 20")  # fmt: skip
    page.locator("#ms-train").click()
    wait_for_text(page, "#ms-progress", "1 training ahead of yours (place 2)")
    _reopen(page)
    _progress(page, "b.innerText.includes('Training stripes')")
    assert {"stripes · running", "waiting · queued"} <= set(_options(page, "#ms-jobs"))
    _pick(page, "#ms-jobs", "waiting · queued")
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
    offered = page.locator("#ms-server-photos").inner_text()  # --train-photos, one broken
    assert "3 photos (skipped: 1 file that cannot be read)" in offered, offered

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
        # Trainings are the server's: a page open since before this one began finds it.
        other.get_by_role("tab", name="Make a style").click()
        _progress(other, "b.innerText.includes('Training stripes')", timeout=FOUND_BY_OTHERS_MS)
        _queued_behind(other, painting, photos)
        _progress(other, "b.innerText.includes('Training stripes')", timeout=FOUND_BY_OTHERS_MS)
    page.locator("#ms-preview img").first.wait_for(timeout=60_000)
    _shot(page, "make-style.png")
    other.locator("#ms-stop").click()  # the reloaded page stops it
    _status_has(other, "Stopping stripes")
    _progress(page, "b.dataset.state === 'stopped'")
    # its bar says how it ended: "Stopping…" (said while it ran) is gone
    other.wait_for_function("!document.querySelector('#ms-status').innerText"
                            ".includes('Stopping')", timeout=TIMEOUT)  # fmt: skip
    _no_worker_left("stripes")
    assert "Fast mode's styles" in page.locator("#ms-progress").inner_text()
    stopped_at = int(page.locator("#ms-progress .styler-progress").get_attribute("data-done"))
    assert 0 < stopped_at < 100
    _grid_item(page, "stripes").wait_for(state="attached")
    _grid_item(other, "stripes").wait_for(state="attached", timeout=SEEN_BY_OTHERS_MS)

    # Resume from the checkpoint: it finishes.
    _listed(page, "#ms-jobs", "stripes · stopped")
    _pick(page, "#ms-jobs", "stripes · stopped")
    page.locator("#ms-resume").click()
    _progress(page, "b.dataset.state === 'done'", timeout=120_000)
    assert "Done: stripes" in page.locator("#ms-progress").inner_text()
    # The finished training leaves the list, its pick with it: Resume again says so in
    # words (the kept pick was outside the choices, and the page showed red Error badges).
    page.wait_for_function("!document.querySelector('#ms-jobs input').value")
    page.locator("#ms-resume").click()
    _status_has(page, "Pick a stopped or interrupted training to resume.")
    assert page.locator(".error").count() == 0

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


def test_make_a_style_refuses_bad_files_as_they_land(browser, trainer_server) -> None:
    """A painting or a photo that is no image is refused as it lands, one line beside its
    slot naming the file, never the server's path; Train names a bad file of the server's
    folder alike. On a laptop's screen the photos box's label is whole, clear of its icons."""
    files = trainer_server["files"] / "bad"
    files.mkdir()
    not_a_painting, not_a_photo = files / "text.jpg", files / "zz_text.jpg"
    not_a_painting.write_bytes(NOT_AN_IMAGE)
    not_a_photo.write_bytes(NOT_AN_IMAGE)
    painting = files / "painting.png"
    stripe_style(96, 96).save(painting)
    photos = [save(photo(80, 60, seed=200 + i), files / f"photo{i}.png") for i in range(5)]
    context, page = _open(browser, trainer_server["url"], LAPTOP)
    page.get_by_role("tab", name="Make a style").click()

    page.locator("#ms-painting input[type=file]").first.set_input_files(str(not_a_painting))
    said = wait_for_text(page, "#ms-painting-message", "That painting cannot be used: text.jpg")
    assert "/" not in said and page.locator("#ms-painting img").count() == 0

    page.locator("#ms-photos input[type=file]").set_input_files(
        [str(p) for p in [*photos, not_a_photo]])  # fmt: skip
    said = wait_for_text(page, "#ms-photos-message", "That photo cannot be used: zz_text.jpg")
    assert "/" not in said
    names = page.locator("#ms-photos td.filename")
    page.wait_for_function("document.querySelectorAll('#ms-photos td.filename').length === 5")
    assert "zz_text.jpg" not in names.all_inner_texts()
    _shot(page, "make-style-refused.png", full_page=False)

    label = page.locator("#ms-photos label[data-testid=block-label]").bounding_box()
    icons = page.locator("#ms-photos .icon-button-wrapper").bounding_box()
    assert label["x"] + label["width"] <= icons["x"], (label, icons)
    assert page.locator("#ms-photos label[data-testid=block-label]").evaluate(
        "e => e.scrollWidth <= e.clientWidth")  # fmt: skip

    page.locator("#ms-painting input[type=file]").first.set_input_files(str(painting))
    page.locator("#ms-painting img").first.wait_for()
    page.wait_for_function("document.querySelector('#ms-painting-message').innerText.trim() "
                           "=== ''")  # fmt: skip
    page.locator("#ms-name textarea, #ms-name input").first.fill("refused")
    page.locator("#ms-server-photos input").check()
    page.locator("#ms-train").click()
    said = wait_for_text(page, "#ms-status", "got 8 (1 could not be read: broken.jpg: not an")
    assert "/" not in said
    assert "refused" not in {p.name for p in (trainer_server["styles"] / ".training").glob("*")}
    context.close()


def test_the_server_photos_box_counts_only_the_photos_a_training_can_use(tmp_path: Path) -> None:
    """Its label counts the photos that can be read, a repeated file once, and says how
    many files it skips (it counted every image file: a broken one too)."""
    from types import SimpleNamespace

    from styler.ui.make_style_runs import server_photos_label

    def label() -> str | None:
        return server_photos_label(SimpleNamespace(config=SimpleNamespace(train_photos=tmp_path)))

    for i in range(3):
        save(photo(40, 30, seed=i), tmp_path / f"p{i}.png")
    assert label() == "Also train on this server's 3 photos"
    (tmp_path / "broken.jpg").write_bytes(NOT_AN_IMAGE)
    (tmp_path / "copy.png").write_bytes((tmp_path / "p0.png").read_bytes())
    assert label() == ("Also train on this server's 3 photos (skipped: 1 file that cannot be "
                       "read, 1 repeated photo)")  # fmt: skip
    for path in tmp_path.glob("*.png"):
        path.unlink()
    assert label() is None  # no box: nothing to add


def test_the_server_photos_are_counted_off_start_up_and_again_when_the_folder_changes(
    tmp_path: Path,
) -> None:
    """Counting reads every photo (seconds for hundreds): done in the background from
    start-up, and again only when the folder's listing has changed."""
    from types import SimpleNamespace

    from styler.ui.make_style_runs import ServerPhotosLabel

    for i in range(2):
        save(photo(40, 30, seed=i), tmp_path / f"p{i}.png")
    offered = ServerPhotosLabel(SimpleNamespace(config=SimpleNamespace(train_photos=tmp_path)))
    assert offered.current() == "Also train on this server's 2 photos"
    save(photo(40, 30, seed=5), tmp_path / "p5.png")
    assert offered.current() == "Also train on this server's 3 photos"


def _watch_held(page) -> None:
    """The page's timer that finds a training started elsewhere (every WATCH_S) never
    answers: the page follows none, whatever trains, until it is shown one."""
    watch = page.evaluate("""every => {
        const config = window.gradio_config;
        const timer = config.components.find(c => c.type === 'timer' && c.props.value === every);
        return config.dependencies.find(d => d.targets.some(
            ([id, event]) => id === timer.id && event === 'tick')).id;
    }""", WATCH_S)  # fmt: skip

    def hold(route) -> None:
        if json.loads(route.request.post_data or "{}").get("fn_index") != watch:
            route.continue_()

    page.route("**/run/predict", hold)


def test_stop_on_a_page_that_shows_no_training_shows_it_first(browser, trainer_server) -> None:
    """A page that follows no training presses Stop while another page's trains: Stop does
    not end a training the page never showed. It shows its bar and says so; Stop again
    stops it, and the best network so far is kept."""
    files = trainer_server["files"] / "shown-first"
    files.mkdir()
    painting = files / "painting.png"
    stripe_style(96, 96).save(painting)
    photos = [save(photo(80, 60, seed=300 + i), files / f"p{i:02d}.png") for i in range(PHOTOS)]
    context, page = _open(browser, trainer_server["url"])
    page.get_by_role("tab", name="Make a style").click()
    page.locator("#ms-stop").wait_for()
    _watch_held(page)
    other_context, other = _open(browser, trainer_server["url"])
    other.get_by_role("tab", name="Make a style").click()
    other.locator("#ms-painting input[type=file]").first.set_input_files(str(painting))
    other.locator("#ms-painting img").first.wait_for()
    other.locator("#ms-name textarea, #ms-name input").first.fill("unseen")
    other.locator("#ms-photos input[type=file]").set_input_files([str(p) for p in photos])
    other.wait_for_function("document.querySelectorAll('#ms-photos td.filename').length >= 20")
    other.locator("#ms-train").click()
    _progress(other, "b.dataset.state === 'running' && b.innerText.includes('loss')")
    assert page.locator("#ms-progress").inner_text().strip() == ""  # it shows none

    page.locator("#ms-stop").click()
    _status_has(page, "unseen is training: its bar is above. Press Stop again to stop it.")
    _progress(page, "b.innerText.includes('Training unseen')")
    _shot(page, "make-style-stop-shows-first.png", full_page=False)
    assert _workers("unseen"), "the first Stop ended the training"
    assert other.locator("#ms-progress .styler-progress").get_attribute("data-state") == "running"
    page.locator("#ms-stop").click()
    _status_has(page, "Stopping unseen")
    _progress(other, "b.dataset.state === 'stopped'")
    _no_worker_left("unseen")
    other_context.close()
    context.close()
