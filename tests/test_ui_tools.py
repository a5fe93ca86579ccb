"""The Fusion and Batch tabs tell the truth, in Chromium on the live test server
(tests/live_ui.py): after a failed Fuse the reason stays in the status line, the last result
leaves the screen and Download has nothing to give (API clients still get the error itself);
a Batch stops when asked (the photo under way dropped) and says how far it got."""

from __future__ import annotations

import io
import zipfile

import httpx
import pytest

from tests.test_ui import _slider, _upload, fused_brackets
from tests.ui_helpers import SHOTS, TIMEOUT, photo, png_bytes, save, wait_for_text, zip_of


def test_a_failed_fuse_says_why_and_leaves_no_stale_result(page, server) -> None:
    frames = fused_brackets(page, server, "fuse", (96, 72))
    assert page.locator("#fusion-download").is_enabled()

    page.get_by_label("Focus stacking").check()
    page.locator("#fusion-images button[aria-label='Clear']").first.click()
    _upload(page, "#fusion-images", frames[:1])
    page.locator("#fusion-images", has_text="fuse0").wait_for()
    page.locator("#fusion-run").click()
    status = wait_for_text(page, "#fusion-status", "⚠", TIMEOUT)
    assert "at least 2" in status and "Done" not in status
    page.wait_for_timeout(12_000)  # longer than a message box lasts: the reason stays
    assert "at least 2" in page.locator("#fusion-status").inner_text()
    assert not page.locator("#fusion-download").is_enabled()
    assert page.locator("#fusion-result img").count() == 0
    assert page.locator("#fusion-result .error, #fusion-status .error").count() == 0
    SHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SHOTS / "fusion_failed.png"), full_page=True)


def test_the_fuse_api_still_raises_the_error(server) -> None:
    from gradio_client import Client, handle_file

    frame = save(photo(64, 48), server.files / "single.png")
    with pytest.raises(Exception, match="at least 2"):
        Client(server.url, verbose=False).predict(
            tool="Focus stacking", images=[handle_file(str(frame))], api_name="/fuse")


def test_a_stopped_batch_zips_the_photos_done_and_says_how_far_it_got(page, server) -> None:
    page.get_by_role("tab", name="Batch").click()
    page.locator("#batch-run").click()  # nothing uploaded: the reason stays in the report
    wait_for_text(page, "#batch-report", "Upload some photos or a zip of photos first.", TIMEOUT)
    upload = zip_of(server.files / "many.zip",
                    {f"p{i:02d}.png": png_bytes(photo(64, 48, seed=i)) for i in range(12)})
    _upload(page, "#batch-files", upload)
    page.locator("#batch-files", has_text="many").wait_for()
    page.locator("#batch-mode label", has_text="Quality").click()
    _slider(page, "batch-size", 64)
    _slider(page, "batch-steps", 20)
    page.locator("#batch-run").click()
    page.get_by_text("1/12", exact=False).first.wait_for(timeout=120_000)  # one photo done
    page.locator("#batch-stop").click()
    report = wait_for_text(page, "#batch-report", "Stopped:", 120_000)
    done = int(report.split("Stopped: ")[1].split(" stylized")[0])
    assert 0 < done < 12 and f"{12 - done} not done" in report, report
    href = page.locator("#batch-zip a").first.get_attribute("href")
    data = httpx.get(href if href.startswith("http") else server.url + href, timeout=30).content
    assert len(zipfile.ZipFile(io.BytesIO(data)).namelist()) == done
    page.locator("#batch-stop").click()  # nothing runs: the report says what the zip holds
    page.wait_for_timeout(1500)
    assert f"{12 - done} not done" in page.locator("#batch-report").inner_text()
