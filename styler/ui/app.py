"""The Gradio app: the Blocks layout, the events, and serving it safely.

Layout and wiring only; what each button does is in handlers.py. Every event that runs
the optimizer (Quality, Continue, Refine, batch, fusion, API calls) shares one concurrency
group ("engine") limited to `Services.concurrency` jobs, so waiting users queue and see
their place; Fast and Instant jobs (about a second) have groups of their own, so they never
wait behind a Quality run. Every handler turns failures into a readable message (gr.Error),
never a stack trace.
"""

import atexit
import contextlib
import functools
import html
import inspect
import logging
import os
import signal
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import gradio as gr

from styler.controls import CONTROLS
from styler.errors import StylerError
from styler.ui import handlers, widgets
from styler.ui.config import UIConfig
from styler.ui.effects import REGIONS, brush_colours
from styler.ui.handlers import (
    FAST,
    FUSION_TOOLS,
    INSTANT,
    MAIN_STYLE,
    NO_STYLE,
    QUALITY,
    STYLE_IMAGES,
    Controls,
    Regions,
    UserError,
)
from styler.ui.services import Services, Workspace
from styler.ui.state import Session

log = logging.getLogger("styler.ui")

RUNNING = "Painting… Stop keeps the best image so far."  # the status while a run works
QUALITY_NOTE = " (Quality)"  # labels of controls that only Quality mode has
# The Stylize tab's widgets named as the controls of styler.controls they set.
CONTROL_WIDGETS = ("size", "upscale", "strength", "preserve_color", "style_scale", "style_weight",
                   "steps", "seed", "content_weight", "tv_weight", "optimizer", "init",
                   "feather")  # fmt: skip
QUALITY_ONLY = ("style_weight", "steps", "seed")  # shown in Quality mode alone
# Refine reads these from the widgets when clicked: Quality's own controls, which an Instant
# run does not take (the shared ones come from the Instant run).
REFINE_WIDGETS = tuple(n for n in CONTROL_WIDGETS
                       if not CONTROLS[n].acts_in(handlers.ENGINE_MODES[INSTANT]))  # fmt: skip
FAST_QUEUE, FAST_JOBS = "fast", 2  # Fast jobs' own concurrency group, and how many at once
INSTANT_QUEUE, INSTANT_JOBS = "instant", 2  # likewise for Instant jobs (about a second each)
ENGINE = "engine"  # the concurrency group of every event that runs the engine

CSS = """
.gradio-container { max-width: 1280px !important; margin: 0 auto; }
#stylize-btn { min-height: 52px; font-size: 1.15rem; }
.styler-progress { display: flex; flex-direction: column; gap: 6px; padding: 4px 2px; }
.styler-bar { height: 10px; border-radius: 5px; overflow: hidden;
              background: var(--neutral-200); }
.styler-fill { height: 100%; background: var(--color-accent); transition: width .2s ease; }
.styler-progress span { font-size: 0.95rem; color: var(--body-text-color-subdued); }
#status { min-height: 2.4em; }
#photo-message p { color: var(--error-text-color); font-weight: 500; }
.secondary-wrap { min-width: 0 !important; }  /* long style names must not widen a phone page */
#status p { margin: 0; }
#result img, #fusion-result img { width: 100%; height: 100%; object-fit: contain; }
#style-grid .caption-label, #history .caption-label { font-size: 0.8rem; }
#style-grid .grid-wrap, #history .grid-wrap {
  min-height: 0 !important; height: auto !important; max-height: 420px; overflow-y: auto; }
#style-grid .grid-container, #history .grid-container {
  grid-template-columns: repeat(auto-fill, minmax(104px, 1fr)) !important;
  padding-top: 2.4rem !important; }
#intro p { margin: 0; }
#style input { text-overflow: ellipsis; padding-right: 2.2em; }
/* A phone: the photo, the style choice and Stylize within the first screen or two. */
@media (max-width: 640px) {
  #content { height: 230px !important; }
  #sample-photos .container { width: 64px !important; height: 48px !important; }
  #sample-photos img { width: 64px !important; height: 48px !important; object-fit: cover; }
  #sample-photos .gallery { gap: 4px !important; }
  #mode .info, #mode span[data-testid="block-info"] + div { display: none; }
  #style-grid .grid-wrap { max-height: 236px; }
  #style-grid .grid-container {
    grid-template-columns: repeat(auto-fill, minmax(84px, 1fr)) !important; }
  #result { height: auto !important; min-height: 0 !important; }
  #result .image-container, #result .image-frame { height: auto !important; }
}
"""


# ------------------------------------------------------------------------------------- errors


