"""TIFF outputs, 8 or 16 bits a channel, for photographers who edit further.

Pillow cannot hold 16-bit RGB images, so the file is laid out here: one deflate-compressed
strip (with horizontal differencing, which shrinks photos a lot), and Pillow's own IFD writer
for the tags: the ICC profile, the kept EXIF (sub-IFDs included) and styler's settings.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
from PIL import Image, TiffImagePlugin

_DEFLATE, _HORIZONTAL_DIFFERENCING = 8, 2
_RGB, _UNASSOCIATED_ALPHA = 2, 2
_BYTE, _SHORT, _LONG, _UNDEFINED = 1, 3, 4, 7
_ICC_PROFILE = 34675
_XMP = 700
_SUB_IFDS = (0x8769, 0x8825)  # EXIF, GPS


def encode_tiff(pixels: np.ndarray, *, exif: Image.Exif, icc: bytes, xmp: bytes = b"") -> bytes:
    """A little-endian TIFF of HxWx3 or HxWx4 (alpha) uint8 or uint16 pixels, with the EXIF
    tags (main IFD and sub-IFDs), the ICC profile and an XMP packet (styler's settings)."""
    height, width, channels = pixels.shape
    bits = 16 if pixels.dtype == np.uint16 else 8
    strip = _compressed(pixels)
    ifd = TiffImagePlugin.ImageFileDirectory_v2(prefix=b"II")
    for tag, value in exif.items():
        if tag not in _SUB_IFDS:
            ifd[tag] = value
    for tag in _SUB_IFDS:  # Pillow's Exif keeps these apart; its IFD writer nests a dict
        sub = exif.get_ifd(tag)
        if sub:
            ifd[tag] = dict(sub)
    tags = {
        256: (width, _LONG), 257: (height, _LONG), 258: ((bits,) * channels, _SHORT),
        259: (_DEFLATE, _SHORT), 262: (_RGB, _SHORT), 273: (0, _LONG),
        277: (channels, _SHORT), 278: (height, _LONG), 279: (len(strip), _LONG),
        284: (1, _SHORT), 317: (_HORIZONTAL_DIFFERENCING, _SHORT),
    }  # fmt: skip
    if channels == 4:
        tags[338] = (_UNASSOCIATED_ALPHA, _SHORT)
    if icc:
        tags[_ICC_PROFILE] = (icc, _UNDEFINED)
    if xmp:
        tags[_XMP] = (xmp, _BYTE)
    for tag, (value, kind) in tags.items():
        ifd[tag] = value
        ifd.tagtype[tag] = kind
    out = io.BytesIO()
    out.write(b"II*\x00" + struct.pack("<I", 8))
    ifd.save(out)  # writes the strip offset relative to the end of the IFD's data
    out.write(strip)
    return out.getvalue()


def _compressed(pixels: np.ndarray) -> bytes:
    """Rows differenced along x (TIFF predictor 2, modulo the sample size), then deflated."""
    wide = pixels.astype(np.int64)
    differences = np.diff(wide, axis=1, prepend=np.zeros_like(wide[:, :1]))
    modulo = differences % (65536 if pixels.dtype == np.uint16 else 256)
    data = modulo.astype("<u2" if pixels.dtype == np.uint16 else np.uint8).tobytes()
    return zlib.compress(data, 6)
