"""Optimizer mode end to end on small images: loss falls, files are valid, runs stop cleanly."""

from __future__ import annotations

import itertools
import threading

import numpy as np
import pytest
import torch

from styler import CancelToken, Progress, Stylizer, build_options, read_settings
from styler.errors import OptionsError
from styler.fusion.tiles import tile_grid
from styler.imageio import load_image
from styler.optimize import AUTO_STEPS, OptimizeOptions
from tests.conftest import GALLERY, border_gradients


@pytest.fixture(scope="module")
def engine() -> Stylizer:
    return Stylizer(device="cpu")


def test_scales_grow_to_requested_size_and_steps_add_up() -> None:
    options = OptimizeOptions(size=512, steps=120)
    sizes = options.scale_sizes()
    assert sizes[-1] == 512 and sizes[0] >= options.min_size
    assert all(b / a == pytest.approx(2**0.5, rel=0.02) for a, b in itertools.pairwise(sizes))
    assert sum(options.step_schedule()) == 120
    assert options.step_schedule() == sorted(options.step_schedule(), reverse=True)
    assert OptimizeOptions(size=64, steps=3).scale_sizes() == [64]


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"steps": -3}, "steps must be 0 or between 1 and 100000, got -3"),
        ({"size": 8}, "size must be 0 or between 16 and 16384 px"),
        ({"optimizer": "sgd"}, "optimizer must be one of"),
        ({"init": "zeros"}, "init must be one of"),
        ({"style_scale": 100}, "style scale"),
        ({"tile": 100}, "tile must be 0"),
        ({"content_weight": -1}, "content weight must be between 0 and"),
    ],
)
def test_bad_options_give_clear_errors(kwargs, message) -> None:
    with pytest.raises(OptionsError, match=message):
        build_options(**kwargs)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam"])
def test_steps_lower_the_loss_and_write_a_valid_file(engine, photo, style, tmp_path, optimizer):
    reports: list[Progress] = []
    options = build_options(size=64, steps=12, optimizer=optimizer, preview_every=4)
    if optimizer == "adam":
        options.learning_rate = 0.05
    result = engine.run(photo, style, options, progress=reports.append)
    assert result.completed
    losses = [r.losses["total"] for r in reports]
    assert len(losses) == 12 and losses[-1] < 0.8 * losses[0]
    assert [r.step for r in reports] == list(range(1, 13))
    previews = [r for r in reports if r.image is not None]
    assert [r.step for r in previews] == [4, 8, 12] and previews[0].image.size == (64, 48)
    path = engine.stylize(photo, style, size=64, steps=3, output=tmp_path / "out.png")
    assert load_image(path).rgb.size == (64, 48)
    settings = read_settings(path)
    assert settings["mode"] == "optimize" and settings["controls"]["steps"] == 3
    assert settings["engine"]["vgg"] == "original" and settings["version"] == 1


def test_coarse_to_fine_reports_each_scale(engine, photo, style) -> None:
    reports: list[Progress] = []
    engine.run(photo, style, build_options(size=192, steps=4, upscale=True),
               progress=reports.append)
    scales = sorted({(r.scale, r.size) for r in reports})
    assert [s[0] for s in scales] == [0, 1]
    assert scales[0][1][0] < scales[1][1][0] == 192


def test_cancel_returns_best_image_so_far(engine, photo, style) -> None:
    token = CancelToken()

    def stop_after_three(report: Progress) -> None:
        if report.step == 3:
            token.cancel()

    result = engine.run(
        photo, style, build_options(size=64, steps=20), progress=stop_after_three, cancel=token
    )
    assert not result.completed
    assert result.image.size == (64, 48)
    assert np.asarray(result.image).std() > 5  # a real image, not blank


def test_a_run_stopped_in_a_coarse_scale_keeps_the_size_it_reached(engine, photo, style) -> None:
    """Never an upscaled coarse image passing for a finished one."""
    token = CancelToken()
    sizes: list[tuple[int, int]] = []

    def stop_at_once(report: Progress) -> None:
        sizes.append(report.size)
        token.cancel()

    options = build_options(size=192, steps=8, upscale=True)
    result = engine.run(photo, style, options, progress=stop_at_once, cancel=token)
    assert not result.completed and result.steps_done == 1 and result.steps_total == 8
    assert result.image.size == sizes[0] != (192, 144)


def test_a_stop_between_two_scales_keeps_the_coarse_one_and_its_losses(
        engine, photo, style) -> None:  # fmt: skip
    """Found by QA: a cancel seen after a scale's last step came back as the finer scale's
    starting point, the coarse image upscaled, with no losses."""
    token = CancelToken()
    reports: list[Progress] = []
    options = build_options(size=192, steps=8, upscale=True)
    first_scale = options.for_photo(photo.size).step_schedule()[0]

    def stop_after_the_first_scale(report: Progress) -> None:
        reports.append(report)
        if report.step == first_scale:
            token.cancel()

    result = engine.run(photo, style, options, progress=stop_after_the_first_scale,
                        cancel=token)  # fmt: skip
    assert not result.completed and result.steps_done == first_scale
    assert result.image.size == reports[-1].size != (192, 144)
    assert result.losses["total"] > 0


