"""Painting regions (issue 24, item 5): a drag on the photo paints at once, without finding
the brush first, and a run whose painted regions came to nothing says so in the status line;
in Chromium on the live test server (tests/live_ui.py)."""

from __future__ import annotations

from tests.test_ui import _status, _upload
from tests.test_ui_truth import _choose_region_style, _fast_result, _wait_status
from tests.ui_helpers import drag_stroke, photo, save

NOTHING = "changed nothing"


def _open_regions(page) -> None:
    """Open the painter, and take the moment a person's eye needs to find the photo."""
    page.locator("#regions").get_by_text("Regions:").click()
    page.locator("#editor canvas").first.wait_for()
    page.wait_for_timeout(600)


def test_a_drag_paints_at_once(page, server) -> None:
    """Regions opened, a drag straight away (no tool picked), No style for red: the run
    keeps the photo there and warns of nothing."""
    _fast_result(page)
    _open_regions(page)
    drag_stroke(page)
    _choose_region_style(page, 1)  # No style (keep the photo)
    page.locator("#stylize-btn").click()
    status = _wait_status(page, "Done")
    assert NOTHING not in status, status
    assert page.locator("#regions-hint").inner_text().startswith("Drag on the photo")
    # A new photo in the open painter: a drag still paints.
    _upload(page, "#content", save(photo(160, 120, seed=3), server.files / "new.png"))
    page.wait_for_function("(document.querySelector('#content img') || {src: ''}).src"
                           ".includes('new')")  # fmt: skip
    page.wait_for_timeout(1000)
    drag_stroke(page)
    page.locator("#stylize-btn").click()
    page.wait_for_function(
        "document.querySelector('#status').innerText.includes('Done') && "
        "document.querySelector('#status').innerText.includes('160×120')"
    )
    assert NOTHING not in _status(page).inner_text(), _status(page).inner_text()


def test_regions_that_came_to_nothing_are_named(page, server) -> None:
    """A region given a style but never painted, then one painted but left at the main
    style: each run goes ahead and the status line says why the region did nothing."""
    _fast_result(page)
    _open_regions(page)
    _choose_region_style(page, 1)
    page.locator("#stylize-btn").click()
    status = _wait_status(page, "⚠ The Red region has a style but nothing is painted")
    assert status.startswith("Done"), status
    _choose_region_style(page, 0)  # back to the main style
    drag_stroke(page)
    page.locator("#stylize-btn").click()
    status = _wait_status(page, "⚠ The Red region is painted but its style is Main style")
    assert status.startswith("Done") and "nothing is painted" not in status, status


def test_unused_regions_are_named_and_used_ones_are_not() -> None:
    import numpy as np

    from styler.ui.effects import REGIONS
    from styler.ui.inputs import MAIN_STYLE, NO_STYLE, Regions

    layer = np.zeros((20, 20, 4), np.uint8)
    layer[5:15, 5:15] = (*REGIONS["Red"], 255)
    assert Regions([layer], {"Red": NO_STYLE}).unused() == ()
    assert "Red region is painted but its style is Main style" in Regions(
        [layer], {"Red": MAIN_STYLE}).unused()[0]  # fmt: skip
    blue = Regions([layer], {"Red": NO_STYLE, "Blue": NO_STYLE}).unused()
    assert len(blue) == 1 and "Blue region has a style but nothing is painted" in blue[0]
    assert Regions().unused() == ()
