"""Image I/O shared by the engine, CLI, API and UI.

Loading turns anything Pillow reads (or a numpy array) into 8-bit sRGB RGB plus an optional
alpha mask, so the rest of styler only ever sees one kind of image. Saving writes PNG, JPEG or
WebP with the run's settings embedded, atomically, so a crash never leaves a half-written file.
"""

import contextlib
import io
import json
import math
import os
import pathlib
import stat
import tempfile
import threading
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np
from PIL import Image, ImageOps, PngImagePlugin, UnidentifiedImageError

from styler.controls import CONTROLS
from styler.errors import StylerError

try:
    from PIL import ImageCms
except ImportError:  # Pillow built without LittleCMS: colours are kept as stored
    ImageCms = None

DEFAULT_MAX_PIXELS: int = CONTROLS["max_pixels"].default  # Pillow's error threshold

SETTINGS_KEY = "styler"  # PNG iTXt key holding the settings JSON
SOFTWARE = "styler"
_EXIF_DESCRIPTION = 0x010E  # ImageDescription: "styler:" + settings JSON (JPEG, WebP)
_EXIF_SOFTWARE = 0x0131
_EXIF_PREFIX = "styler:"

_FORMATS = {"png": "png", "jpg": "jpeg", "jpeg": "jpeg", "jpe": "jpeg", "webp": "webp"}
_PILLOW_FORMATS = {"png": "PNG", "jpeg": "JPEG", "webp": "WEBP"}
_HIGH_BIT_MODES = frozenset({"I;16", "I;16B", "I;16L", "I;16N", "I"})
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
        megapixels = math.floor(limit / 100_000) / 10  # round down: never overstate the limit
        super().__init__(source, f"image is {width}x{height} = {width * height / 1e6:.1f} MP, "
                         f"over the {megapixels:.1f} MP limit")  # fmt: skip


class ImageSaveError(ImageError):
    """An image could not be written."""


@dataclass(frozen=True)
class LoadedImage:
    """An image ready for the engine, plus the alpha mask to put back on the output."""

    rgb: Image.Image  # mode 'RGB', 8-bit, sRGB, orientation applied
    alpha: Image.Image | None  # mode 'L' when the source had transparency
    source: str  # the path, or '<array>' / '<image>'


# --------------------------------------------------------------------------------------- loading


def load_image(
    source: str | os.PathLike | Image.Image | np.ndarray,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    bgr: bool = False,
) -> LoadedImage:
    """Load a file, PIL image or numpy array as 8-bit sRGB RGB plus optional alpha.

    max_pixels guards files only (arrays and PIL images are already decoded); bgr applies to
    arrays only. Raises ImageLoadError (a ValueError) with a one-line message.
    """
    if isinstance(source, Image.Image):
        return _normalise(source, "<image>")
    if isinstance(source, np.ndarray):
        return _normalise(_array_to_image(source, bgr=bgr), "<array>")
    if isinstance(source, str | os.PathLike):
        return _load_path(os.fsdecode(source), max_pixels)
    raise TypeError(f"cannot load an image from a {type(source).__name__}")


def probe_image(
    source: str | os.PathLike, *, max_pixels: int = DEFAULT_MAX_PIXELS
) -> tuple[int, int]:
    """(width, height) from the header alone, with the checks load_image makes before
    decoding: a server can refuse an upload the moment it lands, at no decoding cost."""
    path = os.fsdecode(source)
    _check_file(path)
    with _open(path) as im:
        _check_pixels(path, im.size, max_pixels)
        return im.size


def _load_path(path: str, max_pixels: int) -> LoadedImage:
    _check_file(path)
    with _open(path) as im:
        _check_pixels(path, im.size, max_pixels)
        try:
            im.load()
        except Image.DecompressionBombError as exc:
            raise ImageLoadError(path, exc) from exc
        except Exception as exc:  # decoders raise OSError, SyntaxError, struct.error, ...
            reason = f"truncated or corrupt image data ({str(exc) or type(exc).__name__})"
            raise ImageLoadError(path, reason) from exc
        return _normalise(im, path)


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, FileNotFoundError):
        return "file not found"
    if isinstance(exc, IsADirectoryError):
        return "is a directory, not an image file"
    if isinstance(exc, PermissionError):
        return "permission denied"
    return exc.strerror or str(exc)


