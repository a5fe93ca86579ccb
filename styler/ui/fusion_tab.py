"""The Fusion tab: several photos of one scene merged (exposure fusion, focus stacking) or
two blended through a mask; the result joins the Stylize tab's history. Each tool's
options are widgets of styler.controls.FUSION_CONTROLS, as `styler fuse` takes them."""

from collections.abc import Callable
from typing import Any

import gradio as gr

from styler.controls import FUSION_CONTROLS
from styler.ui import results, widgets
from styler.ui.components import api_signature, download_button, photo_input, with_signature
from styler.ui.fusion import FUSION_TOOLS, TOOLS, run_fusion
from styler.ui.guard import readable
from styler.ui.queues import ENGINE
from styler.ui.services import Services
from styler.ui.slot_events import wire_file_slot, wire_image_slot
from styler.ui.state import Session

FIRST_TOOL = FUSION_TOOLS[1]  # exposure fusion: the tab's most common use
# Options most people leave alone go under Advanced; each tool shows its own.
ADVANCED = frozenset({"levels", "align_method", "motion"})
# API clients call /fuse with these names (tool=..., images=[...], feather=...).
FUSE_SIGNATURE = api_signature(("tool", "images", "mask", *FUSION_CONTROLS))


def fusion_tab() -> dict[str, Any]:
    """Every component of the tab, by name."""
    ui: dict[str, Any] = {}
    gr.Markdown(
        "Merge several photos of one scene: **exposure fusion** of a bracketed series, "
        "**focus stacking** of a focus series, or a seamless **blend** of two images "
        "through a mask (white keeps the first image)."
    )
    with gr.Row(equal_height=False):
        with gr.Column(min_width=320):
            ui["tool"] = gr.Radio(list(FUSION_TOOLS), value=FIRST_TOOL, label="Tool",
                                  elem_id="fusion-tool")  # fmt: skip
            ui["images"] = gr.File(
                file_count="multiple", file_types=["image"], label="Photos",
                elem_id="fusion-images",
            )  # fmt: skip
            ui["images_message"] = gr.Markdown("", elem_id="fusion-images-message")
            ui["mask"] = photo_input(
                label="Mask (blend only)", sources=["upload", "clipboard"],
                height=160, visible=False, elem_id="fusion-mask",
            )  # fmt: skip
            ui["mask_message"] = gr.Markdown("", elem_id="fusion-mask-message")
            _option_widgets(ui, main=True)
            with gr.Accordion("Advanced", open=False, elem_id="fusion-advanced"):
                _option_widgets(ui, main=False)
            ui["run"] = gr.Button("Fuse", variant="primary", elem_id="fusion-run")
        with gr.Column(min_width=320):
            ui["result"] = gr.Image(label="Fused image", type="filepath", interactive=False,
                                    height=400, elem_id="fusion-result")  # fmt: skip
            ui["status"] = gr.Markdown("", elem_id="fusion-status")
            ui["download"] = gr.DownloadButton("Download PNG", value=None, interactive=False,
                                               elem_id="fusion-download")  # fmt: skip
    return ui


def _option_widgets(ui: dict[str, Any], main: bool) -> None:
    """The widgets of every tool's options (Advanced ones or the others), made from the
    registry; only the chosen tool's are shown."""
    tools = tuple(TOOLS.values())
    for name in FUSION_CONTROLS:
        if (name in ADVANCED) != main:
            ui[name] = widgets.fusion_widget(name, TOOLS[FIRST_TOOL], tools)


def wire_fusion(
    services: Services, guard: Callable, session: gr.State, ui: dict[str, Any],
    history: gr.Gallery,
) -> None:  # fmt: skip
    """The tool switch shows its options; Fuse adds the result to the Stylize history."""

    options = list(FUSION_CONTROLS)
    wire_file_slot(services, ui["images"], ui["images_message"], "photo")
    wire_image_slot(services, ui["mask"], ui["mask_message"], "mask")

    def switch_tool(tool: str):
        blend = tool == FUSION_TOOLS[0]
        return (gr.Image(visible=blend),
                *(gr.update(**widgets.fusion_update(n, TOOLS[tool])) for n in options))  # fmt: skip

    ui["tool"].change(switch_tool, ui["tool"], [ui["mask"], *(ui[n] for n in options)],
                      queue=False, api_name=False)  # fmt: skip

    def fuse(*args: Any) -> tuple:
        given = FUSE_SIGNATURE.bind(*args).arguments
        state: Session = given["state"]
        entry = run_fusion(services, state, given.get("tool"), given.get("images"),
                           given.get("mask"), **{n: given.get(n) for n in options})  # fmt: skip
        return (
            str(entry.path),
            results.describe_entry(entry),
            download_button(str(entry.path)),
            state.gallery(),
            state,
        )

    @with_signature(FUSE_SIGNATURE)
    def run(*args: Any) -> tuple:
        """The page's Fuse: a failure is the status line, with no result on screen and
        nothing to download (a message box would fade and leave the last result's)."""
        try:
            return fuse(*args)
        except Exception as exc:  # noqa: BLE001 - every failure becomes the status line
            return None, f"⚠ {readable(exc)}", download_button(None), gr.skip(), gr.skip()

    inputs = [session, ui["tool"], ui["images"], ui["mask"], *(ui[n] for n in options)]
    outputs = [ui["result"], ui["status"], ui["download"], history, session]
    engine_queue = {"concurrency_limit": services.concurrency, "concurrency_id": ENGINE}
    ui["run"].click(run, inputs, outputs, api_name=False, **engine_queue)
    # API clients call /fuse and get the error itself
    gr.Button(visible=False).click(guard(with_signature(FUSE_SIGNATURE)(fuse)), inputs, outputs,
                                   api_name="fuse", **engine_queue)  # fmt: skip
