"""A folder of training photos, listed: what a training job checks when it is prepared (in
the web UI's process, which does not load PyTorch to do it), apart from the crops the
trainer makes of them (styler.fast.data)."""

from __future__ import annotations

from pathlib import Path

IMAGE_SUFFIXES = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")


def image_files(folder: str | Path) -> list[Path]:
    """Image files directly in `folder`, sorted so runs are reproducible."""
    root = Path(folder)
    if not root.is_dir():
        raise FileNotFoundError(f"{root}: not a folder of photos")
    files = sorted(p for p in root.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if not files:
        raise FileNotFoundError(f"{root}: no image files found")
    return files
