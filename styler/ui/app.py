"""The Gradio app: the Stylize, Batch, Video, Fusion and Make a style tabs put together
and wired.

Each tab's layout and events live in their own modules; what the buttons do is plain
Python (runs, batch, fusion) that works without gradio. Every handler turns failures into
a readable message (guard.py), never a stack trace; queues.py says who waits for whom.
"""

import gradio as gr

from styler.ui.batch_tab import batch_tab, wire_batch
from styler.ui.components import page_state
from styler.ui.fusion_tab import fusion_tab, wire_fusion
from styler.ui.guard import friendly
from styler.ui.history_events import wire_history
from styler.ui.input_events import wire_inputs
from styler.ui.inputs import FAST, QUALITY
from styler.ui.make_style_tab import make_style_tab, wire_make_style
from styler.ui.services import Services
from styler.ui.state import Session
from styler.ui.style_lists import StyleLists
from styler.ui.stylize_events import wire_stylize
from styler.ui.stylize_layout import stylize_tab
from styler.ui.video_tab import video_tab, wire_video


def build(services: Services) -> gr.Blocks:
    """The whole app: Stylize, Batch, Video and Fusion tabs."""
    config = services.config
    photos = [str(p) for p in config.photos()]
    style_images = [str(p) for p in config.style_images()]
    first_mode = FAST if services.style_names() else QUALITY
    guard = friendly()

    with gr.Blocks(
        title="styler: style transfer",
        analytics_enabled=False,
        fill_width=True,
        delete_cache=(3600, 24 * 3600),  # Gradio's copies of uploads and results: a day
    ) as demo:
        session = page_state(lambda: Session())  # the history restore fills it in
        # The session's secret id in the browser's own storage: a reload finds its history.
        history_key = gr.BrowserState("", storage_key="styler-history")
        gr.Markdown(
            "## styler\nRepaint a photo in the style of a painting: pick a photo, pick a "
            "style, press **Stylize**. Everything else is optional.",
            elem_id="intro",
        )
        with gr.Tabs():
            with gr.Tab("Stylize", id="stylize", elem_id="tab-stylize"):
                ui = stylize_tab(services, photos, style_images, first_mode)
            with gr.Tab("Batch", id="batch", elem_id="tab-batch"):
                batch = batch_tab(services, style_images, first_mode)
            with gr.Tab("Video", id="video", elem_id="tab-video"):
                video = video_tab(services, style_images, first_mode)
            with gr.Tab("Fusion", id="fusion", elem_id="tab-fusion"):
                fusion = fusion_tab()
            with gr.Tab("Make a style", id="make-style", elem_id="tab-make-style"):
                make_style = make_style_tab(services)

        wire_stylize(services, guard, session, ui)
        wire_inputs(services, session, ui)
        restored = wire_history(services, guard, demo, session, history_key, ui)
        wire_batch(services, batch)
        wire_video(services, video, session, restored)
        wire_fusion(services, guard, session, fusion, ui["history"])
        styles = StyleLists(services, [ui, batch, video])
        styles.wire()
        wire_make_style(services, make_style, ui, styles, demo)
    return demo
