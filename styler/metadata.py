"""Which of a photo's EXIF metadata its styled output keeps.

A photographer's archive sorts by date taken, camera and lens, credits by artist and
copyright, and describes by caption, so outputs keep those. What could hurt or mislead does
not pass: location only on request (--keep-location), serial numbers, maker notes and
thumbnails never (they identify a camera, or show the photo before it was styled), and the
orientation is 1, as styler writes the pixels upright. An allowlist, not a blocklist: a tag
nobody thought about stays out.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from PIL import Image, TiffTags

from styler.quiet import silenced

EXIF_IFD, GPS_IFD = 0x8769, 0x8825
ORIENTATION, IMAGE_DESCRIPTION = 0x0112, 0x010E
UPRIGHT = 1

# IFD0: make, model, date/time (of the last change; often the date taken), artist,
# copyright, and the photographer's caption.
KEPT_MAIN = {0x010F: "Make", 0x0110: "Model", 0x0132: "DateTime", 0x013B: "Artist",
             0x8298: "Copyright", IMAGE_DESCRIPTION: "ImageDescription"}  # fmt: skip
# An ImageDescription that starts so is the settings of an output styler wrote before
# 7 December (styler.imageio reads them, as it reads a GIF's comment, which still holds them
# so), not a caption: never copied.
SETTINGS_PREFIX = "styler:"
# The EXIF sub-IFD: when it was taken (with time zone and sub-seconds), exposure and lens.
KEPT_EXIF = {
    0x829A: "ExposureTime", 0x829D: "FNumber", 0x8822: "ExposureProgram",
    0x8827: "ISOSpeedRatings", 0x8830: "SensitivityType", 0x9003: "DateTimeOriginal",
    0x9004: "DateTimeDigitized", 0x9010: "OffsetTime", 0x9011: "OffsetTimeOriginal",
    0x9012: "OffsetTimeDigitized", 0x9201: "ShutterSpeedValue", 0x9202: "ApertureValue",
    0x9204: "ExposureBiasValue", 0x9205: "MaxApertureValue", 0x9207: "MeteringMode",
    0x9208: "LightSource", 0x9209: "Flash", 0x920A: "FocalLength", 0x9290: "SubSecTime",
    0x9291: "SubSecTimeOriginal", 0x9292: "SubSecTimeDigitized", 0xA402: "ExposureMode",
    0xA403: "WhiteBalance", 0xA405: "FocalLengthIn35mmFilm", 0xA406: "SceneCaptureType",
    0xA432: "LensSpecification", 0xA433: "LensMake", 0xA434: "LensModel",
}  # fmt: skip


def parse_exif(raw: bytes) -> Image.Exif | None:
    """EXIF bytes (as Pillow's info['exif'] holds them) parsed, or None when there are none
    or they do not parse: bad metadata never costs the photo, nor prints a warning."""
    if not raw:
        return None
    exif = Image.Exif()
    with silenced():  # Pillow warns of the corrupt EXIF it works around
        try:
            exif.load(raw)
            exif.get_ifd(EXIF_IFD)  # sub-IFDs parse lazily: fail here, not while saving
            exif.get_ifd(GPS_IFD)
        except Exception:
            return None
    return exif


def output_exif(source: bytes, *, keep_location: bool, strip: bool) -> Image.Exif:
    """The EXIF an output carries of its photo's (EXIF bytes, b"" for none): the kept tags,
    GPS only with keep_location, nothing with strip, and the orientation upright.
    styler's own tags (software, settings) are the caller's to add."""
    exif = Image.Exif()
    parsed = None if strip else parse_exif(source)
    if parsed is None:
        return exif
    _copy(parsed, exif, KEPT_MAIN)
    kept = {tag: value for tag, value in parsed.get_ifd(EXIF_IFD).items() if tag in KEPT_EXIF}
    if kept:
        exif.get_ifd(EXIF_IFD).update(kept)
    gps = parsed.get_ifd(GPS_IFD)
    if keep_location and gps:
        exif.get_ifd(GPS_IFD).update(gps)
    if len(exif) or kept:
        exif[ORIENTATION] = UPRIGHT
    return exif


def _copy(source: Mapping[int, Any], target: Image.Exif, tags: Mapping[int, str]) -> None:
    for tag in tags:
        value = source.get(tag)
        if value in (None, "", b"") or (tag == IMAGE_DESCRIPTION and _is_old_settings(value)):
            continue
        target[tag] = _as_stored(value, tag)


def _is_old_settings(description: Any) -> bool:
    text = description.decode("latin-1") if isinstance(description, bytes) else str(description)
    return text.startswith(SETTINGS_PREFIX)


def exif_bytes(exif: Image.Exif) -> bytes:
    """`exif` as EXIF bytes, its main IFD's text tags written as its photo stored them
    (_as_stored), not as Pillow would: every '?' an accent. Changes `exif` in place."""
    for tag, value in list(exif.items()):
        exif[tag] = _as_stored(value, tag)
    return exif.tobytes()


def _as_stored(value: Any, tag: int) -> Any:
    """A main-IFD text tag as the bytes its photo stored. Pillow reads EXIF's text one byte
    a letter (Latin-1) and writes it back as ASCII, '?' for anything else: the UTF-8 that
    Lightroom, phones and exiftool write ("Jürgen", "©") came out as "J??rgen", "??". Bytes
    are written as they are where Pillow knows the tag is text, as it does the main IFD's
    (not the EXIF sub-IFD's, whose bytes it would write as another type: its dates and lens
    names are kept as Pillow gives them)."""
    if not isinstance(value, str) or TiffTags.lookup(tag).type != TiffTags.ASCII:
        return value
    try:
        return value.encode("latin-1")
    except UnicodeEncodeError:
        return value.encode("utf-8")
