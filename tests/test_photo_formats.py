"""A photographer's folder (issue 27): HEIC, AVIF and DNG in; the photo's metadata and
colour space out, as the FILES controls say. Every file is made here (tests/photo_files.py)
and every output is checked for its pixels, orientation, metadata and profile."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import warnings
import zlib
from pathlib import Path

import numpy as np
import pytest
from photo_files import (
    CAMERA,
    GPS,
    PRIVATE,
    SHOT,
    camera_exif,
    exif_of,
    icc_profile,
    photo_file,
    red_block_at_top_left,
    stored_for_orientation_6,
    stored_text,
    upright_photo,
)
from PIL import Image, ImageCms

from styler import Recipe, photo_formats
from styler.colour_space import from_srgb, srgb_icc
from styler.display import display_copy
from styler.errors import InvalidOption
from styler.imageio import (
    IMAGE_EXTENSIONS,
    OUTPUT_FORMATS,
    ImageLoadError,
    ImageSaveError,
    ImageTooLarge,
    PhotoOptions,
    load_image,
    probe_image,
    read_settings,
    save_image,
)

rawpy = pytest.importorskip("rawpy", reason="RAW tests need rawpy: pip install 'styler[raw]'")

SETTINGS = {"mode": "fast", "styles": ["udnie"]}
SAVED_AS = ["jpg", "png", "webp", "tiff", "heic", "avif"]


# ------------------------------------------------------------------------------------- loading


@pytest.mark.parametrize("name", ["phone.heic", "phone.avif", "camera.dng", "camera.jpg"])
def test_each_format_loads_upright_with_its_metadata(tmp_path, name):
    path = photo_file(tmp_path, name)
    loaded = load_image(path)
    assert loaded.rgb.size == (48, 32) and loaded.rgb.mode == "RGB"
    assert red_block_at_top_left(loaded.rgb)
    exif = Image.Exif()
    exif.load(loaded.exif)
    assert exif[0x0110] == "EOS R5" and exif.get_ifd(0x8769)[0x9003] == SHOT[0x9003]
    assert sorted(probe_image(path)) == [32, 48]  # as stored: the header alone tells


def test_raw_is_developed_with_the_cameras_white_balance(tmp_path):
    """The sensor saw the grey scene through a (0.5, 1, 0.7) white balance; developed with the
    camera's record it is grey again, and the red block red."""
    pixels = np.asarray(load_image(photo_file(tmp_path, "camera.dng")).rgb, dtype=int)
    grey = pixels[20, 30]
    assert grey.max() - grey.min() <= 3, grey
    red = pixels[3, 3]
    assert red[0] > 150 and red[1] < 60 and red[2] < 60, red


def test_a_raw_file_has_no_settings_rather_than_being_unreadable(tmp_path):
    """--settings-from a DNG said "not an image styler can read" of a file styler reads."""
    raw = photo_file(tmp_path, "camera.dng")
    assert read_settings(raw) == {}
    run = styler_cli("stylize", raw, "--settings-from", raw, cwd=tmp_path)
    assert run.returncode == 2
    assert run.stderr.strip() == f"styler: error: {raw}: no styler settings in it (not a styler " \
                                 "result?)"


def test_folder_scanning_takes_the_new_formats():
    for suffix in (".heic", ".heif", ".avif", ".dng", ".cr2", ".cr3", ".nef", ".arw", ".raf",
                   ".orf", ".rw2", ".jpg", ".png", ".tif"):  # fmt: skip
        assert suffix in IMAGE_EXTENSIONS
    assert OUTPUT_FORMATS == ("png", "jpg", "webp", "tiff", "heic", "avif")


# ------------------------------------------------------------------------------------ metadata


def written(tmp_path: Path, source: Path, fmt: str, **photo) -> Path:
    loaded = load_image(source)
    return save_image(loaded.rgb, tmp_path / f"out_{source.stem}.{fmt}", settings=SETTINGS,
                      source=source, photo=PhotoOptions(**photo))  # fmt: skip


