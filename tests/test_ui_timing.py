"""The page says how long a run should take, from the runs measured on this server, and a
Quality run shows its time left (issue 24, item 7): unit tests of the estimates, and in
Chromium on the live test server (tests/live_ui.py)."""

from __future__ import annotations

import pytest

from styler.progress import Progress
from styler.ui.timing import RunTimes, duration, run_units, time_left
from tests.test_ui import _slider
from tests.test_ui_truth import _mode, _wait_status


def test_the_estimate_is_the_median_pace_of_the_last_runs_times_the_work() -> None:
    times = RunTimes()
    assert times.estimate("Fast", 1.0) is None
    for seconds in (1.0, 2.0, 30.0):  # one slow run (a busy moment) moves the median little
        times.record("Fast", 1.0, seconds)
    assert times.estimate("Fast", 4.0) == pytest.approx(8.0)
    assert times.estimate("Instant", 1.0) is None
    assert run_units(True, (1000, 500), 100) == pytest.approx(50.0)
    assert run_units(False, (2000, 1000)) == pytest.approx(2.0)


def test_time_left_counts_each_scale_as_an_equal_share_of_the_run() -> None:
    # 120 steps over 4 scales: 64, 32, 16, 8. The first scale done after 10 s: 3 more.
    assert time_left(Progress(64, 120, 0, 4, (64, 64), elapsed=10.0)) == pytest.approx(30.0)
    assert time_left(Progress(20, 20, 0, 1, (64, 64), elapsed=8.0)) == pytest.approx(0.0)
    assert time_left(Progress(10, 20, 0, 1, (64, 64), elapsed=8.0)) == pytest.approx(8.0)
    assert time_left(Progress(1, 20, 0, 1, (64, 64), elapsed=0.5)) is None
    assert [duration(s) for s in (0.4, 3.2, 75)] == ["under a second", "about 3 s",
                                                      "about 1 min 20 s"]  # fmt: skip


def test_the_status_says_what_a_run_should_take(page, server) -> None:
    """The first Fast run here has nothing to go by and says so; the next one gives the time
    the first took. The mode's help promises no time of its own."""
    assert "about a second" not in page.locator("#mode").inner_text()
    page.locator("#content img").first.wait_for()
    page.evaluate(
        "() => { window.seen = []; const s = document.querySelector('#status');"
        " new MutationObserver(() => window.seen.push(s.innerText))"
        ".observe(s, {subtree: true, childList: true, characterData: true}); }"
    )
    for runs in (1, 2):
        page.locator("#stylize-btn").click()
        page.wait_for_function("n => window.seen.filter(t => t.startsWith('Done')).length >= n",
                               arg=runs)  # fmt: skip
    seen = [t for t in page.evaluate("window.seen") if t.startswith("Working")]
    assert "The first Fast run on this server" in seen[0], seen
    assert "Expected: " in seen[-1] and "from the last Fast runs on this server" in seen[-1], seen


def test_a_quality_run_shows_its_time_left(page, server) -> None:
    _mode(page, "Quality")
    page.locator("#controls").get_by_text("4 · Adjust").click()
    page.locator("#steps").wait_for()
    _slider(page, "size", 128)
    _slider(page, "steps", 30)
    page.locator("#stylize-btn").click()
    bar = page.wait_for_function(
        "() => { const s = document.querySelector('#progress span');"
        " return s && s.innerText.includes('left') ? s.innerText : false; }",
        timeout=60_000,
    )
    text = bar.json_value()
    assert "step" in text and ("s left" in text or "min left" in text), text
    _wait_status(page, "Done", timeout=90_000)


def test_refine_and_continue_are_estimated_from_their_own_runs(tmp_path) -> None:
    from types import SimpleNamespace

    from PIL import Image

    from styler.ui.runs import REFINE, expected_follow_up
    from styler.ui.state import Entry

    png = tmp_path / "instant.png"
    Image.new("RGB", (1000, 500)).save(png)
    services = SimpleNamespace(timings=RunTimes())
    instant = Entry(path=png, thumb=png, caption="instant", settings={})
    assert "first Refine run" in expected_follow_up(services, instant, 0)
    services.timings.record(REFINE, run_units(True, (1000, 500), 20), 10.0)
    assert "Expected: about 10 s" in expected_follow_up(services, instant, 0)  # 20 steps
    assert "Expected: about 20 s" in expected_follow_up(services, instant, 40)
    stopped = Entry(path=png, thumb=png, caption="stopped", settings={}, completed=False,
                    steps_done=30, steps_total=120, full_size=(1000, 500))  # fmt: skip
    assert "first Quality run" in expected_follow_up(services, stopped, None)
    services.timings.record("Quality", run_units(True, (1000, 500), 120), 60.0)
    assert "Expected: about 45 s" in expected_follow_up(services, stopped, None)  # 90 left
