"""Colour preservation (Gatys et al. 2017, "Controlling Perceptual Factors in Neural Style
Transfer").

Style transfer repaints a photo in the style image's palette as well as its brush strokes.
When only the strokes are wanted, either recombine afterwards (luminance_transfer: the output's
luminance, the photo's chroma) or recolour the style image before transfer (match_colors).
"""

from __future__ import annotations

from typing import NamedTuple

import cv2
import numpy as np

from styler.controls import CONTROLS, FAST
from styler.errors import OptionsError
from styler.fusion.arrays import check_rgb, resize_to, to_uint8

# NTSC RGB -> YIQ: Y is luma, I and Q carry the chroma.
_RGB_TO_YIQ = np.array(
    [
        [0.299, 0.587, 0.114],
        [0.595716, -0.274453, -0.321263],
        [0.211456, -0.522591, 0.311135],
    ],
    dtype=np.float32,
)
_YIQ_TO_RGB = np.linalg.inv(_RGB_TO_YIQ).astype(np.float32)

SPACES = ("yiq", "lab")
# How a style transfer keeps the photo's colours: not at all, its chroma, or its palette.
PRESERVE_METHODS = CONTROLS["preserve_color"].choices
COVARIANCE_EPSILON = 1e-5  # added to covariance diagonals (0..1 units): flat images stay finite


class HueStatistics(NamedTuple):
    """Where an image's colours point on the hue circle, and how strongly."""

    vector: np.ndarray  # mean of chroma * (cos hue, sin hue): shape (2,)
    hue: float  # the vector's angle, degrees in [0, 360)
    strength: float  # the vector's length: 0 for grey or evenly spread hues, up to 1


def luminance_transfer(
    stylized: np.ndarray,
    photo: np.ndarray,
    space: str = "yiq",
    match_luminance: bool = True,
) -> np.ndarray:
    """The stylized image's luminance with the photo's chroma ("yiq" or OpenCV's "lab").

    The photo is resized to the stylized image's size when they differ. match_luminance first
    shifts and scales the stylized luminance to the photo's mean and standard deviation, as in
    the paper, so the photo's colours sit on a tonal range like its own.
    """
    check_rgb(stylized, "stylized image")
    check_rgb(photo, "photo")
    if space not in SPACES:
        raise OptionsError(f"unknown colour space {space!r} (use {' or '.join(SPACES)})")
    photo = resize_to(photo, *stylized.shape[:2])
    if space == "yiq":
        styled, original = _to_yiq(stylized), _to_yiq(photo)
    else:
        styled, original = _to_lab(stylized), _to_lab(photo)
    luminance = styled[..., 0]
    if match_luminance:
        luminance = _match_moments(luminance, original[..., 0])
    combined = np.dstack([luminance, original[..., 1:]])
    return _from_yiq(combined) if space == "yiq" else _from_lab(combined)


def match_colors(style: np.ndarray, photo: np.ndarray) -> np.ndarray:
    """Recolour the style image so its RGB mean and covariance match the photo's.

    Linear colour transfer with the symmetric "image analogies" matrix
    A = Σp^{1/2} Σs^{-1/2} (square roots by eigen-decomposition), which, unlike a Cholesky
    factor, does not depend on the channel order. Apply it to the style image before transfer.
    """
    source = check_rgb(style, "style image").reshape(-1, 3).astype(np.float32) / 255.0
    target = check_rgb(photo, "photo").reshape(-1, 3).astype(np.float32) / 255.0
    source_mean = source.mean(axis=0, dtype=np.float64)
    target_mean = target.mean(axis=0, dtype=np.float64)
    transform = _sqrtm(_covariance(target)) @ _sqrtm(_covariance(source), inverse=True)
    offset = target_mean - transform @ source_mean  # x -> A (x - mean_s) + mean_p, one pass
    recoloured = source @ transform.T.astype(np.float32) + offset.astype(np.float32)
    return to_uint8(recoloured.reshape(style.shape) * 255.0)


def check_preserve(method: str) -> str:
    """method when it is one of PRESERVE_METHODS, else InvalidOption."""
    return CONTROLS["preserve_color"].check(method, FAST)


def preserve_colors(stylized: np.ndarray, photo: np.ndarray, method: str) -> np.ndarray:
    """Colour preservation applied to a finished result (the photo may be of another size).

    "luminance" keeps the photo's chroma (luminance_transfer). "match" moves the result's
    colour statistics to the photo's (match_colors(stylized, photo)): the fallback where the
    style image cannot be recoloured before transfer, as for a trained network. "off" returns
    stylized unchanged.
    """
    check_preserve(method)
    if method == "luminance":
        return luminance_transfer(stylized, photo)
    if method == "match":
        return match_colors(stylized, photo)
    return check_rgb(stylized, "stylized image")


def hue_statistics(rgb: np.ndarray) -> HueStatistics:
    """Circular mean of hue weighted by chroma (max - min channel, 0..1).

    Chroma rather than HSV saturation, whose max-normalisation gives near-black noise full
    weight. Compare two images' palettes by the distance between their vectors.
    """
    pixels = check_rgb(rgb, "image").astype(np.float32) / 255.0
    hue = np.deg2rad(cv2.cvtColor(pixels, cv2.COLOR_RGB2HSV)[..., 0])
    chroma = pixels.max(axis=2) - pixels.min(axis=2)
    vector = np.array([np.mean(chroma * np.cos(hue)), np.mean(chroma * np.sin(hue))])
    angle = float(np.rad2deg(np.arctan2(vector[1], vector[0]))) % 360.0
    return HueStatistics(vector=vector, hue=angle, strength=float(np.hypot(*vector)))


def _match_moments(values: np.ndarray, reference: np.ndarray) -> np.ndarray:
    """values shifted and scaled to reference's mean and standard deviation."""
    spread = float(values.std())
    scale = float(reference.std()) / spread if spread > 1e-6 else 1.0
    return (values - float(values.mean())) * scale + float(reference.mean())


def _to_yiq(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float32) @ _RGB_TO_YIQ.T


def _from_yiq(yiq: np.ndarray) -> np.ndarray:
    return to_uint8(yiq @ _YIQ_TO_RGB.T)


def _to_lab(rgb: np.ndarray) -> np.ndarray:
    """Float Lab (L 0..100): OpenCV's 8-bit Lab would quantise the chroma."""
    return cv2.cvtColor(rgb.astype(np.float32) / 255.0, cv2.COLOR_RGB2Lab)


def _from_lab(lab: np.ndarray) -> np.ndarray:
    return to_uint8(cv2.cvtColor(lab.astype(np.float32), cv2.COLOR_Lab2RGB) * 255.0)


def _covariance(pixels: np.ndarray) -> np.ndarray:
    """RGB covariance plus a small diagonal; one pixel has none (np.cov would divide by
    zero and give NaN), so a 1x1 image counts as flat."""
    if len(pixels) < 2:
        return COVARIANCE_EPSILON * np.eye(3)
    return np.cov(pixels, rowvar=False) + COVARIANCE_EPSILON * np.eye(3)


def _sqrtm(matrix: np.ndarray, inverse: bool = False) -> np.ndarray:
    """Square root (or its inverse) of a symmetric positive definite matrix."""
    values, vectors = np.linalg.eigh(matrix)
    roots = np.sqrt(np.maximum(values, COVARIANCE_EPSILON))
    return (vectors * (1.0 / roots if inverse else roots)) @ vectors.T
