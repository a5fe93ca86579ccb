"""Optimizer-mode style transfer (Gatys et al.), coarse to fine.

The image is optimised first at a small size, where style structure forms
cheaply, then upsampled and refined at each larger scale up to the requested
long side (Gatys et al. 2017 recommend doing the high resolution last). Most
iterations run at the small scales, so a 512 px result costs a fraction of a
single-scale run of the same quality.
"""

from __future__ import annotations

import contextlib
import itertools
import math
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from styler.controls import (
    AUTO_STEPS,
    CONTROLS,
    OPTIMIZE,
    STRENGTH_FLOOR,
    checked,
    controls_for,
    output_side,
)
from styler.device import autocast_dtype
from styler.errors import ImageSizeError, InvalidOption, OptionsError
from styler.fusion.arrays import resize_to
from styler.fusion.tiles import Tile, TileCanvas, tile_grid
from styler.image_sizes import resize_long_side, scaled_size
from styler.losses import (
    LossTerms,
    LossWeights,
    RegionStyle,
    blended_grams,
    gram_matrix,
    perceptual_loss,
)
from styler.progress import CancelToken, Progress, ProgressCallback
from styler.schedule import split_steps
from styler.tensors import resize_tensor, to_image, to_tensor
from styler.vgg import VGG19Features

MIN_REGION_SHARE = 1e-3  # a region covering less of a scale than this gets no style loss there
# Scales longer than DEFAULT_TILE px are optimised tile by tile: memory grows with the pixel
# count, and one 1024 px scale already takes gigabytes on the CPU (docs/performance.md has
# the peak and the command that measures it).
DEFAULT_TILE = CONTROLS["tile"].default_for(OPTIMIZE)
MIN_TILE = CONTROLS["tile"].bounds_for(OPTIMIZE)[0]
_INTERNALS = ("preview_every", "min_size", "scale_factor", "learning_rate")
# VGG19 halves the image four times before relu5_1; below this many px a side would vanish
# (PyTorch: "Output size is too small"). Thinner images (a 1x1 photo, a 1x20000 strip, the
# last sliver of a style image's tiles) are padded by replication to it, and cropped back.
VGG_MIN_SIDE = 32


