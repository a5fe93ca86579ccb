"""The web UI's controls are the registry's (styler.controls): every control has a widget
and is an input of /stylize, unless the UI deliberately leaves it out (inputs.NOT_OFFERED,
with the reason), and no widget or /stylize input is a control the registry lacks."""

from __future__ import annotations

from pathlib import Path

import pytest
from ui_helpers import make_tiny_styles

from styler.controls import CONTROLS
from styler.ui.inputs import ENGINE_MODES, FAST, NOT_OFFERED, OFFERED


def test_every_control_is_offered_or_left_out_with_a_reason() -> None:
    assert set(NOT_OFFERED) <= set(CONTROLS), "NOT_OFFERED names a control the registry lacks"
    assert all(reason.strip() for reason in NOT_OFFERED.values())
    assert set(OFFERED) == set(CONTROLS) - set(NOT_OFFERED)
    assert list(OFFERED) == [name for name in CONTROLS if name in OFFERED]  # registry order


@pytest.fixture(scope="module")
def app(tmp_path_factory: pytest.TempPathFactory):
    pytest.importorskip("gradio")
    from styler.ui.app import build
    from styler.ui.config import UIConfig
    from styler.ui.services import Services

    folder = tmp_path_factory.mktemp("registry")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STYLER_WEIGHTS_DIR", str(make_tiny_styles(Path(folder) / "weights")))
        services = Services(UIConfig(device="cpu", temp_dir=folder, prewarm=False))
        demo = build(services)
    yield demo
    services.workspace.cleanup()


def _widgets(demo) -> dict[str, object]:
    return {block.elem_id: block for block in demo.blocks.values() if block.elem_id}


def test_every_offered_control_has_its_registry_widget(app) -> None:
    import gradio as gr

    found = _widgets(app)
    engine_mode = ENGINE_MODES[FAST]  # the page opens in Fast mode when fast styles exist
    for name in OFFERED:
        control, widget = CONTROLS[name], found.get(name.replace("_", "-"))
        assert widget is not None, f"control {name} has no widget"
        assert widget.label.startswith(control.label)
        assert widget.visible == control.acts_in(engine_mode), name
        mode = engine_mode if control.acts_in(engine_mode) else control.modes[0]
        kind = (gr.Checkbox if control.kind is bool else gr.Radio if control.choices
                else gr.Number if control.step is None else gr.Slider)  # fmt: skip
        assert type(widget) is kind, f"{name}: {type(widget).__name__}, not {kind.__name__}"
        if isinstance(widget, gr.Slider):
            assert (widget.minimum, widget.maximum) == control.slider_for(mode), name
            assert widget.value == control.default_for(mode) and widget.step == control.step
        elif isinstance(widget, gr.Radio):
            assert {value for _, value in widget.choices} <= set(control.choices)
            assert widget.value == control.default
        else:
            assert widget.value == control.default, name


def test_stylize_inputs_are_the_registry_controls_and_the_uis_own(app) -> None:
    from styler.ui.stylize_events import PICKS, REGION_INPUTS, UI_ONLY

    parameters = app.get_api_info()["named_endpoints"]["/stylize"]["parameters"]
    names = [p["parameter_name"] for p in parameters]
    not_controls = set(PICKS) | set(UI_ONLY) | set(REGION_INPUTS)
    assert not not_controls & set(CONTROLS), "a UI input named as a control is not one"
    unknown = [n for n in names if n not in not_controls and n not in CONTROLS]
    assert unknown == [], "inputs of /stylize that are not controls of the registry"
    assert [n for n in names if n in CONTROLS] == list(OFFERED)


def test_fusion_tab_and_fuse_command_share_the_fusion_controls(app) -> None:
    """Each fusion tool's options are FUSION_CONTROLS: the Fusion tab's widgets, the inputs
    of /fuse and `styler fuse`'s options, with one default each."""
    import argparse

    from styler.cli import fuse_cmd
    from styler.cli.main import COMMANDS
    from styler.controls import FUSION_CONTROLS, FUSION_TOOLS, fusion_controls
    from styler.fusion.photo import ALIGN_METHODS, MOTIONS
    from styler.ui.fusion import TOOLS

    assert set(TOOLS.values()) == set(FUSION_TOOLS)
    assert FUSION_CONTROLS["align_method"].choices == ALIGN_METHODS
    assert FUSION_CONTROLS["motion"].choices == MOTIONS
    found = _widgets(app)
    for name, control in FUSION_CONTROLS.items():
        widget = found.get(f"fusion-{name.replace('_', '-')}")
        assert widget is not None, f"fusion control {name} has no widget"
        tool = next(t for t in ("exposure", *FUSION_TOOLS) if control.acts_in(t))  # tab's first
        assert widget.value == control.default_for(tool) and widget.visible == (tool == "exposure")
    parameters = app.get_api_info()["named_endpoints"]["/fuse"]["parameters"]
    assert [p["parameter_name"] for p in parameters] == ["tool", "images", "mask",
                                                         *FUSION_CONTROLS]  # fmt: skip
    parser = argparse.ArgumentParser()
    fuse_cmd.add_parser(parser.add_subparsers(dest="command"), COMMANDS["fuse"][1])
    for tool in FUSION_TOOLS:
        inputs = ["a.png", "b.png"] + (["--mask", "m.png"] if tool == "blend" else [])
        args = vars(parser.parse_args(["fuse", tool, *inputs, "-o", "out.png"]))
        for control in fusion_controls(tool):
            assert args[control.name] == control.default_for(tool), (tool, control.name)
