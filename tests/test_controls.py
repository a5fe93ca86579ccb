"""Style controls in both modes: strength, colour preservation, regional styles, fast-mode
style blending and style scale; through the Python API and `styler stylize`."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import GALLERY, gradient_photo, stripe_style
from PIL import Image

from styler import FastOptions, FastStylizer, OptionsError, Stylizer, read_settings
from styler.cli.main import main
from styler.evaluate import style_distance
from styler.fast.blend import blend_networks
from styler.fast.network import NetworkConfig, StyleNetwork
from styler.fast.weights import save_network
from styler.fusion import apply_strength, hue_statistics, load_region_masks
from styler.fusion.regions import load_mask
from styler.imageio import ImageLoadError
from styler.losses import (
    LossWeights,
    RegionStyle,
    gram_matrix,
    guided_gram,
    perceptual_loss,
)

TINY = NetworkConfig(widths=(8, 16, 16), res_blocks=1)
WARM, COOL = (0.8, 0.45, 0.2), (0.2, 0.45, 0.8)


def make_net(path: Path, seed: int, bias: tuple[float, float, float], config=TINY) -> Path:
    """An untrained network tinted by its output bias, mid-range so nothing clips."""
    torch.manual_seed(seed)
    net = StyleNetwork(config)
    with torch.no_grad():
        net.decoder[-1].weight.mul_(0.2)
        net.decoder[-1].bias.copy_(torch.tensor(bias))
    save_network(net, path, {"styles": [path.stem]})
    return path


@pytest.fixture
def nets(tmp_path: Path) -> tuple[Path, Path]:
    return make_net(tmp_path / "warm.safetensors", 0, WARM), make_net(
        tmp_path / "cool.safetensors", 1, COOL
    )


@pytest.fixture(scope="module")
def engine() -> Stylizer:
    return Stylizer(device="cpu")


def blue_photo(width: int = 64, height: int = 48) -> Image.Image:
    """A photo with one clear hue (blue-cyan), so colour shifts show in its hue statistics."""
    rgb = np.asarray(gradient_photo(width, height)).astype(np.float32) * [0.3, 0.7, 1.0]
    return Image.fromarray(rgb.astype(np.uint8), "RGB")


def red_style(size: int = 64) -> Image.Image:
    """Dark dots on a red ground: a style far from the photo's hue."""
    y, x = np.mgrid[0:size, 0:size]
    dot = ((x % 8) - 4) ** 2 + ((y % 8) - 4) ** 2 < 6
    return Image.fromarray(np.where(dot[..., None], [20, 20, 20], [200, 40, 40]).astype(np.uint8))


def hue_gap(image: Image.Image | np.ndarray, photo: Image.Image) -> float:
    ours = hue_statistics(np.asarray(image)).vector
    return float(np.linalg.norm(ours - hue_statistics(np.asarray(photo)).vector))


def mean_gradient(rgb: np.ndarray) -> float:
    grey = rgb.astype(np.float32).mean(axis=2)
    dy, dx = np.gradient(grey)
    return float(np.hypot(dx, dy).mean())


def swirls(size: int = 96) -> Image.Image:
    return Image.open(GALLERY / "styles" / "swirls.jpg").convert("RGB").resize((size, size))


# ------------------------------------------------------------------------------------ strength


def test_strength_ends_are_the_inputs_and_half_keeps_edges_sharp(photo) -> None:
    styled = np.asarray(stripe_style(64, 48))
    original = np.asarray(photo)
    assert np.array_equal(apply_strength(styled, original, 0.0), original)
    assert np.array_equal(apply_strength(styled, original, 1.0), styled)
    half = apply_strength(styled, original, 0.5)
    crossfade = (0.5 * styled.astype(np.float32) + 0.5 * original).round()
    assert mean_gradient(half) > 1.2 * mean_gradient(crossfade)
    # Colours still mix: the half result sits between the two on average.
    assert abs(half.mean() - crossfade.mean()) < 3
    with pytest.raises(OptionsError, match="strength must be between 0"):
        apply_strength(styled, original, 1.5)


