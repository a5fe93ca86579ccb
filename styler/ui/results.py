"""Finished images: saved with their settings and recorded in the session's history, the
status line under them, and a dropped result's settings read back for the controls.
Nothing here imports gradio."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from styler import controls
from styler.controls import output_side
from styler.image_sizes import scaled_size
from styler.imageio import ImageError, save_image
from styler.result import StylizeResult
from styler.settings import Settings, SettingsError
from styler.ui.inputs import ENGINE_MODES, FAST
from styler.ui.messages import UserError, user_message
from styler.ui.services import Services, safe_name
from styler.ui.state import MAX_HISTORY, Entry, Session
from styler.wording import seconds

HISTORY_THUMB = 384  # px, long side of the history gallery's thumbnails


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
    stem = Path(content).stem if content else "image"
    name = safe_name(f"{stem}__{style_label}.png")
    # The photo's date, camera and credits go along, never its location (docs/photographers.md).
    path = save_image(result.image, folder / name, settings=result.settings, alpha=result.alpha,
                      source=content)  # fmt: skip
    thumb = folder / "thumb.jpg"
    image = result.image.convert("RGB")
    _resized(image, min(HISTORY_THUMB, max(image.size))).save(thumb, quality=85)
    entry = session.add(Entry(path=path, thumb=thumb, caption=caption, settings=result.settings,
                              completed=result.completed, elapsed=result.elapsed,
                              steps_done=result.steps_done, steps_total=result.steps_total,
                              full_size=full or image.size, job=job, notes=notes))  # fmt: skip
    services.histories.keep(session)
    return entry


def _resized(image: Image.Image, long_side: int) -> Image.Image:
    size = scaled_size(image.size, long_side)
    return image if image.size == size else image.resize(size, Image.Resampling.LANCZOS)


def size_notes(photo_size: tuple[int, int], size: int, upscale: bool) -> tuple[str, ...]:
    """What the status line says when the output size is not the one asked for, or is
    larger than the photo."""
    width, height = photo_size
    side = output_side(size, upscale, photo_size)
    if side > max(photo_size):
        return (f"Upscaled from the photo's {width}×{height} px.",)
    if size and side < size:
        return (f"The photo is {width}×{height} px, smaller than the {size} px asked: made at "
                "its own size (tick “Upscale small photos” to enlarge it).",)  # fmt: skip
    return ()


def refinable(entry: Entry | None) -> bool:
    """An Instant result that Refine can take on (what made it is known)."""
    return entry is not None and entry.job is not None and (
        entry.settings.get("mode") == controls.INSTANT)  # fmt: skip


def describe_entry(entry: Entry) -> str:
    """The status line under a result."""
    w, h = png_size(entry.path)
    took = ""
    if entry.elapsed:
        took = f" in {seconds(entry.elapsed)}"
    if not entry.completed:
        full_w, full_h = entry.full_size or (w, h)
        return (f"Stopped at step {entry.steps_done} of {entry.steps_total}: the best image "
                f"so far is {w}×{h} px (finished: {full_w}×{full_h}){took}. "
                "Continue from here finishes it.")  # fmt: skip
    notes = "".join(f" {note}" for note in entry.notes)
    refine = " Refine paints it further in Quality mode." if refinable(entry) else ""
    return (f"Done{took}: {entry.caption}, {w}×{h} px.{notes} Download gives the full-size "
            f"PNG.{refine}")  # fmt: skip


def history_note(session: Session) -> str:
    """What the status line adds when the newest result pushed the oldest out of the history."""
    if not session.left:
        return ""
    names = ", ".join(f"“{entry.caption}”" for entry in session.left)
    return (f" The history keeps the last {MAX_HISTORY} results: the oldest, {names}, left it "
            "(download it first to keep it).")  # fmt: skip


def png_size(path: Path) -> tuple[int, int]:
    with Image.open(path) as im:
        return im.size


def use_as_content(session: Session) -> str:
    """The result on screen, to stylize again."""
    entry = session.shown
    if entry is None:
        raise UserError("There is no result yet to use as the photo.")
    return str(entry.path)


@dataclass
class LoadedSettings:
    """A result's settings as the Stylize tab shows them."""

    mode: str  # FAST, INSTANT or QUALITY
    values: dict[str, Any]  # control name -> value, for the control widgets
    style: str | None  # Fast: the network; else a sample style image with the recorded name
    note: str  # the status line


def load_settings(services: Services, path: str | Path | None) -> LoadedSettings:
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
    return LoadedSettings(mode=mode, values=dict(settings.controls), style=style,
                          note=f"Loaded the settings of {Path(path).name} ({mode}).{missing}")
