"""The Python API: load models once, stylize many images, in the caller's own image type.

from styler import Stylizer, stylize
out = stylize("photo.jpg", "painting.jpg", size=512)          # -> PIL image
engine = Stylizer()                                           # loads VGG19 once
frame = engine.stylize(bgr_frame, "painting.jpg", bgr=True)   # numpy in, numpy out

Every mode through one contract (styler.engine):
recipe = Recipe.create("instant", ["painting.jpg"], strength=0.8)
result = build_engine(recipe).run("photo.jpg", progress=print)
"""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from styler.controls import CONTROLS
from styler.quality import StyleInput, Stylizer, build_options
from styler.result import ImageInput

__all__ = ["Stylizer", "build_options", "stylize"]


@functools.lru_cache(maxsize=4)
def _shared(device: str, vgg: str) -> Stylizer:
    return Stylizer(device=device, vgg=vgg)


def stylize(
    content: ImageInput,
    style: StyleInput,
    *,
    device: str = CONTROLS["device"].default,
    vgg: str = CONTROLS["vgg"].default,
    **kwargs: Any,
) -> Image.Image | np.ndarray | Path:
    """One call: stylize `content` with `style`, reusing a cached engine across calls."""
    return _shared(device, vgg).stylize(content, style, **kwargs)
