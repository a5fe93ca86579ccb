"""Instant mode's engine: real VGG19 features and the shipped decoders on small images."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from conftest import GALLERY, gradient_photo
from PIL import Image

from styler import OptimizeOptions, Stylizer
from styler.evaluate import edge_to_inside, style_distance
from styler.fusion.color import _to_yiq
from styler.instant.cascade import CASCADE, TILE_OVERLAP
from styler.instant.files import decoders_dir
from styler.instant.stylizer import STATS_KEPT, InstantOptions, InstantStylizer
from styler.instant.wct import feature_stats, mixture, whitening_colouring
from styler.instant.weights import load_decoders
from styler.progress import CancelToken


@pytest.fixture(scope="module")
def painting() -> Image.Image:
    return Image.open(GALLERY / "styles" / "swirls.jpg").convert("RGB")


@pytest.fixture(scope="module")
def other_painting() -> Image.Image:
    return Image.open(GALLERY / "styles" / "mosaic.jpg").convert("RGB")


@pytest.fixture(scope="module")
def scene() -> Image.Image:
    return Image.open(GALLERY / "photos" / "chelsea.jpg").convert("RGB").resize((128, 96))


@pytest.fixture(scope="module")
def stylizer(painting: Image.Image) -> InstantStylizer:
    return InstantStylizer(painting, device="cpu")


def test_shipped_decoders_load_with_their_checksums() -> None:
    decoders, infos = load_decoders()
    assert set(decoders) <= set(CASCADE) and decoders
    assert (decoders_dir() / "manifest.json").is_file()
    assert all(info["step"] > 0 for info in infos.values())


@pytest.mark.parametrize("size", [(61, 45), (40, 97), (128, 96), (1, 1), (5, 3), (8, 8), (300, 2)])
def test_output_has_the_inputs_size(stylizer: InstantStylizer, size: tuple[int, int]) -> None:
    out = stylizer.stylize(gradient_photo(*size))
    assert out.size == size


def test_photos_of_many_sizes_keep_a_bounded_number_of_statistics(painting) -> None:
    """The style's statistics were kept for every size painted (a few MB each): a server
    taking uploads of every size grew by a gigabyte (found by QA). The latest are kept, and
    one that fell out is the same when it comes back."""
    stylizer = InstantStylizer(painting, device="cpu", precision="fp32")
    first = stylizer.stylize_array(np.asarray(gradient_photo(70, 50)))
    for side in range(74, 74 + 4 * STATS_KEPT, 4):
        stylizer.stylize_array(np.asarray(gradient_photo(side, side * 3 // 4)))
    assert len(stylizer._stats) <= STATS_KEPT
    assert np.array_equal(stylizer.stylize_array(np.asarray(gradient_photo(70, 50))), first)


@pytest.mark.parametrize("precision", ["fp32", "int8"])
def test_a_thumbnail_of_one_feature_position_is_painted_not_blown_out(precision: str) -> None:
    """A photo of 8 px or less has one position at the encoder's stride: its covariance is
    its rounding, which whitening blew up into glaring 0/255 colours on 97-100 % of it."""
    from styler import Recipe, build_engine

    engine = build_engine(Recipe.create("instant", [GALLERY / "styles" / "swirls.jpg"],
                                        precision=precision))  # fmt: skip
    for size in [(7, 5), (8, 8), (2, 2)]:
        out = np.asarray(engine.run(gradient_photo(*size)).image).astype(int)
        assert not np.isin(out, [0, 255]).all(axis=2).any(), (size, out)


def test_a_cancel_stops_a_new_paintings_statistics_too(tmp_path, monkeypatch) -> None:
    """The painting's statistics ran outside the cancellable passes: a Cancel waited for
    them (6 s for a new painting at stroke side 4096), and they were cached regardless."""
    from styler import Recipe, build_engine

    monkeypatch.setenv("STYLER_CACHE_DIR", str(tmp_path))
    engine = build_engine(Recipe.create("instant", [GALLERY / "styles" / "swirls.jpg"],
                                        precision="fp32"))  # fmt: skip
    stopped = CancelToken()
    stopped.cancel()
    assert not engine.run(gradient_photo(64, 48), cancel=stopped).completed
    assert not list(tmp_path.rglob("*.npz"))  # stopped before they were made
    assert engine.run(gradient_photo(64, 48)).completed
    assert list((tmp_path / "instant-stats").glob("*.npz"))


def test_a_flat_sky_gets_no_lines_along_the_edge(stylizer: InstantStylizer) -> None:
    """Zero padding drew a frame of lines parallel to the edge on flat areas; the networks'
    convolutions mirror their input instead (styler.instant.padding)."""
    ramp = np.linspace(0, 1, 192, dtype=np.float32)[:, None, None]
    sky = np.array([90, 120, 170], np.float32) + ramp * 50 + np.zeros((192, 256, 3), np.float32)
    out = stylizer.stylize(Image.fromarray(sky.astype(np.uint8)))
    assert edge_to_inside(out) < 1.3  # zero padding: 2.08; mirrored: 0.76


def test_output_is_closer_to_the_style_than_the_photo(
    stylizer: InstantStylizer, scene: Image.Image, painting: Image.Image
) -> None:
    out = stylizer.stylize(scene)
    assert style_distance(out, painting) < 0.75 * style_distance(scene, painting)


def test_strength_zero_is_the_photo_and_half_is_between(
    stylizer: InstantStylizer, scene: Image.Image, painting: Image.Image
) -> None:
    assert np.array_equal(np.asarray(stylizer.stylize(scene, strength=0)), np.asarray(scene))
    full = style_distance(stylizer.stylize(scene), painting)
    half = style_distance(stylizer.stylize(scene, strength=0.5), painting)
    assert full < half < style_distance(scene, painting)


def test_luminance_keeps_the_photos_chroma(stylizer: InstantStylizer, scene: Image.Image) -> None:
    out = np.asarray(stylizer.stylize(scene, preserve_color="luminance"), np.float32)
    plain = np.asarray(stylizer.stylize(scene), np.float32)
    photo_chroma = _to_yiq(np.asarray(scene, np.float32))[..., 1:]
    kept = np.abs(_to_yiq(out)[..., 1:] - photo_chroma).mean()
    assert kept < 0.5 * np.abs(_to_yiq(plain)[..., 1:] - photo_chroma).mean()


def test_match_takes_the_photos_palette(stylizer: InstantStylizer, scene: Image.Image) -> None:
    matched = np.asarray(stylizer.stylize(scene, preserve_color="match"), np.float32)
    plain = np.asarray(stylizer.stylize(scene), np.float32)
    photo_mean = np.asarray(scene, np.float32).mean(axis=(0, 1))
    assert (
        np.abs(matched.mean(axis=(0, 1)) - photo_mean).sum()
        < np.abs(plain.mean(axis=(0, 1)) - photo_mean).sum()
    )


def test_a_blend_lies_between_its_styles(
    painting: Image.Image, other_painting: Image.Image, scene: Image.Image
) -> None:
    blend = InstantStylizer([painting, other_painting], device="cpu", blend=[0.5, 0.5])
    out = blend.stylize(scene)
    one = InstantStylizer(painting, device="cpu").stylize(scene)
    other = InstantStylizer(other_painting, device="cpu").stylize(scene)
    for single, target in ((one, painting), (other, other_painting)):
        assert style_distance(single, target) < style_distance(out, target)


def test_mixture_of_one_style_with_itself_is_that_style(painting: Image.Image) -> None:
    stats = InstantStylizer(painting, device="cpu").style_statistics(painting, 96)["relu4_1"]
    mixed = mixture([stats, stats], [0.3, 0.7])
    assert np.allclose(mixed.cov, stats.cov, atol=1e-6 * float(np.abs(stats.cov).max()))


def test_whitening_colouring_gives_the_styles_statistics() -> None:
    generator = np.random.default_rng(0)
    content = np.einsum(
        "ij,jkl->ikl", generator.normal(size=(8, 8)), generator.normal(size=(8, 20, 20))
    )
    style = 3 + 2 * generator.normal(size=(8, 20, 20))
    c, s = torch.tensor(content)[None], torch.tensor(style)[None]
    out = whitening_colouring(feature_stats(c), feature_stats(s))(c)
    got, want = feature_stats(out), feature_stats(s)
    assert np.allclose(got.mean, want.mean, atol=1e-3)
    assert np.allclose(got.cov, want.cov, atol=1e-2)
    array_out = whitening_colouring(feature_stats(content[None]), feature_stats(style[None]))(
        content[None].astype(np.float32))  # fmt: skip
    assert np.allclose(array_out, out.numpy(), atol=1e-4)  # arrays as tensors


def test_a_region_without_style_keeps_the_photo(
    stylizer: InstantStylizer, scene: Image.Image
) -> None:
    mask = np.zeros((96, 128), np.uint8)
    mask[:, :64] = 255
    out = np.asarray(stylizer.stylize(scene, regions=[(mask, None)], feather=0), np.float32)
    photo = np.asarray(scene, np.float32)
    left, right = np.abs(out - photo)[:, :48].mean(), np.abs(out - photo)[:, 80:].mean()
    assert left < 0.25 * right


def test_style_scale_changes_the_strokes(stylizer: InstantStylizer, scene: Image.Image) -> None:
    small = np.asarray(stylizer.stylize(scene, style_scale=0.5), np.float32)
    large = np.asarray(stylizer.stylize(scene, style_scale=2.0), np.float32)
    assert np.abs(small - large).mean() > 2.0


def test_tiles_join_without_seams_or_colour_shift(painting: Image.Image) -> None:
    photo = np.asarray(
        Image.open(GALLERY / "photos" / "astronaut.jpg").convert("RGB").resize((384, 256))
    )
    whole = InstantStylizer(painting, device="cpu").stylize_array(photo)
    tiled = InstantStylizer(painting, device="cpu", tile=160, whole_side=128).stylize_array(photo)
    assert tiled.shape == whole.shape
    difference = np.abs(tiled.astype(np.float32) - whole.astype(np.float32))
    assert difference.mean() < 6.0  # the same statistics everywhere: no tile drifts
    # Tiles of 160 px are mostly border, where the student encoder's zero padding shows:
    # it shifted one channel's mean by 3.2 levels (VGG19: under 3); real tiles are 1024.
    assert np.abs(tiled.mean(axis=(0, 1)) - whole.mean(axis=(0, 1))).max() < 4.0
    gray = tiled.astype(np.float32).mean(axis=2)
    gradient = np.abs(np.diff(gray, axis=1))
    joins = [start + TILE_OVERLAP // 2 for start in (96, 192)]  # tile 160, overlap 64
    assert gradient[:, joins].mean() < 1.5 * gradient.mean()


def test_a_result_records_instant_settings(stylizer: InstantStylizer, scene: Image.Image) -> None:
    result = stylizer.run(scene, InstantOptions(strength=0.8))
    assert result.settings["mode"] == "instant"
    assert result.settings["controls"]["strength"] == 0.8
    assert result.completed


def test_a_cancelled_run_says_so(stylizer: InstantStylizer, scene: Image.Image) -> None:
    cancel = CancelToken()
    cancel.cancel()
    result = stylizer.run(scene, cancel=cancel)
    assert not result.completed
    assert result.image.size == scene.size


def test_init_instant_lowers_the_loss_faster_than_init_content(
    scene: Image.Image, painting: Image.Image
) -> None:
    engine = Stylizer(device="cpu")
    losses = {}
    for init in ("content", "instant"):
        result = engine.run(scene, painting, OptimizeOptions(size=128, steps=4, init=init))
        losses[init] = result.losses["total"]
    assert losses["instant"] < losses["content"]


@pytest.mark.parametrize("tile", [0, 160])
def test_onnxruntime_passes_paint_what_the_pytorch_networks_paint(
    painting: Image.Image, tile: int
) -> None:
    """On the CPU float32 runs onnxruntime's graphs on numpy arrays (no PyTorch); the same
    stylizer on the networks in PyTorch gives the same pixels, whole or in tiles."""
    import dataclasses

    from styler.instant.runtime import OnnxNetworks
    from styler.instant.torch_networks import loaded_networks

    photo = np.asarray(Image.open(GALLERY / "photos" / "astronaut.jpg").convert("RGB")
                       .resize((256, 192)))  # fmt: skip
    stylizer = InstantStylizer(painting, device="cpu", precision="fp32", tile=tile,
                               whole_side=128 if tile else 1024)  # fmt: skip
    assert isinstance(stylizer.nets, OnnxNetworks)
    onnx = stylizer.stylize_array(photo)
    stylizer.nets = dataclasses.replace(loaded_networks(torch.device("cpu")))
    stylizer._stats.clear()
    in_torch = stylizer.stylize_array(photo)
    difference = np.abs(onnx.astype(int) - in_torch)
    assert difference.max() <= 2 and difference.mean() < 0.05


def test_a_damaged_network_file_is_refused_without_loading_it(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The onnxruntime passes never read the decoder's file into PyTorch, yet a file whose
    bytes differ from the manifest's is refused, in one line naming it, as loading it would."""
    import shutil

    from styler.errors import WeightsError
    from styler.instant.runtime import installed_files

    folder = tmp_path / "instant"
    shutil.copytree(decoders_dir(), folder)
    decoder = next(folder.glob("decoder_*.safetensors"))
    data = bytearray(decoder.read_bytes())
    data[-1] ^= 0xFF
    decoder.write_bytes(bytes(data))
    monkeypatch.setenv("STYLER_INSTANT_DIR", str(folder))
    with pytest.raises(WeightsError, match=f"{decoder.name}: sha256 does not match") as raised:
        installed_files()
    assert "\n" not in str(raised.value)


