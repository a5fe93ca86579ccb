"""Putting a result back into its photo's own colour space (`--color-space source`).

styler paints in sRGB. A photographer who shot in Adobe RGB, Display P3 or ProPhoto and edits
further wants the result in that space, with its profile embedded. These are matrix/TRC ICC
profiles, so the conversion is done here in floating point (sRGB -> XYZ -> the profile's
primaries and tone curves): exact enough for a 16-bit TIFF, where LittleCMS through Pillow
would round to 8 bits first. Other RGB profiles (LUT-based) go through LittleCMS at 8 bits;
non-RGB ones (CMYK, grey) cannot hold the result and leave it sRGB.
"""

from __future__ import annotations

import hashlib
import io
import struct
from functools import cache

import numpy as np
from PIL import Image

try:
    from PIL import ImageCms
except ImportError:  # Pillow without LittleCMS: only matrix profiles convert
    ImageCms = None

# sRGB's primaries adapted to the ICC's D50 connection space (Bradford), as in sRGB profiles.
_SRGB_TO_XYZ_D50 = np.array(
    [[0.4361, 0.3851, 0.1431], [0.2225, 0.7169, 0.0606], [0.0139, 0.0971, 0.7141]]
)
_CURVE_SAMPLES = 65536


_ICC_DATE = slice(24, 36)  # the header's creation date and time
_ICC_ID = slice(84, 100)  # the MD5 profile ID (v4), zero when not computed


@cache
def srgb_icc() -> bytes:
    """The sRGB profile outputs are tagged with (LittleCMS's, 588 bytes); b"" without it.
    LittleCMS stamps the time it made the profile; a fixed date replaces it, so the same
    result gives the same file whenever it is written."""
    if ImageCms is None:
        return b""
    icc = bytearray(ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes())
    icc[_ICC_DATE] = struct.pack(">6H", 2024, 1, 1, 0, 0, 0)
    if any(icc[_ICC_ID]):  # an ID covers the date: compute it again (ICC.1:2010, 7.2.18)
        hashed = bytearray(icc)
        hashed[44:48], hashed[64:68], hashed[_ICC_ID] = bytes(4), bytes(4), bytes(16)
        icc[_ICC_ID] = hashlib.md5(hashed, usedforsecurity=False).digest()
    return bytes(icc)


def is_srgb(icc: bytes) -> bool:
    """True for no profile or one that converts to sRGB within a level of every colour:
    nothing to convert. Judged by what the profile does, not its name: a linear-light
    "sRGB g1.0" profile holds very different pixels from sRGB's."""
    if not icc:
        return True
    if ImageCms is None:  # nothing can convert: the name is all there is to go by
        return b"srgb" in _description(icc).lower()
    return _converts_to_itself(bytes(icc))


# Every corner and edge colour of the RGB cube and a grey ramp: where sRGB's variants agree
# and any other profile (wider primaries, another tone curve) shows.
_PROBE = np.array(
    [[[r, g, b] for r in (0, 64, 128, 192, 255) for g in (0, 64, 128, 192, 255)
      for b in (0, 64, 128, 192, 255)]], dtype=np.uint8)  # fmt: skip