@pytest.mark.parametrize("fmt", SAVED_AS)
@pytest.mark.parametrize("name", ["camera.jpg", "phone.heic", "phone.avif", "camera.dng"])
def test_outputs_keep_date_camera_lens_exposure_and_credits_but_not_gps(tmp_path, name, fmt):
    out = written(tmp_path, photo_file(tmp_path, name), fmt)
    with Image.open(out) as image:
        assert image.size == (48, 32) and red_block_at_top_left(image)
    exif = exif_of(out)
    # "ü" and "©" too, but from an AVIF: Pillow writes and reads a rotated AVIF's EXIF anew,
    # every letter outside ASCII a "?" (docs/photographers.md)
    expected = {tag: "".join(chr(b) if b < 128 else "?" for b in text.encode())
                if name.endswith(".avif") else text for tag, text in CAMERA.items()}  # fmt: skip
    assert {tag: stored_text(exif.get(tag)) for tag in CAMERA} == expected
    # upright pixels, upright tag (Pillow writes AVIF's orientation as the container's
    # rotation and mirror boxes, none for upright, and leaves the tag out)
    assert exif.get(0x0112, 1 if fmt == "avif" else None) == 1
    shot = exif.get_ifd(0x8769)
    assert shot[0x9003] == SHOT[0x9003] and shot[0xA434] == SHOT[0xA434]
    assert float(shot[0x829A]) == pytest.approx(SHOT[0x829A]) and shot[0x8827] == 400
    assert float(shot[0x829D]) == pytest.approx(5.6) and float(shot[0x920A]) == 35.0
    assert not set(PRIVATE) & set(shot)  # serial number and maker note never pass
    assert not exif.get_ifd(0x8825)  # no location by default
    assert read_settings(out) == SETTINGS


@pytest.mark.parametrize("fmt", SAVED_AS)
def test_keep_location_keeps_the_gps_and_strip_keeps_only_styler_settings(tmp_path, fmt):
    source = photo_file(tmp_path, "camera.jpg")
    kept = exif_of(written(tmp_path, source, fmt, keep_location=True)).get_ifd(0x8825)
    assert kept[1] == "N" and [float(v) for v in kept[2]] == pytest.approx(GPS[2])
    stripped = written(tmp_path, source, fmt, strip_metadata=True, keep_location=True)
    exif = exif_of(stripped)
    assert not set(CAMERA) & set(exif) and not exif.get_ifd(0x8769) and not exif.get_ifd(0x8825)
    assert read_settings(stripped) == SETTINGS


def test_metadata_comes_from_a_loaded_image_as_from_its_path(tmp_path):
    source = photo_file(tmp_path, "phone.heic")
    loaded = load_image(source)
    out = save_image(loaded.rgb, tmp_path / "out.jpg", source=loaded)
    assert exif_of(out)[0x0110] == "EOS R5" and not exif_of(out).get_ifd(0x8825)


def test_corrupt_exif_in_the_photo_costs_neither_the_output_nor_a_warning(tmp_path):
    """Found by the bad-input corpus: Pillow warned on stderr while the output's EXIF was made."""
    source = tmp_path / "corrupt_exif.jpg"
    upright_photo().save(source, exif=camera_exif().tobytes()[:60])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = save_image(load_image(source).rgb, tmp_path / "out.jpg", source=source)
    assert exif_of(out).get(0x0112, 1) == 1 and exif_of(out)[0x0131] == "styler"