def _message(exc: BaseException, services: Services) -> str:
    """Escaped: Gradio renders the message as HTML, and it may quote a user's file name."""
    if isinstance(exc, UserError):
        return html.escape(str(exc))
    if isinstance(exc, (StylerError, OSError, ValueError)):
        return html.escape(handlers.user_message(exc))
    log.exception("unexpected error in the UI", exc_info=exc)
    return (
        f"Something went wrong ({type(exc).__name__}). Please try again; if it keeps "
        "happening, the server log has the details."
    )


def friendly(services: Services) -> Callable[[Callable], Callable]:
    """Wrap an event handler (plain or generator) so every failure reaches the user as
    one readable line in a message box, never as a stack trace."""

    def decorate(fn: Callable) -> Callable:
        if inspect.isgeneratorfunction(fn):

            @functools.wraps(fn)
            def stream(*args: Any, **kwargs: Any):
                try:
                    yield from fn(*args, **kwargs)
                except gr.Error:
                    raise
                except Exception as exc:
                    raise gr.Error(_message(exc, services), print_exception=False) from None

            return stream

        @functools.wraps(fn)
        def call(*args: Any, **kwargs: Any):
            try:
                return fn(*args, **kwargs)
            except gr.Error:
                raise
            except Exception as exc:
                raise gr.Error(_message(exc, services), print_exception=False) from None

        return call

    return decorate


def photo_input(**kwargs: Any) -> gr.Image:
    """gr.Image(type="filepath") whose own decoding errors (a file that is no image) become
    a readable message.

    A wrapped method on the instance rather than a subclass: Gradio writes a .pyi stub next
    to the module of every Component subclass, which must not happen inside a package.
    """
    image = gr.Image(type="filepath", **kwargs)
    decode = image.preprocess

    def preprocess(payload: Any) -> Any:
        try:
            return decode(payload)
        except gr.Error:
            raise
        except Exception:  # Gradio's decoder refused it: styler's own check says why
            path = getattr(payload, "path", None)
            if path:
                return path
            raise gr.Error("That file is not an image styler can read. Use a JPEG, PNG or "
                           "WebP photo.", print_exception=False) from None

    image.preprocess = preprocess  # type: ignore[method-assign]
    return image


# --------------------------------------------------------------------------------------- build


def _new_session() -> Session:
    return Session()


def build(services: Services) -> gr.Blocks:
    """The whole app: Stylize, Batch and Fusion tabs."""
    config = services.config
    photos = [str(p) for p in config.photos()]
    style_images = [str(p) for p in config.style_images()]
    names = services.style_names()
    has_fast = bool(names)
    first_mode = FAST if has_fast else QUALITY
    guard = friendly(services)

    with gr.Blocks(
        title="styler: style transfer",
        analytics_enabled=False,
        fill_width=True,
        delete_cache=(3600, 24 * 3600),  # Gradio's copies of uploads and results: a day
    ) as demo:
        session = gr.State(_new_session)  # a callable: a new Session per page load
        # The session's secret id in the browser's own storage: a reload finds its history.
        history_key = gr.BrowserState("", storage_key="styler-history")
        gr.Markdown(
            "## styler\nRepaint a photo in the style of a painting: pick a photo, pick a "
            "style, press **Stylize**. Everything else is optional.",
            elem_id="intro",
        )
        with gr.Tabs():
            with gr.Tab("Stylize", id="stylize", elem_id="tab-stylize"):
                ui = _stylize_tab(services, photos, style_images, names, first_mode)
            with gr.Tab("Batch", id="batch", elem_id="tab-batch"):
                batch = _batch_tab(services, style_images, names, first_mode)
            with gr.Tab("Fusion", id="fusion", elem_id="tab-fusion"):
                fusion = _fusion_tab()

        _wire_stylize(services, guard, session, ui)
        _wire_history(services, demo, session, history_key, ui)
        _wire_batch(services, guard, batch)
        _wire_fusion(services, guard, session, fusion, ui)
    return demo


def _stylize_tab(
    services: Services,
    photos: list[str],
    style_images: list[str],
    names: list[str],
    first_mode: str,
) -> dict[str, Any]:
    ui: dict[str, Any] = {}
    quality = first_mode == QUALITY
    with gr.Row(equal_height=False):
        with gr.Column(scale=5, min_width=340):
            ui["content"] = photo_input(
                label="1 · Your photo (upload, paste or webcam)",
                sources=["upload", "clipboard", "webcam"],
                value=photos[0] if photos else None,
                height=300,
                elem_id="content",
            )
            ui["photo_message"] = gr.Markdown("", elem_id="photo-message")
            if photos:
                with gr.Column(elem_id="sample-photos"):
                    gr.Examples([[p] for p in photos], inputs=ui["content"],
                                label="Sample photos", examples_per_page=8)  # fmt: skip
            ui["mode"] = gr.Radio(
                [FAST, INSTANT, QUALITY],
                value=first_mode,
                label="2 · Mode",
                info="Fast: a ready-made style, about a second. Instant: any style image, "
                "about a second. Quality: any style image, painted step by step (takes longer).",
                elem_id="mode",
            )
            _style_boxes(ui, services, names, style_images, first_mode != FAST)
            _adjust_controls(ui, first_mode, quality)
            _region_painter(ui, services, photos, names)
        _result_column(ui)
    return ui


