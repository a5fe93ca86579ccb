"""Gradio widgets made from the control registry (styler.controls): kind, label, range,
step, default and help come from there, so the UI never restates them. Mode switches
re-range the same widgets. The Stylize and Batch tabs take CONTROLS in a UI mode (Fast,
Instant, Quality); the Fusion tab takes FUSION_CONTROLS in a tool."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import gradio as gr

from styler.controls import CONTROLS, FUSION_CONTROLS, Control
from styler.ui.inputs import ENGINE_MODES

# Choices a widget leaves out because they need an input the UI lacks: an init image.
EXCLUDED_CHOICES = {"init": ("image",)}


def mode_note(control: Control) -> str:
    """' (Quality)' for a control of one UI mode alone, else ''."""
    if len(control.modes) != 1:
        return ""
    return next((f" ({ui})" for ui, engine in ENGINE_MODES.items()
                 if engine == control.modes[0]), "")  # fmt: skip


def acts_in(name: str, mode: str) -> bool:
    """Whether a control does anything in a UI mode (Fast, Instant or Quality)."""
    return CONTROLS[name].acts_in(ENGINE_MODES[mode])


def varies_by_mode(control: Control | str) -> bool:
    """Whether a control's default or range differs between modes (or tools): its widget
    is re-ranged, and reset to the new mode's default, when the mode changes."""
    control = CONTROLS[control] if isinstance(control, str) else control
    return isinstance(control.default, Mapping) or isinstance(control.bounds, Mapping)


def info(name: str, mode: str | None) -> str:
    """A control's help line with what it does in a UI mode (Fast or Quality)."""
    control = CONTROLS[name]
    engine_mode = ENGINE_MODES[mode] if mode else None
    return _info(control, engine_mode)


def slider_range(name: str, mode: str) -> dict[str, Any]:
    """minimum, maximum and value of a control's slider in a UI mode (Fast or Quality)."""
    return _range(CONTROLS[name], ENGINE_MODES[mode])


def mode_update(name: str, mode: str) -> dict[str, Any]:
    """A control's widget after a switch to UI `mode`: shown where it acts, its help for the
    mode, re-ranged to the mode's default where that differs between modes."""
    update: dict[str, Any] = {"info": info(name, mode), "visible": acts_in(name, mode)}
    if update["visible"] and varies_by_mode(name):
        update.update(slider_range(name, mode))
    return update


def control_widget(name: str, mode: str, **kwargs: Any) -> gr.components.Component:
    """The widget of a control for a page opening in UI `mode`: shown when the control acts
    there, else set up for the first mode where it does."""
    control = CONTROLS[name]
    home = mode if acts_in(name, mode) else next(m for m in ENGINE_MODES if acts_in(name, m))
    kwargs.setdefault("visible", home == mode)
    return _widget(control, ENGINE_MODES[home], mode_note(control), **kwargs)


def fusion_widget(name: str, tool: str, tools: tuple[str, ...], **kwargs: Any
                  ) -> gr.components.Component:  # fmt: skip
    """The widget of a fusion tool's control (FUSION_CONTROLS) for a tab opening on `tool`:
    shown when the control acts there, else set up for the first of `tools` where it does."""
    control = FUSION_CONTROLS[name]
    home = tool if control.acts_in(tool) else next(t for t in tools if control.acts_in(t))
    kwargs.setdefault("visible", home == tool)
    kwargs.setdefault("elem_id", "fusion-" + name.replace("_", "-"))
    return _widget(control, home, **kwargs)


def fusion_update(name: str, tool: str) -> dict[str, Any]:
    """A fusion control's widget after a tool switch: shown where it acts, at the tool's
    default where that differs between tools."""
    control = FUSION_CONTROLS[name]
    update: dict[str, Any] = {"visible": control.acts_in(tool)}
    if control.acts_in(tool) and varies_by_mode(control):
        update["value"] = control.default_for(tool)
    return update


def slider(name: str, mode: str, mode_note: str = "", **kwargs: Any) -> gr.Slider:
    return _slider(CONTROLS[name], ENGINE_MODES[mode], mode_note, **kwargs)


def radio(name: str, mode: str | None = None, exclude: tuple[str, ...] = (),
          mode_note: str = "", **kwargs: Any) -> gr.Radio:  # fmt: skip
    """A choice control; `exclude` leaves out choices that need an input the UI lacks."""
    engine_mode = ENGINE_MODES[mode] if mode else None
    return _radio(CONTROLS[name], engine_mode, exclude, mode_note, **kwargs)


def _widget(control: Control, mode: str, note: str = "", **kwargs: Any
            ) -> gr.components.Component:  # fmt: skip
    """A check box for on/off, radio buttons for choices, a slider where the registry
    gives a slider step, else a number box."""
    kwargs.setdefault("elem_id", control.name.replace("_", "-"))
    if control.kind is bool:
        return gr.Checkbox(control.default_for(mode), label=control.label,
                           info=_info(control, mode), **kwargs)  # fmt: skip
    if control.choices:
        return _radio(control, mode, EXCLUDED_CHOICES.get(control.name, ()), note, **kwargs)
    if control.step is None:
        return gr.Number(control.default_for(mode), precision=0 if control.kind is int else None,
                         label=_label(control, note), info=_info(control, mode),
                         **kwargs)  # fmt: skip
    return _slider(control, mode, note, **kwargs)


def _slider(control: Control, mode: str, note: str = "", **kwargs: Any) -> gr.Slider:
    kwargs.setdefault("elem_id", control.name.replace("_", "-"))
    return gr.Slider(step=control.step, label=_label(control, note), info=_info(control, mode),
                     **_range(control, mode), **kwargs)  # fmt: skip


def _radio(control: Control, mode: str | None, exclude: tuple[str, ...] = (), note: str = "",
           **kwargs: Any) -> gr.Radio:  # fmt: skip
    choices = [(control.choice_labels.get(c, c), c) for c in control.choices if c not in exclude]
    kwargs.setdefault("elem_id", control.name.replace("_", "-"))
    value = control.default_for(mode) if mode else control.default
    return gr.Radio(choices, value=value, label=_label(control, note),
                    info=_info(control, mode), **kwargs)  # fmt: skip


def _label(control: Control, note: str = "") -> str:
    unit = f" ({control.unit})" if control.unit else ""
    return f"{control.label}{unit}{note}"


def _info(control: Control, mode: str | None) -> str:
    return control.describe(mode) if mode in control.modes else control.help


def _range(control: Control, mode: str) -> dict[str, Any]:
    low, high = control.slider_for(mode)
    return {"minimum": low, "maximum": high, "value": control.default_for(mode)}
