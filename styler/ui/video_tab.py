"""The Video tab: a clip (or an animated GIF, WebP or PNG) checked when it lands, mode and
style as on the Stylize tab, the controls that matter for a clip (from the registry), a
one-frame preview, then the whole clip with a frames bar, Stop, the result playing in the
page (an animation as an animation) and its download. Or the webcam, painted live with the
same mode, style and controls in the preview's place.

What the buttons do is video_runs.py (no gradio). Previews queue with their mode's photo
jobs (queues.py); whole clips queue in a group of their own, so a clip never holds up
anyone's Fast or Instant photo.

No `from __future__ import annotations`: Gradio reads the handlers' annotations
(gr.Request, gr.SelectData) to know what to inject.
"""

import html
from pathlib import Path
from typing import Any

import gradio as gr

from styler.batch import VIDEO_OUTPUT
from styler.ui import widgets
from styler.ui.components import photo_input, thumbnail_grid
from styler.ui.guard import readable
from styler.ui.inputs import FAST, INSTANT, QUALITY, Controls
from styler.ui.live_runs import CAMERA_STOPPED, LIVE_PREFIX, QUIET_S, camera_stopped, live_frame
from styler.ui.messages import UserError
from styler.ui.queues import (
    ENGINE,
    FAST_JOBS,
    FAST_QUEUE,
    INSTANT_JOBS,
    INSTANT_QUEUE,
    LIVE_JOBS,
    LIVE_QUEUE,
    VIDEO_JOBS,
    VIDEO_QUEUE,
)
from styler.ui.services import Services
from styler.ui.slot_events import wire_image_slot
from styler.ui.state import SETTLE_S, VIDEO_TAB, Session
from styler.ui.streaming import Update
from styler.ui.video_runs import (
    QUALITY_WARNING,
    VIDEO_CONTROLS,
    check_clip,
    clip_span,
    describe_clip,
    frames_html,
    preview_frame,
    run_clip,
)

RUNNING = "Stylizing the clip… Stop ends it and writes nothing."
STOP_WAIT_S = 5.0  # Stop waits this long for the run to end (stop's docstring says why)
# The live camera: the size the browser is asked for (a webcam's own is often far larger,
# and each frame is sent up as an image), how often it sends one (a frame still being
# painted holds the next back), and how long one stream may hold the live slot.
LIVE_CAMERA = {"video": {"width": {"ideal": 640}, "height": {"ideal": 480}}}
LIVE_EVERY_S, LIVE_LIMIT_S = 0.05, 600