@pytest.mark.parametrize("fmt", SAVED_AS)
def test_settings_ride_in_xmp_and_the_old_description_is_still_read(tmp_path, fmt):
    """Photo libraries show EXIF's ImageDescription as the caption: it held the settings'
    JSON until 7 December, so every output was captioned with it. Now they are in XMP (a
    PNG's text chunk) and the description is the photo's own caption; files written the
    old way still give their settings."""
    out = written(tmp_path, photo_file(tmp_path, "camera.jpg"), fmt)
    assert stored_text(exif_of(out).get(0x010E)) == "Dawn over the lake"
    assert read_settings(out) == SETTINGS
    with Image.open(out) as image:
        assert (b"urn:styler:settings:1" in image.info.get("xmp", b"")) == (fmt != "png")
    old = tmp_path / f"old.{fmt}"
    exif = Image.Exif()
    exif[0x010E] = "styler:" + json.dumps(SETTINGS)
    exif[0x013B] = "styler: the band"  # only a description can be old settings
    upright_photo().save(old, exif=exif.tobytes())
    assert read_settings(old) == SETTINGS
    again = written(tmp_path, old, fmt)
    assert exif_of(again).get(0x010E) is None  # the old settings are not taken for a caption
    assert stored_text(exif_of(again).get(0x013B)) == "styler: the band"


def test_photo_options_come_from_control_values():
    options = PhotoOptions.from_values({"keep_location": "yes", "color_space": "source",
                                        "tiff_bits": "16", "size": 512})  # fmt: skip
    assert options == PhotoOptions(keep_location=True, color_space="source", tiff_bits="16")
    # the number 16, as the API's users write it, is the choice "16" (PhotoOptions wrote
    # 8-bit TIFFs for it without a word, and the recipe refused it as "not a word")
    assert PhotoOptions(tiff_bits=16).tiff_bits == "16"
    assert Recipe.create("fast", "udnie", tiff_bits=16).controls["tiff_bits"] == "16"
    with pytest.raises(InvalidOption, match="tiff bits must be one of 8, 16, got 12"):
        PhotoOptions(tiff_bits=12)


# -------------------------------------------------------------------------------------- colour

COLOURS = [(200, 40, 30), (30, 160, 60), (40, 70, 200), (250, 240, 220), (10, 10, 10),
           (128, 128, 128)]  # fmt: skip


def swatches() -> Image.Image:
    image = Image.new("RGB", (6 * 8, 8))
    for index, colour in enumerate(COLOURS):
        image.paste(colour, (8 * index, 0, 8 * index + 8, 8))
    return image


def littlecms(pixels: Image.Image, icc: bytes, *, to_srgb: bool) -> Image.Image:
    """LittleCMS between sRGB and the profile: the reference the tests check against."""
    profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
    ends = (profile, srgb) if to_srgb else (srgb, profile)
    return ImageCms.profileToProfile(pixels, *ends, outputMode="RGB")


def photo_in(tmp_path: Path, name: str) -> Path:
    """The swatches as a photo in the profile `name`: converted there, the profile embedded."""
    icc = icc_profile(name)
    photo = tmp_path / "photo.png"
    littlecms(swatches(), icc, to_srgb=False).save(photo, icc_profile=icc)
    return photo


@pytest.mark.parametrize("fmt", SAVED_AS)
def test_outputs_are_tagged_srgb_by_default(tmp_path, fmt):
    source = photo_file(tmp_path, "adobe.jpg", icc=icc_profile("Adobe RGB (1998)"))
    out = written(tmp_path, source, fmt)
    with Image.open(out) as image:
        assert image.info["icc_profile"] == srgb_icc()
        assert "sRGB" in ImageCms.getProfileDescription(io.BytesIO(image.info["icc_profile"]))


@pytest.mark.parametrize("name", ["Adobe RGB (1998)", "Display P3", "ProPhoto RGB",
                                  "sRGB linear (g1.0)"])  # fmt: skip
@pytest.mark.parametrize("fmt", ["png", "tiff"])
def test_color_space_source_converts_back_and_embeds_the_photos_profile(tmp_path, name, fmt):
    """The output holds the photo's profile, and its pixels are the sRGB result in that
    space: LittleCMS reading them back to sRGB gives the result within a level or two."""
    photo = photo_in(tmp_path, name)
    loaded = load_image(photo)
    assert np.abs(np.asarray(loaded.rgb, int) - np.asarray(swatches(), int)).max() <= 3
    out = save_image(loaded.rgb, tmp_path / f"out.{fmt}", source=photo,
                     photo=PhotoOptions(color_space="source"))  # fmt: skip
    with Image.open(out) as image:
        assert image.info["icc_profile"] == icc_profile(name)
        stored = image.convert("RGB")
    back = np.asarray(littlecms(stored, icc_profile(name), to_srgb=True), int)
    assert np.abs(back - np.asarray(loaded.rgb, int)).max() <= 3  # 8 bits of a wider gamut
    reference = np.asarray(littlecms(loaded.rgb, icc_profile(name), to_srgb=False), int)
    assert np.abs(np.asarray(stored, int) - reference).max() <= 1
    assert np.abs(np.asarray(stored, int) - np.asarray(loaded.rgb, int)).max() > 10


