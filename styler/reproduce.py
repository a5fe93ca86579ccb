"""Running a result's settings again: find the images they name, build the engine of their mode.

Settings name images by file name (styler.settings); a reproduction looks for each one in
the folders it is given (the result's own folder first), or takes what the caller passes.
Same device and seed give the same pixels; another device may differ slightly, and
`device_note` says so.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

from styler.api import Stylizer
from styler.controls import CONTROLS, FAST, INSTANT, OPTIMIZE
from styler.errors import StylerError
from styler.fast.inference import FastOptions, FastStylizer
from styler.instant.stylizer import InstantOptions, InstantStylizer
from styler.optimize import OptimizeOptions
from styler.result import ImageInput, StylizeResult
from styler.settings import Settings


class MissingImage(StylerError):
    """An image the settings name cannot be found; the caller has to pass it."""

    def __init__(self, name: str, what: str, searched: Sequence[Path]) -> None:
        self.name, self.what, self.searched = name, what, list(searched)
        where = ", ".join(str(folder) for folder in self.searched) or "nowhere"
        super().__init__(f"{what} {name!r} named in the settings is not in {where}")


Options = OptimizeOptions | FastOptions | InstantOptions
_OPTIONS: dict[str, type[Options]] = {
    OPTIMIZE: OptimizeOptions, FAST: FastOptions, INSTANT: InstantOptions,
}  # fmt: skip


def options_from(settings: Settings) -> Options:
    """The engine options a result's settings describe."""
    return _OPTIONS[settings.mode].from_values(settings.controls)


def find_named(name: str, search: Sequence[str | os.PathLike], what: str) -> Path:
    """The first `search` folder's file called `name`; MissingImage when none has it."""
    folders = [Path(folder) for folder in search]
    if name.startswith("<"):  # an array or image the caller passed in memory: never on disk
        raise MissingImage(name, what, [])
    for folder in folders:
        candidate = folder / name
        if candidate.is_file():
            return candidate
    raise MissingImage(name, what, folders)


def fast_style(name: str, search: Sequence[str | os.PathLike]) -> str:
    """A fast style as settings name it: a shipped style's name, or a network file to find."""
    return str(find_named(name, search, "network")) if name.endswith(".safetensors") else name


def recorded_styles(settings: Settings, search: Sequence[str | os.PathLike]) -> list[str]:
    """The styles the settings name, found: style image files in optimizer and instant
    mode, shipped names or network files in fast mode. MissingImage names the first one
    not found."""
    return [_style(name, settings.mode, search) for name in settings.styles]


def recorded_regions(
    settings: Settings, search: Sequence[str | os.PathLike]
) -> list[tuple[str, str | None]]:
    """The settings' regions, found: (mask file, style as recorded_styles finds it, or None)."""
    return [(str(find_named(region.mask, search, "region mask")),
             None if region.style is None else _style(region.style, settings.mode, search))
            for region in settings.regions]  # fmt: skip


def _style(name: str, mode: str, search: Sequence[str | os.PathLike]) -> str:
    if mode == FAST:
        return fast_style(name, search)
    return str(find_named(name, search, "style image"))


def device_note(settings: Settings, device: object) -> str | None:
    """A sentence when the result was made on another kind of device, else None."""
    made_on = str(settings.engine.get("device", ""))
    here = str(device)
    if not made_on or made_on.split(":")[0] == here.split(":")[0]:
        return None
    return (f"made on {made_on}, reproduced on {here}: pixels may differ slightly "
            "(floating-point order differs between devices)")  # fmt: skip


def stylize_like(
    content: ImageInput,
    result: Settings | str | os.PathLike,
    *,
    search: Sequence[str | os.PathLike] = (),
    device: str = CONTROLS["device"].default,
) -> StylizeResult:
    """Stylize `content` as `result` was made: its settings (or a file that embeds them),
    with the images they name looked up in `search` (default: the result's folder, then
    the working folder). Warns when the result was made on another kind of device."""
    if isinstance(result, Settings):
        settings, folders = result, list(search) or [Path.cwd()]
    else:
        settings = Settings.from_file(result)
        folders = list(search) or [Path(result).parent, Path.cwd()]
    options = options_from(settings)
    styles, regions = recorded_styles(settings, folders), recorded_regions(settings, folders)
    controls = settings.controls
    if isinstance(options, FastOptions):
        stylizer = FastStylizer(styles, device=device, tile=controls["tile"],
                                blend=settings.blend,
                                blend_method=controls["blend_method"])  # fmt: skip
        outcome = stylizer.run(content, options, regions=regions)
        device_used = stylizer.device
    elif isinstance(options, InstantOptions):
        instant = InstantStylizer(styles, device=device, tile=controls["tile"],
                                  blend=settings.blend)  # fmt: skip
        outcome = instant.run(content, options, regions=regions)
        device_used = instant.device
    else:
        engine = Stylizer(device=device, vgg=settings.engine.get("vgg", CONTROLS["vgg"].default))
        outcome = engine.run(content, styles, options, blend=settings.blend, regions=regions)
        device_used = engine.device
    note = device_note(settings, device_used)
    if note:
        warnings.warn(note, stacklevel=2)
    return outcome
