"""The engine contract: a Recipe (styler.recipe) says what to paint, `build_engine` makes the
engine for it once, and `run()` paints one image, in every mode alike:

    engine = build_engine(Recipe.create("fast", ["udnie"], strength=0.8))
    result = engine.run("photo.jpg", progress=on_progress, cancel=token)   # StylizeResult

`build_engine` is the one place that knows the three modes, and imports each mode's code
only when it builds that mode's engine: fast mode on the CPU runs without PyTorch
(docs/performance.md, "Start-up"). Every engine's `run` takes the
same `progress` callback (styler.progress.Progress: optimisation steps in optimizer mode,
network passes in fast and instant mode) and the same CancelToken (a cancelled run returns
its best image so far with `completed` False). Faces (CLI, API, UI, Ray) build a recipe and
call these; batches (styler.batch) and frame streams wrap `run` without knowing the mode.
See docs/architecture.md.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from styler.controls import FAST, INSTANT, OPTIMIZE
from styler.errors import StylerError
from styler.fusion.regions import load_mask
from styler.grid import GridPhase
from styler.imageio import ImageLoadError, LoadedImage, load_image
from styler.progress import CancelToken, ProgressCallback
from styler.recipe import Recipe
from styler.result import ImageInput, StylizeResult

if TYPE_CHECKING:
    import torch

    from styler.quality import Stylizer

__all__ = ["Engine", "Recipe", "RecipeImageError", "build_engine"]


class RecipeImageError(StylerError):
    """An image the recipe names (a style image, a region's mask) cannot be used; `what`
    says which, and the cause is the image error itself. Nothing was run."""

    def __init__(self, what: str, cause: Exception) -> None:
        self.what, self.cause = what, cause
        super().__init__(f"{what} {cause}")


@dataclass
class Engine:
    """What every mode's engine offers its faces: a mode's stylizer bound to a recipe, its
    models loaded, its styles and masks decoded once for every image it runs; `run` passes
    the rest of the call through."""

    recipe: Recipe
    stylizer: Any  # Stylizer, FastStylizer or InstantStylizer
    args: tuple[Any, ...] = ()
    kwargs: dict[str, Any] = field(default_factory=dict)
    warm_starts: bool = False  # run(start=) continues from a given image (optimizer mode)
    grid_locks: bool = False  # run(grid=) places the image on the network's grid (one-pass)
    textured: bool = False  # pictures textured at every scale: how video steadies them

    @property
    def device(self) -> torch.device:
        return self.stylizer.device

    def run(
        self,
        image: ImageInput | LoadedImage,
        *,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        bgr: bool = False,
        start: ImageInput | None = None,
        steps: int = 0,
        grid: GridPhase | None = None,
    ) -> StylizeResult:
        """Paint one image (a path, PIL image, array or LoadedImage). start: a stylized image
        of the same scene to continue from (a video's previous frame moved onto this one, a
        run stopped early, an instant result to refine), with `steps` more steps (0: the
        automatic count); modes that paint in one pass have nothing to continue and ignore
        it. grid: where the image sits on the network's pixel grid (styler.grid), for a
        video's frames; modes without such a grid ignore it."""
        extra: dict[str, Any] = {"start": start, "start_steps": steps} if start is not None and (
            self.warm_starts) else {}  # fmt: skip
        if grid is not None and self.grid_locks:
            extra["grid"] = grid
        return self.stylizer.run(image, *self.args, **self.kwargs, progress=progress,
                                 cancel=cancel, bgr=bgr, **extra)  # fmt: skip


@dataclass(frozen=True)
class _Placement:
    """Where and how an engine is built: its device, pixel limit and preview interval."""

    device: str
    max_pixels: int
    previews: int  # optimizer mode: an image in a progress event every this many steps


def build_engine(
    recipe: Recipe,
    *,
    device: str | None = None,
    max_pixels: int | None = None,
    previews: int = 0,
) -> Engine:
    """The engine of the recipe's mode, on `device` and with the pixel limit of the recipe
    (or those given). previews: in optimizer mode, every this many steps a progress event
    carries the image as it forms (0: none), for live previews; the one-pass modes have no
    steps to preview. Raises RecipeImageError for a style image or mask that cannot be
    used, StylerError for an unknown fast style, before any photo is touched."""
    where = _Placement(str(device or recipe.controls["device"]),
                       max_pixels or recipe.controls["max_pixels"], previews)  # fmt: skip
    return _BUILDERS[recipe.mode](recipe, where)


def _decoded(item: Any, what: str, max_pixels: int) -> LoadedImage:
    try:
        return load_image(item, max_pixels=max_pixels)
    except ImageLoadError as exc:
        raise RecipeImageError(what, exc) from exc


def _masks(recipe: Recipe, max_pixels: int) -> list[LoadedImage]:
    """The regions' masks, decoded once and checked not to be empty."""
    masks = []
    for mask, _ in recipe.regions:
        loaded = _decoded(mask, "region", max_pixels)
        try:
            load_mask(loaded, loaded.rgb.height, loaded.rgb.width)
        except StylerError as exc:
            raise RecipeImageError("region", exc) from exc
        masks.append(loaded)
    return masks


def _styles(items: Sequence[Any], max_pixels: int) -> list[LoadedImage | None]:
    return [None if item is None else _decoded(item, "style image", max_pixels) for item in items]


def _image_regions(recipe: Recipe, max_pixels: int) -> list[tuple[LoadedImage, Any]]:
    """(mask, style image or None) per region, each decoded once (the style-image modes)."""
    masks = _masks(recipe, max_pixels)
    return list(zip(masks, _styles([style for _, style in recipe.regions], max_pixels),
                    strict=True))  # fmt: skip


@functools.lru_cache(maxsize=4)
def shared_stylizer(device: str, vgg: str, max_pixels: int) -> Stylizer:
    """Optimizer mode's VGG19, loaded once per process for each device and weights; a
    Stylizer runs one image at a time, which is what the cores allow anyway."""
    from styler.quality import Stylizer

    return Stylizer(device=device, vgg=vgg, max_pixels=max_pixels)


def _quality(recipe: Recipe, where: _Placement) -> Engine:
    from styler.optimize import OptimizeOptions

    controls = recipe.controls
    regions = _image_regions(recipe, where.max_pixels)
    init = recipe.init_image
    init = None if init is None else _decoded(init, "init image", where.max_pixels)
    stylizer = shared_stylizer(where.device, controls["vgg"], where.max_pixels)
    styles = _styles(recipe.styles, where.max_pixels)
    options = OptimizeOptions.from_values({**controls, "preview_every": where.previews})
    kwargs = {"blend": recipe.blend, "regions": regions, "init_image": init}
    return Engine(recipe, stylizer, (styles, options), kwargs, warm_starts=True)


def _fast(recipe: Recipe, where: _Placement) -> Engine:
    from styler.fast.inference import FastOptions, FastStylizer

    controls = recipe.controls
    stylizer = FastStylizer(list(recipe.styles), device=where.device, tile=controls["tile"],
                            blend=recipe.blend, blend_method=controls["blend_method"],
                            max_pixels=where.max_pixels,
                            precision=controls["precision"])  # fmt: skip
    for _, style in recipe.regions:
        if style is not None:
            stylizer.region_network(style)  # an unknown style stops here, before any work
    masks = _masks(recipe, where.max_pixels)
    regions = list(zip(masks, (style for _, style in recipe.regions), strict=True))
    return Engine(recipe, stylizer, (FastOptions.from_values(controls),), {"regions": regions},
                  grid_locks=True)  # fmt: skip


def _instant(recipe: Recipe, where: _Placement) -> Engine:
    from styler.instant.stylizer import InstantOptions, InstantStylizer

    controls = recipe.controls
    regions = _image_regions(recipe, where.max_pixels)
    stylizer = InstantStylizer(_styles(recipe.styles, where.max_pixels), device=where.device,
                               tile=controls["tile"], blend=recipe.blend,
                               max_pixels=where.max_pixels,
                               precision=controls["precision"])  # fmt: skip
    return Engine(recipe, stylizer, (InstantOptions.from_values(controls),),
                  {"regions": regions}, grid_locks=True, textured=True)  # fmt: skip


_BUILDERS: dict[str, Callable[[Recipe, _Placement], Engine]] = {
    OPTIMIZE: _quality,
    FAST: _fast,
    INSTANT: _instant,
}