def _thumbnail_grid(label: str, elem_id: str, **kwargs: Any) -> gr.Gallery:
    """A grid of clickable thumbnails (the style grid, the history): no preview pop-up."""
    return gr.Gallery(label=label, columns=4, height=None, allow_preview=False,
                      fit_columns=False, buttons=[], object_fit="cover", elem_id=elem_id,
                      **kwargs)  # fmt: skip


def _style_boxes(
    ui: dict[str, Any], services: Services, names: list[str], style_images: list[str],
    images: bool,
) -> None:
    """Step 3: the fast style grid, or the style images of Instant and Quality modes."""
    with gr.Column(visible=not images) as ui["fast_box"]:
        ui["grid"] = _thumbnail_grid(
            "3 · Style (click one)", "style-grid",
            value=[(str(s.thumb), s.title) for s in services.styles],
            selected_index=0 if names else None,
        )  # fmt: skip
        ui["style"] = gr.Dropdown(
            choices=[(services.style_caption(n), n) for n in names],
            value=names[0] if names else None,
            label="Selected style",
            elem_id="style",
        )
        if not names:
            gr.Markdown(
                "No fast styles are installed yet: use **Instant** or **Quality** mode.",
                elem_id="no-styles",
            )
    with gr.Column(visible=images) as ui["images_box"]:
        ui["style1"] = photo_input(
            label="3 · Style image",
            sources=["upload", "clipboard"],
            value=style_images[0] if style_images else None,
            height=200,
            elem_id="style-1",
        )
        if style_images:
            gr.Examples(
                [[p] for p in style_images], inputs=ui["style1"], label="Sample styles"
            )
        with gr.Accordion("Blend several style images", open=False):
            ui["weight1"] = gr.Slider(0, 1, value=1.0, step=0.05, label="Weight of style 1")
            with gr.Row():
                ui["style2"] = photo_input(
                    label="Style image 2",
                    sources=["upload", "clipboard"],
                    height=160,
                    elem_id="style-2",
                )
                ui["style3"] = photo_input(
                    label="Style image 3",
                    sources=["upload", "clipboard"],
                    height=160,
                    elem_id="style-3",
                )
            with gr.Row():
                ui["weight2"] = gr.Slider(0, 1, value=0.5, step=0.05, label="Weight 2")
                ui["weight3"] = gr.Slider(0, 1, value=0.5, step=0.05, label="Weight 3")


def _adjust_controls(ui: dict[str, Any], first_mode: str, quality: bool) -> None:
    """Step 4 and Advanced: every control's widget, made from styler.controls."""
    with gr.Accordion("4 · Adjust (optional)", open=False, elem_id="controls"):
        mode = first_mode
        ui["size"] = widgets.slider("size", mode)
        ui["upscale"] = widgets.checkbox("upscale")
        ui["strength"] = widgets.slider("strength", mode)
        ui["preserve_color"] = widgets.radio("preserve_color", mode)
        ui["style_scale"] = widgets.slider("style_scale", mode)
        ui["style_weight"] = widgets.slider("style_weight", QUALITY, QUALITY_NOTE,
                                            visible=quality)  # fmt: skip
        with gr.Row():
            ui["steps"] = widgets.slider("steps", QUALITY, QUALITY_NOTE, visible=quality)
            ui["seed"] = widgets.number("seed", QUALITY_NOTE, visible=quality)
    with gr.Accordion("Advanced", open=False, elem_id="advanced"):
        ui["content_weight"] = widgets.slider("content_weight", QUALITY, QUALITY_NOTE)
        ui["tv_weight"] = widgets.slider("tv_weight", QUALITY, QUALITY_NOTE)
        ui["optimizer"] = widgets.radio("optimizer", QUALITY)
        ui["init"] = widgets.radio("init", QUALITY, exclude=("image",))
        ui["preview_every"] = gr.Slider(
            0, 50, value=0, step=1, label="Live preview every N steps (0: automatic)"
        )
        ui["feather"] = widgets.slider("feather", mode)
        ui["settings_from"] = gr.File(
            label="Load settings from a result (drop a styler PNG, JPEG or WebP)",
            file_types=["image"], elem_id="settings-from",
        )  # fmt: skip