def test_strength_is_monotonic_in_style_distance_in_both_modes(engine) -> None:
    """Fast mode mixes a perfect 'stylization' (the style image itself) with the photo."""
    photo, style = gradient_photo(96, 72), swirls()
    styled = np.asarray(style.resize(photo.size))
    fast = [Image.fromarray(apply_strength(styled, np.asarray(photo), a)) for a in (0.5, 1)]
    optimized = [engine.stylize(photo, style, size=96, steps=6, strength=a) for a in (0, 0.5, 1)]
    assert np.array_equal(np.asarray(optimized[0]), np.asarray(photo))  # 0: the photo itself
    unstyled = style_distance(photo, style)  # strength 0 in both modes
    for results in (fast, optimized[1:]):
        distances = [unstyled, *(style_distance(image, style) for image in results)]
        assert distances[0] > distances[1] > distances[2], distances


def test_fast_strength_zero_is_the_photo_and_options_are_checked(nets) -> None:
    stylizer = FastStylizer(nets[0], device="cpu")
    photo = np.asarray(gradient_photo(48, 40))
    assert np.array_equal(stylizer.stylize(photo, strength=0.0), photo)
    with pytest.raises(OptionsError, match="strength"):
        FastOptions(strength=-0.1)
    with pytest.raises(OptionsError, match="preserve color must be one of off, luminance, match"):
        FastOptions(preserve_color="sepia")
    with pytest.raises(OptionsError, match="style scale"):
        FastOptions(style_scale=10)


# ------------------------------------------------------------------------ colour preservation


def test_colour_preservation_keeps_the_photos_hue_in_optimizer_mode(engine) -> None:
    photo, style = blue_photo(), red_style()
    results = {
        method: engine.stylize(photo, style, size=64, steps=6, preserve_color=method)
        for method in ("off", "luminance", "match")
    }
    off = hue_gap(results["off"], photo)
    for method in ("luminance", "match"):
        assert hue_gap(results[method], photo) < min(0.5 * off, 0.01), method


def test_colour_preservation_keeps_the_photos_hue_in_fast_mode(nets) -> None:
    stylizer = FastStylizer(nets[0], device="cpu")  # tints warm
    photo = blue_photo()
    off = hue_gap(stylizer.stylize(photo), photo)
    assert off > 0.1
    for method in ("luminance", "match"):
        assert hue_gap(stylizer.stylize(photo, preserve_color=method), photo) < 0.03, method


# ------------------------------------------------------------------------------------ regions


def test_masks_of_any_mode_and_size_are_resized_weights(tmp_path: Path) -> None:
    grey = np.zeros((20, 30), np.uint8)
    grey[:, :15] = 255
    Image.fromarray(grey).save(tmp_path / "grey.png")
    Image.fromarray(grey).convert("RGB").save(tmp_path / "rgb.jpg", quality=100)
    rgba = np.zeros((20, 30, 4), np.uint8)
    rgba[:, :15] = (255, 255, 255, 255)  # white opaque left, white transparent right
    rgba[:, 15:] = (255, 255, 255, 0)
    Image.fromarray(rgba).save(tmp_path / "rgba.png")
    Image.fromarray(grey).convert("P").save(tmp_path / "palette.gif")
    sources = [tmp_path / n for n in ("grey.png", "rgb.jpg", "rgba.png", "palette.gif")]
    sources += [grey.astype(bool), grey.astype(np.float32) / 255]
    masks = load_region_masks(sources, [None] * len(sources), 40, 60)
    for mask in masks:
        assert mask.shape == (40, 60) and mask.dtype == np.float32
        assert mask[:, :25].min() > 0.95 and mask[:, 35:].max() < 0.05


def test_region_errors_are_one_line(tmp_path: Path) -> None:
    white = np.ones((8, 8), np.float32)
    with pytest.raises(OptionsError, match="2 region masks but 1 region styles"):
        load_region_masks([white, white], ["a.jpg"], 16, 16)
    black = tmp_path / "black.png"
    Image.new("L", (8, 8)).save(black)
    with pytest.raises(OptionsError, match=r"black\.png is empty"):
        load_mask(black, 16, 16)
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"not a png")
    with pytest.raises(ImageLoadError, match=r"broken\.png"):
        load_mask(broken, 16, 16)
    with pytest.raises(ImageLoadError, match=r"missing\.png"):
        load_mask(tmp_path / "missing.png", 16, 16)