def test_a_display_p3_heic_is_read_as_srgb_and_written_back_in_p3(tmp_path):
    """An iPhone's HEIC carries a Display P3 profile: styler paints in sRGB, and
    --color-space source gives the editor P3 again."""
    icc = icc_profile("Display P3")
    heic = tmp_path / "iphone.heic"
    littlecms(swatches(), icc, to_srgb=False).save(heic, icc_profile=icc, quality=100)
    loaded = load_image(heic)
    assert loaded.icc_profile == icc
    assert np.abs(np.asarray(loaded.rgb, int) - np.asarray(swatches(), int)).max() <= 8
    out = save_image(loaded.rgb, tmp_path / "out.jpg", source=heic,
                     photo=PhotoOptions(color_space="source"))  # fmt: skip
    with Image.open(out) as image:
        assert image.info["icc_profile"] == icc


def tiff_pixels(path: Path) -> np.ndarray:
    """The 16-bit samples of a TIFF styler wrote (Pillow would read them as 8 bits)."""
    with Image.open(path) as image:
        tags = image.tag_v2
        width, height, channels = tags[256], tags[257], tags[277]
        data = path.read_bytes()[tags[273][0]:][: tags[279][0]]
    differences = np.frombuffer(zlib.decompress(data), "<u2").reshape(height, width, channels)
    return np.cumsum(differences, axis=1, dtype=np.uint16)  # undo predictor 2, modulo 2**16


def test_sixteen_bit_tiff_keeps_the_conversions_precision(tmp_path):
    icc = icc_profile("ProPhoto RGB")
    photo = photo_in(tmp_path, "ProPhoto RGB")
    loaded = load_image(photo)
    out = save_image(loaded.rgb, tmp_path / "out.tif", source=photo,
                     photo=PhotoOptions(color_space="source", tiff_bits="16"))  # fmt: skip
    sixteen = tiff_pixels(out)
    assert sixteen.dtype == np.uint16 and sixteen.shape == (8, 48, 3)
    eight = from_srgb(loaded.rgb, icc, 8)
    assert np.abs(np.rint(sixteen / 257.0) - eight).max() <= 1
    assert (sixteen % 257 != 0).any()  # real 16-bit values, not 8-bit ones scaled up
    with Image.open(out) as image:
        assert image.info["icc_profile"] == icc and red_block_at_top_left(image) is False


def test_an_srgb_photo_stays_srgb_with_color_space_source(tmp_path):
    source = photo_file(tmp_path, "camera.jpg")
    loaded = load_image(source)
    out = save_image(loaded.rgb, tmp_path / "out.png", source=source,
                     photo=PhotoOptions(color_space="source"))  # fmt: skip
    with Image.open(out) as image:
        assert image.info["icc_profile"] == srgb_icc()
        assert np.array_equal(np.asarray(image), np.asarray(loaded.rgb))


# ----------------------------------------------------------------------------------- bad files


def one_line(error: pytest.ExceptionInfo, path: Path, fragment: str) -> None:
    message = str(error.value)
    assert "\n" not in message and message.startswith(str(path)), message
    assert fragment in message, message


