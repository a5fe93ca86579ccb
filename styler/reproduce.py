"""Running a result's settings again: the recipe they describe, its images found
(styler.recipe: where they were made, else by name beside the result or where the caller
says), and the engine that recipe builds. Same device and seed give the same pixels;
another device may differ slightly, and `device_note` says so; a fast style retrained since
paints differently, and `network_notes` says so.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

from styler.controls import CONTROLS, FAST
from styler.engine import build_engine
from styler.errors import StylerError
from styler.fast.manifest import find_style
from styler.recipe import Recipe
from styler.result import ImageInput, StylizeResult
from styler.settings import Settings


def device_note(settings: Settings, device: object) -> str | None:
    """A sentence when the result was made on another kind of device, else None."""
    made_on = str(settings.engine.get("device", ""))
    here = str(device)
    if not made_on or made_on.split(":")[0] == here.split(":")[0]:
        return None
    return (f"made on {made_on}, reproduced on {here}: pixels may differ slightly "
            "(floating-point order differs between devices)")  # fmt: skip


def network_notes(settings: Settings) -> list[str]:
    """A sentence for each fast network the result names whose installed network of that
    name is not the one that painted it (a style retrained or replaced since): the rerun
    paints with it all the same, and says so."""
    if settings.mode != FAST:
        return []
    notes = []
    for name in settings.styles:
        record = settings.files.get(name, {})
        if "path" in record or "sha256" not in record:  # a file: found and checked as images are
            continue
        try:
            installed = find_style(name).sha256
        except StylerError:
            continue  # not installed: the recipe says so in its own line
        if installed != record["sha256"]:
            notes.append(f"the fast style {name!r} installed now is not the network that "
                         "painted this result (retrained or replaced since): the picture will "
                         "differ")  # fmt: skip
    return notes


def stylize_like(
    content: ImageInput,
    result: Settings | str | os.PathLike,
    *,
    search: Sequence[str | os.PathLike] = (),
    device: str = CONTROLS["device"].default,
) -> StylizeResult:
    """Stylize `content` as `result` was made: its settings (or a file that embeds them),
    with the images they name found where they were when it was made, else in `search`
    (default: the result's folder, then the working folder). Warns when the result was
    made on another kind of device."""
    if isinstance(result, Settings):
        settings, folders = result, list(search) or [Path.cwd()]
    else:
        settings = Settings.from_file(result)
        folders = list(search) or [Path(result).parent, Path.cwd()]
    engine = build_engine(Recipe.from_settings(settings, folders), device=device)
    outcome = engine.run(content)
    for note in [device_note(settings, engine.device), *network_notes(settings)]:
        if note:
            warnings.warn(note, stacklevel=2)
    return outcome
