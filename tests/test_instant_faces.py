"""Instant mode through its faces: the CLI (`styler stylize --instant`, real subprocesses on
small images), the API (InstantStylizer, stylize_files, stylize_like) and
`styler train-instant`. The same controls give the same pixels and settings in every face,
and every instant result's settings reproduce it.

The tests run on a snapshot of whatever decoders weights/instant/manifest.json lists (at
least one), so a decoder training in the background cannot change them mid-run.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import GALLERY, gradient_photo, shared_file, stripe_style
from PIL import Image

from styler import InstantOptions, InstantStylizer, Recipe, Settings, save_image, stylize_like
from styler.batch import stylize_files
from styler.controls import CONTROLS, INSTANT, controls_for
from styler.instant import stylizer as instant_module
from styler.instant.files import MANIFEST, decoders_dir

pytestmark = pytest.mark.slow  # each CLI run starts Python, torch and VGG19: seconds
ROOT = Path(__file__).resolve().parents[1]
W, H = 88, 64  # the photo's size: small, and not the default output size of any mode

# (name, control values, styles (files made below), blend, regions)
CASES = [
    ("defaults", {}, ["s1.png"], None, []),
    ("strength-luminance", {"strength": 0.4, "preserve_color": "luminance"}, ["s1.png"], None,
     []),
    ("match-scale-size", {"preserve_color": "match", "style_scale": 1.5, "size": 64},
     ["s1.png"], None, []),
    ("blend-regions", {"feather": 3.0}, ["s1.png", "s2.png"], [0.7, 0.3],
     [("mask.png", None), ("mask2.png", "s2.png")]),
]  # fmt: skip


@pytest.fixture(scope="module")
def decoders(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """A copy of the listed decoders (the frames' too) and encoder, used by every face here
    (STYLER_INSTANT_DIR)."""
    source = decoders_dir()
    try:
        manifest = json.loads((source / MANIFEST).read_text())
    except (OSError, ValueError) as exc:
        pytest.skip(f"no readable instant-mode decoder manifest in {source}: {exc}")
    entries = manifest.get("decoders") or []
    if not entries:
        pytest.skip(f"{source / MANIFEST} lists no instant-mode decoder yet")
    folder = tmp_path_factory.mktemp("decoders")
    for entry in [*entries, *manifest.get("frames", []), *manifest.get("encoders", [])]:
        data = (source / entry["file"]).read_bytes()
        if hashlib.sha256(data).hexdigest() != entry["sha256"]:
            pytest.skip(f"{entry['file']} is being rewritten (a training run); try again")
        (folder / entry["file"]).write_bytes(data)
    shutil.copy(source / MANIFEST, folder / MANIFEST)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("STYLER_INSTANT_DIR", str(folder))
        patch.setattr(instant_module, "_NETWORKS", {})  # load the snapshot, not a cached set
        yield folder


@pytest.fixture(scope="module")
def files(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("instant-faces")
    gradient_photo(W, H, seed=1).save(folder / "photo.png")
    stripe_style(64, 64).save(folder / "s1.png")
    Image.open(GALLERY / "styles" / "mosaic.jpg").convert("RGB").resize((72, 72)).save(
        folder / "s2.png"
    )
    left, top = np.zeros((H, W), np.uint8), np.zeros((H, W), np.uint8)
    left[:, : W // 3] = 255
    top[: H // 3] = 255
    Image.fromarray(left).save(folder / "mask.png")
    Image.fromarray(top).save(folder / "mask2.png")
    return folder


def styler(cwd: Path, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """`styler ARGS` in a subprocess, on the CPU, with the decoders of STYLER_INSTANT_DIR."""
    command = [sys.executable, "-m", "styler.cli.main", *map(str, args)]
    env = {**os.environ, "PYTHONPATH": str(ROOT), "OMP_NUM_THREADS": "1"}  # see test_cli.py
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=300)


def stylize(files: Path, out: Path, *args: str) -> Path:
    """`styler stylize photo.png ARGS` that must succeed; the written file's path."""
    done = styler(files, "stylize", "photo.png", "-o", out, "-q", "--device", "cpu", *args)
    assert done.returncode == 0, done.stderr
    return files / done.stdout.strip().splitlines()[-1]


def flags(values: dict) -> list[str]:
    return [arg for name, value in values.items() for arg in (CONTROLS[name].flag, str(value))]


def region_flags(regions: list) -> list[str]:
    return [arg for mask, style in regions for arg in ("--region", mask, style or "none")]


def pixels(path: Path) -> np.ndarray:
    return np.asarray(Image.open(path).convert("RGB"), np.int16)


def assert_same(a: Path, b: Path) -> None:
    """Pixel-identical images with the same settings (the engine notes aside)."""
    np.testing.assert_array_equal(pixels(a), pixels(b), err_msg=f"{a} and {b} differ")
    assert Settings.from_file(a).differences(Settings.from_file(b)) == {}


@pytest.mark.parametrize(("name", "values", "styles", "blend", "regions"), CASES,
                         ids=[c[0] for c in CASES])  # fmt: skip
def test_instant_mode_same_through_cli_and_api_and_reproduced(
    decoders, files, tmp_path, name, values, styles, blend, regions
) -> None:
    blend_flags = ["--style-blend", *map(str, blend)] if blend else []
    from_cli = stylize(files, tmp_path / "cli", "--instant", "--style", *styles, *flags(values),
                       *blend_flags, *region_flags(regions))  # fmt: skip
    stylizer = InstantStylizer([files / s for s in styles], device="cpu", blend=blend)
    result = stylizer.run(files / "photo.png", InstantOptions.from_values(values),
                          regions=[(files / m, s and files / s) for m, s in regions])  # fmt: skip
    from_api = save_image(result.image, tmp_path / "api.png", settings=result.settings)
    assert_same(from_cli, from_api)
    settings = Settings.from_file(from_cli)
    assert settings.mode == INSTANT and settings.styles == styles
    assert {k: settings.controls[k] for k in values} == values
    again = stylize(files, tmp_path / "again", "--settings-from", str(from_cli))
    assert_same(from_cli, again)


def test_instant_output_has_the_photos_size_and_full_settings(decoders, files, tmp_path) -> None:
    out = stylize(files, tmp_path, "--style", "s1.png", "--instant")
    assert Image.open(out).size == (W, H)
    settings = Settings.from_file(out)
    recorded = {c.name for c in controls_for(INSTANT, recorded_only=True)}
    assert settings.mode == INSTANT and set(settings.controls) == recorded
    assert settings.engine["device"] == "cpu"


def test_a_real_photo_and_painting_keep_the_photos_size(decoders, tmp_path) -> None:
    photo = Image.open(shared_file("content/tubingen.jpg")).convert("RGB")
    photo.thumbnail((96, 96))
    photo.save(tmp_path / "photo.png")
    shutil.copy(shared_file("styles/starry_night.jpg"), tmp_path / "starry_night.jpg")
    out = stylize(tmp_path, tmp_path / "out", "--style", "starry_night.jpg", "--instant")
    assert out.name == "photo__starry_night.png" and Image.open(out).size == photo.size
    image = pixels(out)
    assert image.std() > 5 and np.abs(image - np.asarray(photo, np.int16)).mean() > 5


def test_the_api_reproduces_a_cli_result_and_batches_alike(decoders, files, tmp_path) -> None:
    from_cli = stylize(files, tmp_path / "cli", "--instant", "--style", "s1.png", "s2.png",
                       "--style-blend", "2", "1", "--strength", "0.7")  # fmt: skip
    like = stylize_like(files / "photo.png", from_cli, search=[files])
    np.testing.assert_array_equal(np.asarray(like.image, np.int16), pixels(from_cli))
    recipe = Recipe.create("instant", [files / "s1.png", files / "s2.png"], blend=[2, 1],
                           strength=0.7, device="cpu")  # fmt: skip
    summary = stylize_files(files / "photo.png", tmp_path / "batch", recipe)
    assert summary.ok and [p.name for p in summary.written] == [from_cli.name]
    assert_same(from_cli, summary.written[0])


def test_a_batch_skips_bad_files_and_resumes(decoders, files, tmp_path) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    gradient_photo(64, 48, seed=2).save(photos / "a.png")
    (photos / "broken.jpg").write_bytes(b"not an image")
    args = ["stylize", photos, "--style", files / "s1.png", "--instant", "-o", tmp_path / "out",
            "--device", "cpu", "-q"]  # fmt: skip
    first = styler(tmp_path, *args)
    assert first.returncode == 1, first.stderr
    assert first.stdout.split() == [str(tmp_path / "out" / "a__s1.png")]
    assert "broken.jpg" in first.stderr and "1 stylized, 0 skipped" in first.stderr
    second = styler(tmp_path, *args, "--skip-existing")
    assert "0 stylized, 1 skipped" in second.stderr
    assert not [p for p in (tmp_path / "out").iterdir() if p.name != "a__s1.png"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--steps", "3"), "--steps has no effect in instant mode"),
        (("--blend-method", "params"), "--blend-method has no effect in instant mode"),
        (("--init-image", "s1.png"), "--init-image has no effect in instant mode"),
        (("--fast-blend", "1"), "--fast-blend weighs --fast networks"),
        (("--style-scale", "9"), "--style-scale must be between 0.25 and 4"),
    ],
)
def test_a_flag_that_does_not_act_in_instant_mode_is_a_usage_error(files, args, message) -> None:
    done = styler(files, "stylize", "photo.png", "--style", "s1.png", "--instant", *args,
                  "-o", "never")  # fmt: skip
    assert done.returncode == 2
    errors = [line for line in done.stderr.splitlines() if "error:" in line]
    assert len(errors) == 1 and message in errors[0], done.stderr
    assert not (files / "never").exists()


