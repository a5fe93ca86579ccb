"""Gradio widgets made from styler.controls: ranges, defaults, labels and help come from
the registry, so the UI never restates them. Mode switches re-range the same widgets."""

from __future__ import annotations

from typing import Any

import gradio as gr

from styler.controls import CONTROLS
from styler.ui.inputs import ENGINE_MODES


def _label(name: str, mode_note: str = "") -> str:
    control = CONTROLS[name]
    unit = f" ({control.unit})" if control.unit else ""
    return f"{control.label}{unit}{mode_note}"


def info(name: str, mode: str | None) -> str:
    """A control's help line with what it does in a UI mode (Fast or Quality)."""
    control = CONTROLS[name]
    engine_mode = ENGINE_MODES[mode] if mode else None
    return control.describe(engine_mode) if engine_mode in control.modes else control.help


def slider_range(name: str, mode: str) -> dict[str, Any]:
    """minimum, maximum and value of a control's slider in a UI mode (Fast or Quality)."""
    control = CONTROLS[name]
    engine_mode = ENGINE_MODES[mode]
    low, high = control.slider_for(engine_mode)
    return {"minimum": low, "maximum": high, "value": control.default_for(engine_mode)}


def slider(name: str, mode: str, mode_note: str = "", **kwargs: Any) -> gr.Slider:
    kwargs.setdefault("elem_id", name.replace("_", "-"))
    return gr.Slider(step=CONTROLS[name].step, label=_label(name, mode_note),
                     info=info(name, mode), **slider_range(name, mode), **kwargs)  # fmt: skip


def radio(name: str, mode: str | None = None, exclude: tuple[str, ...] = (),
          **kwargs: Any) -> gr.Radio:  # fmt: skip
    """A choice control; `exclude` leaves out choices that need an input the UI lacks."""
    control = CONTROLS[name]
    choices = [(control.choice_labels.get(c, c), c) for c in control.choices if c not in exclude]
    return gr.Radio(choices, value=control.default, label=_label(name), info=info(name, mode),
                    elem_id=name.replace("_", "-"), **kwargs)  # fmt: skip


def checkbox(name: str, **kwargs: Any) -> gr.Checkbox:
    control = CONTROLS[name]
    return gr.Checkbox(control.default, label=control.label, info=control.help,
                       elem_id=name.replace("_", "-"), **kwargs)  # fmt: skip


def number(name: str, mode_note: str = "", **kwargs: Any) -> gr.Number:
    control = CONTROLS[name]
    return gr.Number(control.default, precision=0 if control.kind is int else None,
                     label=_label(name, mode_note), info=control.help,
                     elem_id=name.replace("_", "-"), **kwargs)  # fmt: skip
