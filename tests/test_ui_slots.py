"""Every image slot checks a file the moment it lands, in the photo box's words (issue 24,
item 4), and previews of files browsers cannot show display through an 8-bit PNG copy; in
Chromium on the live test server (tests/live_ui.py)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from tests.test_ui import _upload
from tests.ui_helpers import photo, save, wait_for_text, zip_of

NOT_AN_IMAGE = "not an image styler can read"


def _fake(folder: Path, name: str = "fake.png") -> Path:
    path = folder / name
    path.write_text("this is a text file, not a picture")
    return path


def _displayed(page, selector: str) -> None:
    """The slot's picture is a PNG the browser decoded (not a broken image)."""
    page.wait_for_function(
        "s => { const i = document.querySelector(s + ' img');"
        " return i && i.src.endsWith('.png') && i.complete && i.naturalWidth > 0; }",
        arg=selector)  # fmt: skip


def test_batch_files_are_checked_as_they_land(page, server) -> None:
    """A text file named .png and a broken zip are refused at once, in the photo's words;
    the good photo stays in the list."""
    page.get_by_role("tab", name="Batch").click()
    good = save(photo(80, 60), server.files / "good.png")
    broken = server.files / "broken.zip"
    broken.write_bytes(b"PK not really a zip")
    _upload(page, "#batch-files", [good, _fake(server.files), broken])
    text = wait_for_text(page, "#batch-files-message", "broken.zip")
    assert f"That batch file cannot be used: fake.png: {NOT_AN_IMAGE}" in text, text
    assert "That batch file cannot be used: broken.zip: not a readable zip file" in text, text
    page.locator("#batch-files", has_text="good").wait_for()
    page.wait_for_function("!document.querySelector('#batch-files').innerText"
                           ".includes('fake')")  # fmt: skip
    _upload(page, "#batch-files", zip_of(server.files / "fine.zip", {"a.png": b""}))
    page.wait_for_function("document.querySelector('#batch-files-message').innerText.trim() "
                           "=== ''")  # fmt: skip


def test_batch_style_image_is_checked_as_it_lands(page, server) -> None:
    page.get_by_role("tab", name="Batch").click()
    page.locator("#batch-mode label", has_text="Instant").click()
    _upload(page, "#batch-style-image", _fake(server.files))
    text = wait_for_text(page, "#batch-style-message", "fake.png")
    assert f"That style image cannot be used: fake.png: {NOT_AN_IMAGE}" in text, text
    page.locator("#batch-style-image img").wait_for(state="detached")


def test_fusion_photos_and_mask_are_checked_as_they_land(page, server) -> None:
    page.get_by_role("tab", name="Fusion").click()
    good = [save(photo(60, 45, gain=g), server.files / f"f{i}.png")
            for i, g in enumerate((0.5, 1.4))]  # fmt: skip
    _upload(page, "#fusion-images", [*good, _fake(server.files)])
    text = wait_for_text(page, "#fusion-images-message", "fake.png")
    assert f"That photo cannot be used: fake.png: {NOT_AN_IMAGE}" in text, text
    page.locator("#fusion-images", has_text="f1").wait_for()
    page.locator("#fusion-tool label", has_text="Blend").click()
    page.locator("#fusion-mask").wait_for(state="visible")
    _upload(page, "#fusion-mask", _fake(server.files, "mask.png"))
    text = wait_for_text(page, "#fusion-mask-message", "mask.png")
    assert f"That mask cannot be used: mask.png: {NOT_AN_IMAGE}" in text, text


def test_video_style_image_is_checked_as_it_lands(page, server) -> None:
    page.get_by_role("tab", name="Video").click()
    page.locator("#video-mode label", has_text="Instant").click()
    _upload(page, "#video-style-image", _fake(server.files))
    text = wait_for_text(page, "#video-style-message", "fake.png")
    assert f"That style image cannot be used: fake.png: {NOT_AN_IMAGE}" in text, text


def test_a_16_bit_tiff_photo_and_a_mislabelled_file_preview_as_8_bit_pngs(page, server) -> None:
    """A 16-bit RGB TIFF (browsers show none) and a TIFF named .png land as PNG copies the
    browser decodes; the photo box says nothing against them."""
    rgb = np.asarray(photo(96, 72, seed=5), np.uint16) * 257
    deep = server.files / "deep16.tiff"
    cv2.imwrite(str(deep), rgb[..., ::-1])
    _upload(page, "#content", deep)
    _displayed(page, "#content")
    page.wait_for_function("document.querySelector('#photo-message').innerText.trim() === ''")
    liar = server.files / "liar.png"
    cv2.imwrite(str(server.files / "liar.tiff"), rgb[..., ::-1])
    liar.write_bytes((server.files / "liar.tiff").read_bytes())
    _upload(page, "#content", liar)
    page.wait_for_function("(document.querySelector('#content img') || {src: ''}).src"
                           ".includes('/liar')")  # fmt: skip
    _displayed(page, "#content")
    assert page.locator("#stylize-btn").is_enabled()
