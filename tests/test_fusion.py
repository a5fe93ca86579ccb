"""Fusion toolkit on small generated images: pyramid blending, colour preservation, photo
fusion and the `styler fuse` command (called through its own parser, in-process)."""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from styler.cli import fuse_cmd
from styler.cli.common import error_text
from styler.cli.main import COMMANDS
from styler.errors import OptionsError, StylerError
from styler.fusion import (
    align,
    blend_two,
    default_levels,
    estimate_warp,
    exposure_fusion,
    focus_stack,
    hue_statistics,
    luminance_transfer,
    match_colors,
    multiband_blend,
)
from styler.imageio import ImageLoadError, read_settings

# ------------------------------------------------------------------------------- generated images


def texture(height: int, width: int, seed: int = 0, detail: float = 1.5) -> np.ndarray:
    """Colourful blurred noise: detail at every scale, corners for ORB, structure for ECC."""
    rng = np.random.default_rng(seed)
    fine = cv2.GaussianBlur(rng.normal(0, 1, (height, width, 3)).astype(np.float32), (0, 0), detail)
    coarse = cv2.GaussianBlur(rng.normal(0, 1, (height, width, 3)).astype(np.float32), (0, 0), 8)
    image = fine / fine.std() * 35 + coarse / coarse.std() * 30 + 128
    return np.clip(image, 0, 255).astype(np.uint8)


def tinted(image: np.ndarray, rgb: tuple[float, float, float]) -> np.ndarray:
    """The image's brightness pattern in one dominant colour."""
    grey = image.mean(axis=2, keepdims=True) / 255.0
    return np.clip(grey * np.array(rgb) * 1.6, 0, 255).astype(np.uint8)


def flat(height: int, width: int, rgb: tuple[int, int, int]) -> np.ndarray:
    return np.broadcast_to(np.array(rgb, np.uint8), (height, width, 3)).copy()


def grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def laplacian_variance(image: np.ndarray) -> float:
    return float(cv2.Laplacian(grey(image).astype(np.float64), cv2.CV_64F).var())


def shifted(image: np.ndarray, dx: int, dy: int) -> np.ndarray:
    matrix = np.float32([[1, 0, dx], [0, 1, dy]])
    size = (image.shape[1], image.shape[0])
    return cv2.warpAffine(image, matrix, size, borderMode=cv2.BORDER_REFLECT)


# --------------------------------------------------------------------------- multi-band blending

A_RGB, B_RGB = (40, 90, 200), (220, 180, 20)
HALF_H, HALF_W = 64, 200