def _region_painter(
    ui: dict[str, Any], services: Services, photos: list[str], names: list[str]
) -> None:
    """The region painter and each region's style."""
    with gr.Accordion(
        "Regions: paint areas, give each a style", open=False,
        elem_id="regions",
    ):  # fmt: skip
        # The hint stands above the painter: the painter's own toolbar would cover a label.
        gr.Markdown("Paint with a brush colour, then pick that region's style below.",
                    elem_id="regions-hint")  # fmt: skip
        ui["editor"] = gr.ImageEditor(
            value=photos[0] if photos else None,
            type="numpy",
            sources=(),
            transforms=(),
            layers=False,
            brush=gr.Brush(colors=brush_colours(), color_mode="fixed"),
            label="Paint regions",
            show_label=False,
            height=360,
            elem_id="editor",
        )
        # Fast mode takes the fast styles, Instant and Quality modes the style images.
        # Titles shown, ids kept: 'The Starry Night', not starry_night.
        choices = [(c, c) for c in (MAIN_STYLE, NO_STYLE)] + [
            (services.style_title(n), n) for n in names] + [(c, c) for c in STYLE_IMAGES]
        colours = list(REGIONS)
        ui["region_styles"] = []
        for pair in (colours[:2], colours[2:]):
            with gr.Row():
                ui["region_styles"] += [
                    gr.Dropdown(choices, value=MAIN_STYLE, label=f"{colour} region",
                                elem_id=f"region-{colour.lower()}", min_width=140)
                    for colour in pair
                ]  # fmt: skip


def _result_column(ui: dict[str, Any]) -> None:
    """Stylize and Stop, the result, its status and download, and the history."""
    with gr.Column(scale=6, min_width=340):
        with gr.Row(equal_height=True):
            ui["run"] = gr.Button("Stylize", variant="primary", scale=3, elem_id="stylize-btn")
            ui["stop"] = gr.Button("Stop", variant="stop", scale=1, min_width=90,
                                   elem_id="stop-btn")  # fmt: skip
        ui["result"] = gr.Image(
            label="Result",
            interactive=False,
            height=460,
            buttons=["fullscreen"],
            elem_id="result",
        )
        ui["progress"] = gr.HTML("", elem_id="progress")
        ui["status"] = gr.Markdown("", elem_id="status")
        with gr.Row():
            ui["download"] = gr.DownloadButton(
                "Download PNG", value=None, interactive=False, elem_id="download"
            )
            ui["reuse"] = gr.Button("Use as content", interactive=False, elem_id="reuse")
            ui["continue"] = gr.Button("Continue from here", visible=False,
                                       elem_id="continue-btn")  # fmt: skip
            ui["refine"] = gr.Button("Refine (Quality)", visible=False,
                                     elem_id="refine-btn")  # fmt: skip
        ui["history"] = _thumbnail_grid(
            "This session's results (click one to show it again)", "history")
        ui["clear_history"] = gr.Button("Clear history", size="sm", elem_id="clear-history")



def _batch_tab(
    services: Services, style_images: list[str], names: list[str], first_mode: str
) -> dict[str, Any]:
    ui: dict[str, Any] = {}
    fast, quality = first_mode == FAST, first_mode == QUALITY
    gr.Markdown("Stylize many photos at once: upload photos or zip files, get one zip back.")
    with gr.Row(equal_height=False):
        with gr.Column(min_width=320):
            ui["files"] = gr.File(
                file_count="multiple",
                file_types=["image", ".zip"],
                label="Photos or zips of photos",
                elem_id="batch-files",
            )
            ui["mode"] = gr.Radio([FAST, INSTANT, QUALITY], value=first_mode, label="Mode",
                                  elem_id="batch-mode")  # fmt: skip
            ui["style"] = gr.Dropdown(
                choices=[(services.style_caption(n), n) for n in names],
                value=names[0] if names else None,
                label="Fast style",
                visible=fast,
                elem_id="batch-style",
            )
            ui["style_image"] = photo_input(
                label="Style image (Instant, Quality)",
                sources=["upload", "clipboard"],
                value=style_images[0] if style_images else None,
                height=180,
                visible=not fast,
                elem_id="batch-style-image",
            )
            ui["size"] = widgets.slider("size", first_mode, elem_id="batch-size")
            ui["steps"] = widgets.slider("steps", QUALITY, QUALITY_NOTE, visible=quality,
                                         elem_id="batch-steps")  # fmt: skip
            ui["run"] = gr.Button("Stylize all", variant="primary", elem_id="batch-run")
        with gr.Column(min_width=320):
            ui["zip"] = gr.File(label="Results (zip)", interactive=False, elem_id="batch-zip")
            ui["report"] = gr.Markdown("", elem_id="batch-report")
    return ui


