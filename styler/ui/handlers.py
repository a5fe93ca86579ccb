"""What the UI's buttons do, as plain functions: importable and testable without a browser.

Handlers take file paths and plain values (what Gradio components hand over), run the
engine, save full-resolution PNGs with their settings embedded, and record them in the
browser session's history. Problems the user can fix raise `UserError` with one readable
line; app.py shows it as a message box. Nothing here imports gradio.
"""

from __future__ import annotations

import html
import logging
import math
import queue
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from styler import fusion
from styler.api import build_options
from styler.errors import StylerError
from styler.imageio import LoadedImage, load_image, save_image
from styler.losses import LossWeights
from styler.optimize import OptimizeOptions
from styler.progress import Progress
from styler.tensors import scaled_size
from styler.ui import batch as batch_io
from styler.ui import effects
from styler.ui.services import Services, safe_name
from styler.ui.state import Entry, Session

log = logging.getLogger("styler.ui")

FAST, QUALITY = "Fast", "Quality"
MAIN_STYLE, NO_STYLE = "Main style", "No style (keep the photo)"
# Quality mode's region choices: one of the uploaded style images.
STYLE_IMAGES = ("Style image 1", "Style image 2", "Style image 3")
HISTORY_THUMB = 384
PREVIEW_INTERVAL = 0.25  # s between live previews sent to the browser (the last always goes)
FUSION_TOOLS = ("Blend two images through a mask", "Exposure fusion", "Focus stacking")


class UserError(StylerError):
    """Something the person at the browser can fix; the message is shown as it is."""


