"""Quality distances used to compare tools and settings (`styler evaluate`).

Both are relative squared errors computed with the original VGG19 on images
scaled to a 512 px long side (a thin strip: its short side to 32 px); lower is better:

- style: mean over relu1_1 ... relu5_1 of ||G(out) - G(style)||^2 / ||G(style)||^2,
  with Grams divided by the number of positions;
- content: ||F(out) - F(content)||^2 / ||F(content)||^2 at relu4_2.

Each is relative to its reference's feature energy: they rank outputs of the same photo and
painting (tools, settings), not one output against several photos.

And one at the output's own size, higher is better:

- edge recall: the share of the photo's edges (Canny) that the output still has within
  EDGE_TOLERANCE px: bridge cables, window frames and outlines kept, or dissolved.
"""

from __future__ import annotations

import functools
import os
from dataclasses import dataclass

import numpy as np
import torch
from PIL import Image

from styler.errors import ImageSizeError
from styler.image_sizes import EVAL_SIZE, MAX_MEASURED_SIDE, MIN_MEASURED_SIDE, scaled_size
from styler.imageio import load_image
from styler.losses import gram_matrix, relative_error
from styler.tensors import to_tensor
from styler.vgg import VGG19Features

EVAL_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
EVAL_CONTENT_LAYER = "relu4_2"
EDGE_TOLERANCE = 2  # px: an output edge this close to the photo's counts as the same edge


@dataclass(frozen=True)
class Distances:
    style: float
    content: float


@functools.lru_cache(maxsize=1)
def _evaluator() -> VGG19Features:
    return VGG19Features((*EVAL_STYLE_LAYERS, EVAL_CONTENT_LAYER), source="original")


def measuring_size(size: tuple[int, int], source: str = "the image") -> tuple[int, int]:
    """The size a picture is measured at: a EVAL_SIZE long side, or where that leaves its
    short side under MIN_MEASURED_SIDE (a panorama strip), that short side; ImageSizeError
    naming `source` for a strip too thin even so (long side over MAX_MEASURED_SIDE)."""
    target = scaled_size(size, EVAL_SIZE)
    if min(target) >= MIN_MEASURED_SIDE:
        return target
    scale = MIN_MEASURED_SIDE / min(size)
    width, height = (max(MIN_MEASURED_SIDE, round(side * scale)) for side in size)
    if max(width, height) > MAX_MEASURED_SIDE:
        raise ImageSizeError(f"{source}: {size[0]}×{size[1]} is too thin to measure (more "
                             f"than {MAX_MEASURED_SIDE // MIN_MEASURED_SIDE}:1)")  # fmt: skip
    return width, height


def _measured(image: Image.Image, size: tuple[int, int]) -> torch.Tensor:
    image = image.convert("RGB")
    return to_tensor(image if image.size == size else image.resize(size, Image.Resampling.LANCZOS))


@torch.no_grad()
def _features(image: Image.Image) -> dict[str, torch.Tensor]:
    return _evaluator()(_measured(image, measuring_size(image.size)))


class StyleReference:
    """A style image's Gram matrices, computed once to score many outputs against it."""

    def __init__(self, style: Image.Image) -> None:
        feats = _features(style)
        self.grams = {n: gram_matrix(feats[n]) for n in EVAL_STYLE_LAYERS}

    def distance(self, output: Image.Image) -> float:
        out = _features(output)
        errors = [relative_error(gram_matrix(out[n]), self.grams[n]) for n in EVAL_STYLE_LAYERS]
        return float(torch.stack(errors).mean())


def style_distance(output: Image.Image, style: Image.Image) -> float:
    return StyleReference(style).distance(output)


@torch.no_grad()
def content_distance(output: Image.Image, content: Image.Image) -> float:
    """Content images are compared at the output's own aspect ratio and size."""
    out = _features(output)[EVAL_CONTENT_LAYER]
    ref = _evaluator()(_measured(content, measuring_size(output.size)))[EVAL_CONTENT_LAYER]
    return float(relative_error(out, ref))


Picture = Image.Image | np.ndarray | str | os.PathLike


def distances(output: Picture, content: Picture, style: Picture) -> Distances:
    """Both distances; each image a PIL image, an 8-bit RGB array or a file's path."""
    output, content, style = (_picture(image) for image in (output, content, style))
    return Distances(style=style_distance(output, style), content=content_distance(output, content))


def _picture(image: Picture) -> Image.Image:
    """A PIL image as given; an array or a file as load_image reads them (its TypeError for
    anything else)."""
    return image if isinstance(image, Image.Image) else load_image(image).rgb


def edge_recall(output: Image.Image, content: Image.Image) -> float:
    """Share of the photo's edges found in the output (both at the output's size)."""
    import cv2

    def edges(image: Image.Image) -> np.ndarray:
        gray = np.asarray(image.convert("L").resize(output.size, Image.Resampling.LANCZOS))
        return cv2.Canny(cv2.GaussianBlur(gray, (5, 5), 1.0), 50, 150) > 0

    photo_edges, output_edges = edges(content), edges(output)
    size = 2 * EDGE_TOLERANCE + 1
    near = cv2.dilate(output_edges.astype(np.uint8), np.ones((size, size), np.uint8)) > 0
    return float((photo_edges & near).sum() / max(1, photo_edges.sum()))


def edge_to_inside(image: Image.Image, edge: int = 16, inside: tuple[int, int] = (32, 96)) -> float:
    """The mean grey-level step across the picture's edges (rows within `edge` px of the top
    and bottom, columns of the sides) over the same measured `inside` px in: lines drawn
    along the edge (a network's zero padding, docs/instant_mode.md) raise it."""
    gray = np.asarray(image.convert("L"), np.float32)
    down, across = np.abs(np.diff(gray, axis=0)), np.abs(np.diff(gray, axis=1))
    a, b = inside
    near = [down[:edge], down[-edge:], across[:, :edge], across[:, -edge:]]
    far = [down[a:b], down[-b:-a], across[:, a:b], across[:, -b:-a]]
    return float(np.mean([x.mean() for x in near]) / np.mean([x.mean() for x in far]))