def test_guided_gram_with_a_full_mask_is_the_plain_loss() -> None:
    torch.manual_seed(0)
    features = {layer: torch.rand(1, 4, 6, 5) for layer in LossWeights().style_layers}
    targets = {layer: gram_matrix(torch.rand(1, 4, 6, 5)) for layer in features}
    ones = torch.ones(1, 1, 6, 5)
    assert torch.allclose(guided_gram(features["relu1_1"], ones), gram_matrix(features["relu1_1"]))
    weights = LossWeights(content=0.0, content_layers={})
    image = torch.rand(1, 3, 12, 10)
    plain = perceptual_loss(image, features, {}, targets, weights).style
    full = RegionStyle(grams=targets, masks=dict.fromkeys(features, ones))
    assert torch.allclose(perceptual_loss(image, features, {}, [full], weights).style, plain)
    # Two halves alike, with the whole image's target: they count as much as it, not twice.
    mirrored = {layer: torch.cat([f, f], dim=-1) for layer, f in features.items()}
    left = torch.zeros(1, 1, 6, 10)
    left[..., :5] = 1
    halves = [
        RegionStyle(grams=targets, masks=dict.fromkeys(features, m)) for m in (left, 1 - left)
    ]
    split = perceptual_loss(image, mirrored, {}, halves, weights).style
    assert torch.allclose(split, plain)


def test_optimizer_regions_style_one_half_and_keep_the_photo_in_the_other(engine, tmp_path):
    photo, style = gradient_photo(64, 48), stripe_style()
    mask = np.zeros((12, 16), np.float32)  # any size: resized to the photo
    mask[:, 8:] = 1.0  # right half: no style; left half: the stripes, guided
    path = engine.stylize(photo, red_style(), size=64, steps=6, feather=2,
                          regions=[(mask, None), (1.0 - mask, style)],
                          output=tmp_path / "regions.png")  # fmt: skip
    result = np.asarray(Image.open(path).convert("RGB"), np.float32)
    original = np.asarray(photo, np.float32)
    kept = np.abs(result[:, 40:] - original[:, 40:]).mean()
    styled = np.abs(result[:, :24] - original[:, :24]).mean()
    assert kept < 3 < styled, (kept, styled)
    settings = read_settings(path)
    assert settings["controls"]["feather"] == 2
    assert settings["regions"] == [
        {"mask": "<array>", "style": None},
        {"mask": "<array>", "style": "<image>"},
    ]


def test_fast_regions_get_their_own_network_or_the_photo(nets) -> None:
    warm, cool = nets
    photo = np.asarray(gradient_photo(96, 64))
    stylizer = FastStylizer(warm, device="cpu")
    left = np.zeros((64, 96), np.float32)
    left[:, :48] = 1
    out = stylizer.stylize(photo, regions=[(left, cool)], feather=0)
    cool_alone = FastStylizer(cool, device="cpu").stylize(photo)
    warm_alone = stylizer.stylize(photo)
    interior = (slice(8, -8), slice(4, 36))
    assert np.abs(out[interior].astype(int) - cool_alone[interior]).mean() < 2
    assert np.abs(out[:, 64:].astype(int) - warm_alone[:, 64:]).mean() < 2
    kept = stylizer.stylize(photo, regions=[(left, None)], feather=0)
    assert np.abs(kept[interior].astype(int) - photo[interior]).mean() < 2


# ------------------------------------------------------------------ fast blending and scale


def test_blend_methods(nets, tmp_path: Path) -> None:
    warm, cool = nets
    photo = np.asarray(gradient_photo(64, 48))
    a = FastStylizer(warm, device="cpu").stylize_array(photo)
    b = FastStylizer(cool, device="cpu").stylize_array(photo)
    only_a = FastStylizer([warm, cool], device="cpu", blend=[1, 0], blend_method="params")
    assert np.array_equal(only_a.stylize_array(photo), a)
    mixed = FastStylizer([warm, cool], device="cpu", blend=[0.5, 0.5], blend_method="outputs")
    mean = (a.astype(np.float32) + b) / 2
    assert np.abs(mixed.stylize_array(photo) - mean).max() <= 0.5
    halfway = FastStylizer([warm, cool], device="cpu").stylize_array(photo)  # params, equal
    assert not np.array_equal(halfway, a) and not np.array_equal(halfway, b)
    wide = make_net(tmp_path / "wide.safetensors", 2, WARM, NetworkConfig((8, 16, 32), 1))
    with pytest.raises(OptionsError, match="cannot blend warm .* with wide"):
        FastStylizer([warm, wide], device="cpu")
    with pytest.raises(OptionsError, match="2 fast styles but 3 blend weights"):
        FastStylizer([warm, cool], device="cpu", blend=[1, 1, 1])
    nets_only = [StyleNetwork(TINY), StyleNetwork(TINY)]
    assert isinstance(blend_networks(nets_only, [0.3, 0.7]), StyleNetwork)