def _fusion_tab() -> dict[str, Any]:
    ui: dict[str, Any] = {}
    gr.Markdown(
        "Merge several photos of one scene: **exposure fusion** of a bracketed series, "
        "**focus stacking** of a focus series, or a seamless **blend** of two images "
        "through a mask (white keeps the first image)."
    )
    with gr.Row(equal_height=False):
        with gr.Column(min_width=320):
            ui["tool"] = gr.Radio(list(FUSION_TOOLS), value=FUSION_TOOLS[1], label="Tool",
                                  elem_id="fusion-tool")  # fmt: skip
            ui["images"] = gr.File(
                file_count="multiple", file_types=["image"], label="Photos",
                elem_id="fusion-images",
            )  # fmt: skip
            ui["mask"] = photo_input(
                label="Mask (blend only)", sources=["upload", "clipboard"],
                height=160, visible=False, elem_id="fusion-mask",
            )  # fmt: skip
            ui["feather"] = gr.Slider(0, 64, value=8, step=1, label="Edge softness (px)",
                                      visible=False)  # fmt: skip
            ui["align"] = gr.Checkbox(True, label="Align the photos first (hand-held shots)")
            ui["run"] = gr.Button("Fuse", variant="primary", elem_id="fusion-run")
        with gr.Column(min_width=320):
            ui["result"] = gr.Image(label="Fused image", type="filepath", interactive=False,
                                    height=400, elem_id="fusion-result")  # fmt: skip
            ui["status"] = gr.Markdown("", elem_id="fusion-status")
            ui["download"] = gr.DownloadButton("Download PNG", value=None, interactive=False,
                                               elem_id="fusion-download")  # fmt: skip
    return ui


# -------------------------------------------------------------------------------------- events


def _controls(values: dict[str, Any]) -> Controls:
    """The widgets' values by control name; those an API client leaves out stay unset."""
    return Controls(preview_every=values.get("preview_every"),
                    **{name: values.get(name) for name in CONTROL_WIDGETS})  # fmt: skip


def _regions(editor: dict | None, styles: list[str]) -> Regions:
    layers = list((editor or {}).get("layers") or [])
    return Regions(layers=layers, styles=dict(zip(REGIONS, styles, strict=True)))


def _finished(session: Session, entry) -> tuple:
    return (
        str(entry.path),
        "",
        handlers.describe_entry(entry),
        gr.DownloadButton(value=str(entry.path), interactive=True),
        gr.Button(interactive=True),
        *_follow_ups(entry),
        session.gallery(),
        session,
    )


def _follow_ups(entry) -> tuple:
    """Continue shown with a stopped result, Refine with an Instant one."""
    return gr.Button(visible=not entry.completed), gr.Button(visible=handlers.refinable(entry))


def _shown(state: Session, updates) -> Any:
    """A Quality run's updates as the Stylize tab's outputs: previews, then the result."""
    for update in updates:
        if update.entry is not None:
            yield _finished(state, update.entry)
        else:
            preview = update.preview if update.preview is not None else gr.skip()
            html_text = handlers.progress_html(update.progress, update.text)
            yield (preview, html_text, RUNNING, *(gr.skip(),) * 6)


def _wire_stylize(services: Services, guard, session: gr.State, ui: dict[str, Any]) -> None:
    names = [
        "content", "mode", "style", "style1", "weight1", "style2", "weight2", "style3",
        "weight3", "size", "upscale", "strength", "style_weight", "preserve_color",
        "style_scale", "steps", "seed", "content_weight", "tv_weight", "optimizer", "init",
        "preview_every", "feather", "editor",
    ]  # fmt: skip
    inputs = [session, *(ui[n] for n in names), *ui["region_styles"]]
    outputs = [ui["result"], ui["progress"], ui["status"], ui["download"], ui["reuse"],
               ui["continue"], ui["refine"], ui["history"], session]  # fmt: skip

    # Explicit parameters: Gradio injects `request` by position, and API clients call
    # /stylize with these names (content=..., mode="Fast", style=..., size=...).
    @guard
    def stylize(
        state: Session, content=None, mode=None, style=None, style1=None, weight1=None,
        style2=None, weight2=None, style3=None, weight3=None, size=None, upscale=None,
        strength=None,
        style_weight=None, preserve_color=None, style_scale=None, steps=None, seed=None,
        content_weight=None, tv_weight=None, optimizer=None, init=None, preview_every=None,
        feather=None, editor=None, red_region=None, blue_region=None, green_region=None,
        yellow_region=None, request: gr.Request | None = None,
    ):  # fmt: skip
        """Defaults of None make every input but the photo optional for API clients."""
        controls = _controls(locals())
        regions = _regions(editor, [red_region, blue_region, green_region, yellow_region])
        if mode == FAST:
            entry = handlers.run_fast(services, state, content, style, controls, regions)
            yield _finished(state, entry)
            return
        styles = [(style1, weight1), (style2, weight2), (style3, weight3)]
        key = (request.session_hash if request else None) or state.id
        if mode == INSTANT:
            entry = handlers.run_instant(services, state, key, content, styles, controls,
                                         regions)  # fmt: skip
            yield _finished(state, entry)
            return
        services.started(key)
        yield from _shown(state, handlers.run_quality(services, state, key, content, styles,
                                                      controls, regions))  # fmt: skip

    # Fast, Instant and Quality jobs queue apart: a Fast or Instant job (about a second)
    # never waits behind a Quality run, and each queue's wait estimate comes from its own
    # kind of job. The button routes to one of three hidden counters whose change runs it.
    groups = {FAST: (FAST_QUEUE, FAST_JOBS), INSTANT: (INSTANT_QUEUE, INSTANT_JOBS),
              QUALITY: (ENGINE, services.concurrency)}  # fmt: skip
    goes = {mode: gr.Number(0, visible=False) for mode in groups}
    shown = {"show_progress": "full", "show_progress_on": [ui["result"]], "api_name": False}
    jobs = {mode: goes[mode].change(stylize, inputs, outputs, concurrency_id=group,
                                    concurrency_limit=limit, **shown)
            for mode, (group, limit) in groups.items()}  # fmt: skip

    def route(request: gr.Request, mode: str, *counts: float):
        """The counter of the chosen mode's queue goes up; a Quality job is counted as queued
        (Stop withdraws it)."""
        if mode == QUALITY:
            services.queued(request.session_hash or "")
        bumped = tuple(n + 1 if m == mode else gr.skip() for m, n in zip(goes, counts, strict=True))
        return (*bumped, "Waiting for the engine…" if mode == QUALITY else "Working…")

    ui["run"].click(route, [ui["mode"], *goes.values()], [*goes.values(), ui["status"]],
                    queue=False, api_name=False)  # fmt: skip
    # API clients call /stylize with either mode (it queues with the Quality jobs).
    gr.Button(visible=False).click(stylize, inputs, outputs, api_name="stylize",
                                   concurrency_id=ENGINE,
                                   concurrency_limit=services.concurrency)  # fmt: skip

    refine_job = _wire_refine(services, guard, session, ui, outputs)
    _wire_continue_and_stop(services, guard, session, ui, outputs, [jobs[QUALITY], refine_job])
    _wire_mode_and_settings(services, guard, ui)
    _wire_picking(services, guard, session, ui)


