"""Bad and unusual input files: every kind gives a correct result or one line naming the
file and the reason, through the API and the CLI, with no crash, no hang, no file left.

The corpus is generated here (no binary blobs): damaged files, files that are no image,
images of every mode, bit depth, orientation and frame count, odd metadata, and things a
folder can hold that are not files (folders, pipes, devices, link loops). Property-based
tests (hypothesis) throw random bytes, random valid images and random option values at
the same entry points. See docs/reliability.md for the table of kinds and results.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image, ImageCms

from styler import FastStylizer, Recipe, Stylizer, build_engine, load_image
from styler.batch import make_plan, printable
from styler.cli import batch as cli_batch
from styler.controls import CONTROLS, MODES, checked
from styler.errors import InvalidOption, OptionNotInMode, OptionsError
from styler.fast.inference import FastOptions
from styler.image_sizes import scaled_size
from styler.imageio import ImageLoadError, read_settings
from tests.conftest import gradient_photo, stripe_style

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}  # see tests/test_cli.py
W, H = 48, 36  # the ordinary photo's size


# ------------------------------------------------------------------------------ the corpus


def encoded(image: Image.Image, fmt: str, **options) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **options)
    return buffer.getvalue()


def photo(width: int = W, height: int = H, seed: int = 0) -> Image.Image:
    return gradient_photo(width, height, seed=seed)


def chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int, height: int, depth: int, colour: int, rows: bytes, extra=()) -> bytes:
    """A PNG written by hand: Pillow cannot write 16-bit colour or odd chunks."""
    ihdr = struct.pack(">IIBBBBB", width, height, depth, colour, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + b"".join(chunk(kind, data) for kind, data in extra)
            + chunk(b"IDAT", zlib.compress(rows)) + chunk(b"IEND", b""))  # fmt: skip


def png16(channels: int) -> bytes:
    """W x H, 16 bits a channel: RGB48 (colour type 2) or RGBA64 (6), red 0xff00 at top."""
    pixel = {3: (0xFF00, 0x8000, 0x0000), 4: (0xFF00, 0x8000, 0x0000, 0x8000)}[channels]
    row = b"\0" + struct.pack(">" + "H" * channels, *pixel) * W
    return png(W, H, 16, {3: 2, 4: 6}[channels], row * H)


def jpeg_with_size(width: int, height: int) -> bytes:
    """A small JPEG whose frame header claims width x height (a header-only 'bomb')."""
    data = bytearray(encoded(photo(16, 16), "JPEG"))
    sof = data.index(b"\xff\xc0")
    data[sof + 5 : sof + 9] = struct.pack(">HH", height, width)
    return bytes(data)


def oriented(orientation: int) -> bytes:
    """A JPEG stored so that applying EXIF `orientation` shows `marked()` upright."""
    inverse = {1: None, 2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
               4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
               6: Image.Transpose.ROTATE_90, 7: Image.Transpose.TRANSVERSE,
               8: Image.Transpose.ROTATE_270}[orientation]  # fmt: skip
    stored = marked() if inverse is None else marked().transpose(inverse)
    return encoded(stored, "JPEG", quality=95, exif=exif_with(0x0112, orientation))


def exif_with(tag: int, value: int) -> Image.Exif:
    exif = Image.Exif()
    exif[tag] = value
    return exif


def marked() -> Image.Image:
    """W x H grey with a red block at the top left: shows any wrong orientation."""
    image = Image.new("RGB", (W, H), (128, 128, 128))
    image.paste((255, 0, 0), (0, 0, W // 3, H // 3))
    return image


def frames(fmt: str, **options) -> bytes:
    """Three frames, red first: a reader that takes the first frame gives red."""
    colours = [(220, 20, 20), (20, 220, 20), (20, 20, 220)]
    images = [Image.new("RGB", (W, H), colour) for colour in colours]
    return encoded(images[0], fmt, save_all=True, append_images=images[1:], **options)


def huge_icc() -> bytes:
    """A JPEG with a valid sRGB profile padded to 1 MiB (spread over 17 APP2 markers)."""
    profile = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    profile += bytes((1 << 20) - len(profile))
    profile[0:4] = struct.pack(">I", len(profile))
    return encoded(photo(), "JPEG", icc_profile=bytes(profile))


def corrupt_exif() -> bytes:
    data = encoded(photo(), "JPEG")
    app1 = b"Exif\0\0MM\0*\0\0\0\x08\xff\xff" + b"\x13\x37" * 40  # 65535 entries, 40 bytes
    return data[:2] + b"\xff\xe1" + struct.pack(">H", len(app1) + 2) + app1 + data[2:]


def text_bomb() -> bytes:
    """A PNG with a zTXt chunk that inflates to 64 MiB: Pillow's metadata limit trips."""
    ztxt = b"Comment\0\0" + zlib.compress(bytes(64 << 20), 9)
    rows = (b"\0" + bytes(3 * W)) * H
    return png(W, H, 8, 2, rows, extra=[(b"zTXt", ztxt)])