@dataclass
class OptimizeOptions:
    """Everything that shapes one optimizer-mode run; defaults give good results untuned.

    The user-facing fields are the optimizer-mode controls of styler.controls, which define
    their defaults and ranges; the rest are engine internals.
    """

    size: int = CONTROLS["size"].default_for(OPTIMIZE)  # long side, px; 0: the photo's
    upscale: bool = CONTROLS["upscale"].default  # off: never larger than the photo
    steps: int = CONTROLS["steps"].default
    optimizer: str = CONTROLS["optimizer"].default
    init: str = CONTROLS["init"].default
    style_scale: float = CONTROLS["style_scale"].default
    seed: int = CONTROLS["seed"].default
    strength: float = CONTROLS["strength"].default
    preserve_color: str = CONTROLS["preserve_color"].default
    feather: float = CONTROLS["feather"].default
    temporal: float = CONTROLS["temporal"].default  # video only (styler.video)
    tile: int = CONTROLS["tile"].default_for(OPTIMIZE)
    content_weight: float = CONTROLS["content_weight"].default
    style_weight: float = CONTROLS["style_weight"].default
    tv_weight: float = CONTROLS["tv_weight"].default
    preview_every: int = 0  # attach the current image to every Nth progress report
    min_size: int = 128  # long side of the coarsest scale
    scale_factor: float = math.sqrt(2)  # growth between scales
    learning_rate: float = 0.01  # Adam only; pixels are in [0, 1]

    def __post_init__(self) -> None:
        for name, value in checked(OPTIMIZE, self.values()).items():
            setattr(self, name, value)
        if self.scale_factor <= 1:
            raise InvalidOption("scale_factor", self.scale_factor, "above 1")
        if isinstance(self.preview_every, bool) or not isinstance(self.preview_every, int) or (
                self.preview_every < 0):  # fmt: skip
            raise InvalidOption("preview_every", self.preview_every, "a whole number, 0 or more")

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> OptimizeOptions:
        """Options from control values by name (the shape every face has); the rest default."""
        values = dict(values)
        internals = {k: values.pop(k) for k in _INTERNALS if k in values}
        controls = checked(OPTIMIZE, values, also=_INTERNALS)
        return cls(**{k: v for k, v in controls.items() if k in cls.__dataclass_fields__},
                   **internals)  # fmt: skip

    def values(self) -> dict[str, Any]:
        """The recorded control values: what a result's settings need to reproduce it."""
        return {c.name: getattr(self, c.name) for c in controls_for(OPTIMIZE, recorded_only=True)}

    def for_photo(self, photo_size: tuple[int, int]) -> OptimizeOptions:
        """These options with the output's size made concrete (styler.controls.output_side:
        0 is the photo's own, and no larger than the photo unless upscale). A photo smaller
        than the size control allows runs at its own size all the same (padded), one larger
        than it allows is refused in one line (ImageSizeError): at the photo's own 20000 px
        the style image alone would be optimised against at 20000 px too."""
        side = output_side(self.size, self.upscale, photo_size)
        high = int(CONTROLS["size"].bounds_for(OPTIMIZE)[1])
        if side > high:  # only the photo's own size gets here: the control refuses the rest
            width, height = photo_size
            raise ImageSizeError(f"the photo is {width}x{height} px: its own size is over the "
                                 f"{high} px limit of size; give a size up to {high}")
        if side == self.size:
            return self
        concrete = replace(self)
        concrete.size = side  # not re-checked: below the control's minimum is fine here
        return concrete

    def loss_weights(self) -> LossWeights:
        """The weights the optimizer uses: the style weight scaled for `strength`."""
        factor = STRENGTH_FLOOR ** (1.0 - self.strength)
        return LossWeights(
            content=self.content_weight, style=self.style_weight * factor, tv=self.tv_weight
        )

    @property
    def tile_overlap(self) -> int:
        """A quarter tile: wide enough for relu5_1's receptive field around each seam."""
        return self.tile // 4

    def tiles_at(self, size: tuple[int, int]) -> list[list[Tile]]:
        """The tile grid of a scale of this (width, height): one tile when it fits."""
        width, height = size
        if not self.tile or max(size) <= self.tile:
            return [[Tile(0, 0, height, width, 0, 0)]]
        return tile_grid(height, width, self.tile, self.tile_overlap)

    @property
    def step_count(self) -> int:
        """The steps control made concrete: 0 is automatic (AUTO_STEPS by init)."""
        return self.steps or AUTO_STEPS.get(self.init, AUTO_STEPS["content"])

    def scale_sizes(self) -> list[int]:
        """Long sides from coarse to fine, each `scale_factor` apart, ending at `size`.

        From the instant result there is one scale, the output's: its strokes are already in
        place, and coarser scales would only blur them (docs/instant_mode.md)."""
        if self.init == "instant":
            return [self.size]
        sizes = [self.size]
        while sizes[-1] / self.scale_factor >= self.min_size and len(sizes) < self.step_count:
            sizes.append(round(sizes[-1] / self.scale_factor))
        return sizes[::-1]

    def step_schedule(self) -> list[int]:
        """The steps over the scales (split_steps)."""
        return split_steps(self.step_count, len(self.scale_sizes()))


@dataclass
class OptimizeResult:
    # The best-scoring image of the finest scale reached (of each tile, when tiled), not
    # necessarily the last iterate; `losses` are that image's (the last tile's when tiled).
    image: Image.Image
    losses: dict[str, float]
    completed: bool  # False when cancelled: `image` is the best so far, at the scale reached
    steps_done: int
    elapsed: float
    steps_total: int = 0  # steps of the whole run, tiled scales counted once per tile


