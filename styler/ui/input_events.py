"""The Stylize tab's inputs reacting: a mode switch re-ranges the control widgets, a
dropped result sets mode, style and controls, a click in the style grid picks a style, and
a photo is checked the moment it lands."""

from typing import Any

import gradio as gr

from styler.ui import results, widgets
from styler.ui.guard import readable
from styler.ui.inputs import FAST, OFFERED, check_photo, photo_note
from styler.ui.messages import UserError
from styler.ui.services import Services
from styler.ui.slot_events import wire_image_slot
from styler.ui.state import STYLIZE_TAB, Session
from styler.ui.stylize_layout import region_choices
from styler.ui.upload_checks import refusal


def wire_inputs(services: Services, session: gr.State, ui: dict[str, Any]) -> None:
    _wire_mode_and_settings(services, ui)
    _wire_style_and_photo(services, session, ui)


def _wire_mode_and_settings(services: Services, ui: dict[str, Any]) -> None:
    """Mode switches re-range the controls; a dropped result sets mode, style and controls."""
    mode_outputs = [ui["fast_box"], ui["images_box"], *(ui[n] for n in OFFERED)]

    def mode_updates(mode: str, values: dict[str, Any] | None = None) -> tuple:
        """Boxes shown, and every control widget for `mode`: shown where it acts, its help
        for the mode, re-ranged to the mode's default where that differs between modes,
        or at `values` (a loaded result's)."""
        updates = []
        for name in OFFERED:
            update = widgets.mode_update(name, mode)
            if values is not None and name in values:
                update["value"] = values[name]
            updates.append(gr.update(**update))
        images = mode != FAST  # Instant and Quality modes take style images
        return (gr.Column(visible=not images), gr.Column(visible=images), *updates)

    # .input, not .change: a result's settings set the mode too, and then keep their values.
    ui["mode"].input(mode_updates, ui["mode"], mode_outputs, queue=False, api_name=False)

    settings_outputs = [ui["mode"], ui["style"], ui["style1"], *mode_outputs, ui["status"]]

    def load_settings(path: str | None):
        """A dropped result: the mode, the style and every control take its values. A file
        with none to give leaves every control as it is, and the status line says why: not
        an error, which on this unqueued event would turn every output into an error badge."""
        if not path:
            return (gr.skip(),) * len(settings_outputs)
        try:
            loaded = results.load_settings(services, path)
        except Exception as exc:
            return *(gr.skip(),) * (len(settings_outputs) - 1), f"⚠ {readable(exc)}"
        fast = loaded.mode == FAST
        style = loaded.style or gr.skip()
        return (loaded.mode, style if fast else gr.skip(), gr.skip() if fast else style,
                *mode_updates(loaded.mode, loaded.values), loaded.note)  # fmt: skip

    def region_updates(mode: str, *chosen: str | None) -> list[gr.Dropdown]:
        """Each region's choices for `mode` (a dropped result sets the mode too); a choice
        the mode does not take goes back to the main style."""
        choices = region_choices(services, mode)
        values = {value for _, value in choices}
        return [gr.Dropdown(choices=choices, value=c if c in values else choices[0][1])
                for c in chosen]  # fmt: skip

    ui["mode"].change(region_updates, [ui["mode"], *ui["region_styles"]], ui["region_styles"],
                      queue=False, api_name=False)  # fmt: skip

    ui["settings_from"].upload(load_settings, ui["settings_from"], settings_outputs,
                               queue=False, api_name="load_settings")  # fmt: skip


def _wire_style_and_photo(services: Services, session: gr.State, ui: dict[str, Any]) -> None:
    """The style grid, and the photo reaching the region painter."""

    def photo_landed(payload: dict | None, state: Session):
        """Checked the moment it lands: a usable photo goes to the region painter and enables
        Stylize, unless the page's run is queued or under way (its end enables it); anything
        else is cleared, with one line beside it saying why. Unprocessed (preprocess=False):
        Gradio's own decoding would refuse bad files in Pillow's words."""
        path = (payload or {}).get("path")
        if not path:
            return gr.skip(), None, gr.skip(), gr.Button(interactive=False)
        try:
            usable = check_photo(services, path)
        except UserError as exc:
            return None, None, refusal(exc), gr.Button(interactive=False)
        shown = usable if usable != path else gr.skip()  # a HEIC or RAW: its PNG copy
        ready = gr.Button(interactive=STYLIZE_TAB not in state.busy)
        return shown, usable, photo_note(path), ready

    ui["content"].change(photo_landed, [ui["content"], session],
                         [ui["content"], ui["editor"], ui["photo_message"], ui["run"]],
                         queue=False, api_name=False, preprocess=False,
                         show_progress="hidden")  # fmt: skip

    for number in (1, 2, 3):
        wire_image_slot(services, ui[f"style{number}"], ui["style_message"],
                        f"style image {number}")  # fmt: skip
