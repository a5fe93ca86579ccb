"""What the Video tab's buttons do: a clip checked when it lands, one stylized frame as a
preview, and the whole clip through styler.video with progress and Stop. Every run is a
Recipe (runs.make_recipe) and its engine; the tab chooses no mode's code itself.

Nothing here imports gradio; problems the user can fix raise UserError with one line.
"""

from __future__ import annotations

import contextlib
import html
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from styler.batch import VIDEO_OUTPUT, output_kind
from styler.engine import Engine, RecipeImageError
from styler.imageio import ImageTooLarge
from styler.progress import CancelToken, Progress, ProgressCallback
from styler.recipe import Recipe
from styler.ui.inputs import FAST, QUALITY, Controls, load_photo
from styler.ui.messages import UserError, progress_html, user_message
from styler.ui.runs import make_recipe, style_label
from styler.ui.services import Services, safe_name
from styler.ui.state import VIDEO_TAB, Notice
from styler.ui.streaming import Update, streamed
from styler.video import VIDEO_EXTENSIONS, FrameStylizer, VideoLoadError, stylize_video
from styler.video.animation import AnimationInfo, probe_animation
from styler.video.clip import VideoResult, frame_at
from styler.video.journal import discard
from styler.video.kinds import ANIMATION_EXTENSIONS
from styler.video.languages import UNKNOWN_LANGUAGE
from styler.video.reader import ClipInfo, probe_clip
from styler.video.span import Span, clock, parse_time
from styler.wording import seconds

NO_CLIP = ("Add a clip first: upload an MP4, MOV, MKV, WebM, AVI or M4V video, or an "
           "animated GIF, WebP or PNG.")  # fmt: skip
# Pillow's format names as people write them.
ANIMATION_NAMES = {"GIF": "GIF", "WEBP": "WebP", "PNG": "PNG"}
# The controls the tab offers, in the registry's order: the ones that matter for a clip.
VIDEO_CONTROLS = ("size", "strength", "preserve_color", "style_scale", "stroke_side",
                  "temporal")  # fmt: skip
QUALITY_WARNING = ("**Quality takes minutes for every second of video** (each frame is "
                   "painted step by step). Try Fast or Instant first.")  # fmt: skip


@dataclass
class ClipOutcome:
    """A whole-clip run's end: the MP4 (None when stopped) and the status line."""

    path: Path | None
    status: str


def check_clip(services: Services, path: str | Path | None) -> ClipInfo:
    """At upload, and again before each run: a video or an animation styler can read,
    within the server's pixel limit; else one line naming the file and why. A GIF, WebP or
    PNG of one frame is a photo, for the Stylize tab."""
    if not path:
        raise UserError(NO_CLIP)
    name = Path(path).name
    suffix = Path(path).suffix.lower()
    if suffix not in VIDEO_EXTENSIONS | ANIMATION_EXTENSIONS:
        kinds = ", ".join(sorted(VIDEO_EXTENSIONS))
        raise UserError(f"That clip cannot be used: {name}: not a video file (use {kinds}, "
                        "or an animated .gif, .webp, .png or .apng)")  # fmt: skip
    limit = services.config.max_upload_pixels
    try:
        if suffix in ANIMATION_EXTENSIONS:
            info: ClipInfo = probe_animation(path, max_pixels=limit)
        else:
            info = probe_clip(path, max_pixels=limit)
    except VideoLoadError as exc:
        reason = exc.reason + (" (the server's limit: use a smaller video)"
                               if isinstance(exc, ImageTooLarge) else "")  # fmt: skip
        raise UserError(f"That clip cannot be used: {name}: {reason}", reason) from exc
    if info.frames < 2:
        raise UserError(f"That clip cannot be used: {name}: one frame, a still picture "
                        "(stylize it on the Stylize tab)")  # fmt: skip
    return info


def describe_clip(info: ClipInfo) -> str:
    """'64×48 · 8 frames at 12 fps · 0.7 s · with sound' (or, for an animation, 'GIF
    animation · 64×48 · …'): what the clip holds, in a line."""
    facts = (f"{info.width}×{info.height} · {info.frames} frames at {float(info.rate):.3g} fps"
             f" · {info.duration:.1f} s")  # fmt: skip
    if isinstance(info, AnimationInfo):
        return f"{ANIMATION_NAMES[info.format]} animation · {facts}"
    facts = f"{facts} · {'with sound' if info.audio else 'no sound'}"
    return f"{facts} · {_subtitles(info)}" if info.subtitles else facts


def _subtitles(info: ClipInfo) -> str:
    """'subtitles (fra, eng)', or 'subtitles' where no track names its language."""
    known = [language for language in info.subtitles if language != UNKNOWN_LANGUAGE]
    return f"subtitles ({', '.join(known)})" if known else "subtitles"


