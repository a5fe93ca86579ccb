"""Image I/O shared by the engine, CLI, API and UI.

Loading turns anything Pillow reads, HEIC and camera RAW included (styler/photo_formats.py),
or a numpy array, into 8-bit sRGB RGB plus an optional alpha mask, so the rest of styler only
ever sees one kind of image; the photo's EXIF and ICC profile ride along for saving. Saving
writes PNG, JPEG, WebP or TIFF with the run's settings embedded, atomically, so a crash never
leaves a half-written file, keeping the photo's metadata and colour space as the photographer
asked (styler/metadata.py, styler/colour_space.py; docs/photographers.md).
"""

import contextlib
import hashlib
import io
import json
import numbers
import os
import pathlib
import re
import socket
import stat
import tempfile
import threading
import zlib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, replace
from functools import cache
from typing import Any

import numpy as np
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from styler import photo_formats
from styler.colour_space import from_srgb, is_srgb, srgb_icc
from styler.controls import CONTROLS, OPTIMIZE
from styler.errors import InvalidOption, StylerError
from styler.image_sizes import scaled_size
from styler.metadata import IMAGE_DESCRIPTION, SETTINGS_PREFIX, exif_bytes, output_exif
from styler.quiet import native_noise_dropped, silenced
from styler.tiff_output import encode_tiff
from styler.transparency import hidden_filled
from styler.xmp_settings import settings_in_packet, settings_packet

try:
    from PIL import ImageCms
except ImportError:  # Pillow built without LittleCMS: colours are kept as stored
    ImageCms = None

DEFAULT_MAX_PIXELS: int = CONTROLS["max_pixels"].default  # Pillow's error threshold

SETTINGS_KEY = "styler"  # PNG iTXt key holding the settings JSON
SOFTWARE = "styler"
_EXIF_SOFTWARE = 0x0131
_FORMATS = {"png": "png", "jpg": "jpeg", "jpeg": "jpeg", "jpe": "jpeg", "webp": "webp",
            "tif": "tiff", "tiff": "tiff", "heic": "heic", "heif": "heic", "hif": "heic",
            "avif": "avif"}  # fmt: skip
OUTPUT_FORMATS = ("png", "jpg", "webp", "tiff", "heic", "avif")  # what --format offers
OUTPUT_EXTENSIONS = {"png": "png", "jpeg": "jpg", "webp": "webp", "tiff": "tiff",
                     "heic": "heic", "avif": "avif"}  # by format  # fmt: skip
# Every extension a folder scan takes as a photo (HEIC, AVIF and RAW among them).
IMAGE_EXTENSIONS = photo_formats.input_extensions()
_PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP", "heic": "HEIF", "avif": "AVIF"}
# zlib settings of written PNGs: its run-length strategy (matches only one byte back), made
# for PNG's filtered rows. Stylized photos are fine texture with few long repeats, so it
# writes them faster than level 3's default strategy and smaller than level 6's
# (docs/performance.md, "PNG compression"); under Z_RLE the level does not change the bytes.
PNG_ZLIB = {"compress_level": 1, "compress_type": zlib.Z_RLE}
_HIGH_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})
# libtiff's own reports of damaged data, printed to stderr beside the error Pillow raises:
# "TIFFFillStrip: Read error on strip 0; ...", or under the name Pillow opens its stream by
LIBTIFF_NOISE = re.compile(rb"(_?TIFF\w*|tempfile\.tif): ")
_ICC_MODES = frozenset({"RGB", "L", "CMYK", "LAB"})  # modes LittleCMS converts directly

_PILLOW_LIMIT_LOCK = threading.Lock()


def _current_umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


# Temporary files are created 0600; outputs should get the permissions a plain open() would give.
_FILE_MODE = 0o666 & ~_current_umask()


class ImageError(StylerError, ValueError):
    """An image could not be read or written: `source` names it, `reason` says why in one
    line; the message is '<source>: <reason>', and faces may word it their own way."""

    def __init__(self, source: str, reason: object) -> None:
        self.source = source
        self.reason = " ".join(str(reason).split()) or type(reason).__name__
        super().__init__(f"{source}: {self.reason}")


class ImageLoadError(ImageError):
    """An image could not be read."""


class ImageTooLarge(ImageLoadError):
    """An image has more pixels than the limit; its header alone told."""

    def __init__(self, source: str, size: tuple[int, int], limit: int) -> None:
        self.size, self.limit = size, limit
        width, height = size
        shown = megapixels(width * height, up=True)
        super().__init__(source, f"image is {width}x{height} = {shown} MP, "
                         f"over the {megapixels(limit)} MP limit")  # fmt: skip


def megapixels(pixels: int, *, up: bool = False) -> str:
    """Pixels in MP to one decimal, or to two significant digits under 1 MP (a small limit
    read '0.0 MP'); rounded down, so a limit is never overstated, or `up`, so an image over
    it never reads as within it."""
    decimals = 1 if pixels >= 10**6 or pixels <= 0 else 8 - len(str(pixels))
    units, rest = divmod(pixels * 10**decimals, 10**6)
    return f"{(units + (up and rest > 0)) / 10**decimals:.{decimals}f}"


class ImageSaveError(ImageError):
    """An image could not be written."""