@pytest.mark.parametrize("name", ["phone.heic", "phone.avif", "camera.dng"])
def test_truncated_and_empty_files_are_one_line(tmp_path, name):
    good = photo_file(tmp_path, name)
    cut = tmp_path / f"cut{good.suffix}"
    cut.write_bytes(good.read_bytes()[: len(good.read_bytes()) // 2])
    with pytest.raises(ImageLoadError) as error:
        load_image(cut)
    one_line(error, cut, "damaged" if name.startswith("phone") else "corrupt RAW data")
    empty = tmp_path / f"empty{good.suffix}"
    empty.write_bytes(b"")
    with pytest.raises(ImageLoadError) as error:
        load_image(empty)
    one_line(error, empty, "empty file (0 bytes)")


@pytest.mark.parametrize("suffix", [".heic", ".avif", ".dng"])
def test_wrong_extensions_load_by_content_or_fail_in_one_line(tmp_path, suffix):
    jpeg = tmp_path / f"really_a_jpeg{suffix}"
    stored_for_orientation_6(upright_photo()).save(jpeg, format="JPEG", exif=camera_exif())
    assert red_block_at_top_left(load_image(jpeg).rgb)
    text = tmp_path / f"text{suffix}"
    text.write_text("not a photo")
    with pytest.raises(ImageLoadError) as error:
        load_image(text)
    one_line(error, text, "not an image styler can read")


def test_a_heic_named_jpg_is_read_by_its_content(tmp_path):
    heic = photo_file(tmp_path, "phone.heic")
    renamed = heic.rename(tmp_path / "phone.jpg")
    assert red_block_at_top_left(load_image(renamed).rgb)


@pytest.mark.parametrize("name", ["phone.heic", "phone.avif", "camera.dng"])
def test_the_pixel_limit_holds_before_decoding(tmp_path, name, monkeypatch):
    path = photo_file(tmp_path, name)
    monkeypatch.setattr(photo_formats, "develop_raw", lambda _data: pytest.fail("decoded"))
    with pytest.raises(ImageTooLarge) as error:
        load_image(path, max_pixels=1000)
    one_line(error, path, "MP, over the 0.0010 MP limit")
    with pytest.raises(ImageTooLarge):
        probe_image(path, max_pixels=1000)


def test_without_rawpy_a_raw_file_says_how_to_enable_it(tmp_path, monkeypatch):
    path = photo_file(tmp_path, "camera.dng")
    monkeypatch.setattr(photo_formats, "_rawpy", lambda: None)
    with pytest.raises(ImageLoadError) as error:
        load_image(path)
    one_line(error, path, "a camera RAW file; to read RAW files: pip install 'styler[raw]'")


# ------------------------------------------------------------------------------------ the UI


@pytest.mark.parametrize("name", ["phone.heic", "camera.dng", "camera.tif"])
def test_uploads_browsers_cannot_show_get_a_png_copy_with_the_same_pixels(tmp_path, name):
    """The UI shows (and stylizes) the copy: upright, the pixels load_image gives the
    original, and its metadata, location included (the output's options decide later)."""
    if name.endswith(".tif"):
        source = tmp_path / name
        exif = camera_exif()
        exif[0x8769] = exif[0x8825] = 0  # Pillow's TIFF writer nests only the IFDs named
        stored_for_orientation_6(upright_photo()).save(source, exif=exif)
    else:
        source = photo_file(tmp_path, name)
    copy = display_copy(source, tmp_path / "previews")
    assert copy == tmp_path / "previews" / f"{source.stem}.png"
    assert display_copy(load_image(source), tmp_path / "again") == tmp_path / "again" / copy.name
    with Image.open(copy) as image:
        assert image.format == "PNG" and red_block_at_top_left(image)
        assert np.array_equal(np.asarray(image), np.asarray(load_image(source).rgb))
    exif = exif_of(copy)
    assert exif[0x0110] == "EOS R5" and exif.get_ifd(0x8825)[1] == "N"
    assert exif_of(written(tmp_path, copy, "jpg")).get_ifd(0x8825) == {}


def test_uploads_browsers_show_are_not_copied_and_bad_ones_are_one_line(tmp_path):
    jpeg = photo_file(tmp_path, "camera.jpg")
    assert display_copy(jpeg, tmp_path / "previews") == jpeg
    broken = tmp_path / "broken.heic"
    broken.write_bytes(b"\0\0\0\x18ftypheic" + bytes(20))
    with pytest.raises(ImageLoadError) as error:
        display_copy(broken, tmp_path / "previews")
    one_line(error, broken, "not an image styler can read")
    assert not (tmp_path / "previews").exists()


# --------------------------------------------------------------------------------------- the API


def test_the_api_keeps_the_same_rules(tmp_path):
    """stylize(..., output=) keeps the photo's metadata, GPS only with keep_location, the same
    keywords as the CLI's flags; an array has no metadata and still saves."""
    from styler import stylize

    source = photo_file(tmp_path, "phone.heic")
    style = tmp_path / "style.png"
    Image.new("RGB", (32, 32), (20, 60, 200)).save(style)
    quick = {"size": 32, "steps": 1, "device": "cpu"}
    out = stylize(source, style, output=tmp_path / "api.jpg", **quick)
    exif = exif_of(out)
    assert exif[0x0110] == "EOS R5" and exif[0x0112] == 1 and not exif.get_ifd(0x8825)
    with Image.open(out) as image:
        assert image.size == (32, 21)  # upright
    kept = stylize(source, style, output=tmp_path / "api.tiff", keep_location=True, **quick)
    assert exif_of(kept).get_ifd(0x8825)[1] == "N"
    array = np.asarray(upright_photo())
    bare = stylize(array, style, output=tmp_path / "array.png", **quick)
    assert 0x0110 not in exif_of(bare) and read_settings(bare)["mode"] == "optimize"


# ---------------------------------------------------------------------------- the command line


def styler_cli(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "styler.cli.main", *map(str, args)]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}  # as tests/test_cli.py
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)  # fmt: skip


