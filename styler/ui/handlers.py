"""What the UI's buttons do, as plain functions: importable and testable without a browser.

Handlers take file paths and plain values (what Gradio components hand over), run the
engine, save full-resolution PNGs with their settings embedded, and record them in the
browser session's history. Problems the user can fix raise `UserError` with one readable
line; app.py shows it as a message box. Nothing here imports gradio.
"""

from __future__ import annotations

import html
import logging
import queue
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from styler import controls, fusion
from styler.batch import printable
from styler.controls import output_side as controls_output_side
from styler.errors import InvalidOption, StylerError
from styler.fast.inference import FastOptions
from styler.imageio import (
    ImageError,
    ImageTooLarge,
    LoadedImage,
    load_image,
    save_image,
)
from styler.instant.stylizer import InstantOptions
from styler.optimize import OptimizeOptions
from styler.progress import CancelToken, Progress, ProgressCallback
from styler.result import StylizeResult
from styler.settings import Settings, SettingsError
from styler.tensors import scaled_size
from styler.ui import batch as batch_io
from styler.ui import effects
from styler.ui.services import Services, safe_name
from styler.ui.state import Entry, Session

log = logging.getLogger("styler.ui")

FAST, INSTANT, QUALITY = "Fast", "Instant", "Quality"
MAIN_STYLE, NO_STYLE = "Main style", "No style (keep the photo)"
# Instant and Quality modes' region choices: one of the uploaded style images.
STYLE_IMAGES = ("Style image 1", "Style image 2", "Style image 3")
HISTORY_THUMB = 384
PREVIEW_INTERVAL = 0.25  # s between live previews sent to the browser (the last always goes)
FUSION_TOOLS = ("Blend two images through a mask", "Exposure fusion", "Focus stacking")
FUSION_FEATHER = 8.0  # px: the fusion blend's mask softness (a fusion tool's, not a control)


class UserError(StylerError):
    """Something the person at the browser can fix; the message is shown as it is.

    `reason` is the message without the file's name, for lists that name it already.
    """

    def __init__(self, message: str, reason: str | None = None) -> None:
        super().__init__(message)
        self.reason = reason or message


