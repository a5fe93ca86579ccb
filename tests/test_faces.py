"""The same settings give the same image and the same embedded settings through every face:
the CLI (a subprocess), the API, and the UI (its Gradio API through gradio_client, and its
handlers for painted regions); and every result's settings reproduce it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from ui_helpers import photo, save

from styler import FastStylizer, Settings, Stylizer, read_settings, save_image
from styler.fast.inference import FastOptions
from styler.imageio import load_image
from styler.optimize import OptimizeOptions

ROOT = Path(__file__).resolve().parents[1]
FAST_STYLE, OTHER_FAST_STYLE = "udnie", "the_scream"  # shipped networks

# (name, control values, styles (names of files made below), blend, regions)
OPTIMIZE_CASES = [
    ("strength-0.3", {"strength": 0.3}, ["s1.png"], None, []),
    ("luminance-region", {"preserve_color": "luminance", "feather": 3.0}, ["s1.png"], None,
     [("mask.png", None)]),
    ("match-scale", {"preserve_color": "match", "style_scale": 1.5}, ["s1.png"], None, []),
    ("blend", {}, ["s1.png", "s2.png"], [0.7, 0.3], []),
]  # fmt: skip
FAST_CASES = [
    ("strength-0.3-luminance", {"strength": 0.3, "preserve_color": "luminance"}, [FAST_STYLE],
     None, []),
    ("match-scale", {"preserve_color": "match", "style_scale": 2.0}, [FAST_STYLE], None, []),
    ("region", {"feather": 3.0}, [FAST_STYLE], None, [("mask.png", OTHER_FAST_STYLE)]),
    ("blend", {"blend_method": "outputs"}, [FAST_STYLE, OTHER_FAST_STYLE], [0.6, 0.4], []),
]  # fmt: skip
SMALL = {"size": 64, "steps": 4}  # optimizer runs stay quick


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("faces")
    save(photo(96, 72, seed=1), folder / "photo.png")
    save(photo(64, 64, seed=7, gain=0.5), folder / "s1.png")
    save(photo(64, 64, seed=9, gain=1.2).rotate(90), folder / "s2.png")
    mask = np.zeros((72, 96), np.uint8)
    mask[:, :40] = 255
    save(Image.fromarray(mask), folder / "mask.png")
    return folder


@pytest.fixture(scope="module")
def engine() -> Stylizer:
    return Stylizer(device="cpu")


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), np.int16)


def assert_same_image(a: Path, b: Path) -> None:
    first, second = pixels(a), pixels(b)
    assert first.shape == second.shape
    assert np.abs(first - second).max() <= 1, f"{a} and {b} differ"


def assert_same_settings(a: Path, b: Path) -> None:
    first, second = Settings.from_file(a), Settings.from_file(b)
    assert first.differences(second) == {}


def cli(files: Path, out: Path, *args: str, photo_name: str = "photo.png") -> Path:
    """`styler stylize PHOTO ARGS` in a subprocess; the written file's path."""
    command = [sys.executable, "-m", "styler.cli.main", "stylize", photo_name, "-o", str(out),
               "-q", "--device", "cpu", *args]  # fmt: skip
    done = subprocess.run(command, cwd=files, capture_output=True, text=True, timeout=300,
                          env=dict(os.environ, PYTHONPATH=str(ROOT)))  # fmt: skip
    assert done.returncode == 0, done.stderr
    return files / done.stdout.strip().splitlines()[-1]  # an absolute path stays as it is


def flags(values: dict) -> list[str]:
    return [arg for name, value in values.items()
            for arg in ("--" + name.replace("_", "-"), str(value))]  # fmt: skip


def region_flags(regions: list) -> list[str]:
    return [arg for mask, style in regions for arg in ("--region", mask, style or "none")]


@pytest.mark.parametrize(("name", "values", "styles", "blend", "regions"), OPTIMIZE_CASES,
                         ids=[c[0] for c in OPTIMIZE_CASES])  # fmt: skip
def test_optimizer_mode_same_through_cli_api_and_ui(
    files, engine, server, tmp_path, name, values, styles, blend, regions
) -> None:
    values = {**SMALL, **values}
    blend_flags = ["--style-blend", *map(str, blend)] if blend else []
    from_cli = cli(files, tmp_path / "cli", "--style", *styles, *flags(values), *blend_flags,
                   *region_flags(regions))  # fmt: skip
    result = engine.run(files / "photo.png", [files / s for s in styles],
                        OptimizeOptions.from_values(values), blend=blend,
                        regions=[(files / m, s) for m, s in regions])  # fmt: skip
    from_api = save_image(result.image, tmp_path / "api.png", settings=result.settings)
    assert_same_image(from_cli, from_api)
    assert_same_settings(from_cli, from_api)
    if not regions:  # painted regions come through the handlers, below
        from_ui = ui_result(server, files, "Quality", values, styles, blend)
        assert_same_image(from_cli, from_ui)
        assert_same_settings(from_cli, from_ui)
        reproduced = cli(files, tmp_path / "again", "--settings-from", str(from_ui))
        assert_same_image(from_ui, reproduced)
    reproduced = cli(files, tmp_path / "again-cli", "--settings-from", str(from_cli))
    assert_same_image(from_cli, reproduced)


@pytest.mark.parametrize(("name", "values", "styles", "blend", "regions"), FAST_CASES,
                         ids=[c[0] for c in FAST_CASES])  # fmt: skip
