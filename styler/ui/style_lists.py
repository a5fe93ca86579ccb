"""Fast mode's style lists on every tab (each grid and dropdown) kept true to the server's
styles while a page stays open: another page's new or deleted style reaches it within
REFRESH_S, and a click in a grid picks the style that page shows there, never whatever now
sits at that place in the server's list.

No `from __future__ import annotations`: Gradio reads the handlers' annotations.
"""

from typing import Any

import gradio as gr

from styler.ui.components import page_state
from styler.ui.services import Services

REFRESH_S = 10.0  # how soon an open page sees a style made or deleted on another page


class StyleLists:
    """The tabs' style grids and dropdowns, and the names this page's grids show (a state:
    pages differ until their next refresh)."""

    def __init__(self, services: Services, tabs: list[dict[str, Any]]) -> None:
        self.services = services
        self.tabs = tabs
        self.lists = [tab[k] for tab in tabs for k in ("grid", "style") if k in tab]
        self.shown = page_state(lambda: tuple(services.style_names()))

    @property
    def outputs(self) -> list[Any]:
        return [*self.lists, self.shown]

    def updates(self) -> list[Any]:
        """Every list from services.styles, and the names the grids now show."""
        styles = self.services.styles
        grid = [(str(s.thumb), s.title) for s in styles]
        choices = [(s.caption, s.name) for s in styles]
        lists = [gr.Gallery(value=grid) if isinstance(c, gr.Gallery)
                 else gr.Dropdown(choices=choices) for c in self.lists]  # fmt: skip
        return [*lists, tuple(s.name for s in styles)]  # the same snapshot as the grid

    def unchanged(self) -> list[Any]:
        return [gr.skip()] * len(self.outputs)

    def wire(self) -> None:
        """Each grid's click, and the timer that brings other pages' styles in."""

        def pick(shown: tuple[str, ...], evt: gr.SelectData):
            return shown[evt.index] if 0 <= evt.index < len(shown) else gr.skip()

        for tab in self.tabs:
            if "grid" in tab:
                tab["grid"].select(pick, self.shown, tab["style"], queue=False, api_name=False)

        def refresh(shown: tuple[str, ...]):
            current = tuple(self.services.style_names())
            return self.unchanged() if current == shown else self.updates()

        gr.Timer(REFRESH_S).tick(refresh, self.shown, self.outputs, queue=False,
                                 api_name=False, show_progress="hidden")  # fmt: skip
