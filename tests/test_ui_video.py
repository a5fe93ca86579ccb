"""The Video tab: its handlers without a browser (a clip checked, a frame previewed, the whole
clip run and stopped), then the tab in Chromium on the live test server (tests/live_ui.py),
with the tiny fast styles and small clips written here (tests/video_clips.py).

Screenshots (video.png at 1280x900, video-phone.png at 390x844) go where tests/ui_helpers.py's
SHOTS says: STYLER_UI_SHOTS=docs/ui refreshes docs/ui.md's.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from styler.video import read_video_settings
from tests.ui_helpers import SHOTS, TIMEOUT, make_tiny_styles, settled_text, wait_for_text
from tests.video_clips import (
    DURATIONS,
    moving_pattern,
    played,
    streams,
    write_animation,
    write_clip,
)

ROOT = Path(__file__).resolve().parents[1]
LONG_CLIP_FRAMES = 200
pytest.importorskip("gradio")


# ------------------------------------------------------------------------------ handlers


@pytest.fixture
def services(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch):
    from styler.ui.config import UIConfig
    from styler.ui.services import Services

    weights = make_tiny_styles(tmp_path_factory.mktemp("weights"))
    monkeypatch.setenv("STYLER_WEIGHTS_DIR", str(weights))
    services = Services(UIConfig(device="cpu", temp_dir=tmp_path_factory.mktemp("ui"),
                                 max_upload_pixels=2_000_000, prewarm=False,
                                 step_delay=0.05))  # fmt: skip
    yield services
    services.workspace.cleanup()


def test_video_handlers_check_preview_run_and_stop(services, tmp_path: Path) -> None:
    from styler.ui.inputs import FAST, Controls
    from styler.ui.messages import UserError
    from styler.ui.streaming import Update
    from styler.ui.video_runs import ClipOutcome, check_clip, clip_span, preview_frame, run_clip

    clip = write_clip(tmp_path / "pan.mp4", moving_pattern(64, 48, 8))
    assert check_clip(services, clip).frames == 8
    fake = tmp_path / "notes.mp4"
    fake.write_text("this is not a video")
    with pytest.raises(UserError, match=r"^That clip cannot be used: notes\.mp4: not a video"):
        check_clip(services, fake)
    with pytest.raises(UserError, match="not a video file"):
        check_clip(services, tmp_path / "photo.jpg")
    style = services.style_names()[0]
    controls = Controls(strength=0.8, temporal=0.5)

    path, text = preview_frame(services, clip, FAST, style, None, controls)
    assert Image.open(path).size == (64, 48) and "first frame" in text
    took = float(re.search(r"\) in (\d+\.\d+) s\. ", text).group(1))
    assert took > 0  # a fast frame was "in 0.0 s"
    path, text = preview_frame(services, clip, FAST, style, None, controls, at=0.5)
    assert text.startswith("Preview of the frame at 0.5 s")
    later = np.asarray(Image.open(path))
    assert not np.array_equal(later, np.asarray(Image.open(preview_frame(
        services, clip, FAST, style, None, controls)[0])))  # fmt: skip

    items = list(run_clip(services, "s:video", clip, FAST, style, None, controls))
    progress = [i.progress for i in items if isinstance(i, Update) and i.progress]
    assert progress and all(p.total_steps == 8 for p in progress)  # frames of the clip
    outcome = items[-1]
    assert isinstance(outcome, ClipOutcome) and outcome.status.startswith("Done: 8 frames")
    facts = streams(outcome.path)
    assert facts["frames"] == 8 and facts["codec"] == "h264" and facts["audio"]

    # Only a part: its frames, said in the status line; a time that is none, one line.
    part = list(run_clip(services, "s:video", clip, FAST, style, None, controls,
                         clip_span("0.25", "")))[-1]  # fmt: skip
    assert part.status.startswith("Done: 5 frames (from 0:00.25 to the end)"), part.status
    assert streams(part.path)["frames"] == 5
    with pytest.raises(UserError, match="^From/To: '1:x' is not a time"):
        clip_span("1:x", "")
    with pytest.raises(UserError, match="at or after the clip's end"):
        list(run_clip(services, "s:video", clip, FAST, style, None, controls, clip_span("9", "")))

    # Stop: the run ends after the frame under way and leaves no file behind.
    long = write_clip(tmp_path / "long.mp4", moving_pattern(64, 48, 40))
    before = set(services.workspace.root.rglob("*.mp4"))
    stopped = None
    for item in run_clip(services, "s:video", long, FAST, style, None, controls):
        if isinstance(item, Update) and item.progress and item.progress.step >= 2:
            services.cancel("s:video")
        if isinstance(item, ClipOutcome):
            stopped = item
    assert stopped is not None and stopped.path is None and "Stopped" in stopped.status
    assert set(services.workspace.root.rglob("*.mp4")) == before

    # Stopped after a finished segment (12 fps: 24 frames), the next run of the same clip
    # and settings goes on from there; other settings start afresh.
    for item in run_clip(services, "s:video", long, FAST, style, None, controls):
        if isinstance(item, Update) and item.progress and item.progress.step >= 30:
            services.cancel("s:video")
        stopped = item if isinstance(item, ClipOutcome) else stopped
    assert stopped.path is None and stopped.status.startswith("Stopped after 3"), stopped.status
    assert re.search(r"The first 24 frames are kept: Stylize the clip again with the same "
                     r"settings \(.+, Fast\) to go on from frame 25\.$", stopped.status)
    went_on = list(run_clip(services, "s:video", long, FAST, style, None, controls))[-1]
    assert went_on.status.startswith("Done: 40 frames") and "going on from frame 25" in \
        went_on.status  # fmt: skip
    assert streams(went_on.path)["frames"] == 40
    for item in run_clip(services, "s:video", long, FAST, style, None, controls):
        if isinstance(item, Update) and item.progress and item.progress.step >= 30:
            services.cancel("s:video")
    other = list(run_clip(services, "s:video", long, FAST, style, None,
                          Controls(strength=0.5, temporal=0.5)))[-1]  # fmt: skip
    assert other.status.startswith("Done: 40 frames") and "going on" not in other.status
    assert not list(services.workspace.root.rglob("*.styler-journal"))
    with pytest.raises(UserError, match="Pick a style"):
        preview_frame(services, clip, FAST, "no_such_style", None, controls)


def test_a_clip_whose_page_left_keeps_its_segments_for_the_page_that_comes_back(
    services, tmp_path: Path
) -> None:  # fmt: skip
    """The browser leaving counts as Stop: the finished segments are kept under the page's
    history (a reload keeps it; the page's own key is new), the next page is told where it
    stopped, and its Stylize clip goes on from there."""
    from styler.ui.inputs import FAST, Controls
    from styler.ui.state import VIDEO_TAB
    from styler.ui.streaming import Update
    from styler.ui.video_runs import run_clip

    long = write_clip(tmp_path / "long.mp4", moving_pattern(64, 48, 40))
    style, controls = services.style_names()[0], Controls(strength=0.8, temporal=0.5)
    run = run_clip(services, "old:video", long, FAST, style, None, controls, owner="secret")
    next(i for i in run if isinstance(i, Update) and i.progress and i.progress.step >= 30)
    run.close()  # the browser left: Gradio closes the run and says the page is gone
    services.left("old")
    notice = services.histories.settled("secret", VIDEO_TAB, 30)
    assert notice is not None and notice.path is None
    assert notice.text.startswith("Your last clip was stopped at frame 3"), notice.text
    # the settings named: the reloaded page shows the first style and Fast mode again
    assert re.search(r"of 40 when the page was left: its first 24 frames are kept\. Stylize "
                     r"the same clip again with the same settings \(.+, Fast\) to go on from "
                     r"there \(frame 25\)\.$", notice.text), notice.text
    went_on = list(run_clip(services, "new:video", long, FAST, style, None, controls,
                            owner="secret"))[-1]  # fmt: skip
    assert went_on.status.startswith("Done: 40 frames") and "going on from frame 25" in \
        went_on.status  # fmt: skip


@pytest.mark.parametrize(("form", "suffix", "name"),
                         [("GIF", ".gif", "GIF"), ("WEBP", ".webp", "WebP")])  # fmt: skip
def test_video_handlers_take_an_animation_and_give_one_back(
    services, tmp_path: Path, form: str, suffix: str, name: str
) -> None:
    from styler.ui.inputs import FAST, Controls
    from styler.ui.messages import UserError
    from styler.ui.video_runs import (
        ClipOutcome,
        check_clip,
        describe_clip,
        preview_frame,
        run_clip,
    )

    source = write_animation(tmp_path / f"loop{suffix}", form)
    described = describe_clip(check_clip(services, source))
    assert described.startswith(f"{name} animation · 48×32 · 5 frames")
    path, _ = preview_frame(services, source, FAST, services.style_names()[0], None, Controls())
    assert Image.open(path).size == (48, 32)
    outcome = list(run_clip(services, "s:video", source, FAST, services.style_names()[0],
                            None, Controls()))[-1]  # fmt: skip
    assert isinstance(outcome, ClipOutcome) and outcome.status.startswith("Done: 5 frames")
    assert outcome.path.suffix == suffix and "sound" not in outcome.status
    assert played(outcome.path)[:3] == (form, DURATIONS, 2)  # animated, timed and looped
    still = tmp_path / f"still{suffix}"
    Image.fromarray(moving_pattern(48, 32, 1)[0]).save(still, format=form)
    with pytest.raises(UserError, match=rf"still{suffix}: one frame, a still picture"):
        check_clip(services, still)
    broken = tmp_path / f"broken{suffix}"
    broken.write_bytes(source.read_bytes()[:40])
    with pytest.raises(UserError, match=rf"^That clip cannot be used: broken{suffix}: "):
        check_clip(services, broken)


FRENCH = {"language": "fra"}


def test_the_video_tab_says_a_clip_has_subtitles_and_keeps_them(services, tmp_path) -> None:
    from styler.ui.inputs import FAST, Controls
    from styler.ui.video_runs import ClipOutcome, check_clip, describe_clip, run_clip

    film = write_clip(tmp_path / "film.mkv", moving_pattern(64, 48, 6), caption_tags=FRENCH,
                      captions=[(0.0, 0.4, "Bonjour")])  # fmt: skip
    assert describe_clip(check_clip(services, film)).endswith("· with sound · subtitles (fra)")
    outcome = list(run_clip(services, "s:video", film, FAST, services.style_names()[0], None,
                            Controls()))[-1]  # fmt: skip
    assert isinstance(outcome, ClipOutcome) and "with its sound and subtitles" in outcome.status
    plain = write_clip(tmp_path / "plain.mp4", moving_pattern(64, 48, 6))
    assert describe_clip(check_clip(services, plain)).endswith("· with sound")


def test_live_frames_are_painted_as_a_clip_and_restart_on_a_change(services) -> None:
    from styler.ui.inputs import FAST, QUALITY, Controls
    from styler.ui.live_runs import live_frame
    from styler.ui.messages import UserError
    from styler.video import FrameStylizer

    frames = moving_pattern(64, 48, 4)
    first, second = services.style_names()[:2]
    controls = Controls(temporal=0.6)
    state, painted = None, []
    for frame in frames:
        image, state, text = live_frame(services, state, frame, FAST, first, None, controls)
        painted.append(image)
    assert text.startswith("Live: ") and "64×48" in text and "fps" in text
    assert state.frames == 4
    # the same pictures as a clip's stream of those frames: steadied, not four photos
    stream = FrameStylizer(services.engines.fast(state.stream.engine.recipe))
    expected = [stream.stylize(frame) for frame in frames]
    assert all(np.array_equal(a, b) for a, b in zip(painted, expected, strict=True))
    kept = state
    _, state, _ = live_frame(services, state, frames[0], FAST, second, None, controls)
    assert state is not kept and state.frames == 1  # another style: a new stream
    _, same, _ = live_frame(services, state, frames[1], FAST, second, None, controls)
    assert same is state and state.frames == 2
    state.last -= 5  # a pause (Stop, then Record): the next frame starts a new scene
    _, same, _ = live_frame(services, state, frames[2], FAST, second, None, controls)
    assert same is state and state.frames == 1
    assert live_frame(services, state, None, FAST, second, None, controls)[0] is None
    with pytest.raises(UserError, match="needs Fast or Instant"):
        live_frame(services, state, frames[0], QUALITY, None, None, controls)


def test_stop_waits_for_the_run_to_end_so_that_its_last_word_stands(services) -> None:
    """The Video tab's Stop answers after the run ends (styler.ui.video_tab's stop): its
    "Stopping…" could otherwise reach the page after the run's "Stopped …" and stay."""
    assert services.wait_stopped("s:none", 0.01)  # nothing runs
    release = threading.Event()

    def run(delay: float) -> None:
        with services.cancellable("s:wait") as token:
            token.wait(10)
            release.wait(delay)

    started = threading.Thread(target=run, args=(0.2,))
    started.start()
    while not services.cancel("s:wait"):
        time.sleep(0.01)
    began = time.perf_counter()
    assert services.wait_stopped("s:wait", 5)
    assert 0.1 < time.perf_counter() - began < 5
    started.join()
    slow = threading.Thread(target=run, args=(10,))
    slow.start()
    while not services.cancel("s:wait"):
        time.sleep(0.01)
    assert not services.wait_stopped("s:wait", 0.2)  # still running: "Stopping…" it is
    release.set()
    slow.join()
    assert services.wait_stopped("s:wait", 1)


