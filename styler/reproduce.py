"""Running a result's settings again: the recipe they describe, its images found
(styler.recipe: where they were made, else by name beside the result or where the caller
says), and the engine that recipe builds. Same device and seed give the same pixels;
another device may differ slightly, and `device_note` says so.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Sequence
from pathlib import Path

from styler.controls import CONTROLS
from styler.engine import build_engine
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
    note = device_note(settings, engine.device)
    if note:
        warnings.warn(note, stacklevel=2)
    return outcome