def bad_crc() -> bytes:
    data = bytearray(encoded(photo(), "PNG"))
    idat = data.index(b"IDAT")
    length = struct.unpack(">I", data[idat - 4 : idat])[0]
    data[idat + 4 + length] ^= 0xFF  # the chunk's CRC
    return bytes(data)


def palette_with_transparency() -> Image.Image:
    image = photo().convert("P", palette=Image.Palette.ADAPTIVE, colors=16)
    image.info["transparency"] = 0
    return image


def cut(data: bytes, keep: float) -> bytes:
    return data[: int(len(data) * keep)]


@dataclass(frozen=True)
class Kind:
    """One kind of input: how to make it, and what every face must give for it."""

    name: str  # the test id
    file: str | bytes  # its name in the folder (bytes: not valid UTF-8)
    make: Callable[[Path], None]
    size: tuple[int, int] | None = None  # (width, height) of the result; None: an error
    reason: str = ""  # a regular expression the error's reason matches
    alpha: bool = False
    several_frames: bool = False
    animated: bool = False  # several frames that a batch writes back animated, as a clip
    listed: bool = True  # a folder's listing takes it as an input image
    top_left: tuple[int, int, int] | None = None  # the colour there after loading

    @property
    def path_name(self) -> str:
        return os.fsdecode(self.file)


def data(content: bytes | Callable[[], bytes]) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(content() if callable(content) else content)


def image(make: Callable[[], Image.Image], fmt: str, **options) -> Callable[[Path], None]:
    return lambda path: path.write_bytes(encoded(make(), fmt, **options))


def symlink(target: str) -> Callable[[Path], None]:
    return lambda path: os.symlink(target, path)


def fifo(path: Path) -> None:
    os.mkfifo(path)


def folder(path: Path) -> None:
    path.mkdir()
    photo().save(path / "inside.png")  # only a recursive run would take it


