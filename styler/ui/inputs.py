"""What the Stylize tab's widgets hand over, made into what the engine takes: the mode, the
control values, the photo and style images (checked against the server's limits) and the
painted regions. Nothing here imports gradio."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from styler import controls
from styler.display import display_copy, needs_display_copy
from styler.errors import InvalidOption
from styler.imageio import ImageError, LoadedImage, load_image
from styler.ui import effects
from styler.ui.messages import NO_PHOTO, UserError, image_reason, option_message, user_message
from styler.ui.services import Services
from styler.video.kinds import is_animation

if TYPE_CHECKING:  # PyTorch: imported where a Quality run is read, not with the page
    from styler.optimize import OptimizeOptions

FAST, INSTANT, QUALITY = "Fast", "Instant", "Quality"
ENGINE_MODES = {FAST: controls.FAST, INSTANT: controls.INSTANT, QUALITY: controls.OPTIMIZE}
MAIN_STYLE, NO_STYLE = "Main style", "No style (keep the photo)"
# Instant and Quality modes' region choices: one of the uploaded style images.
STYLE_IMAGES = ("Style image 1", "Style image 2", "Style image 3")

# Controls of styler.controls the Stylize tab deliberately does not offer, and why. Every
# other control gets a widget and is an input of /stylize (tests/test_ui_registry.py).
NOT_OFFERED = {
    "blend_method": "the Stylize tab runs one fast style at a time: there is nothing to blend",
    "tile": "memory is the server's to bound, not the browser's",
    "device": "server-side: the server's devices (styler ui --device)",
    "precision": "server-side: the server runs each model in the precision auto picks",
    "vgg": "server-side: one optimizer engine serves every browser",
    "max_pixels": "server-side: the server's own limit (UI_MAX_PIXELS) refuses large uploads",
    "keep_location": "the UI's downloads keep the photo's date, camera and credits, never its "
    "location (the CLI's and the API's defaults)",
    "strip_metadata": "the UI's downloads keep the photo's date, camera and credits (the CLI's "
    "and the API's defaults)",
    "color_space": "the UI's downloads are sRGB, as browsers show them",
    "tiff_bits": "the UI's downloads are PNG, never TIFF",
    "temporal": "video only: the Video tab offers it (styler/ui/video_tab.py)",
}
OFFERED = tuple(name for name in controls.CONTROLS if name not in NOT_OFFERED)

StyleSlots = Sequence[tuple[str | Path | None, float]]  # (style image, weight) per slot


class Controls:
    """The Stylize tab's control values by name, as the widgets hand them over (None: not
    shown). Ranges, defaults and meaning come from styler.controls; this only picks the ones
    that act in a mode and words their errors for the browser."""

    def __init__(self, preview_every: int | None = 0, **values: Any) -> None:
        unknown = set(values) - set(controls.CONTROLS)
        if unknown:
            raise TypeError(f"not controls: {', '.join(sorted(unknown))}")
        self.values = values
        self.preview_every = int(preview_every or 0)

    def for_mode(self, mode: str) -> dict[str, Any]:
        """The checked values of the controls that act in `mode` (a key of ENGINE_MODES)."""
        engine_mode = ENGINE_MODES[mode]
        given = {name: value for name, value in self.values.items()
                 if value is not None and controls.CONTROLS[name].acts_in(engine_mode)}  # fmt: skip
        try:
            return controls.checked(engine_mode, given)
        except InvalidOption as exc:
            raise UserError(option_message(exc)) from exc

    def size(self, mode: str) -> int:
        """The size control in `mode` as the run's recipe will hold it: the value given, else
        the registry's default for the mode."""
        default = controls.CONTROLS["size"].default_for(ENGINE_MODES[mode])
        return self.for_mode(mode).get("size", default)

    def quality_options(self) -> OptimizeOptions:
        from styler.optimize import OptimizeOptions

        values = self.for_mode(QUALITY)
        steps = values.get("steps", controls.CONTROLS["steps"].default)
        every = self.preview_every or max(1, steps // 40)
        return OptimizeOptions.from_values({**values, "preview_every": every})

    def refined(self, quality: Controls, size: int) -> Controls:
        """Refine's controls: these (an Instant run's) for the controls both modes share, at
        the instant result's `size` (the modes' size defaults differ); `quality`'s (the
        widgets now) for Quality's own, which Instant mode does not show, but the start:
        the instant result."""
        instant = controls.INSTANT
        shared = {n: v for n, v in self.values.items() if controls.CONTROLS[n].acts_in(instant)}
        own = {n: v for n, v in quality.values.items() if not controls.CONTROLS[n].acts_in(instant)}
        return Controls(quality.preview_every, **{**own, **shared, "size": size, "init": "instant"})


@dataclass
class Regions:
    """Painted region layers (RGBA arrays from the image editor) and the style of each."""

    layers: list[np.ndarray] = field(default_factory=list)
    styles: dict[str, str] = field(default_factory=dict)  # region name -> style choice

    def active(self) -> dict[str, np.ndarray]:
        """Masks of the painted regions whose style differs from the rest of the image."""
        masks = effects.region_masks(self.layers)
        return {n: m for n, m in masks.items() if self.styles.get(n, MAIN_STYLE) != MAIN_STYLE}

    def unused(self) -> tuple[str, ...]:
        """A warning for each region that came to nothing: painted but left at the main
        style, or given a style but not painted. The run goes on; the status says so."""
        painted = effects.region_masks(self.layers)
        notes = []
        for name in effects.REGIONS:
            styled = (self.styles.get(name) or MAIN_STYLE) != MAIN_STYLE
            if name in painted and not styled:
                notes.append(f"⚠ The {name} region is painted but its style is {MAIN_STYLE}, so "
                             "it changed nothing: pick its style under the painter.")  # fmt: skip
            elif styled and name not in painted:
                notes.append(f"⚠ The {name} region has a style but nothing is painted, so "
                             "it changed nothing: drag on the photo under Regions to paint "
                             "it.")  # fmt: skip
        return tuple(notes)


def load_photo(
    services: Services, path: str | Path | None, what: str = "photo", *, at_least: int = 0
) -> LoadedImage:
    """The upload decoded; at_least: the output's long side of a one-pass run, so that a
    large JPEG decodes as the CLI's run decodes it (load_image)."""
    if not path:
        raise UserError(NO_PHOTO if what == "photo" else f"Add a {what} first.")
    try:
        return load_image(path, max_pixels=services.config.max_upload_pixels, at_least=at_least)
    except ImageError as exc:
        raise UserError(f"That {what} cannot be used: {user_message(exc)}",
                        image_reason(exc)) from exc  # fmt: skip


def check_photo(services: Services, path: str | Path | None, what: str = "photo") -> str | None:
    """At upload: refuse an image over the pixel limit from its header, before anything
    (the region painter included) decodes it, then one that does not decode (truncated,
    not an image). Returns the path when it is usable; for a photo browsers cannot show
    (HEIC, RAW, TIFF), the PNG copy the page shows and stylizes instead (styler.display).
    `what` names the slot in the refusal ('style image 2'): every slot says it alike."""
    if not path:
        return None
    loaded = load_photo(services, path, what)  # load_image reads the header, then decodes
    if not needs_display_copy(path):
        return str(path)
    return str(display_copy(loaded, services.workspace.new_dir("work")))


def photo_note(path: str | Path) -> str:
    """What the page says beside a usable photo: for an animation, that this tab paints its
    first frame and where it comes back animated; else nothing."""
    if not is_animation(path):
        return ""
    return (f"ℹ {Path(path).name} is animated: this tab paints its first frame. The Video "
            "and Batch tabs give it back animated, every frame painted.")  # fmt: skip


def style_list(
    services: Services, styles: StyleSlots
) -> tuple[list[LoadedImage], list[float], list[str]]:
    """The filled style slots with a weight above 0: images, weights and file names."""
    loaded, weights, names = [], [], []
    for number, (path, weight) in enumerate(styles, start=1):
        if not path or weight is None or float(weight) <= 0:
            continue
        loaded.append(load_photo(services, path, what=f"style image {number}"))
        weights.append(float(weight))
        names.append(Path(path).name)
    if not loaded:
        raise UserError(
            "Add a style image (or pick one of the samples) and give it a weight above 0."
        )
    return loaded, weights, names


def fast_regions(
    services: Services, regions: Regions | None
) -> list[tuple[np.ndarray, str | None]]:
    """Painted regions as fast mode takes them: (mask, shipped style or None for the photo)."""
    pairs: list[tuple[np.ndarray, str | None]] = []
    for name, mask in (regions.active() if regions else {}).items():
        choice = regions.styles[name] if regions else MAIN_STYLE
        if choice in STYLE_IMAGES:
            raise UserError(f"The {name} region has {choice}: style images are for "
                            "Instant and Quality modes. In Fast mode, give it a fast "
                            "style.")  # fmt: skip
        if choice != NO_STYLE and choice not in services.style_names():
            raise UserError(f"The {name} region's style {choice!r} is not installed.")
        pairs.append((mask, None if choice == NO_STYLE else choice))
    return pairs


def image_regions(
    services: Services, regions: Regions | None, styles: StyleSlots, mode: str = QUALITY
) -> list[tuple[np.ndarray, LoadedImage | None]]:
    """Painted regions as the optimizer and the instant pass take them: (mask, style image or
    None for the photo); `mode` (INSTANT or QUALITY) words the errors."""
    if regions is None:
        return []
    pairs: list[tuple[np.ndarray, LoadedImage | None]] = []
    for name, mask in regions.active().items():
        choice = regions.styles[name]
        if choice == NO_STYLE:
            pairs.append((mask, None))
        elif choice in STYLE_IMAGES:
            path = styles[STYLE_IMAGES.index(choice)][0]
            if not path:
                raise UserError(f"The {name} region has {choice}, but that slot is empty.")
            pairs.append((mask, load_photo(services, path, what=choice.lower())))
        else:
            raise UserError(f"The {name} region has the fast style {choice!r}. In {mode} "
                            "mode, give regions a style image (1-3) or no style.")  # fmt: skip
    return pairs