def test_fast_mode_same_through_cli_api_and_ui(
    files, server, tmp_path, name, values, styles, blend, regions
) -> None:
    values = {"size": 80, **values}
    method = values.pop("blend_method", "params")
    blend_flags = ["--fast-blend", *map(str, blend)] if blend else []
    from_cli = cli(files, tmp_path / "cli", "--fast", *styles, *flags(values), *blend_flags,
                   "--blend-method", method, *region_flags(regions))  # fmt: skip
    stylizer = FastStylizer(styles, device="cpu", blend=blend, blend_method=method)
    result = stylizer.run(files / "photo.png", FastOptions.from_values(values),
                          regions=[(files / m, s) for m, s in regions])  # fmt: skip
    from_api = save_image(result.image, tmp_path / "api.png", settings=result.settings)
    assert_same_image(from_cli, from_api)
    assert_same_settings(from_cli, from_api)
    if len(styles) == 1 and not regions:  # the UI's Fast mode runs one network
        from_ui = ui_result(server, files, "Fast", values, styles, None)
        assert_same_image(from_cli, from_ui)
        assert_same_settings(from_cli, from_ui)
    reproduced = cli(files, tmp_path / "again", "--settings-from", str(from_cli))
    assert_same_image(from_cli, reproduced)


def test_a_large_jpeg_painted_smaller_is_the_same_through_cli_api_and_ui(
    files, server, tmp_path
) -> None:
    """A JPEG four times the output's size decodes at a reduced scale (load_image's
    at_least) in every face alike, the UI's upload included."""
    save(photo(640, 480, seed=5), files / "large.jpg")
    values = {"size": 120}
    assert load_image(files / "large.jpg", at_least=120).rgb.size == (320, 240)  # 1/2 scale
    from_cli = cli(files, tmp_path / "cli", "--fast", FAST_STYLE, *flags(values),
                   photo_name="large.jpg")  # fmt: skip
    result = FastStylizer([FAST_STYLE], device="cpu").run(
        files / "large.jpg", FastOptions.from_values(values)
    )
    from_api = save_image(result.image, tmp_path / "api.png", settings=result.settings)
    from_ui = ui_result(server, files, "Fast", values, [FAST_STYLE], None, "large.jpg")
    for other in (from_api, from_ui):
        assert_same_image(from_cli, other)
    assert Image.open(from_cli).size == (120, 90)


def ui_result(
    live, files: Path, mode: str, values: dict, styles: list, blend, photo_name: str = "photo.png"
) -> Path:
    """The UI's /stylize endpoint through gradio_client: the full-size PNG it made."""
    from gradio_client import Client, handle_file

    kwargs = {"content": handle_file(str(files / photo_name)), "mode": mode, **values}
    if mode == "Fast":
        kwargs["style"] = styles[0]
    else:
        weights = blend or [1.0] * len(styles)
        for number, (style, weight) in enumerate(zip(styles, weights, strict=True), start=1):
            kwargs[f"style{number}"] = handle_file(str(files / style))
            kwargs[f"weight{number}"] = weight
    client = Client(live.url, verbose=False)
    return Path(client.predict(api_name="/stylize", **kwargs)[0])


def test_ui_handlers_regions_match_the_api(files, engine, tmp_path) -> None:
    """Painted regions (the editor's RGBA layer) give what a mask file gives the API."""
    from styler.ui.config import UIConfig
    from styler.ui.effects import REGIONS
    from styler.ui.inputs import NO_STYLE, Controls, Regions
    from styler.ui.runs import run_quality
    from styler.ui.services import Services
    from styler.ui.state import Session

    services = Services(UIConfig(device="cpu", prewarm=False, temp_dir=tmp_path))
    layer = np.zeros((72, 96, 4), np.uint8)
    layer[:, :40] = (*REGIONS["Red"], 255)
    values = {**SMALL, "feather": 3.0, "preserve_color": "luminance"}
    updates = run_quality(services, Session(), "k", files / "photo.png",
                          [(files / "s1.png", 1.0)], Controls(**values),
                          Regions(layers=[layer], styles={"Red": NO_STYLE}))  # fmt: skip
    entry = [u.entry for u in updates if u.entry is not None][0]
    result = engine.run(files / "photo.png", [files / "s1.png"],
                        OptimizeOptions.from_values(values),
                        regions=[(files / "mask.png", None)])  # fmt: skip
    np.testing.assert_allclose(pixels(entry.path), np.asarray(result.image, np.int16), atol=1)
    services.workspace.cleanup()


def test_settings_are_versioned_and_reproduce_through_the_api(files, engine, tmp_path) -> None:
    from styler import stylize_like

    result = engine.run(files / "photo.png", files / "s1.png",
                        OptimizeOptions.from_values({**SMALL, "strength": 0.5}))  # fmt: skip
    path = save_image(result.image, files / "made.png", settings=result.settings)
    settings = Settings.from_file(path)
    data = read_settings(path)
    assert data["schema"] == "styler.settings" and data["version"] == 1
    assert settings.mode == "optimize" and settings.styles == ["s1.png"]
    assert set(settings.controls) == {"size", "upscale", "steps", "strength", "preserve_color",
                                      "style_scale", "feather", "temporal", "tile",
                                      "content_weight", "style_weight", "tv_weight", "optimizer",
                                      "init", "seed"}
    again = stylize_like(files / "photo.png", path)
    assert np.abs(np.asarray(again.image, np.int16) - pixels(path)).max() <= 1


def test_settings_errors_name_the_file(files, tmp_path) -> None:
    from styler.settings import SettingsError

    plain = save(photo(), tmp_path / "plain.png")
    with pytest.raises(SettingsError, match="plain.png: no styler settings"):
        Settings.from_file(plain)
    with pytest.raises(SettingsError, match="version 99"):
        Settings.from_dict({"schema": "styler.settings", "version": 99})
    legacy = Settings.from_dict({"mode": "fast", "style": "udnie", "strength": 0.5, "size": 40})
    assert legacy.styles == ["udnie"] and legacy.controls["strength"] == 0.5