RED = (255, 0, 0)
CORPUS: list[Kind] = [
    # damaged data
    Kind("truncated JPEG", "truncated_jpeg.jpg", data(lambda: cut(encoded(photo(), "JPEG"), 0.5)),
         reason="truncated or corrupt"),
    Kind("truncated PNG", "truncated_png.png", data(lambda: cut(encoded(photo(), "PNG"), 0.6)),
         reason="truncated or corrupt"),
    Kind("truncated GIF", "truncated_gif.gif", data(lambda: cut(encoded(photo(), "GIF"), 0.5)),
         reason="truncated or corrupt"),
    Kind("truncated WebP", "truncated_webp.webp", data(lambda: cut(encoded(photo(), "WEBP"), 0.5)),
         reason="truncated or corrupt"),
    Kind("truncated TIFF", "truncated_tiff.tif", data(lambda: cut(encoded(photo(), "TIFF"), 0.5)),
         reason="truncated or corrupt"),
    Kind("PNG with a bad CRC (pixels intact)", "badcrc.png", data(bad_crc), size=(W, H)),
    Kind("BMP with a garbage header", "garbage.bmp", data(b"BM" + bytes(range(256)) * 4),
         reason="truncated or corrupt"),
    # not images at all
    Kind("zero-byte file", "zero.png", data(b""), reason=r"empty file \(0 bytes\)"),
    Kind("text named .jpg", "text.jpg", data(b"this is a text file, not a JPEG\n"),
         reason="not an image styler can read"),
    Kind("SVG named .png", "vector.png", data(b'<svg xmlns="http://www.w3.org/2000/svg"/>'),
         reason="not an image styler can read"),
    # right data, wrong name
    Kind("PNG named .jpg", "png_as.jpg", image(photo, "PNG"), size=(W, H)),
    Kind("JPEG named .png", "jpeg_as.png", image(photo, "JPEG"), size=(W, H)),
    Kind("JPEG with trailing garbage", "trailing.jpg",
         data(lambda: encoded(photo(), "JPEG") + os.urandom(500)), size=(W, H)),
    # decompression bombs: refused from the header, before decoding
    Kind("decompression-bomb PNG header", "bomb_png.png",
         data(lambda: png(40000, 40000, 8, 2, b"\0" * 10)), reason=r"over the .* MP limit"),
    Kind("decompression-bomb JPEG header", "bomb_jpeg.jpg",
         data(lambda: jpeg_with_size(65000, 65000)), reason=r"over the .* MP limit"),
    Kind("metadata bomb (zTXt to 64 MiB)", "textbomb.png", data(text_bomb),
         reason="not an image styler can read"),
    # extreme shapes
    Kind("1x1", "one.png", image(lambda: photo(1, 1), "PNG"), size=(1, 1)),
    Kind("2x2", "two.png", image(lambda: photo(2, 2), "PNG"), size=(2, 2)),
    Kind("1x20000", "row.png", image(lambda: photo(20000, 1), "PNG"), size=(20000, 1)),
    Kind("20000x1", "column.png", image(lambda: photo(1, 20000), "PNG"), size=(1, 20000)),
    # modes and bit depths
    Kind("16-bit grey (I;16)", "grey16.png",
         image(lambda: Image.fromarray(np.full((H, W), 65535, np.uint16)), "PNG"), size=(W, H),
         top_left=(255, 255, 255)),
    Kind("RGB48 PNG", "rgb48.png", data(lambda: png16(3)), size=(W, H), top_left=(255, 128, 0)),
    Kind("RGBA64 PNG", "rgba64.png", data(lambda: png16(4)), size=(W, H), alpha=True),
    Kind("32-bit integer TIFF (I)", "int32.tif",
         image(lambda: Image.fromarray(np.full((H, W), 30000, np.int32)), "TIFF"), size=(W, H)),
    Kind("float TIFF (F)", "float.tif",
         image(lambda: Image.fromarray(np.full((H, W), 0.5, np.float32)), "TIFF"), size=(W, H)),
    Kind("bilevel PNG (1)", "bilevel.png", image(lambda: photo().convert("1"), "PNG"),
         size=(W, H)),
    Kind("CMYK JPEG", "cmyk.jpg", image(lambda: Image.new("CMYK", (W, H), (0, 255, 255, 0)),
                                        "JPEG"), size=(W, H), top_left=RED),  # fmt: skip
    Kind("palette with transparency", "palette.png", image(palette_with_transparency, "PNG"),
         size=(W, H), alpha=True),
    Kind("LA (grey and alpha)", "la.png", image(lambda: photo().convert("LA"), "PNG"),
         size=(W, H), alpha=True),
    # EXIF orientation: the red block must end up at the top left, sides swapped for 5-8
    *[Kind(f"EXIF orientation {n}", f"orientation{n}.jpg", data(lambda n=n: oriented(n)),
           size=(W, H), top_left=RED) for n in range(1, 9)],  # fmt: skip
    Kind("EXIF orientation 9 (invalid)", "orientation9.jpg",
         image(marked, "JPEG", exif=exif_with(0x0112, 9)), size=(W, H), top_left=RED),
    # several frames: a photo's loader takes the first, said so; a batch paints an animation
    # whole and writes it back animated in its own format (styler.video.animation)
    Kind("animated GIF", "animated_gif.gif", data(lambda: frames("GIF", duration=100, loop=0)),
         size=(W, H), several_frames=True, animated=True, top_left=(220, 20, 20)),
    Kind("animated WebP", "animated_webp.webp", data(lambda: frames("WEBP", lossless=True)),
         size=(W, H), several_frames=True, animated=True, top_left=(220, 20, 20)),
    Kind("animated PNG", "animated_png.png", data(lambda: frames("PNG")),
         size=(W, H), several_frames=True, animated=True, top_left=(220, 20, 20)),
    Kind("multi-page TIFF", "pages.tif", data(lambda: frames("TIFF")),
         size=(W, H), several_frames=True, top_left=(220, 20, 20)),
    # metadata
    Kind("huge ICC profile (1 MiB)", "huge_icc.jpg", data(huge_icc), size=(W, H)),
    Kind("corrupt ICC profile (JPEG)", "bad_icc_jpeg.jpg",
         image(photo, "JPEG", icc_profile=b"not a profile" * 50), size=(W, H)),
    Kind("corrupt ICC profile (PNG)", "bad_icc_png.png",
         image(photo, "PNG", icc_profile=b"not a profile" * 50), size=(W, H)),
    Kind("corrupt EXIF block", "bad_exif.jpg", data(corrupt_exif), size=(W, H)),
    # what folders hold besides image files
    Kind("folder named like an image", "folder.jpg", folder, reason="is a directory",
         listed=False),
    Kind("symbolic link loop", "loop_a.png", symlink("loop_b.png"),
         reason="Too many levels of symbolic links"),
    Kind("symbolic link loop, other end", "loop_b.png", symlink("loop_a.png"),
         reason="Too many levels of symbolic links"),
    Kind("dangling symbolic link", "dangling.png", symlink("nowhere.png"),
         reason="file not found"),
    Kind("named pipe (would block a reader)", "pipe.png", fifo,
         reason=r"not a regular file \(a named pipe\)"),
    Kind("link to /dev/zero (endless)", "endless.jpg", symlink("/dev/zero"),
         reason=r"not a regular file \(a character device\)"),
    # names
    Kind("name not valid UTF-8 (image)", b"caf\xe9.png", image(photo, "PNG"), size=(W, H)),
    Kind("name not valid UTF-8 (text)", b"\xff\xfe.jpg", data(b"text"),
         reason="not an image styler can read"),
    Kind("newline and escape in the name", "new\nline\x1b[2J.png", data(b"text"),
         reason="not an image styler can read"),
    Kind("240-character name", "n" * 236 + ".png", image(photo, "PNG"), size=(W, H)),
]