ENGINE_MODES = {FAST: controls.FAST, INSTANT: controls.INSTANT, QUALITY: controls.OPTIMIZE}


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

    def fast_options(self) -> FastOptions:
        return FastOptions.from_values(self.for_mode(FAST))

    def instant_options(self) -> InstantOptions:
        return InstantOptions.from_values(self.for_mode(INSTANT))

    def quality_options(self) -> OptimizeOptions:
        values = self.for_mode(QUALITY)
        steps = values.get("steps", controls.CONTROLS["steps"].default)
        every = self.preview_every or max(1, steps // 40)
        return OptimizeOptions.from_values({**values, "preview_every": every})

    def refined(self, quality: Controls, size: int) -> Controls:
        """Refine's controls: these (an Instant run's) for the controls both modes share, at
        the instant result's `size` (the modes' size defaults differ); `quality`'s (the
        widgets now) for Quality's own, which Instant mode does not show."""
        instant = controls.INSTANT
        shared = {n: v for n, v in self.values.items() if controls.CONTROLS[n].acts_in(instant)}
        own = {n: v for n, v in quality.values.items() if not controls.CONTROLS[n].acts_in(instant)}
        return Controls(quality.preview_every, **{**own, **shared, "size": size})


@dataclass
class Update:
    """One step of a Quality run as the browser sees it."""

    text: str = ""
    progress: Progress | None = None
    preview: Image.Image | None = None
    entry: Entry | None = None  # set on the last update


# ------------------------------------------------------------------------------------ messages


def option_message(exc: InvalidOption) -> str:
    """'Strength must be between 0 and 1 (got 2).': the control by its label."""
    control = controls.CONTROLS.get(exc.name)
    label = control.label if control else exc.name.replace("_", " ").capitalize()
    value = f"{exc.value:g}" if isinstance(exc.value, int | float) else repr(exc.value)
    return f"{label} must be {exc.expected} (got {value})."


def image_reason(exc: ImageError) -> str:
    """Why an image cannot be used, for someone who cannot change the server's limits."""
    if isinstance(exc, ImageTooLarge):
        return f"{exc.reason} (the server's limit: use a smaller image)"
    return exc.reason


def user_message(exc: BaseException) -> str:
    """One line for the user, worded from the error's data: files by their name alone (the
    server's temporary paths mean nothing in a browser)."""
    if isinstance(exc, UserError):
        return str(exc)
    if isinstance(exc, InvalidOption):
        return option_message(exc)
    if isinstance(exc, ImageError):
        return f"{printable(Path(exc.source).name)}: {image_reason(exc)}"
    if isinstance(exc, SettingsError):
        return f"{printable(Path(exc.source).name)}: {exc.reason}"
    return " ".join(str(exc).split()) or type(exc).__name__


def progress_text(p: Progress) -> str:
    width, height = p.size
    scale = f"Scale {p.scale + 1} of {p.scales} ({width}×{height})"
    return f"{scale} · step {p.step} of {p.total_steps}"


def progress_html(p: Progress | None, text: str = "") -> str:
    """A progress bar the browser can show and tests can read (the bar has role=progressbar)."""
    if p is None:
        return (
            f'<div class="styler-progress"><span>{html.escape(text)}</span></div>' if text else ""
        )
    label = progress_text(p)
    percent = 100 * p.step / max(1, p.total_steps)
    return (
        f'<div class="styler-progress" data-step="{p.step}" data-total="{p.total_steps}">'
        f'<div class="styler-bar" role="progressbar" aria-valuenow="{p.step}" '
        f'aria-valuemin="0" aria-valuemax="{p.total_steps}">'
        f'<div class="styler-fill" style="width:{percent:.1f}%"></div></div>'
        f"<span>{label}</span></div>"
    )


# ------------------------------------------------------------------------------------- loading


NO_PHOTO = "Add a photo first: upload one, paste it, use the webcam, or pick a sample below it."


def load_photo(services: Services, path: str | Path | None, what: str = "photo") -> LoadedImage:
    if not path:
        raise UserError(NO_PHOTO if what == "photo" else f"Add a {what} first.")
    try:
        return load_image(path, max_pixels=services.config.max_pixels)
    except ImageError as exc:
        raise UserError(f"That {what} cannot be used: {user_message(exc)}",
                        image_reason(exc)) from exc  # fmt: skip


def check_photo(services: Services, path: str | Path | None) -> str | None:
    """At upload: refuse an image over the pixel limit from its header, before anything
    (the region painter included) decodes it, then one that does not decode (truncated,
    not an image). Returns the path when it is usable."""
    if not path:
        return None
    load_photo(services, path)  # load_image reads the header, refuses, then decodes
    return str(path)


def _name_of(path: str | Path | None, fallback: str = "image") -> str:
    return Path(path).stem if path else fallback


def _resized(image: Image.Image, long_side: int) -> Image.Image:
    size = scaled_size(image.size, long_side)
    return image if image.size == size else image.resize(size, Image.Resampling.LANCZOS)


# ---------------------------------------------------------------------------------------- fast


@dataclass
class Regions:
    """Painted region layers (RGBA arrays from the image editor) and the style of each."""

    layers: list[np.ndarray] = field(default_factory=list)
    styles: dict[str, str] = field(default_factory=dict)  # region name -> style choice

    def active(self) -> dict[str, np.ndarray]:
        """Masks of the painted regions whose style differs from the rest of the image."""
        masks = effects.region_masks(self.layers)
        return {n: m for n, m in masks.items() if self.styles.get(n, MAIN_STYLE) != MAIN_STYLE}


def _fast_regions(
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


def run_fast(
    services: Services,
    session: Session,
    content: str | Path | None,
    style: str | None,
    controls: Controls,
    regions: Regions | None = None,
) -> Entry:
    """Fast mode: the engine's FastStylizer with the same options the CLI and API take."""
    if not services.styles:
        raise UserError(
            "No fast styles are installed yet. Switch to Instant or Quality mode and pick a "
            "style image."
        )
    if not style or style not in services.style_names():
        raise UserError("Pick a style from the grid first.")
    loaded = load_photo(services, content)
    options = controls.fast_options()
    pairs = _fast_regions(services, regions)
    # No device slot: a Fast job takes a fraction of a second, and must not wait behind a
    # Quality run holding the slot; the network's own lock keeps its passes apart.
    result = services.engines.fast(style).run(loaded, options, regions=pairs)
    caption = f"{services.style_title(style)} · Fast"
    notes = (*loaded.notes, *size_notes(loaded.rgb.size, options.size, options.upscale))
    return save_entry(services, session, result, content, style, caption, notes=notes)


# ------------------------------------------------------------------------------------- quality


def _style_list(
    services: Services, styles: Sequence[tuple[str | Path | None, float]]
) -> tuple[list[LoadedImage], list[float], list[str]]:
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


def _image_regions(
    services: Services,
    regions: Regions | None,
    styles: Sequence[tuple[str | Path | None, float]],
    mode: str = QUALITY,
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


@dataclass(frozen=True)
class Job:
    """What an Instant or Quality run was asked for, kept with its result: Continue finishes
    a stopped Quality run from it, Refine takes an Instant result on in Quality mode."""

    content: str | Path
    styles: tuple[tuple[str | Path | None, float], ...]
    controls: Controls
    regions: Regions | None


def run_quality(
    services: Services,
    session: Session,
    session_key: str,
    content: str | Path | None,
    styles: Sequence[tuple[str | Path | None, float]],
    controls: Controls,
    regions: Regions | None = None,
    *,
    resume: Entry | None = None,
    start: Entry | None = None,
) -> Iterator[Update]:
    """Quality mode: the optimizer, reporting previews as it goes; Stop keeps the best so far
    at the scale it reached. `resume` (a stopped result) continues it from that image and
    scale with the steps left; `start` (an Instant result, Refine) is where a whole run starts.

    Painted regions get one of the style images, or keep the photo (guided Gram losses).
    A generator: each Update carries the progress and, every few steps, the image as it
    forms; the last one carries the saved result. Closing the generator (the browser went
    away) stops the optimisation.
    """
    loaded = load_photo(services, content)
    style_images, weights, names = _style_list(services, styles)
    options = controls.quality_options()
    region_pairs = _image_regions(services, regions, styles)
    init = None
    if resume is not None:
        init = _rgb(resume.path)
        left = max(1, resume.steps_total - resume.steps_done)
        options = replace(options, init="image", steps=left, min_size=max(init.size))
    elif start is not None:
        init = _rgb(start.path)
        options = replace(options, init="instant")  # its schedule, from this result
    outcome: dict[str, Any] = {}

    def work(progress: ProgressCallback, cancel: CancelToken) -> None:
        with services.engines.slot() as slot:
            outcome["result"] = services.engines.stylizer(slot).run(
                loaded, style_images, options, blend=weights, regions=region_pairs,
                init_image=init, progress=progress, cancel=cancel)  # fmt: skip

    yield from _streamed(services, session_key, work)
    result = outcome["result"]
    label = _label(names)
    kind = "Quality, refined" if start is not None else "Quality"
    caption = f"{label} · {kind}" + ("" if result.completed else " (stopped early)")
    job = Job(content, tuple(styles), controls, regions)  # type: ignore[arg-type]
    side = controls_output_side(options.size, options.upscale, loaded.rgb.size)
    full = scaled_size(loaded.rgb.size, side)
    notes = (*loaded.notes, *size_notes(loaded.rgb.size, options.size, options.upscale))
    entry = save_entry(services, session, result, content, label, caption, job=job, full=full,
                       notes=notes)  # fmt: skip
    yield Update(text=caption, entry=entry)


def _label(names: Sequence[str]) -> str:
    """'mosaic+waves': the style images' names, for captions and file names."""
    return "+".join(Path(n).stem for n in names)


def _rgb(path: Path) -> Image.Image:
    with Image.open(path) as im:
        return im.convert("RGB")


# ------------------------------------------------------------------------------------- instant


def run_instant(
    services: Services,
    session: Session,
    session_key: str,
    content: str | Path | None,
    styles: Sequence[tuple[str | Path | None, float]],
    controls: Controls,
    regions: Regions | None = None,
) -> Entry:
    """Instant mode: the style images of Quality mode (blend weights, regions alike) in one
    feed-forward pass, about a second. Kept with its Job, so Refine can take it on."""
    loaded = load_photo(services, content)
    style_images, weights, names = _style_list(services, styles)
    options = controls.instant_options()
    pairs = _image_regions(services, regions, styles, INSTANT)
    stylizer = services.engines.instant(style_images, weights, services.config.max_pixels)
    # No device slot, as in Fast mode: a pass must not wait behind a Quality run.
    with services.cancellable(session_key) as token:
        result = stylizer.run(loaded, options, regions=pairs,
                              cancelled=lambda: token.cancelled)  # fmt: skip
    if not result.completed:
        raise UserError("Stopped: the instant result was not made.")
    label = _label(names)
    job = Job(content, tuple(styles), controls, regions)  # type: ignore[arg-type]
    notes = (*loaded.notes, *size_notes(loaded.rgb.size, options.size, options.upscale))
    return save_entry(services, session, result, content, label, f"{label} · Instant", job=job,
                      notes=notes)  # fmt: skip


def refinable(entry: Entry | None) -> bool:
    """An Instant result that Refine can take on (its job is known)."""
    return entry is not None and entry.job is not None and (
        entry.settings.get("mode") == controls.INSTANT)  # fmt: skip


def run_refine(
    services: Services, session: Session, session_key: str, entry: Entry | None,
    quality: Controls,
) -> Iterator[Update]:  # fmt: skip
    """Refine: a Quality run from an Instant result, with its photo, style images, regions
    and shared controls, and Quality's own controls from `quality` (the widgets now)."""
    if entry is None or not refinable(entry):
        raise UserError("There is no Instant result on screen to refine.")
    job = entry.job
    refined = job.controls.refined(quality, size=max(_png_size(entry.path)))
    yield from run_quality(services, session, session_key, job.content, job.styles, refined,
                           job.regions, start=entry)  # fmt: skip


# ---------------------------------------------------------------------------------- streaming


def _streamed(
    services: Services, session_key: str, work: Callable[[ProgressCallback, CancelToken], None]
) -> Iterator[Update]:
    """Run `work` in a thread, yielding its progress (the newest report, previews at least
    every PREVIEW_INTERVAL); Stop for `session_key` cancels it, and so does closing this."""
    reports: queue.Queue[Progress | None] = queue.Queue()
    failure: list[BaseException] = []
    delay = services.config.step_delay

    def report(p: Progress) -> None:
        reports.put(p)
        if delay:
            time.sleep(delay)

    with services.cancellable(session_key) as token:

        def run() -> None:
            try:
                work(report, token)
            except BaseException as exc:  # handed to the generator, which re-raises it
                failure.append(exc)
            finally:
                reports.put(None)

        yield Update(text="Starting…")
        worker = threading.Thread(target=run, name="styler-ui-quality", daemon=True)
        worker.start()
        finished = False
        try:
            yield from _drained(reports)
            finished = True
        finally:
            if not finished:  # closed early: the browser left, so stop the engine
                token.cancel()
            worker.join()
    if failure:
        if isinstance(failure[0], StylerError):
            raise UserError(user_message(failure[0])) from failure[0]
        raise failure[0]


def _drained(reports: queue.Queue[Progress | None]) -> Iterator[Update]:
    """Updates from the reports until the end marker, catching up to the newest each time."""
    last_sent = 0.0
    latest_image: Image.Image | None = None
    while True:
        pending = [reports.get()]
        while not reports.empty():
            pending.append(reports.get())
        progress_items = [p for p in pending if p is not None]
        fresh = [p.image for p in progress_items if p.image is not None]
        if fresh:
            latest_image = fresh[-1]
        if progress_items and (fresh or time.perf_counter() - last_sent >= PREVIEW_INTERVAL):
            last_sent = time.perf_counter()
            p = progress_items[-1]
            yield Update(text=progress_text(p), progress=p, preview=latest_image)
        if pending[-1] is None:
            return


# --------------------------------------------------------------------------------------- saving


def save_entry(
    services: Services,
    session: Session,
    result: StylizeResult,
    content: str | Path | None,
    style_label: str,
    caption: str,
    *,
    job: Any = None,
    full: tuple[int, int] | None = None,
    notes: tuple[str, ...] = (),
) -> Entry:
    """Write the full-resolution PNG (the engine's settings inside, as the CLI and API write
    them) and a gallery thumbnail; record both."""
    services.workspace.prune()
    folder = services.workspace.new_dir(f"results/{session.id}")
    name = safe_name(f"{_name_of(content)}__{style_label}.png")
    path = save_image(result.image, folder / name, settings=result.settings, alpha=result.alpha)
    thumb = folder / "thumb.jpg"
    image = result.image.convert("RGB")
    _resized(image, min(HISTORY_THUMB, max(image.size))).save(thumb, quality=85)
    entry = session.add(Entry(path=path, thumb=thumb, caption=caption, settings=result.settings,
                             completed=result.completed, elapsed=result.elapsed,
                             steps_done=result.steps_done, steps_total=result.steps_total,
                              full_size=full or image.size, job=job,
                              notes=notes))  # fmt: skip
    services.histories.keep(session)
    return entry


def size_notes(photo_size: tuple[int, int], size: int, upscale: bool) -> tuple[str, ...]:
    """What the status line says when the output size is not the one asked for, or is
    larger than the photo."""
    width, height = photo_size
    side = controls_output_side(size, upscale, photo_size)
    if side > max(photo_size):
        return (f"Upscaled from the photo's {width}×{height} px.",)
    if size and side < size:
        return (f"The photo is {width}×{height} px, smaller than the {size} px asked: made at "
                "its own size (tick “Upscale small photos” to enlarge it).",)  # fmt: skip
    return ()


def describe_entry(entry: Entry) -> str:
    """The status line under a result."""
    w, h = _png_size(entry.path)
    took = ""
    if entry.elapsed:
        took = f" in {entry.elapsed:.2f} s" if entry.elapsed < 1 else f" in {entry.elapsed:.1f} s"
    if not entry.completed:
        full_w, full_h = entry.full_size or (w, h)
        return (f"Stopped at step {entry.steps_done} of {entry.steps_total}: the best image "
                f"so far is {w}×{h} px (finished: {full_w}×{full_h}){took}. "
                "Continue from here finishes it.")  # fmt: skip
    notes = "".join(f" {note}" for note in entry.notes)
    refine = " Refine paints it further in Quality mode." if refinable(entry) else ""
    return (f"Done{took}: {entry.caption}, {w}×{h} px.{notes} Download gives the full-size "
            f"PNG.{refine}")  # fmt: skip


def _png_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as im:
        return im.size


@dataclass
class Loaded:
    """A result's settings as the Stylize tab shows them."""

    mode: str  # FAST, INSTANT or QUALITY
    values: dict[str, Any]  # control name -> value, for the widgets of CONTROL_WIDGETS
    style: str | None  # Fast: the network; else a sample style image with the recorded name
    note: str  # the status line


def load_settings(services: Services, path: str | Path | None) -> Loaded:
    """A dropped result's settings, for the controls to take (same schema as the CLI's
    --settings-from). Style images uploaded elsewhere cannot come back: the note says so."""
    if not path:
        raise UserError("Drop a result made by styler (a PNG, JPEG or WebP it wrote).")
    try:
        settings = Settings.from_file(path)
    except (SettingsError, ImageError) as exc:
        raise UserError(f"No settings to load: {user_message(exc)}") from exc
    mode = next(ui for ui, engine in ENGINE_MODES.items() if engine == settings.mode)
    names = ", ".join(settings.styles)
    if mode == FAST:
        style = settings.styles[0] if settings.styles[0] in services.style_names() else None
    else:
        samples = {p.name: str(p) for p in services.config.style_images()}
        style = samples.get(settings.styles[0])
    missing = "" if style else f" Add the style ({names}) yourself: it is not on this server."
    if len(settings.styles) > 1 or settings.regions:
        missing += " Blends and painted regions are not restored."
    return Loaded(mode=mode, values=dict(settings.controls), style=style,
                  note=f"Loaded the settings of {Path(path).name} ({mode}).{missing}")  # fmt: skip


def use_as_content(session: Session) -> str:
    """The result on screen, to stylize again."""
    entry = session.shown
    if entry is None:
        raise UserError("There is no result yet to use as the photo.")
    return str(entry.path)


# ---------------------------------------------------------------------------------------- batch


@dataclass
class BatchOutcome:
    zip_path: Path
    done: int
    errors: list[str]

    def summary(self) -> str:
        lines = [f"**{self.done} stylized, {len(self.errors)} failed.** The zip holds the results"
                 + (" and errors.txt." if self.errors else ".")]  # fmt: skip
        if self.errors:
            lines += ["", "Not stylized:", *(f"- {e}" for e in self.errors)]
        return "\n".join(lines)


def run_batch(
    services: Services,
    files: Sequence[str | Path] | None,
    mode: str,
    style: str | None,
    styles: Sequence[tuple[str | Path | None, float]],
    controls: Controls,
    report: Callable[[int, int, str], None] | None = None,
) -> BatchOutcome:
    """Every photo (or every image in the zips) through one style; a zip back, errors listed."""
    if not files:
        raise UserError("Upload some photos or a zip of photos first.")
    config = services.config
    work = services.workspace.new_dir("work")
    inputs, errors = batch_io.collect(
        [Path(f) for f in files],
        work / "in",
        max_files=config.max_batch_files,
        max_bytes=int(config.max_batch_mb * 1024 * 1024),
    )
    scratch = Session(id=f"batch-{work.name}")
    if mode == FAST:
        if not style or style not in services.style_names():
            raise UserError("Pick a fast style for the batch first.")
    else:
        style_list = _style_list(services, styles)
        del style_list  # checked now, so a bad style fails before the first photo
    outputs: list[Path] = []
    for number, item in enumerate(inputs, start=1):
        if report:
            report(number - 1, len(inputs), item.name)
        try:
            if mode == FAST:
                entry = run_fast(services, scratch, item.path, style, controls)
            elif mode == INSTANT:
                entry = run_instant(services, scratch, scratch.id, item.path, styles, controls)
            else:
                updates = run_quality(services, scratch, scratch.id, item.path, styles, controls)
                entry = [u.entry for u in updates if u.entry is not None][0]
        except UserError as exc:
            errors.append(f"{item.name}: {exc.reason}")
            continue
        except ImageError as exc:
            errors.append(f"{item.name}: {image_reason(exc)}")
            continue
        except StylerError as exc:
            errors.append(f"{item.name}: {user_message(exc)}")
            continue
        except MemoryError:
            errors.append(f"{item.name}: out of memory (try a smaller output size)")
            continue
        except Exception as exc:  # a bug must not cost the rest of the batch
            log.exception("batch: %s failed", item.name)
            errors.append(f"{item.name}: internal error ({type(exc).__name__}); the server "
                          "log has the details")  # fmt: skip
            continue
        outputs.append(entry.path)
    if report:
        report(len(inputs), len(inputs), "zip")
    zip_path = batch_io.write_zip(outputs, errors, work / "styled.zip")
    return BatchOutcome(zip_path=zip_path, done=len(outputs), errors=errors)


# --------------------------------------------------------------------------------------- fusion


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