@dataclass
class _Run:
    """Bookkeeping shared by every scale and tile of one run."""

    scales: int
    total: int  # steps of all scales, tiled scales counted once per tile
    start: float
    progress: ProgressCallback | None
    cancel: CancelToken | None
    done: int = 0


# A region: its HxW weight mask at the content's size, and its style image (None: no style).
Region = tuple[np.ndarray, Image.Image | None]


class _ScaleProblem:
    """Targets and loss of one scale, or of one tile of it: content features and blended
    style Grams, or with regions, one guided Gram target per styled region (the rest of the
    image gets `styles`). Style Grams are global: a tile is pulled towards the statistics of
    the whole style image, never of a style crop, so tiles do not drift apart."""

    def __init__(
        self,
        vgg: VGG19Features,
        content: Image.Image,
        styles: Sequence[Image.Image],
        blend: Sequence[float],
        long_side: int,
        options: OptimizeOptions,
        device: torch.device,
        regions: Sequence[Region] = (),
        window: Tile | None = None,
        shared: dict | None = None,
    ) -> None:
        self.vgg = vgg
        self.weights = options.loss_weights()
        self.device = device
        self.tile = options.tile
        self.shared = {} if shared is None else shared  # per-scale work the tiles reuse
        self.full_size = scaled_size(content.size, long_side)
        if "content" not in self.shared:
            resized = content.resize(self.full_size, Image.Resampling.LANCZOS)
            self.shared["content"] = to_tensor(resized, device)
        full_height = self.full_size[1]
        self.window = window or Tile(0, 0, full_height, self.full_size[0], 0, 0)
        self.size = (self.window.right - self.window.left, self.window.bottom - self.window.top)
        # bf16 on CPUs that have it natively, but tiles stay fp32 there: their joins came
        # out marginally stronger in bf16 (docs/performance.md, "Optimizer mode runs VGG").
        self.amp = autocast_dtype(device, cpu_bf16=self.size == self.full_size)
        self.padding = _vgg_padding(self.size)  # the optimised image is padded the same way
        self.content = _pad(self.shared["content"][(..., *self.window.slices)], self.padding)
        style_side = max(16, round(_painting_side(self.full_size) * options.style_scale))
        with torch.no_grad():
            feats = self._features(self.content)
            self.content_targets = {k: feats[k] for k in self.weights.content_layers}
            per_style = [self._grams(s, style_side) for s in styles]
            main = blended_grams(per_style, blend)
            self.style_targets: Mapping[str, torch.Tensor] | list[RegionStyle] = (
                self._region_targets(main, regions, feats, style_side) if regions else main
            )

    def _region_targets(
        self,
        main: dict[str, torch.Tensor],
        regions: Sequence[Region],
        feats: Mapping[str, torch.Tensor],
        style_side: int,
    ) -> list[RegionStyle]:
        """Guided targets: each styled region's mask at every style layer's resolution."""
        width, height = self.full_size
        masks = [
            _pad(torch.from_numpy(
                np.clip(resize_to(mask, height, width), 0, 1)[self.window.slices].copy()
            ).to(self.device)[None, None], self.padding)[0, 0]
            for mask, _ in regions
        ]  # fmt: skip
        rest = (1.0 - torch.stack(masks).sum(0)).clamp(0, 1)
        styled = [(rest, main)] + [
            (mask, self._grams(style, style_side))
            for mask, (_, style) in zip(masks, regions, strict=True)
            if style is not None
        ]
        return [
            RegionStyle(grams=grams, masks=self._layer_masks(mask, feats))
            for mask, grams in styled
            if float(mask.mean()) >= MIN_REGION_SHARE
        ]

    def _layer_masks(
        self, mask: torch.Tensor, feats: Mapping[str, torch.Tensor]
    ) -> dict[str, torch.Tensor]:
        """The mask area-averaged to each style layer's resolution: soft at the boundaries."""
        return {
            layer: F.interpolate(mask[None, None], size=feats[layer].shape[-2:], mode="area")
            for layer in self.weights.style_layers
        }

    def _features(self, image: torch.Tensor) -> dict[str, torch.Tensor]:
        ctx = (
            torch.autocast(self.device.type, dtype=self.amp)
            if self.amp is not None
            else contextlib.nullcontext()
        )
        with ctx:
            feats = self.vgg(image, self.weights.layers)
        return {k: v.float() for k, v in feats.items()}

    def _grams(self, style: Image.Image, side: int) -> dict[str, torch.Tensor]:
        """Grams of the style image at `side` px, once per scale; above the tile size they
        are summed over tiles (a Gram is a sum over positions), which bounds the memory."""
        key = ("grams", id(style), side)
        if key not in self.shared:
            image = resize_long_side(style, side)
            width, height = image.size
            grid = self.tile if self.tile and max(image.size) > self.tile else max(image.size)
            sums: dict[str, torch.Tensor] = {}
            counts: dict[str, int] = {}
            for top in range(0, height, grid):
                for left in range(0, width, grid):
                    crop = image.crop((left, top, min(width, left + grid), min(height, top + grid)))
                    tensor = to_tensor(crop, self.device)
                    feats = self._features(_pad(tensor, _vgg_padding(crop.size)))
                    for layer in self.weights.style_layers:
                        positions = feats[layer].shape[-2] * feats[layer].shape[-1]
                        term = gram_matrix(feats[layer]) * positions
                        sums[layer] = sums[layer] + term if layer in sums else term
                        counts[layer] = counts.get(layer, 0) + positions
            self.shared[key] = {layer: sums[layer] / counts[layer] for layer in sums}
        return self.shared[key]

    def loss(self, image: torch.Tensor) -> LossTerms:
        """The loss of an image of the padded size (see padded)."""
        feats = self._features(image)
        return perceptual_loss(image, feats, self.content_targets, self.style_targets, self.weights)

    def padded(self, image: torch.Tensor) -> torch.Tensor:
        """An image of this problem's size, padded to what the loss takes."""
        return _pad(image, self.padding)

    def cropped(self, image: torch.Tensor) -> torch.Tensor:
        """A padded image cropped back to this problem's size."""
        left, _, top, _ = self.padding
        width, height = self.size
        return image[..., top : top + height, left : left + width]


