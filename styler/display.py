"""Copies of uploaded photos that a browser can show.

Browsers cannot display HEIC, camera RAW or (most of them) TIFF, so the web UI would show a
broken picture for a phone's or a camera's own files. The server decodes such an upload
once, with every check load_image makes, and puts a PNG of it in the upload's place: the
same pixels styler would paint from the original (upright, sRGB, full size, lossless), with
the photo's metadata, so the result made from the copy is the one the original would give.
"""

from __future__ import annotations

import os
from pathlib import Path

from styler.imageio import DEFAULT_MAX_PIXELS, LoadedImage, PhotoOptions, load_image, save_image

# What every current browser displays itself (AVIF and WebP included).
BROWSER_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".avif"})
# The copy is not an output: it keeps the location too, and the output's own options decide.
_EVERYTHING = PhotoOptions(keep_location=True)


def needs_display_copy(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() not in BROWSER_EXTENSIONS


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
