"""The Stylize tab's history: kept across a reload of the same browser (results made before
the restore arrives included), shown again when clicked, reused as the photo, and cleared
with its files once the person confirms."""

from collections.abc import Callable
from typing import Any

import gradio as gr

from styler.ui import results
from styler.ui.services import Services
from styler.ui.state import SETTLE_S, STYLIZE_TAB, Session
from styler.ui.stylize_events import BUTTONS, result_buttons


def wire_history(
    services: Services, guard: Callable, demo: gr.Blocks, session: gr.State,
    key: gr.BrowserState, ui: dict[str, Any],
) -> Any:  # fmt: skip
    """The history's events; returns the page's restore, for other tabs to follow it."""
    restored = _wire_restore_and_clear(services, demo, session, key, ui)
    _wire_left(services, demo, session, ui, restored)
    _wire_show_and_reuse(guard, session, ui)
    return restored


def _wire_restore_and_clear(
    services: Services, demo: gr.Blocks, session: gr.State, key: gr.BrowserState,
    ui: dict[str, Any],
) -> Any:  # fmt: skip
    """History that survives a reload of the same browser, and a button that clears it.
    Returns the restore."""

    def restore(state: Session, token: str):
        """This browser's history joins the page's session, which keeps its own results."""
        state.restore(services.histories.recall(token))
        if state.entries:
            services.histories.keep(state)
        return state, state.gallery(), state.id

    restored = demo.load(restore, [session, key], [session, ui["history"], key], queue=False,
                         api_name=False)  # fmt: skip

    def ask(state: Session):
        """Clear asks first: it deletes every image, and there is no undo."""
        count = len(state.entries)
        if not count:
            return gr.Row(visible=False), "", "The history is empty: nothing to clear."
        what = "its one result" if count == 1 else f"all {count} of its results"
        return (gr.Row(visible=True), f"Clear the history? This deletes {what} from the "
                "server, with no undo.", gr.skip())  # fmt: skip

    confirm = ui["clear_confirm"]
    ui["clear_history"].click(ask, session, [confirm, ui["clear_question"], ui["status"]],
                              queue=False, api_name=False)  # fmt: skip
    ui["clear_no"].click(lambda: gr.Row(visible=False), None, confirm, queue=False,
                         api_name=False)  # fmt: skip

    def clear(state: Session):
        fresh = services.histories.clear(state)
        fresh.busy = state.busy  # a run still under way keeps its button disabled
        return (gr.Row(visible=False), fresh, [], fresh.id, None,
                "History cleared: its images are deleted.", *result_buttons(None))  # fmt: skip

    ui["clear_yes"].click(
        clear, session,
        [confirm, session, ui["history"], key, ui["result"], ui["status"],
         *(ui[n] for n in BUTTONS)],
        queue=False, api_name=False,
    )  # fmt: skip
    return restored


def _wire_left(services: Services, demo: gr.Blocks, session: gr.State, ui: dict[str, Any],
               restored: Any) -> None:  # fmt: skip
    """A page whose history's last run was left running (a reload during a Quality run, which
    counts as Stop, or during a Fast one, which ends all the same) says what became of it
    once that run has ended: the result on screen, in the history, with Continue where it
    stopped; or that nothing was kept, or that a job left waiting in the queue never ran."""

    def page_left(request: gr.Request) -> None:
        """Gradio's word that the page is gone (its heartbeat ended: closed, reloaded), which
        comes before the reloaded page loads."""
        services.left(request.session_hash or "")

    demo.unload(page_left)

    def settle(state: Session):
        notice = services.histories.settled(state.id, STYLIZE_TAB, SETTLE_S)
        if notice is None:
            return (gr.skip(),) * 8
        state.restore(services.histories.recall(state.id))
        entry = state.show(notice.path) if notice.path else None
        shown = (str(entry.path), *result_buttons(entry)) if entry else (gr.skip(),) * 5
        return state, state.gallery(), notice.text, *shown

    restored.then(settle, session,
                  [session, ui["history"], ui["status"], ui["result"],
                   *(ui[n] for n in BUTTONS)], queue=False, api_name=False,
                  show_progress="hidden")  # fmt: skip


def _wire_show_and_reuse(guard: Callable, session: gr.State, ui: dict[str, Any]) -> None:
    """A result clicked in the history is shown again; Use as content makes it the photo."""

    @guard
    def show_history(state: Session, evt: gr.SelectData):
        entry = state.select(evt.index)
        if entry is None:
            return (gr.skip(),) * 7 + (state,)
        return (
            str(entry.path),
            results.describe_entry(entry),
            *result_buttons(entry),
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
        return results.use_as_content(state)

    ui["reuse"].click(reuse, session, ui["content"], queue=False, api_name=False)
