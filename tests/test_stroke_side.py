"""Fast mode's stroke_side (issue 24, item 6): a photo longer than stroke_side is painted as
its copy at that side would be, so its strokes keep their size relative to the picture; 0
keeps them in pixels, which settings recorded before the control existed still mean."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from styler.controls import CONTROLS, FAST, unrecorded_values
from styler.fast.inference import FastOptions, FastStylizer
from styler.fast.network import NetworkConfig, StyleNetwork
from styler.fast.weights import save_network
from styler.recipe import Recipe
from styler.settings import Settings
from tests.conftest import gradient_photo

TINY = NetworkConfig(widths=(8, 16, 16), res_blocks=1)


@pytest.fixture
def stylizer(tmp_path: Path) -> FastStylizer:
    torch.manual_seed(0)
    net = StyleNetwork(TINY)
    path = tmp_path / "net.safetensors"
    save_network(net, path, {"styles": ["test"]})
    return FastStylizer(path, device="cpu", backend="torch")


def test_a_long_photo_runs_at_the_scale_its_stroke_side_gives() -> None:
    options = FastOptions(stroke_side=512)
    assert options.scale_for(300, 400) == 1.0  # no longer than stroke_side: its own scale
    assert options.scale_for(1536, 2048) == pytest.approx(4.0)
    assert FastOptions(stroke_side=512, style_scale=0.5).scale_for(768, 1024) == 1.0
    assert FastOptions(stroke_side=0).scale_for(3000, 4000) == 1.0
    assert CONTROLS["stroke_side"].default_for(FAST) == 1024


def test_a_big_photo_looks_as_its_small_copy_does(stylizer: FastStylizer) -> None:
    """Shrunk back to the small copy's size, the big result is that copy's result; with
    stroke_side 0 it is not (its strokes are finer)."""
    big = gradient_photo(512, 384, seed=3)
    small = np.asarray(big.resize((256, 192), Image.Resampling.BOX))
    relative = stylizer.run(big, FastOptions(stroke_side=256))
    pixels = stylizer.run(big, FastOptions(stroke_side=0))
    reference = stylizer.run(Image.fromarray(small), FastOptions(stroke_side=256))

    def distance(result) -> float:
        shrunk = result.image.resize((256, 192), Image.Resampling.BOX)
        return float(np.abs(np.asarray(shrunk, np.float32) - np.asarray(reference.image)).mean())

    assert relative.image.size == (512, 384)
    assert distance(relative) < 0.5 * distance(pixels), (distance(relative), distance(pixels))
    assert relative.settings["controls"]["stroke_side"] == 256


def test_settings_from_before_stroke_side_reproduce_in_pixels() -> None:
    assert unrecorded_values(FAST) == {"stroke_side": 0}
    old = Settings(mode=FAST, styles=["starry_night"], blend=[1.0], controls={"strength": 1.0})
    assert Recipe.from_settings(old).controls["stroke_side"] == 0
    new = Settings(mode=FAST, styles=["starry_night"], blend=[1.0],
                   controls={"stroke_side": 2048})  # fmt: skip
    assert Recipe.from_settings(new).controls["stroke_side"] == 2048
    assert Recipe.create(FAST, "starry_night").controls["stroke_side"] == 1024


def test_every_face_takes_and_records_stroke_side(stylizer: FastStylizer, tmp_path: Path) -> None:
    """The API's keyword and the CLI's flag give the same control, recorded in the PNG."""
    import os
    import subprocess
    import sys

    from styler.imageio import read_settings

    big = gradient_photo(600, 400, seed=2)
    by_keyword = stylizer.stylize(big, stroke_side=300)
    by_options = stylizer.run(big, FastOptions(stroke_side=300)).image
    assert np.array_equal(np.asarray(by_keyword), np.asarray(by_options))
    photo = tmp_path / "photo.png"
    big.save(photo)
    command = [sys.executable, "-m", "styler.cli.main", "stylize", str(photo), "--fast",
               stylizer.specs[0], "--stroke-side", "300", "-o", str(tmp_path / "out"),
               "--quiet", "--device", "cpu"]  # fmt: skip
    done = subprocess.run(command, capture_output=True, text=True, timeout=180,
                          env={**os.environ, "OMP_NUM_THREADS": "1"})  # fmt: skip
    assert done.returncode == 0, done.stderr
    written = Path(done.stdout.strip().splitlines()[-1])
    assert read_settings(written)["controls"]["stroke_side"] == 300