def video_tab(services: Services, style_images: list[str], first_mode: str) -> dict[str, Any]:
    """Every component of the tab, by name."""
    ui: dict[str, Any] = {}
    names = services.style_names()
    fast = first_mode == FAST
    with gr.Row(equal_height=False):
        with gr.Column(scale=5, min_width=320):
            ui["clip"] = gr.Video(label="1 · Your clip (MP4, MOV, MKV, WebM, AVI, M4V)",
                                  sources=["upload"], height=240, elem_id="video-clip",
                                  elem_classes=["styler-image"])  # fmt: skip
            # Gradio's video box takes video files only: animations have a box of their
            # own, image_mode None so the file reaches styler as uploaded, every frame.
            ui["animation"] = photo_input(label="…or an animated GIF, WebP or PNG",
                                          sources=["upload"], height=140, image_mode=None,
                                          elem_id="video-animation")  # fmt: skip
            ui["clip_message"] = gr.Markdown("", elem_id="video-clip-message")
            with gr.Row(equal_height=True):
                # Short hints: on a phone the two boxes share a row, and a hint that wraps
                # pushes its box below the other's.
                ui["part_start"] = gr.Textbox(label="Paint from", placeholder="the start",
                                              info="seconds or m:ss",
                                              elem_id="video-part-start")  # fmt: skip
                ui["part_end"] = gr.Textbox(label="to", placeholder="the end",
                                            info="empty: the whole clip",
                                            elem_id="video-part-end")  # fmt: skip
            with gr.Accordion("…or live from your camera", open=False, elem_id="video-live"):
                ui["camera"] = gr.Image(
                    sources=["webcam"], streaming=True, type="numpy", show_label=False,
                    webcam_options=gr.WebcamOptions(mirror=True, constraints=LIVE_CAMERA),
                    elem_id="video-camera",
                )  # fmt: skip
                gr.Markdown("Record paints each frame in the preview, steadied as a clip's "
                            "frames are; Stop ends it.")  # fmt: skip
            ui["mode"] = gr.Radio(
                [FAST, INSTANT, QUALITY], value=first_mode, label="2 · Mode",
                info="Fast: a ready-made style. Instant: any style image. Quality: any style "
                "image, painted step by step (very slow for video).", elem_id="video-mode",
            )  # fmt: skip
            ui["quality_note"] = gr.Markdown(QUALITY_WARNING, visible=first_mode == QUALITY,
                                             elem_id="video-quality-note")  # fmt: skip
            with gr.Column(visible=fast) as ui["fast_box"]:
                ui["grid"] = thumbnail_grid(
                    "3 · Style (click one)", "video-style-grid",
                    value=[(str(s.thumb), s.title) for s in services.styles],
                    selected_index=0 if names else None,
                )  # fmt: skip
                ui["style"] = gr.Dropdown(
                    choices=[(services.style_caption(n), n) for n in names],
                    value=names[0] if names else None, label="Selected style",
                    elem_id="video-style",
                )  # fmt: skip
            ui["style_image"] = photo_input(
                label="3 · Style image", sources=["upload", "clipboard"], height=180,
                value=style_images[0] if style_images else None, visible=not fast,
                elem_id="video-style-image",
            )  # fmt: skip
            ui["style_message"] = gr.Markdown("", elem_id="video-style-message")
            with gr.Accordion("4 · Adjust (optional)", open=False, elem_id="video-controls"):
                for name in VIDEO_CONTROLS:
                    ui[name] = widgets.control_widget(
                        name, first_mode, elem_id="video-" + name.replace("_", "-"))
        with gr.Column(scale=6, min_width=320):
            with gr.Row(equal_height=True):
                # Narrow minimums: the three stay on one row on a phone.
                ui["preview_btn"] = gr.Button("Preview a frame", interactive=False, scale=2,
                                              min_width=100,
                                              elem_id="video-preview-btn")  # fmt: skip
                ui["run"] = gr.Button("Stylize clip", variant="primary", interactive=False,
                                      scale=2, min_width=100, elem_id="video-run")  # fmt: skip
                ui["stop"] = gr.Button("Stop", variant="stop", scale=1, min_width=70,
                                       elem_id="video-stop")  # fmt: skip
            # Its range is the clip's length, set as the clip lands.
            ui["preview_at"] = gr.Slider(0, 1, value=0, step=0.1, label="Preview at (seconds)",
                                         elem_id="video-preview-at")  # fmt: skip
            # JPEG: a live frame is encoded for the browser every few tenths of a second.
            ui["preview"] = gr.Image(label="Preview frame", interactive=False, height=260,
                                     buttons=["fullscreen"], format="jpeg",
                                     elem_id="video-preview",
                                     elem_classes=["styler-image"])  # fmt: skip
            ui["progress"] = gr.HTML("", elem_id="video-progress")
            ui["status"] = gr.Markdown("", elem_id="video-status")
            ui["result"] = gr.Video(label="Stylized clip", interactive=False, height=260,
                                    buttons=["download"], elem_id="video-result",
                                    elem_classes=["styler-image"])  # fmt: skip
            ui["result_animation"] = gr.Image(label="Stylized animation", interactive=False,
                                              visible=False, type="filepath", height=260,
                                              buttons=["fullscreen"],
                                              elem_id="video-result-animation",
                                              elem_classes=["styler-image"])  # fmt: skip
            ui["download"] = gr.DownloadButton("Download", value=None, interactive=False,
                                               elem_id="video-download")  # fmt: skip
    return ui


def _controls(values: tuple[Any, ...]) -> Controls:
    return Controls(**dict(zip(VIDEO_CONTROLS, values, strict=True)))


def _key(request: gr.Request) -> str:
    """The session's video jobs, apart from its Stylize tab's (Stop stops only these)."""
    return f"{request.session_hash or ''}:video"


def _failed(exc: BaseException) -> str:
    return f"⚠ {readable(exc)}"


