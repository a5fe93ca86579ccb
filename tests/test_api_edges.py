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
    with pytest.raises(InvalidOption, match="a whole number"):  # 1.5 was taken (found by QA)
        styler.build_options(preview_every=1.5)


def test_no_style_is_one_options_error_not_pythons_words() -> None:
    """stylize(photo, None) raised "TypeError: 'NoneType' object is not iterable"."""
    photo = np.zeros((8, 8, 3), np.uint8)
    for style in (None, [None], []):
        with pytest.raises(OptionsError, match="at least one style image is needed"):
            styler.Stylizer().stylize(photo, style)


def test_a_misspelt_option_is_an_invalid_option_naming_every_known_one() -> None:
    """The README's `except InvalidOption` let a typo through: it was the parent class,
    and its list left out options the engine takes (preview_every)."""
    with pytest.raises(InvalidOption) as error:
        styler.build_options(strenght=0.5)
    assert (error.value.name, error.value.value) == ("strenght", 0.5)
    assert isinstance(error.value, styler.UnknownOption)
    assert "unknown option 'strenght' for optimizer mode" in str(error.value)
    assert all(name in error.value.expected for name in ("strength", "preview_every", "steps"))
    with pytest.raises(InvalidOption, match="unknown option 'stepz' for fast mode"):
        Recipe.create("fast", ["udnie"], stepz=3)


def test_a_recipe_of_no_network_or_a_region_not_a_pair_is_one_options_error() -> None:
    """They passed create() and failed deep in build_engine, in Python's words (TypeError:
    expected str, bytes or os.PathLike object; too many values to unpack)."""
    with pytest.raises(OptionsError, match="a fast network is a name or a file, not None"):
        Recipe.create("fast", None)
    with pytest.raises(OptionsError, match="each region is a \\(mask, style\\) pair"):
        Recipe.create("fast", ["udnie"], regions=["mask.png"])


def test_init_image_without_an_image_is_refused_before_any_work(tmp_path, capsys) -> None:
    with pytest.raises(OptionsError, match="init 'image' starts from an init image"):
        Recipe.create("optimize", ["p.jpg"], init="image")
    code, _, stderr = call_main("stylize", "a.jpg", "--style", "p.jpg", "--init", "image",
                                "-o", str(tmp_path / "out"), capsys=capsys)  # fmt: skip
    assert code == 2 and "give one (--init-image)" in stderr


def test_an_init_image_start_is_recorded_and_reproduced(tmp_path, capsys) -> None:
    """Found by QA: the settings of an '--init image' result named no init image, so
    --settings-from refused them ('give one'); and an init image with init 'content' was
    ignored without a word."""
    photo, painting, start = (tmp_path / f"{n}.png" for n in ("photo", "painting", "start"))
    rng = np.random.default_rng(1)
    for path in (photo, painting, start):
        Image.fromarray(rng.integers(0, 255, (36, 48, 3), np.uint8)).save(path)
    first, again = tmp_path / "first", tmp_path / "again"
    code, _, stderr = call_main("stylize", str(photo), "--style", str(painting), "--size", "48",
                                "--steps", "4", "--init", "image", "--init-image", str(start),
                                "-o", str(first), capsys=capsys)  # fmt: skip
    assert code == 0, stderr
    made = first / "photo__painting.png"
    assert styler.read_settings(made)["init_image"] == "start.png"
    code, _, stderr = call_main("stylize", str(photo), "--settings-from", str(made),
                                "-o", str(again), capsys=capsys)  # fmt: skip
    assert code == 0, stderr
    assert (again / "photo__painting.png").read_bytes() == made.read_bytes()
    start.unlink()
    code, _, stderr = call_main("stylize", str(photo), "--settings-from", str(made),
                                "-o", str(again), capsys=capsys)  # fmt: skip
    assert code == 2 and "init image 'start.png' named in the settings is not in " in stderr
    assert stderr.strip().endswith("pass it with --init-image")
    with pytest.raises(OptionsError, match="an init image has no effect with init 'content'"):
        Recipe.create("optimize", [str(painting)], init_image=str(photo))


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
    (("ui", "--temp-dir", "no_such_folder"), "--temp-dir no_such_folder: no such folder"),
    (("ui", "--host", "999.1.1.1"), "--host 999.1.1.1: not an address"),
    (("export", "starry_night", "--calibrate", "."), "--calibrate quantizes a fast network"),
    (("export",), "name the fast network to export (styler styles lists them), or give "
                  "--instant"),
    (("export", "udnie", "--instant"), "name one fast network, or give --instant (not both)"),
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


