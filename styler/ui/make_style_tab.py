"""The Make a style tab: a painting, a name, the photos to train on and a time budget; Train
queues a fine-tuning of the base network (one at a time per server, in a worker process of
its own, so Stylize runs go on meanwhile); a bar, the loss and a preview follow it; Stop
keeps the best network so far, Resume continues a stopped or interrupted one. A finished
style joins Fast mode's grid on every tab, for every user of the server (open pages within
style_lists.REFRESH_S); Delete removes one.

Trainings are the server's, as its styles are: every page lists them all (running and
queued ones too) and follows one: the one it started, resumed or picked in the list, else
the server's current one, found at page load and every WATCH_S. A reload or a second tab
therefore shows a running training's bar, and its Stop stops it. A timer polls the
followed job's status file once a second while it is queued or training. Both timers
write the server's trainings and user styles into a hidden box whose change (and only
that) renews the two lists: a list that is an output of a timer is redrawn at every tick,
and an open one closes under the user's pointer. (A gr.State's change would do, but only
queued events fire it, and a timer's ticks must not fill the queue.)

What the buttons do is make_style_runs.py (no gradio). The painting and the photos are
checked as they land (slot_events.py), one line beside the slot naming the file.

No `from __future__ import annotations`: Gradio reads the handlers' annotations.
"""

import json
from collections.abc import Callable
from typing import Any

import gradio as gr

from styler.controls import TRAINING_CONTROLS
from styler.fast.style_jobs import MIN_PHOTOS
from styler.ui.components import photo_input
from styler.ui.guard import readable
from styler.ui.make_style_runs import (
    FINISHED,
    PHOTOS_ADVICE,
    ServerPhotosLabel,
    current,
    delete,
    latest_preview,
    line_html,
    listings,
    not_shown,
    own_styles,
    progress_html,
    resume,
    start,
    stop,
    trainings,
)
from styler.ui.services import Services
from styler.ui.slot_events import wire_file_slot, wire_image_slot
from styler.ui.style_lists import StyleLists

MAKE_STYLE_QUEUE, MAKE_STYLE_JOBS = "make-style", 2  # setting a job up copies its photos
POLL_S = 1.0
WATCH_S = 5.0  # how soon a page that follows no training finds one started elsewhere
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
    gr.Markdown(
        "Teach styler a painting of your own: it fine-tunes its base network on your photos "
        "for a few minutes. The new style then appears in **Fast** mode for everyone using "
        "this server, and in `styler styles` on this machine.", elem_id="ms-intro",
    )  # fmt: skip
    with gr.Row(equal_height=False):
        with gr.Column(scale=5, min_width=320):
            ui["painting"] = photo_input(label="1 · The painting", sources=["upload", "clipboard"],
                                         height=200, elem_id="ms-painting")  # fmt: skip
            ui["painting_message"] = gr.Markdown("", elem_id="ms-painting-message")
            ui["use_style"] = gr.Button("Use the Stylize tab's style image", size="sm",
                                        elem_id="ms-use-style")  # fmt: skip
            ui["name"] = gr.Textbox(label="2 · Name", placeholder="letters, digits, - and _",
                                    max_length=48, elem_id="ms-name")  # fmt: skip
            ui["photos"] = gr.File(file_count="multiple", file_types=["image"], type="filepath",
                                   label=f"3 · Photos to train on (at least {MIN_PHOTOS})",
                                   height=PHOTO_LIST_PX, elem_id="ms-photos")  # fmt: skip
            ui["photos_message"] = gr.Markdown("", elem_id="ms-photos-message")
            gr.Markdown(PHOTOS_ADVICE, elem_id="ms-photos-advice")
            # shown by the page's load once the server's photos are counted (ServerPhotosLabel)
            ui["server_photos"] = gr.Checkbox(False, label="", visible=False,
                                              elem_id="ms-server-photos")  # fmt: skip
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
                ui["jobs"] = gr.Dropdown(trainings(), value=None, scale=3, label="Trainings",
                                         info="Pick one to follow it, stop it or resume it",
                                         elem_id="ms-jobs")  # fmt: skip
                ui["resume"] = gr.Button("Resume", scale=1, min_width=70, elem_id="ms-resume")
            with gr.Row(equal_height=True):
                ui["own"] = gr.Dropdown(own_styles(), value=None, label="Your styles", scale=3,
                                        elem_id="ms-own")  # fmt: skip
                ui["delete"] = gr.Button("Delete", variant="stop", scale=1, min_width=70,
                                         elem_id="ms-delete")  # fmt: skip
    ui["timer"] = gr.Timer(POLL_S, active=False)
    ui["watch"] = gr.Timer(WATCH_S)
    ui["job"] = gr.State(None)  # the training this page follows
    ui["seen"] = gr.State(0)  # previews of it shown so far
    # the two lists' choices as JSON, as this page last read them; "hidden", not invisible:
    # an invisible component is not on the page, and nothing there fires its change
    ui["listed"] = gr.Textbox("", visible="hidden", elem_id="ms-listed")
    return ui