def _source(clip: str | None, animation: str | None) -> str | None:
    """The clip to paint: only one of the two boxes holds a file (each clears the other)."""
    return animation or clip


def _result(path: Path) -> tuple[Any, Any, Any]:
    """The result shown where it plays (a video's player, an animation's picture) and the
    download named by its format."""
    animated = path.suffix.lower() != f".{VIDEO_OUTPUT}"
    return (gr.Video(value=None if animated else str(path), visible=not animated),
            gr.Image(value=str(path) if animated else None, visible=animated),
            gr.DownloadButton(f"Download {path.suffix[1:].upper()}", value=str(path),
                              interactive=True))  # fmt: skip


def _no_result() -> tuple[Any, Any, Any]:
    """No result on show and nothing to download: a run under way replaces the last one,
    and one stopped before its end writes nothing (the last clip's stayed on show and on
    the Download button, beside "nothing was written")."""
    return (gr.Video(value=None), gr.Image(value=None),
            gr.DownloadButton("Download", value=None, interactive=False))  # fmt: skip


def wire_video(services: Services, ui: dict[str, Any], session: gr.State,
               restored: Any) -> None:  # fmt: skip
    """The clip check, the mode switch, the style grid, Preview, Stylize clip and Stop;
    after the page's history is `restored`, what became of a clip its last page left."""
    _wire_inputs(services, ui, session)
    picks = [ui["clip"], ui["animation"], ui["mode"], ui["style"], ui["style_image"],
             *(ui[n] for n in VIDEO_CONTROLS)]  # fmt: skip
    buttons = [ui["preview_btn"], ui["run"]]

    def preview(request: gr.Request, at: float, clip: Any, animation: Any, mode: str,
                style: Any, style_image: Any, *values: Any):  # fmt: skip
        """One frame, or the status line saying why not; the buttons usable again."""
        try:
            path, text = preview_frame(services, _source(clip, animation), mode, style,
                                       style_image, _controls(values), _key(request),
                                       at)  # fmt: skip
        except Exception as exc:
            return gr.skip(), _failed(exc), *(gr.Button(interactive=True),) * 2
        return str(path), text, *(gr.Button(interactive=True),) * 2

    # Previews run in their mode's photo queue: Fast and Instant are a photo's pass, a
    # Quality frame is a Quality photo. The button bumps the chosen mode's hidden counter.
    groups = {FAST: (FAST_QUEUE, FAST_JOBS), INSTANT: (INSTANT_QUEUE, INSTANT_JOBS),
              QUALITY: (ENGINE, services.concurrency)}  # fmt: skip
    goes = {mode: gr.Number(0, visible=False) for mode in groups}
    for mode, (group, limit) in groups.items():
        goes[mode].change(preview, [ui["preview_at"], *picks],
                          [ui["preview"], ui["status"], *buttons],
                          concurrency_id=group, concurrency_limit=limit, api_name=False,
                          show_progress="minimal")  # fmt: skip

    def route(mode: str, *counts: float):
        bumped = tuple(n + 1 if m == mode else gr.skip() for m, n in zip(goes, counts, strict=True))
        return (*bumped, "Painting the first frame…", *(gr.Button(interactive=False),) * 2)

    ui["preview_btn"].click(route, [ui["mode"], *goes.values()],
                            [*goes.values(), ui["status"], *buttons], queue=False,
                            api_name=False)  # fmt: skip
    _wire_run_and_stop(services, ui, session, picks, buttons)
    _wire_live(services, ui)
    _wire_left(services, ui, session, restored)


def _wire_left(services: Services, ui: dict[str, Any], session: gr.State, restored: Any) -> None:
    """A page of a history whose last clip was left running (a reload) says what became of
    it, once that run has stopped: where, and that Stylize clip goes on from there."""

    def settle(state: Session):
        notice = services.histories.settled(state.id, VIDEO_TAB, SETTLE_S)
        if notice is None:
            return (gr.skip(),) * 4
        return notice.text, *(_result(notice.path) if notice.path else (gr.skip(),) * 3)

    restored.then(settle, session, [ui["status"], ui["result"], ui["result_animation"],
                                    ui["download"]], queue=False, api_name=False,
                  show_progress="hidden")  # fmt: skip