def test_video_runs_import_without_gradio() -> None:
    """What the Video tab's buttons do is plain Python, testable and usable without gradio."""
    code = ("import sys; sys.modules['gradio'] = None\n"
            "import styler.ui.video_runs\n"
            "assert 'gradio' not in [m for m in sys.modules if sys.modules[m] is not None]\n")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, timeout=120)


# ---------------------------------------------------------------------------- in Chromium


def _upload(page, selector: str, path: Path) -> None:
    """Into the box, cleared first where it shows a clip (a player, no file input)."""
    box = page.locator(selector)
    if box.locator("video").count():
        box.get_by_label("Clear").first.click()
    box.locator("input[type=file]").first.set_input_files(str(path))


def _shot(page, name: str) -> None:
    """The page as it stands, without toasts left from earlier steps (the player's own
    'Video not playable' for the text file named .mp4)."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    for close in page.locator(".toast-close").all():
        close.click()
    page.locator(".toast-body").first.wait_for(state="detached")
    page.mouse.move(1, 1)
    page.screenshot(path=str(SHOTS / name), full_page=True)


def _status_has(page, text: str, timeout: float = TIMEOUT) -> None:
    wait_for_text(page, "#video-status", text, timeout)


def test_video_tab_preview_run_download_stop_and_bad_upload(page, server) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("tab", name="Video").click()
    run = page.locator("#video-run")
    run.wait_for()
    assert run.is_disabled()  # no clip yet

    # A text file named .mp4: one line beside the clip, the buttons stay disabled.
    fake = server.files / "notes.mp4"
    fake.write_text("this is not a video")
    _upload(page, "#video-clip", fake)
    page.locator("#video-clip-message", has_text="notes.mp4: not a video").wait_for()
    assert run.is_disabled() and page.locator("#video-preview-btn").is_disabled()

    clip = write_clip(server.files / "pan.mp4", moving_pattern(64, 48, 8))
    _upload(page, "#video-clip", clip)
    page.locator("#video-clip-message", has_text="8 frames").wait_for()
    page.wait_for_function("!document.querySelector('#video-run').disabled")
    assert "⚠" not in page.locator("#video-clip-message").inner_text()

    start = time.monotonic()
    page.locator("#video-preview-btn").click()
    page.locator("#video-preview img").first.wait_for()
    _status_has(page, "Preview of the first frame")
    assert time.monotonic() - start < 10  # a Fast frame: well within a few seconds here
    at = page.locator("#video-preview-at input[type=number]")
    assert at.get_attribute("max") == "0.7"  # the clip's length, set as it landed
    at.fill("0.5")
    at.press("Enter")
    page.locator("#video-preview-btn").click()
    _status_has(page, "Preview of the frame at 0.5 s")

    run.click()
    _status_has(page, "Done: 8 frames", timeout=60_000)
    src = page.locator("#video-result video").first.get_attribute("src")
    assert src and ".mp4" in src
    _shot(page, "video.png")
    with page.expect_download() as info:
        page.locator("#video-download").click()
    target = server.files / "result.mp4"
    info.value.save_as(target)
    facts = streams(target)
    assert facts["frames"] == 8 and facts["codec"] == "h264" and facts["audio"]
    assert read_video_settings(target)["mode"] == "fast"

    page.wait_for_function(  # Chromium can play it: its frames are known
        "() => { const v = document.querySelector('#video-result video');"
        " return v && v.readyState >= 1 && v.videoWidth === 64 }")  # fmt: skip

    # Modes: Quality warns; Instant takes a style image; an error ends in the status line.
    page.locator("#video-mode label", has_text="Quality").click()
    page.locator("#video-quality-note", has_text="minutes").wait_for()
    page.locator("#video-mode label", has_text="Instant").click()
    page.locator("#video-quality-note").wait_for(state="hidden")
    style_box = page.locator("#video-style-image")
    style_box.wait_for()
    if style_box.locator("img").count():  # the sample style image: cleared for the error
        style_box.get_by_label("Remove Image").first.click()
    page.locator("#video-preview-btn").click()
    _status_has(page, "Add a style image")
    page.wait_for_function("!document.querySelector('#video-preview-btn').disabled")
    page.locator("#video-mode label", has_text="Fast").click()

    # Stop on a longer clip (the test server waits 0.35 s a frame, so it runs over a minute,
    # however long the other user's steps below take): nothing written; while it runs,
    # another user's Fast photo is done without waiting for it.
    written = set(server.root.rglob("*.mp4"))
    long = write_clip(server.files / "long.mp4", moving_pattern(64, 48, LONG_CLIP_FRAMES))
    _upload(page, "#video-clip", long)
    page.locator("#video-clip-message", has_text=f"{LONG_CLIP_FRAMES} frames").wait_for()
    # the last clip's preview frame is not this one's: cleared as it lands
    page.wait_for_function("!document.querySelector('#video-preview img')")
    run.click()
    page.wait_for_function(
        "() => { const b = document.querySelector('#video-progress .styler-progress');"
        " return b && Number(b.dataset.step) >= 2 }", timeout=60_000)  # fmt: skip
    assert "Frame" in page.locator("#video-progress").inner_text()
    other = page.context.browser.new_page(viewport={"width": 1280, "height": 800})
    other.goto(server.url)
    other.locator("#content img").first.wait_for(timeout=TIMEOUT)
    other.locator("#stylize-btn").click()
    other.wait_for_function("document.querySelector('#status').innerText.includes('Done')",
                            timeout=20_000)  # fmt: skip
    # Their clip waits for this one (one clip at a time), and their Stop withdraws it.
    other.get_by_role("tab", name="Video").click()
    _upload(other, "#video-clip", clip)
    other.wait_for_function("!document.querySelector('#video-run').disabled")
    other.locator("#video-run").click()
    _status_has(other, "Waiting for a free video slot")
    other.locator("#video-stop").click()
    _status_has(other, "Withdrawn")
    other.wait_for_function("!document.querySelector('#video-run').disabled")
    other.close()
    assert "Stylizing the clip" in page.locator("#video-status").inner_text()  # still going
    page.locator("#video-stop").click()
    _status_has(page, "Stopped", timeout=60_000)
    page.wait_for_function("!document.querySelector('#video-run').disabled")
    # nothing written, nothing offered: the first clip's result stayed on show and on the
    # Download button, beside "nothing was written"
    shown = page.locator("#video-result video")
    assert not shown.count() or not shown.first.get_attribute("src")
    assert page.locator("#video-download").is_disabled()
    time.sleep(4)  # time enough for the withdrawn 8-frame clip to be written, had it run
    new = {p for p in set(server.root.rglob("*.mp4")) - written if "gradio" not in p.parts}
    assert not new, new  # Gradio's copy of the upload aside, no output was written


def test_a_clip_left_by_a_reload_is_said_and_goes_on_from_there(page, server) -> None:
    """Leaving the page counts as Stop: the reloaded page's Video tab says at which frame
    the clip stopped and that its finished segment is kept; the same clip again goes on from
    there. (A reload threw the run away, and the page said nothing.)"""
    page.set_viewport_size({"width": 1280, "height": 900})
    page.wait_for_function("localStorage.getItem('styler-history')")
    page.get_by_role("tab", name="Video").click()
    clip = write_clip(server.files / "left.mp4", moving_pattern(64, 48, 40))
    _upload(page, "#video-clip", clip)
    page.locator("#video-clip-message", has_text="40 frames").wait_for()
    page.wait_for_function("!document.querySelector('#video-run').disabled")
    page.locator("#video-run").click()
    page.wait_for_function(  # past the first segment: 2 s of the clip, 24 frames
        "() => { const b = document.querySelector('#video-progress .styler-progress');"
        " return b && Number(b.dataset.step) >= 26 }", timeout=60_000)  # fmt: skip
    page.reload()
    page.locator("#stylize-btn").wait_for()
    page.get_by_role("tab", name="Video").click()
    status = settled_text(page, "#video-status", "when the page was left", 60_000).strip()
    assert re.fullmatch(r"Your last clip was stopped at frame \d+ of 40 when the page was left: "
                        r"its first 24 frames are kept\. Stylize the same clip again with the "
                        r"same settings \(.+, Fast\) to go on from there \(frame 25\)\.",
                        status), status
    _shot(page, "video-left.png")
    _upload(page, "#video-clip", clip)
    page.locator("#video-clip-message", has_text="40 frames").wait_for()
    page.wait_for_function("!document.querySelector('#video-run').disabled")
    page.locator("#video-run").click()
    _status_has(page, "going on from frame 25", timeout=60_000)
    assert page.locator("#video-status").inner_text().startswith("Done: 40 frames")


def test_a_clip_landing_while_a_clip_runs_leaves_the_buttons_disabled(page, server) -> None:
    """Another clip dropped while one is painted: it is checked and described, but Stylize
    clip and Preview stay disabled until the run is stopped (its check enabled them, so a
    second clip could be queued behind the first)."""
    page.get_by_role("tab", name="Video").click()
    _upload(page, "#video-clip", write_clip(server.files / "busy.mp4", moving_pattern(64, 48, 40)))
    page.locator("#video-clip-message", has_text="40 frames").wait_for()
    page.wait_for_function("!document.querySelector('#video-run').disabled")
    page.locator("#video-run").click()
    page.wait_for_function(
        "() => { const b = document.querySelector('#video-progress .styler-progress');"
        " return b && Number(b.dataset.step) >= 2 }", timeout=60_000)  # fmt: skip
    _upload(page, "#video-clip", write_clip(server.files / "next.mp4", moving_pattern(48, 32, 30)))
    page.locator("#video-clip-message", has_text="30 frames").wait_for()
    page.wait_for_timeout(500)
    for button in ("#video-run", "#video-preview-btn"):
        assert page.locator(button).is_disabled(), button
    page.locator("#video-stop").click()
    _status_has(page, "Stopped", timeout=60_000)
    page.wait_for_function("!document.querySelector('#video-run').disabled")


def test_video_tab_takes_an_animation_and_plays_it_back_animated(page, server) -> None:
    page.set_viewport_size({"width": 1280, "height": 900})
    page.get_by_role("tab", name="Video").click()
    run = page.locator("#video-run")
    run.wait_for()
    _upload(page, "#video-clip", write_clip(server.files / "pan.mp4", moving_pattern(64, 48, 8)))
    page.locator("#video-clip-message", has_text="8 frames").wait_for()

    # An animated GIF in its own box takes the video's place.
    sticker = write_animation(server.files / "loop.gif", "GIF")
    page.locator("#video-animation input[type=file]").first.set_input_files(str(sticker))
    page.locator("#video-clip-message", has_text="GIF animation · 48×32 · 5 frames").wait_for()
    page.locator("#video-clip video").wait_for(state="detached")
    page.wait_for_function("!document.querySelector('#video-run').disabled")
    page.locator("#video-part-start textarea, #video-part-start input").first.fill("0.1")
    page.locator("#video-part-end textarea, #video-part-end input").first.fill("0.41")
    run.click()
    _status_has(page, "Done: 3 frames (from 0:00.1 to 0:00.41)", timeout=60_000)
    shown = page.locator("#video-result-animation img").first
    shown.wait_for()
    assert ".gif" in (shown.get_attribute("src") or "")
    assert page.locator("#video-result").is_hidden()  # no video player for a GIF
    _shot(page, "video-animation.png")
    with page.expect_download() as info:
        page.locator("#video-download", has_text="Download GIF").click()
    target = server.files / "result.gif"
    info.value.save_as(target)
    assert played(target)[:3] == ("GIF", [100, 200, 10], 2)  # the part, timed and looped

    # One frame is a photo: one line, the buttons off.
    still = server.files / "still.gif"
    Image.fromarray(moving_pattern(48, 32, 1)[0]).save(still)
    page.locator("#video-animation").get_by_label("Remove Image").first.click()
    page.locator("#video-animation input[type=file]").first.set_input_files(str(still))
    page.locator("#video-clip-message", has_text="still.gif: one frame").wait_for()
    assert run.is_disabled() and page.locator("#video-preview-btn").is_disabled()


def test_video_tab_paints_the_camera_live(browser, server) -> None:
    """Chromium's fake camera (a moving pattern) streams to the tab: each frame comes back
    painted in the preview, with the rate in the status line; Stop says the camera stopped
    (the line said "Live" for good); Quality mode says why not."""
    context = browser.new_context(viewport={"width": 1280, "height": 900},
                                  permissions=["camera"])  # fmt: skip
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(server.url)
    page.get_by_role("tab", name="Video").click()
    page.locator("#video-live").get_by_text("live from your camera").click()
    camera = page.locator("#video-camera")
    camera.get_by_text("Click to Access Webcam").click()
    page.wait_for_function(
        "() => { const v = document.querySelector('#video-camera video');"
        " return v && v.readyState >= 2 && v.videoWidth > 0 }")  # fmt: skip
    camera.get_by_role("button", name="capture photo").click()  # Record
    _status_has(page, "Live: ")
    page.wait_for_function("document.querySelector('#video-status').innerText.includes('fps')")
    shown = set()
    for _ in range(100):  # several painted frames in turn, not one picture
        shown.add(page.locator("#video-preview img").first.get_attribute("src"))
        if len(shown) >= 3:
            break
        time.sleep(0.1)
    assert len(shown) >= 3, shown
    width = page.evaluate("document.querySelector('#video-camera video').videoWidth")
    assert width <= 640  # the browser is asked for a webcam's usual size, not its largest
    _shot(page, "video-live.png")
    camera.get_by_role("button", name="capture photo").click()  # Stop: no "Live" left
    _status_has(page, "Camera stopped: record again to paint live.")
    camera.get_by_role("button", name="capture photo").click()  # Record again
    _status_has(page, "Live: ")
    page.locator("#video-mode label", has_text="Quality").click()
    _status_has(page, "Live painting needs Fast or Instant mode")
    camera.get_by_role("button", name="capture photo").click()  # Stop
    context.close()


def test_video_tab_on_a_phone(browser, server) -> None:
    context = browser.new_context(viewport={"width": 390, "height": 844}, is_mobile=True,
                                  has_touch=True)  # fmt: skip
    page = context.new_page()
    page.set_default_timeout(TIMEOUT)
    page.goto(server.url)
    page.get_by_role("tab", name="Video").click()
    page.locator("#video-run").wait_for()
    page.wait_for_function(  # the style thumbnails have loaded
        "() => { const i = [...document.querySelectorAll('#video-style-grid img')];"
        " return i.length && i.every(x => x.complete && x.naturalWidth > 0) }")  # fmt: skip
    _shot(page, "video-phone.png")
    width = page.evaluate("Math.max(window.innerWidth, document.documentElement.scrollWidth)")
    assert width <= 390, f"the page is {width}px wide, more than the phone's 390 px"
    context.close()


def test_video_screenshots_are_where_the_docs_expect_them() -> None:
    doc = (ROOT / "docs" / "ui.md").read_text()
    for name in ("video.png", "video-phone.png", "video-animation.png", "video-live.png"):
        assert f"(ui/{name})" in doc and (ROOT / "docs" / "ui" / name).is_file(), name