def _wire_refine(
    services: Services, guard, session: gr.State, ui: dict[str, Any], outputs: list
) -> Any:
    """Refine: the Instant result on screen taken on by a Quality run from it, queued with
    the Quality jobs (Stop withdraws it there). Returns the event, for Stop to cancel."""

    def queue_up(request: gr.Request):
        services.queued(request.session_hash or "")
        return "Waiting for the engine…"

    @guard
    def refine(request: gr.Request, state: Session, *values: Any):
        key = request.session_hash or state.id
        services.started(key)
        quality = _controls(dict(zip(REFINE_WIDGETS + ("preview_every",), values, strict=True)))
        yield from _shown(state, handlers.run_refine(services, state, key, state.shown, quality))

    widgets_now = [session, *(ui[n] for n in REFINE_WIDGETS), ui["preview_every"]]
    return ui["refine"].click(queue_up, None, ui["status"], queue=False, api_name=False).then(
        refine, widgets_now, outputs, api_name=False, concurrency_id=ENGINE,
        concurrency_limit=services.concurrency, show_progress="full",
        show_progress_on=[ui["result"]])  # fmt: skip


def _wire_continue_and_stop(
    services: Services, guard, session: gr.State, ui: dict[str, Any], outputs: list,
    queued_jobs: list[Any],
) -> None:
    """Continue from a stopped result; Stop a running job, or withdraw a queued one."""
    withdraw = gr.Number(0, visible=False)

    @guard
    def continue_run(state: Session, request: gr.Request | None = None):
        """The stopped result on screen, finished from the image and scale it reached."""
        entry = state.shown
        if entry is None or entry.completed or entry.job is None:
            raise UserError("There is no stopped Quality result on screen to continue.")
        job = entry.job
        key = (request.session_hash if request else None) or state.id
        yield from _shown(state, handlers.run_quality(
            services, state, key, job.content, job.styles, job.controls, job.regions,
            resume=entry))  # fmt: skip

    ui["continue"].click(continue_run, [session], outputs, api_name=False,
                         concurrency_limit=services.concurrency, concurrency_id=ENGINE,
                         show_progress="full", show_progress_on=[ui["result"]])  # fmt: skip

    @guard
    def stop(withdrawn: float, request: gr.Request):
        """A running job stops with its best image; a queued one is withdrawn (the page
        cancels it, through the hidden counter's change)."""
        key = request.session_hash or ""
        if services.cancel(key):
            return "Stopping: the best image so far is on its way.", gr.skip()
        if services.withdraw(key):
            return "Withdrawn: your queued job will not run.", withdrawn + 1
        return "Nothing is running or waiting.", gr.skip()

    ui["stop"].click(stop, withdraw, [ui["status"], withdraw], queue=False, api_name="stop")
    withdraw.change(None, None, None, cancels=queued_jobs, queue=False)


