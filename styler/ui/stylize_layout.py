"""The Stylize tab's layout: photo, mode, style, the control widgets, the region painter,
and the result column with its history. Only components here; stylize_events.py,
input_events.py and history_events.py wire them."""

from __future__ import annotations

from typing import Any

import gradio as gr

from styler.ui import widgets
from styler.ui.components import photo_input, thumbnail_grid
from styler.ui.effects import REGIONS, brush_colours
from styler.ui.inputs import (
    FAST,
    INSTANT,
    MAIN_STYLE,
    NO_STYLE,
    OFFERED,
    QUALITY,
    STYLE_IMAGES,
)
from styler.ui.services import Services
from styler.ui.state import MAX_HISTORY

# Controls most people leave alone go under Advanced; every other offered control goes
# under "4 · Adjust", each in the registry's order (widgets.control_widget makes them).
ADVANCED = frozenset({"content_weight", "tv_weight", "optimizer", "init", "feather"})


def stylize_tab(
    services: Services, photos: list[str], style_images: list[str], first_mode: str
) -> dict[str, Any]:
    """Every component of the tab, by name."""
    ui: dict[str, Any] = {}
    names = services.style_names()
    with gr.Row(equal_height=False):
        with gr.Column(scale=5, min_width=340):
            ui["content"] = photo_input(
                label="1 · Your photo",  # the buttons under it: upload, webcam, paste
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
                info="Fast: a ready-made style. Instant: any style image, in one pass. Quality: "
                "any style image, painted step by step (the longest). Stylize says how long "
                "a run should take, from this server's last runs.",
                elem_id="mode",
            )
            _style_boxes(ui, services, names, style_images, first_mode != FAST)
            _adjust_controls(ui, first_mode)
            _region_painter(ui, services, photos, first_mode)
        _result_column(ui)
    return ui


def _style_boxes(
    ui: dict[str, Any], services: Services, names: list[str], style_images: list[str],
    images: bool,
) -> None:  # fmt: skip
    """Step 3: the fast style grid, or the style images of Instant and Quality modes."""
    with gr.Column(visible=not images) as ui["fast_box"]:
        ui["grid"] = thumbnail_grid(
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
        # A style image is checked as it lands, in the photo's words (input_events.py).
        ui["style_message"] = gr.Markdown("", elem_id="style-message")
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


def _adjust_controls(ui: dict[str, Any], first_mode: str) -> None:
    """Step 4 and Advanced: every offered control's widget, made from styler.controls."""
    with gr.Accordion("4 · Adjust (optional)", open=False, elem_id="controls"):
        for name in OFFERED:
            if name not in ADVANCED:
                ui[name] = widgets.control_widget(name, first_mode)
    with gr.Accordion("Advanced", open=False, elem_id="advanced"):
        for name in OFFERED:
            if name in ADVANCED:
                ui[name] = widgets.control_widget(name, first_mode)
        ui["preview_every"] = gr.Slider(
            0, 50, value=0, step=1, label="Live preview every N steps (0: automatic)"
        )
        ui["settings_from"] = gr.File(
            label="Load settings from a result (drop a styler PNG, JPEG or WebP)",
            file_types=["image"], elem_id="settings-from",
        )  # fmt: skip


def region_choices(services: Services, mode: str) -> list[tuple[str, str]]:
    """A region's style choices in `mode`: Fast mode takes the fast styles, Instant and
    Quality modes the style images (offering the other kind would only fail at Stylize).
    Titles shown, ids kept: 'The Starry Night', not starry_night."""
    own = ([(services.style_title(n), n) for n in services.style_names()] if mode == FAST
           else [(c, c) for c in STYLE_IMAGES])  # fmt: skip
    return [(c, c) for c in (MAIN_STYLE, NO_STYLE)] + own


def _region_painter(ui: dict[str, Any], services: Services, photos: list[str],
                    first_mode: str) -> None:  # fmt: skip
    """The region painter and each region's style."""
    with gr.Accordion(
        "Regions: paint areas, give each a style", open=False,
        elem_id="regions",
    ):  # fmt: skip
        # The hint stands above the painter: the painter's own toolbar would cover a label.
        gr.Markdown("Drag on the photo to paint the Red region (the palette button at its left "
                    "paints another), then pick each region's style below.",
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
        choices = region_choices(services, first_mode)
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
            elem_classes=["styler-image"],
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
        ui["history"] = thumbnail_grid(
            f"This session's results, the last {MAX_HISTORY} kept (click one to show it again)",
            "history")  # fmt: skip
        ui["clear_history"] = gr.Button("Clear history", size="sm", elem_id="clear-history")
        with gr.Row(visible=False, elem_id="clear-confirm") as ui["clear_confirm"]:
            ui["clear_question"] = gr.Markdown("", elem_id="clear-question")
            ui["clear_yes"] = gr.Button("Delete", variant="stop", size="sm", scale=0,
                                        min_width=90, elem_id="clear-yes")  # fmt: skip
            ui["clear_no"] = gr.Button("Keep", size="sm", scale=0, min_width=90,
                                       elem_id="clear-no")  # fmt: skip