def clip_recipe(
    services: Services, mode: str, style: str | None, style_image: str | None,
    controls: Controls,
) -> tuple[Recipe, str, str]:  # fmt: skip
    """The run's Recipe, its style's label for file names and its title for the status
    line: a fast style in Fast mode, else the style image (checked against the server's
    limits)."""
    if mode == FAST:
        if not services.styles:
            raise UserError("No fast styles are installed yet. Switch to Instant or Quality "
                            "mode and pick a style image.")  # fmt: skip
        if not style or style not in services.style_names():
            raise UserError("Pick a style for the clip first.")
        return make_recipe(FAST, [style], controls), style, services.style_title(style)
    image = load_photo(services, style_image, what="style image")
    label = style_label([Path(style_image or "style").name])
    return make_recipe(mode, [image], controls), label, label


def engine_for(services: Services, recipe: Recipe, index: int = 0) -> Engine:
    """The recipe's engine (a kept one in Fast mode); a bad style image in one line."""
    try:
        if recipe.mode == "fast":
            return services.engines.fast(recipe, index)
        return services.engines.build(recipe, index)
    except RecipeImageError as exc:
        raise UserError(f"That style image cannot be used: {user_message(exc.cause)}") from exc


def _slot(services: Services, mode: str) -> contextlib.AbstractContextManager[int]:
    """Quality takes a device slot, as a Quality photo does; Fast and Instant frames do not
    (each frame is a photo's pass, and must not wait behind a Quality run)."""
    return services.engines.slot() if mode == QUALITY else contextlib.nullcontext(0)


def preview_frame(
    services: Services, clip: str | Path | None, mode: str, style: str | None,
    style_image: str | None, controls: Controls, session_key: str = "", at: float = 0.0,
) -> tuple[Path, str]:  # fmt: skip
    """The frame on screen `at` seconds into the clip (the first by default; many clips open
    on black) stylized as a frame of the clip is: a PNG in the workspace, and the status
    line. Stop for `session_key` ends it (a Quality frame takes as long as a Quality photo)."""
    info = check_clip(services, clip)
    recipe, label, title = clip_recipe(services, mode, style, style_image, controls)
    at = min(max(0.0, float(at or 0)), info.duration)
    try:
        frame = frame_at(info, at).rgb
    except VideoLoadError as exc:
        raise UserError(f"{Path(info.path).name}: {exc.reason}") from exc
    with _slot(services, mode) as index, services.cancellable(session_key) as token:
        result = FrameStylizer(engine_for(services, recipe, index)).run(frame, cancel=token)
    if not result.completed:
        raise UserError("Stopped: the preview frame was not finished.")
    path = services.workspace.new_dir("work") / safe_name(f"{Path(info.path).stem}__{label}.png")
    result.image.save(path)
    width, height = result.image.size
    which = f"the frame at {at:.1f} s" if at else "the first frame"
    return path, (f"Preview of {which} ({width}×{height}, {title}, {mode}) in "
                  f"{seconds(result.elapsed)}. Stylize the clip to paint every frame.")  # fmt: skip


def clip_span(start: str | None, end: str | None) -> Span | None:
    """The tab's From and To ('1:30', '90', empty for the clip's start or end) as a Span;
    None for the whole clip; one line where a time cannot be read."""
    first, last = ((text or "").strip() for text in (start, end))
    if not first and not last:
        return None
    try:
        return Span(parse_time(first) if first else 0.0, parse_time(last) if last else None)
    except ValueError as exc:
        raise UserError(f"From/To: {exc}") from None


def run_clip(
    services: Services, session_key: str, clip: str | Path | None, mode: str,
    style: str | None, style_image: str | None, controls: Controls, span: Span | None = None,
    *, owner: str | None = None,
) -> Iterator[Update | ClipOutcome]:  # fmt: skip
    """The clip (or only its `span`) through styler.video.stylize_video in a worker thread:
    Updates with each frame's progress (a stylized frame every few), then one ClipOutcome:
    an MP4, or an animation in its own format. Stop for `session_key` cancels it, and a
    stopped clip leaves no file; the frames of its finished segments are kept for the next
    run of `owner` (the page's history id, which a reload keeps; `session_key` by default).
    The browser leaving counts as Stop, and the next page of `owner` says so."""
    owner = owner or session_key
    info = check_clip(services, clip)
    if span is not None and span.start >= info.duration:
        raise UserError(f"From {clock(span.start)} is at or after the clip's end "
                        f"({clock(info.duration)}).")  # fmt: skip
    recipe, label, title = clip_recipe(services, mode, style, style_image, controls)
    name = f"{Path(info.path).stem}__{label}.{output_kind(info.path, VIDEO_OUTPUT)}"
    wanted = (str(info.path), name, span)
    target = _stopped_target(services, owner, wanted) or (
        services.workspace.new_dir("work") / safe_name(name))  # fmt: skip
    outcome = {}

    def work(progress: ProgressCallback, cancel: CancelToken) -> None:
        with _slot(services, mode) as index:
            outcome["result"] = stylize_video(
                info.path, target, engine_for(services, recipe, index), progress=progress,
                cancel=cancel, max_pixels=services.config.max_upload_pixels, span=span)  # fmt: skip

    def ended() -> ClipOutcome:
        result = outcome["result"]
        if result.kept:  # the next run of the same clip and settings goes on from there
            services.stopped_clips[owner] = (wanted, target, os.stat(info.path).st_mtime_ns)
        return _outcome(result, info, span, f"{title}, {mode}")

    def left() -> None:
        notice = _left_notice(outcome["result"], ended(), f"{title}, {mode}")
        services.histories.tell(owner, VIDEO_TAB, notice)

    yield from streamed(services, session_key, work, left=left,
                        in_flight=services.histories.running(owner, VIDEO_TAB, session_key))
    yield ended()


