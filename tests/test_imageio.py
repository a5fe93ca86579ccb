"""Tests for styler.imageio: every image here is a few pixels, generated on the fly."""

import os
import struct
import zlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageCms

from styler import imageio
from styler.image_sizes import resize_long_side
from styler.imageio import (
    DEFAULT_MAX_PIXELS,
    ImageLoadError,
    ImageSaveError,
    ImageTooLarge,
    atomic_write_bytes,
    load_image,
    output_format,
    probe_image,
    read_settings,
    save_image,
    to_array,
)

RED, GREEN, BLUE = (255, 0, 0), (0, 255, 0), (0, 0, 255)


def close(pixel, expected, tolerance=12):
    return all(abs(int(a) - int(b)) <= tolerance for a, b in zip(pixel, expected, strict=True))


def png_header(path: Path, width: int, height: int) -> Path:
    """A PNG whose header claims width x height but holds no pixel data (a cheap 'bomb')."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    body = chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"")) + chunk(b"IEND", b"")
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + body)
    return path


def swapped_primaries_profile() -> bytes:
    """A minimal ICC v2 RGB profile whose red and green colourants are sRGB's green and red."""

    def s15(*values: float) -> bytes:
        return b"".join(struct.pack(">i", round(v * 65536)) for v in values)

    def xyz(*values: float) -> bytes:
        return b"XYZ \0\0\0\0" + s15(*values)

    text = b"swapped RG test\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + bytes(8 + 3 + 67)
    curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, 563) + b"\0\0"  # gamma 2.2
    tags = [
        (b"desc", desc),
        (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
        (b"rXYZ", xyz(0.3851, 0.7169, 0.0971)),  # sRGB green
        (b"gXYZ", xyz(0.4361, 0.2225, 0.0139)),  # sRGB red
        (b"bXYZ", xyz(0.1431, 0.0606, 0.7141)),
        (b"rTRC", curve),
        (b"gTRC", curve),
        (b"bTRC", curve),
    ]
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, payload in tags:
        payload += bytes(-len(payload) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(payload))
        data += payload
    size = offset + len(data)
    header = (
        struct.pack(">I", size)
        + bytes(4)
        + struct.pack(">I", 0x02100000)
        + b"mntrRGB XYZ "
        + bytes(12)
        + b"acsp"
        + bytes(4 + 4 + 4 + 4 + 8 + 4)
        + s15(0.9642, 1.0, 0.8249)
        + bytes(4 + 16 + 28)
    )
    return header + struct.pack(">I", len(tags)) + table + data


# ------------------------------------------------------------------------------------ file modes


def test_exif_orientation_is_applied(tmp_path):
    image = Image.new("RGB", (40, 20), BLUE)
    image.paste(RED, (0, 0, 10, 10))  # stored top-left corner
    exif = Image.Exif()
    exif[0x0112] = 6  # display rotated 90 degrees clockwise
    image.save(tmp_path / "rotated.jpg", quality=95, exif=exif)

    loaded = load_image(tmp_path / "rotated.jpg")
    assert loaded.rgb.size == (20, 40)
    assert close(loaded.rgb.getpixel((15, 4)), RED)  # now the top-right corner
    assert close(loaded.rgb.getpixel((4, 35)), BLUE)
    assert loaded.alpha is None
    assert loaded.source == str(tmp_path / "rotated.jpg")


def test_palette_with_transparency_gives_alpha(tmp_path):
    image = Image.new("P", (4, 4), 1)
    image.putpalette([*RED, *GREEN])
    image.putpixel((0, 0), 0)
    image.save(tmp_path / "palette.png", transparency=0)

    loaded = load_image(tmp_path / "palette.png")
    assert loaded.rgb.mode == "RGB" and loaded.alpha.mode == "L"
    assert loaded.alpha.getpixel((0, 0)) == 0 and loaded.alpha.getpixel((1, 1)) == 255
    assert loaded.rgb.getpixel((1, 1)) == GREEN


def test_greyscale_trns_and_la_give_alpha(tmp_path):
    Image.new("LA", (3, 3), (100, 50)).save(tmp_path / "la.png")
    loaded = load_image(tmp_path / "la.png")
    assert loaded.rgb.getpixel((1, 1)) == (100, 100, 100)
    assert loaded.alpha.getpixel((1, 1)) == 50

    Image.new("L", (3, 3), 7).save(tmp_path / "trns.png", transparency=7)
    assert load_image(tmp_path / "trns.png").alpha.getpixel((0, 0)) == 0


def test_rgba_png_round_trip_keeps_alpha(tmp_path):
    image = Image.new("RGBA", (6, 4), (10, 20, 30, 255))
    image.putpixel((2, 1), (10, 20, 30, 0))
    image.save(tmp_path / "in.png")

    loaded = load_image(tmp_path / "in.png")
    saved = save_image(loaded.rgb, tmp_path / "out.png", alpha=loaded.alpha)
    with Image.open(saved) as out:
        assert out.mode == "RGBA"
        assert out.getpixel((2, 1))[3] == 0 and out.getpixel((0, 0)) == (10, 20, 30, 255)


def test_alpha_is_resized_to_output_and_dropped_for_jpeg(tmp_path):
    alpha = Image.new("L", (4, 4), 128)
    save_image(Image.new("RGB", (8, 8), RED), tmp_path / "a.webp", alpha=alpha)
    with Image.open(tmp_path / "a.webp") as out:
        assert out.mode == "RGBA" and out.size == (8, 8)
        assert abs(out.getpixel((4, 4))[3] - 128) <= 2
    save_image(Image.new("RGB", (8, 8), RED), tmp_path / "a.jpg", alpha=alpha)
    with Image.open(tmp_path / "a.jpg") as out:
        assert out.mode == "RGB"


def test_cmyk_jpeg_becomes_rgb(tmp_path):
    Image.new("CMYK", (8, 8), (0, 255, 255, 0)).save(tmp_path / "cmyk.jpg", quality=95)
    loaded = load_image(tmp_path / "cmyk.jpg")
    assert loaded.rgb.mode == "RGB"
    assert close(loaded.rgb.getpixel((4, 4)), RED)


def test_16bit_greyscale_png_is_scaled_not_clipped(tmp_path):
    values = np.array([[0, 32768, 65535]], dtype=np.uint16)
    Image.fromarray(values).save(tmp_path / "grey16.png")
    with Image.open(tmp_path / "grey16.png") as check:
        assert check.mode == "I;16"

    rgb = load_image(tmp_path / "grey16.png").rgb
    assert [rgb.getpixel((x, 0)) for x in range(3)] == [(0,) * 3, (128,) * 3, (255,) * 3]


def test_16bit_rgb_png(tmp_path):
    bgr = np.zeros((2, 2, 3), dtype=np.uint16)
    bgr[0, 0] = (0, 32768, 65535)  # OpenCV writes BGR
    cv2.imwrite(str(tmp_path / "rgb16.png"), bgr)
    assert load_image(tmp_path / "rgb16.png").rgb.getpixel((0, 0)) == (255, 128, 0)


@pytest.mark.parametrize("mode", ["1", "L", "P", "I", "I;16", "I;16B", "CMYK", "YCbCr", "HSV"])
def test_pil_modes_become_rgb(mode):
    loaded = load_image(Image.new(mode, (3, 2)))
    assert loaded.rgb.mode == "RGB" and loaded.rgb.size == (3, 2)
    assert loaded.alpha is None and loaded.source == "<image>"


@pytest.mark.parametrize("mode", ["RGBA", "LA", "PA", "RGBa"])
def test_pil_alpha_modes_keep_alpha(mode):
    loaded = load_image(Image.new(mode, (3, 2)))
    assert loaded.rgb.mode == "RGB" and loaded.alpha.mode == "L"


@pytest.mark.parametrize(("value", "expected"), [(0.5, 128), (1.0, 255), (200.0, 200), (900, 255)])
def test_float_mode_f_range(value, expected):
    assert load_image(Image.new("F", (1, 1), value)).rgb.getpixel((0, 0)) == (expected,) * 3


# ------------------------------------------------------------------------------------------- ICC


def save_with_icc(path: Path, colour, icc: bytes) -> Path:
    Image.new("RGB", (4, 4), colour).save(path, icc_profile=icc)
    return path


def test_non_srgb_icc_profile_is_converted(tmp_path):
    path = save_with_icc(tmp_path / "swapped.png", RED, swapped_primaries_profile())
    assert close(load_image(path).rgb.getpixel((0, 0)), GREEN, tolerance=3)


def test_srgb_icc_profile_keeps_pixels(tmp_path):
    srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    path = save_with_icc(tmp_path / "srgb.png", (200, 100, 50), srgb)
    assert load_image(path).rgb.getpixel((0, 0)) == (200, 100, 50)


def test_broken_icc_profile_keeps_pixels(tmp_path):
    path = save_with_icc(tmp_path / "broken.png", (200, 100, 50), b"not an icc profile")
    assert load_image(path).rgb.getpixel((0, 0)) == (200, 100, 50)


def test_without_imagecms_pixels_are_kept(tmp_path, monkeypatch):
    monkeypatch.setattr(imageio, "ImageCms", None)
    path = save_with_icc(tmp_path / "swapped.png", RED, swapped_primaries_profile())
    assert load_image(path).rgb.getpixel((0, 0)) == RED


# -------------------------------------------------------------------------------- errors, limits


def assert_one_line(error: pytest.ExceptionInfo, name: str, *fragments: str) -> None:
    message = str(error.value)
    assert "\n" not in message and message.startswith(name + ": "), message
    for fragment in fragments:
        assert fragment in message, message


def test_a_jpeg_painted_at_a_fraction_of_its_size_decodes_at_a_reduced_scale(tmp_path):
    """libjpeg's DCT scaling (1/2 to 1/8) where twice the long side asked for stays covered;
    other formats, and JPEGs under four times that side, decode whole; after the final
    shrink the pixels are the whole decode's to within a level on average."""
    rng = np.random.default_rng(3)
    ys, xs = np.mgrid[0:800, 0:1200]
    picture = np.dstack([xs * 255 // 1199, ys * 255 // 799, (xs + ys) % 256]).astype(np.uint8)
    grain = cv2.GaussianBlur(rng.integers(0, 48, picture.shape, np.uint8), (0, 0), 1.0)
    picture = picture // 2 + grain  # gradients under a camera-like grain of a few pixels
    Image.fromarray(picture).save(tmp_path / "photo.jpg", quality=92)
    Image.fromarray(picture).save(tmp_path / "photo.png")
    whole = load_image(tmp_path / "photo.jpg").rgb
    assert whole.size == (1200, 800)
    for at_least, decoded in ((150, (300, 200)), (151, (600, 400)), (300, (600, 400)),
                              (301, (1200, 800)), (0, (1200, 800))):  # fmt: skip
        assert load_image(tmp_path / "photo.jpg", at_least=at_least).rgb.size == decoded
    assert load_image(tmp_path / "photo.png", at_least=150).rgb.size == (1200, 800)
    Image.fromarray(picture).convert("CMYK").save(tmp_path / "print.jpg")  # as the UI's copy
    assert load_image(tmp_path / "print.jpg", at_least=150).rgb.size == (1200, 800)
    for side in (150, 300):
        reduced = load_image(tmp_path / "photo.jpg", at_least=side).rgb
        shrunk = [np.asarray(resize_long_side(im, side), np.int16) for im in (whole, reduced)]
        difference = np.abs(shrunk[0] - shrunk[1])
        assert difference.mean() < 1.0, (side, difference.mean())


def test_pixel_limit_is_checked_before_decoding(tmp_path):
    path = png_header(tmp_path / "bomb.png", 20000, 20000)
    with pytest.raises(ImageLoadError) as error:
        load_image(path)
    assert_one_line(
        error,
        str(path),
        "image is 20000x20000 = 400.0 MP, over the 178.9 MP limit",
    )
    assert error.value.size == (20000, 20000) and error.value.limit == DEFAULT_MAX_PIXELS
    assert Image.MAX_IMAGE_PIXELS == DEFAULT_MAX_PIXELS // 2  # Pillow's global is restored
    assert read_settings(path) == {}  # the header can still be read


def test_max_pixels_is_inclusive(tmp_path):
    Image.new("RGB", (10, 10)).save(tmp_path / "small.png")
    assert load_image(tmp_path / "small.png", max_pixels=100).rgb.size == (10, 10)
    with pytest.raises(ImageTooLarge, match="over the 0.000099 MP limit"):
        load_image(tmp_path / "small.png", max_pixels=99)
    assert probe_image(tmp_path / "small.png", max_pixels=100) == (10, 10)


def test_unreadable_files_give_one_line_errors(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    (tmp_path / "photo.jpg").write_bytes(b"this is not an image\n" * 4)
    cases = {
        tmp_path / "missing.png": "file not found",
        tmp_path: "is a directory",
        tmp_path / "empty.png": "empty file",
        tmp_path / "photo.jpg": "not an image styler can read (unknown or damaged image data)",
    }
    for path, reason in cases.items():
        with pytest.raises(ImageLoadError) as error:
            load_image(path)
        assert_one_line(error, str(path), reason)


@pytest.mark.parametrize("suffix", [".jpg", ".png"])
def test_truncated_file(tmp_path, suffix):
    noise = np.random.default_rng(0).integers(0, 256, (32, 32, 3), dtype=np.uint8)
    path = tmp_path / f"cut{suffix}"
    Image.fromarray(noise).save(path)
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    with pytest.raises(ImageLoadError) as error:
        load_image(path)
    assert_one_line(error, str(path), "truncated or corrupt image data (")


def test_unsupported_source_type():
    with pytest.raises(TypeError):
        load_image(42)


# ---------------------------------------------------------------------------------------- arrays


def test_numpy_rgb_and_bgr():
    array = np.zeros((2, 3, 3), dtype=np.uint8)
    array[..., 0] = 255
    assert load_image(array).rgb.getpixel((0, 0)) == RED
    assert load_image(array, bgr=True).rgb.getpixel((0, 0)) == BLUE
    assert load_image(array).source == "<array>"
    assert load_image(array).rgb.size == (3, 2)


def test_numpy_grey_and_alpha():
    assert load_image(np.full((2, 2), 9, np.uint8)).rgb.getpixel((0, 0)) == (9, 9, 9)
    assert load_image(np.full((2, 2, 1), 9, np.uint8)).rgb.getpixel((0, 0)) == (9, 9, 9)
    bgra = np.array([[[255, 0, 0, 40]]], dtype=np.uint8)
    loaded = load_image(bgra, bgr=True)
    assert loaded.rgb.getpixel((0, 0)) == BLUE and loaded.alpha.getpixel((0, 0)) == 40


def test_numpy_float_in_unit_range():
    array = np.array([[[0.0, 0.5, 1.0]]], dtype=np.float32)
    assert load_image(array).rgb.getpixel((0, 0)) == (0, 128, 255)


def test_numpy_uint16_is_scaled_as_a_16_bit_file_is():
    """OpenCV's IMREAD_UNCHANGED gives a 16-bit photo as uint16: it was refused, while the
    same photo as a file or a PIL image was taken."""
    array = np.array([[[0, 32896, 65535]]], dtype=np.uint16)
    assert load_image(array).rgb.getpixel((0, 0)) == (0, 128, 255)


@pytest.mark.parametrize(
    ("array", "message"),
    [
        (np.zeros(5, np.uint8), "shape"),
        (np.zeros((1, 2, 2, 3), np.uint8), "shape"),
        (np.zeros((2, 2, 2), np.uint8), "shape"),
        (np.zeros((0, 2, 3), np.uint8), "empty"),
        (np.zeros((2, 2, 3), np.int64), "dtype"),
        (np.full((2, 2, 3), 2.0), r"\[0, 1\]"),
        (np.full((2, 2, 3), np.nan), r"\[0, 1\]"),
    ],
)
def test_bad_arrays_raise(array, message):
    with pytest.raises(ValueError, match=message) as error:
        load_image(array)
    assert_one_line(error, "<array>")


def test_to_array():
    image = Image.new("RGB", (3, 2), RED)
    assert to_array(image).shape == (2, 3, 3) and to_array(image).dtype == np.uint8
    assert tuple(to_array(image)[0, 0]) == RED
    assert tuple(to_array(image, bgr=True)[0, 0]) == BLUE
    rgba = to_array(Image.new("RGBA", (1, 1), (1, 2, 3, 4)), bgr=True)
    assert tuple(rgba[0, 0]) == (3, 2, 1, 4)
    assert to_array(Image.new("L", (1, 1), 5)).shape == (1, 1, 3)


# ---------------------------------------------------------------------------------------- saving

SETTINGS = {"mode": "optimize", "style": ["a.jpg", "café.png"], "steps": 200, "weight": 1e5}


@pytest.mark.parametrize("name", ["out.png", "out.jpg", "out.jpeg", "out.webp"])
def test_settings_round_trip(tmp_path, name):
    path = save_image(Image.new("RGB", (8, 8), RED), tmp_path / name, settings=SETTINGS)
    assert path == tmp_path / name
    assert read_settings(path) == SETTINGS
    assert close(load_image(path).rgb.getpixel((4, 4)), RED)


def test_software_tag_and_path_settings(tmp_path):
    save_image(Image.new("RGB", (2, 2)), tmp_path / "a.png", settings={"style": Path("s.jpg")})
    with Image.open(tmp_path / "a.png") as image:
        assert image.info["Software"] == "styler"
    assert read_settings(tmp_path / "a.png") == {"style": "s.jpg"}
    save_image(Image.new("RGB", (2, 2)), tmp_path / "a.jpg")
    with Image.open(tmp_path / "a.jpg") as image:
        assert image.getexif()[0x0131] == "styler"


def test_read_settings_without_settings(tmp_path):
    Image.new("RGB", (2, 2)).save(tmp_path / "plain.jpg")
    save_image(Image.new("RGB", (2, 2)), tmp_path / "none.webp")
    assert read_settings(tmp_path / "plain.jpg") == {}
    assert read_settings(tmp_path / "none.webp") == {}


def test_format_argument_overrides_suffix(tmp_path):
    save_image(Image.new("RGB", (2, 2)), tmp_path / "out.img", format="jpg")
    with Image.open(tmp_path / "out.img") as image:
        assert image.format == "JPEG"


@pytest.mark.parametrize(
    ("value", "expected"),
    [("png", "png"), (".PNG", "png"), ("jpg", "jpeg"), ("x/out.JPEG", "jpeg"), ("a.webp", "webp"),
     ("tiff", "tiff"), ("b.TIF", "tiff")],
)
def test_output_format(value, expected):
    assert output_format(value) == expected


@pytest.mark.parametrize("value", ["bmp", "out.jp2", "", "archive.tar.gz"])
def test_output_format_rejects(value):
    with pytest.raises(ValueError, match="unsupported output format"):
        output_format(value)


@pytest.mark.parametrize("name", ["out.bmp", "no_extension"])
def test_unknown_extension(tmp_path, name):
    with pytest.raises(ImageSaveError) as error:
        save_image(Image.new("RGB", (2, 2)), tmp_path / name)
    assert_one_line(error, str(tmp_path / name))
    assert os.listdir(tmp_path) == []


def test_save_creates_directories_and_leaves_no_temp_files(tmp_path):
    target = tmp_path / "a" / "b" / "out.png"
    save_image(Image.new("RGB", (2, 2)), target)
    assert os.listdir(target.parent) == ["out.png"]
    umask = os.umask(0)
    os.umask(umask)
    assert target.stat().st_mode & 0o777 == 0o666 & ~umask


@pytest.fixture
def existing(tmp_path) -> Path:
    target = tmp_path / "out.png"
    target.write_bytes(b"previous result")
    return target


def assert_untouched(target: Path) -> None:
    assert target.read_bytes() == b"previous result"
    assert os.listdir(target.parent) == [target.name]


def test_failed_rename_keeps_target(existing, monkeypatch):
    def fail(*_args):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", fail)
    with pytest.raises(ImageSaveError) as error:
        save_image(Image.new("RGB", (2, 2)), existing)
    assert_one_line(error, str(existing), "No space left on device")
    assert_untouched(existing)


def test_interrupted_write_keeps_target(existing, monkeypatch):
    def interrupt(_fd):
        raise KeyboardInterrupt

    monkeypatch.setattr(os, "fsync", interrupt)
    with pytest.raises(KeyboardInterrupt):
        atomic_write_bytes(existing, b"partial")
    assert_untouched(existing)


def test_unencodable_settings_keep_target(existing):
    with pytest.raises(ImageSaveError) as error:
        save_image(Image.new("RGB", (2, 2)), existing, settings={"model": object()})
    assert_one_line(error, str(existing), "not JSON-serialisable")
    assert_untouched(existing)


def test_atomic_write_replaces_content(existing):
    atomic_write_bytes(existing, b"new")
    assert existing.read_bytes() == b"new"
    assert os.listdir(existing.parent) == [existing.name]
