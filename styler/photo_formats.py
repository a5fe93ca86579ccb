"""The photo formats beyond Pillow's own: HEIC/HEIF (pillow-heif), AVIF (Pillow) and camera
RAW (rawpy, the optional `raw` extra).

Phones save HEIC by default and photographers shoot RAW, so a folder of their photos is
mostly these; styler/imageio.py asks this module whether a file is RAW and how to decode it,
and every other check (the pixel limit before decoding, one-line errors) stays there.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
from typing import Any

import numpy as np
from PIL import Image, features

from styler.metadata import exif_bytes
from styler.quiet import native_noise_dropped, silenced

# What Pillow reads without help (the extensions a folder scan took before HEIC and RAW).
PILLOW_EXTENSIONS = frozenset({".bmp", ".gif", ".jpeg", ".jpg", ".png", ".apng", ".tif", ".tiff",
                               ".webp"})  # fmt: skip
HEIF_EXTENSIONS = frozenset({".heic", ".heif", ".hif"})
AVIF_EXTENSIONS = frozenset({".avif"})
# TIFF-based (DNG, CR2, NEF, ARW, ORF, RW2) and not (CR3: ISO media; RAF: Fujifilm's own).
RAW_EXTENSIONS = frozenset({".dng", ".cr2", ".cr3", ".nef", ".arw", ".raf", ".orf", ".rw2"})
RAW_INSTALL_HINT = "pip install 'styler[raw]'"


def register_heif() -> bool:
    """Teach Pillow to open HEIC/HEIF; False where pillow-heif is not installed."""
    try:
        import pillow_heif
    except ImportError:
        return False
    pillow_heif.register_heif_opener()
    return True


HEIF_READABLE = register_heif()
AVIF_READABLE = bool(features.check("avif"))


def check_heic_writable() -> None:
    """ValueError where HEIC cannot be written: pillow-heif missing, or built without an
    HEVC encoder (its wheels carry x265)."""
    if not HEIF_READABLE:
        raise ValueError("writing HEIC needs pillow-heif: pip install pillow-heif")
    import pillow_heif

    if not pillow_heif.libheif_info().get("HEIF"):
        raise ValueError("this pillow-heif has no HEVC encoder, so it cannot write HEIC")


def input_extensions() -> frozenset[str]:
    """Every extension a folder scan takes as a photo. RAW files are listed even without
    rawpy, so that each gets its one line saying how to enable RAW rather than being
    silently left out."""
    found = PILLOW_EXTENSIONS | RAW_EXTENSIONS
    if HEIF_READABLE:
        found |= HEIF_EXTENSIONS
    if AVIF_READABLE:
        found |= AVIF_EXTENSIONS
    return found


def is_raw(path: str) -> bool:
    """RAW is told by the extension: LibRaw has no cheap way to sniff every camera's format,
    and Pillow would misread a TIFF-based RAW as its (small) preview image."""
    return os.path.splitext(path)[1].lower() in RAW_EXTENSIONS


def raw_readable() -> bool:
    """Whether RAW files can be developed here (rawpy, the `raw` extra, is installed)."""
    return _rawpy() is not None


def _rawpy() -> Any:
    try:
        import rawpy
    except ImportError:
        return None
    return rawpy


# LibRaw's own report of damaged data, printed to stderr beside the exception it raises
# (a buffer's file name is "unknown file")
LIBRAW_NOISE = re.compile(rb"unknown file: ")


class RawError(Exception):
    """A RAW file that cannot be decoded; the message is the one-line reason."""


class NotRaw(RawError):
    """LibRaw does not know the file: it may be another format under a RAW name."""


def raw_size(data: bytes) -> tuple[int, int]:
    """(width, height) of the developed image, from the RAW's headers only."""
    with _opened_raw(data) as raw:
        sizes = raw.sizes
        width, height = sizes.iwidth, sizes.iheight
        return (height, width) if sizes.flip in (5, 6) else (width, height)


def develop_raw(data: bytes) -> Image.Image:
    """The RAW developed by LibRaw as 8-bit sRGB, upright, with the white balance the camera
    recorded (as the camera's own JPEG would be), not one guessed from the picture."""
    with _opened_raw(data) as raw:
        try:
            with native_noise_dropped(LIBRAW_NOISE):
                raw.unpack()
                rgb = raw.postprocess(use_camera_wb=True, output_bps=8)
        except _rawpy().LibRawError as exc:
            raise _raw_error(exc) from exc
    return Image.fromarray(np.ascontiguousarray(rgb))


@contextlib.contextmanager
def _opened_raw(data: bytes) -> Any:
    rawpy = _rawpy()
    if rawpy is None:
        raise RawError(f"a camera RAW file; to read RAW files: {RAW_INSTALL_HINT}")
    raw = rawpy.RawPy()
    try:
        try:
            with native_noise_dropped(LIBRAW_NOISE):
                raw.open_buffer(io.BytesIO(data))
        except rawpy.LibRawError as exc:
            raise _raw_error(exc, opening=True) from exc
        yield raw
    finally:
        raw.close()


def _raw_error(exc: Exception, *, opening: bool = False) -> RawError:
    """LibRaw's error in one line; one while opening means LibRaw does not know the file
    (it reports unknown data as unsupported or as an I/O error), so another reader may."""
    detail = exc.args[0] if exc.args else ""
    if isinstance(detail, bytes):  # LibRaw's messages come as bytes
        detail = detail.decode("utf-8", "replace")
    detail = " ".join(str(detail).split()) or type(exc).__name__
    if opening:
        return NotRaw(f"not a RAW file styler can read ({detail})")
    return RawError(f"truncated or corrupt RAW data ({detail})")


def raw_exif(data: bytes) -> bytes:
    """The EXIF of a TIFF-based RAW (its first IFD and sub-IFDs hold make, model, date,
    exposure and GPS), as EXIF bytes; b"" for the others (CR3, RAF) and damaged headers.
    ORF and RW2 are TIFF with their own magic number, so it is normalised first."""
    if len(data) < 8 or data[:2] not in (b"II", b"MM"):
        return b""
    magic = b"*\x00" if data[:2] == b"II" else b"\x00*"
    exif = Image.Exif()
    with silenced():  # Pillow warns of the corrupt tags it works around
        try:
            exif.load(data[:2] + magic + data[4:])
            return exif_bytes(exif) if len(exif) else b""
        except Exception:  # a damaged header: the photo still loads, without metadata
            return b""
