"""Regenerate the sample content photos in ``gallery/photos`` from scikit-image.

The styler gallery ships a few content photos so that examples and tests work offline.
They are copied from the sample data bundled with the installed ``scikit-image`` package
(public-domain or CC0 images, see ``gallery/SOURCES.md``) and re-encoded as JPEG to keep the
repository small. Running this script makes that provenance reproducible::

    python gallery/make_photos.py
"""

from __future__ import annotations

import argparse
from pathlib import Path

from PIL import Image

#: skimage data file name -> output file name in gallery/photos
PHOTOS: dict[str, str] = {
    "astronaut.png": "astronaut.jpg",
    "coffee.png": "coffee.jpg",
    "chelsea.png": "chelsea.jpg",
    "rocket.jpg": "rocket.jpg",
}
JPEG_QUALITY = 92


def skimage_data_dir() -> Path:
    """Return the directory holding scikit-image's bundled sample images."""
    import skimage.data

    return Path(skimage.data.__file__).resolve().parent


def make_photos(out_dir: Path) -> list[Path]:
    """Convert each sample photo to an RGB JPEG in ``out_dir``, keeping its pixel size."""
    out_dir.mkdir(parents=True, exist_ok=True)
    src_dir = skimage_data_dir()
    written: list[Path] = []
    for src_name, dst_name in PHOTOS.items():
        with Image.open(src_dir / src_name) as img:
            rgb = img.convert("RGB")
        dst = out_dir / dst_name
        rgb.save(dst, "JPEG", quality=JPEG_QUALITY, optimize=True)
        written.append(dst)
    return written


def main() -> None:
    argparse.ArgumentParser(description=__doc__,
                            formatter_class=argparse.RawDescriptionHelpFormatter).parse_args()
    out_dir = Path(__file__).resolve().parent / "photos"
    for path in make_photos(out_dir):
        with Image.open(path) as img:
            print(f"{path.name}: {img.size[0]}x{img.size[1]}, {path.stat().st_size} bytes")


if __name__ == "__main__":
    main()