@dataclass(frozen=True)
class LoadedImage:
    """An image ready for the engine, plus the alpha mask to put back on the output."""

    rgb: Image.Image  # mode 'RGB', 8-bit, sRGB, orientation applied
    alpha: Image.Image | None  # mode 'L' when the source had transparency
    source: str  # the path, or '<array>' / '<image>'
    notes: tuple[str, ...] = ()  # one line each: what the file held that styler left out
    exif: bytes = b""  # the source's EXIF as stored; saving keeps what the options allow
    icc_profile: bytes = b""  # the source's colour profile (pixels are sRGB already)

    def painting(self) -> Image.Image:
        """The picture as a style: its transparent pixels are no strokes (a cut-out's hidden
        pixels are usually black), so it is cropped to its visible part and what is still
        transparent there is its visible part's mean colour, composited by alpha.
        ImageLoadError where nothing of it is visible."""
        if self.alpha is None:
            return self.rgb
        alpha = np.asarray(self.alpha, np.float32) / 255
        if alpha.min() == 1:
            return self.rgb
        rows, columns = np.nonzero(alpha > 0)
        if rows.size == 0:
            raise ImageLoadError(self.source, "fully transparent: no painting to take a style from")
        crop = (slice(rows.min(), rows.max() + 1), slice(columns.min(), columns.max() + 1))
        rgb, alpha = np.asarray(self.rgb, np.float32)[crop], alpha[crop][..., None]
        mean = (rgb * alpha).sum(axis=(0, 1)) / alpha.sum()
        return Image.fromarray(np.round(rgb * alpha + mean * (1 - alpha)).astype(np.uint8))


@dataclass(frozen=True)
class PhotoOptions:
    """What an output keeps of its photo: the FILES controls of styler.controls."""

    keep_location: bool = CONTROLS["keep_location"].default
    strip_metadata: bool = CONTROLS["strip_metadata"].default
    color_space: str = CONTROLS["color_space"].default
    tiff_bits: str = CONTROLS["tiff_bits"].default

    def __post_init__(self) -> None:
        """Each option checked by the registry and given its type (tiff_bits=16 means "16";
        it wrote 8-bit TIFFs without a word)."""
        for name in self.__dataclass_fields__:
            object.__setattr__(self, name, CONTROLS[name].check(getattr(self, name), OPTIMIZE))

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> "PhotoOptions":
        """These options from control values by name (a face's or a mode's); the rest are
        ignored."""
        return cls(**{name: values[name] for name in cls.__dataclass_fields__ if name in values})


# --------------------------------------------------------------------------------------- loading


def load_image(
    source: str | os.PathLike | Image.Image | np.ndarray | LoadedImage,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    bgr: bool = False,
    at_least: int = 0,
) -> LoadedImage:
    """Load a file, PIL image or numpy array as 8-bit sRGB RGB plus optional alpha.

    max_pixels guards files only (arrays and PIL images are already decoded); bgr applies to
    arrays only. at_least: the long side the caller will shrink the image to (0: its own);
    a JPEG file at least four times as long is decoded at a reduced scale (_reduced_decode).
    Raises ImageLoadError (a ValueError) with a one-line message naming the file, for
    anything that is not a readable image: damaged data, a directory, a pipe or device, a
    file that vanished. A file of several frames (animated, multi-page) gives its
    first frame, and `notes` says so. An already loaded image passes through unchanged, so a
    batch decodes its styles and masks once.
    """
    if isinstance(source, LoadedImage):
        return source
    if isinstance(source, Image.Image):
        return _normalise(source, "<image>")
    if isinstance(source, np.ndarray):
        return _normalise(_array_to_image(source, bgr=bgr), "<array>")
    if isinstance(source, str | os.PathLike):
        return _load_path(os.fsdecode(source), max_pixels, at_least)
    raise TypeError(f"cannot load an image from a {type(source).__name__}")


