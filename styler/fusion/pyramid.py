"""Multi-band blending (Burt & Adelson 1983, "A Multiresolution Spline").

A plain alpha blend through a hard mask shows a seam, and through a soft mask it shows ghosts
of both images. Blending each band of a Laplacian pyramid with the matching level of the
mask's Gaussian pyramid mixes coarse structure (colour, shading) over a wide transition and
fine detail over a narrow one, so neither seams nor ghosts appear.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from itertools import pairwise

import cv2
import numpy as np

from styler.errors import OptionsError
from styler.fusion.arrays import check_mask, check_rgb, size_text, to_uint8

COARSEST_SIDE = 16  # default levels stop once the short side would drop to 8..16 px


def default_levels(height: int, width: int) -> int:
    """Pyramid levels (the full-size one included) for a coarsest level of 8..16 px.

    Deeper pyramids blend colour over ever wider transitions; stopping at 8..16 px keeps the
    coarsest band meaningful at every size. Images at most 16 px on a side get one level.
    """
    side, levels = min(height, width), 1
    while side > COARSEST_SIDE:
        side = (side + 1) // 2  # the size cv2.pyrDown produces
        levels += 1
    return levels


def multiband_blend(
    images: Sequence[np.ndarray],
    masks: Sequence[np.ndarray],
    levels: int | None = None,
    feather: float = 0.0,
) -> np.ndarray:
    """Blend N same-size RGB images through N soft masks, band by band.

    masks are HxW float in [0, 1], one per image, normalised to sum to 1 at every pixel.
    Where every mask is zero the first image is used (fall back, not an error, so callers may
    pass masks that only cover the regions they care about). feather > 0 blurs each mask with
    a Gaussian of that sigma (pixels) first, widening the transition of the fine bands too.
    levels defaults to default_levels(H, W). Works for any size, not only powers of two.
    """
    if not images:
        raise OptionsError("no images to blend")
    if len(images) != len(masks):
        raise OptionsError(f"need one mask per image, got {len(images)} images, {len(masks)} masks")
    if not (math.isfinite(feather) and feather >= 0):
        raise OptionsError(f"feather must be a number of pixels >= 0, got {feather}")
    first = check_rgb(images[0], "image 1")
    for index, image in enumerate(images[1:], start=2):
        if check_rgb(image, f"image {index}").shape != first.shape:
            raise OptionsError(
                f"images differ in size: image 1 is {size_text(first)}, "
                f"image {index} is {size_text(image)}"
            )
    height, width = first.shape[:2]
    if levels is None:
        levels = default_levels(height, width)
    elif levels < 1:
        raise OptionsError(f"levels must be at least 1, got {levels}")
    weights = _normalised_weights(
        [check_mask(m, (height, width), f"mask {i}") for i, m in enumerate(masks, start=1)],
        feather,
    )

    blended = None
    for image, weight in zip(images, weights, strict=True):
        bands = laplacian_pyramid(image.astype(np.float32), levels)
        mask_levels = gaussian_pyramid(weight, levels)
        terms = [band * level[..., None] for band, level in zip(bands, mask_levels, strict=True)]
        blended = terms if blended is None else [b + t for b, t in zip(blended, terms, strict=True)]
    return to_uint8(collapse_pyramid(blended))


def blend_two(
    a: np.ndarray,
    b: np.ndarray,
    mask: np.ndarray,
    feather: float = 0.0,
    levels: int | None = None,
) -> np.ndarray:
    """a where mask is 1, b where it is 0, multi-band blended in between."""
    mask = check_mask(mask, check_rgb(a, "image 1").shape[:2], "mask")
    return multiband_blend([a, b], [mask, 1.0 - mask], levels=levels, feather=feather)


def blend_alphas(
    a: np.ndarray | None,
    b: np.ndarray | None,
    mask: np.ndarray,
    feather: float = 0.0,
    levels: int | None = None,
) -> np.ndarray | None:
    """The transparency (HxW uint8, None: opaque) of blend_two's picture: the images' own
    blended as their colours are, so two cut-outs keep their transparent parts; None where
    neither image has any."""
    if a is None and b is None:
        return None
    opaque = np.full(mask.shape[:2], 255, np.uint8)
    grey = [np.repeat((opaque if x is None else x)[..., None], 3, axis=2) for x in (a, b)]
    return blend_two(*grey, mask, feather=feather, levels=levels)[..., 0]


def _normalised_weights(masks: list[np.ndarray], feather: float) -> list[np.ndarray]:
    """Feather, then scale the masks to sum to 1; uncovered pixels go to the first image."""
    if feather > 0:
        masks = [
            cv2.GaussianBlur(m, (0, 0), sigmaX=feather, borderType=cv2.BORDER_REFLECT)
            for m in masks
        ]
    total = np.sum(masks, axis=0)
    uncovered = total <= 1e-6
    total[uncovered] = 1.0
    weights = [m / total for m in masks]
    weights[0][uncovered] = 1.0
    return weights


def gaussian_pyramid(image: np.ndarray, levels: int) -> list[np.ndarray]:
    """image, then repeatedly blurred and halved: levels images, finest first."""
    pyramid = [image]
    for _ in range(levels - 1):
        pyramid.append(cv2.pyrDown(pyramid[-1]))
    return pyramid


def _expand(image: np.ndarray, like: np.ndarray) -> np.ndarray:
    """pyrUp to exactly like's size: odd sizes round up on the way down."""
    return cv2.pyrUp(image, dstsize=(like.shape[1], like.shape[0]))


def laplacian_pyramid(image: np.ndarray, levels: int) -> list[np.ndarray]:
    """Band-pass levels, finest first, ending with the coarsest Gaussian level (the residual)."""
    gaussian = gaussian_pyramid(image, levels)
    bands = [fine - _expand(coarse, fine) for fine, coarse in pairwise(gaussian)]
    return [*bands, gaussian[-1]]


def collapse_pyramid(pyramid: list[np.ndarray]) -> np.ndarray:
    """The image a laplacian_pyramid came from (float; exact up to rounding)."""
    image = pyramid[-1]
    for band in reversed(pyramid[:-1]):
        image = _expand(image, band) + band
    return image


def add_detail(base: np.ndarray, source: np.ndarray, levels: int) -> np.ndarray:
    """base plus the `levels` finest Laplacian bands of source (same size, RGB uint8).

    An image computed at a lower resolution and enlarged lacks exactly those bands; taking
    them from the full-resolution photo makes it sharp again without changing its colours.
    """
    check_rgb(base, "base image")
    if check_rgb(source, "detail source").shape != base.shape:
        raise OptionsError(
            f"images differ in size: base is {size_text(base)}, detail is {size_text(source)}"
        )
    if levels < 1:
        return base
    # The bands without the residual collapse to the photo minus its coarsest level
    # expanded back (expanding is linear), so no band is built: same sum, less work. The
    # pyramid stays in 8 bits and the sum in 16 (a video frame pays this every frame): each
    # level rounds once, a level or two of difference from float, none that shows. The sum
    # is saturated to 8 bits by OpenCV in the same pass (the same as clipping after it).
    gaussian = gaussian_pyramid(source, levels + 1)
    smooth = gaussian[-1]
    for finer in reversed(gaussian[:-1]):
        smooth = _expand(smooth, finer)
    detail = cv2.subtract(source, smooth, dtype=cv2.CV_16S)
    return cv2.add(base, detail, dtype=cv2.CV_8U)
