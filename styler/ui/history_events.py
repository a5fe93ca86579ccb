"""The Stylize tab's history: kept across a reload of the same browser, shown again when
clicked, reused as the photo, and cleared with its files."""

from collections.abc import Callable
from typing import Any

import gradio as gr

from styler.ui import results
from styler.ui.components import download_button
from styler.ui.services import Services
from styler.ui.state import Session
from styler.ui.stylize_events import follow_ups


def wire_history(
    services: Services, guard: Callable, demo: gr.Blocks, session: gr.State,
    key: gr.BrowserState, ui: dict[str, Any],
) -> None:  # fmt: skip
    _wire_restore_and_clear(services, demo, session, key, ui)
    _wire_show_and_reuse(guard, session, ui)


def _wire_restore_and_clear(
    services: Services, demo: gr.Blocks, session: gr.State, key: gr.BrowserState,
    ui: dict[str, Any],
) -> None:  # fmt: skip
    """History that survives a reload of the same browser, and a button that clears it."""

    def restore(token: str):
        state = services.histories.recall(token)
        return state, state.gallery(), state.id

    demo.load(restore, key, [session, ui["history"], key], queue=False, api_name=False)

    def clear(state: Session):
        fresh = services.histories.clear(state)
        return (fresh, [], fresh.id, None, "History cleared: its images are deleted.",
                download_button(None), gr.Button(interactive=False),
                gr.Button(visible=False), gr.Button(visible=False))  # fmt: skip

    ui["clear_history"].click(
        clear, session,
        [session, ui["history"], key, ui["result"], ui["status"], ui["download"], ui["reuse"],
         ui["continue"], ui["refine"]],
        queue=False, api_name=False,
    )  # fmt: skip


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
            download_button(str(entry.path)),
            gr.Button(interactive=True),
            *follow_ups(entry),
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