def probe_image(
    source: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> tuple[int, int]:
    """(width, height) from the header alone, with the checks load_image makes before
    decoding: a server can refuse an upload the moment it lands, at no decoding cost."""
    path = os.fsdecode(source)
    if photo_formats.is_raw(path):
        try:
            with _raw_errors(path):
                size = photo_formats.raw_size(_read_all(path))
            _check_pixels(path, size, max_pixels)
            return size
        except photo_formats.NotRaw:
            pass
    with _opened(path) as im:
        _check_pixels(path, im.size, max_pixels)
        return im.size


def _load_raw(path: str, max_pixels: int) -> LoadedImage:
    """A camera RAW developed by LibRaw (upright, sRGB, the camera's white balance); the
    pixel limit is checked from its headers before anything is decoded."""
    data = _read_all(path)
    with _raw_errors(path):
        _check_pixels(path, photo_formats.raw_size(data), max_pixels)
        rgb = photo_formats.develop_raw(data)
    return LoadedImage(rgb=rgb, alpha=None, source=path, exif=photo_formats.raw_exif(data))


def _read_all(path: str) -> bytes:
    """The file's bytes, with the checks every load makes (regular, non-empty, readable)."""
    with silenced(), _open_file(path) as stream:
        try:
            return stream.read()
        except OSError as exc:
            raise ImageLoadError(path, os_reason(exc)) from exc


@contextlib.contextmanager
def _raw_errors(path: str) -> Iterator[None]:
    """RAW failures as ImageLoadError; NotRaw passes, for the caller to try Pillow."""
    try:
        yield
    except photo_formats.NotRaw:
        raise
    except photo_formats.RawError as exc:
        raise ImageLoadError(path, exc) from exc


def _load_path(path: str, max_pixels: int, at_least: int = 0) -> LoadedImage:
    if photo_formats.is_raw(path):
        try:
            return _load_raw(path, max_pixels)
        except photo_formats.NotRaw:
            pass  # content decides, not the name: a JPEG named .dng is a JPEG
    with _opened(path) as im:
        _check_pixels(path, im.size, max_pixels)
        notes = _frame_notes(im)  # before load(): finding out seeks, load() reads frame 1
        first_played_frame(im)  # an APNG's cover is no frame
        if at_least:
            _reduced_decode(im, at_least)
        try:
            tiff = im.format == "TIFF"
            with native_noise_dropped(LIBTIFF_NOISE) if tiff else contextlib.nullcontext():
                im.load()
        except Image.DecompressionBombError as exc:
            raise ImageLoadError(path, exc) from exc
        except MemoryError:
            raise
        except Exception as exc:  # decoders raise OSError, SyntaxError, struct.error, ...
            reason = f"truncated or corrupt image data ({str(exc).strip() or type(exc).__name__})"
            raise ImageLoadError(path, reason) from exc
        loaded = _normalise(im, path)
    return replace(loaded, notes=notes)


def _reduced_decode(im: Image.Image, long_side: int) -> None:
    """Have a JPEG decoded at 1/2, 1/4 or 1/8 of its size where that keeps its long side at
    least twice `long_side` (Image.draft: libjpeg scales in the DCT, skipping most of the
    work), so the final shrink, a Lanczos one of at least 2x, still sets the pixels.

    Why: a camera photo painted at a fraction of its size was decoded, converted and shrunk
    whole, which took several times as long as a fast-mode pass; decoded this way it takes
    a fraction of that, and the pixels after the shrink are the whole decode's to a fraction
    of a level on average (docs/performance.md, "Camera JPEGs painted smaller"). A CMYK JPEG
    decodes whole: the web UI paints it from its PNG display copy (styler.display), and every
    face must give the same pixels."""
    if im.format == "JPEG" and im.mode != "CMYK" and max(im.size) >= 4 * long_side:
        im.draft(None, scaled_size(im.size, 2 * long_side))


def frame_notes(source: str | os.PathLike) -> tuple[str, ...]:
    """The notes load_image gives a file about its frames, from the header alone; () for
    a file that cannot be read."""
    path = os.fsdecode(source)
    if photo_formats.is_raw(path):
        return ()
    try:
        with _opened(path) as im:
            return _frame_notes(im)
    except ImageLoadError:
        return ()


def plays_several_frames(im: Image.Image) -> bool:
    """Whether the file holds several frames as viewers show it: Pillow's is_animated, less
    an APNG's default image (its frame 0 where that is a cover for viewers without APNG,
    never played), so that a cover and one frame is a still, that frame."""
    if im.info.get("default_image"):
        return im.n_frames > 2
    return bool(getattr(im, "is_animated", False))


def first_played_frame(im: Image.Image) -> int:
    """Seek an APNG with a cover (see plays_several_frames) to its first frame, drawn as
    viewers draw it, on a clear canvas: Pillow draws it over the cover, which showed through
    wherever the frame is see-through. The cover is disposed to the background, as Pillow
    disposes a frame that asks for it. Returns the index of the frame now current."""
    if im.info.get("default_image"):
        im.dispose, im.dispose_extent = Image.new(im.mode, im.size).im, (0, 0, *im.size)
        im.seek(1)
    return im.tell()


def _frame_notes(im: Image.Image) -> tuple[str, ...]:
    """A one-line note when the file holds several frames (animated GIF, WebP or PNG,
    multi-page TIFF): styler uses the first one, and says so."""
    try:
        several = plays_several_frames(im)
    except Exception:  # a damaged later frame: the first may still decode, load() will tell
        several = False
    if not several:
        return ()
    return (f"{im.format or 'the'} file has several frames (animated or multi-page): "
            "only the first frame is used",)  # fmt: skip


def os_reason(exc: OSError) -> str:
    """The reason an OSError gives, in the words every file error of styler uses."""
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not an image file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, FileExistsError | NotADirectoryError) and exc.filename:
        path = pathlib.Path(os.fsdecode(exc.filename))
        in_the_way = next((p for p in (path, *path.parents) if p.is_file()), None)
        if in_the_way is not None:  # a folder to write in is a file ("File exists" said not)
            return f"{in_the_way} is a file, not a folder"
    return exc.strerror or str(exc)


_NOT_REGULAR = {
    stat.S_IFIFO: "a named pipe",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}


@contextlib.contextmanager
def _opened(path: str) -> Iterator[Image.Image]:
    """The image, opened lazily (header only), with every failure an ImageLoadError.

    The file is opened once and checked through its descriptor: a name that is swapped for
    a pipe or a device after a check could otherwise hang the read or never end it. Pillow's
    warnings about what it works around (corrupt EXIF, odd palettes) are silenced, here and
    in the caller's block: the image still loads, and they would only print lines of noise.
    """
    with silenced(), _open_file(path) as stream, _open_image(path, stream) as im:
        yield im


