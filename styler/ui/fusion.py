"""What the Fusion tab's button does: a masked multi-band blend, exposure fusion or focus
stacking of the uploaded photos, saved like a stylized result. Nothing here imports gradio."""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image

from styler import fusion
from styler.errors import StylerError
from styler.result import StylizeResult
from styler.ui import effects
from styler.ui.inputs import load_photo
from styler.ui.messages import UserError, user_message
from styler.ui.results import save_entry
from styler.ui.services import Services
from styler.ui.state import Entry, Session

FUSION_TOOLS = ("Blend two images through a mask", "Exposure fusion", "Focus stacking")
FUSION_FEATHER = 8.0  # px: the fusion blend's mask softness (a fusion tool's, not a control)


def run_fusion(
    services: Services,
    session: Session,
    tool: str,
    images: Sequence[str | Path] | None,
    mask: str | Path | None = None,
    feather: float = FUSION_FEATHER,
    align: bool = True,
) -> Entry:
    """The photo-fusion tools: a masked multi-band blend, exposure fusion, focus stacking."""
    paths = [Path(p) for p in images or []]
    if tool not in FUSION_TOOLS:
        raise UserError(f"Unknown fusion tool {tool!r}.")
    need = 2
    if len(paths) < need:
        raise UserError(f"{tool} needs at least {need} images; upload them together.")
    loaded = [load_photo(services, p, what="image") for p in paths]
    arrays = [np.asarray(item.rgb) for item in loaded]
    names = [p.name for p in paths]
    start = time.perf_counter()
    try:
        if tool == FUSION_TOOLS[0]:
            if len(arrays) != 2:
                raise UserError(
                    "Blending takes exactly two images: the first where the mask is white."
                )
            if not mask:
                raise UserError("Add a mask image: white keeps the first image, black the second.")
            grey = load_photo(services, mask, what="mask").rgb.convert("L")
            height, width = arrays[0].shape[:2]
            second = np.asarray(effects.fit(loaded[1].rgb, (width, height)))
            weights = (
                np.asarray(grey.resize((width, height), Image.Resampling.BILINEAR), np.float32)
                / 255
            )
            out = fusion.blend_two(arrays[0], second, weights, feather=float(feather))
        elif tool == FUSION_TOOLS[1]:
            out = fusion.exposure_fusion(arrays, align_first=bool(align), names=names)
        else:
            out = fusion.focus_stack(arrays, align_first=bool(align), names=names)
    except UserError:
        raise
    except StylerError as exc:
        raise UserError(user_message(exc)) from exc
    settings = {"mode": "fusion", "tool": tool, "inputs": names}
    if tool == FUSION_TOOLS[0]:
        settings["feather"] = float(feather)
    else:
        settings["align"] = bool(align)
    label = dict(zip(FUSION_TOOLS, ("blend", "exposure", "focus"), strict=True))[tool]
    caption = f"{tool} · {len(paths)} images"
    result = StylizeResult(image=Image.fromarray(out), alpha=None, settings=settings, losses={},
                           completed=True, elapsed=time.perf_counter() - start)  # fmt: skip
    return save_entry(services, session, result, paths[0], label, caption)
