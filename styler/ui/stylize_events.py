"""The Stylize tab's runs: Stylize (in the browser and as the /stylize API), Refine,
Continue and Stop. Each run streams its progress to the result column and ends with the
result shown, its status line, Download and the history.

No `from __future__ import annotations` in the event modules: Gradio reads the handlers'
annotations (gr.Request, gr.SelectData) to know what to inject.
"""

from collections.abc import Callable, Iterable, Iterator
from typing import Any

import gradio as gr

from styler.ui import results, runs, widgets
from styler.ui.components import api_signature, download_button, with_signature
from styler.ui.effects import REGIONS
from styler.ui.guard import readable
from styler.ui.inputs import FAST, INSTANT, OFFERED, QUALITY, Controls, Regions
from styler.ui.messages import NothingKept, UserError, progress_html
from styler.ui.queues import ENGINE, FAST_JOBS, FAST_QUEUE, INSTANT_JOBS, INSTANT_QUEUE
from styler.ui.services import Services
from styler.ui.state import STYLIZE_TAB, Entry, Session
from styler.ui.streaming import Update
from styler.ui.timing import progress_label

RUNNING = "Painting… Stop keeps the best image so far."  # the status while a run works
WAITING = "Waiting for the engine… Stop withdraws the job."  # a Quality job in the queue
WORKING = "Working…"  # a Fast or Instant job
# /stylize's inputs, in order: the photo, the mode, the fast style, the style images and
# their weights; every control the tab offers (inputs.OFFERED, from the registry); then
# the UI's own: the live preview's pace and the region painter with each region's style.
PICKS = ("content", "mode", "style", "style1", "weight1", "style2", "weight2", "style3",
         "weight3")  # fmt: skip
UI_ONLY = ("preview_every", "editor")
BUTTONS = ("download", "reuse", "continue", "refine")  # what acts on the result on screen
REGION_INPUTS = tuple(f"{colour.lower()}_region" for colour in REGIONS)
STYLIZE_INPUTS = (*PICKS, *OFFERED, *UI_ONLY, *REGION_INPUTS)
# API clients call /stylize with these names (content=..., mode="Fast", size=...).
STYLIZE_SIGNATURE = api_signature(STYLIZE_INPUTS, request=True)
# Refine reads these from the widgets when clicked: Quality's own controls, which an Instant
# run does not take (the shared ones come from the Instant run).
REFINE_WIDGETS = tuple(n for n in OFFERED if not widgets.acts_in(n, INSTANT))


def controls_from(values: dict[str, Any]) -> Controls:
    """The widgets' values by control name; those an API client leaves out stay unset."""
    return Controls(preview_every=values.get("preview_every"),
                    **{name: values.get(name) for name in OFFERED})  # fmt: skip


def follow_ups(entry: Entry) -> tuple:
    """Continue shown with a stopped result, Refine with an Instant one (enabled again after
    a run disabled them)."""
    return (gr.Button(visible=not entry.completed, interactive=True),
            gr.Button(visible=results.refinable(entry), interactive=True))  # fmt: skip


def result_buttons(entry: Entry | None) -> tuple:
    """Download, Use as content, Continue and Refine for `entry`, the result on screen."""
    if entry is None:
        return (download_button(None), gr.Button(interactive=False), gr.Button(visible=False),
                gr.Button(visible=False))  # fmt: skip
    return download_button(str(entry.path)), gr.Button(interactive=True), *follow_ups(entry)


def busy_buttons() -> tuple:
    """Download, Use as content, Continue and Refine while a job is queued, runs or stops:
    disabled, so none of them acts on the earlier result while the screen changes."""
    return download_button(None), *(gr.Button(interactive=False),) * 3


def _ready(session: Session) -> gr.Button:
    """Stylize again, once the page's run has ended: disabled while it was queued or ran, so
    that a second click never queued a second run (nor a photo landing meanwhile enabled
    it: the session says it is busy till now)."""
    session.busy.discard(STYLIZE_TAB)
    return gr.Button(interactive=True)


def _busy(session: Session) -> gr.Button:
    """Stylize disabled while the page's run is queued or runs."""
    session.busy.add(STYLIZE_TAB)
    return gr.Button(interactive=False)


def _finished(session: Session, entry: Entry) -> tuple:
    return (str(entry.path), "", results.describe_entry(entry) + results.history_note(session),
            *result_buttons(entry), session.gallery(), session, _ready(session))  # fmt: skip


def _failed(session: Session, exc: BaseException) -> tuple:
    """A run that ended without a result: the status line says why and what to do, and the
    result on screen before it (if any) comes back with its buttons."""
    entry = session.shown
    line = readable(exc) if isinstance(exc, NothingKept) else f"⚠ {readable(exc)}"
    return (str(entry.path) if entry else None, "", line, *result_buttons(entry), gr.skip(),
            gr.skip(), _ready(session))  # fmt: skip