# The painting is scaled to the output's long side (its strokes keep their size against the
# picture), but to no more than this many times the output's pixels: an output of extreme
# shape (4x4096) would otherwise have its painting's Grams taken at 4096x4096, for minutes.
PAINTING_AREA, PAINTING_SIDE_FLOOR = 4, 1024


def _painting_side(size: tuple[int, int]) -> int:
    """The long side the painting is scaled to for an output of `size` (before style scale):
    the output's long side, capped for outputs narrower than a quarter of their length."""
    cap = max(math.sqrt(PAINTING_AREA * size[0] * size[1]), PAINTING_SIDE_FLOOR)
    return round(min(max(size), cap))


def _vgg_padding(size: tuple[int, int]) -> tuple[int, int, int, int]:
    """(left, right, top, bottom) px that bring (width, height) to VGG_MIN_SIDE, centred."""
    pads = []
    for side in size:
        extra = max(0, VGG_MIN_SIDE - side)
        pads += [extra // 2, extra - extra // 2]
    return pads[0], pads[1], pads[2], pads[3]


def _pad(image: torch.Tensor, padding: tuple[int, int, int, int]) -> torch.Tensor:
    """Replicate the edge pixels outwards; a no-op for sizes VGG takes as they are."""
    return F.pad(image, padding, mode="replicate") if any(padding) else image


class StyleOptimizer:
    """Runs optimizer-mode style transfer; holds one VGG19 so many images reuse it."""

    def __init__(self, vgg: VGG19Features, device: torch.device) -> None:
        self.vgg = vgg.to(device)
        self.device = device

    def run(
        self,
        content: Image.Image,
        styles: Sequence[Image.Image],
        options: OptimizeOptions,
        *,
        blend: Sequence[float] | None = None,
        regions: Sequence[Region] = (),
        init_image: Image.Image | None = None,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> OptimizeResult:
        """Optimise `content` towards the blended styles, or per region with `regions`
        (masks at the content's size; the rest of the image gets the blended styles).

        Each scale (each tile of a tiled scale) keeps the lowest-loss image it saw, the final
        iterate included, and the next scale starts from it; the result is the best image of
        the finest scale reached, with its losses. A cancelled run returns the best so far.
        """
        if not styles:
            raise OptionsError("at least one style image is needed")
        options = options.for_photo(content.size)
        if options.init in ("image", "instant") and init_image is None:
            raise OptionsError(f"init {options.init!r} needs an init image")
        final_size = scaled_size(content.size, options.size)
        if options.strength == 0:  # the photo itself: nothing to optimise
            image = content.convert("RGB").resize(final_size, Image.Resampling.LANCZOS)
            return OptimizeResult(image=image, losses={}, completed=True, steps_done=0, elapsed=0.0)
        blend = list(blend) if blend is not None else [1.0] * len(styles)
        generator = torch.Generator().manual_seed(options.seed)
        sizes, schedule = options.scale_sizes(), options.step_schedule()
        grids = [options.tiles_at(scaled_size(content.size, side)) for side in sizes]
        run = _Run(
            scales=len(sizes),
            # A tiled scale runs its steps once per tile.
            total=sum(n * sum(map(len, g)) for n, g in zip(schedule, grids, strict=True)),
            start=time.perf_counter(),
            progress=progress,
            cancel=cancel,
        )
        image: torch.Tensor | None = None
        terms: dict[str, float] = {}
        for index, (long_side, steps) in enumerate(zip(sizes, schedule, strict=True)):
            shared: dict = {}  # the scale's content tensor and style Grams, made once
            problems = (
                _ScaleProblem(
                    self.vgg,
                    content,
                    styles,
                    blend,
                    long_side,
                    options,
                    self.device,
                    regions,
                    tile,
                    shared,
                )  # fmt: skip
                for row in grids[index]
                for tile in row
            )
            before = run.done
            scaled, scaled_terms, complete = self._scale(
                problems, image, steps, index, options, init_image, generator, run
            )
            if not complete and run.done == before and image is not None:
                break  # stopped before this scale's first step: the scale reached is the last
            image, terms = scaled, scaled_terms
            if not complete:
                break
        assert image is not None
        completed = run.done >= run.total
        # A stopped run keeps the size it reached: an upscaled coarse image would pass for a
        # finished one while looking soft.
        result = to_image(resize_tensor(image.clamp(0, 1), final_size) if completed else image)
        return OptimizeResult(
            image=result,
            losses=terms,
            completed=completed,
            steps_done=run.done,
            steps_total=run.total,
            elapsed=time.perf_counter() - run.start,
        )

    def _scale(
        self,
        problems: Iterator[_ScaleProblem],
        previous: torch.Tensor | None,
        steps: int,
        index: int,
        options: OptimizeOptions,
        init_image: Image.Image | None,
        generator: torch.Generator,
        run: _Run,
    ) -> tuple[torch.Tensor, dict[str, float], bool]:
        """Optimise one scale, whole or tile by tile; False when cancelled part way.

        Every tile starts from the same upsampled previous scale and is multi-band joined
        to the tiles before it; tiles a cancel leaves unvisited keep that upsampled image.
        """
        first = next(problems)
        start = self._initial(first, previous, options, init_image, generator)
        if first.size == first.full_size:
            image, terms, finished = self._optimise(first, start, steps, options, index, run)
            return image, terms, finished == steps
        canvas = TileCanvas(np.array(to_image(start)))  # tiles are joined as uint8
        for problem in itertools.chain([first], problems):
            window = problem.window
            tile, terms, finished = self._optimise(
                problem, start[(..., *window.slices)], steps, options, index, run
            )
            canvas.paste(window, np.asarray(to_image(tile)))
            if finished < steps:
                return to_tensor(Image.fromarray(canvas.image), self.device), terms, False
        return to_tensor(Image.fromarray(canvas.image), self.device), terms, True

    def _initial(
        self,
        problem: _ScaleProblem,
        previous: torch.Tensor | None,
        options: OptimizeOptions,
        init_image: Image.Image | None,
        generator: torch.Generator,
    ) -> torch.Tensor:
        if previous is not None:
            return resize_tensor(previous, problem.full_size).clamp(0, 1)
        if options.init == "noise":
            w, h = problem.full_size
            noise = torch.rand((1, 3, h, w), generator=generator)
            return (0.5 * problem.shared["content"].cpu() + 0.5 * noise).to(self.device)
        if options.init in ("image", "instant"):  # the API paints the instant result first
            assert init_image is not None
            return to_tensor(init_image.convert("RGB").resize(problem.full_size), self.device)
        return problem.shared["content"].clone()

    def _optimise(
        self,
        problem: _ScaleProblem,
        start_image: torch.Tensor,
        steps: int,
        options: OptimizeOptions,
        scale: int,
        run: _Run,
    ) -> tuple[torch.Tensor, dict[str, float], int]:
        """Optimise one scale or tile; returns the best image, its losses, steps completed.

        Every step's loss is that of the image before the step's update, so the final
        iterate is scored once more (a forward pass without gradients) and competes too.
        """
        padded = problem.padded(start_image.detach())  # LBFGS needs a contiguous gradient
        image = padded.clone(memory_format=torch.contiguous_format).requires_grad_(True)
        if options.optimizer == "lbfgs":
            optimizer: torch.optim.Optimizer = torch.optim.LBFGS(
                [image],
                lr=1.0,
                max_iter=1,
                history_size=50,
                tolerance_change=0.0,
                tolerance_grad=0.0,
            )
        else:
            optimizer = torch.optim.Adam([image], lr=options.learning_rate)
        best_loss, best_image, best_terms = math.inf, image.detach().clone(), {}
        last: dict[str, LossTerms] = {}

        def closure() -> torch.Tensor:
            optimizer.zero_grad(set_to_none=True)
            terms = problem.loss(image)
            terms.total.backward()
            last["terms"] = terms
            return terms.total

        for step in range(steps):
            if run.cancel is not None and run.cancel.cancelled:
                return problem.cropped(best_image), best_terms, step
            # The loss closure evaluates the image *before* this step's update.
            evaluated = image.detach().clone()
            optimizer.step(closure)
            if options.optimizer == "adam":
                with torch.no_grad():
                    image.clamp_(0, 1)
            terms = last["terms"].as_floats()
            if terms["total"] < best_loss:
                best_loss, best_image, best_terms = terms["total"], evaluated, terms
            run.done += 1
            if run.progress is not None:
                preview = (
                    to_image(problem.cropped(image))
                    if options.preview_every and run.done % options.preview_every == 0
                    else None
                )
                run.progress(
                    Progress(
                        step=run.done,
                        total_steps=run.total,
                        scale=scale,
                        scales=run.scales,
                        size=problem.size,
                        losses=terms,
                        elapsed=time.perf_counter() - run.start,
                        image=preview,
                    )
                )
        # The closures scored every image but the final iterate: score it too, then keep
        # the best (the final one on a tie: it is the optimizer's latest).
        final = image.detach()
        with torch.no_grad():
            final_terms = problem.loss(final).as_floats()
        if final_terms["total"] <= best_loss:
            return problem.cropped(final), final_terms, steps
        return problem.cropped(best_image), best_terms, steps
