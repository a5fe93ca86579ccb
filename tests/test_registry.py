"""Every control is defined once, in styler.controls: a face that restates a range or a
default fails here, and what each face shows is checked against the registry."""

from __future__ import annotations

import ast
import math
from pathlib import Path

import numpy as np
import pytest

from styler.controls import CONTROLS, FAST, INSTANT, OPTIMIZE, checked, controls_for, defaults
from styler.errors import InvalidOption, OptionNotInMode
from styler.fast.inference import FastOptions
from styler.instant.stylizer import InstantOptions
from styler.optimize import OptimizeOptions

ROOT = Path(__file__).resolve().parents[1] / "styler"
# The fusion tools' own parameters (fuse_cmd.py) are not style controls.
FACES = [*sorted(p for p in (ROOT / "cli").glob("*.py") if p.name != "fuse_cmd.py"),
         *sorted((ROOT / "ui").glob("*.py")), ROOT / "api.py"]  # fmt: skip
# Calls whose keyword arguments set controls; elsewhere device="cpu" is a choice, not a default.
SETTERS = {"add_argument", "Slider", "Radio", "Number", "Dropdown", "Controls", "OptimizeOptions",
           "FastOptions", "build_options", "Stylizer", "FastStylizer", "InstantOptions",
           "InstantStylizer"}
# Literal keyword values that are a face's choice, not a restated default: (file, name).
CHOICES = {("api.py", "upscale")}  # init 'instant' paints at exactly the optimizer's size
NAMES = set(CONTROLS)
FLAGS = {control.flag for control in CONTROLS.values()}


def _literal(node: ast.AST) -> bool:
    """A number or string written out (a default or bound restated), not a reference."""
    if isinstance(node, ast.UnaryOp):
        node = node.operand
    return isinstance(node, ast.Constant) and node.value is not None


def _restatements(path: Path) -> list[str]:
    """Places in one face's source that give a control a literal default or range."""
    tree = ast.parse(path.read_text(), str(path))
    found = []
    for node in ast.walk(tree):
        where = f"{path.relative_to(ROOT.parent)}:{getattr(node, 'lineno', '?')}"
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            arguments = node.args.args[-len(node.args.defaults):] if node.args.defaults else []
            pairs = [*zip(arguments, node.args.defaults, strict=True),
                     *zip(node.args.kwonlyargs, node.args.kw_defaults, strict=True)]  # fmt: skip
            found += [f"{where}: default of {a.arg}" for a, d in pairs
                      if a.arg in NAMES and d is not None and _literal(d)]  # fmt: skip
        elif isinstance(node, ast.Call):
            function = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(
                node.func, "id", "")
            if function in SETTERS:
                found += [f"{where}: {k.arg}=literal" for k in node.keywords
                          if k.arg in NAMES and _literal(k.value)
                          and (path.name, k.arg) not in CHOICES]  # fmt: skip
            first = node.args[0] if node.args else None
            if isinstance(first, ast.Constant) and first.value in FLAGS:
                found.append(f"{where}: argument {first.value} defined by hand")
        elif isinstance(node, ast.AnnAssign | ast.Assign):
            targets = [node.target] if isinstance(node, ast.AnnAssign) else node.targets
            names = {t.id for t in targets if isinstance(t, ast.Name)}
            if names & NAMES and node.value is not None and _literal(node.value):
                found.append(f"{where}: {', '.join(names & NAMES)} = literal")
    return found


def test_no_face_defines_a_control_default_or_range_itself() -> None:
    restated = [line for path in FACES for line in _restatements(path)]
    assert restated == []


def test_the_check_catches_a_restated_default(tmp_path: Path) -> None:
    face = tmp_path / "styler" / "cli" / "bad.py"
    face.parent.mkdir(parents=True)
    face.write_text("def run(strength=0.5):\n    parser.add_argument('--steps', default=9)\n"
                    "    gr.Slider(0, 1, strength=0.2)\n")
    global ROOT
    saved, ROOT = ROOT, tmp_path / "styler"
    try:
        assert len(_restatements(face)) == 3
    finally:
        ROOT = saved