def _open_file(path: str) -> io.BufferedReader:
    """A regular, non-empty file opened for reading; anything else names the problem.

    O_NONBLOCK lets a named pipe without a writer open at once (then refused) instead of
    blocking; regular files ignore it, and it is cleared before any read.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0)
    try:
        fd = os.open(path, flags)
    except OSError as exc:
        raise ImageLoadError(path, os_reason(exc)) from exc
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise ImageLoadError(path, "is a directory, not an image file")
        if not stat.S_ISREG(info.st_mode):
            kind = _NOT_REGULAR.get(stat.S_IFMT(info.st_mode), "a special file")
            raise ImageLoadError(path, f"not a regular file ({kind})")
        if info.st_size == 0:
            raise ImageLoadError(path, "empty file (0 bytes)")
        with contextlib.suppress(AttributeError, OSError):  # platforms without O_NONBLOCK
            os.set_blocking(fd, True)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def _open_image(path: str, stream: io.BufferedReader) -> Image.Image:
    """Open the header with errors mapped to ImageLoadError; Pillow raises more than
    OSError for damaged headers (ValueError for oversized metadata chunks, for one)."""
    try:
        return _open_header(stream)
    except UnidentifiedImageError as exc:
        reason = "not an image styler can read (unknown or damaged image data)"
        if _media_container(stream):
            reason = f"a video or sound file, not a photo: {_clip_hint(path)}"
        raise ImageLoadError(path, reason) from exc
    except MemoryError:
        raise
    except OSError as exc:
        if exc.errno is None:  # Pillow's own: a damaged header, not the file system
            detail = str(exc).strip() or type(exc).__name__
            raise ImageLoadError(path, f"truncated or corrupt image data ({detail})") from exc
        raise ImageLoadError(path, os_reason(exc)) from exc
    except Exception as exc:
        detail = str(exc) or type(exc).__name__
        raise ImageLoadError(path, f"not an image styler can read ({detail})") from exc


def _clip_hint(path: str) -> str:
    """How to stylize a clip that came where a photo was expected."""
    from styler.video.kinds import is_video  # imports this module: loaded here, when needed

    if is_video(path):
        return "stylize it as a clip (styler.stylize_video, or the CLI)"
    return "give it a video's extension (.mp4, .mov, ...) for styler to stylize it as a clip"


# ISO media files' major brands that are still images (HEIF, AVIF, Canon's CR3 RAW), not clips.
_IMAGE_BRANDS = frozenset({b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"mif1",
                           b"msf1", b"avif", b"avis", b"crx "})  # fmt: skip


def _media_container(stream: io.BufferedReader) -> bool:
    """Whether the file starts as a video or sound container does (MP4/MOV/M4A but not
    HEIF's or AVIF's stills, Matroska and WebM, AVI, MPEG transport and program streams):
    what a photo path was given."""
    stream.seek(0)
    head = stream.read(377)
    iso_media = head[4:8] == b"ftyp" and head[8:12] not in _IMAGE_BRANDS
    transport = head[:1] == head[188:189] == head[376:377] == b"G"  # a sync byte each 188
    avi = head[:4] == b"RIFF" and head[8:12] == b"AVI "
    return (iso_media or head[:4] == b"\x1a\x45\xdf\xa3" or transport or avi
            or head[:4] == b"\x00\x00\x01\xba")  # fmt: skip


def _open_header(stream: io.BufferedReader) -> Image.Image:
    """Read the header only, leaving the size decision to max_pixels, not Pillow's global limit.

    Pillow refuses huge headers outright; we reopen with its limit lifted (under a lock, as it is
    a module global) so the caller's own limit decides and the error can give the dimensions.
    """
    with silenced(Image.DecompressionBombWarning):
        try:
            return Image.open(stream)
        except Image.DecompressionBombError:
            stream.seek(0)
            with _PILLOW_LIMIT_LOCK:
                saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
                try:
                    return Image.open(stream)
                finally:
                    Image.MAX_IMAGE_PIXELS = saved


def _check_pixels(path: str, size: tuple[int, int], max_pixels: int) -> None:
    """Refuse decompression bombs before a single pixel is decoded."""
    if size[0] * size[1] > max_pixels:
        raise ImageTooLarge(path, size, max_pixels)


def _normalise(im: Image.Image, source: str) -> LoadedImage:
    """Orientation, bit depth, alpha and colour profile: everything that differs between files.
    The EXIF and profile are kept as they were, for saving."""
    icc = im.info.get("icc_profile")
    try:
        colour, alpha = _split_alpha(_to_8bit(_orient(im)))
        rgb = _to_srgb(colour, icc)
        if alpha is not None:
            rgb = Image.fromarray(hidden_filled(np.asarray(rgb), np.asarray(alpha)))
    except MemoryError:
        raise
    except Exception as exc:  # Pillow cannot convert some exotic modes (ValueError, ...)
        raise ImageLoadError(source, f"cannot convert its colours to RGB ({exc})") from exc
    return LoadedImage(rgb=rgb, alpha=alpha, source=source, exif=_exif_bytes(im),
                       icc_profile=icc if isinstance(icc, bytes) else b"")  # fmt: skip


def _orient(im: Image.Image) -> Image.Image:
    """Apply the EXIF orientation; returns a copy so callers' images are never touched."""
    try:
        return ImageOps.exif_transpose(im)
    except Exception:  # malformed EXIF must not make an otherwise readable image unreadable
        return im.copy()


