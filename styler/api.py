"""The Python API: load models once, stylize many images, in the caller's own image type.

from styler import Stylizer, stylize
out = stylize("photo.jpg", "painting.jpg", size=512)          # -> PIL image
engine = Stylizer()                                           # loads VGG19 once
frame = engine.stylize(bgr_frame, "painting.jpg", bgr=True)   # numpy in, numpy out
"""

from __future__ import annotations

import functools
import os
import threading
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from styler.device import resolve_device, use_all_cores
from styler.errors import OptionsError
from styler.imageio import DEFAULT_MAX_PIXELS, LoadedImage, load_image, save_image, to_array
from styler.losses import LossWeights
from styler.optimize import OptimizeOptions, OptimizeResult, StyleOptimizer
from styler.progress import CancelToken, ProgressCallback
from styler.result import StylizeResult
from styler.vgg import VGG19Features

ImageInput = str | os.PathLike | Image.Image | np.ndarray
StyleInput = ImageInput | Sequence[ImageInput]


def build_options(
    *,
    size: int = OptimizeOptions.size,
    steps: int = OptimizeOptions.steps,
    content_weight: float = LossWeights.content,
    style_weight: float = LossWeights.style,
    tv_weight: float = LossWeights.tv,
    optimizer: str = OptimizeOptions.optimizer,
    init: str = OptimizeOptions.init,
    style_scale: float = OptimizeOptions.style_scale,
    seed: int = OptimizeOptions.seed,
    preview_every: int = OptimizeOptions.preview_every,
) -> OptimizeOptions:
    """Validated options from flat keyword values (the shape the CLI and UI have)."""
    try:
        weights = LossWeights(content=content_weight, style=style_weight, tv=tv_weight)
    except ValueError as exc:
        raise OptionsError(str(exc)) from exc
    return OptimizeOptions(
        size=size,
        steps=steps,
        optimizer=optimizer,
        init=init,
        style_scale=style_scale,
        seed=seed,
        preview_every=preview_every,
        weights=weights,
    )


def describe(options: OptimizeOptions, styles: Sequence[str], blend: Sequence[float]) -> dict:
    """The settings embedded in output files, enough to reproduce the run."""
    settings = asdict(options)
    settings.pop("preview_every")
    return {"mode": "optimize", "styles": list(styles), "blend": list(blend), **settings}


def _as_list(style: StyleInput) -> list[ImageInput]:
    if isinstance(style, (str, os.PathLike, Image.Image, np.ndarray, LoadedImage)):
        return [style]
    styles = list(style)
    if not styles:
        raise OptionsError("at least one style image is needed")
    return styles


def _name(item: ImageInput | LoadedImage) -> str:
    if isinstance(item, LoadedImage):
        return item.source
    return str(item) if isinstance(item, (str, os.PathLike)) else f"<{type(item).__name__}>"


def _returned_as(given: ImageInput, result: StylizeResult, bgr: bool) -> Image.Image | np.ndarray:
    """Hand back the kind of image the caller gave: arrays for arrays, PIL otherwise."""
    image = result.with_alpha()
    return to_array(image, bgr=bgr) if isinstance(given, np.ndarray) else image


class Stylizer:
    """Loads VGG19 once and stylizes many images; safe to share between threads.

    Runs are serialised with a lock: one run already uses every core (or the
    whole GPU), so running two at once would only make both slower.
    """

    def __init__(
        self,
        device: str = "auto",
        vgg: str = "original",
        pooling: str = "max",
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        use_all_cores()
        self.device = resolve_device(device)
        layers = LossWeights().layers
        self.vgg_source = vgg
        self.pooling = pooling
        self.max_pixels = max_pixels
        self._optimizer = StyleOptimizer(VGG19Features(layers, vgg, pooling), self.device)
        self._lock = threading.Lock()

    def load(self, item: ImageInput | LoadedImage, *, bgr: bool = False) -> LoadedImage:
        """Decode an input once; already-loaded images pass through (batches reuse styles)."""
        if isinstance(item, LoadedImage):
            return item
        return load_image(item, max_pixels=self.max_pixels, bgr=bgr)

    def run(
        self,
        content: ImageInput,
        style: StyleInput,
        options: OptimizeOptions | None = None,
        *,
        blend: Sequence[float] | None = None,
        init_image: ImageInput | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        bgr: bool = False,
    ) -> StylizeResult:
        """Stylize one image and return the result with its settings and losses."""
        options = options or OptimizeOptions()
        styles = _as_list(style)
        blend = list(blend) if blend is not None else [1.0] * len(styles)
        if len(blend) != len(styles):
            raise OptionsError(f"{len(styles)} style images but {len(blend)} blend weights")
        if any(w < 0 for w in blend) or sum(blend) <= 0:
            raise OptionsError(f"blend weights must be >= 0 and not all zero, got {blend}")
        loaded = self.load(content, bgr=bgr)
        style_images = [self.load(s, bgr=bgr).rgb for s in styles]
        init = self.load(init_image, bgr=bgr).rgb if init_image is not None else None
        with self._lock:
            outcome: OptimizeResult = self._optimizer.run(
                loaded.rgb,
                style_images,
                options,
                blend=blend,
                init_image=init,
                progress=progress,
                cancel=cancel,
            )
        settings = describe(options, [_name(s) for s in styles], blend)
        settings.update(vgg=self.vgg_source, pooling=self.pooling, device=str(self.device))
        return StylizeResult(
            image=outcome.image,
            alpha=loaded.alpha,
            settings=settings,
            losses=outcome.losses,
            completed=outcome.completed,
            elapsed=outcome.elapsed,
        )

    def stylize(
        self,
        content: ImageInput,
        style: StyleInput,
        *,
        blend: Sequence[float] | None = None,
        init_image: ImageInput | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        bgr: bool = False,
        output: str | os.PathLike | None = None,
        **options: Any,
    ) -> Image.Image | np.ndarray | Path:
        """Stylize `content` with one or more styles; keyword options as in `build_options`.

        Returns a numpy array for an array input (BGR when `bgr=True`), a PIL
        image otherwise, or the written path when `output` is given.
        """
        result = self.run(
            content,
            style,
            build_options(**options),
            blend=blend,
            init_image=init_image,
            progress=progress,
            cancel=cancel,
            bgr=bgr,
        )
        if output is not None:
            return save_image(result.image, output, settings=result.settings, alpha=result.alpha)
        return _returned_as(content, result, bgr)


@functools.lru_cache(maxsize=4)
def _shared(device: str, vgg: str) -> Stylizer:
    return Stylizer(device=device, vgg=vgg)


def stylize(
    content: ImageInput,
    style: StyleInput,
    *,
    device: str = "auto",
    vgg: str = "original",
    **kwargs: Any,
) -> Image.Image | np.ndarray | Path:
    """One call: stylize `content` with `style`, reusing a cached engine across calls."""
    return _shared(device, vgg).stylize(content, style, **kwargs)