def test_float_graphs_are_cached_by_their_files_and_made_again_when_damaged(
    tmp_path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from styler.instant.runtime import float_graphs, installed_files

    monkeypatch.setenv("STYLER_CACHE_DIR", str(tmp_path))
    made: list[str] = []

    def export(role: str, path) -> None:
        made.append(role)
        path.write_bytes(role.encode())

    files = installed_files()
    graphs = float_graphs(files, export)
    assert sorted(made) == ["decoder", "encoder", "style_encoder"]
    assert float_graphs(files, export) == graphs and len(made) == 3  # from the cache
    graphs.decoder.write_bytes(b"damaged")
    assert float_graphs(files, export) == graphs and made[3:] == ["decoder"]
    assert graphs.decoder.read_bytes() == b"decoder"


def test_the_blas_limit_is_given_back_when_the_last_thread_leaves() -> None:
    """Runs on several threads overlap their one-thread BLAS blocks; whichever order they
    leave in, the process ends with the thread count it had."""
    import threading

    from styler import blas_threads

    def threads() -> list[int]:
        return [info["num_threads"] for info in blas_threads._blas().info()
                if info["user_api"] == "blas"]  # fmt: skip

    before = threads()
    inside, leave = threading.Event(), threading.Event()

    def hold() -> None:
        with blas_threads.one_blas_thread():
            inside.set()
            leave.wait(10)

    other = threading.Thread(target=hold)
    with blas_threads.one_blas_thread():
        other.start()
        inside.wait(10)
        assert threads() == [1] * len(before)
    assert threads() == [1] * len(before)  # the other thread is still inside
    leave.set()
    other.join(10)
    assert threads() == before


def test_a_paintings_statistics_are_kept_between_commands(
    tmp_path, monkeypatch: pytest.MonkeyPatch, scene: Image.Image
) -> None:
    """The next stylizer of the same painting reads its statistics from the cache instead of
    encoding it (its pixels the same); a recoloured painting is not kept; a damaged entry is
    made again; the folder keeps the newest entries only."""
    from styler.instant import stats_cache
    from styler.instant.runtime import OnnxNetworks

    monkeypatch.setenv("STYLER_CACHE_DIR", str(tmp_path))
    rng = np.random.default_rng(7)
    painting = Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).resize((160, 120))
    first = np.asarray(InstantStylizer(painting, device="cpu", precision="fp32").stylize(scene))
    (kept,) = (tmp_path / "instant-stats").glob("*.npz")

    def refused(self: OnnxNetworks, style: np.ndarray) -> dict:
        raise AssertionError("the painting was encoded again")

    with monkeypatch.context() as patched:
        patched.setattr(OnnxNetworks, "style_stats", refused)
        again = InstantStylizer(painting, device="cpu", precision="fp32").stylize(scene)
    assert np.array_equal(np.asarray(again), first)
    InstantStylizer(painting, device="cpu", precision="fp32").run(
        scene, InstantOptions(preserve_color="match"))  # fmt: skip
    assert list((tmp_path / "instant-stats").glob("*.npz")) == [kept]
    kept.write_bytes(b"damaged")
    remade = InstantStylizer(painting, device="cpu", precision="fp32").stylize(scene)
    assert np.array_equal(np.asarray(remade), first) and kept.stat().st_size > 1000
    monkeypatch.setattr(stats_cache, "KEEP", 1)
    InstantStylizer(painting.rotate(180), device="cpu", precision="fp32").stylize(scene)
    assert len(list((tmp_path / "instant-stats").glob("*.npz"))) == 1
