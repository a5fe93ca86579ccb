"""Quality mode: the optimizer (styler.optimize) with everything around it that belongs to
the mode: the style images decoded and, for colour preservation "match", recoloured to the
photo first; the instant result as a start; and after optimisation the photo's chroma
("luminance") and the unstyled regions fused back.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from styler.controls import CONTROLS, OPTIMIZE, checked
from styler.device import resolve_device, use_all_cores
from styler.errors import OptionsError
from styler.fast.blend import normalised_weights
from styler.fusion.color import luminance_transfer, match_colors
from styler.fusion.regions import (
    MaskInput,
    composite,
    load_region_masks,
    split_regions,
)
from styler.imageio import DEFAULT_MAX_PIXELS, LoadedImage, PhotoOptions, load_image, save_image
from styler.instant.stylizer import InstantOptions, InstantStylizer
from styler.losses import LossWeights
from styler.optimize import OptimizeOptions, OptimizeResult, StyleOptimizer
from styler.progress import CancelToken, ProgressCallback
from styler.result import ImageInput, StylizeResult
from styler.settings import Settings, engine_notes, files_of, image_name, regions_of
from styler.vgg import VGG19Features

StyleInput = ImageInput | Sequence[ImageInput]
# (mask, style image or None): the style of one region; None keeps the photo there.
RegionInput = tuple[MaskInput, ImageInput | LoadedImage | None]


def build_options(**values: Any) -> OptimizeOptions:
    """Validated optimizer-mode options from control values by name (styler.controls)."""
    return OptimizeOptions.from_values(values)


def _as_list(style: StyleInput) -> list[ImageInput]:
    if isinstance(style, (str, os.PathLike, Image.Image, np.ndarray, LoadedImage)):
        return [style]
    try:
        styles = list(style)
    except TypeError:  # None, a number: nothing to paint with
        styles = []
    if not styles or any(s is None for s in styles):
        raise OptionsError(f"at least one style image is needed (a path, image or array), "
                           f"got {style!r:.40}")  # fmt: skip
    return styles


def _recoloured(style: Image.Image, photo: Image.Image) -> Image.Image:
    """The style image with the photo's colour statistics (colour preservation 'match')."""
    return Image.fromarray(match_colors(np.asarray(style), np.asarray(photo)), "RGB")


def _finish(
    image: Image.Image, photo: Image.Image, options: OptimizeOptions, unstyled: list[np.ndarray]
) -> Image.Image:
    """After optimisation: keep the photo's chroma ('luminance'), then fuse the regions that
    have no style back to the photo, multi-band blended so their edges never cut hard."""
    if options.strength == 0 or (options.preserve_color != "luminance" and not unstyled):
        return image
    result = np.asarray(image)
    original = np.asarray(photo.resize(image.size, Image.Resampling.LANCZOS))
    if options.preserve_color == "luminance":
        result = luminance_transfer(result, original)
    result = composite(result, [(original, mask) for mask in unstyled], feather=options.feather)
    return Image.fromarray(result, "RGB")


def _instant_start(
    photo: Image.Image,
    styles: Sequence[Image.Image],
    blend: Sequence[float],
    masks: Sequence[np.ndarray],
    region_styles: Sequence[Image.Image | None],
    options: OptimizeOptions,
    device: torch.device,
) -> Image.Image:
    """Init 'instant': the instant-mode result at the output's size, the same styles (already
    recoloured for 'match'), blend and regions; the optimizer takes it from there."""
    side = options.for_photo(photo.size).size
    stylizer = InstantStylizer(list(styles), device=str(device), blend=blend)
    instant = InstantOptions(size=side, upscale=True, feather=options.feather)
    regions = list(zip(masks, region_styles, strict=True))
    return stylizer.run(photo, instant, regions=regions).image


def _continued(
    options: OptimizeOptions, start: Image.Image, photo_size: tuple[int, int], steps: int
) -> OptimizeOptions:
    """The options that go on from `start`: one scale when it is already at the output's
    size (as from the instant result), else the scales from its own size up."""
    steps = steps or options.steps
    if max(start.size) >= options.for_photo(photo_size).size:
        return replace(options, init="instant", steps=steps)
    return replace(options, init="image", steps=steps, min_size=max(start.size))