GOOD = [k for k in CORPUS if k.size is not None]
BAD = [k for k in CORPUS if k.size is None]


def make_corpus(root: Path) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    for kind in CORPUS:
        kind.make(Path(os.fsdecode(os.fsencode(root) + b"/" + os.fsencode(kind.file))))
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_corpus(tmp_path_factory.mktemp("corpus") / "in")


def test_the_corpus_has_at_least_30_kinds() -> None:
    assert len(CORPUS) >= 30 and len({k.name for k in CORPUS}) == len(CORPUS)
    assert len({Path(k.path_name).stem for k in CORPUS}) == len(CORPUS)  # one output each


def corpus_path(root: Path, kind: Kind) -> Path:
    return Path(os.fsdecode(os.fsencode(root) + b"/" + os.fsencode(kind.file)))


def close(pixel, expected, tolerance: int = 40) -> bool:
    return all(abs(int(a) - int(b)) <= tolerance for a, b in zip(pixel, expected, strict=True))


def check_error(exc: ImageLoadError, path: Path, kind: Kind) -> None:
    """One line, naming the file, with the kind's reason."""
    message = str(exc)
    assert "\n" not in exc.reason and message.startswith(f"{path}: "), message
    assert re.search(kind.reason, exc.reason), (kind.name, message)


# ----------------------------------------------------------------------------------- the API


@pytest.mark.parametrize("kind", CORPUS, ids=lambda k: k.name)
def test_load_image_gives_the_image_or_one_line_naming_the_file(corpus: Path, kind: Kind):
    path = corpus_path(corpus, kind)
    if kind.size is None:
        with pytest.raises(ImageLoadError) as raised:
            load_image(path)
        check_error(raised.value, path, kind)
        return
    loaded = load_image(path)
    assert loaded.rgb.mode == "RGB" and loaded.rgb.size == kind.size
    assert (loaded.alpha is not None) == kind.alpha
    assert bool(loaded.notes) == kind.several_frames
    if kind.several_frames:
        assert loaded.notes == (f"{loaded.notes[0].split()[0]} file has several frames "
                                "(animated or multi-page): only the first frame is used",)
    if kind.top_left is not None:
        assert close(loaded.rgb.getpixel((2, 2)), kind.top_left), loaded.rgb.getpixel((2, 2))


def test_fast_stylizer_on_every_kind(corpus: Path, tiny_net: Path) -> None:
    stylizer = FastStylizer(tiny_net, device="cpu", backend="torch")
    for kind in CORPUS:
        path = corpus_path(corpus, kind)
        if kind.size is None:
            with pytest.raises(ImageLoadError) as raised:
                stylizer.run(path, FastOptions())
            check_error(raised.value, path, kind)
        else:
            result = stylizer.run(path, FastOptions())
            assert result.image.size == kind.size and result.completed, kind.name
            assert (result.alpha is not None) == kind.alpha, kind.name


