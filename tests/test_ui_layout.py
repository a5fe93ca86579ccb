"""Layout (issue 24, item 8): an image slot's label sits above its picture, dropdown text
stops short of its arrow, and Batch's size help names only boxes Batch has; in Chromium at
a phone's 390x844 and at 1280x900 on the live test server (tests/live_ui.py)."""

from __future__ import annotations

import pytest

from tests.test_ui_truth import _choose_region_style, _fast_result
from tests.ui_helpers import stylize_page

PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}

LABEL_CLEAR = """s => {
  const block = document.querySelector(s);
  const label = block.querySelector('[data-testid="block-label"]').getBoundingClientRect();
  const img = block.querySelector('img').getBoundingClientRect();
  const sources = block.querySelector('.source-selection');
  const bottom = block.getBoundingClientRect().bottom;
  return [label.bottom <= img.top + 0.5,
          !sources || sources.getBoundingClientRect().bottom <= bottom + 0.5];
}"""

TEXT_CLEAR = """s => {
  const input = document.querySelector(s + ' input');
  const arrow = document.querySelector(s + ' .icon-wrap').getBoundingClientRect();
  const box = input.getBoundingClientRect();
  return box.right - parseFloat(getComputedStyle(input).paddingRight) <= arrow.left + 0.5;
}"""


@pytest.fixture(params=[PHONE, DESKTOP], ids=["phone", "desktop"])
def sized_page(request, browser, server):
    mobile = request.param == PHONE
    with stylize_page(browser, server.url, viewport=request.param, is_mobile=mobile) as page:
        yield page


def test_the_photo_label_is_above_the_photo(sized_page) -> None:
    page = sized_page
    page.locator("#content img").first.wait_for()
    assert page.evaluate(LABEL_CLEAR, "#content") == [True, True]


def test_the_result_label_is_above_the_result(sized_page) -> None:
    page = sized_page
    _fast_result(page)
    page.locator("#result img").first.wait_for()
    assert page.evaluate(LABEL_CLEAR, "#result") == [True, True]


def test_dropdown_text_stops_short_of_its_arrow(sized_page) -> None:
    page = sized_page
    page.locator("#regions").get_by_text("Regions:").click()
    page.locator("#region-red").scroll_into_view_if_needed()
    _choose_region_style(page, 1)  # 'No style (keep the photo)': longer than the box
    for selector in ("#region-red", "#style"):
        assert page.evaluate(TEXT_CLEAR, selector), selector


def test_batch_size_help_names_only_boxes_batch_has(sized_page) -> None:
    page = sized_page
    page.get_by_role("tab", name="Batch").click()
    help_text = page.locator("#batch-size").inner_text().lower()
    if "upscale" in help_text:
        assert page.locator("#batch-upscale").is_visible()


@pytest.mark.parametrize("tab", ["Batch", "Video"])
def test_batch_and_video_offer_the_stroke_size_where_it_acts(page, tab) -> None:
    """The stroke side has a slider in Batch and Video as in Stylize: each one-pass mode's
    own default, hidden in Quality mode (which paints at the output's size)."""
    from styler.controls import CONTROLS, FAST, INSTANT

    prefix = tab.lower()
    page.get_by_role("tab", name=tab).click()
    if tab == "Video":
        page.locator("#video-controls").get_by_text("4 · Adjust").click()
    slider = page.locator(f"#{prefix}-stroke-side input[type=number]")
    modes = page.locator(f"#{prefix}-mode label")
    slider.wait_for()
    assert slider.input_value() == str(CONTROLS["stroke_side"].default_for(FAST))
    modes.filter(has_text="Quality").click()
    slider.wait_for(state="hidden")
    modes.filter(has_text="Instant").click()
    slider.wait_for()
    page.wait_for_function("([s, v]) => document.querySelector(s).value === v",
                           arg=[f"#{prefix}-stroke-side input[type=number]",
                                str(CONTROLS["stroke_side"].default_for(INSTANT))])  # fmt: skip