def photographers_folder(root: Path) -> Path:
    """Good photos of every new format, and bad files of each: truncated, empty, misnamed,
    over the pixel limit (--max-pixels 10000; the good ones are 48x32)."""
    folder = root / "in"
    folder.mkdir()
    for name in ("phone.heic", "pixel.avif", "raw.dng", "camera.jpg"):  # stems differ: outputs
        photo_file(folder, name)
    upright_photo().save(folder / "really_a_jpeg.dng", format="JPEG")
    for name in ("cut_phone.heic", "cut_raw.dng"):
        good = photo_file(root, name.replace("cut_", ""))
        (folder / name).write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    (folder / "empty.avif").touch()
    (folder / "text.dng").write_text("not a photo")
    upright_photo().resize((200, 100)).save(folder / "big.heic")
    return folder


BAD_LINES = {
    "cut_phone.heic": "not an image styler can read",
    "cut_raw.dng": "truncated or corrupt RAW data",
    "empty.avif": "empty file (0 bytes)",
    "text.dng": "not an image styler can read",
    "big.heic": "image is 200x100 = 0.020 MP, over the 0.010 MP limit",
}


@pytest.mark.slow
def test_cli_stylizes_a_photographers_folder_and_reports_each_bad_file(tmp_path):
    folder = photographers_folder(tmp_path)
    run = styler_cli("stylize", folder, "--fast", "udnie", "-o", "out", "--format", "jpg",
                     "--max-pixels", "10000", "-q", cwd=tmp_path)  # fmt: skip
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr and "Warning" not in run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == len(BAD_LINES), run.stderr
    # nothing else: LibRaw printed its own "unknown file: Unexpected end of file" for cut_raw
    assert all(line.startswith(("error: ", "failed:", "  ")) or " stylized, " in line
               for line in run.stderr.splitlines()), run.stderr  # fmt: skip
    for name, reason in BAD_LINES.items():
        assert any(f"in/{name}: " in line and reason in line for line in errors), (name, errors)
    assert "5 stylized, 0 skipped (existing), 5 failed" in run.stderr + run.stdout
    outputs = sorted((tmp_path / "out").iterdir())
    assert [p.name for p in outputs] == [f"{stem}__udnie.jpg" for stem in (
        "camera", "phone", "pixel", "raw", "really_a_jpeg")]  # fmt: skip
    for out in outputs:
        with Image.open(out) as image:
            assert image.size == (48, 32)  # upright
            assert image.info["icc_profile"] == srgb_icc()
    for stem in ("camera", "phone", "pixel", "raw"):
        exif = exif_of(tmp_path / "out" / f"{stem}__udnie.jpg")
        assert exif[0x0110] == "EOS R5" and exif[0x0112] == 1 and not exif.get_ifd(0x8825)
    assert read_settings(tmp_path / "out" / "camera__udnie.jpg")["mode"] == "fast"