def test_style_scale_runs_smaller_and_puts_the_detail_back(nets) -> None:
    stylizer = FastStylizer(nets[0], device="cpu")
    photo = np.asarray(gradient_photo(96, 72))
    scaled = stylizer.stylize_array(photo, style_scale=2.0)
    assert scaled.shape == photo.shape
    small = stylizer.stylize_array(np.asarray(Image.fromarray(photo).resize((48, 36))))
    blurry = np.asarray(Image.fromarray(small).resize((96, 72), Image.Resampling.BICUBIC))
    assert mean_gradient(scaled) > 1.3 * mean_gradient(blurry)
    assert np.abs(scaled.astype(int) - blurry).mean() < 12  # same colours, sharper


# -------------------------------------------------------------------------------------- CLI


def test_cli_fast_mode_controls(nets, tmp_path: Path, capsys) -> None:
    warm, cool = nets
    gradient_photo(64, 48).save(tmp_path / "p.png")
    mask = np.zeros((24, 32), np.uint8)
    mask[:, :16] = 255
    Image.fromarray(mask).save(tmp_path / "left.png")
    code = main(["stylize", str(tmp_path / "p.png"), "--fast", str(warm), str(cool),
                 "--fast-blend", "0.7", "0.3", "--blend-method", "outputs", "--strength", "0.6",
                 "--preserve-color", "luminance", "--style-scale", "1.5",
                 "--region", str(tmp_path / "left.png"), "none", "--feather", "3",
                 "-o", str(tmp_path / "out"), "--quiet"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    settings = read_settings(tmp_path / "out" / "p__warm+cool.png")
    controls = settings["controls"]
    assert controls["strength"] == 0.6 and controls["preserve_color"] == "luminance"
    assert controls["style_scale"] == 1.5 and controls["feather"] == 3
    assert settings["blend"] == [0.7, 0.3] and settings["engine"]["network"]["blend"] == [0.7, 0.3]
    assert controls["blend_method"] == "outputs"
    assert settings["styles"] == ["warm.safetensors", "cool.safetensors"]
    assert settings["regions"][0]["style"] is None


def test_cli_optimizer_mode_controls(tmp_path: Path, capsys) -> None:
    gradient_photo(48, 40).save(tmp_path / "p.png")
    stripe_style(48, 48).save(tmp_path / "stripes.png")
    red_style(48).save(tmp_path / "red.png")
    mask = np.zeros((10, 12), np.uint8)
    mask[:, 6:] = 255
    Image.fromarray(mask).convert("RGBA").save(tmp_path / "right.png")
    code = main(["stylize", str(tmp_path / "p.png"), "--style", str(tmp_path / "stripes.png"),
                 "--region", str(tmp_path / "right.png"), str(tmp_path / "red.png"),
                 "--strength", "0.5", "--preserve-color", "match", "--size", "48",
                 "--steps", "2", "-o", str(tmp_path / "out"), "--quiet"])  # fmt: skip
    assert code == 0, capsys.readouterr().err
    settings = read_settings(tmp_path / "out" / "p__stripes.png")
    assert settings["controls"]["strength"] == 0.5
    assert settings["controls"]["preserve_color"] == "match"
    assert settings["regions"] == [{"mask": "right.png", "style": "red.png"}]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("--style", "s.png", "--fast-blend", "1"), "--fast-blend weighs --fast networks"),
        (("--style", "s.png", "--strength", "2"), "--strength must be between 0 and 1, got 2.0"),
        (("--style", "s.png", "--region", "broken.png", "none"), "region broken.png:"),
        (("--style", "s.png", "--region", "black.png", "none"), "black.png is empty"),
        (("--fast", "n.safetensors", "--style-scale", "9"), "--style-scale must be between 0.25"),
        (("--fast", "n.safetensors", "--steps", "9"), "--steps has no effect in fast mode"),
    ],
)
def test_cli_control_errors_are_one_line(tmp_path, monkeypatch, capsys, args, message) -> None:
    monkeypatch.chdir(tmp_path)
    gradient_photo(32, 32).save("p.png")
    stripe_style(32, 32).save("s.png")
    Image.new("L", (8, 8)).save("black.png")
    Path("broken.png").write_bytes(b"junk")
    code = main(["stylize", "p.png", *args, "-o", "never", "--quiet"])
    errors = [line for line in capsys.readouterr().err.splitlines() if "error:" in line]
    assert code == 2 and len(errors) == 1 and message in errors[0], errors
    assert not Path("never").exists()