def _wire_live(services: Services, ui: dict[str, Any]) -> None:
    """The camera's frames painted into the preview, the rate in the status line; the page's
    stream kept in a State between frames (and dropped with the page)."""
    stream = gr.State(None, time_to_live=LIVE_LIMIT_S)
    # Gradio's webcam fires no event when it stops: a timer, on while frames come, notices
    # that they no longer do, so the status line never says "Live" of a stopped camera.
    quiet = gr.Timer(QUIET_S / 2, active=False)

    def live(frame: Any, state: Any, mode: str, style: Any, style_image: Any, *values: Any):
        try:
            painted, state, text = live_frame(services, state, frame, mode, style, style_image,
                                              _controls(values))  # fmt: skip
        except Exception as exc:
            return gr.skip(), state, _failed(exc), gr.skip()
        watching = gr.Timer(active=True) if state is not None and state.frames == 1 else gr.skip()
        return (painted if painted is not None else gr.skip()), state, text, watching

    ui["camera"].stream(live, [ui["camera"], stream, ui["mode"], ui["style"], ui["style_image"],
                               *(ui[n] for n in VIDEO_CONTROLS)],
                        [ui["preview"], stream, ui["status"], quiet], stream_every=LIVE_EVERY_S,
                        time_limit=LIVE_LIMIT_S, concurrency_id=LIVE_QUEUE,
                        concurrency_limit=LIVE_JOBS, api_name=False,
                        show_progress="hidden")  # fmt: skip

    def notice(state: Any, status: str):
        if not status.startswith(LIVE_PREFIX):  # a clip's run, or an error, says its own
            return gr.Timer(active=False), gr.skip()
        if camera_stopped(state, status):
            return gr.Timer(active=False), CAMERA_STOPPED
        return gr.skip(), gr.skip()

    quiet.tick(notice, [stream, ui["status"]], [quiet, ui["status"]], queue=False,
               api_name=False, show_progress="hidden")  # fmt: skip


def _wire_run_and_stop(services: Services, ui: dict[str, Any], session: gr.State, picks: list,
                       buttons: list) -> None:  # fmt: skip
    """Stylize clip (queued in the video group, counted so Stop can withdraw it) and Stop."""
    outputs = [ui["preview"], ui["progress"], ui["status"], ui["result"],
               ui["result_animation"], ui["download"], *buttons]  # fmt: skip

    def queue_up(request: gr.Request, state: Session):
        """Counted as queued: Stop withdraws it, and leaving the page drops it (the next
        page of the history says so). The buttons stay disabled until it ends, even when a
        clip lands meanwhile."""
        services.queued(_key(request), state.id, VIDEO_TAB)
        state.busy.add(VIDEO_TAB)
        return ("Waiting for a free video slot…", *(gr.Button(interactive=False),) * 2,
                *_no_result())  # fmt: skip

    def ready(state: Session) -> tuple:
        """The buttons usable again: the page's clip has ended, or was withdrawn."""
        state.busy.discard(VIDEO_TAB)
        return (gr.Button(interactive=True),) * 2

    def run(request: gr.Request, state: Session, start: str, end: str, clip: Any,
            animation: Any, mode: str, style: Any, style_image: Any, *values: Any):  # fmt: skip
        services.started(_key(request))
        try:
            for item in run_clip(services, _key(request), _source(clip, animation), mode,
                                 style, style_image, _controls(values), clip_span(start, end),
                                 owner=state.id):  # fmt: skip
                if isinstance(item, Update):
                    frame = item.preview if item.preview is not None else gr.skip()
                    yield (frame, frames_html(item.progress, item.text), RUNNING,
                           *(gr.skip(),) * 5)  # fmt: skip
                else:
                    shown = _result(item.path) if item.path else (gr.skip(),) * 3
                    yield gr.skip(), "", item.status, *shown, *ready(state)
        except Exception as exc:
            yield gr.skip(), "", _failed(exc), *(gr.skip(),) * 3, *ready(state)

    results = [ui["result"], ui["result_animation"], ui["download"]]
    job = ui["run"].click(queue_up, session, [ui["status"], *buttons, *results], queue=False,
                          api_name=False).then(
        run, [session, ui["part_start"], ui["part_end"], *picks], outputs,
        concurrency_id=VIDEO_QUEUE,
        concurrency_limit=VIDEO_JOBS, api_name=False, show_progress="minimal")  # fmt: skip

    withdraw = gr.Number(0, visible=False)

    def stop(withdrawn: float, state: Session, request: gr.Request):
        """A running clip stops (nothing written); a queued one is withdrawn.

        A clip stops within a frame, and the run's own last word says how it ended: shown
        here as well, this answer's "Stopping…" could arrive after it (two channels, no
        order between them) and stay on screen. So it waits for the run to end, and says
        "Stopping…" only for a run that takes longer than STOP_WAIT_S to."""
        if services.cancel(_key(request)):
            if services.wait_stopped(_key(request), STOP_WAIT_S):
                return gr.skip(), gr.skip(), *(gr.skip(),) * 2
            return "Stopping…", gr.skip(), *(gr.skip(),) * 2
        if services.withdraw(_key(request)):
            return "Withdrawn: your clip will not be stylized.", withdrawn + 1, *ready(state)
        return "Nothing is running or waiting.", gr.skip(), *(gr.skip(),) * 2

    ui["stop"].click(stop, [withdraw, session], [ui["status"], withdraw, *buttons], queue=False,
                     api_name=False)  # fmt: skip
    withdraw.change(None, None, None, cancels=[job], queue=False)