class Stylizer:
    """Loads VGG19 once and stylizes many images; safe to share between threads.

    Runs are serialised with a lock: one run already uses every core (or the
    whole GPU), so running two at once would only make both slower. Construction calls
    styler.device.use_all_cores(), which may set torch's process-wide thread count while
    torch is at its own default; STYLER_THREADS=N chooses the count, 0 leaves torch alone.
    """

    def __init__(
        self,
        device: str = CONTROLS["device"].default,
        vgg: str = CONTROLS["vgg"].default,
        pooling: str = "max",
        max_pixels: int = DEFAULT_MAX_PIXELS,
    ) -> None:
        checked(OPTIMIZE, {"max_pixels": max_pixels})
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
        return load_image(item, max_pixels=self.max_pixels, bgr=bgr)

    def run(
        self,
        content: ImageInput,
        style: StyleInput,
        options: OptimizeOptions | None = None,
        *,
        blend: Sequence[float] | None = None,
        regions: Sequence[RegionInput] = (),
        init_image: ImageInput | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        bgr: bool = False,
        start: ImageInput | None = None,
        start_steps: int = 0,
    ) -> StylizeResult:
        """Stylize one image and return the result with its settings and losses.

        regions: (mask, style image or None) pairs. Each mask (a file or array of any size,
        resized to the photo) gets its own style through guided Gram losses, or with None
        only the content loss and afterwards the photo itself, feathered in; the rest of
        the image gets `style`. start: a stylized image to continue from, with `start_steps`
        more steps (0: automatic): at the output's size (a video's previous result moved
        onto this frame, Ruder et al. 2016; an instant result), one scale and few steps; a
        smaller one (a run stopped at a coarser scale) goes on from its own scale.
        """
        options = options or OptimizeOptions()
        styles = _as_list(style)
        blend = [float(w) for w in blend] if blend is not None else [1.0] * len(styles)
        normalised_weights(blend, len(styles), "style image")  # checked; kept as given
        region_masks, region_styles = split_regions(regions)
        loaded = self.load(content, bgr=bgr)
        if start is not None:
            init_image = self.load(start, bgr=bgr).rgb
            options = _continued(options, init_image, loaded.rgb.size, start_steps)
        width, height = loaded.rgb.size
        masks = load_region_masks(region_masks, region_styles, height, width)
        style_images = [self.load(s, bgr=bgr).painting() for s in styles]
        region_images = [None if s is None else self.load(s, bgr=bgr).painting()
                         for s in region_styles]  # fmt: skip
        if options.preserve_color == "match":
            style_images = [_recoloured(s, loaded.rgb) for s in style_images]
            region_images = [None if s is None else _recoloured(s, loaded.rgb)
                             for s in region_images]  # fmt: skip
        # the init image a run was asked to start from (not a continuation's start)
        recorded_init = [init_image] if options.init == "image" and start is None and (
            init_image is not None) else []  # fmt: skip
        init = self.load(init_image, bgr=bgr).rgb if init_image is not None else None
        if options.init == "instant" and init is None:
            init = _instant_start(loaded.rgb, style_images, blend, masks, region_images, options,
                                  self.device)  # fmt: skip
        with self._lock:
            outcome: OptimizeResult = self._optimizer.run(
                loaded.rgb,
                style_images,
                options,
                blend=blend,
                regions=list(zip(masks, region_images, strict=True)),
                init_image=init,
                progress=progress,
                cancel=cancel,
            )
        unstyled = [m for m, s in zip(masks, region_images, strict=True) if s is None]
        settings = Settings(
            mode=OPTIMIZE,
            styles=[image_name(s) for s in styles],
            blend=blend,
            controls=options.values(),
            regions=regions_of(list(zip(region_masks, region_styles, strict=True))),
            completed=outcome.completed,
            engine=engine_notes(device=str(self.device), vgg=self.vgg_source,
                                pooling=self.pooling),  # fmt: skip
            files=files_of([*styles, *region_masks, *(s for s in region_styles if s is not None),
                            *recorded_init]),
            init_image=image_name(recorded_init[0]) if recorded_init else None,
        ).to_dict()
        return StylizeResult(
            image=_finish(outcome.image, loaded.rgb, options, unstyled),
            alpha=loaded.alpha,
            settings=settings,
            losses=outcome.losses,
            completed=outcome.completed,
            elapsed=outcome.elapsed,
            steps_done=outcome.steps_done,
            steps_total=outcome.steps_total,
        )

    def stylize(
        self,
        content: ImageInput,
        style: StyleInput,
        *,
        blend: Sequence[float] | None = None,
        regions: Sequence[RegionInput] = (),
        init_image: ImageInput | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        bgr: bool = False,
        output: str | os.PathLike | None = None,
        **options: Any,
    ) -> Image.Image | np.ndarray | Path:
        """Stylize `content` with one or more styles; keyword options are the optimizer-mode
        controls of styler.controls (size, steps, strength, preserve_color, feather, ...),
        regions as in `run`.

        Returns a numpy array for an array input (BGR when `bgr=True`), a PIL
        image otherwise, or the written path when `output` is given.
        """
        result = self.run(
            content,
            style,
            OptimizeOptions.from_values(options),
            blend=blend,
            regions=regions,
            init_image=init_image,
            progress=progress,
            cancel=cancel,
            bgr=bgr,
        )
        if output is not None:
            return save_image(result.image, output, settings=result.settings, alpha=result.alpha,
                              source=content, photo=PhotoOptions.from_values(options))
        return result.returned_as(content, bgr)