def _to_8bit(im: Image.Image) -> Image.Image:
    """Scale 16/32-bit and float greyscale to 'L'; Pillow's own convert would clip instead."""
    if im.mode in _HIGH_BIT_MODES:
        values = np.asarray(im, dtype=np.float32) / 257.0  # 65535 -> 255
    elif im.mode == "F":
        values = np.nan_to_num(np.asarray(im, dtype=np.float32))
        if values.size and values.max() <= 1.0:  # float images are usually 0..1, else 0..255
            values = values * 255.0
    else:
        return im
    return Image.fromarray(np.clip(np.rint(values), 0, 255).astype(np.uint8))


def _split_alpha(im: Image.Image) -> tuple[Image.Image, Image.Image | None]:
    """Separate transparency; palette, tRNS and premultiplied alpha all resolve through RGBA."""
    if not im.has_transparency_data:
        return im, None
    if im.mode != "LA":
        im = im.convert("RGBA")
    return im.convert(im.mode[:-1]), im.getchannel("A")


def _to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image:
    """Convert to sRGB RGB, through the embedded ICC profile when there is a usable one."""
    if im.mode not in _ICC_MODES:
        im = im.convert("RGB")
    converted = _icc_to_srgb(im, icc)
    return converted if converted is not None else im.convert("RGB")


def _icc_to_srgb(im: Image.Image, icc: bytes | None) -> Image.Image | None:
    """Colour-manage to sRGB; None means keep the pixels as stored (no/broken/sRGB profile)."""
    profile = _input_profile(im, icc)
    if profile is None:
        return None
    try:
        return ImageCms.profileToProfile(im, profile, _srgb_profile(), outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):  # e.g. profile/mode mismatch
        return None


def _input_profile(im: Image.Image, icc: bytes | None) -> Any:
    if ImageCms is None:
        return None
    if icc:
        if is_srgb(icc):
            return None
        try:
            return ImageCms.ImageCmsProfile(io.BytesIO(icc))
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            return None
    return ImageCms.createProfile("LAB") if im.mode == "LAB" else None


@cache
def _srgb_profile() -> Any:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


# ---------------------------------------------------------------------------------------- arrays


def _array_to_image(array: np.ndarray, *, bgr: bool) -> Image.Image:
    """Accept HxW or HxWxC (C = 1, 3, 4) arrays, uint8, uint16 or float in [0, 1]; BGR(A)
    when bgr."""
    if array.ndim == 3 and array.shape[2] == 1:
        array = array[..., 0]
    if not (array.ndim == 2 or (array.ndim == 3 and array.shape[2] in (3, 4))):
        raise ImageLoadError(
            "<array>", f"expected an HxW or HxWxC array with C = 1, 3 or 4, got shape {array.shape}"
        )
    if array.size == 0:
        raise ImageLoadError("<array>", f"array is empty (shape {array.shape})")
    array = _array_to_uint8(array)
    if bgr and array.ndim == 3:
        array = _swap_red_blue(array)
    return Image.fromarray(np.ascontiguousarray(array))


def _array_to_uint8(array: np.ndarray) -> np.ndarray:
    if array.dtype == np.uint8:
        return array
    if array.dtype == np.uint16:  # OpenCV's IMREAD_UNCHANGED of a 16-bit file: as files are read
        return np.rint(array / 257.0).astype(np.uint8)
    if not np.issubdtype(array.dtype, np.floating):
        raise ImageLoadError(
            "<array>", f"unsupported dtype {array.dtype}; use uint8, uint16 or float in [0, 1]"
        )
    low, high = float(array.min()), float(array.max())
    if not (low >= 0.0 and high <= 1.0):  # also rejects NaN
        raise ImageLoadError(
            "<array>", f"float arrays must hold values in [0, 1], got [{low:g}, {high:g}]"
        )
    return np.rint(array * 255.0).astype(np.uint8)


def _swap_red_blue(array: np.ndarray) -> np.ndarray:
    """RGB(A) <-> BGR(A); a copy, so the caller's array is never a view into ours."""
    return array[..., [2, 1, 0, 3][: array.shape[2]]]


def to_array(image: Image.Image, *, bgr: bool = False) -> np.ndarray:
    """HxWx3 uint8 (HxWx4 when the image has alpha), RGB order, or BGR(A) for OpenCV."""
    colour, alpha = _split_alpha(_to_8bit(image))
    rgb = colour if colour.mode == "RGB" else colour.convert("RGB")
    if alpha is not None:
        rgb = Image.merge("RGBA", (*rgb.split(), alpha))
    array = np.array(rgb)
    return _swap_red_blue(array) if bgr else array


# ---------------------------------------------------------------------------------------- saving


def output_format(path_or_format: str) -> str:
    """'png', 'jpeg', 'webp' or 'tiff' from a file name, an extension or a format name."""
    text = os.fspath(path_or_format).lower()
    suffix = os.path.splitext(text)[1]
    name = suffix[1:] if suffix else text.lstrip(".")
    if name not in _FORMATS:  # the format's name alone: callers name the file beside it
        raise ValueError(f"unsupported output format {name!r} "
                         "(use png, jpeg, webp, tiff, heic or avif)")  # fmt: skip
    return _FORMATS[name]


def _as_image(image: object) -> Image.Image:
    """A PIL image, or an array of 8-bit pixels as one; anything else a one-line TypeError."""
    if isinstance(image, Image.Image):
        return image
    if isinstance(image, np.ndarray) and image.dtype == np.uint8 and (
            image.ndim == 2 or (image.ndim == 3 and image.shape[2] in (3, 4))):  # fmt: skip
        return Image.fromarray(np.ascontiguousarray(image))
    raise TypeError("image must be a PIL image or an HxW, HxWx3 or HxWx4 uint8 array, not "
                    + described(image))  # fmt: skip


