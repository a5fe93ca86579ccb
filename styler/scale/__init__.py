"""Scale-out: the batch of `styler stylize` on a Ray cluster (docs/ray.md).

    from styler.scale import stylize_on_ray
    summary = stylize_on_ray(["photos/"], "styled/", fast=["udnie"], size=1024,
                             address="auto", recursive=True, skip_existing=True)
    summary.stylized, summary.failures      # as styler.batch.stylize_files reports

Ray is an optional extra (pip install 'styler[ray]'); nothing here imports it until a run.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Sequence
from typing import Any

from styler.batch import Summary
from styler.controls import CONTROLS
from styler.errors import OptionsError


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
    from styler.cli.stylize_cmd import _job
    from styler.scale.ray_batch import RayOptions, run_planned
    from styler.scale.storage import plan_any

    unknown = sorted(set(controls) - set(CONTROLS))
    if unknown:
        raise OptionsError(f"unknown controls: {', '.join(unknown)}; see styler.controls")
    args = argparse.Namespace(
        style=_listed(style), fast=_listed(fast), instant=instant, settings_from=None,
        init_image=init_image,
        style_blend=list(blend) if blend is not None and style is not None else None,
        fast_blend=list(blend) if blend is not None and fast is not None else None,
        region=[(os.fspath(mask), "none" if s is None else os.fspath(s)) for mask, s in regions],
        **{name: controls.get(name) for name in CONTROLS},
    )
    job = _job(args)
    given = _listed(inputs) or []
    out = os.fspath(output_dir)
    plan = plan_any(given, job.names, out, format, recursive=recursive)
    summary = Summary(failures=list(plan.failures))
    if plan.jobs:
        options = RayOptions(address, actors, quality, skip_existing, quiet=not progress,
                             echo=False)  # fmt: skip
        run_planned(job, plan.jobs, summary, max_pixels=args.max_pixels_value, options=options)
    return summary


def _listed(items: Any) -> list[str] | None:
    if items is None:
        return None
    if isinstance(items, str | os.PathLike):
        items = [items]
    return [os.fspath(item) for item in items]


__all__ = ["stylize_on_ray"]
