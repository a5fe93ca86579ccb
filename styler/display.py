"""Copies of uploaded photos that a browser can show.

Browsers cannot display HEIC, camera RAW or (most of them) TIFF, so the web UI would show a
broken picture for a phone's or a camera's own files. The server decodes such an upload
once, with every check load_image makes, and shows a JPEG of it instead; the original file
is still what gets stylized.
"""

from __future__ import annotations

import os
from pathlib import Path

from PIL import Image

from styler.imageio import DEFAULT_MAX_PIXELS, load_image, save_image

# What every current browser displays itself (AVIF and WebP included).
BROWSER_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".gif", ".webp", ".bmp", ".avif"})
PREVIEW_SIDE = 2048  # px: sharp on a large screen, small enough to send quickly


def needs_display_copy(path: str | os.PathLike) -> bool:
    return Path(path).suffix.lower() not in BROWSER_EXTENSIONS


def display_copy(
    path: str | os.PathLike,
    folder: str | os.PathLike,
    *,
    max_pixels: int = DEFAULT_MAX_PIXELS,
    side: int = PREVIEW_SIDE,
) -> Path:
    """`path` itself when a browser shows it, else a JPEG (upright, sRGB, at most `side` px
    long) written into `folder`. Raises ImageLoadError in one line for a file that cannot be
    read, as load_image does."""
    if not needs_display_copy(path):
        return Path(path)
    loaded = load_image(path, max_pixels=max_pixels)
    preview = loaded.rgb.copy()
    preview.thumbnail((side, side), Image.Resampling.LANCZOS)
    return save_image(preview, Path(folder) / f"{Path(path).stem}.preview.jpg", quality=90)
