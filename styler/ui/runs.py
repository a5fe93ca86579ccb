"""What Stylize, Continue and Refine do, one function per mode: photo, styles, controls and
regions in; the engine's result saved, recorded in the session's history, and returned.
Fast and Instant runs are a styler.recipe.Recipe and its engine (styler.engine); Quality
runs drive the engine's shared optimizer with what no recipe carries: live previews, and
a stopped run's image and scale to resume from.

Problems the user can fix raise `UserError` with one readable line. Importable and testable
without a browser: nothing here imports gradio.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from styler.controls import AUTO_STEPS, output_side
from styler.errors import OptionsError
from styler.image_sizes import scaled_size
from styler.progress import CancelToken, ProgressCallback
from styler.recipe import Recipe
from styler.result import StylizeResult
from styler.ui.inputs import (
    ENGINE_MODES,
    FAST,
    INSTANT,
    QUALITY,
    Controls,
    LoadedImage,
    Regions,
    StyleSlots,
    fast_regions,
    image_regions,
    load_photo,
    style_list,
)
from styler.ui.messages import NothingKept, UserError, user_message
from styler.ui.results import describe_entry, png_size, refinable, save_entry, size_notes
from styler.ui.services import Services
from styler.ui.state import STYLIZE_TAB, Entry, Notice, Session
from styler.ui.streaming import Update, streamed
from styler.ui.timing import duration, run_units

REFINE = "Refine"  # its runs are timed apart: one scale, from the instant result
# A stopped run is kept from this share of its steps on: one stopped at once is the photo,
# small and blurred at the first scale, which is no result (Continue could not start from
# anything better than a new run).
KEEP_FROM = 0.05


@dataclass(frozen=True)
class RunRequest:
    """What an Instant or Quality run was asked for, kept with its result: Continue finishes
    a stopped Quality run from it, Refine takes an Instant result on in Quality mode."""

    content: str | Path
    styles: tuple[tuple[str | Path | None, float], ...]
    controls: Controls
    regions: Regions | None


def run_fast(
    services: Services,
    session: Session,
    content: str | Path | None,
    style: str | None,
    controls: Controls,
    regions: Regions | None = None,
) -> Entry:
    """Fast mode: the recipe's engine, built as the CLI and the API build it (and kept for
    the next job with the same recipe)."""
    if not services.styles:
        raise UserError(
            "No fast styles are installed yet. Switch to Instant or Quality mode and pick a "
            "style image."
        )
    if not style or style not in services.style_names():
        raise UserError("Pick a style from the grid first.")
    began = time.perf_counter()
    loaded = load_photo(services, content, at_least=controls.size(FAST))
    recipe = make_recipe(FAST, [style], controls, regions=fast_regions(services, regions))
    # No device slot: a Fast job is one pass, and must not wait behind a
    # Quality run holding the slot; the network's own lock keeps its passes apart.
    result = services.engines.fast(recipe).run(loaded)
    caption = f"{services.style_title(style)} · Fast"
    notes = (*loaded.notes, *_size_notes(loaded.rgb.size, recipe), *_region_notes(regions))
    entry = save_entry(services, session, result, content, style, caption, notes=notes)
    _record(services, FAST, run_units(False, result.image.size), began)
    return entry


def _record(services: Services, kind: str, units: float, began: float) -> None:
    """The run's time for the next estimates: from reading the photo to its PNG and
    thumbnail written, the whole wait (a large PNG can take longer than a Fast pass)."""
    services.timings.record(kind, units, time.perf_counter() - began)


def make_recipe(mode: str, styles: list[Any], controls: Controls, **parts: Any) -> Recipe:
    """The Recipe of a run in UI `mode` (Fast, Instant or Quality): the styles, `parts`
    (blend, regions) and the controls that act in the mode; a refusal in one line."""
    try:
        return Recipe.create(ENGINE_MODES[mode], styles, **parts, **controls.for_mode(mode))
    except OptionsError as exc:
        raise UserError(user_message(exc)) from exc


def _size_notes(photo_size: tuple[int, int], recipe: Recipe) -> tuple[str, ...]:
    return size_notes(photo_size, recipe.controls["size"], recipe.controls["upscale"])


def _region_notes(regions: Regions | None) -> tuple[str, ...]:
    return regions.unused() if regions else ()


def run_quality(
    services: Services,
    session: Session,
    session_key: str,
    content: str | Path | None,
    styles: StyleSlots,
    controls: Controls,
    regions: Regions | None = None,
    *,
    resume: Entry | None = None,
    refined: bool = False,
) -> Iterator[Update]:
    """Quality mode: the optimizer, reporting previews as it goes; Stop keeps the best so far
    at the scale it reached. `resume` (a stopped result) continues it from that image and
    scale with the steps left; `refined`: the run is Refine's (its caption says so).

    Painted regions get one of the style images, or keep the photo (guided Gram losses).
    A generator: each Update carries the progress and, every few steps, the image as it
    forms; the last one carries the saved result. Closing the generator (the browser went
    away) stops the optimisation as Stop does, and what Stop would keep joins the history,
    the next page of which says so (_left_notice).
    """
    began = time.perf_counter()
    loaded = load_photo(services, content)
    style_images, weights, names = style_list(services, styles)
    region_pairs = image_regions(services, regions, styles)
    recipe = make_recipe(QUALITY, style_images, controls, blend=weights, regions=region_pairs)
    begin, steps = None, 0  # a stopped run goes on from its image with the steps it had left
    if resume is not None:
        begin, steps = _rgb(resume.path), max(1, resume.steps_total - resume.steps_done)
    job = RunRequest(content, tuple(styles), controls, regions)  # type: ignore[arg-type]
    outcome: dict[str, Any] = {}

    def work(progress: ProgressCallback, cancel: CancelToken) -> None:
        with services.engines.slot() as slot:
            engine = services.engines.build(recipe, slot,
                                            previews=controls.quality_options().preview_every)
            outcome["result"] = engine.run(loaded, progress=progress, cancel=cancel,
                                           start=begin, steps=steps)  # fmt: skip
            if resume is not None:
                outcome["result"].settings = _as_one_run(outcome["result"].settings, recipe,
                                                         resume.steps_done)  # fmt: skip

    def keep(into: Session) -> Entry:
        return _kept(services, into, outcome["result"], job, loaded, began,
                     label=style_label(names), refined=refined)  # fmt: skip

    def left() -> None:
        services.histories.tell(session.id, STYLIZE_TAB,
                                _left_notice(services, session.id, outcome["result"], keep))

    yield from streamed(services, session_key, work, left=left,
                        in_flight=services.histories.running(session.id, STYLIZE_TAB,
                                                             session_key))  # fmt: skip
    entry = keep(session)
    yield Update(text=entry.caption, entry=entry)


def _as_one_run(settings: dict[str, Any], recipe: Any, stopped_at: int) -> dict[str, Any]:
    """A continued run's settings as the run it finishes. Its own say where the
    continuation started ('init instant' at the last scale) and the steps that were left:
    they rebuild another picture. The stopped run's start and steps, painted in one go,
    rebuild this one (as far as L-BFGS's fresh start at the stop lets them); the engine
    notes say where it was continued."""
    controls = {**settings["controls"],
                **{name: recipe.controls[name] for name in ("init", "steps")}}  # fmt: skip
    engine = {**settings.get("engine", {}), "continued_at_step": stopped_at}
    return {**settings, "controls": controls, "engine": engine}


def _kept(
    services: Services, session: Session, result: StylizeResult, job: RunRequest,
    loaded: LoadedImage, began: float, *, label: str, refined: bool,
) -> Entry:  # fmt: skip
    """What a Quality run keeps: its result saved into `session`'s history, even stopped,
    unless it stopped before KEEP_FROM of its steps (NothingKept)."""
    if not result.completed and result.steps_done < max(1, round(KEEP_FROM * result.steps_total)):
        raise NothingKept(f"Stopped after {result.steps_done} of {result.steps_total} steps, "
                          "too early to be worth keeping: nothing was added to the history.")
    kind = "Quality, refined" if refined else "Quality"
    caption = f"{label} · {kind}" + ("" if result.completed else " (stopped early)")
    options = job.controls.quality_options()
    side = output_side(options.size, options.upscale, loaded.rgb.size)
    full = scaled_size(loaded.rgb.size, side)
    notes = (*loaded.notes, *size_notes(loaded.rgb.size, options.size, options.upscale),
             *_region_notes(job.regions))  # fmt: skip
    entry = save_entry(services, session, result, job.content, label, caption, job=job,
                       full=full, notes=notes)  # fmt: skip
    if result.completed:
        units = run_units(True, result.image.size, result.steps_total)
        _record(services, REFINE if refined else QUALITY, units, began)
    return entry


def _left_notice(
    services: Services, token: str, result: StylizeResult, keep: Callable[[Session], Entry]
) -> Notice:
    """A Quality run whose page was left, counted as stopped there: what Stop would keep
    joins the history kept under `token` (beside what other pages added to it), and the
    notice says where it stopped and what became of it."""
    where = f"at step {result.steps_done} of {result.steps_total} when the page was left"
    try:
        entry = keep(services.histories.kept(token))
    except NothingKept:
        return Notice(f"Your last run was stopped {where}, too early to keep: nothing was kept.")
    if entry.completed:
        return ended_notice(entry)
    return Notice(f"Your last run was stopped {where}: kept in History; Continue goes on from "
                  "there.", entry.path)  # fmt: skip


def ended_notice(entry: Entry) -> Notice:
    """What the next page of a history is told of a run that ended after its page was left:
    its result is in the history, shown with this line."""
    return Notice(f"Your last run ended as the page was left: kept in History. "
                  f"{describe_entry(entry)}", entry.path)  # fmt: skip


def one_pass(services: Services, session: Session, page: str, run: Callable[[], Entry]) -> Entry:
    """`run`, a Fast or Instant run of `page`, in flight in its history: leaving the page
    does not stop it (it takes a second or so), and a page of the history loaded meanwhile
    (a reload) waits for it, then shows its result, which it would otherwise first see in
    the history after another reload."""
    with services.histories.running(session.id, STYLIZE_TAB, page) as flight:
        entry = run()
        flight.notice = ended_notice(entry)
    return entry


def run_instant(
    services: Services,
    session: Session,
    session_key: str,
    content: str | Path | None,
    styles: StyleSlots,
    controls: Controls,
    regions: Regions | None = None,
) -> Entry:
    """Instant mode: the style images of Quality mode (blend weights, regions alike) in one
    feed-forward pass. Kept with its RunRequest, so Refine can take it on."""
    began = time.perf_counter()
    loaded = load_photo(services, content, at_least=controls.size(INSTANT))
    style_images, weights, names = style_list(services, styles)
    pairs = image_regions(services, regions, styles, INSTANT)
    recipe = make_recipe(INSTANT, style_images, controls, blend=weights, regions=pairs)
    engine = services.engines.build(recipe)
    # No device slot, as in Fast mode: a pass must not wait behind a Quality run.
    with services.cancellable(session_key) as token:
        result = engine.run(loaded, cancel=token)
    if not result.completed:
        raise NothingKept("Stopped: the instant result was not made.")
    label = style_label(names)
    job = RunRequest(content, tuple(styles), controls, regions)  # type: ignore[arg-type]
    notes = (*loaded.notes, *_size_notes(loaded.rgb.size, recipe), *_region_notes(regions))
    entry = save_entry(services, session, result, content, label, f"{label} · Instant",
                       job=job, notes=notes)  # fmt: skip
    _record(services, INSTANT, run_units(False, result.image.size), began)
    return entry


def run_refine(
    services: Services, session: Session, session_key: str, entry: Entry | None,
    quality: Controls,
) -> Iterator[Update]:  # fmt: skip
    """Refine: a Quality run from an Instant result, with its photo, style images, regions
    and shared controls, and Quality's own controls from `quality` (the widgets now).

    The engine paints the instant start itself ('init instant'), as `--settings-from` will:
    the result on screen may have a strength or colour preservation that Quality applies
    only at its end, so starting from it would give a picture its settings do not rebuild."""
    if entry is None or not refinable(entry):
        raise UserError("There is no Instant result on screen to refine.")
    job = entry.job
    refined = job.controls.refined(quality, size=max(png_size(entry.path)))
    yield from run_quality(services, session, session_key, job.content, job.styles, refined,
                           job.regions, refined=True)  # fmt: skip


def style_label(names: list[str]) -> str:
    """'mosaic+waves': the style images' names, for captions and file names."""
    return "+".join(Path(n).stem for n in names)


def _rgb(path: Path) -> Image.Image:
    with Image.open(path) as im:
        return im.convert("RGB")


def expected(services: Services, mode: str, content: str | Path | None, size: float | None,
             upscale: bool | None, steps: float | None, init: str | None) -> str:  # fmt: skip
    """What the status line adds when a run is asked for: how long it should take, from
    this server's last runs of its mode (its time per megapixel, per step in Quality mode),
    or that none has been measured yet."""
    if not content or mode not in ENGINE_MODES:
        return ""
    try:
        photo = png_size(Path(content))
    except (OSError, ValueError):
        return ""
    output = scaled_size(photo, output_side(int(size or 0), bool(upscale), photo))
    count = int(steps or 0) or AUTO_STEPS.get(init or "content", AUTO_STEPS["content"])
    return _expected(services, mode, run_units(mode == QUALITY, output, count))


def expected_follow_up(services: Services, entry: Entry | None, steps: float | None) -> str:
    """expected() for Refine (`steps`: the steps widget's, 0 automatic) or Continue (None:
    the steps the stopped run had left) of the result on screen."""
    if entry is None:
        return ""
    if steps is None:
        count = max(1, entry.steps_total - entry.steps_done)
        return _expected(services, QUALITY, run_units(True, entry.full_size or (0, 0), count))
    count = int(steps or 0) or AUTO_STEPS["instant"]
    return _expected(services, REFINE, run_units(True, png_size(entry.path), count))


def _expected(services: Services, kind: str, units: float) -> str:
    seconds = services.timings.estimate(kind, units)
    if seconds is None:
        return f" (The first {kind} run on this server: no time measured yet to go by.)"
    return f" Expected: {duration(seconds)}, from the last {kind} runs on this server."
