"""Scale-out: the batch of `styler stylize` on a Ray cluster (docs/ray.md).

    from styler.scale import stylize_on_ray
    summary = stylize_on_ray(["photos/"], "styled/", fast=["udnie"], size=1024,
                             address="auto", recursive=True, skip_existing=True)
    summary.stylized, summary.failures      # as styler.batch.stylize_files reports

Ray is an optional extra (pip install 'styler[ray]'); nothing here imports it until a run.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

from styler.batch import Summary
from styler.controls import FAST, INSTANT, OPTIMIZE
from styler.errors import OptionsError
from styler.recipe import Recipe


def stylize_on_ray(
    inputs: str | os.PathLike | Sequence[str | os.PathLike],
    output_dir: str | os.PathLike,
    *,
    style: Sequence[str | os.PathLike] | str | os.PathLike | None = None,
    fast: Sequence[str | os.PathLike] | str | os.PathLike | None = None,
    instant: bool = False,
    blend: Sequence[float] | None = None,
    regions: Sequence[tuple[str | os.PathLike, str | os.PathLike | None]] = (),
    init_image: str | os.PathLike | None = None,
    format: str = "png",
    quality: int = 95,
    recursive: bool = False,
    skip_existing: bool = False,
    address: str | None = None,
    actors: int | None = None,
    progress: bool = False,
    **controls: Any,
) -> Summary:
    """`styler stylize INPUT... -o OUTPUT_DIR --engine ray`, from Python.

    Optimizer mode with `style` (style image files), instant mode with `style` and
    `instant=True`, fast mode with `fast` (shipped style names or .safetensors files);
    `controls` are the mode's controls of styler.controls by name (size=512, steps=300,
    strength=0.8, ...). Inputs and output_dir are paths every
    node sees, or object-store URLs (s3://...). Joins the cluster at `address` (or
    RAY_ADDRESS, or starts Ray on this machine), or uses the session this process already
    opened with ray.init(). Returns the Summary: counts, and one line per failed file;
    outputs are named, written and skipped exactly as the command writes them. Raises
    StylerError (one line) when nothing could run: bad options, no inputs, no Ray.
    """
    from styler.scale.ray_batch import RayOptions, run_planned
    from styler.scale.storage import plan_any

    if fast is not None and (style is not None or instant):
        raise OptionsError("give style images (style=, with instant=True for instant mode) "
                           "or fast networks (fast=), not both")  # fmt: skip
    mode = FAST if fast is not None else INSTANT if instant else OPTIMIZE
    recipe = Recipe.create(
        mode, _listed(fast if fast is not None else style) or [], blend=blend,
        regions=[(os.fspath(mask), None if s is None else os.fspath(s)) for mask, s in regions],
        init_image=None if init_image is None else os.fspath(init_image), **controls,
    )  # fmt: skip
    plan = plan_any(_listed(inputs) or [], recipe.names, os.fspath(output_dir), format,
                    recursive=recursive)  # fmt: skip
    summary = Summary(failures=list(plan.failures))
    if plan.jobs:
        run_planned(recipe, plan.jobs, summary,
                    options=RayOptions(address, actors, quality, skip_existing,
                                       quiet=not progress))  # fmt: skip
    return summary


def _listed(items: Any) -> list[str] | None:
    if items is None:
        return None
    if isinstance(items, str | os.PathLike):
        items = [items]
    return [os.fspath(item) for item in items]


__all__ = ["stylize_on_ray"]