def _wire_inputs(services: Services, ui: dict[str, Any], session: gr.State) -> None:
    """The clip or animation checked as it lands (the other box emptied); the mode switch;
    a click in the style grid."""

    def _cleared(state: Session) -> tuple[Any, Any]:
        """The preview frame and the status line, cleared: they were the last clip's (it
        said "Preview of the frame at 3.0 s" of a clip no longer there). A run under way
        keeps its own."""
        return (gr.skip(), gr.skip()) if VIDEO_TAB in state.busy else (None, "")

    def landed(payload: dict | None, state: Session):
        """Unprocessed (preprocess=False), so a file that is no clip reaches the check. The
        box itself, the other box, the message, the preview's time range, the buttons (left
        disabled while the page's clip is queued or runs: its end enables them)."""
        path = (payload or {}).get("path")
        if not path:
            return (gr.skip(), gr.skip(), "", gr.skip(), *(gr.Button(interactive=False),) * 2,
                    *(gr.skip(),) * 2)  # fmt: skip
        try:
            info = check_clip(services, path)
        except UserError as exc:
            return (None, gr.skip(), f"⚠ {html.escape(str(exc))}.", gr.skip(),
                    *(gr.Button(interactive=False),) * 2, *(gr.skip(),) * 2)  # fmt: skip
        at = gr.Slider(maximum=max(0.1, round(info.duration, 1)), value=0)
        usable = gr.Button(interactive=VIDEO_TAB not in state.busy)
        return gr.skip(), None, describe_clip(info), at, usable, usable, *_cleared(state)

    def emptied(state: Session):
        return "", *(gr.Button(interactive=False),) * 2, *_cleared(state)

    wire_image_slot(services, ui["style_image"], ui["style_message"], "style image")
    # Upload and clear, not change: a box emptied by the other's upload must not disable
    # the buttons that upload has just enabled.
    for box, other in (("clip", "animation"), ("animation", "clip")):
        ui[box].upload(landed, [ui[box], session],
                       [ui[box], ui[other], ui["clip_message"], ui["preview_at"],
                        ui["preview_btn"], ui["run"], ui["preview"], ui["status"]],
                       queue=False, api_name=False, preprocess=False)  # fmt: skip
        ui[box].clear(emptied, session, [ui["clip_message"], ui["preview_btn"], ui["run"],
                                         ui["preview"], ui["status"]],
                      queue=False, api_name=False)  # fmt: skip

    def switch_mode(mode: str):
        updates = [gr.update(**widgets.mode_update(name, mode)) for name in VIDEO_CONTROLS]
        return (gr.Column(visible=mode == FAST), gr.Image(visible=mode != FAST),
                gr.Markdown(visible=mode == QUALITY), *updates)  # fmt: skip

    ui["mode"].input(switch_mode, ui["mode"],
                     [ui["fast_box"], ui["style_image"], ui["quality_note"],
                      *(ui[n] for n in VIDEO_CONTROLS)], queue=False, api_name=False)  # fmt: skip