def blend_halves(feather: float) -> np.ndarray:
    """A on the left half, B on the right, through a hard mask."""
    mask = np.zeros((HALF_H, HALF_W), np.float32)
    mask[:, : HALF_W // 2] = 1.0
    a, b = flat(HALF_H, HALF_W, A_RGB), flat(HALF_H, HALF_W, B_RGB)
    return blend_two(a, b, mask, feather=feather)


def transition_width(result: np.ndarray) -> int:
    """Columns strictly between 5 % and 95 % of the way from A to B (red channel)."""
    row = result[HALF_H // 2, :, 0].astype(float)
    progress = (row - A_RGB[0]) / (B_RGB[0] - A_RGB[0])
    return int(np.count_nonzero((progress > 0.05) & (progress < 0.95)))


def test_hard_mask_seam_is_spread_and_far_pixels_are_untouched() -> None:
    result = blend_halves(feather=0.0)
    assert np.abs(result.astype(int) - result[:1].astype(int)).max() <= 1  # rows agree
    steps = np.abs(np.diff(result[HALF_H // 2].astype(int), axis=0)).max()
    assert steps <= 30  # the 180-level jump is spread over many columns
    assert transition_width(result) >= 6
    centre = HALF_W // 2
    assert np.abs(result[:, : centre - 40].astype(int) - A_RGB).max() <= 1
    assert np.abs(result[:, centre + 40 :].astype(int) - B_RGB).max() <= 1


def test_feather_widens_the_transition() -> None:
    widths = [transition_width(blend_halves(feather)) for feather in (0.0, 6.0, 15.0)]
    assert widths[0] < widths[1] < widths[2]
    wide = blend_halves(feather=15.0)
    narrow_step = np.abs(np.diff(blend_halves(0.0)[HALF_H // 2].astype(int), axis=0)).max()
    assert np.abs(np.diff(wide[HALF_H // 2].astype(int), axis=0)).max() < narrow_step


@pytest.mark.parametrize("levels", [None, 1, 3, 9])
def test_mask_of_ones_returns_the_image_for_odd_sizes(levels: int | None) -> None:
    image = texture(77, 101)
    other = texture(77, 101, seed=1)
    ones, zeros = np.ones((77, 101), np.float32), np.zeros((77, 101), np.float32)
    alone = multiband_blend([image], [ones], levels=levels)
    paired = multiband_blend([other, image], [zeros, ones], levels=levels)
    assert alone.shape == image.shape and alone.dtype == np.uint8
    assert np.abs(alone.astype(int) - image).max() <= 1
    assert np.abs(paired.astype(int) - image).max() <= 1


def test_default_levels_end_at_8_to_16_px() -> None:
    assert default_levels(77, 101) == 4  # 77 -> 39 -> 20 -> 10
    assert default_levels(16, 300) == 1
    assert default_levels(1024, 1024) == 7  # ... -> 16
    for side in (17, 100, 255, 999):
        coarsest = side
        for _ in range(default_levels(side, side) - 1):
            coarsest = (coarsest + 1) // 2
        assert 8 <= coarsest <= 16


def test_uncovered_pixels_fall_back_to_the_first_image() -> None:
    a, b = flat(40, 60, A_RGB), flat(40, 60, B_RGB)
    zeros = np.zeros((40, 60), np.float32)
    assert np.array_equal(multiband_blend([a, b], [zeros, zeros]), a)


def test_blend_rejects_bad_inputs() -> None:
    a, mask = flat(40, 60, A_RGB), np.ones((40, 60), np.float32)
    with pytest.raises(OptionsError, match="image 1 is 60x40, image 2 is 30x20"):
        multiband_blend([a, flat(20, 30, B_RGB)], [mask, mask])
    with pytest.raises(OptionsError, match="one mask per image"):
        multiband_blend([a, a], [mask])
    with pytest.raises(OptionsError, match=r"mask 1: mask values must lie in \[0, 1\]"):
        multiband_blend([a], [mask * 2])
    with pytest.raises(OptionsError, match="feather"):
        blend_two(a, a, mask, feather=-1)
    with pytest.raises(OptionsError, match="uint8"):
        multiband_blend([a.astype(np.float32)], [mask])


# ----------------------------------------------------------------------------- colour preservation


def hue_distance(a: np.ndarray, b: np.ndarray) -> float:
    return float(np.linalg.norm(hue_statistics(a).vector - hue_statistics(b).vector))


def yiq_luma(image: np.ndarray) -> np.ndarray:
    return image.astype(np.float64) @ np.array([0.299, 0.587, 0.114])


@pytest.fixture(scope="module")
def photo_and_stylized() -> tuple[np.ndarray, np.ndarray]:
    photo = tinted(texture(96, 128, seed=2), (230, 140, 40))  # orange
    stylized = tinted(texture(96, 128, seed=3, detail=3), (60, 90, 230))  # blue, other pattern
    return photo, stylized


@pytest.mark.parametrize("space", ["yiq", "lab"])
def test_luminance_transfer_keeps_photo_hues(
    photo_and_stylized: tuple[np.ndarray, np.ndarray], space: str
) -> None:
    photo, stylized = photo_and_stylized
    result = luminance_transfer(stylized, photo, space=space)
    assert result.shape == stylized.shape and result.dtype == np.uint8
    far = hue_distance(stylized, photo)
    assert far > 0.2
    assert hue_distance(result, photo) < 0.2 * far
    hue_gap = abs(hue_statistics(result).hue - hue_statistics(photo).hue)
    assert min(hue_gap, 360 - hue_gap) < 10
    # the stylized brush strokes survive: luminance follows the stylized image
    correlation = np.corrcoef(yiq_luma(result).ravel(), yiq_luma(stylized).ravel())[0, 1]
    assert correlation > 0.95


def test_luminance_transfer_without_matching_keeps_stylized_luminance(
    photo_and_stylized: tuple[np.ndarray, np.ndarray],
) -> None:
    photo, stylized = photo_and_stylized
    result = luminance_transfer(stylized, photo, match_luminance=False)
    assert np.abs(yiq_luma(result) - yiq_luma(stylized)).mean() < 3.0  # clipping only
    matched = yiq_luma(luminance_transfer(stylized, photo))
    assert abs(matched.mean() - yiq_luma(photo).mean()) < 3.0
    assert abs(matched.std() - yiq_luma(photo).std()) < 3.0


def test_luminance_transfer_resizes_the_photo(
    photo_and_stylized: tuple[np.ndarray, np.ndarray],
) -> None:
    photo, stylized = photo_and_stylized
    big_photo = cv2.resize(photo, (256, 192), interpolation=cv2.INTER_CUBIC)
    result = luminance_transfer(stylized, big_photo)
    assert result.shape == stylized.shape
    assert hue_distance(result, photo) < 0.2 * hue_distance(stylized, photo)
    with pytest.raises(OptionsError, match="unknown colour space 'hsv'"):
        luminance_transfer(stylized, photo, space="hsv")


def test_match_colors_matches_mean_and_covariance() -> None:
    def recolour(image: np.ndarray, gain: list[float], offset: list[float]) -> np.ndarray:
        return np.clip(image.astype(float) * gain + offset, 0, 255).astype(np.uint8)

    photo = recolour(texture(96, 128, seed=4), [0.8, 0.6, 0.3], [40, 30, 10])  # warm, muted
    style = recolour(texture(80, 80, seed=5, detail=3), [0.4, 0.6, 1.2], [0, 20, 40])  # blue
    recoloured = match_colors(style, photo)
    assert recoloured.shape == style.shape and recoloured.dtype == np.uint8
    pixels = recoloured.reshape(-1, 3).astype(float)
    target = photo.reshape(-1, 3).astype(float)
    assert np.abs(pixels.mean(axis=0) - target.mean(axis=0)).max() < 2.0
    cov, target_cov = np.cov(pixels, rowvar=False), np.cov(target, rowvar=False)
    assert np.linalg.norm(cov - target_cov) < 0.1 * np.linalg.norm(target_cov)
    before = np.cov(style.reshape(-1, 3).astype(float), rowvar=False)
    assert np.linalg.norm(before - target_cov) > 0.5 * np.linalg.norm(target_cov)
    # the style's texture is kept: recolouring is a per-pixel affine map of the colours
    correlation = np.corrcoef(grey(recoloured).ravel(), grey(style).ravel())[0, 1]
    assert abs(correlation) > 0.8


def test_match_colors_of_a_flat_style_is_the_photo_mean() -> None:
    photo = texture(40, 50, seed=5)
    result = match_colors(flat(30, 30, (200, 10, 10)), photo)
    assert np.abs(result.astype(float) - photo.reshape(-1, 3).mean(axis=0)).max() <= 1


# ------------------------------------------------------------------------------------ alignment

SCENE_H, SCENE_W = 192, 256


def known_motion(angle: float, dx: float, dy: float) -> np.ndarray:
    """3x3: rotation about the centre, then a translation (reference -> moving coordinates)."""
    matrix = cv2.getRotationMatrix2D((SCENE_W / 2, SCENE_H / 2), angle, 1.0)
    matrix[:, 2] += (dx, dy)
    return np.vstack([matrix, [0, 0, 1]])


def corner_error(estimated: np.ndarray, truth: np.ndarray) -> float:
    points = np.array(
        [[0, 0, 1], [SCENE_W, 0, 1], [SCENE_W, SCENE_H, 1], [0, SCENE_H, 1], [128, 96, 1]], float
    )
    a, b = points @ estimated.T, points @ truth.T
    return float(np.abs(a[:, :2] / a[:, 2:] - b[:, :2] / b[:, 2:]).max())


@pytest.mark.parametrize(
    ("method", "motion"),
    [
        ("ecc", "homography"),
        ("ecc", "affine"),
        ("ecc", "euclidean"),
        ("orb", "homography"),
        ("orb", "affine"),
        ("orb", "euclidean"),
    ],
)
def test_estimate_warp_recovers_a_known_motion(method: str, motion: str) -> None:
    reference = texture(SCENE_H, SCENE_W, seed=6)
    truth = known_motion(angle=2.0, dx=4.0, dy=-3.0)
    moving = cv2.warpAffine(
        reference,
        truth[:2],
        (SCENE_W, SCENE_H),
        flags=cv2.INTER_CUBIC,
        borderMode=cv2.BORDER_REFLECT,
    )
    warp = estimate_warp(reference, moving, method=method, motion=motion)
    assert corner_error(warp, truth) < 1.0


def test_align_undoes_a_translation_and_resizes_first() -> None:
    reference = texture(SCENE_H, SCENE_W, seed=7)
    moving = shifted(reference, 5, -3)
    half = cv2.resize(moving, (SCENE_W // 2, SCENE_H // 2), interpolation=cv2.INTER_AREA)
    aligned = align([reference, moving, half])
    assert [a.shape for a in aligned] == [reference.shape] * 3
    inner = (slice(12, -12), slice(12, -12))
    before = np.abs(moving[inner].astype(int) - reference[inner]).mean()
    assert np.abs(aligned[1][inner].astype(int) - reference[inner]).mean() < 0.1 * before
    assert np.abs(aligned[2][inner].astype(int) - reference[inner]).mean() < 0.5 * before


def test_align_failure_names_the_images() -> None:
    reference = texture(SCENE_H, SCENE_W, seed=8)
    with pytest.raises(StylerError, match="^blank.png: cannot align it to ref.png: ") as info:
        align([reference, flat(SCENE_H, SCENE_W, (90, 90, 90))], names=["ref.png", "blank.png"])
    assert "\n" not in str(info.value)


# ------------------------------------------------------------------------------- photo fusion


def brackets() -> list[np.ndarray]:
    """A scene from dark to bright with texture everywhere, shot at 0.3x, 1x and 3x."""
    x = np.linspace(10, 245, 160, dtype=np.float32)[None, :, None]
    scene = x + (texture(120, 160, seed=9).astype(np.float32) - 128) * 0.4
    return [np.clip(scene * gain, 0, 255).astype(np.uint8) for gain in (0.3, 1.0, 3.0)]


def clipped_fraction(image: np.ndarray) -> float:
    return float(np.mean((image >= 254) | (image <= 1)))


def test_exposure_fusion_beats_every_bracket() -> None:
    dark, normal, bright = brackets()
    fused = exposure_fusion([dark, normal, bright])
    assert fused.shape == normal.shape and fused.dtype == np.uint8
    assert clipped_fraction(fused) < 0.5 * clipped_fraction(bright)
    assert grey(fused).std() > 1.5 * grey(dark).std()
    # mid-tone detail: the bright bracket's clipped right half is recovered
    right = (slice(None), slice(110, None))
    assert grey(fused)[right].std() > 2 * grey(bright)[right].std()


def test_exposure_fusion_aligns_when_asked() -> None:
    dark, normal, bright = brackets()
    moved = shifted(bright, 3, 2)  # the bright bracket is 70 % clipped: detail in a strip only
    small = cv2.resize(dark, (80, 60), interpolation=cv2.INTER_AREA)
    enlarged = cv2.resize(small, (160, 120), interpolation=cv2.INTER_CUBIC)
    reference = exposure_fusion([normal, bright, enlarged])
    aligned = exposure_fusion([normal, moved, small], align_first=True)
    misaligned = exposure_fusion([normal, moved, enlarged])
    inner = (slice(10, -10), slice(10, -10))
    error = np.abs(aligned[inner].astype(int) - reference[inner]).mean()
    assert error < 0.1 * np.abs(misaligned[inner].astype(int) - reference[inner]).mean()


def test_focus_stack_is_sharp_on_both_halves() -> None:
    sharp = texture(SCENE_H, SCENE_W, seed=10)
    blurred = cv2.GaussianBlur(sharp, (0, 0), 3)
    middle = SCENE_W // 2
    near, far = sharp.copy(), sharp.copy()
    near[:, middle:] = blurred[:, middle:]  # right half out of focus
    far[:, :middle] = blurred[:, :middle]  # left half out of focus
    far = shifted(far, 3, -2)  # the camera moved between frames
    result = focus_stack([near, far])
    assert result.shape == sharp.shape
    for half in (slice(16, middle - 16), slice(middle + 16, -16)):
        region = (slice(16, -16), half)
        original = laplacian_variance(sharp[region])
        assert laplacian_variance(result[region]) > 0.75 * original
        assert laplacian_variance(blurred[region]) < 0.1 * original  # the test is meaningful


def test_focus_stack_without_alignment_of_aligned_frames() -> None:
    sharp = texture(96, 128, seed=11)
    near, far = sharp.copy(), sharp.copy()
    near[:, 64:] = cv2.GaussianBlur(sharp, (0, 0), 3)[:, 64:]
    far[:, :64] = cv2.GaussianBlur(sharp, (0, 0), 3)[:, :64]
    result = focus_stack([near, far], align_first=False)
    assert np.abs(result[8:-8, 8:56].astype(int) - sharp[8:-8, 8:56]).mean() < 2
    assert np.abs(result[8:-8, 72:-8].astype(int) - sharp[8:-8, 72:-8]).mean() < 2


def test_size_mismatch_and_too_few_images_name_the_files() -> None:
    a, b = texture(48, 64), texture(60, 80)
    with pytest.raises(OptionsError) as info:
        exposure_fusion([a, b], names=["a.jpg", "b.jpg"])
    assert str(info.value) == (
        "images differ in size: a.jpg is 64x48, b.jpg is 80x60; resize them or align them "
        "first (Align the photos first: --align)"
    )
    with pytest.raises(OptionsError, match=r"b.jpg is 80x60; resize them or align them first "
                                           r"\(Align the photos first: --align\)$"):
        focus_stack([a, b], align_first=False, names=["a.jpg", "b.jpg"])
    with pytest.raises(OptionsError, match=r"^fusion needs at least 2 images, got 1: a.jpg$"):
        focus_stack([a], names=["a.jpg"])
    with pytest.raises(OptionsError, match="got 0$"):
        exposure_fusion([])
    with pytest.raises(OptionsError, match="unknown alignment method 'sift'"):
        focus_stack([a, a], method="sift")
    with pytest.raises(OptionsError, match="unknown motion model 'shear'"):
        exposure_fusion([a, a], align_first=True, motion="shear")


# ------------------------------------------------------------------------------------------ CLI


def parse(*argv: str | Path) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="styler")
    fuse_cmd.add_parser(parser.add_subparsers(dest="command", required=True), COMMANDS["fuse"][1])
    return parser.parse_args(["fuse", *map(str, argv)])


def run_fuse(capsys: pytest.CaptureFixture[str], *argv: str | Path) -> tuple[str, str]:
    assert fuse_cmd.run(parse(*argv)) == 0
    captured = capsys.readouterr()
    return captured.out, captured.err


def save(array: np.ndarray, path: Path, mode: str | None = None) -> Path:
    image = Image.fromarray(array)
    (image.convert(mode) if mode else image).save(path)
    return path


def test_cli_blend_writes_settings(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = save(flat(48, 64, A_RGB), tmp_path / "a.png")
    b = save(flat(48, 64, B_RGB), tmp_path / "b.png")
    mask = np.zeros((30, 40), np.uint8)
    mask[:, :20] = 255
    mask_path = save(mask, tmp_path / "mask.png")  # mode L, smaller than the photos
    out = tmp_path / "out" / "blend.png"
    stdout, stderr = run_fuse(
        capsys, "blend", a, b, "--mask", mask_path, "--feather", "3", "-o", out
    )
    assert stdout.strip() == str(out) and stderr == ""
    result = np.asarray(Image.open(out))
    assert result.shape == (48, 64, 3)
    assert np.abs(result[:, :4].astype(int) - A_RGB).max() <= 2
    assert np.abs(result[:, -4:].astype(int) - B_RGB).max() <= 2
    settings = read_settings(out)
    assert settings["mode"] == "fuse-blend"
    assert settings["inputs"] == [str(a), str(b)] and settings["mask"] == str(mask_path)
    assert settings["feather"] == 3.0 and settings["levels"] == default_levels(48, 64)


@pytest.mark.parametrize(("value", "word", "kept"), [(255, "white", "a"), (0, "black", "b")])
def test_cli_blend_warns_about_uniform_masks(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], value: int, word: str, kept: str
) -> None:
    colours = {"a": A_RGB, "b": B_RGB}
    paths = {
        name: save(flat(32, 32, rgb), tmp_path / f"{name}.png") for name, rgb in colours.items()
    }
    rgba = np.zeros((32, 32, 4), np.uint8)
    rgba[..., :3], rgba[..., 3] = value, 255  # an opaque RGBA mask
    mask = save(rgba, tmp_path / "mask.png")
    out = tmp_path / "out.jpg"
    _, stderr = run_fuse(capsys, "blend", paths["a"], paths["b"], "--mask", mask, "-o", out)
    assert stderr == f"warning: {mask} is all {word}: the output is {paths[kept]} unchanged\n"
    assert np.abs(np.asarray(Image.open(out)).astype(int) - colours[kept]).max() <= 3


def test_cli_blend_transparent_mask_pixels_count_as_black(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    a = save(flat(32, 64, A_RGB), tmp_path / "a.png")
    b = save(flat(32, 64, B_RGB), tmp_path / "b.png")
    rgba = np.full((32, 64, 4), 255, np.uint8)  # white everywhere ...
    rgba[:, 32:, 3] = 0  # ... but transparent on the right
    mask = save(rgba, tmp_path / "mask.png")
    out = tmp_path / "out.png"
    _, stderr = run_fuse(capsys, "blend", a, b, "--mask", mask, "-o", out)
    assert stderr == ""
    result = np.asarray(Image.open(out)).astype(int)
    assert np.abs(result[:, :4] - A_RGB).max() <= 2 and np.abs(result[:, -4:] - B_RGB).max() <= 2


def test_cli_blend_errors_are_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = save(flat(32, 32, A_RGB), tmp_path / "a.png")
    b = save(flat(40, 32, B_RGB), tmp_path / "b.png")
    broken = tmp_path / "mask.png"
    broken.write_bytes(b"not a png at all")
    with pytest.raises(ImageLoadError) as info:
        fuse_cmd.run(parse("blend", a, a, "--mask", broken, "-o", tmp_path / "o.png"))
    assert error_text(info.value).startswith(f"{broken}: ") and "\n" not in str(info.value)
    with pytest.raises(OptionsError, match=re.escape(f"{a} is 32x32, {b} is 32x40; resize")):
        fuse_cmd.run(parse("blend", a, b, "--mask", a, "-o", tmp_path / "o.png"))
    with pytest.raises(OptionsError, match="unsupported output format"):
        fuse_cmd.run(parse("blend", a, a, "--mask", a, "-o", tmp_path / "o.gif"))
    assert not (tmp_path / "o.png").exists()


def test_cli_exposure_and_focus(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    paths = [save(image, tmp_path / f"bracket{i}.png") for i, image in enumerate(brackets())]
    out = tmp_path / "fused.webp"
    stdout, _ = run_fuse(capsys, "exposure", *paths, "-o", out, "--align")
    assert stdout.strip() == str(out)
    assert read_settings(out) == {
        "mode": "fuse-exposure",
        "inputs": [str(p) for p in paths],
        "align": True,
        "align_method": "ecc",
        "motion": "euclidean",
    }

    sharp = texture(96, 128, seed=12)
    near, far = sharp.copy(), sharp.copy()
    near[:, 64:] = cv2.GaussianBlur(sharp, (0, 0), 3)[:, 64:]
    far[:, :64] = cv2.GaussianBlur(sharp, (0, 0), 3)[:, :64]
    frames = [save(near, tmp_path / "near.png"), save(far, tmp_path / "far.png")]
    out = tmp_path / "sharp.png"
    stdout, _ = run_fuse(capsys, "focus", *frames, "-o", out, "--no-align")
    assert stdout.strip() == str(out)
    assert read_settings(out) == {
        "mode": "fuse-focus",
        "inputs": [str(p) for p in frames],
        "align": False,
    }
    assert np.asarray(Image.open(out)).shape == sharp.shape


def test_cli_series_errors_name_the_files(tmp_path: Path) -> None:
    a = save(texture(48, 64), tmp_path / "a.png")
    b = save(texture(60, 80), tmp_path / "b.png")
    with pytest.raises(OptionsError) as info:
        fuse_cmd.run(parse("exposure", a, b, "-o", tmp_path / "out.png"))
    assert error_text(info.value) == (
        f"images differ in size: {a} is 64x48, {b} is 80x60; resize them or align them "
        "first (Align the photos first: --align)"
    )
    with pytest.raises(OptionsError, match="at least 2 images, got 1"):
        fuse_cmd.run(parse("focus", a, "-o", tmp_path / "out.png"))


@pytest.mark.parametrize("tool", [None, "blend", "exposure", "focus"])
def test_cli_help(capsys: pytest.CaptureFixture[str], tool: str | None) -> None:
    with pytest.raises(SystemExit) as info:
        parse(*([tool] if tool else []), "--help")
    assert info.value.code == 0
    assert "Examples:" in capsys.readouterr().out


def test_hue_statistics_of_grey_and_pure_colours() -> None:
    assert hue_statistics(flat(8, 8, (128, 128, 128))).strength == 0
    red = hue_statistics(flat(8, 8, (255, 0, 0)))
    assert math.isclose(red.strength, 1.0) and min(red.hue, 360 - red.hue) < 1e-3
    assert abs(hue_statistics(flat(8, 8, (0, 0, 255))).hue - 240) < 1e-3


def test_fuse_blend_keeps_cut_outs_transparent_and_series_keep_the_camera(tmp_path, capsys):
    """Two cut-outs blended keep their transparent corners (the output was RGB, the corners
    black); a fused bracket keeps its first photo's camera and date, as a stylized photo
    keeps its own."""
    cutout = np.zeros((48, 64, 4), np.uint8)
    cutout[..., :3], cutout[..., 3] = 180, 255
    cutout[:12, :12] = 0  # a transparent corner
    first = save(cutout, tmp_path / "a.png", "RGBA")
    second = save(np.concatenate([cutout[..., :3][..., ::-1] // 2, cutout[..., 3:]], axis=2),
                  tmp_path / "b.png", "RGBA")  # fmt: skip
    half = np.zeros((48, 64), np.uint8)
    half[:, :32] = 255
    mask = save(half, tmp_path / "m.png")
    run_fuse(capsys, "blend", first, second, "--mask", mask, "-o", tmp_path / "blend.png")
    blended = np.asarray(Image.open(tmp_path / "blend.png"))
    assert blended.shape[2] == 4 and blended[:8, :8, 3].max() == 0
    assert blended[24:, 40:, 3].min() == 255

    exif = Image.Exif()
    exif[0x010F], exif[0x0110] = "Canon", "EOS R5"  # make, model
    exif.get_ifd(0x8769)[0x9003] = "2024:05:06 12:30:00"  # date taken, in the Exif IFD
    brackets = []
    for i, gain in enumerate((0.5, 1.0, 1.6)):
        path = tmp_path / f"br{i}.jpg"
        Image.fromarray(np.clip(photo_like(48, 64) * gain, 0, 255).astype(np.uint8)).save(
            path, exif=exif)
        brackets.append(path)
    run_fuse(capsys, "exposure", *brackets, "--no-align", "-o", tmp_path / "fused.jpg")
    kept = Image.open(tmp_path / "fused.jpg").getexif()
    assert (kept.get(0x010F), kept.get(0x0110)) == ("Canon", "EOS R5")
    assert kept.get_ifd(0x8769).get(0x9003) == "2024:05:06 12:30:00"


def photo_like(height: int, width: int) -> np.ndarray:
    """A textured RGB scene, as float for exposure gains."""
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    return np.stack([128 + 60 * np.sin(x / 5), 128 + 60 * np.cos(y / 4),
                     128 + 40 * np.sin((x + y) / 7)], axis=-1)  # fmt: skip