def _wire_mode_and_settings(services: Services, guard, ui: dict[str, Any]) -> None:
    """Mode switches re-range the controls; a dropped result sets mode, style and controls."""
    mode_outputs = [ui["fast_box"], ui["images_box"], *(ui[n] for n in CONTROL_WIDGETS)]

    def mode_updates(mode: str, values: dict[str, Any] | None = None) -> tuple:
        """Boxes shown, and every control widget re-ranged for `mode`: at its default there
        or at `values` (a loaded result's)."""
        quality = mode == QUALITY
        updates = []
        for name in CONTROL_WIDGETS:
            update: dict[str, Any] = {"info": widgets.info(name, mode)}
            if name in QUALITY_ONLY:
                update["visible"] = quality
            if name in ("size", "style_scale"):
                update.update(widgets.slider_range(name, mode))
            if values is not None and name in values:
                update["value"] = values[name]
            updates.append(gr.update(**update))
        images = mode != FAST  # Instant and Quality modes take style images
        return (gr.Column(visible=not images), gr.Column(visible=images), *updates)

    # .input, not .change: a result's settings set the mode too, and then keep their values.
    ui["mode"].input(mode_updates, ui["mode"], mode_outputs, queue=False, api_name=False)

    @guard
    def load_settings(path: str | None):
        """A dropped result: the mode, the style and every control take its values."""
        if not path:
            return (gr.skip(),) * (5 + len(CONTROL_WIDGETS))
        loaded = handlers.load_settings(services, path)
        fast = loaded.mode == FAST
        style = loaded.style or gr.skip()
        return (loaded.mode, style if fast else gr.skip(), gr.skip() if fast else style,
                *mode_updates(loaded.mode, loaded.values), loaded.note)  # fmt: skip

    ui["settings_from"].upload(
        load_settings,
        ui["settings_from"],
        [ui["mode"], ui["style"], ui["style1"], *mode_outputs, ui["status"]],
        queue=False,
        api_name="load_settings",
    )


def _wire_picking(services: Services, guard, session: gr.State, ui: dict[str, Any]) -> None:
    """The style grid, the photo reaching the region painter, the history and reuse."""
    def pick_style(evt: gr.SelectData):
        names = services.style_names()
        return names[evt.index] if 0 <= evt.index < len(names) else gr.skip()

    ui["grid"].select(pick_style, None, ui["style"], queue=False, api_name=False)

    def photo_landed(payload: dict | None):
        """Checked the moment it lands: a usable photo goes to the region painter and enables
        Stylize; anything else is cleared, with one line beside it saying why. Unprocessed
        (preprocess=False): Gradio's own decoding would refuse bad files in Pillow's words."""
        path = (payload or {}).get("path")
        if not path:
            return gr.skip(), None, gr.skip(), gr.Button(interactive=False)
        try:
            usable = handlers.check_photo(services, path)
        except UserError as exc:
            message = f"⚠ {html.escape(str(exc))}."
            return None, None, message, gr.Button(interactive=False)
        return gr.skip(), usable, "", gr.Button(interactive=True)

    ui["content"].change(photo_landed, ui["content"],
                         [ui["content"], ui["editor"], ui["photo_message"], ui["run"]],
                         queue=False, api_name=False, preprocess=False)  # fmt: skip

    @guard
    def show_history(state: Session, evt: gr.SelectData):
        entry = state.select(evt.index)
        if entry is None:
            return (gr.skip(),) * 7 + (state,)
        return (
            str(entry.path),
            handlers.describe_entry(entry),
            gr.DownloadButton(value=str(entry.path), interactive=True),
            gr.Button(interactive=True),
            *_follow_ups(entry),
            "",
            state,
        )

    ui["history"].select(
        show_history,
        session,
        [ui["result"], ui["status"], ui["download"], ui["reuse"], ui["continue"], ui["refine"],
         ui["progress"], session],
        queue=False,
        api_name=False,
    )

    @guard
    def reuse(state: Session):
        return handlers.use_as_content(state)

    ui["reuse"].click(reuse, session, ui["content"], queue=False, api_name=False)


def _wire_history(
    services: Services, demo: gr.Blocks, session: gr.State, key: gr.BrowserState,
    ui: dict[str, Any],
) -> None:
    """History that survives a reload of the same browser, and a button that clears it."""

    def restore(token: str):
        state = services.histories.recall(token)
        return state, state.gallery(), state.id

    demo.load(restore, key, [session, ui["history"], key], queue=False, api_name=False)

    def clear(state: Session):
        fresh = services.histories.clear(state)
        return (fresh, [], fresh.id, None, "History cleared: its images are deleted.",
                gr.DownloadButton(value=None, interactive=False), gr.Button(interactive=False),
                gr.Button(visible=False), gr.Button(visible=False))  # fmt: skip

    ui["clear_history"].click(
        clear, session,
        [session, ui["history"], key, ui["result"], ui["status"], ui["download"], ui["reuse"],
         ui["continue"], ui["refine"]],
        queue=False, api_name=False,
    )  # fmt: skip


