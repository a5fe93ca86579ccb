"""The public API and the commands at their edges, as a second QA pass found them: what
they take besides the obvious (arrays, paths), and one clear line for what they cannot."""

from __future__ import annotations

import numpy as np
import pytest
from PIL import Image

import styler
from styler import InvalidOption, OptionsError, Recipe
from styler.recipe import MissingImage
from styler.video import VideoLoadError, stylize_video
from tests.test_cli import call_main


def test_save_image_takes_an_array_and_names_what_it_cannot(tmp_path) -> None:
    pixels = np.full((4, 6, 3), 200, np.uint8)
    saved = styler.save_image(pixels, tmp_path / "a.png")
    assert np.array_equal(np.asarray(Image.open(saved)), pixels)
    with pytest.raises(TypeError, match="uint8 array, not a 4x6x3 float32 array"):
        styler.save_image(pixels.astype(np.float32), tmp_path / "b.png")


def test_distances_take_paths(tmp_path) -> None:
    photo = tmp_path / "p.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (48, 64, 3), np.uint8)).save(photo)
    same = styler.distances(photo, str(photo), photo)
    assert same.content == 0 and same.style == 0


def test_out_of_range_options_are_invalid_option_from_the_package() -> None:
    with pytest.raises(InvalidOption) as error:
        styler.build_options(preview_every=-1)
    assert (error.value.name, error.value.value) == ("preview_every", -1)


def test_init_image_without_an_image_is_refused_before_any_work(tmp_path, capsys) -> None:
    with pytest.raises(OptionsError, match="init 'image' starts from an init image"):
        Recipe.create("optimize", ["p.jpg"], init="image")
    code, _, stderr = call_main("stylize", "a.jpg", "--style", "p.jpg", "--init", "image",
                                "-o", str(tmp_path / "out"), capsys=capsys)  # fmt: skip
    assert code == 2 and "give one (--init-image)" in stderr


def test_a_style_passed_in_memory_is_named_as_such() -> None:
    error = MissingImage("<array>", "region mask", [])
    assert str(error) == ("the region mask of these settings was passed in memory (<array>), "
                          "not as a file: pass it again")  # fmt: skip


def test_a_photo_is_not_a_video(tmp_path) -> None:
    photo = tmp_path / "p.jpg"
    Image.new("RGB", (32, 24), (90, 120, 200)).save(photo)
    with pytest.raises(VideoLoadError, match="a still image, not a video"):
        stylize_video(photo, tmp_path / "p.mp4", Recipe.create("fast", ["udnie"]))
    assert not (tmp_path / "p.mp4").exists()


@pytest.mark.parametrize(("args", "says"), [
    (("train-instant", "--data", ".", "--val", ".", "--minutes-scale", "abc"),
     "--minutes-scale: must be a number, got 'abc'"),
    (("ui", "--max-upload-pixels", "abc"), "not a pixel count: 'abc'"),
    (("ui", "--train-photos", "no_such_folder"), "--train-photos no_such_folder: no such folder"),
    (("ui", "--host", "999.1.1.1"), "--host 999.1.1.1: not an address"),
    (("export", "starry_night", "--calibrate", "."), "--calibrate quantizes a fast network"),
])  # fmt: skip
def test_bad_arguments_are_one_usage_line(args, says, capsys) -> None:
    if args[0] == "ui":
        pytest.importorskip("gradio")  # the test extra installs it; a bare install has none
    code, _, stderr = call_main(*args, capsys=capsys)
    assert code == 2 and says in stderr, stderr


def test_train_instant_that_saved_no_decoder_says_so(tmp_path, monkeypatch, capsys) -> None:
    """A budget too short for one evaluation keeps no decoder: that is a failure, not
    'decoders in ...'."""
    import styler.cli.train_instant_cmd as command

    monkeypatch.setattr(command, "train_levels", lambda *args, **kwargs: None)
    code, _, stderr = call_main("train-instant", "--data", str(tmp_path), "--val", str(tmp_path),
                                "-o", str(tmp_path / "out"), capsys=capsys)  # fmt: skip
    assert code == 1 and "no decoder for relu4_1 was saved" in stderr, stderr
    assert "use them with" not in stderr
