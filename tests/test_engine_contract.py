"""The engine contract (styler.engine): one recipe, one build_engine that alone knows the
modes, one run(image, progress=, cancel=) that every mode honours, and faces that reach the
engine only through it."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from styler import CancelToken, Progress, Recipe, build_engine
from styler.controls import FAST, INSTANT, OPTIMIZE
from styler.errors import OptionsError
from styler.recipe import ChangedImage, MissingImage
from styler.settings import Settings
from tests.conftest import gradient_photo, stripe_style
from tests.ui_helpers import make_tiny_styles

PACKAGE = Path(__file__).resolve().parents[1] / "styler"
GALLERY = Path(__file__).resolve().parents[1] / "gallery"
# The only modules that may construct a mode's stylizer, and why.
STYLIZER_BUILDERS = {
    "engine.py": "build_engine: the one place that knows the three modes",
    "quality.py": "optimizer mode's init 'instant' starts from an instant-mode result",
    "api.py": "stylize(): the optimizer-mode one-call convenience, its engine cached",
}


def _modules() -> list[tuple[Path, ast.Module]]:
    return [(path, ast.parse(path.read_text(), str(path))) for path in PACKAGE.rglob("*.py")]


def _imported(tree: ast.Module) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module)
            names.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
    return names


def test_no_module_outside_the_cli_imports_the_cli() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path, tree in _modules()
        if path.parent.name != "cli"
        and any(name == "styler.cli" or name.startswith("styler.cli.") for name in _imported(tree))
    ]
    assert offenders == []


def test_the_mode_is_chosen_in_one_place() -> None:
    """Only build_engine (and the listed exceptions) construct a mode's stylizer."""
    classes = {"Stylizer", "FastStylizer", "InstantStylizer"}
    builders = set()
    for path, tree in _modules():
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in classes):  # fmt: skip
                builders.add(str(path.relative_to(PACKAGE)))
    assert builders <= set(STYLIZER_BUILDERS), builders - set(STYLIZER_BUILDERS)


@pytest.fixture(scope="module")
def recipes(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Recipe]:
    """One small recipe per mode: a tiny fast network, the shipped instant decoders."""
    folder = tmp_path_factory.mktemp("contract")
    net = make_tiny_styles(folder / "weights") / "warm_test.safetensors"
    style = folder / "stripes.png"
    stripe_style(48, 48).save(style)
    return {
        OPTIMIZE: Recipe.create(OPTIMIZE, [style], size=32, steps=4, device="cpu"),
        FAST: Recipe.create(FAST, [net], device="cpu", tile=256),
        INSTANT: Recipe.create(INSTANT, [style], device="cpu", tile=128),
    }


PHOTO_SIZES = {OPTIMIZE: (40, 30), FAST: (400, 300), INSTANT: (160, 120)}


def _small_engine(recipe: Recipe):
    """The recipe's engine, its feed-forward passes tiled at these small sizes."""
    engine = build_engine(recipe)
    if recipe.mode != OPTIMIZE:
        engine.stylizer.whole_side = recipe.controls["tile"]
    return engine


@pytest.mark.parametrize("mode", [OPTIMIZE, FAST, INSTANT])
def test_every_mode_reports_progress_to_its_last_step(recipes, mode) -> None:
    photo = gradient_photo(*PHOTO_SIZES[mode])
    engine = _small_engine(recipes[mode])
    seen: list[Progress] = []
    result = engine.run(photo, progress=seen.append)
    assert result.completed and result.settings["mode"] == mode
    steps = [p.step for p in seen]
    assert steps == sorted(steps) and steps[-1] == seen[-1].total_steps
    if mode != OPTIMIZE:  # one step per network pass: a tiled photo makes several
        assert seen[-1].total_steps > 1 and seen[-1].size == photo.size


@pytest.mark.parametrize("mode", [OPTIMIZE, FAST, INSTANT])
def test_every_mode_stops_on_the_cancel_token(recipes, mode) -> None:
    photo = gradient_photo(*PHOTO_SIZES[mode])
    engine = _small_engine(recipes[mode])
    cancel = CancelToken()
    seen: list[Progress] = []

    def first_step_cancels(progress: Progress) -> None:
        seen.append(progress)
        cancel.cancel()

    result = engine.run(photo, progress=first_step_cancels, cancel=cancel)
    assert not result.completed and len(seen) == 1 and seen[0].total_steps > 1
    assert result.settings["completed"] is False


def test_a_cancelled_tiled_4k_instant_run_stops_within_a_second(recipes) -> None:
    """The cancel lands in the middle of a tile's pass; the pass stops at the next layer."""
    photo = np.asarray(gradient_photo(3840, 2160))
    engine = build_engine(recipes[INSTANT].with_controls(tile=1024, stroke_side=0))
    cancel = CancelToken()
    started = threading.Event()

    def first_pass(progress: Progress) -> None:
        started.set()

    cancelled_at: list[float] = []

    def cancel_soon() -> None:
        started.wait(120)
        time.sleep(0.2)  # inside the second tile's pass
        cancelled_at.append(time.perf_counter())
        cancel.cancel()

    timer = threading.Thread(target=cancel_soon)
    timer.start()
    result = engine.run(photo, progress=first_pass, cancel=cancel)
    stopped = time.perf_counter()
    timer.join()
    assert not result.completed and result.image.size == (3840, 2160)
    assert stopped - cancelled_at[0] < 1.0


