"""Training photos: decoded once into memory, then random crops, flips and scale jitter."""

from __future__ import annotations

import random
from pathlib import Path

import torch
from PIL import Image, ImageOps

from styler.fast.photo_files import image_files
from styler.imageio import ImageLoadError, load_image
from styler.tensors import to_tensor


def _short_side(image: Image.Image, side: int) -> Image.Image:
    w, h = image.size
    scale = side / min(w, h)
    return image.resize((max(side, round(w * scale)), max(side, round(h * scale))),
                        Image.Resampling.LANCZOS)  # fmt: skip


class PhotoCrops:
    """Random training crops from photos kept in memory with their short side at the crop size.

    Decoding JPEGs every step would cost about as much as the network (docs/performance.md);
    decoded at a 288 px short side, a 4:3 photo takes 288 x 384 x 3 bytes (0.33 MB).

    Each crop spans most of a photo's short side, so training sees whole scenes. The
    scale objects are seen at trades style for content: zooming in further bought content
    at a worse rate of style than the content weight does (docs/fast_mode.md, "Crops").
    So the scale jitter is mild and zooms in only.
    """

    ZOOM = (1.0, 1.1)  # scale jitter: a window 1/1.1 .. 1 of the short side, resized up

    def __init__(self, folder: str | Path, crop: int = 288) -> None:
        self.crop = crop
        self.photos: list[Image.Image] = []
        self.skipped: list[str] = []
        for path in image_files(folder):
            try:
                self.photos.append(_short_side(load_image(path).rgb, crop))
            except ImageLoadError as exc:
                self.skipped.append(str(exc))
        if not self.photos:
            raise FileNotFoundError(f"{folder}: none of the images could be read")

    def batch(self, size: int, rng: random.Random) -> torch.Tensor:
        return torch.cat([self._sample(rng) for _ in range(size)])

    def _sample(self, rng: random.Random) -> torch.Tensor:
        photo = rng.choice(self.photos)
        window = round(self.crop / rng.uniform(*self.ZOOM))
        x = rng.randint(0, photo.size[0] - window)
        y = rng.randint(0, photo.size[1] - window)
        patch = photo.crop((x, y, x + window, y + window))
        patch = patch.resize((self.crop, self.crop), Image.Resampling.BILINEAR)
        if rng.random() < 0.5:
            patch = ImageOps.mirror(patch)
        return to_tensor(patch)


def validation_batch(folder: str | Path, count: int, side: int = 256) -> torch.Tensor:
    """A fixed set of centre crops: the same images every evaluation, so losses compare."""
    crops = []
    for path in image_files(folder)[:count]:
        photo = _short_side(load_image(path).rgb, side)
        left, top = (photo.size[0] - side) // 2, (photo.size[1] - side) // 2
        crops.append(to_tensor(photo.crop((left, top, left + side, top + side))))
    return torch.cat(crops)
