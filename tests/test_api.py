"""The Python API hands back the kind of image it was given."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

from styler import ImageLoadError, stylize


def test_pil_in_pil_out(photo, style) -> None:
    out = stylize(photo, style, size=48, steps=2, device="cpu")
    assert isinstance(out, Image.Image) and out.mode == "RGB" and out.size == (48, 36)


def test_numpy_in_numpy_out_rgb_and_bgr(photo, style) -> None:
    rgb = np.asarray(photo)
    out_rgb = stylize(rgb, style, size=48, steps=2, device="cpu")
    out_bgr = stylize(rgb[..., ::-1].copy(), style, size=48, steps=2, device="cpu", bgr=True)
    assert isinstance(out_rgb, np.ndarray) and out_rgb.shape == (36, 48, 3)
    assert out_rgb.dtype == np.uint8
    # Same picture: the BGR call read BGR and wrote BGR.
    assert np.abs(out_bgr[..., ::-1].astype(int) - out_rgb.astype(int)).mean() < 1.0


def test_path_input_and_alpha_is_kept(photo, style, tmp_path) -> None:
    rgba = photo.convert("RGBA")
    alpha = Image.linear_gradient("L").resize(photo.size)
    rgba.putalpha(alpha)
    path = tmp_path / "photo.png"
    rgba.save(path)
    out = stylize(str(path), style, size=64, steps=2, device="cpu")
    assert out.mode == "RGBA"
    assert np.abs(np.asarray(out)[..., 3].astype(int) - np.asarray(alpha).astype(int)).mean() < 3


def test_unreadable_input_names_the_file(style, tmp_path) -> None:
    bad = tmp_path / "broken.jpg"
    bad.write_bytes(b"not an image")
    with pytest.raises(ImageLoadError, match="broken.jpg"):
        stylize(bad, style, size=48, steps=1, device="cpu")