def described(value: object) -> str:
    """What a value given for pixels is, for a one-line error: 'a 4x6x3 float32 array', or
    its type's name."""
    if isinstance(value, np.ndarray):
        return f"a {'x'.join(map(str, value.shape))} {value.dtype} array"
    return type(value).__name__


def checked_quality(quality: object) -> int:
    """`quality` as an int, InvalidOption unless it is a whole number 1-100 (numpy's too):
    the encoders take other values silently, or fail without naming them."""
    if isinstance(quality, bool) or not isinstance(quality, numbers.Integral) or \
            not 1 <= quality <= 100:  # fmt: skip
        raise InvalidOption("quality", quality, "a whole number from 1 to 100")
    return int(quality)


def save_image(
    image: Image.Image | np.ndarray,
    path: str | os.PathLike,
    *,
    settings: Mapping[str, Any] | None = None,
    alpha: Image.Image | None = None,
    format: str | None = None,
    quality: int = 95,
    source: str | os.PathLike | LoadedImage | Image.Image | np.ndarray | None = None,
    photo: PhotoOptions | None = None,
) -> pathlib.Path:
    """Write PNG, JPEG, WebP, TIFF, HEIC or AVIF atomically, with settings embedded for
    read_settings.

    source is the photo the image was made from (its path, LoadedImage or PIL image; an
    array has no metadata): its date,
    camera, exposure, artist and copyright are kept, its location only if `photo` says so
    (PhotoOptions, the FILES controls), nothing of it with strip_metadata; the orientation is
    upright. The pixels are sRGB and tagged so, or converted to the photo's own profile with
    color_space 'source'; TIFF takes 8 or 16 bits. alpha (or the image's own transparency) is
    put back for PNG, WebP, TIFF, HEIC and AVIF; JPEG has no alpha channel, so there it is
    dropped.
    An array is taken as 8-bit pixels (HxW grey, HxWx3 RGB, HxWx4 RGBA).
    Raises ImageSaveError with a one-line message.
    """
    image = _as_image(image)
    target = pathlib.Path(path)
    try:
        if format is None and not target.suffix:
            raise ValueError("no file extension to tell the format "
                             "(use .png, .jpg, .webp, .tif, .heic or .avif)")
        fmt = output_format(format or target.suffix)
        checked_quality(quality)
        exif, icc = source_metadata(source)
        data = _encode(image, fmt, settings, alpha, quality, (exif, icc), photo or PhotoOptions())
    except (OSError, ValueError, TypeError) as exc:
        raise ImageSaveError(str(target), exc) from exc
    atomic_write_bytes(target, data)
    return target


def source_metadata(source: object) -> tuple[bytes, bytes]:
    """(EXIF, ICC profile) of a photo, as stored: of a path, LoadedImage or PIL image; empty
    for anything else (an array), or for a file that cannot be read any more (the output is
    still written, without them)."""
    if isinstance(source, LoadedImage):
        return source.exif, source.icc_profile
    if isinstance(source, Image.Image):
        icc = source.info.get("icc_profile")
        return _exif_bytes(source), icc if isinstance(icc, bytes) else b""
    if not isinstance(source, str | os.PathLike):
        return b"", b""
    path = os.fsdecode(source)
    try:
        if photo_formats.is_raw(path):
            return photo_formats.raw_exif(_read_all(path)), b""
        with _opened(path) as im:
            icc = im.info.get("icc_profile")
            return _exif_bytes(im), icc if isinstance(icc, bytes) else b""
    except ImageLoadError:
        return b"", b""


def _exif_bytes(im: Image.Image) -> bytes:
    """The header's EXIF: JPEG, WebP, HEIC, AVIF and PNG hold it as one block; a TIFF's tags
    are its own IFD (read without decoding pixels)."""
    exif = im.info.get("exif")
    if isinstance(exif, bytes):
        return exif
    if im.format == "TIFF":
        with contextlib.suppress(Exception):  # a damaged IFD: no metadata, still the photo
            return exif_bytes(im.getexif())
    return b""


def _encode(
    image: Image.Image,
    fmt: str,
    settings: Mapping[str, Any] | None,
    alpha: Image.Image | None,
    quality: int,
    source: tuple[bytes, bytes],
    photo: PhotoOptions,
) -> bytes:
    """Encode in memory first, so an encoder failure never touches the file system."""
    colour, own_alpha = _split_alpha(_to_8bit(image))
    out = colour if colour.mode == "RGB" else colour.convert("RGB")
    alpha = alpha if alpha is not None else own_alpha
    alpha = None if alpha is None or fmt == "jpeg" else _fitted(alpha, out.size)
    bits = 16 if fmt == "tiff" and photo.tiff_bits == "16" else 8
    pixels, icc = _in_colour_space(out, source[1], photo.color_space, bits)
    metadata = _settings_json(settings)
    exif = output_exif(source[0], keep_location=photo.keep_location, strip=photo.strip_metadata)
    exif[_EXIF_SOFTWARE] = SOFTWARE
    # the settings in XMP (PNG: in a text chunk), where no photo library takes them for a caption
    xmp = settings_packet(metadata) if metadata is not None and fmt != "png" else b""
    if alpha is not None:
        scaled = np.asarray(alpha, dtype=pixels.dtype) * (257 if bits == 16 else 1)
        pixels = np.dstack([pixels, scaled])
    if fmt == "tiff":
        return encode_tiff(pixels, exif=exif, icc=icc, xmp=xmp)
    buffer = io.BytesIO()
    options = _save_options(fmt, metadata, quality)
    if xmp:
        options["xmp"] = xmp
    Image.fromarray(pixels).save(buffer, format=_PILLOW_FORMATS[fmt], exif=exif,
                                 icc_profile=icc or None, **options)  # fmt: skip
    return buffer.getvalue()