def test_train_instant_with_styles_fine_tunes_only_a_decoder_that_was_saved(
        tmp_path, monkeypatch, capsys) -> None:  # fmt: skip
    """With --styles and a budget that ended before the reconstruction's first evaluation,
    the fine-tuning read a file never written: "cannot read instant decoder", exit 2, where
    the command's own line says no decoder was saved (found by QA)."""
    import styler.instant.train as train

    class NoEvaluation:  # a reconstruction run whose time ran out before it saved anything
        def __init__(self, *args, **kwargs) -> None:
            pass

        def run(self, **kwargs) -> None:
            pass

    def fine_tune(*args, **kwargs) -> None:
        raise AssertionError("fine-tuned a decoder that was never saved")

    monkeypatch.setattr(train, "DecoderTrainer", NoEvaluation)
    monkeypatch.setattr(train, "fine_tune_decoder", fine_tune)
    code, _, stderr = call_main("train-instant", "--data", str(tmp_path), "--val", str(tmp_path),
                                "--styles", str(tmp_path), "-o", str(tmp_path / "out"),
                                capsys=capsys)  # fmt: skip
    assert code == 1 and "no decoder for relu4_1 was saved" in stderr, stderr
    assert not (tmp_path / "out" / "manifest.json").exists()  # it listed no decoders


def test_a_cut_out_paintings_hidden_pixels_are_no_style(tmp_path) -> None:
    """A sticker-like painting (opaque on a quarter, its hidden pixels black) paints as its
    visible part does, not dark and blotchy; a fully transparent one is one line."""
    from styler.instant.stylizer import InstantStylizer

    rng = np.random.default_rng(1)
    visible = rng.integers(100, 255, (96, 32, 3), np.uint8)
    sticker = np.zeros((96, 128, 4), np.uint8)
    sticker[:, 96:, :3], sticker[:, 96:, 3] = visible, 255
    Image.fromarray(sticker, "RGBA").save(tmp_path / "sticker.png")
    Image.fromarray(visible).save(tmp_path / "visible.png")
    photo = rng.integers(0, 255, (64, 64, 3), np.uint8)
    painted = [np.asarray(InstantStylizer([str(tmp_path / name)], device="cpu", precision="fp32")
                          .run(photo).image, np.float32)
               for name in ("sticker.png", "visible.png")]  # fmt: skip
    assert abs(painted[0].mean() - painted[1].mean()) < 3
    sticker[..., 3] = 0
    Image.fromarray(sticker, "RGBA").save(tmp_path / "hidden.png")
    with pytest.raises(styler.ImageLoadError, match="fully transparent"):
        InstantStylizer([str(tmp_path / "hidden.png")], device="cpu")


def test_a_one_pixel_thin_painting_paints(tmp_path) -> None:
    from styler.instant.stylizer import InstantStylizer

    Image.new("RGB", (1, 200), (200, 40, 40)).save(tmp_path / "strip.png")
    photo = np.random.default_rng(2).integers(0, 255, (48, 64, 3), np.uint8)
    out = InstantStylizer([str(tmp_path / "strip.png")], device="cpu").run(photo).image
    assert out.size == (64, 48)


def test_an_outputs_painting_is_capped_only_for_extreme_shapes() -> None:
    from styler.optimize import _painting_side

    assert _painting_side((1024, 768)) == 1024 and _painting_side((768, 3000)) == 3000
    assert _painting_side((4, 4096)) == 1024  # not 4096x4096 Grams for 16k pixels


def test_a_picture_given_as_a_fast_network_is_told_where_pictures_go(tmp_path, capsys) -> None:
    picture = tmp_path / "waves.png"
    Image.new("RGB", (16, 16), (10, 90, 200)).save(picture)
    code, _, stderr = call_main("stylize", str(picture), "--fast", str(picture), "-o",
                                str(tmp_path / "out"), capsys=capsys)  # fmt: skip
    assert code == 2 and "a PNG picture, not a style network: paint with it by --style" in stderr
    assert "codec" not in stderr