def test_same_seed_same_result(engine, photo, style) -> None:
    options = dict(size=48, steps=4, init="noise", seed=7)
    a = np.asarray(engine.stylize(photo, style, **options))
    b = np.asarray(engine.stylize(photo, style, **options))
    c = np.asarray(engine.stylize(photo, style, **{**options, "seed": 8}))
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_blended_styles_and_init_image(engine, photo, style) -> None:
    other = style.rotate(90)
    out = engine.stylize(
        photo, [style, other], blend=[0.7, 0.3], size=48, steps=2, init="image", init_image=photo
    )
    assert out.size == (48, 36)
    with pytest.raises(OptionsError, match="2 style images but 1 blend"):
        engine.stylize(photo, [style, other], blend=[1.0], size=48, steps=1)
    for weight in (float("nan"), float("inf")):  # they came back as the photo, unpainted
        with pytest.raises(OptionsError, match="blend weights must be finite numbers >= 0"):
            engine.stylize(photo, [style, other], blend=[1.0, weight], size=48, steps=1)


def test_several_threads_share_one_engine(engine, photo, style) -> None:
    results: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        results[i] = np.asarray(engine.stylize(photo, style, size=48, steps=2, seed=1))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 3
    assert all(np.array_equal(results[0], r) for r in results.values())


def test_half_precision_only_where_the_hardware_has_it() -> None:
    """bf16 on CPUs with native bfloat16 (emulated bf16 would be slower), never when
    fp32 is asked for."""
    from styler.device import autocast_dtype, cpu_has_native_bf16, resolve_device

    cpu = torch.device("cpu")
    assert autocast_dtype(cpu) == (torch.bfloat16 if cpu_has_native_bf16() else None)
    assert autocast_dtype(cpu, cpu_bf16=False) is None
    assert resolve_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(OptionsError, match="no CUDA GPU"):
            resolve_device("cuda")


def test_large_scales_run_as_tiles_without_seams(engine) -> None:
    """Scales above the tile size are optimised tile by tile against the whole style's
    Grams and joined by multi-band blends: no seam stands out at the tile borders."""
    photo = load_image(GALLERY / "photos" / "coffee.jpg").rgb
    style = load_image(GALLERY / "styles" / "swirls.jpg").rgb
    options = build_options(size=512, steps=16, tile=256)
    reports: list[Progress] = []
    result = engine.run(photo, style, options, progress=reports.append)
    assert result.completed and result.image.size == (512, 341)
    tiled_sizes = {r.size for r in reports if r.size[0] <= 256 and r.scale >= 3}
    assert tiled_sizes  # the last scales ran as tiles of at most 256 px
    assert reports[-1].step == reports[-1].total_steps
    border, rest = border_gradients(np.asarray(result.image), tile_grid(341, 512, 256, 64))
    print(f"optimizer tiles: mean gradient {border:.2f} across borders, {rest:.2f} elsewhere")
    assert border <= rest


def test_result_is_the_best_scored_image_not_the_last(engine, photo, style) -> None:
    """Adam with a huge learning rate makes the loss climb: the result is the image the
    lowest progress report scored, with its losses, not the last iterate."""
    reports: list[Progress] = []
    options = build_options(size=64, steps=4, optimizer="adam", preview_every=1)
    options.learning_rate = 1.0
    result = engine.run(photo, style, options, progress=reports.append)
    totals = [r.losses["total"] for r in reports]
    best = int(np.argmin(totals))
    assert totals[-1] > totals[best]  # the loss went up: the last image is not the best
    assert result.losses == pytest.approx(reports[best].losses)
    # Report k scored the image before step k's update: the photo, or report k-1's preview.
    expected = photo if best == 0 else reports[best - 1].image
    assert result.image.size == expected.size
    difference = np.abs(np.asarray(result.image, np.int16) - np.asarray(expected, np.int16))
    assert difference.max() <= 1


def test_final_iterate_is_scored_and_kept(engine, photo, style) -> None:
    """No step's closure scores the final iterate: it is scored once more, and where L-BFGS
    keeps improving it is the result, its loss below every reported one."""
    reports: list[Progress] = []
    result = engine.run(photo, style, build_options(size=64, steps=5), progress=reports.append)
    assert result.completed
    assert result.losses["total"] < min(r.losses["total"] for r in reports)


def test_automatic_steps_follow_the_start() -> None:
    """steps 0: the coarse-to-fine schedule from the photo, one short scale from the instant
    result (benchmarks/probe_instant_init.py chose both)."""
    photo_start = OptimizeOptions(size=512)
    assert photo_start.steps == 0 and sum(photo_start.step_schedule()) == AUTO_STEPS["content"]
    assert len(photo_start.scale_sizes()) > 1
    instant_start = OptimizeOptions(size=512, init="instant")
    assert instant_start.scale_sizes() == [512]
    assert instant_start.step_schedule() == [AUTO_STEPS["instant"]]