def _in_colour_space(
    rgb: Image.Image, source_icc: bytes, colour_space: str, bits: int
) -> tuple[np.ndarray, bytes]:
    """The pixels to write and the profile to tag them with: sRGB as they are, or with
    'source' the photo's own profile when it has one that can hold them."""
    if colour_space == "source" and not is_srgb(source_icc):
        converted = from_srgb(rgb, source_icc, bits)
        if converted is not None:
            return converted, source_icc
    pixels = np.asarray(rgb)
    return (pixels.astype(np.uint16) * 257 if bits == 16 else pixels), srgb_icc()


def _fitted(alpha: Image.Image, size: tuple[int, int]) -> Image.Image:
    """A mask computed at the source size, fitted to a (possibly resized) output."""
    alpha = alpha.convert("L")
    return alpha if alpha.size == size else alpha.resize(size, Image.Resampling.LANCZOS)


def _settings_json(settings: Mapping[str, Any] | None) -> str | None:
    """ASCII-only JSON: safe in XMP, PNG text chunks and a GIF's comment alike."""
    if settings is None:
        return None
    return json.dumps(dict(settings), ensure_ascii=True, default=_json_default)


def _json_default(value: object) -> str:
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"settings hold a {type(value).__name__}, which is not JSON-serialisable")


def _png_info(metadata: str | None) -> PngImagePlugin.PngInfo:
    """A PNG's text chunks: styler as its software, and the settings where there are some."""
    info = PngImagePlugin.PngInfo()
    info.add_text("Software", SOFTWARE)
    if metadata is not None:
        info.add_itxt(SETTINGS_KEY, metadata)
    return info


def _save_options(fmt: str, metadata: str | None, quality: int) -> dict[str, Any]:
    """Each format's own options; the EXIF and the profile are the caller's."""
    if fmt == "png":
        return {"pnginfo": _png_info(metadata), **PNG_ZLIB}
    if fmt == "webp":
        return {"quality": quality, "method": 4}
    full_colour = quality >= 90  # 4:4:4: chroma subsampling smears fine stylised detail
    # HEIC and AVIF at their encoders' fastest settings: the defaults' files are a little
    # smaller and take many times as long (docs/photographers.md, "Formats out")
    if fmt == "heic":
        photo_formats.check_heic_writable()
        return {"quality": quality, "chroma": 444 if full_colour else 420,
                "enc_params": {"preset": "ultrafast"}}  # fmt: skip
    if fmt == "avif":
        return {"quality": quality, "subsampling": "4:4:4" if full_colour else "4:2:0",
                "speed": 10}  # fmt: skip
    options: dict[str, Any] = {"quality": quality, "optimize": True}
    if full_colour:
        options["subsampling"] = 0
    return options


def read_settings(path: str | os.PathLike) -> dict[str, Any]:
    """The settings save_image (or animation_settings) embedded, or {} when there are none
    (or they are unreadable)."""
    name = os.fsdecode(path)
    try:
        with _opened(name) as im:
            text = (im.info.get(SETTINGS_KEY) or settings_in_packet(im.info.get("xmp"))
                    or _exif_settings(im.info.get("exif"))
                    or _described(getattr(im, "tag_v2", {}).get(IMAGE_DESCRIPTION))
                    or _described(_text(im.info.get("comment"))))  # fmt: skip
    except ImageLoadError:
        if photo_formats.is_raw(name) and os.path.isfile(name):
            return {}  # a camera's RAW, which LibRaw reads: styler never writes one
        raise
    try:
        settings = json.loads(text) if text else {}
    except ValueError:
        return {}
    return settings if isinstance(settings, dict) else {}


def animation_settings(fmt: str, settings: Mapping[str, Any]) -> dict[str, Any]:
    """Pillow's save options that carry `settings` in an animated GIF (its comment), PNG (a
    text chunk) or WebP (XMP), where read_settings finds them."""
    metadata = str(_settings_json(settings))
    if fmt == "GIF":
        return {"comment": (SETTINGS_PREFIX + metadata).encode("ascii")}
    if fmt == "PNG":
        return {"pnginfo": _png_info(metadata)}
    exif = Image.Exif()
    exif[_EXIF_SOFTWARE] = SOFTWARE
    return {"exif": exif, "xmp": settings_packet(metadata)}


def _text(value: object) -> str | None:
    """A GIF comment as text (Pillow gives bytes)."""
    if isinstance(value, bytes):
        return value.decode("ascii", errors="replace")
    return value if isinstance(value, str) else None


def _exif_settings(raw: bytes | None) -> str | None:
    """Parse the header's EXIF bytes directly: im.getexif() would decode a PNG's pixels."""
    if not raw:
        return None
    exif = Image.Exif()
    exif.load(raw)
    return _described(exif.get(IMAGE_DESCRIPTION))


