"""What the feed-forward modes (fast, instant) share around their passes.

Both load a photo within a pixel limit, bring it to the output size with its region masks,
paint it, and return a result that records the styles and controls that made it; only
the painting differs. `FeedForwardStylizer` holds the rest once.
"""

from __future__ import annotations

import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, ClassVar, Self

import numpy as np
from PIL import Image

from styler.controls import CONTROLS, FAST, checked, output_side
from styler.fusion.regions import MaskInput, load_region_masks, split_regions
from styler.image_sizes import resize_long_side
from styler.imageio import LoadedImage, load_image
from styler.result import ImageInput, StylizeResult
from styler.settings import Settings, files_of, regions_of


@dataclass
class PassOptions:
    """The controls applied around a feed-forward pass, as styler.controls defines them for
    `MODE`; fast and instant mode share every one of them (and their defaults, which leave
    the photo's size and the pass's output as they are)."""

    MODE: ClassVar[str] = FAST

    size: int = CONTROLS["size"].default_for(FAST)  # long side, px; 0: the photo's own
    upscale: bool = CONTROLS["upscale"].default  # off: never larger than the photo
    strength: float = CONTROLS["strength"].default  # 0: the photo, 1: the pass's output
    preserve_color: str = CONTROLS["preserve_color"].default
    style_scale: float = CONTROLS["style_scale"].default  # > 1: larger strokes
    feather: float = CONTROLS["feather"].default  # px: softness of region edges
    temporal: float = CONTROLS["temporal"].default  # video only (styler.video)

    def __post_init__(self) -> None:
        for name, value in checked(self.MODE, asdict(self)).items():
            setattr(self, name, value)

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Self:
        """Options from control values by name; the stylizer's own controls (tile, ...) are
        checked but are not options."""
        values = checked(cls.MODE, values)
        return cls(**{k: v for k, v in values.items() if k in cls.__dataclass_fields__})


@dataclass
class Prepared:
    """One photo at the output size, its region masks, and when its run started."""

    loaded: LoadedImage
    photo: np.ndarray  # HxWx3 uint8 RGB at the output size
    masks_in: list[MaskInput]
    styles_in: list[Any]  # each region's style (None: the photo)
    masks: list[np.ndarray]  # at the photo's size
    start: float  # time.perf_counter() when loading began

    def result(
        self,
        out: np.ndarray | None,
        *,
        mode: str,
        styles: list[str],
        blend: Sequence[float],
        controls: Mapping[str, Any],
        engine: Mapping[str, Any],
        style_files: Mapping[str, dict[str, str]],
    ) -> StylizeResult:
        """The run's result; `out` None (cancelled) gives back the photo, not completed.
        `style_files` are the styles' file records (styler.settings.files_of), taken once
        per stylizer; the regions' are taken here."""
        region_items = [*self.masks_in, *(s for s in self.styles_in if s is not None)]
        settings = Settings(
            mode=mode,
            styles=styles,
            blend=list(blend),
            controls=dict(controls),
            regions=regions_of(list(zip(self.masks_in, self.styles_in, strict=True))),
            completed=out is not None,
            engine=dict(engine),
            files={**style_files, **files_of(region_items)},
        )
        return StylizeResult(
            image=Image.fromarray(self.photo if out is None else out, "RGB"),
            alpha=self.loaded.alpha,
            settings=settings.to_dict(),
            losses={},
            completed=out is not None,
            elapsed=time.perf_counter() - self.start,
        )


class FeedForwardStylizer:
    """Loading, preparing and the `stylize` convenience; subclasses implement `run`."""

    max_pixels: int

    def load(
        self, image: ImageInput | LoadedImage, *, bgr: bool = False, at_least: int = 0
    ) -> LoadedImage:
        """Decode an input within this stylizer's pixel limit; loaded images pass through.
        at_least: the output's long side where the size control sets one (load_image)."""
        return load_image(image, max_pixels=self.max_pixels, bgr=bgr, at_least=at_least)

    def prepare(
        self,
        image: ImageInput | LoadedImage,
        size: int,
        upscale: bool,
        regions: Sequence[tuple[MaskInput, Any]],
        bgr: bool,
    ) -> Prepared:
        """The photo at the output size the size controls give, with its region masks."""
        start = time.perf_counter()
        loaded = self.load(image, bgr=bgr, at_least=size)
        side = output_side(size, upscale, loaded.rgb.size)
        photo = np.asarray(resize_long_side(loaded.rgb, side))
        masks_in, styles_in = split_regions(regions)
        masks = load_region_masks(masks_in, styles_in, *photo.shape[:2])
        return Prepared(loaded, photo, masks_in, styles_in, masks, start)

    def options_from(self, values: Mapping[str, Any]) -> Any:
        """The mode's options from control values by name."""
        raise NotImplementedError

    def run(
        self,
        image: ImageInput | LoadedImage,
        options: Any = None,
        *,
        regions: Sequence[tuple[MaskInput, Any]] = (),
        bgr: bool = False,
    ) -> StylizeResult:
        raise NotImplementedError

    def stylize(
        self,
        image: ImageInput | LoadedImage,
        *,
        regions: Sequence[tuple[MaskInput, Any]] = (),
        bgr: bool = False,
        **options: Any,
    ):
        """Stylize a path, PIL image or array: arrays come back as arrays, the rest as PIL.

        Keyword options are the mode's controls of styler.controls (size, strength,
        preserve_color, style_scale, feather, ...); regions as in `run`.
        """
        result = self.run(image, self.options_from(options), regions=regions, bgr=bgr)
        return result.returned_as(image, bgr)
