"""Copies of uploaded photos that a browser can show.

Browsers cannot display HEIC, camera RAW or (most of them) TIFF, so the web UI would show a
broken picture for a phone's or a camera's own files, or for one whose name says JPEG or PNG
while its content is another format: the content decides, never the name. The server decodes
such an upload once, with every check load_image makes, and puts a PNG of it in the upload's
place: the same pixels styler would paint from the original (8-bit, upright, sRGB, full size,
lossless), with the photo's metadata, so the result made from the copy is the one the
original would give.
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from styler.imageio import DEFAULT_MAX_PIXELS, LoadedImage, PhotoOptions, load_image, save_image
from styler.quiet import silenced

# What every current browser displays itself, as Pillow names the formats (MPO: a camera's
# JPEG with a second picture inside); CMYK JPEGs are copied too, browsers' colours for them vary.
BROWSER_FORMATS = frozenset({"JPEG", "MPO", "PNG", "GIF", "WEBP", "BMP", "AVIF"})
# The copy is not an output: it keeps the location too, and the output's own options decide.
_EVERYTHING = PhotoOptions(keep_location=True)


def needs_display_copy(path: str | os.PathLike) -> bool:
    """Whether browsers would show the file broken, from its header (not decoded). Pillow
    reads a JPEG's EXIF for its resolution here, and warns of a corrupt block."""
    try:
        with silenced(), Image.open(path) as image:
            return image.format not in BROWSER_FORMATS or image.mode == "CMYK"
    except (OSError, ValueError):  # Pillow cannot open it (RAW): a copy, or load_image says why
        return True


def display_copy(
    photo: str | os.PathLike | LoadedImage,
    folder: str | os.PathLike,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
) -> Path:
    """The photo's path itself when a browser shows it, else a PNG copy written into `folder`
    (see the module's docstring). A photo already loaded (a server checks uploads by loading
    them) is not decoded again. Raises ImageLoadError in one line for a file that cannot be
    read, as load_image does, before anything is written."""
    path = Path(photo.source if isinstance(photo, LoadedImage) else photo)
    if not needs_display_copy(path):
        return path
    loaded = load_image(photo, max_pixels=max_pixels)
    target = Path(folder) / f"{path.stem}.png"
    return save_image(loaded.rgb, target, alpha=loaded.alpha, source=loaded, photo=_EVERYTHING)