def _described(description: object) -> str | None:
    """The settings JSON of an ImageDescription styler wrote (EXIF, or a TIFF's own tag)
    before 7 December, or of a GIF's comment."""
    if isinstance(description, str) and description.startswith(SETTINGS_PREFIX):
        return description[len(SETTINGS_PREFIX) :]
    return None


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write via a temporary file in the same directory and os.replace, so readers (and a crash
    at any point) see either the old file or the complete new one, never a partial write.

    A process killed mid-write (SIGKILL, power loss) leaves its temporary file behind; the
    name says which process made it, so remove_stale_temporaries can tell it is abandoned.
    """
    target = pathlib.Path(path)
    temp_name: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_once(target.parent)
        with tempfile.NamedTemporaryFile(
            dir=target.parent, prefix=_temp_prefix(target.name), suffix=".tmp", delete=False
        ) as temp:
            temp_name = temp.name
            temp.write(data)
            temp.flush()
            os.fsync(temp.fileno())
        os.chmod(temp_name, _FILE_MODE)
        os.replace(temp_name, target)
        temp_name = None
        _fsync_directory(target.parent)
    except OSError as exc:
        reason = f"could not write the file ({os_reason(exc)})"
        raise ImageSaveError(str(target), reason) from exc
    finally:
        if temp_name is not None:  # any failure, KeyboardInterrupt included
            with contextlib.suppress(OSError):
                os.unlink(temp_name)


def temporary_name(target: str | os.PathLike) -> pathlib.Path:
    """A new hidden temporary file beside `target`, named as atomic_write_bytes names its
    own (so a killed run's leftover is recognised), for writers that need a path to write
    to (a video encoder); commit_temporary gives it the final name."""
    target = pathlib.Path(target)
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        _remove_stale_once(target.parent)
        handle, name = tempfile.mkstemp(dir=target.parent, prefix=_temp_prefix(target.name),
                                        suffix=".tmp")  # fmt: skip
    except OSError as exc:
        raise ImageSaveError(str(target), f"could not write the file ({os_reason(exc)})") from exc
    os.close(handle)
    return pathlib.Path(name)


def commit_temporary(temp: str | os.PathLike, target: str | os.PathLike) -> None:
    """Give a complete temporary file (temporary_name) its final name, durably."""
    target = pathlib.Path(target)
    try:
        with open(temp, "rb+") as stream:
            os.fsync(stream.fileno())
        os.chmod(temp, _FILE_MODE)
        os.replace(temp, target)
        _fsync_directory(target.parent)
    except OSError as exc:
        raise ImageSaveError(str(target), f"could not write the file ({os_reason(exc)})") from exc


# Temporary files: '.<name>.styler-<host>-<pid>-<random>.tmp'. Hidden, so no folder listing of
# inputs ever takes one; host and pid tell an abandoned one (its process is gone) from one
# being written.
_HOST_TAG = hashlib.sha256(socket.gethostname().encode()).hexdigest()[:6]
_TEMP_PATTERN = re.compile(r"^\..*\.styler-([0-9a-f]{6})-(\d+)-[^.]*\.tmp$", re.DOTALL)
_MAX_NAME_BYTES = 255  # the usual limit on one file name's length (ext4, APFS, NTFS, ...)
_cleaned_folders: set[str] = set()
_cleaned_lock = threading.Lock()


def _temp_prefix(name: str) -> str:
    """'.<name>.styler-<host>-<pid>-', the name shortened so the whole temporary name fits
    where the final name fits (tempfile adds 8 characters and '.tmp')."""
    tag = f".styler-{_HOST_TAG}-{os.getpid()}-"
    return "." + name_within(name, len(tag) + 1 + 8 + len(".tmp")) + tag


def name_within(name: str, reserved: int) -> str:
    """`name` cut at its end until it and `reserved` more bytes fit in one file name
    (_MAX_NAME_BYTES), by characters: never half of a UTF-8 sequence."""
    room = _MAX_NAME_BYTES - reserved
    while len(os.fsencode(name)) > room:
        name = name[: -1 - (len(os.fsencode(name)) - room) // 4]
    return name


def _process_gone(pid: int) -> bool:
    if os.name == "nt":  # os.kill(pid, 0) would send Ctrl-C there: never call one stale
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # alive, another user's
        return False
    return False


def remove_stale_temporaries(folder: str | os.PathLike) -> int:
    """Delete the temporary files atomic_write_bytes left in `folder` (not below it) when
    its process was killed mid-write: only this machine's, and only of processes that are
    gone, so a write in progress is never touched. Returns how many were removed."""
    removed = 0
    try:
        entries = list(os.scandir(folder))
    except OSError:
        return 0
    for entry in entries:
        match = _TEMP_PATTERN.match(entry.name)
        if match is None or match.group(1) != _HOST_TAG or not _process_gone(int(match[2])):
            continue
        with contextlib.suppress(OSError):
            if entry.is_file(follow_symlinks=False):
                os.unlink(entry.path)
                removed += 1
    return removed


def _remove_stale_once(folder: pathlib.Path) -> None:
    """remove_stale_temporaries the first time this process writes into a folder: a resumed
    run cleans up after the killed one at the cost of one listing per folder."""
    key = os.path.abspath(folder)
    with _cleaned_lock:
        if key in _cleaned_folders:
            return
        _cleaned_folders.add(key)
    remove_stale_temporaries(folder)


def _fsync_directory(directory: pathlib.Path) -> None:
    """Make the rename itself durable; not every platform can open a directory, so best effort."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