def _until_failure(session: Session, run: Iterator[tuple]) -> Iterator[tuple]:
    """A browser run's outputs, ending in the status line when it fails (the page's own
    events: API clients get the error itself)."""
    try:
        yield from run
    except Exception as exc:
        yield _failed(session, exc)


def _shown(state: Session, updates: Iterable[Update]) -> Iterator[tuple]:
    """A Quality run's updates as the Stylize tab's outputs: previews, then the result."""
    for update in updates:
        if update.entry is not None:
            yield _finished(state, update.entry)
        else:
            preview = update.preview if update.preview is not None else gr.skip()
            html_text = progress_html(update.progress, update.text, progress_label)
            # The buttons again: a history click during the run must not leave them acting
            # on an image the next preview replaces.
            yield (preview, html_text, RUNNING, *busy_buttons(), gr.skip(), gr.skip(),
                   gr.skip())  # fmt: skip


def wire_stylize(services: Services, guard: Callable, session: gr.State,
                 ui: dict[str, Any]) -> None:  # fmt: skip
    """Stylize in the browser (routed to its mode's queue) and for API clients, then
    Refine, Continue and Stop."""
    inputs = [session, *(ui[n] for n in STYLIZE_INPUTS if n not in REGION_INPUTS),
              *ui["region_styles"]]  # fmt: skip
    outputs = [ui["result"], ui["progress"], ui["status"], ui["download"], ui["reuse"],
               ui["continue"], ui["refine"], ui["history"], session, ui["run"]]  # fmt: skip

    def stylize(*args: Any) -> Iterator[tuple]:
        given = STYLIZE_SIGNATURE.bind(*args).arguments
        state: Session = given["state"]
        request: gr.Request | None = given.get("request")
        controls = controls_from(given)
        layers = list((given.get("editor") or {}).get("layers") or [])
        choices = [given.get(name) for name in REGION_INPUTS]
        regions = Regions(layers=layers, styles=dict(zip(REGIONS, choices, strict=True)))
        content, mode = given.get("content"), given.get("mode")
        styles = [(given.get(f"style{n}"), given.get(f"weight{n}")) for n in (1, 2, 3)]
        key = (request.session_hash if request else None) or state.id
        services.started(key)
        if mode in (FAST, INSTANT):

            def one_pass() -> Entry:
                if mode == FAST:
                    return runs.run_fast(services, state, content, given.get("style"), controls,
                                         regions)  # fmt: skip
                return runs.run_instant(services, state, key, content, styles, controls, regions)

            yield _finished(state, runs.one_pass(services, state, key, one_pass))
            return
        yield from _shown(state, runs.run_quality(services, state, key, content, styles,
                                                  controls, regions))  # fmt: skip

    # Fast, Instant and Quality jobs queue apart: a Fast or Instant job (one pass) never
    # waits behind a Quality run, and each queue's wait estimate comes from its own
    # kind of job. The button routes to one of three hidden counters whose change runs it.
    groups = {FAST: (FAST_QUEUE, FAST_JOBS), INSTANT: (INSTANT_QUEUE, INSTANT_JOBS),
              QUALITY: (ENGINE, services.concurrency)}  # fmt: skip
    goes = {mode: gr.Number(0, visible=False) for mode in groups}
    shown = {"show_progress": "full", "show_progress_on": [ui["result"]], "api_name": False}

    @with_signature(STYLIZE_SIGNATURE)
    def stylize_here(*args: Any):
        """Stylize pressed in the page: every failure ends in the status line."""
        yield from _until_failure(STYLIZE_SIGNATURE.bind(*args).arguments["state"],
                                  stylize(*args))  # fmt: skip

    # "once": a change while the page's job is pending starts nothing (Stylize is disabled
    # then too, but a click can land before the page hears so).
    jobs = {mode: goes[mode].change(stylize_here, inputs, outputs, concurrency_id=group,
                                    concurrency_limit=limit, trigger_mode="once", **shown)
            for mode, (group, limit) in groups.items()}  # fmt: skip

    def route(request: gr.Request, state: Session, mode: str, content: str | None,
              size: float | None, upscale: bool | None, steps: float | None, init: str | None,
              *counts: float):  # fmt: skip
        """The counter of the chosen mode's queue goes up; the job is counted as queued (Stop
        withdraws it; leaving the page drops it, and the next page says so). The status says
        how long the run should take; Stylize is disabled until the run ends."""
        services.queued(request.session_hash or "", state.id, STYLIZE_TAB)
        bumped = tuple(n + 1 if m == mode else gr.skip() for m, n in zip(goes, counts, strict=True))
        line = (WAITING if mode == QUALITY else WORKING) + runs.expected(
            services, mode, content, size, upscale, steps if mode == QUALITY else 0, init)
        return (*bumped, line, *busy_buttons(), _busy(state))

    sizing = [ui[n] for n in ("content", "size", "upscale", "steps", "init")]
    ui["run"].click(route, [session, ui["mode"], *sizing, *goes.values()],
                    [*goes.values(), ui["status"], *(ui[n] for n in BUTTONS), ui["run"]],
                    queue=False, api_name=False)  # fmt: skip
    # API clients call /stylize with either mode (it queues with the Quality jobs).
    api = guard(with_signature(STYLIZE_SIGNATURE)(stylize))
    gr.Button(visible=False).click(api, inputs, outputs, api_name="stylize",
                                   concurrency_id=ENGINE,
                                   concurrency_limit=services.concurrency)  # fmt: skip

    refine_job = _wire_refine(services, session, ui, outputs)
    _wire_continue_and_stop(services, guard, session, ui, outputs, [*jobs.values(), refine_job])


