"""A photographer's files, made by the tests: EXIF with camera, date, exposure, GPS and an
orientation; ICC profiles of Adobe RGB, Display P3 and ProPhoto; a DNG (an RGGB mosaic
LibRaw develops). No binary samples are shipped: every file is written here."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
from PIL import Image, TiffImagePlugin

RED = (220, 30, 30)
UPRIGHT_SIZE = (48, 32)  # width, height of the upright photo

# What the photo's EXIF holds, by tag: kept in outputs...
# (credits in UTF-8, as Lightroom, phones and exiftool write them: stored_text reads them)
CAMERA = {0x010F: "Canon", 0x0110: "EOS R5", 0x0132: "2024:06:01 10:11:12",
          0x013B: "Jürgen Müller", 0x8298: "© 2024 Jürgen Müller",
          0x010E: "Dawn over the lake"}  # fmt: skip
SHOT = {0x9003: "2024:06:01 10:11:12", 0x9011: "+02:00", 0x829A: 1 / 250, 0x829D: 5.6,
        0x8827: 400, 0x920A: 35.0, 0xA434: "RF 35mm F1.8 MACRO IS STM"}  # fmt: skip
# ... and never: serial numbers and maker notes.
PRIVATE = {0xA431: "123456789", 0x927C: b"maker secret"}
GPS = {1: "N", 2: (48.0, 51.0, 29.6), 3: "E", 4: (2.0, 17.0, 40.2)}


def upright_photo() -> Image.Image:
    """A grey photo with a red block at its top left: tells orientation at a glance."""
    photo = Image.new("RGB", UPRIGHT_SIZE, (128, 128, 128))
    photo.paste(RED, (0, 0, 16, 10))
    return photo


def stored_for_orientation_6(photo: Image.Image) -> Image.Image:
    """The pixels a camera held sideways stores: EXIF orientation 6 turns them upright."""
    return photo.transpose(Image.Transpose.ROTATE_90)


def camera_exif(*, orientation: int = 6, gps: bool = True) -> Image.Exif:
    exif = Image.Exif()
    exif.update({tag: text.encode("utf-8") for tag, text in CAMERA.items()})
    exif[0x0112] = orientation
    exif.get_ifd(0x8769).update({**SHOT, **PRIVATE})
    if gps:
        exif.get_ifd(0x8825).update(GPS)
    return exif


def stored_text(value: object) -> object:
    """An EXIF text tag as its UTF-8 bytes say (Pillow reads them one byte a letter)."""
    return value.encode("latin-1").decode("utf-8") if isinstance(value, str) else value


def red_block_at_top_left(image: Image.Image) -> bool:
    pixels = np.asarray(image.convert("RGB"), dtype=int)
    top_left, top_right = pixels[2, 2], pixels[2, -3]
    return bool(np.abs(top_left - RED).max() < 40 and np.abs(top_right - 128).max() < 40)


# ------------------------------------------------------------------------------- ICC profiles

# Colourants adapted to D50 (as ICC profiles store them) and tone curves.
PROFILES = {
    "Adobe RGB (1998)": ([(0.6097, 0.3111, 0.0195), (0.2053, 0.6257, 0.0609),
                          (0.1492, 0.0632, 0.7446)], ("gamma", 563 / 256)),
    "Display P3": ([(0.5151, 0.2412, -0.0011), (0.2920, 0.6922, 0.0419),
                    (0.1571, 0.0666, 0.7841)], ("srgb", 0)),
    # sRGB's primaries in linear light (as compositing and HDR tools tag their files): not
    # sRGB whatever its name says
    "sRGB linear (g1.0)": ([(0.4361, 0.2225, 0.0139), (0.3851, 0.7169, 0.0971),
                            (0.1431, 0.0606, 0.7141)], ("gamma", 1.0)),
    "ProPhoto RGB": ([(0.7977, 0.2880, 0.0), (0.1352, 0.7119, 0.0), (0.0313, 0.0001, 0.8249)],
                     ("gamma", 461 / 256)),
}  # fmt: skip


def icc_profile(name: str) -> bytes:
    """A minimal ICC v2 display profile (matrix and tone curves) of one of PROFILES."""
    colourants, (curve_kind, gamma) = PROFILES[name]

    def s15(*values: float) -> bytes:
        return b"".join(struct.pack(">i", round(v * 65536)) for v in values)

    def xyz(*values: float) -> bytes:
        return b"XYZ \0\0\0\0" + s15(*values)

    if curve_kind == "gamma":
        curve = b"curv\0\0\0\0" + struct.pack(">IH", 1, round(gamma * 256)) + b"\0\0"
    else:  # the sRGB curve, as Display P3 uses it: parametric type 3
        curve = b"para\0\0\0\0" + struct.pack(">HH", 3, 0) + s15(
            2.4, 1 / 1.055, 0.055 / 1.055, 1 / 12.92, 0.04045)  # fmt: skip
    text = name.encode() + b"\0"
    desc = b"desc\0\0\0\0" + struct.pack(">I", len(text)) + text + bytes(8 + 3 + 67)
    tags = [(b"desc", desc), (b"wtpt", xyz(0.9642, 1.0, 0.8249)),
            *[(sig, xyz(*c)) for sig, c in zip((b"rXYZ", b"gXYZ", b"bXYZ"), colourants,
                                               strict=True)],
            (b"rTRC", curve), (b"gTRC", curve), (b"bTRC", curve)]  # fmt: skip
    offset = 128 + 4 + 12 * len(tags)
    table, data = b"", b""
    for signature, payload in tags:
        payload += bytes(-len(payload) % 4)
        table += signature + struct.pack(">II", offset + len(data), len(payload))
        data += payload
    header = (struct.pack(">I", offset + len(data)) + bytes(4) + struct.pack(">I", 0x02100000)
              + b"mntrRGB XYZ " + bytes(12) + b"acsp" + bytes(4 + 4 + 4 + 4 + 8 + 4)
              + s15(0.9642, 1.0, 0.8249) + bytes(4 + 16 + 28))  # fmt: skip
    return header + struct.pack(">I", len(tags)) + table + data


# ----------------------------------------------------------------------------------------- DNG


def write_dng(
    path: Path,
    rgb: np.ndarray,
    *,
    neutral: tuple[float, float, float] = (1.0, 1.0, 1.0),
    orientation: int = 1,
    exif: Image.Exif | None = None,
) -> Path:
    """An uncompressed DNG 1.4 of `rgb` (HxWx3 linear values in [0, 1], even sides) as an
    RGGB Bayer mosaic. The camera's colours are linear sRGB (ColorMatrix1 is XYZ -> linear
    sRGB), and `neutral` is the white balance it recorded (AsShotNeutral): the raw values are
    the scene times it, so only developing with the camera's white balance gives the scene's
    colours back."""
    height, width, _ = rgb.shape
    sensor = np.clip(rgb * np.asarray(neutral), 0, 1) * 65535
    mosaic = np.empty((height, width), np.uint16)
    for dy, dx, channel in ((0, 0, 0), (0, 1, 1), (1, 0, 1), (1, 1, 2)):
        mosaic[dy::2, dx::2] = np.rint(sensor[dy::2, dx::2, channel])
    data = mosaic.astype("<u2").tobytes()
    xyz_to_srgb = (3.2406, -1.5372, -0.4986, -0.9689, 1.8758, 0.0415, 0.0557, -0.2040, 1.0570)
    ifd = TiffImagePlugin.ImageFileDirectory_v2(prefix=b"II")
    tags = {
        254: (0, 4), 256: (width, 4), 257: (height, 4), 258: (16, 3), 259: (1, 3),
        262: (32803, 3), 273: (0, 4), 274: (orientation, 3), 277: (1, 3), 278: (height, 4),
        279: (len(data), 4), 284: (1, 3), 33421: ((2, 2), 3), 33422: (bytes((0, 1, 1, 2)), 1),
        50706: (bytes((1, 4, 0, 0)), 1), 50707: (bytes((1, 1, 0, 0)), 1),
        50708: ("styler test camera", 2), 50717: (65535, 4), 50721: (xyz_to_srgb, 10),
        50778: (21, 3), 50728: (neutral, 5),
    }  # fmt: skip
    for tag, value in (exif or {}).items():
        if tag != 0x0112:
            ifd[tag] = value
    for tag, (value, kind) in tags.items():
        ifd[tag] = value
        ifd.tagtype[tag] = kind
    if exif is not None:
        for pointer in (0x8769, 0x8825):
            if exif.get_ifd(pointer):
                ifd[pointer] = dict(exif.get_ifd(pointer))
    out = io.BytesIO()
    out.write(b"II*\x00" + struct.pack("<I", 8))
    ifd.save(out)
    out.write(data)
    path.write_bytes(out.getvalue())
    return path


def scene() -> np.ndarray:
    """A linear-light scene for the DNG: mid grey with a red block at the top left."""
    linear = np.full((UPRIGHT_SIZE[1], UPRIGHT_SIZE[0], 3), 0.2)
    linear[:10, :16] = (0.7, 0.02, 0.02)
    return linear


# ------------------------------------------------------------------------------- whole files


def photo_file(folder: Path, name: str, *, exif: Image.Exif | None = None,
               icc: bytes | None = None) -> Path:  # fmt: skip
    """The upright test photo as a camera or phone stores it: sideways, EXIF orientation 6
    (HEIC: pillow-heif turns that into the container's rotation), full camera EXIF."""
    path = folder / name
    stored = stored_for_orientation_6(upright_photo())
    exif = camera_exif() if exif is None else exif
    if path.suffix == ".dng":
        linear = np.ascontiguousarray(np.rot90(scene(), 1))
        return write_dng(path, linear, neutral=(0.5, 1.0, 0.7), orientation=6, exif=exif)
    options = {"exif": exif.tobytes(), "quality": 95}
    if icc is not None:
        options["icc_profile"] = icc
    stored.save(path, **options)
    return path


def exif_of(path: Path) -> Image.Exif:
    """The file's EXIF, sub-IFDs read while it is open (a TIFF's are read lazily)."""
    with Image.open(path) as image:
        exif = image.getexif()
        for ifd in (0x8769, 0x8825):
            exif.get_ifd(ifd)
        return exif
