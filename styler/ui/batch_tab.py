"""The Batch tab: photos or zips of photos in, one mode and style for all, a zip back."""

from typing import Any

import gradio as gr

from styler.imageio import IMAGE_EXTENSIONS
from styler.progress import CancelToken
from styler.ui import widgets
from styler.ui.batch import BatchOutcome, Report, followed_batch, run_batch
from styler.ui.components import photo_input
from styler.ui.guard import readable
from styler.ui.inputs import FAST, INSTANT, QUALITY, Controls
from styler.ui.queues import ENGINE
from styler.ui.services import Services
from styler.ui.slot_events import wire_file_slot, wire_image_slot


def batch_tab(services: Services, style_images: list[str], first_mode: str) -> dict[str, Any]:
    """Every component of the tab, by name."""
    ui: dict[str, Any] = {}
    names = services.style_names()
    fast = first_mode == FAST
    gr.Markdown("Stylize many photos at once: upload photos or zip files, get one zip back.")
    with gr.Row(equal_height=False):
        with gr.Column(min_width=320):
            ui["files"] = gr.File(
                file_count="multiple",
                file_types=["image", ".zip", *sorted(IMAGE_EXTENSIONS)],  # RAW is no image/*
                label="Photos or zips of photos",
                elem_id="batch-files",
            )
            ui["files_message"] = gr.Markdown("", elem_id="batch-files-message")
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
            ui["style_message"] = gr.Markdown("", elem_id="batch-style-message")
            ui["size"] = widgets.control_widget("size", first_mode, elem_id="batch-size")
            ui["upscale"] = widgets.control_widget("upscale", first_mode, elem_id="batch-upscale")
            ui["steps"] = widgets.control_widget("steps", first_mode, elem_id="batch-steps")
            ui["stroke_side"] = widgets.control_widget("stroke_side", first_mode,
                                                       elem_id="batch-stroke-side")  # fmt: skip
            with gr.Row():
                ui["run"] = gr.Button("Stylize all", variant="primary", elem_id="batch-run")
                ui["stop"] = gr.Button("Stop", variant="stop", elem_id="batch-stop")
        with gr.Column(min_width=320):
            ui["zip"] = gr.File(label="Results (zip)", interactive=False, elem_id="batch-zip")
            ui["report"] = gr.Markdown("", elem_id="batch-report")
    return ui


def wire_batch(services: Services, ui: dict[str, Any]) -> None:
    wire_file_slot(services, ui["files"], ui["files_message"], "batch file", zips=True)
    wire_image_slot(services, ui["style_image"], ui["style_message"], "style image")

    def switch_mode(mode: str):
        return (
            gr.Dropdown(visible=mode == FAST),
            gr.Image(visible=mode != FAST),
            gr.Slider(visible=widgets.acts_in("steps", mode)),
            gr.Slider(**widgets.slider_range("size", mode)),
            gr.update(**widgets.mode_update("stroke_side", mode)),
        )

    ui["mode"].change(switch_mode, ui["mode"],
                      [ui["style"], ui["style_image"], ui["steps"], ui["size"], ui["stroke_side"]],
                      queue=False, api_name=False)  # fmt: skip

    def run(files, mode, style, style_image, size, upscale, steps, stroke_side,
            request: gr.Request, progress=gr.Progress()):  # noqa: B008
        """The batch, followed (styler.ui.batch.followed_batch); a refusal or failure is the
        report's one line, which stays, not a passing message."""
        controls = Controls(size=size, upscale=upscale, steps=steps, stroke_side=stroke_side)
        yield None, ""  # the last batch's zip and report are not this one's

        def start(report: Report, token: CancelToken) -> BatchOutcome:
            return run_batch(services, files, mode, style, [(style_image, 1.0)], controls,
                             report, token)  # fmt: skip

        try:
            for item in followed_batch(services, _stop_key(request), start):
                if isinstance(item, BatchOutcome):
                    yield (str(item.zip_path) if item.zip_path else None), item.summary()
                    return
                if item is not None:
                    progress((item[0], item[1]), desc=item[2], unit="images")
                yield gr.skip(), gr.skip()
        except Exception as exc:
            yield None, f"⚠ {readable(exc)}"

    def stop(request: gr.Request):
        """Stop the page's batch now (a Quality photo takes minutes): the photo under way is
        dropped, and the zip holds the photos done. With none running, nothing changes (the
        last report was replaced by 'Nothing is running', the zip still offered)."""
        if services.cancel(_stop_key(request)):
            return "Stopping…"
        return gr.skip()  # nothing to stop: the report stays, it says what the zip holds

    ui["run"].click(
        run,
        [ui["files"], ui["mode"], ui["style"], ui["style_image"], ui["size"], ui["upscale"],
         ui["steps"], ui["stroke_side"]],
        [ui["zip"], ui["report"]],
        api_name="batch",
        concurrency_limit=services.concurrency,
        concurrency_id=ENGINE,
    )
    ui["stop"].click(stop, None, ui["report"], queue=False, api_name=False)


def _stop_key(request: gr.Request) -> str:
    """The page's batch, as its Stop finds it (the page's own connection)."""
    return f"batch:{request.session_hash}"
