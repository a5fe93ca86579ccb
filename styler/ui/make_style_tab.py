"""The Make a style tab: a painting, a name, the photos to train on and a time budget; Train
queues a fine-tuning of the base network (one at a time per server, in a worker process of
its own, so Stylize runs go on meanwhile); a bar, the loss and a preview follow it; Stop
keeps the best network so far, Resume continues a stopped or interrupted one. A finished
style joins Fast mode's grid on every tab, for every user of the server (open pages within
style_lists.REFRESH_S); Delete removes one.

What the buttons do is make_style_runs.py (no gradio). A timer polls the followed job's
status file once a second while it is queued or training.

No `from __future__ import annotations`: Gradio reads the handlers' annotations.
"""

from typing import Any

import gradio as gr

from styler.controls import TRAINING_CONTROLS
from styler.ui.components import photo_input
from styler.ui.guard import readable
from styler.ui.make_style_runs import (
    FINISHED,
    PHOTOS_ADVICE,
    delete,
    latest_preview,
    line_html,
    own_styles,
    progress_html,
    resumable,
    resume,
    server_photos,
    start,
    stop,
)
from styler.ui.services import Services
from styler.ui.style_lists import StyleLists

MAKE_STYLE_QUEUE, MAKE_STYLE_JOBS = "make-style", 2  # setting a job up copies its photos
POLL_S = 1.0
PHOTO_LIST_PX = 300  # the dropped photos' list scrolls past this: dozens of them are usual


def minutes_choices() -> list[float]:
    """The budgets offered: the registry's usual range in its steps (5, 10, 15, 20)."""
    control = TRAINING_CONTROLS["minutes"]
    low, high = control.slider or (control.default, control.default)
    step = control.step or high - low or 1
    return [low + i * step for i in range(int((high - low) / step) + 1)]


def make_style_tab(services: Services) -> dict[str, Any]:
    """Every component of the tab, by name."""
    ui: dict[str, Any] = {}
    control = TRAINING_CONTROLS["minutes"]
    offered = server_photos(services)
    gr.Markdown(
        "Teach styler a painting of your own: it fine-tunes its base network on your photos "
        "for a few minutes. The new style then appears in **Fast** mode for everyone using "
        "this server, and in `styler styles` on this machine.", elem_id="ms-intro",
    )  # fmt: skip
    with gr.Row(equal_height=False):
        with gr.Column(scale=5, min_width=320):
            ui["painting"] = photo_input(label="1 · The painting", sources=["upload", "clipboard"],
                                         height=200, elem_id="ms-painting")  # fmt: skip
            ui["use_style"] = gr.Button("Use the Stylize tab's style image", size="sm",
                                        elem_id="ms-use-style")  # fmt: skip
            ui["name"] = gr.Textbox(label="2 · Name", placeholder="letters, digits, - and _",
                                    max_length=48, elem_id="ms-name")  # fmt: skip
            ui["photos"] = gr.File(file_count="multiple", file_types=["image"], type="filepath",
                                   label=f"3 · Photos to train on ({PHOTOS_ADVICE})",
                                   height=PHOTO_LIST_PX, elem_id="ms-photos")  # fmt: skip
            ui["server_photos"] = gr.Checkbox(
                False, label=f"Also train on this server's {len(offered)} photos",
                visible=bool(offered), elem_id="ms-server-photos",
            )  # fmt: skip
            ui["minutes"] = gr.Radio(minutes_choices(), value=control.default,
                                     label=f"4 · {control.label} ({control.unit})",
                                     info=control.help, elem_id="ms-minutes")  # fmt: skip
        with gr.Column(scale=6, min_width=320):
            with gr.Row(equal_height=True):
                ui["train"] = gr.Button("Train", variant="primary", scale=2, min_width=100,
                                        elem_id="ms-train")  # fmt: skip
                ui["stop"] = gr.Button("Stop", variant="stop", scale=1, min_width=70,
                                       elem_id="ms-stop")  # fmt: skip
            ui["progress"] = gr.HTML("", elem_id="ms-progress")
            ui["status"] = gr.Markdown("", elem_id="ms-status")
            ui["preview"] = gr.Image(label="Preview: one of your photos in the new style",
                                     interactive=False, height=260, buttons=["fullscreen"],
                                     elem_id="ms-preview")  # fmt: skip
            with gr.Row(equal_height=True):
                ui["jobs"] = gr.Dropdown(resumable(), value=None, scale=3,
                                         label="Stopped or interrupted trainings",
                                         elem_id="ms-jobs")  # fmt: skip
                ui["resume"] = gr.Button("Resume", scale=1, min_width=70, elem_id="ms-resume")
            with gr.Row(equal_height=True):
                ui["own"] = gr.Dropdown(own_styles(), value=None, label="Your styles", scale=3,
                                        elem_id="ms-own")  # fmt: skip
                ui["delete"] = gr.Button("Delete", variant="stop", scale=1, min_width=70,
                                         elem_id="ms-delete")  # fmt: skip
    ui["timer"] = gr.Timer(POLL_S, active=False)
    ui["job"] = gr.State(None)  # the training this page follows
    ui["seen"] = gr.State(0)  # previews of it shown so far
    return ui