@dataclass
class Controls:
    """The sliders and switches of the Stylize tab, with the defaults it shows."""

    size: int = 768  # long side of the output, px
    strength: float = 1.0  # 0 = the photo, 1 = full style
    style_weight: float = LossWeights.style  # quality
    colour: str = "off"  # off | luminance | match
    style_scale: float = 1.0  # brush-stroke size
    steps: int = OptimizeOptions.steps  # quality
    seed: int = 0  # quality
    content_weight: float = LossWeights.content  # advanced, quality
    tv_weight: float = LossWeights.tv
    optimizer: str = OptimizeOptions.optimizer
    init: str = OptimizeOptions.init
    preview_every: int = 0  # 0: about 40 previews per run
    feather: float = effects.REGION_FEATHER  # region edges, px

    def __post_init__(self) -> None:
        self.size, self.steps, self.seed = int(self.size), int(self.steps), int(self.seed)
        self.preview_every = int(self.preview_every or 0)
        if not 64 <= self.size <= 8192:
            raise UserError(f"Output size must be between 64 and 8192 px (got {self.size}).")
        if not 0.0 <= self.strength <= 1.0:
            raise UserError(f"Strength must be between 0 and 1 (got {self.strength}).")
        if not 0.25 <= self.style_scale <= 4.0:
            raise UserError(f"Style scale must be between 0.25 and 4 (got {self.style_scale}).")
        if self.colour not in ("off", "luminance", "match"):
            raise UserError(f"Unknown colour preservation {self.colour!r}.")

    def options(self) -> OptimizeOptions:
        every = self.preview_every or max(1, self.steps // 40)
        return build_options(
            size=self.size,
            steps=self.steps,
            content_weight=self.content_weight,
            style_weight=self.style_weight,
            tv_weight=self.tv_weight,
            optimizer=self.optimizer,
            init=self.init,
            style_scale=self.style_scale,
            seed=self.seed,
            preview_every=every,
        )


@dataclass
class Update:
    """One step of a Quality run as the browser sees it."""

    text: str = ""
    progress: Progress | None = None
    preview: Image.Image | None = None
    entry: Entry | None = None  # set on the last update


# ------------------------------------------------------------------------------------ messages


def readable(exc: BaseException, services: Services | None = None) -> str:
    """One line for the user: server-side temporary paths shortened to the file's name."""
    text = " ".join(str(exc).split()) or type(exc).__name__
    if services is not None:
        root = str(services.workspace.root)
        while root in text:
            start = text.index(root)
            end = start + len(root)
            while end < len(text) and text[end] not in " :,;'\")":
                end += 1
            text = text[:start] + Path(text[start:end]).name + text[end:]
    return text


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
    except StylerError as exc:
        reason = readable(exc, services).replace(str(path), Path(path).name)
        reason = reason.replace(
            "(raise max_pixels to allow it)", "(the server's limit: use a smaller image)"
        )
        raise UserError(f"That {what} cannot be used: {reason}") from exc


def check_photo(services: Services, path: str | Path | None) -> str | None:
    """At upload: refuse an image over the pixel limit from its header, before anything
    (the region painter included) decodes it. Returns the path when it is acceptable."""
    if not path:
        return None
    name = Path(path).name
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                width, height = im.size
    except Image.DecompressionBombError as exc:
        raise UserError(f"That photo cannot be used: {name} is far too large ({exc}).") from exc
    except (OSError, ValueError) as exc:
        raise UserError(
            f"That photo cannot be used: {name} is not an image styler can read."
        ) from exc
    limit = services.config.max_pixels
    if width * height > limit:
        raise UserError(
            f"That photo cannot be used: {name}: image is {width}x{height} = "
            f"{width * height / 1e6:.1f} MP, over the {math.floor(limit / 1e5) / 10:.1f} MP limit "
            "(the server's limit: use a smaller image)"
        )
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


def _fast_image(services: Services, slot: int, style: str, photo: Image.Image, c: Controls):
    """The photo (already at output size) through one style network at the chosen scale
    (the engine's style scale: another working size, the photo's fine detail put back)."""
    if style == NO_STYLE:
        return photo
    stylizer = services.engines.fast(style, slot)
    return Image.fromarray(stylizer.stylize_array(np.asarray(photo), style_scale=c.style_scale))


def run_fast(
    services: Services,
    session: Session,
    content: str | Path | None,
    style: str | None,
    controls: Controls,
    regions: Regions | None = None,
) -> Entry:
    """Fast mode: a shipped style network, plus painted regions, strength and colour."""
    if not services.styles:
        raise UserError(
            "No fast styles are installed yet. Switch to Quality mode and pick a style image."
        )
    if not style or style not in services.style_names():
        raise UserError("Pick a style from the grid first.")
    loaded = load_photo(services, content)
    start = time.perf_counter()
    photo = _resized(loaded.rgb, controls.size)
    masks = regions.active() if regions else {}
    with services.engines.slot() as slot:
        image = _fast_image(services, slot, style, photo, controls)
        parts = []
        for name, mask in masks.items():
            choice = regions.styles[name] if regions else MAIN_STYLE
            if choice in STYLE_IMAGES:
                raise UserError(f"The {name} region has {choice}: style images are for "
                                "Quality mode. In Fast mode, give it a fast style.")  # fmt: skip
            if choice != NO_STYLE and choice not in services.style_names():
                raise UserError(f"The {name} region's style {choice!r} is not installed.")
            parts.append((_fast_image(services, slot, choice, photo, controls), mask))
    image = effects.composite(image, parts, feather=controls.feather)
    image = effects.preserve_colour(image, photo, controls.colour)
    image = effects.apply_strength(image, photo, controls.strength)
    settings: dict[str, Any] = {
        "mode": "fast",
        "style": style,
        "size": controls.size,
        "strength": controls.strength,
        "colour": controls.colour,
        "style_scale": controls.style_scale,
        "content": _name_of(content),
    }
    if masks and regions:
        settings["regions"] = {n: regions.styles[n] for n in masks}
        settings["feather"] = controls.feather
    network = services.engines.fast(style).info
    if network:
        settings["network"] = network
    elapsed = time.perf_counter() - start
    caption = f"{services.style_caption(style).split(' — ')[0]} · Fast"
    return save_entry(services, session, image, loaded.alpha, settings, content, style, caption,
                      elapsed=elapsed)  # fmt: skip


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


def _quality_regions(
    services: Services,
    regions: Regions | None,
    styles: Sequence[tuple[str | Path | None, float]],
    photo: Image.Image,
    colour: str,
) -> tuple[list[tuple[np.ndarray, Image.Image | None]], dict[str, str]]:
    """Painted regions as the optimizer takes them: (mask, style image or None for the photo),
    and {region: choice} for the settings."""
    if regions is None:
        return [], {}
    pairs, chosen = [], {}
    for name, mask in regions.active().items():
        choice = regions.styles[name]
        if choice == NO_STYLE:
            pairs.append((mask, None))
        elif choice in STYLE_IMAGES:
            path = styles[STYLE_IMAGES.index(choice)][0]
            if not path:
                raise UserError(f"The {name} region has {choice}, but that slot is empty.")
            image = load_photo(services, path, what=choice.lower()).rgb
            if colour == "match":
                image = effects.match_style_colours(image, photo)
            pairs.append((mask, image))
        else:
            raise UserError(f"The {name} region has the fast style {choice!r}. In Quality "
                            "mode, give regions a style image (1-3) or no style.")  # fmt: skip
        chosen[name] = choice
    return pairs, chosen


def run_quality(
    services: Services,
    session: Session,
    session_key: str,
    content: str | Path | None,
    styles: Sequence[tuple[str | Path | None, float]],
    controls: Controls,
    regions: Regions | None = None,
) -> Iterator[Update]:
    """Quality mode: the optimizer, reporting previews as it goes; Stop keeps the best so far.

    Painted regions get one of the style images, or keep the photo (guided Gram losses).

    A generator: each Update carries the progress and, every few steps, the image as it
    forms; the last one carries the saved result. Closing the generator (the browser went
    away) stops the optimisation.
    """
    loaded = load_photo(services, content)
    style_images, weights, names = _style_list(services, styles)
    try:
        options = controls.options()
    except StylerError as exc:
        raise UserError(readable(exc)) from exc
    photo = _resized(loaded.rgb, controls.size)
    style_rgb = [s.rgb for s in style_images]
    if controls.colour == "match":
        style_rgb = [effects.match_style_colours(s, photo) for s in style_rgb]
    region_pairs, region_choices = _quality_regions(
        services, regions, styles, photo, controls.colour
    )
    reports: queue.Queue[Progress | None] = queue.Queue()
    outcome: dict[str, Any] = {}
    delay = services.config.step_delay

    def report(p: Progress) -> None:
        reports.put(p)
        if delay:
            time.sleep(delay)

    with services.cancellable(session_key) as token:

        def work() -> None:
            try:
                with services.engines.slot() as slot:
                    stylizer = services.engines.stylizer(slot)
                    outcome["result"] = stylizer.run(loaded, style_rgb, options, blend=weights,
                                                     regions=region_pairs, progress=report,
                                                     cancel=token)  # fmt: skip
            except BaseException as exc:  # handed to the generator, which re-raises it
                outcome["error"] = exc
            finally:
                reports.put(None)

        yield Update(text="Starting…")
        worker = threading.Thread(target=work, name="styler-ui-quality", daemon=True)
        worker.start()
        finished = False
        try:
            last_sent = 0.0
            latest_image: Image.Image | None = None
            while True:
                item = reports.get()
                pending = [item]
                while not reports.empty():  # catch up: show only the newest report
                    pending.append(reports.get())
                done = pending[-1] is None
                progress_items = [p for p in pending if p is not None]
                fresh = [p.image for p in progress_items if p.image is not None]
                if fresh:
                    latest_image = fresh[-1]
                if progress_items and (
                    fresh or time.perf_counter() - last_sent >= PREVIEW_INTERVAL
                ):
                    last_sent = time.perf_counter()
                    p = progress_items[-1]
                    yield Update(text=progress_text(p), progress=p, preview=latest_image)
                if done:
                    break
            finished = True
        finally:
            if not finished:  # closed early: the browser left, so stop the engine
                token.cancel()
            worker.join()
    if "error" in outcome:
        error = outcome["error"]
        if isinstance(error, StylerError):
            raise UserError(readable(error, services)) from error
        raise error
    result = outcome["result"]
    image = effects.preserve_colour(
        result.image, photo, "luminance" if controls.colour == "luminance" else "off"
    )
    image = effects.apply_strength(image, photo, controls.strength)
    settings = dict(result.settings)
    settings.update(
        styles=names,
        strength=controls.strength,
        colour=controls.colour,
        content=_name_of(content),
        completed=result.completed,
    )
    if region_choices:
        settings.update(regions=region_choices, feather=controls.feather)
    label = "+".join(Path(n).stem for n in names)
    caption = f"{label} · Quality"
    if not result.completed:
        caption += " (stopped early)"
    entry = save_entry(services, session, image, loaded.alpha, settings, content, label, caption,
                       completed=result.completed, elapsed=result.elapsed)  # fmt: skip
    yield Update(text=caption, entry=entry)


# --------------------------------------------------------------------------------------- saving


def save_entry(
    services: Services,
    session: Session,
    image: Image.Image,
    alpha: Image.Image | None,
    settings: dict[str, Any],
    content: str | Path | None,
    style_label: str,
    caption: str,
    *,
    completed: bool = True,
    elapsed: float = 0.0,
) -> Entry:
    """Write the full-resolution PNG (settings inside) and a gallery thumbnail; record both."""
    services.workspace.prune()
    folder = services.workspace.new_dir(f"results/{session.id}")
    name = safe_name(f"{_name_of(content)}__{style_label}.png")
    path = save_image(image, folder / name, settings=settings, alpha=alpha)
    thumb = folder / "thumb.jpg"
    _resized(image.convert("RGB"), min(HISTORY_THUMB, max(image.size))).save(thumb, quality=85)
    settings = {**settings, "elapsed": round(elapsed, 3)}
    return session.add(Entry(path=path, thumb=thumb, caption=caption, settings=settings,
                             completed=completed))  # fmt: skip


def describe_entry(entry: Entry) -> str:
    """The status line under a result."""
    w, h = _png_size(entry.path)
    elapsed = entry.settings.get("elapsed")
    took = f" in {elapsed:.1f} s" if isinstance(elapsed, (int, float)) and elapsed else ""
    if not entry.completed:
        return f"Stopped early: this is the best image so far ({w}×{h}{took})."
    return f"Done{took}: {entry.caption}, {w}×{h} px. Download gives the full-size PNG."


def _png_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as im:
        return im.size


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
            else:
                updates = run_quality(services, scratch, scratch.id, item.path, styles, controls)
                entry = [u.entry for u in updates if u.entry is not None][0]
        except UserError as exc:
            errors.append(f"{item.name}: {_reason(str(exc), item.path.name)}")
            continue
        except StylerError as exc:
            errors.append(f"{item.name}: {readable(exc, services)}")
            continue
        outputs.append(entry.path)
    if report:
        report(len(inputs), len(inputs), "zip")
    zip_path = batch_io.write_zip(outputs, errors, work / "styled.zip")
    return BatchOutcome(zip_path=zip_path, done=len(outputs), errors=errors)


def _reason(text: str, name: str) -> str:
    """'That photo cannot be used: a.jpg: damaged' -> 'damaged', for the batch error list."""
    for prefix in ("That photo cannot be used: ", f"{name}: "):
        text = text.removeprefix(prefix)
    return text


# --------------------------------------------------------------------------------------- fusion


def run_fusion(
    services: Services,
    session: Session,
    tool: str,
    images: Sequence[str | Path] | None,
    mask: str | Path | None = None,
    feather: float = 8.0,
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
        raise UserError(readable(exc, services)) from exc
    settings = {"mode": "fusion", "tool": tool, "inputs": names}
    if tool == FUSION_TOOLS[0]:
        settings["feather"] = float(feather)
    else:
        settings["align"] = bool(align)
    label = dict(zip(FUSION_TOOLS, ("blend", "exposure", "focus"), strict=True))[tool]
    caption = f"{tool} · {len(paths)} images"
    elapsed = time.perf_counter() - start
    image = Image.fromarray(out)
    return save_entry(services, session, image, None, settings, paths[0], label, caption,
                      elapsed=elapsed)  # fmt: skip