def test_instant_needs_style_images(files, tmp_path, capsys) -> None:
    from styler.cli.main import main

    assert main(["stylize", str(files / "photo.png"), "--instant", "-o", str(tmp_path)]) == 2
    assert "--instant needs --style IMAGE" in capsys.readouterr().err
    fast = Settings(mode="fast", styles=["udnie"], blend=[1.0], controls={})
    made = save_image(Image.open(files / "photo.png"), tmp_path / "fast.png",
                      settings=fast.to_dict())  # fmt: skip
    code = main(["stylize", str(files / "photo.png"), "--instant", "--settings-from", str(made),
                 "-o", str(tmp_path / "never")])  # fmt: skip
    assert code == 2 and "made in fast mode; give --style" in capsys.readouterr().err


# ------------------------------------------------------------------------ styler train-instant


def test_train_instant_passes_its_flags_and_reports_each_evaluation(
    tmp_path, monkeypatch, capsys
) -> None:
    from styler.cli import train_instant_cmd
    from styler.cli.main import main

    calls = []

    def fake_train(levels, out, data, val, **options) -> None:
        calls.append((levels, out, data, val, options))
        record = {"level": levels[0], "step": 100, "elapsed": 12.3, "best": True,
                  "val": {"pixel": 0.0123, "feature": 0.456, "total": 0.03}}  # fmt: skip
        options["on_eval"](record)
        assert options["should_stop"]() is False
        Path(out).mkdir(parents=True, exist_ok=True)  # the best decoder, as an evaluation saves
        (Path(out) / f"decoder_{levels[0]}.safetensors").write_bytes(b"")

    monkeypatch.setattr(train_instant_cmd, "train_levels", fake_train)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "train").mkdir()
    (tmp_path / "val").mkdir()
    code = main(["train-instant", "--levels", "relu4_1", "--data", "train", "--val", "val",
                 "--minutes-scale", "0.5", "--resume"])  # fmt: skip
    err = capsys.readouterr().err
    assert code == 0, err
    levels, out, data, val, options = calls[0]
    assert (levels, data, val) == (["relu4_1"], ["train"], "val")
    assert out == train_instant_cmd.DEFAULT_OUT and out.resolve() != decoders_dir().resolve()
    assert options["minutes_scale"] == 0.5 and options["resume"] is True
    assert "relu4_1 step   100" in err
    assert "pixel 0.0123 feature 0.4560 total 0.0300 (best, saved)" in err
    assert main(["train-instant", "--data", "nowhere", "--val", "val"]) == 2
    assert "nowhere: no such folder" in capsys.readouterr().err