def _queue_up(services: Services, session: gr.State, ui: dict[str, Any], button: str) -> Any:
    """`button`'s click: its job counted as queued (Stop withdraws it), the status saying
    so and what it should take, the result's buttons disabled until it ends. Returns the
    event, to chain the job."""

    def queue_up(request: gr.Request, state: Session, steps: float | None):
        services.queued(request.session_hash or "", state.id, STYLIZE_TAB)
        expected = runs.expected_follow_up(services, state.shown, steps if button == "refine"
                                           else None)  # fmt: skip
        return WAITING + expected, *busy_buttons(), _busy(state)

    return ui[button].click(queue_up, [session, ui["steps"]],
                            [ui["status"], *(ui[n] for n in BUTTONS), ui["run"]], queue=False,
                            api_name=False)  # fmt: skip


def _wire_refine(
    services: Services, session: gr.State, ui: dict[str, Any], outputs: list
) -> Any:
    """Refine: the Instant result on screen taken on by a Quality run from it, queued with
    the Quality jobs (Stop withdraws it there). Returns the event, for Stop to cancel."""

    def refine(request: gr.Request, state: Session, *values: Any):
        key = request.session_hash or state.id
        services.started(key)
        quality = controls_from(dict(zip(REFINE_WIDGETS + ("preview_every",), values,
                                         strict=True)))  # fmt: skip
        yield from _until_failure(state, _shown(state, runs.run_refine(
            services, state, key, state.shown, quality)))  # fmt: skip

    widgets_now = [session, *(ui[n] for n in REFINE_WIDGETS), ui["preview_every"]]
    return _queue_up(services, session, ui, "refine").then(
        refine, widgets_now, outputs, api_name=False, concurrency_id=ENGINE,
        concurrency_limit=services.concurrency, show_progress="full",
        show_progress_on=[ui["result"]])  # fmt: skip


def _wire_continue_and_stop(
    services: Services, guard: Callable, session: gr.State, ui: dict[str, Any], outputs: list,
    queued_jobs: list[Any],
) -> None:  # fmt: skip
    """Continue from a stopped result; Stop a running job, or withdraw a queued one."""
    withdraw = gr.Number(0, visible=False)

    def continue_run(request: gr.Request, state: Session):
        """The stopped result on screen, finished from the image and scale it reached."""
        key = request.session_hash or state.id
        services.started(key)
        yield from _until_failure(state, _continued(services, state, key))

    continued = _queue_up(services, session, ui, "continue").then(
        continue_run, [session], outputs, api_name=False,
        concurrency_limit=services.concurrency, concurrency_id=ENGINE, show_progress="full",
        show_progress_on=[ui["result"]])  # fmt: skip

    @guard
    def stop(withdrawn: float, state: Session, request: gr.Request):
        """A running job stops with its best image; a queued one is withdrawn (the page
        cancels it, through the hidden counter's change) and the result on screen gets its
        buttons back."""
        key = request.session_hash or ""
        if services.cancel(key):
            return ("Stopping: the best image so far is on its way (Download comes back "
                    "with it).", gr.skip(), *(gr.skip(),) * (len(BUTTONS) + 1))  # fmt: skip
        if services.withdraw(key):
            return ("Withdrawn: your queued job will not run.", withdrawn + 1,
                    *result_buttons(state.shown), _ready(state))  # fmt: skip
        return "Nothing is running or waiting.", gr.skip(), *(gr.skip(),) * (len(BUTTONS) + 1)

    ui["stop"].click(stop, [withdraw, session],
                     [ui["status"], withdraw, *(ui[n] for n in BUTTONS), ui["run"]],
                     queue=False, api_name="stop")  # fmt: skip
    withdraw.change(None, None, None, cancels=[*queued_jobs, continued], queue=False)


def _continued(services: Services, state: Session, key: str) -> Iterator[tuple]:
    entry = state.shown
    if entry is None or entry.completed or entry.job is None:
        raise UserError("There is no stopped Quality result on screen to continue.")
    job = entry.job
    yield from _shown(state, runs.run_quality(services, state, key, job.content, job.styles,
                                              job.controls, job.regions, resume=entry))  # fmt: skip