def _wire_batch(services: Services, guard, ui: dict[str, Any]) -> None:
    def switch_mode(mode: str):
        return (
            gr.Dropdown(visible=mode == FAST),
            gr.Image(visible=mode != FAST),
            gr.Slider(visible=mode == QUALITY),
            gr.Slider(**widgets.slider_range("size", mode)),
        )

    ui["mode"].change(switch_mode, ui["mode"],
                      [ui["style"], ui["style_image"], ui["steps"], ui["size"]],
                      queue=False, api_name=False)  # fmt: skip

    @guard
    def run(files, mode, style, style_image, size, steps, progress=gr.Progress()):  # noqa: B008
        controls = Controls(size=size, steps=steps)

        def report(done: int, total: int, name: str) -> None:
            progress((done, total), desc=f"{name}", unit="images")

        outcome = handlers.run_batch(services, files, mode, style, [(style_image, 1.0)],
                                     controls, report)  # fmt: skip
        return str(outcome.zip_path), outcome.summary()

    ui["run"].click(
        run,
        [ui["files"], ui["mode"], ui["style"], ui["style_image"], ui["size"], ui["steps"]],
        [ui["zip"], ui["report"]],
        api_name="batch",
        concurrency_limit=services.concurrency,
        concurrency_id=ENGINE,
    )


def _wire_fusion(
    services: Services, guard, session: gr.State, ui: dict[str, Any], main: dict[str, Any]
) -> None:
    def switch_tool(tool: str):
        blend = tool == FUSION_TOOLS[0]
        return gr.Image(visible=blend), gr.Slider(visible=blend), gr.Checkbox(visible=not blend)

    ui["tool"].change(switch_tool, ui["tool"], [ui["mask"], ui["feather"], ui["align"]],
                      queue=False, api_name=False)  # fmt: skip

    @guard
    def run(state: Session, tool, images, mask, feather, align):
        entry = handlers.run_fusion(services, state, tool, images, mask, feather, align)
        return (
            str(entry.path),
            handlers.describe_entry(entry),
            gr.DownloadButton(value=str(entry.path), interactive=True),
            state.gallery(),
            state,
        )

    ui["run"].click(
        run,
        [session, ui["tool"], ui["images"], ui["mask"], ui["feather"], ui["align"]],
        [ui["result"], ui["status"], ui["download"], main["history"], session],
        api_name="fuse",
        concurrency_limit=services.concurrency,
        concurrency_id=ENGINE,
    )


# ------------------------------------------------------------------------------------- serving


@dataclass
class Server:
    """A running app: its address, and how to stop it (which also deletes its files)."""

    demo: gr.Blocks
    services: Services
    url: str

    def close(self) -> None:
        self.demo.close(verbose=False)
        self.services.workspace.cleanup()

    def wait(self) -> None:
        """Until the server stops, Ctrl-C or SIGTERM (a service manager's stop); both return
        normally, so the caller's close() deletes the temporary folder."""
        main = threading.current_thread() is threading.main_thread()
        previous = signal.signal(signal.SIGTERM, _interrupt) if main else None
        try:
            with contextlib.suppress(KeyboardInterrupt):
                while self.demo.is_running:
                    time.sleep(0.2)
        finally:
            if main:
                signal.signal(signal.SIGTERM, previous)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def serve(config: UIConfig, *, block: bool = True) -> Server:
    """Build and launch; with block=False return at once, the server running in a thread."""
    workspace = Workspace(config.temp_dir)
    # Gradio keeps uploads and its file cache here; set before anything is built.
    os.environ["GRADIO_TEMP_DIR"] = str(workspace.gradio_dir)
    os.environ["GRADIO_EXAMPLES_CACHE"] = str(workspace.examples_dir)
    os.environ.setdefault("GRADIO_ANALYTICS_ENABLED", "False")
    atexit.register(workspace.cleanup)
    services = Services(config, workspace)
    if config.prewarm:
        services.prewarm()
    demo = build(services)
    demo.queue(default_concurrency_limit=services.concurrency, max_size=64)
    allowed = [str(workspace.root)]
    if config.gallery.is_dir():
        allowed.append(str(config.gallery.resolve()))
    demo.launch(
        server_name=config.host,
        server_port=config.port,
        prevent_thread_lock=True,
        inbrowser=config.open_browser,
        allowed_paths=allowed,
        max_file_size=config.max_upload_bytes,
        show_error=False,
        quiet=True,
        ssr_mode=False,
        css=CSS,
        theme=gr.themes.Soft(),
        footer_links=["api"],
    )
    server = Server(demo=demo, services=services, url=demo.local_url or "")
    if block:
        try:
            server.wait()
        finally:
            server.close()
    return server