def wire_make_style(services: Services, ui: dict[str, Any], stylize: dict[str, Any],
                    styled: StyleLists, demo: gr.Blocks) -> None:  # fmt: skip
    """Train, the timer that follows it, Stop, Resume, Delete, the painting taken from the
    Stylize tab, and every style list refreshed at page load."""
    lists, list_updates = styled.outputs, styled.updates
    own_lists = [ui["jobs"], ui["own"]]

    def own_updates(keep_pick: bool = False) -> list[Any]:
        """The resumable trainings and your styles, their picks cleared; keep_pick leaves
        the pick in Your styles as the user has it (a response that may land after a pick)."""
        kept = {} if keep_pick else {"value": None}
        return [gr.Dropdown(choices=resumable(), value=None),
                gr.Dropdown(choices=own_styles(), **kept)]  # fmt: skip

    def on_load():
        services.refresh_styles()  # styles made since the page was built, here or by the CLI
        return *list_updates(), *own_updates()

    demo.load(on_load, None, [*lists, *own_lists], queue=False, api_name=False)
    ui["use_style"].click(lambda image: image or gr.skip(), stylize["style1"], ui["painting"],
                          queue=False, api_name=False)  # fmt: skip

    follow = [ui["job"], ui["status"], ui["progress"], ui["timer"], ui["seen"]]

    def train(painting: Any, name: str, photos: Any, use_server: bool, minutes: float):
        try:
            job, text = start(services, painting, name, photos, use_server, float(minutes))
        except Exception as exc:
            return gr.skip(), f"⚠ {readable(exc)}", gr.skip(), gr.skip(), gr.skip()
        return job, "", line_html(text), gr.Timer(active=True), 0

    ui["train"].click(train, [ui["painting"], ui["name"], ui["photos"], ui["server_photos"],
                              ui["minutes"]], follow, concurrency_id=MAKE_STYLE_QUEUE,
                      concurrency_limit=MAKE_STYLE_JOBS, api_name=False)  # fmt: skip

    def resume_job(name: str | None):
        try:
            job, text = resume(services, name)
        except Exception as exc:
            return gr.skip(), f"⚠ {readable(exc)}", gr.skip(), gr.skip(), gr.skip()
        return job, "", line_html(text), gr.Timer(active=True), 0

    ui["resume"].click(resume_job, ui["jobs"], follow, queue=False, api_name=False)

    def stop_job(job: str | None):
        return stop(services, job)

    ui["stop"].click(stop_job, ui["job"], ui["status"], queue=False, api_name=False)

    def tick(job: str | None, seen: int):
        """The followed job's bar, line and newest preview; at its end the style lists, once:
        the page stops following the job, so a later tick cannot clear a style the user has
        just picked in the lists."""
        if not job:
            return gr.Timer(active=False), *(gr.skip(),) * (4 + len(lists) + len(own_lists))
        status = services.trainings.status(job)
        place = services.trainings.place(job)
        preview = latest_preview(job) if status.previews > seen else None
        shown = (preview if preview is not None else gr.skip(), status.previews)
        ended = status.state in FINISHED and place is None
        text = progress_html(status, place)
        if not ended:
            return gr.skip(), gr.skip(), text, *shown, *(gr.skip(),) * (len(lists) + len(own_lists))
        services.refresh_styles()
        # the new style only adds a choice to Your styles: whatever the user picked stays
        return (gr.Timer(active=False), None, text, *shown, *list_updates(),
                *own_updates(keep_pick=True))

    ui["timer"].tick(tick, [ui["job"], ui["seen"]],
                     [ui["timer"], ui["job"], ui["progress"], ui["preview"], ui["seen"],
                      *lists, *own_lists], queue=False, api_name=False)  # fmt: skip

    def delete_style(name: str | None):
        try:
            text = delete(services, name)
        except Exception as exc:
            return f"⚠ {readable(exc)}", *(gr.skip(),) * (len(lists) + len(own_lists))
        return text, *list_updates(), *own_updates()

    ui["delete"].click(delete_style, ui["own"], [ui["status"], *lists, *own_lists],
                       queue=False, api_name=False)  # fmt: skip