def test_the_ui_checks_every_kind_at_upload_and_stylizes_the_good_ones(
    corpus: Path, tiny_net: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The web UI's own path: the upload check and Fast mode's handler. A bad file is one
    line naming it by its file name (the server's folders mean nothing in a browser)."""
    from styler.batch import printable
    from styler.ui.config import UIConfig
    from styler.ui.inputs import Controls, check_photo
    from styler.ui.messages import UserError
    from styler.ui.runs import run_fast
    from styler.ui.services import Services
    from styler.ui.state import Session

    monkeypatch.setenv("STYLER_WEIGHTS_DIR", str(tiny_net.parent))
    services = Services(UIConfig(device="cpu", temp_dir=tmp_path, prewarm=False))
    try:
        for kind in CORPUS:
            path = corpus_path(corpus, kind)
            if kind.size is None:
                with pytest.raises(UserError) as raised:
                    check_photo(services, path)
                message = str(raised.value)
                assert "\n" not in message and f"{printable(path.name)}: " in message, message
                assert str(path.parent) not in message, message
                assert re.search(kind.reason, raised.value.reason), (kind.name, message)
            else:
                shown = check_photo(services, path)  # a TIFF: the PNG copy browsers show
                assert shown == str(path) or services.workspace.contains(shown), kind.name
                entry = run_fast(services, Session(), path, "warm_test", Controls())
                assert Image.open(entry.path).size == kind.size, kind.name
    finally:
        services.workspace.cleanup()


@pytest.mark.slow
def test_stylizer_on_every_kind(corpus: Path) -> None:
    """Optimizer mode, 32 px and one step: every image runs (1x1 and 1x20000 padded for
    VGG19 and cropped back), every bad file is one line naming it."""
    stylizer = Stylizer(device="cpu")
    style = stripe_style(40, 40)
    for kind in CORPUS:
        path = corpus_path(corpus, kind)
        if kind.size is None:
            with pytest.raises(ImageLoadError) as raised:
                stylizer.run(path, style, build(size=32, steps=1))
            check_error(raised.value, path, kind)
        else:
            result = stylizer.run(path, style, build(size=32, steps=1))
            assert result.image.size in optimizer_sizes(kind.size), kind.name


def optimizer_sizes(size: tuple[int, int]) -> set[tuple[int, int]]:
    """The size of a result at --size 32: the long side 32, or the photo's own where it is
    smaller and the size control caps at it (the 'upscale' control)."""
    return {scaled_size(size, 32), scaled_size(size, min(32, max(size)))}


def build(**values):
    from styler import build_options

    return build_options(**values)


def test_a_file_that_vanishes_or_changes_between_listing_and_reading(tmp_path, tiny_net):
    """The batch lists a folder, then before each file is read one is deleted, one becomes
    a folder and one a named pipe: each is one line, the rest are done."""
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a", "gone", "dir", "pipe", "z"):
        photo(20, 10).save(folder / f"{name}.png")
    plan = make_plan([folder], [tiny_net], tmp_path / "out", "png")
    (folder / "gone.png").unlink()
    (folder / "dir.png").unlink()
    (folder / "dir.png").mkdir()
    (folder / "pipe.png").unlink()
    os.mkfifo(folder / "pipe.png")
    engine = build_engine(Recipe.create("fast", [tiny_net], device="cpu"))
    batch = cli_batch.TerminalBatch(engine, quiet=True)
    summary = batch.run(plan.jobs, cli_batch.TerminalSummary())
    assert summary.stylized == 2 and sorted(p.name for p in summary.written) == [
        "a__warm_test.png", "z__warm_test.png"]  # fmt: skip
    assert summary.failures == [
        f"{folder / 'dir.png'}: is a directory, not an image file",
        f"{folder / 'gone.png'}: file not found",
        f"{folder / 'pipe.png'}: not a regular file (a named pipe)",
    ]


# ----------------------------------------------------------------------------------- the CLI


def styler(*args, cwd: Path, env: dict | None = None, timeout: float = 240):
    """The CLI in a subprocess with a time limit: a hang fails the test, it never stalls."""
    command = [sys.executable, "-m", "styler.cli.main", *map(str, args)]
    return subprocess.run(command, cwd=cwd, env=env or ENV, capture_output=True, text=True,
                          timeout=timeout, errors="backslashreplace")  # fmt: skip


def leftovers(*folders: Path, tmpdir: Path) -> list[str]:
    """Temporary or hidden files in the folders, and Python's or styler's temporary files in
    TMPDIR: none may be left once a run ends. (onnxruntime leaves a '.ses' session file in
    TMPDIR; it is not styler's.)"""
    found = []
    for folder in folders:
        for root, _, files in os.walk(folder):
            found += [os.path.join(root, f) for f in files if f.startswith(".") or "tmp" in f]
    found += [name for name in os.listdir(tmpdir) if name.startswith("tmp") or "styler" in name]
    return found


def check_cli_run(run, root: Path, out: Path, style: str, size_of: Callable) -> None:
    """Every listed kind has its output, of the right size, or exactly one error line."""
    assert run.returncode == 1, run.stderr
    assert "Traceback" not in run.stderr and "Warning" not in run.stderr, run.stderr
    errors = [line for line in run.stderr.splitlines() if line.startswith("error: ")]
    listed = [k for k in CORPUS if k.listed]
    good, bad = [k for k in listed if k.size], [k for k in listed if not k.size]
    for kind in bad:
        name = printable(str(Path("in") / kind.path_name))
        mine = [line for line in errors if line.startswith(f"error: {name}: ")]
        assert len(mine) == 1, (kind.name, errors)
        assert re.search(kind.reason, mine[0]), mine[0]
    assert len(errors) == len(bad)
    outputs = {kind.name: out / f"{Path(kind.path_name).stem}__{style}"
               f"{Path(kind.path_name).suffix if kind.animated else '.png'}" for kind in good}
    assert sorted(os.listdir(out)) == sorted(path.name for path in outputs.values())
    for kind in good:
        output = outputs[kind.name]
        result = load_image(output)
        assert result.rgb.size in size_of(kind.size), kind.name
        if kind.animated:  # painted whole (tests/test_animation.py), none of it left out
            with Image.open(output) as written, Image.open(root / "in" / kind.path_name) as im:
                assert written.format == im.format, kind.name  # its own format, animated
            assert f"note: {printable(str(Path('in') / kind.path_name))}: " not in run.stderr
        elif kind.several_frames:
            assert f"note: {printable(str(Path('in') / kind.path_name))}: " in run.stderr
            notes = read_settings(output)["engine"]["source_notes"]
            assert notes and "only the first frame is used" in notes[0]
    assert f"{len(good)} stylized, 0 skipped (existing), {len(bad)} failed" in run.stderr
    assert leftovers(out, root / "in", tmpdir=root / "tmp") == []


@pytest.fixture(scope="module")
def cli_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("cli")
    make_corpus(root / "in")
    stripe_style(40, 40).save(root / "stripes.png")
    (root / "tmp").mkdir()
    return root


@pytest.mark.slow
def test_cli_fast_mode_over_the_corpus(cli_root: Path) -> None:
    env = {**ENV, "TMPDIR": str(cli_root / "tmp")}
    run = styler("stylize", "in", "--fast", "udnie", "-o", "out_udnie", "-q", cwd=cli_root,
                 env=env)  # fmt: skip
    check_cli_run(run, cli_root, cli_root / "out_udnie", "udnie", lambda size: {size})


@pytest.mark.slow
def test_cli_optimizer_mode_over_the_corpus(cli_root: Path) -> None:
    env = {**ENV, "TMPDIR": str(cli_root / "tmp")}
    run = styler("stylize", "in", "--style", "stripes.png", "--size", "32", "--steps", "1",
                 "-o", "out_stripes", "-q", cwd=cli_root, env=env)  # fmt: skip
    check_cli_run(run, cli_root, cli_root / "out_stripes", "stripes", optimizer_sizes)


def unprivileged() -> list[str]:
    """A command prefix under which permission bits hold, for files root could read anyway:
    root without its capabilities (still the owner of the checkout, so a checkout in a
    0700 folder from mktemp -d is still readable, where 'nobody' could not reach it)."""
    if os.geteuid() != 0:
        return []
    if shutil.which("setpriv") is None:
        pytest.skip("running as root without setpriv: cannot make a file unreadable to us")
    prefix = ["setpriv", "--inh-caps=-all", "--bounding-set=-all", "--"]
    checkout = Path(__file__).resolve().parents[1]
    probe = subprocess.run([*prefix, sys.executable, "-c", "import styler"], capture_output=True,
                           env={**ENV, "PYTHONPATH": str(checkout)}, timeout=120)  # fmt: skip
    if probe.returncode != 0:
        pytest.skip(f"cannot drop root's capabilities here: {probe.stderr.decode()[-200:]}")
    return prefix


@pytest.mark.slow
@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_unreadable_files_and_folders(tiny_net: Path) -> None:
    """chmod 000 on a file, on a sub-folder, and an output folder we may not write: one line
    each, the rest done. Root reads anything, so the run is made without its capabilities
    then, and the folders are its own: the read-only one has no write bit for its owner."""
    prefix = unprivileged()
    root = Path(tempfile.mkdtemp(prefix="styler-unreadable-"))
    try:
        root.chmod(0o777)
        (root / "in" / "locked_dir").mkdir(parents=True)
        photo().save(root / "in" / "good.png")
        photo().save(root / "in" / "locked.png")
        photo().save(root / "in" / "locked_dir" / "inside.png")
        shutil.copy(tiny_net, root / "net.safetensors")
        (root / "readonly").mkdir()
        (root / "in").chmod(0o755)
        (root / "readonly").chmod(0o555)
        (root / "in" / "locked.png").chmod(0o000)
        (root / "in" / "locked_dir").chmod(0o000)
        (root / "cache").mkdir(mode=0o777)
        (root / "cache").chmod(0o777)
        env = {**ENV, "HOME": str(root), "STYLER_CACHE_DIR": str(root / "cache"),
               "PYTHONPATH": str(Path(__file__).resolve().parents[1])}  # fmt: skip
        command = [*prefix, sys.executable, "-m", "styler.cli.main", "stylize", "in", "-r",
                   "--fast", "net.safetensors", "-q"]  # fmt: skip
        run = subprocess.run([*command, "-o", "out"], cwd=root, env=env, capture_output=True,
                             text=True, timeout=240)  # fmt: skip
        assert run.returncode == 1, run.stderr
        errors = sorted(line for line in run.stderr.splitlines() if line.startswith("error: "))
        assert errors == [
            "error: in/locked.png: permission denied",
            "error: in/locked_dir: cannot list folder (Permission denied)",
        ], run.stderr
        assert os.listdir(root / "out") == ["good__net.png"]
        denied = subprocess.run([*command, "-o", "readonly/out"], cwd=root, env=env,
                                capture_output=True, text=True, timeout=240)  # fmt: skip
        # refused before painting, once, rather than once per input after each was painted
        assert denied.returncode == 2 and "Traceback" not in denied.stderr
        assert denied.stderr.splitlines()[-1] == \
            "styler: error: -o readonly/out: no permission to write in readonly", denied.stderr
        api = subprocess.run([*prefix, sys.executable, "-c", "import styler, sys\n"
                              "try: styler.load_image('in/locked.png')\n"
                              "except styler.ImageLoadError as e: print(e)"],
                             cwd=root, env=env, capture_output=True, text=True, timeout=120)
        assert api.stdout.strip() == "in/locked.png: permission denied", api.stderr
    finally:
        for path in (root / "in" / "locked.png", root / "in" / "locked_dir"):
            if path.exists():
                path.chmod(0o755)
        shutil.rmtree(root, ignore_errors=True)


# ------------------------------------------------------------------- property-based tests

ENCODABLE = {  # mode -> formats Pillow writes it in
    "1": ["PNG", "BMP", "TIFF"], "L": ["PNG", "JPEG", "BMP", "TIFF", "WEBP", "GIF"],
    "LA": ["PNG", "TIFF"], "P": ["PNG", "BMP", "GIF", "TIFF"], "RGB": ["PNG", "JPEG", "BMP",
    "TIFF", "WEBP", "GIF"], "RGBA": ["PNG", "TIFF", "WEBP"], "CMYK": ["JPEG", "TIFF"],
    "I;16": ["PNG", "TIFF"], "I": ["TIFF"], "F": ["TIFF"],
}  # fmt: skip
HEADERS = [b"", b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff\xe0", b"GIF89a", b"BM", b"II*\x00",
           b"MM\x00*", b"RIFF\x00\x00\x00\x00WEBPVP8 "]  # fmt: skip
# No example database: nothing is written into the checkout (.hypothesis/).
PROPERTY = settings(max_examples=120, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow])  # fmt: skip


def random_image(draw) -> tuple[Image.Image, str]:
    mode = draw(st.sampled_from(sorted(ENCODABLE)))
    fmt = draw(st.sampled_from(ENCODABLE[mode]))
    width, height = draw(st.integers(1, 40)), draw(st.integers(1, 40))
    seed = draw(st.integers(0, 2**16))
    rgb = np.random.default_rng(seed).integers(0, 256, (height, width, 4), np.uint8)
    base = Image.fromarray(rgb, "RGBA")
    if mode in ("I;16", "I", "F"):
        values = rgb[..., 0].astype({"I;16": np.uint16, "I": np.int32, "F": np.float32}[mode])
        return Image.fromarray(values * (257 if mode == "I;16" else 1)), fmt
    return base.convert(mode), fmt


def load_or_one_line(path: str) -> None:
    """The property: an 8-bit RGB image (and its alpha) or an ImageLoadError in one line
    naming the file; nothing else, whatever the bytes."""
    try:
        loaded = load_image(path)
    except ImageLoadError as exc:
        assert str(exc).startswith(f"{path}: ") and "\n" not in str(exc)
        return
    assert loaded.rgb.mode == "RGB" and min(loaded.rgb.size) >= 1
    assert loaded.alpha is None or loaded.alpha.size == loaded.rgb.size


@PROPERTY
@given(header=st.sampled_from(HEADERS), body=st.binary(max_size=3000),
       suffix=st.sampled_from([".png", ".jpg", ".gif", ".webp", ".tif", ".bmp"]))
def test_random_bytes_load_or_fail_in_one_line(header: bytes, body: bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "random" + suffix)
        Path(path).write_bytes(header + body)
        load_or_one_line(path)


@PROPERTY
@given(st.data())
def test_damaged_images_load_or_fail_in_one_line(data) -> None:
    """A valid image with random bytes overwritten and the file cut at a random point."""
    image, fmt = random_image(data.draw)
    raw = bytearray(encoded(image, fmt))
    for _ in range(data.draw(st.integers(0, 8))):
        raw[data.draw(st.integers(0, len(raw) - 1))] = data.draw(st.integers(0, 255))
    raw = raw[: data.draw(st.integers(1, len(raw)))]
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "damaged." + fmt.lower())
        Path(path).write_bytes(raw)
        load_or_one_line(path)