@pytest.mark.parametrize("fmt", ["heic", "avif"])
def test_heic_and_avif_outputs_keep_transparency_and_the_pictures_colours(tmp_path, fmt):
    pixels = np.zeros((32, 48, 4), np.uint8)
    pixels[..., 0], pixels[:, 24:, 2], pixels[..., 3] = 200, 180, 255
    pixels[:16, :, 3] = 0  # the top half see-through
    out = save_image(pixels, tmp_path / f"cut.{fmt}", settings=SETTINGS)
    loaded = load_image(out)
    alpha = np.asarray(loaded.alpha, int)
    assert alpha[:16].max() <= 2 and alpha[16:].min() >= 253
    shown = np.asarray(loaded.rgb, int)[16:]
    assert np.abs(shown - pixels[16:, :, :3]).mean() < 3  # quality 95: near the pixels written
    assert read_settings(out) == SETTINGS


@pytest.mark.parametrize("quality", [0, 101, -1])
def test_a_quality_out_of_range_is_one_line_naming_it(tmp_path, quality):
    line = rf"out\.heic: quality must be a whole number from 1 to 100, got {quality}$"
    with pytest.raises(ImageSaveError, match=line):
        save_image(np.zeros((8, 8, 3), np.uint8), tmp_path / "out.heic", quality=quality)
    assert not list(tmp_path.iterdir())


@pytest.mark.slow
def test_cli_writes_heic_and_skips_it_when_it_exists(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    photo_file(folder, "camera.jpg")
    args = ("stylize", folder, "--fast", "udnie", "-o", "out", "--format", "heic", "-q")
    first = styler_cli(*args, cwd=tmp_path)
    assert first.returncode == 0, first.stderr
    out = tmp_path / "out" / "camera__udnie.heic"
    with Image.open(out) as image:
        assert image.format == "HEIF" and image.size == (48, 32)
    assert exif_of(out)[0x0110] == "EOS R5" and read_settings(out)["mode"] == "fast"
    again = styler_cli(*args, "--skip-existing", cwd=tmp_path)
    assert "0 stylized, 1 skipped (existing), 0 failed" in again.stderr + again.stdout


@pytest.mark.slow
def test_cli_keep_location_colour_space_and_sixteen_bit_tiff(tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    photo_file(folder, "adobe.jpg", icc=icc_profile("Adobe RGB (1998)"))
    run = styler_cli("stylize", folder, "--fast", "udnie", "-o", "out", "--format", "tiff",
                     "--tiff-bits", "16", "--color-space", "source", "--keep-location", "-q",
                     cwd=tmp_path)  # fmt: skip
    assert run.returncode == 0, run.stderr
    out = tmp_path / "out" / "adobe__udnie.tiff"
    assert tiff_pixels(out).dtype == np.uint16
    with Image.open(out) as image:
        assert image.size == (48, 32) and image.info["icc_profile"] == icc_profile(
            "Adobe RGB (1998)")  # fmt: skip
    assert exif_of(out).get_ifd(0x8825)[1] == "N"
    stripped = styler_cli("stylize", folder, "--fast", "udnie", "-o", "bare",
                          "--strip-metadata", "-q", cwd=tmp_path)  # fmt: skip
    assert stripped.returncode == 0, stripped.stderr
    exif = exif_of(tmp_path / "bare" / "adobe__udnie.png")
    assert 0x0110 not in exif and not exif.get_ifd(0x8769)