def test_a_cancel_stops_an_onnxruntime_pass_in_its_middle(
    recipes, monkeypatch: pytest.MonkeyPatch
) -> None:
    """fp32 and int8 run instant mode's graphs in onnxruntime, which a cancel stops through
    its terminate flag rather than between layers: one whole pass, cancelled a moment after
    its first onnxruntime pass begins, ends well before an uncancelled one would. (The
    moment is tied to the pass, not to the run's start: this shared machine's speed swings
    between runs, and a cancel timed from the start could land after the last pass.)"""
    from styler.instant.runtime import OnnxNetworks

    photo = np.asarray(gradient_photo(1536, 864))
    recipe = recipes[INSTANT].with_controls(tile=2048, stroke_side=0, precision="fp32")
    engine = build_engine(recipe)
    engine.stylizer.whole_side = 2048  # the photo in one pass, not tiles
    engine.run(photo)  # exports the graphs, opens the sessions, reads the painting's statistics
    seen: list[Progress] = []
    start = time.perf_counter()
    assert engine.run(photo, progress=seen.append).completed
    whole = time.perf_counter() - start
    assert seen[-1].total_steps == 1  # one pass, nothing to stop between
    cancel = CancelToken()
    timers: list[threading.Timer] = []
    run_pass = OnnxNetworks._run

    def cancelled_soon(self: OnnxNetworks, session: object, feed: dict) -> object:
        if not timers:
            timers.append(threading.Timer(0.05, cancel.cancel))
            timers[0].start()
        return run_pass(self, session, feed)

    monkeypatch.setattr(OnnxNetworks, "_run", cancelled_soon)
    start = time.perf_counter()
    result = engine.run(photo, cancel=cancel)
    stopped = time.perf_counter() - start
    timers[0].join()
    assert not result.completed
    assert stopped < 0.75 * whole, (stopped, whole)


def test_a_recipe_refuses_what_no_mode_can_run(tmp_path: Path) -> None:
    with pytest.raises(OptionsError, match="steps"):
        Recipe.create(FAST, ["udnie"], steps=3)
    with pytest.raises(OptionsError, match="2 style images but 1 blend weight"):
        Recipe.create(INSTANT, ["a.png", "b.png"], blend=[1])
    with pytest.raises(OptionsError, match="init image has no effect in fast mode"):
        Recipe.create(FAST, ["udnie"], init_image="x.png")
    assert Recipe.create(OPTIMIZE, ["p.png"]).controls["size"] == 512
    assert Recipe.create(OPTIMIZE, [np.zeros((4, 4, 3), np.uint8)]).names == ["style1"]


# ------------------------------------------------------- reproducing a result from its settings

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


def _styler(*args: str | Path, cwd: Path) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "styler.cli.main", *map(str, args)]
    return subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_settings_from_finds_a_style_image_in_a_third_folder_and_refuses_a_changed_one(
    tmp_path: Path,
) -> None:
    """The style lies neither beside the result nor in the working folder: the settings'
    recorded path finds it; once the file changes, the reproduction is refused."""
    paintings, photos, results, elsewhere = (tmp_path / n for n in
                                             ("paintings", "photos", "results", "elsewhere"))
    for folder in (paintings, photos, results, elsewhere):
        folder.mkdir()
    stripe_style(48, 48).save(paintings / "stripes.png")
    gradient_photo(40, 30).save(photos / "p.png")
    made = _styler("stylize", photos / "p.png", "--style", paintings / "stripes.png", "-o",
                   results, "--size", "32", "--steps", "3", cwd=tmp_path)  # fmt: skip
    assert made.returncode == 0, made.stderr
    result = Path(made.stdout.strip())
    recorded = Settings.from_file(result).files["stripes.png"]
    assert recorded["path"] == str(paintings / "stripes.png") and len(recorded["sha256"]) == 64
    again = _styler("stylize", photos / "p.png", "--settings-from", result, "-o", elsewhere,
                    cwd=elsewhere)  # fmt: skip
    assert again.returncode == 0, again.stderr
    first = np.asarray(Image.open(result))
    np.testing.assert_array_equal(np.asarray(Image.open(again.stdout.strip())), first)

    stripe_style(48, 40).save(paintings / "stripes.png")  # the painting changed since
    refused = _styler("stylize", photos / "p.png", "--settings-from", result, "-o", elsewhere,
                      "--skip-existing", cwd=elsewhere)  # fmt: skip
    assert refused.returncode == 2
    assert "style image 'stripes.png' named in the settings differs from the one" in refused.stderr


def test_a_recipe_from_settings_looks_where_the_file_was_then_beside_then_nowhere(
    tmp_path: Path,
) -> None:
    style = tmp_path / "made" / "s.png"
    style.parent.mkdir()
    stripe_style(16, 16).save(style)
    from styler.settings import files_of

    settings = Settings(mode=INSTANT, styles=["s.png"], blend=[1.0], controls={},
                        files=files_of([style]))  # fmt: skip
    assert Recipe.from_settings(settings, [tmp_path]).styles == (str(style),)
    beside = tmp_path / "beside"
    beside.mkdir()
    (beside / "s.png").write_bytes(style.read_bytes())
    style.unlink()
    assert Recipe.from_settings(settings, [beside]).styles == (str(beside / "s.png"),)
    stripe_style(16, 8).save(beside / "s.png")
    with pytest.raises(ChangedImage, match="differs"):
        Recipe.from_settings(settings, [beside])
    with pytest.raises(MissingImage, match="is not in"):
        Recipe.from_settings(settings, [tmp_path / "nowhere"])