def _check_file(path: str) -> None:
    """Name the common failures plainly before Pillow turns them into generic errors."""
    try:
        info = os.stat(path)
    except OSError as exc:
        raise ImageLoadError(path, _os_reason(exc)) from exc
    if stat.S_ISDIR(info.st_mode):
        raise ImageLoadError(path, "is a directory, not an image file")
    if info.st_size == 0:
        raise ImageLoadError(path, "empty file (0 bytes)")


def _open(path: str) -> Image.Image:
    """Open lazily (header only) with errors mapped to ImageLoadError."""
    try:
        return _open_header(path)
    except UnidentifiedImageError as exc:
        reason = "not an image styler can read (unknown or damaged image data)"
        raise ImageLoadError(path, reason) from exc
    except OSError as exc:
        raise ImageLoadError(path, _os_reason(exc)) from exc


def _open_header(path: str) -> Image.Image:
    """Read the header only, leaving the size decision to max_pixels, not Pillow's global limit.

    Pillow refuses huge headers outright; we reopen with its limit lifted (under a lock, as it is
    a module global) so the caller's own limit decides and the error can give the dimensions.
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            return Image.open(path)
        except Image.DecompressionBombError:
            with _PILLOW_LIMIT_LOCK:
                saved, Image.MAX_IMAGE_PIXELS = Image.MAX_IMAGE_PIXELS, None
                try:
                    return Image.open(path)
                finally:
                    Image.MAX_IMAGE_PIXELS = saved


def _check_pixels(path: str, size: tuple[int, int], max_pixels: int) -> None:
    """Refuse decompression bombs before a single pixel is decoded."""
    if size[0] * size[1] > max_pixels:
        raise ImageTooLarge(path, size, max_pixels)


def _normalise(im: Image.Image, source: str) -> LoadedImage:
    """Orientation, bit depth, alpha and colour profile: everything that differs between files."""
    icc = im.info.get("icc_profile")
    try:
        colour, alpha = _split_alpha(_to_8bit(_orient(im)))
        rgb = _to_srgb(colour, icc)
    except ValueError as exc:  # Pillow cannot convert some exotic modes
        raise ImageLoadError(source, exc) from exc
    return LoadedImage(rgb=rgb, alpha=alpha, source=source)


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
        try:
            profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
            return None
        description = profile.profile.profile_description or ""
        return None if "srgb" in description.lower() else profile
    return ImageCms.createProfile("LAB") if im.mode == "LAB" else None


@cache
def _srgb_profile() -> Any:
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))


# ---------------------------------------------------------------------------------------- arrays


def _array_to_image(array: np.ndarray, *, bgr: bool) -> Image.Image:
    """Accept HxW or HxWxC (C = 1, 3, 4) arrays, uint8 or float in [0, 1]; BGR(A) when bgr."""
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
    if not np.issubdtype(array.dtype, np.floating):
        raise ImageLoadError(
            "<array>", f"unsupported dtype {array.dtype}; use uint8 or float in [0, 1]"
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
    """'png', 'jpeg' or 'webp' from a file name, an extension or a format name."""
    text = os.fspath(path_or_format).lower()
    suffix = os.path.splitext(text)[1]
    name = suffix[1:] if suffix else text.lstrip(".")
    if name not in _FORMATS:
        raise ValueError(f"unsupported output format {path_or_format!r} (use png, jpeg or webp)")
    return _FORMATS[name]


def save_image(
    image: Image.Image,
    path: str | os.PathLike,
    *,
    settings: Mapping[str, Any] | None = None,
    alpha: Image.Image | None = None,
    format: str | None = None,
    quality: int = 95,
) -> pathlib.Path:
    """Write PNG, JPEG or WebP atomically, with settings embedded for read_settings.

    alpha (or the image's own transparency) is put back as RGBA for PNG and WebP; JPEG has no
    alpha channel, so there it is dropped. Raises ImageSaveError with a one-line message.
    """
    target = pathlib.Path(path)
    try:
        if format is None and not target.suffix:
            raise ValueError("no file extension to tell the format (use .png, .jpg or .webp)")
        data = _encode(image, output_format(format or target.suffix), settings, alpha, quality)
    except (OSError, ValueError, TypeError) as exc:
        raise ImageSaveError(str(target), exc) from exc
    atomic_write_bytes(target, data)
    return target


def _encode(
    image: Image.Image,
    fmt: str,
    settings: Mapping[str, Any] | None,
    alpha: Image.Image | None,
    quality: int,
) -> bytes:
    """Encode in memory first, so an encoder failure never touches the file system."""
    colour, own_alpha = _split_alpha(_to_8bit(image))
    out = colour if colour.mode == "RGB" else colour.convert("RGB")
    alpha = alpha if alpha is not None else own_alpha
    if alpha is not None and fmt != "jpeg":
        out = _with_alpha(out, alpha)
    buffer = io.BytesIO()
    options = _save_options(fmt, _settings_json(settings), quality)
    out.save(buffer, format=_PILLOW_FORMATS[fmt], **options)
    return buffer.getvalue()


def _with_alpha(rgb: Image.Image, alpha: Image.Image) -> Image.Image:
    """Merge a mask computed at the source size back onto a (possibly resized) output."""
    alpha = alpha.convert("L")
    if alpha.size != rgb.size:
        alpha = alpha.resize(rgb.size, Image.Resampling.LANCZOS)
    return Image.merge("RGBA", (*rgb.split(), alpha))


def _settings_json(settings: Mapping[str, Any] | None) -> str | None:
    """ASCII-only JSON: safe in EXIF's ASCII ImageDescription as well as in PNG text chunks."""
    if settings is None:
        return None
    return json.dumps(dict(settings), ensure_ascii=True, default=_json_default)


def _json_default(value: object) -> str:
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"settings hold a {type(value).__name__}, which is not JSON-serialisable")