def test_cli_arguments_come_from_the_registry() -> None:
    from styler.cli.main import build_parser

    parser = build_parser()
    stylize = parser._subparsers._group_actions[0].choices["stylize"]  # noqa: SLF001
    actions = {a.dest: a for a in stylize._actions}  # noqa: SLF001
    for control in CONTROLS.values():
        action = actions[control.name]
        assert control.flag in action.option_strings
        assert action.default is None  # so explicit flags override --settings-from
        assert tuple(action.choices or ()) == control.choices
        assert control.help in action.help


def test_ui_widgets_come_from_the_registry() -> None:
    pytest.importorskip("gradio")
    from styler.ui import widgets
    from styler.ui.inputs import QUALITY

    for name in ("size", "strength", "style_scale", "feather", "steps", "content_weight"):
        control = CONTROLS[name]
        for mode in ("Fast", QUALITY):
            engine_mode = FAST if mode == "Fast" else OPTIMIZE
            if not control.acts_in(engine_mode):
                continue
            slider = widgets.slider(name, mode)
            low, high = control.slider_for(engine_mode)
            assert (slider.minimum, slider.maximum) == (low, high)
            assert slider.value == control.default_for(engine_mode)
            assert slider.label.startswith(control.label) and slider.step == control.step
    radio = widgets.radio("preserve_color")
    assert [value for _, value in radio.choices] == list(CONTROLS["preserve_color"].choices)


def test_engine_options_take_their_defaults_from_the_registry() -> None:
    optimize = OptimizeOptions()
    assert optimize.values() == defaults(OPTIMIZE)
    for mode, options in ((FAST, FastOptions()), (INSTANT, InstantOptions())):
        for control in controls_for(mode, recorded_only=True):
            if hasattr(options, control.name):
                assert getattr(options, control.name) == control.default_for(mode)


@pytest.mark.parametrize("name", sorted(NAMES))
def test_every_bounded_control_refuses_values_outside_its_range(name: str) -> None:
    control = CONTROLS[name]
    for mode in control.modes:
        bounds = control.bounds_for(mode)
        if control.choices:
            with pytest.raises(InvalidOption):
                control.check("nonsense", mode)
        if bounds is None:
            continue
        low, high = bounds
        below = low - 1 if not control.zero_means or low - 1 != 0 else -1
        with pytest.raises(InvalidOption) as error:
            checked(mode, {name: below})
        assert error.value.name == name and error.value.value == below
        if math.isfinite(high):
            with pytest.raises(InvalidOption):
                checked(mode, {name: high + 1})
        assert checked(mode, {name: low}) == {name: low}
        computed = np.int64(low) if control.kind is int else np.float32(low)  # numpy's numbers
        if computed >= low:  # (a float32 may round below the bound)
            taken = checked(mode, {name: computed})[name]
            assert taken == pytest.approx(low) and type(taken) is control.kind  # plain, in JSON


def test_a_control_of_another_mode_is_refused_by_name() -> None:
    for options, name in ((FastOptions, "steps"), (InstantOptions, "steps"),
                          (InstantOptions, "blend_method")):  # fmt: skip
        with pytest.raises(OptionNotInMode) as error:
            options.from_values({name: 10})
        assert error.value.name == name
    with pytest.raises(InvalidOption, match="a whole number"):
        OptimizeOptions.from_values({"steps": 2.5})


def test_cli_refuses_a_fraction_for_a_whole_number_in_one_line(capsys) -> None:
    from styler.cli.main import build_parser

    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(["stylize", "p.png", "--style", "s.png", "--steps", "2.5"])
    assert stop.value.code == 2
    assert "argument --steps: must be a whole number, got '2.5'" in capsys.readouterr().err
