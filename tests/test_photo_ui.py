"""The web UI takes a photographer's files too (issue 27): a HEIC or RAW upload is checked,
shown and stylized as its PNG copy (browsers cannot display them), the Batch tab takes them
(and zips of them), and results keep the photo's metadata but not its location."""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np
import pytest
from photo_files import exif_of, photo_file, red_block_at_top_left
from PIL import Image

from styler.imageio import load_image
from styler.result import StylizeResult
from tests.ui_helpers import make_tiny_styles

pytest.importorskip("rawpy", reason="RAW tests need rawpy: pip install 'styler[raw]'")


@pytest.fixture
def services(tmp_path_factory: pytest.TempPathFactory, tmp_path: Path, monkeypatch):
    from styler.ui.config import UIConfig
    from styler.ui.services import Services

    monkeypatch.setenv("STYLER_WEIGHTS_DIR", str(make_tiny_styles(tmp_path_factory.mktemp("w"))))
    services = Services(UIConfig(device="cpu", temp_dir=tmp_path, prewarm=False))
    yield services
    services.workspace.cleanup()


@pytest.mark.parametrize("name", ["phone.heic", "camera.dng"])
def test_an_upload_browsers_cannot_show_is_replaced_by_its_png_copy(services, tmp_path, name):
    from styler.ui.inputs import check_photo

    upload = photo_file(tmp_path, name)
    shown = Path(check_photo(services, upload))
    assert services.workspace.contains(shown) and shown.suffix == ".png"
    with Image.open(shown) as image:
        assert red_block_at_top_left(image)
        assert np.array_equal(np.asarray(image), np.asarray(load_image(upload).rgb))
    jpeg = photo_file(tmp_path, "camera.jpg")
    assert check_photo(services, jpeg) == str(jpeg)  # browsers show it: no copy


def test_a_damaged_heic_upload_is_one_line(services, tmp_path):
    from styler.ui.inputs import check_photo
    from styler.ui.messages import UserError

    broken = tmp_path / "broken.heic"
    broken.write_bytes(b"\0\0\0\x18ftypheic" + bytes(20))
    with pytest.raises(UserError) as error:
        check_photo(services, broken)
    assert "\n" not in str(error.value) and "cannot be used" in str(error.value)


def test_a_result_keeps_the_photos_metadata_but_not_its_location(services, tmp_path):
    from styler.ui.inputs import check_photo
    from styler.ui.results import save_entry
    from styler.ui.state import Session

    shown = check_photo(services, photo_file(tmp_path, "phone.heic"))
    result = StylizeResult(image=Image.new("RGB", (48, 32), (10, 90, 200)), alpha=None,
                           settings={"mode": "fast"}, losses={}, completed=True, elapsed=0.1)
    entry = save_entry(services, Session(), result, shown, "warm_test", "caption")
    exif = exif_of(entry.path)
    assert exif[0x0110] == "EOS R5" and exif.get_ifd(0x8769)[0x9003] == "2024:06:01 10:11:12"
    assert not exif.get_ifd(0x8825)


def test_the_batch_tab_takes_heic_and_raw_files_and_zips_of_them(tmp_path):
    from styler.ui.zips import collect

    files = [photo_file(tmp_path, "phone.heic"), photo_file(tmp_path, "camera.dng")]
    archive = tmp_path / "photos.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.write(files[0], "trip/IMG_0001.HEIC")
        zipped.write(files[1], "trip/DSC_0002.NEF")
    inputs, errors, left_out = collect([*files, archive], tmp_path / "in", max_files=10,
                                       max_bytes=10**8)  # fmt: skip
    assert errors == [] and left_out == []
    assert len(inputs) == 4
    for item in inputs:
        assert load_image(item.path).rgb.size == (48, 32)


@pytest.mark.parametrize("name", ["phone.heic", "camera.dng"])
def test_the_page_shows_a_heic_or_raw_upload_and_enables_stylize(page, server, name):
    """In Chromium: the upload lands, the photo box shows the server's PNG copy (a HEIC or
    RAW itself would be a broken picture), and Stylize is enabled."""
    upload = photo_file(server.files, name)
    page.locator("#content input[type=file]").first.set_input_files(upload)
    page.wait_for_function(
        "() => { const i = document.querySelector('#content img');"
        " return i && i.complete && i.naturalWidth === 48 && i.naturalHeight === 32; }")
    assert page.locator("#content img").first.get_attribute("src").endswith(".png")
    page.wait_for_function("!document.querySelector('#stylize-btn').disabled")
    page.wait_for_function("document.querySelector('#photo-message').innerText.trim() === ''")


def test_the_fusion_tabs_blend_of_two_cut_outs_keeps_them_transparent(services, tmp_path):
    from styler.ui.fusion import FUSION_TOOLS, run_fusion
    from styler.ui.state import Session

    cutout = np.zeros((48, 64, 4), np.uint8)
    cutout[..., :3], cutout[..., 3] = 180, 255
    cutout[:12, :12] = 0  # a transparent corner
    paths = [tmp_path / "a.png", tmp_path / "b.png"]
    for path, shade in zip(paths, (1, 2), strict=True):
        Image.fromarray(np.concatenate([cutout[..., :3] // shade, cutout[..., 3:]], axis=2),
                        "RGBA").save(path)  # fmt: skip
    mask = tmp_path / "mask.png"
    left = np.where(np.arange(64) < 32, 255, 0).astype(np.uint8)
    Image.fromarray(np.tile(left, (48, 1))).save(mask)
    entry = run_fusion(services, Session(), FUSION_TOOLS[0], paths, mask=mask, feather=2)
    blended = np.asarray(Image.open(entry.path))
    assert blended.shape[2] == 4 and blended[:8, :8, 3].max() == 0
    assert blended[24:, 40:, 3].min() == 255