@PROPERTY
@given(st.data())
def test_valid_images_of_every_mode_load_at_their_size(data) -> None:
    image, fmt = random_image(data.draw)
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "valid." + fmt.lower())
        Path(path).write_bytes(encoded(image, fmt))
        loaded = load_image(path)
    assert loaded.rgb.mode == "RGB" and loaded.rgb.size == image.size, (image.mode, fmt)
    if image.mode in ("LA", "RGBA"):  # random alpha: some of it is transparent
        assert loaded.alpha is not None, (image.mode, fmt)
    elif image.mode != "P":  # a palette may have gained a transparent entry
        assert loaded.alpha is None, (image.mode, fmt)


OPTION_VALUES = st.one_of(
    st.integers(-(2**63), 2**63), st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=12), st.sampled_from(["nan", "inf", "-inf", "1e400", "0x10", " 7 ", "5_0",
                                           "", "-0", "1e-400", "0.5", "16", "16384"]),
    st.booleans(), st.none(), st.binary(max_size=4),
)  # fmt: skip


@PROPERTY
@given(mode=st.sampled_from(MODES), name=st.sampled_from(sorted(CONTROLS)), value=OPTION_VALUES)
def test_option_values_are_accepted_in_range_or_refused_in_one_line(mode, name, value) -> None:
    control = CONTROLS[name]
    try:
        accepted = checked(mode, {name: value})[name]
    except OptionNotInMode:
        assert not control.acts_in(mode)
        return
    except InvalidOption as exc:
        assert exc.name == name and "\n" not in str(exc)
        return
    if control.choices:
        assert accepted in control.choices
    elif control.kind is bool:
        assert isinstance(accepted, bool)
    elif control.kind is not str:
        assert isinstance(accepted, control.kind) and not isinstance(accepted, bool)
        bounds = control.bounds_for(mode)
        assert (accepted == 0 and control.zero_means) or bounds is None or (
            bounds[0] <= accepted <= bounds[1])