def _save_options(fmt: str, metadata: str | None, quality: int) -> dict[str, Any]:
    if fmt == "png":
        info = PngImagePlugin.PngInfo()
        info.add_text("Software", SOFTWARE)
        if metadata is not None:
            info.add_itxt(SETTINGS_KEY, metadata)
        return {"pnginfo": info, "compress_level": 6}
    exif = Image.Exif()
    exif[_EXIF_SOFTWARE] = SOFTWARE
    if metadata is not None:
        exif[_EXIF_DESCRIPTION] = _EXIF_PREFIX + metadata
    if fmt == "webp":
        return {"quality": quality, "method": 4, "exif": exif}
    options: dict[str, Any] = {"quality": quality, "optimize": True, "exif": exif}
    if quality >= 90:
        options["subsampling"] = 0  # 4:4:4: chroma subsampling smears fine stylised detail
    return options


def read_settings(path: str | os.PathLike) -> dict[str, Any]:
    """The settings save_image embedded, or {} when there are none (or they are unreadable)."""
    name = os.fsdecode(path)
    _check_file(name)
    with _open(name) as im:
        text = im.info.get(SETTINGS_KEY) or _exif_settings(im.info.get("exif"))
    try:
        settings = json.loads(text) if text else {}
    except ValueError:
        return {}
    return settings if isinstance(settings, dict) else {}


def _exif_settings(raw: bytes | None) -> str | None:
    """Parse the header's EXIF bytes directly: im.getexif() would decode a PNG's pixels."""
    if not raw:
        return None
    exif = Image.Exif()
    exif.load(raw)
    description = exif.get(_EXIF_DESCRIPTION)
    if isinstance(description, str) and description.startswith(_EXIF_PREFIX):
        return description[len(_EXIF_PREFIX) :]
    return None


def atomic_write_bytes(path: str | os.PathLike, data: bytes) -> None:
    """Write via a temporary file in the same directory and os.replace, so readers (and a crash
    at any point) see either the old file or the complete new one, never a partial write."""
    target = pathlib.Path(path)
    temp_name: str | None = None
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(
            dir=target.parent, prefix=f".{target.name}.", suffix=".tmp", delete=False
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
        reason = f"could not write the file ({_os_reason(exc)})"
        raise ImageSaveError(str(target), reason) from exc
    finally:
        if temp_name is not None:  # any failure, KeyboardInterrupt included
            with contextlib.suppress(OSError):
                os.unlink(temp_name)


def _fsync_directory(directory: pathlib.Path) -> None:
    """Make the rename itself durable; not every platform can open a directory, so best effort."""
    with contextlib.suppress(OSError):
        fd = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