@cache
def _converts_to_itself(icc: bytes) -> bool:
    if len(icc) < 132 or icc[16:20] != b"RGB ":
        return False
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        out = ImageCms.profileToProfile(Image.fromarray(_PROBE), profile, srgb, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return False
    return int(np.abs(np.asarray(out, dtype=np.int16) - _PROBE).max()) <= 1


def from_srgb(rgb: Image.Image, icc: bytes, bits: int) -> np.ndarray | None:
    """`rgb` (8-bit sRGB) in the colour space of the profile `icc`, as HxWx3 uint8 or uint16
    (bits 8 or 16); None when the profile cannot take it (not RGB, or does not parse)."""
    if len(icc) < 132 or icc[16:20] != b"RGB ":
        return None
    tags = _tags(icc)
    if tags is not None and all(t in tags for t in (b"rXYZ", b"gXYZ", b"bXYZ", b"rTRC")):
        try:
            return _matrix_convert(rgb, tags, bits)
        except (ValueError, struct.error):
            pass  # a tag of an unknown type: LittleCMS may still know it
    converted = _littlecms(rgb, icc)
    if converted is None:
        return None
    array = np.asarray(converted, dtype=np.uint16 if bits == 16 else np.uint8)
    return array * 257 if bits == 16 else array


def _matrix_convert(rgb: Image.Image, tags: dict[bytes, bytes], bits: int) -> np.ndarray:
    """sRGB -> linear -> XYZ (D50) -> the profile's linear RGB -> its tone curves."""
    linear = _srgb_to_linear(np.asarray(rgb.convert("RGB"), dtype=np.float64) / 255.0)
    primaries = np.array([_xyz(tags[t]) for t in (b"rXYZ", b"gXYZ", b"bXYZ")]).T
    matrix = np.linalg.solve(primaries, _SRGB_TO_XYZ_D50)
    target = np.clip(linear @ matrix.T, 0.0, 1.0)
    out = np.empty_like(target)
    for channel, tag in enumerate((b"rTRC", b"gTRC", b"bTRC")):
        curve = _curve(tags.get(tag, tags[b"rTRC"]))
        out[..., channel] = _inverse(curve, target[..., channel])
    scale = 65535.0 if bits == 16 else 255.0
    return np.rint(out * scale).astype(np.uint16 if bits == 16 else np.uint8)


def _srgb_to_linear(values: np.ndarray) -> np.ndarray:
    return np.where(values <= 0.04045, values / 12.92, ((values + 0.055) / 1.055) ** 2.4)


def _tags(icc: bytes) -> dict[bytes, bytes] | None:
    """The profile's tags by signature, or None for a damaged tag table."""
    try:
        (count,) = struct.unpack_from(">I", icc, 128)
        tags = {}
        for index in range(count):
            signature, offset, size = struct.unpack_from(">4sII", icc, 132 + 12 * index)
            if offset + size > len(icc):
                return None
            tags[signature] = icc[offset : offset + size]
        return tags
    except struct.error:
        return None


def _xyz(tag: bytes) -> tuple[float, ...]:
    if tag[:4] != b"XYZ ":
        raise ValueError("not an XYZ tag")
    return tuple(v / 65536.0 for v in struct.unpack_from(">3i", tag, 8))


def _curve(tag: bytes) -> np.ndarray:
    """The tone curve sampled at _CURVE_SAMPLES points of [0, 1]: device value -> linear."""
    x = np.linspace(0.0, 1.0, _CURVE_SAMPLES)
    kind = tag[:4]
    if kind == b"curv":
        (count,) = struct.unpack_from(">I", tag, 8)
        if count == 0:
            return x
        if count == 1:
            return x ** (struct.unpack_from(">H", tag, 12)[0] / 256.0)
        table = np.array(struct.unpack_from(f">{count}H", tag, 12)) / 65535.0
        return np.interp(x, np.linspace(0.0, 1.0, count), table)
    if kind == b"para":
        (function,) = struct.unpack_from(">H", tag, 8)
        sizes = {0: 1, 1: 3, 2: 4, 3: 5, 4: 7}
        if function not in sizes:
            raise ValueError(f"parametric curve type {function}")
        params = [v / 65536.0 for v in struct.unpack_from(f">{sizes[function]}i", tag, 12)]
        return _parametric(x, function, params)
    raise ValueError(f"tone curve of type {kind!r}")


def _parametric(x: np.ndarray, function: int, p: list[float]) -> np.ndarray:
    """ICC parametric curves (ICC.1:2010, table 65)."""
    g = p[0]
    if function == 0:
        return x**g
    a, b = p[1], p[2]
    power = np.maximum(a * x + b, 0.0) ** g
    if function == 1:
        return np.where(x >= -b / a, power, 0.0)
    if function == 2:
        return np.where(x >= -b / a, power + p[3], p[3])
    c, d = p[3], p[4]
    if function == 3:
        return np.where(x >= d, power, c * x)
    e, f = p[5], p[6]
    return np.where(x >= d, power + e, c * x + f)


def _inverse(curve: np.ndarray, linear: np.ndarray) -> np.ndarray:
    """Device values giving `linear` through the (monotonic) curve."""
    x = np.linspace(0.0, 1.0, curve.size)
    increasing = np.maximum.accumulate(curve)  # flat or noisy tables still invert
    return np.interp(linear, increasing, x)


def _littlecms(rgb: Image.Image, icc: bytes) -> Image.Image | None:
    if ImageCms is None:
        return None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(icc))
        srgb = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB"))
        return ImageCms.profileToProfile(rgb.convert("RGB"), srgb, profile, outputMode="RGB")
    except (ImageCms.PyCMSError, OSError, ValueError, TypeError):
        return None


def _description(icc: bytes) -> bytes:
    """The profile's description text (v2 'desc' or v4 'mluc'), as bytes; b"" if none."""
    tags = _tags(icc) if len(icc) >= 132 else None
    text = (tags or {}).get(b"desc", b"")
    return text.replace(b"\x00", b"")