def _outcome(result: VideoResult, info: ClipInfo, span: Span | None, made: str) -> ClipOutcome:
    """The status line of a clip's run (`made`: its style and mode), and its output if it
    finished."""
    if not result.completed or result.output is None:
        done = f"Stopped after {result.frames} of {result.info.frames} frames: nothing was written"
        if result.kept:
            return ClipOutcome(None, f"{done} yet. The first {result.kept} frames are kept: "
                                     f"Stylize the clip again with the same settings ({made}) "
                                     f"to go on from frame {result.kept + 1}.")  # fmt: skip
        return ClipOutcome(None, f"{done}. Stylize the clip to start again.")
    fps = (result.frames - result.resumed) / max(result.elapsed, 1e-6)
    part = f" ({span.describe()})" if span is not None and not span.whole else ""
    carried = [name for name, has in (("sound", info.audio), ("subtitles", info.subtitles)) if has]
    sound = f" with its {' and '.join(carried)}" if carried else ""
    went_on = f", going on from frame {result.resumed + 1}" if result.resumed else ""
    short = "" if (cut := result.cut_short()) is None else f" Note: {cut}."
    return ClipOutcome(result.output, f"Done: {result.frames} frames{part}{sound} in "
                                      f"{result.elapsed:.1f} s ({fps:.1f} fps, {made}"
                                      f"{went_on}).{short}")  # fmt: skip


def _left_notice(result: VideoResult, outcome: ClipOutcome, made: str) -> Notice:
    """What the next page says of a clip whose page was left: it counts as stopped there.
    `made`: its style and mode, which the reloaded page no longer shows."""
    if outcome.path is not None:
        return Notice(f"Your last clip ended as the page was left. {outcome.status}",
                      outcome.path)  # fmt: skip
    where = (f"Your last clip was stopped at frame {result.frames} of {result.info.frames} "
             "when the page was left")  # fmt: skip
    if result.kept:
        return Notice(f"{where}: its first {result.kept} frames are kept. Stylize the same "
                      f"clip again with the same settings ({made}) to go on from there (frame "
                      f"{result.kept + 1}).")  # fmt: skip
    return Notice(f"{where}: nothing was kept.")


def _stopped_target(services: Services, owner: str, wanted: tuple[object, ...]) -> Path | None:
    """The output a stopped run of `owner` (a page's history) left its journal for, where
    this run is of the same clip, style and part (the journal itself checks the rest of the
    settings); None for a new one. A stopped run's journal that no run will take is
    removed."""
    left = services.stopped_clips.pop(owner, None)
    if left is None:
        return None
    stopped, target, read_at = left
    if stopped == wanted and target.parent.is_dir():
        _uploaded_again(services, Path(str(wanted[0])), read_at)
        return target
    discard(target)
    return None


def _uploaded_again(services: Services, clip: Path, read_at: int) -> None:
    """The clip a stopped run read, uploaded again (after a reload): Gradio keeps an upload
    under its content's digest, so the same path holds the same bytes, but the upload wrote
    the file anew, and the journal, which knows a clip by its path, size and time, would
    take it for another and start again. The time it had is put back."""
    if not clip.resolve().is_relative_to(services.workspace.gradio_dir):
        return
    with contextlib.suppress(OSError):
        now = clip.stat()
        if now.st_mtime_ns != read_at:
            os.utime(clip, ns=(now.st_atime_ns, read_at))


def frames_text(p: Progress) -> str:
    """'Frame 12 of 40 · 8.3 fps · about 3 s left'."""
    fps = (p.step - p.resumed) / p.elapsed if p.elapsed > 0 else 0.0
    left = (p.total_steps - p.step) / fps if fps > 0 else None
    rest = f" · {fps:.1f} fps" if fps else ""
    if left is not None:
        when = f"{left:.0f} s" if left < 120 else f"{left / 60:.0f} min"
        rest += f" · about {when} left"
    return f"Frame {p.step} of {p.total_steps}{rest}"


def frames_html(p: Progress | None, text: str = "") -> str:
    """The frames-done bar, like the Stylize tab's (role=progressbar, data-step/data-total)."""
    if p is None:  # an empty line too: the bar's place stays on the page
        return f'<div class="styler-progress"><span>{html.escape(text)}</span></div>'
    return progress_html(p, label=frames_text)