def test_an_option_too_large_for_a_float_is_an_invalid_option() -> None:
    with pytest.raises(OptionsError):
        checked("optimize", {"steps": 10**400})


def call_main(argv: list[str]) -> tuple[int, str]:
    from styler.cli.main import main

    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        try:
            code = main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code
    return code, err.getvalue()


@PROPERTY
@given(flag=st.sampled_from(sorted(c.flag for c in CONTROLS.values() if c.kind is not bool)),
       text=st.one_of(st.text(min_size=1, max_size=10).filter(lambda t: not t.startswith("-")),
                      st.sampled_from(["nan", "inf", "1e400", "0", "-1", "0.5", "16", "1e9"])),
       mode=st.sampled_from([("--fast", "udnie"), ("--style", "s.png"),
                             ("--style", "s.png", "--instant")]))  # fmt: skip
def test_cli_option_values_are_usage_errors_in_one_line_or_accepted(flag, text, mode):
    """Any value for any flag that takes one (on/off flags take none): exit 2 and one
    'error:' line, naming the flag when the value
    is refused, or accepted (the run then stops at the missing input, also exit 2); in
    every mode."""
    code, err = call_main(["stylize", "missing-input.png", *mode, flag, text])
    assert code == 2, err
    lines = [line for line in err.splitlines() if "error:" in line]
    assert len(lines) == 1, err
    assert lines[0].endswith("missing-input.png: no such file or folder") or flag in lines[0] \
        or "has no effect" in lines[0], err  # fmt: skip
    assert "Traceback" not in err


def test_json_settings_of_a_noted_result_read_back(tmp_path: Path, tiny_net: Path) -> None:
    """The first-frame note rides in the settings' informational part: the result still
    reproduces (--settings-from reads it as any other)."""
    from styler.batch import stylize_files
    from styler.settings import Settings

    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "pages.tif").write_bytes(frames("TIFF"))
    summary = stylize_files(tmp_path / "in", tmp_path / "out",
                            Recipe.create("fast", [tiny_net], device="cpu"))  # fmt: skip
    assert summary.ok and summary.notes == [
        f"{tmp_path / 'in' / 'pages.tif'}: TIFF file has several frames (animated or "
        "multi-page): only the first frame is used"]  # fmt: skip
    settings = Settings.from_file(summary.written[0])
    assert settings.engine["source_notes"] == [summary.notes[0].split(": ", 1)[1]]
    assert json.loads(json.dumps(settings.to_dict()))["mode"] == "fast"