def wire_make_style(services: Services, ui: dict[str, Any], stylize: dict[str, Any],
                    styled: StyleLists, demo: gr.Blocks) -> None:  # fmt: skip
    """The slots' checks, Train, the timers that follow a training and find one, Stop,
    Resume, Delete, the painting taken from the Stylize tab, and every style list refreshed
    at page load."""
    lists, list_updates = styled.outputs, styled.updates
    keep_lists = (gr.skip(),) * len(lists)
    wire_image_slot(services, ui["painting"], ui["painting_message"], "painting")
    wire_file_slot(services, ui["photos"], ui["photos_message"], "photo")

    def relist(listed: str, job: str | None = None, style: str | None = None):
        """The Trainings list and Your styles as `listed` has them, the picks left as the
        user has them (a training picked to be resumed, a style picked to be deleted) while
        they are still listed: a training that finished, or a style another page deleted,
        is no choice any more, and Gradio refuses a value outside the choices (the page
        showed red Error badges)."""
        if not listed:
            return gr.skip(), gr.skip()
        jobs, own = json.loads(listed)
        jobs = [tuple(choice) for choice in jobs]
        job = job if job in {value for _, value in jobs} else None
        return (gr.Dropdown(choices=jobs, value=job),
                gr.Dropdown(choices=own, value=style if style in own else None))

    ui["listed"].change(relist, [ui["listed"], ui["jobs"], ui["own"]], [ui["jobs"], ui["own"]],
                        queue=False, api_name=False, show_progress="hidden")  # fmt: skip

    def read_lists() -> str:
        """The server's trainings and user styles, as the hidden box holds them."""
        return json.dumps(listings())

    def follow(name: str | None) -> tuple:
        """The outputs job, timer, seen that make the page follow `name` (skipped: none)."""
        return (name, gr.Timer(active=True), 0) if name else (gr.skip(),) * 3

    following = [ui["job"], ui["timer"], ui["seen"]]

    def on_load():
        """Every list, the two lists here too (they may be set before the tab is shown,
        when nothing fires the box's change), and the server's current training."""
        services.refresh_styles()  # styles made since the page was built, here or by the CLI
        listed = read_lists()
        return *list_updates(), *relist(listed), listed, *follow(current(services))

    demo.load(on_load, None, [*lists, ui["jobs"], ui["own"], ui["listed"], *following],
              queue=False, api_name=False)  # fmt: skip
    offered = ServerPhotosLabel(services)

    def offer_server_photos():
        """The box that adds the server's photos, labelled with their count, where any."""
        label = offered.current()
        return gr.Checkbox(label=label or "", visible=bool(label))

    demo.load(offer_server_photos, None, ui["server_photos"], queue=False, api_name=False)
    ui["use_style"].click(lambda image: image or gr.skip(), stylize["style1"], ui["painting"],
                          queue=False, api_name=False)  # fmt: skip

    def watch(job: str | None):
        """A page that follows no training finds the server's current one, and reads what
        other pages started, stopped, made or deleted."""
        if job:
            return (gr.skip(),) * 4
        return *follow(current(services)), read_lists()

    ui["watch"].tick(watch, ui["job"], [*following, ui["listed"]], queue=False,
                     api_name=False, show_progress="hidden")  # fmt: skip

    started = [*following, ui["status"], ui["progress"], ui["listed"]]

    def queue_job(queue: Callable[[], tuple[str, str]]) -> tuple:
        """Train's and Resume's outputs: the job queued, listed and followed, or the line
        that says why not."""
        try:
            job, text = queue()
        except Exception as exc:
            return *(gr.skip(),) * 3, f"⚠ {readable(exc)}", gr.skip(), gr.skip()
        return *follow(job), "", line_html(text), read_lists()

    def train(painting: Any, name: str, photos: Any, use_server: bool, minutes: float):
        return queue_job(lambda: start(services, painting, name, photos, use_server,
                                       float(minutes)))  # fmt: skip

    ui["train"].click(train, [ui["painting"], ui["name"], ui["photos"], ui["server_photos"],
                              ui["minutes"]], started, concurrency_id=MAKE_STYLE_QUEUE,
                      concurrency_limit=MAKE_STYLE_JOBS, api_name=False)  # fmt: skip

    def resume_job(name: str | None):
        return queue_job(lambda: resume(services, name))

    ui["resume"].click(resume_job, ui["jobs"], started, queue=False, api_name=False)
    ui["jobs"].input(follow, ui["jobs"], following, queue=False, api_name=False)

    def stop_job(job: str | None):
        """Stop the followed training. A page that follows none yet (it finds the server's
        current one within WATCH_S) follows that one first: Stop never ends a training
        the page did not show."""
        found = None if job else current(services)
        if found:
            return not_shown(found), *follow(found)
        return stop(services, job), *(gr.skip(),) * 3

    ui["stop"].click(stop_job, ui["job"], [ui["status"], *following], queue=False,
                     api_name=False)  # fmt: skip

    def tick(job: str | None, seen: int):
        """The followed job's bar, line and newest preview, and the server's lists; at its
        end the style lists, once: the page stops following the job, so a later tick cannot
        clear a style the user has just picked in the lists."""
        if not job:
            return gr.Timer(active=False), *(gr.skip(),) * 6, *keep_lists
        status = services.trainings.status(job)
        place = services.trainings.place(job)
        preview = latest_preview(job) if status.previews > seen else None
        shown = (preview if preview is not None else gr.skip(), status.previews)
        text = progress_html(status, place)
        if status.state not in FINISHED or place is not None:
            return gr.skip(), gr.skip(), text, *shown, read_lists(), gr.skip(), *keep_lists
        services.refresh_styles()
        # The bar now says how it ended: a line about it while it ran ("Stopping…", "already
        # queued or running") is cleared. The new style only adds a choice to the lists:
        # whatever the user picked stays.
        return (gr.Timer(active=False), None, text, *shown, read_lists(), "",
                *list_updates())  # fmt: skip

    ui["timer"].tick(tick, [ui["job"], ui["seen"]],
                     [ui["timer"], ui["job"], ui["progress"], ui["preview"], ui["seen"],
                      ui["listed"], ui["status"], *lists], queue=False, api_name=False,
                     show_progress="hidden")  # fmt: skip

    def delete_style(name: str | None):
        try:
            text = delete(services, name)
        except Exception as exc:
            return f"⚠ {readable(exc)}", gr.skip(), gr.skip(), *keep_lists
        return text, gr.Dropdown(value=None), read_lists(), *list_updates()

    ui["delete"].click(delete_style, ui["own"], [ui["status"], ui["own"], ui["listed"], *lists],
                       queue=False, api_name=False)  # fmt: skip
