"""The Fusion tab: several photos of one scene merged (exposure fusion, focus stacking) or
two blended through a mask; the result joins the Stylize tab's history."""

from collections.abc import Callable
from typing import Any

import gradio as gr

from styler.ui import results
from styler.ui.components import download_button, photo_input
from styler.ui.fusion import FUSION_TOOLS, run_fusion
from styler.ui.queues import ENGINE
from styler.ui.services import Services
from styler.ui.state import Session


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


def wire_fusion(
    services: Services, guard: Callable, session: gr.State, ui: dict[str, Any],
    history: gr.Gallery,
) -> None:  # fmt: skip
    """The tool switch shows its options; Fuse adds the result to the Stylize history."""

    def switch_tool(tool: str):
        blend = tool == FUSION_TOOLS[0]
        return gr.Image(visible=blend), gr.Slider(visible=blend), gr.Checkbox(visible=not blend)

    ui["tool"].change(switch_tool, ui["tool"], [ui["mask"], ui["feather"], ui["align"]],
                      queue=False, api_name=False)  # fmt: skip

    @guard
    def run(state: Session, tool, images, mask, feather, align):
        entry = run_fusion(services, state, tool, images, mask, feather, align)
        return (
            str(entry.path),
            results.describe_entry(entry),
            download_button(str(entry.path)),
            state.gallery(),
            state,
        )

    ui["run"].click(
        run,
        [session, ui["tool"], ui["images"], ui["mask"], ui["feather"], ui["align"]],
        [ui["result"], ui["status"], ui["download"], history, session],
        api_name="fuse",
        concurrency_limit=services.concurrency,
        concurrency_id=ENGINE,
    )
