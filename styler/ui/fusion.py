"""What the Fusion tab's button does: a masked multi-band blend, exposure fusion or focus
stacking of the uploaded photos, saved like a stylized result. The tools' options are
styler.controls.FUSION_CONTROLS, which `styler fuse` takes too. Nothing here imports gradio."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from styler import fusion
from styler.controls import FUSE_BLEND, FUSE_EXPOSURE, FUSE_FOCUS, fusion_controls
from styler.errors import InvalidOption, StylerError
from styler.fusion.masked_blend import MaskedBlend, blend_through_mask
from styler.imageio import LoadedImage
from styler.result import StylizeResult
from styler.ui.inputs import load_photo
from styler.ui.messages import UserError, option_message, user_message
from styler.ui.results import save_entry
from styler.ui.services import Services
from styler.ui.state import Entry, Session

# The tools as the Fusion tab names them, and as styler.controls (and `styler fuse`) does.
TOOLS = {
    "Blend two images through a mask": FUSE_BLEND,
    "Exposure fusion": FUSE_EXPOSURE,
    "Focus stacking": FUSE_FOCUS,
}
FUSION_TOOLS = tuple(TOOLS)


def tool_values(tool: str, values: dict[str, Any]) -> dict[str, Any]:
    """The tool's controls: the given values checked (None: not given), the rest at their
    defaults for the tool; values of other tools' controls are ignored."""
    name = TOOLS[tool]
    checked = {}
    for control in fusion_controls(name):
        given = values.get(control.name)
        try:
            checked[control.name] = (control.default_for(name) if given is None
                                     else control.check(given, name))  # fmt: skip
        except InvalidOption as exc:
            raise UserError(option_message(exc)) from exc
    return checked


def run_fusion(
    services: Services,
    session: Session,
    tool: str,
    images: Sequence[str | Path] | None,
    mask: str | Path | None = None,
    **values: Any,
) -> Entry:
    """The photo-fusion tools: a masked multi-band blend, exposure fusion, focus stacking;
    `values` are the tool's controls (FUSION_CONTROLS) by name."""
    paths = [Path(p) for p in images or []]
    if tool not in TOOLS:
        raise UserError(f"Unknown fusion tool {tool!r}.")
    options = tool_values(tool, values)
    need = 2
    if len(paths) < need:
        raise UserError(f"{tool} needs at least {need} images; upload them together.")
    loaded = [load_photo(services, p, what="image") for p in paths]
    arrays = [np.asarray(item.rgb) for item in loaded]
    names = [p.name for p in paths]
    start = time.perf_counter()
    alpha, notes = None, []
    try:
        if TOOLS[tool] == FUSE_BLEND:
            blended = _blend(services, loaded, names, mask, options)
            out, alpha, notes = blended.image, blended.alpha, blended.notes
        else:
            fuse = fusion.exposure_fusion if TOOLS[tool] == FUSE_EXPOSURE else fusion.focus_stack
            out = fuse(arrays, align_first=options["align"], method=options["align_method"],
                       motion=options["motion"], names=names)  # fmt: skip
    except UserError:
        raise
    except StylerError as exc:
        raise UserError(user_message(exc)) from exc
    settings = {"mode": "fusion", "tool": tool, "inputs": names, **options}
    caption = f"{tool} · {len(paths)} images"
    result = StylizeResult(image=Image.fromarray(out), alpha=alpha, settings=settings, losses={},
                           completed=True, elapsed=time.perf_counter() - start)  # fmt: skip
    return save_entry(services, session, result, paths[0], TOOLS[tool], caption,
                      notes=tuple(f"Note: {note}." for note in notes))


def _blend(services: Services, loaded: list[LoadedImage], names: list[str],
           mask: str | Path | None, options: dict[str, Any]) -> MaskedBlend:  # fmt: skip
    """The first image where the mask is white, the second where it is black, as `styler
    fuse blend` makes it (styler.fusion.masked_blend)."""
    if len(loaded) != 2:
        raise UserError("Blending takes exactly two images: the first where the mask is white.")
    if not mask:
        raise UserError("Add a mask image: white keeps the first image, black the second.")
    return blend_through_mask(*loaded, load_photo(services, mask, what="mask"),
                              (names[0], names[1], Path(mask).name), feather=options["feather"],
                              levels=options["levels"])  # fmt: skip
