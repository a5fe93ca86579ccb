"""The one-pass modes for apps (issue 26): precision, int8 graphs, instant mode's stroke side,
ONNX export of every one-pass model, and docs/embedding.md's app run against the engine."""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import GALLERY
from photo_files import icc_profile
from PIL import Image, ImageCms

import styler.precision
from styler.controls import CONTROLS, INSTANT
from styler.errors import OptionsError
from styler.fast.inference import FastStylizer
from styler.fast.network import TileableInstanceNorm
from styler.fast.twin import read_twin
from styler.imageio import load_image
from styler.instant.detail import reduced_copy, with_detail
from styler.instant.runtime import OnnxNetworks
from styler.instant.stylizer import InstantOptions, InstantStylizer, networks_on
from styler.int8_models import Int8Graph, int8_dir
from styler.precision import NO_INT8_DOT_ENV, cpu_has_int8_dot, resolve_precision

ort = pytest.importorskip("onnxruntime")
CPU = "cpu"
STYLE = GALLERY / "styles" / "swirls.jpg"
ROOT = GALLERY.parent
HAS_INT8_GRAPHS = (int8_dir() / "manifest.json").is_file()
needs_int8 = pytest.mark.skipif(not HAS_INT8_GRAPHS, reason="no int8 graphs in weights/int8")


@pytest.fixture(scope="module")
def photo() -> Image.Image:
    return Image.open(GALLERY / "photos" / "astronaut.jpg").convert("RGB").resize((320, 320))


def run_cli(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess:
    env = {**os.environ, "OMP_NUM_THREADS": "2"}
    return subprocess.run([sys.executable, "-m", "styler.cli.main", *args], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)  # fmt: skip


def _graph(**quality: float) -> Int8Graph:
    """A manifest entry with these quality figures (no file behind it: resolve reads none)."""
    return Int8Graph("net", "net.int8.onnx", "0" * 64, "1" * 64, quality=dict(quality))


def test_auto_takes_int8_only_with_int8_dot_products_and_a_graph_within_bounds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(NO_INT8_DOT_ENV, raising=False)
    pays = [_graph(style_change=0.01, content_change=-0.02, speedup=1.5, speedup_bf16=1.2)]
    fallback = resolve_precision("auto", CPU, [])
    assert fallback in ("fp32", "bf16")  # the CPU's best float
    if cpu_has_int8_dot():
        assert resolve_precision("auto", CPU, pays) == "int8"
    lossy = [*pays, _graph(style_change=0.05, content_change=0.0, speedup=2.0)]
    assert resolve_precision("auto", CPU, lossy) == fallback  # one graph over the bound
    monkeypatch.setenv(NO_INT8_DOT_ENV, "1")  # a CPU without VNNI, simulated
    assert not cpu_has_int8_dot()
    assert resolve_precision("auto", CPU, pays) == fallback
    assert resolve_precision("int8", CPU, []) == "int8"  # asked for: given
    with pytest.raises(OptionsError, match="int8 runs on the CPU"):
        resolve_precision("int8", "cuda", pays)
    assert CONTROLS["precision"].choices == ("auto", "fp32", "bf16", "fp16", "int8")


@pytest.mark.parametrize(
    ("cpuinfo", "numpy_finds", "expected"),
    [
        ("fpu sse2 avx2 avx512f avx512_vnni", frozenset(), True),  # Linux: /proc/cpuinfo
        ("fpu sse2 avx2 fma", frozenset({"AVX512VNNI"}), False),  # /proc/cpuinfo has the say
        ("", frozenset({"AVX2", "AVX512F", "AVX512VNNI"}), True),  # Windows, Zen 4
        ("", frozenset({"AVX2", "FMA3"}), False),  # Windows, an AVX2 laptop
        ("", frozenset({"NEON", "ASIMD", "ASIMDDP"}), True),  # Windows on ARM, Snapdragon X
    ],
)
def test_int8_dot_products_found_without_proc_cpuinfo(
    monkeypatch: pytest.MonkeyPatch, cpuinfo: str, numpy_finds: frozenset[str], expected: bool
) -> None:
    """Windows and macOS on Intel have no /proc/cpuinfo: numpy's own CPU detection names the
    instructions there, so auto still finds int8 where it pays."""
    monkeypatch.delenv(NO_INT8_DOT_ENV, raising=False)
    monkeypatch.setattr(styler.precision.platform, "system", lambda: "Windows")
    monkeypatch.setattr(styler.precision, "cpuinfo_value", lambda *keys: cpuinfo)
    monkeypatch.setattr(styler.precision, "numpy_cpu_features", lambda: numpy_finds)
    styler.precision._cpu_flags.cache_clear()
    try:
        assert cpu_has_int8_dot() is expected
    finally:
        styler.precision._cpu_flags.cache_clear()


def test_numpy_names_this_cpus_int8_dot_products_as_proc_cpuinfo_does() -> None:
    """The stand-in agrees with /proc/cpuinfo on the machine the suite runs on (Linux)."""
    flags = set(styler.precision.cpuinfo_value("flags", "Features").split())
    if not flags:
        pytest.skip("no /proc/cpuinfo flags to compare with (not Linux)")
    by_numpy = {styler.precision.NUMPY_INT8_DOT[name]
                for name in styler.precision.numpy_cpu_features() & set(
                    styler.precision.NUMPY_INT8_DOT)}  # fmt: skip
    assert by_numpy == flags & set(styler.precision.NUMPY_INT8_DOT.values())


def test_int8_must_beat_the_float_auto_would_run_instead(monkeypatch: pytest.MonkeyPatch) -> None:
    """Thin networks can run faster in bf16 than in int8: against bf16 (a CPU with native
    bf16) int8 needs its bf16 speed-up, against fp32 its fp32 one; where bf16 was never timed,
    fp32's figure stands in."""
    monkeypatch.setattr(styler.precision, "cpu_has_int8_dot", lambda: True)  # on any CPU
    slower_than_bf16 = [_graph(style_change=0.0, content_change=0.0, speedup=1.3, speedup_bf16=0.8)]
    assert resolve_precision("auto", CPU, slower_than_bf16, float_choice="bf16") == "bf16"
    assert resolve_precision("auto", CPU, slower_than_bf16, float_choice="fp32") == "int8"
    untimed = [_graph(style_change=0.0, content_change=0.0, speedup=1.3)]
    assert resolve_precision("auto", CPU, untimed, float_choice="bf16") == "int8"
    assert not _graph(style_change=0.0, content_change=0.0, speedup=0.9).pays_against("fp32")


@needs_int8
def test_fast_int8_is_recorded_and_auto_falls_back_without_vnni(
    photo: Image.Image, monkeypatch: pytest.MonkeyPatch
) -> None:
    array = np.asarray(photo)
    int8_stylizer = FastStylizer("starry_night", device="cpu", precision="int8")
    assert int8_stylizer.run(photo).settings["engine"]["precision"] == "int8"
    monkeypatch.setenv(NO_INT8_DOT_ENV, "1")
    fallback = FastStylizer("starry_night", device="cpu")
    assert fallback.main_precision.name == "fp32"
    with pytest.raises(OptionsError, match="no int8 graph ships for"):
        blend = FastStylizer(["starry_night", "udnie"], device="cpu", precision="int8")
        blend.stylize_array(array)


# (style, another style, bound in levels): measured 10.0, 17.2, 10.9, 8.8, 11.4 and 10.0
# levels, 0.24x, 0.40x, 0.22x, 0.20x, 0.25x and 0.17x the distance to the other style's
# picture. A retrained twin paints its own strokes in its teacher's style, so it is further
# from fp32 than quantization alone would be.
TWIN_CASES = [("udnie", "starry_night", 13), ("starry_night", "udnie", 19),
              ("wave_crop", "udnie", 14), ("the_scream", "udnie", 12),
              ("vg_olive", "udnie", 15), ("vg_houses", "udnie", 13),
              ("shipwreck", "udnie", 13), ("vg_wheat_field", "udnie", 13),
              ("edtaonisl", "udnie", 13), ("vg_la_cafe", "udnie", 10)]  # fmt: skip


@needs_int8
@pytest.mark.parametrize(("style", "other_style", "bound"), TWIN_CASES)
def test_a_styles_int8_graph_made_from_its_twin_paints_the_styles_picture(
    photo: Image.Image, style: str, other_style: str, bound: float
) -> None:
    entry = json.loads((int8_dir() / "manifest.json").read_text())["graphs"][style]
    twin = read_twin(int8_dir() / entry["twin"])  # the float network the graph came from
    assert not any(isinstance(m, TileableInstanceNorm) for m in twin.residuals.modules())
    array = np.asarray(photo)
    fp32 = FastStylizer(style, device="cpu", precision="fp32").stylize_array(array)
    int8 = FastStylizer(style, device="cpu", precision="int8").stylize_array(array)
    other = FastStylizer(other_style, device="cpu", precision="fp32").stylize_array(array)
    difference = np.abs(fp32.astype(int) - int8.astype(int)).mean()
    another_style = np.abs(fp32.astype(int) - other.astype(int)).mean()
    print(f"{style} int8 (twin) vs fp32: {difference:.2f} levels; {other_style}: "
          f"{another_style:.2f}")  # fmt: skip
    assert difference < bound and difference < 0.45 * another_style


@needs_int8
def test_instant_precisions_stay_close_to_fp32(photo: Image.Image) -> None:
    array = np.asarray(photo)
    fp32 = InstantStylizer(STYLE, device="cpu", precision="fp32").stylize_array(array)
    for precision, mean_bound in (("int8", 4.0), ("bf16", 3.0)):
        out = InstantStylizer(STYLE, device="cpu", precision=precision).stylize_array(array)
        difference = np.abs(fp32.astype(int) - out.astype(int))
        print(f"instant {precision} vs fp32: mean {difference.mean():.2f} levels")
        assert difference.mean() < mean_bound


def test_instant_paints_a_long_photo_at_its_stroke_side_and_puts_the_detail_back() -> None:
    chelsea = Image.open(GALLERY / "photos" / "chelsea.jpg").convert("RGB")
    big = np.asarray(chelsea.resize((512, 384)))
    stylizer = InstantStylizer(STYLE, device="cpu", precision="fp32")
    out = stylizer.stylize_array(big, InstantOptions(stroke_side=256))
    copy = reduced_copy(big, 256)
    assert copy.shape == (192, 256, 3)
    small = stylizer.stylize_array(copy, InstantOptions(stroke_side=256))
    assert np.array_equal(out, with_detail(small, copy, big))
    assert CONTROLS["stroke_side"].default_for(INSTANT) == 512
    full = stylizer.stylize_array(big, InstantOptions(stroke_side=0))
    assert full.shape == out.shape and not np.array_equal(full, out)


def embedding_app() -> types.ModuleType:
    """docs/embedding.md's instant app, as the page prints it."""
    text = (ROOT / "docs" / "embedding.md").read_text()
    code = re.search(r"<!-- instant-app -->\s*```python\n(.*?)```", text, re.S)
    assert code is not None, "docs/embedding.md lost its instant app"
    assert len([line for line in code.group(1).splitlines() if line.strip()]) <= 65  # short
    module = types.ModuleType("instant_app")
    exec(compile(code.group(1), "docs/embedding.md", "exec"), module.__dict__)  # noqa: S102
    return module


# (precision, the largest difference anywhere, the one 99.9 % of pixels stay within): int8
# rounds activations to steps, so the float transform's last-bit differences between numpy
# and PyTorch flip a step here and there (measured: max 6, 99.9 % within 3).
APP_BOUNDS = [("fp32", 2, 2), pytest.param("int8", 10, 3, marks=needs_int8)]


@pytest.mark.parametrize(("precision", "most", "nearly_all"), APP_BOUNDS)
def test_the_documented_app_gives_the_engines_pixels(
    precision: str, most: int, nearly_all: int, photo: Image.Image, tmp_path: Path
) -> None:
    done = run_cli("export", "--instant", "--precision", precision, "-o", str(tmp_path / "m"))
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in (tmp_path / "m").iterdir()) == [
        "decoder.onnx", "encoder.onnx", "frames_decoder.onnx", "instant.json",
        "style_encoder.onnx"]  # fmt: skip
    # The same folder with the frames' decoder in the decoder's place paints video frames
    frames = tmp_path / "frames"
    shutil.copytree(tmp_path / "m", frames)
    (frames / "frames_decoder.onnx").replace(frames / "decoder.onnx")
    app = embedding_app()
    painting = app.load(str(STYLE))
    stylizer = InstantStylizer(STYLE, device="cpu", precision=precision)
    for folder, grid in ((tmp_path / "m", None), (frames, (0.0, 0.0))):
        model = app.InstantModel(str(folder))
        for size in (600, 300):  # above the stroke side (the detail path) and below it
            picture = photo.resize((size, size * 3 // 4))
            ours = np.asarray(model.stylize(picture, painting), int)
            engine = stylizer.run(np.asarray(picture), grid=grid).image
            difference = np.abs(ours - np.asarray(engine, int))
            within = np.percentile(difference, 99.9)
            print(f"app vs engine, {precision}, {folder.name}, {size} px: max "
                  f"{difference.max()}, 99.9 % within {within:.0f} levels")  # fmt: skip
            assert ours.shape == difference.shape
            assert difference.max() <= most and within <= nearly_all
    # A strip of a painting, thinner than the encoders' pooling at any size: repeated across
    # its thin side by the app as by the engine (the app, encoding it as it was, painted up
    # to 105 levels off the engine)
    strip = tmp_path / "strip.png"
    painting.resize((300, 1), Image.Resampling.LANCZOS).save(strip)
    picture = photo.resize((160, 120))
    ours = np.asarray(app.InstantModel(str(tmp_path / "m")).stylize(picture, app.load(str(strip))))
    engine = InstantStylizer(strip, device="cpu", precision=precision).run(np.asarray(picture))
    difference = np.abs(ours.astype(int) - np.asarray(engine.image, int))
    assert difference.max() <= most and np.percentile(difference, 99.9) <= nearly_all
    # Photos the app read or padded unlike the engine: a 16-bit grey PNG (clipped to white,
    # 34 levels off on average), a 300x3 strip (mirrored where the engine repeats its edge:
    # 24), a 7x5 thumbnail (one feature position, whose rounding was whitened into glare)
    # and a photo in Adobe RGB (read as stored: up to 28 levels off, 3 on average)
    grey = tmp_path / "grey16.png"
    Image.fromarray(np.asarray(photo.convert("L").resize((96, 72)), np.uint16) * 257).save(grey)
    adobe = tmp_path / "adobe.png"
    wide = icc_profile("Adobe RGB (1998)")
    ImageCms.profileToProfile(photo.resize((96, 72)), ImageCms.createProfile("sRGB"),
                              io.BytesIO(wide), outputMode="RGB").save(adobe, icc_profile=wide)
    model = app.InstantModel(str(tmp_path / "m"))
    files = {"grey16": grey, "adobe": adobe}
    for name, picture in (("grey16", load_image(grey).rgb), ("adobe", load_image(adobe).rgb),
                          ("strip", photo.resize((300, 3))), ("thumbnail", photo.resize((7, 5)))):
        given = app.load(str(files[name])) if name in files else picture
        ours = np.asarray(model.stylize(given, painting), int)
        engine = stylizer.run(np.asarray(picture)).image
        difference = np.abs(ours - np.asarray(engine, int))
        assert difference.max() <= most and np.percentile(difference, 99.9) <= nearly_all, name


def test_exported_fast_networks_load_in_a_fresh_session(tmp_path: Path) -> None:
    precisions = ["fp32", "fp16", *(["int8"] if HAS_INT8_GRAPHS else [])]
    photo = Image.open(GALLERY / "photos" / "astronaut.jpg").convert("RGB").resize((224, 160))
    x = np.ascontiguousarray(np.asarray(photo, np.float32).transpose(2, 0, 1)[None] / 255)
    outputs = {}
    for precision in precisions:
        done = run_cli("export", "starry_night", "--precision", precision, cwd=tmp_path)
        assert done.returncode == 0, done.stderr
        path = Path(done.stdout.strip())
        session = ort.InferenceSession(str(tmp_path / path), providers=["CPUExecutionProvider"])
        outputs[precision] = session.run(None, {"image": x})[0]
    # int8 is starry_night's twin (measured 0.071 here; on a 56x40 thumbnail 0.14, where the
    # twin's frozen trunk statistics are furthest from the photo's own)
    bounds = {"fp32": 0.0, "fp16": 0.03, "int8": 0.09}
    for precision, out in outputs.items():
        difference = np.abs(out - outputs["fp32"]).mean()
        assert out.shape == x.shape and difference <= bounds[precision], (precision, difference)


def test_bad_export_targets_are_one_line(tmp_path: Path) -> None:
    unknown = run_cli("export", "no_such_style")
    assert unknown.returncode == 2 and "no_such_style" in unknown.stderr
    assert len(unknown.stderr.strip().splitlines()) == 1
    blocker = tmp_path / "a_file"
    blocker.write_text("not a folder")
    for args in (["starry_night", "-o", str(blocker / "net.onnx")],
                 ["--instant", "-o", str(blocker / "models")]):  # fmt: skip
        done = run_cli("export", *args)
        assert done.returncode == 2, done.stderr
        assert len(done.stderr.strip().splitlines()) == 1 and str(blocker) in done.stderr
    neither = run_cli("export")
    assert neither.returncode == 2 and "--instant" in neither.stderr
    few = tmp_path / "two_photos"
    few.mkdir()
    for i in range(2):
        Image.new("RGB", (32, 32), (i * 90, 40, 40)).save(few / f"{i}.png")
    own = run_cli("export", "starry_night", "--precision", "int8", "--calibrate", str(few),
                  "-o", str(tmp_path / "own.onnx"))  # fmt: skip
    assert own.returncode == 2 and "at least 8" in own.stderr
    assert not (tmp_path / "own.onnx").exists()


def test_the_networks_of_each_precision_are_loaded_once() -> None:
    assert networks_on("cpu", "fp32") is networks_on("cpu", "fp32")
    assert isinstance(networks_on("cpu", "fp32"), OnnxNetworks)  # the graphs an app runs
    assert networks_on("cpu", "bf16").dtype == torch.bfloat16


def export_here(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """`styler export` through main() in this process: the export is real, the interpreter's
    and PyTorch's start-up are not paid again."""
    from styler.cli.main import main

    try:
        code = main(["export", *args])
    except SystemExit as exc:  # argparse exits itself for --help and usage errors
        code = exc.code
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def leftovers(folder: Path) -> list[str]:
    return [p.name for p in folder.rglob("*.tmp")]


def onnx_name(precision: str) -> str:
    return "udnie.onnx" if precision == "fp32" else f"udnie_{precision}.onnx"


# (precision, -o given as a folder to make, named with a trailing separator): each precision
# once, int8 (a copy of the shipped graph, cheap) both ways
FOLDER_CASES = [("fp32", True), ("fp16", False), pytest.param("int8", True, marks=needs_int8),
                pytest.param("int8", False, marks=needs_int8)]  # fmt: skip


@pytest.mark.parametrize(("precision", "new"), FOLDER_CASES)
def test_a_fast_export_into_a_folder_is_named_as_without_one(
    precision: str, new: bool, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """-o DIR/ (made) and -o DIR (existing) mean DIR/NAME.onnx, not a file called DIR."""
    folder = tmp_path / "models"
    if not new:
        folder.mkdir()
    output = f"{folder}{os.sep}" if new else str(folder)
    code, stdout, stderr = export_here("udnie", "--precision", precision, "-o", output,
                                       capsys=capsys)  # fmt: skip
    assert code == 0, stderr
    assert stdout.strip() == str(folder / onnx_name(precision))
    assert [p.name for p in tmp_path.iterdir()] == ["models"]
    assert [p.name for p in folder.iterdir()] == [onnx_name(precision)]
    ort.InferenceSession(str(folder / onnx_name(precision)), providers=["CPUExecutionProvider"])


def test_an_own_int8_export_into_a_folder_is_named_as_without_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(8):
        Image.new("RGB", (64, 48), (i * 30, 90, 200 - i * 20)).save(photos / f"{i}.png")
    code, stdout, stderr = export_here("udnie", "--precision", "int8", "--calibrate",
                                       str(photos), "-o", f"{tmp_path / 'own'}{os.sep}",
                                       capsys=capsys)  # fmt: skip
    assert code == 0, stderr
    assert stdout.splitlines() == [str(tmp_path / "own" / "udnie_int8.onnx")]  # the path alone
    assert [p.name for p in (tmp_path / "own").iterdir()] == ["udnie_int8.onnx"]


@pytest.mark.parametrize("precision", ["fp32", pytest.param("int8", marks=needs_int8)])
def test_a_failed_fast_write_names_its_target_and_leaves_no_temporary_file(
    precision: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    name = onnx_name(precision)
    (tmp_path / "models" / name).mkdir(parents=True)  # the target is taken by a folder
    code, stdout, stderr = export_here("udnie", "--precision", precision, "-o",
                                       str(tmp_path / "models"), capsys=capsys)  # fmt: skip
    assert code == 2 and not stdout
    assert stderr.strip() == f"styler: error: {tmp_path / 'models' / name}: a folder of that " \
                             "name is in the way"  # fmt: skip
    assert leftovers(tmp_path) == []


def test_instant_export_takes_a_folder_with_or_without_a_separator_and_fails_cleanly(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    graphs = ["decoder.onnx", "encoder.onnx", "frames_decoder.onnx", "instant.json",
              "style_encoder.onnx"]  # fmt: skip
    code, stdout, stderr = export_here("--instant", "-o", f"{tmp_path / 'new'}{os.sep}",
                                       capsys=capsys)  # fmt: skip
    assert code == 0, stderr
    assert sorted(p.name for p in (tmp_path / "new").iterdir()) == graphs
    assert sorted(Path(line).name for line in stdout.split()) == graphs
    (tmp_path / "taken" / "decoder.onnx").mkdir(parents=True)
    code, _, stderr = export_here("--instant", "-o", str(tmp_path / "taken"), capsys=capsys)
    assert code == 2 and len(stderr.strip().splitlines()) == 1
    assert f"{tmp_path / 'taken' / 'decoder.onnx'}: a folder of that name is in the way" in stderr
    assert [p.name for p in (tmp_path / "taken").iterdir()] == ["decoder.onnx"]  # nothing new
    assert leftovers(tmp_path) == []


def test_an_instant_export_that_fails_part_way_leaves_nothing_new(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A disk that takes the first graph and refuses the second (a file size limit, `ulimit
    -f`, stands in for a full one): one line naming the file, an earlier export in the folder
    as it was, and no new folder, graph or temporary file."""
    earlier = tmp_path / "earlier"
    code, _, stderr = export_here("--instant", "--precision", "fp16", "-o", str(earlier),
                                  capsys=capsys)  # also caches the graphs that fp32 copies
    assert code == 0, stderr
    before = {p.name: p.read_bytes() for p in earlier.iterdir()}
    blocks = len(before["encoder.onnx"]) * 2 // 1024  # fp32's encoder fits, its VGG does not
    for folder in (earlier, tmp_path / "new" / "sub"):
        done = subprocess.run(["bash", "-c", f'ulimit -f {blocks} && exec "$0" "$@"',
                               sys.executable, "-m", "styler.cli.main", "export", "--instant",
                               "-o", str(folder)],
                              capture_output=True, text=True, timeout=300)  # fmt: skip
        assert done.returncode == 2 and not done.stdout
        assert done.stderr.splitlines() == [f"styler: error: {folder / 'style_encoder.onnx'}: "
                                            "could not write the file (File too large)"]
    assert {p.name: p.read_bytes() for p in earlier.iterdir()} == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["earlier"]


def test_a_cached_graph_is_written_whole_or_not_at_all(tmp_path: Path) -> None:
    """The graph cache writes through imageio's temporary files, as every other writer: an
    exporter that fails half way leaves no file, a later one writes the graph."""
    from styler.onnx_models import cached_graph, intact

    def broken(path: Path) -> None:
        path.write_bytes(b"half a graph")
        raise RuntimeError("the exporter broke")

    target = tmp_path / "onnx" / "net.onnx"
    with pytest.raises(RuntimeError, match="the exporter broke"):
        cached_graph(target, broken)
    assert list(target.parent.iterdir()) == []
    assert cached_graph(target, lambda path: path.write_bytes(b"graph")) == target
    assert target.read_bytes() == b"graph" and intact(target)
    assert sorted(p.name for p in target.parent.iterdir()) == ["net.onnx", "net.onnx.sha256"]


def test_export_help_offers_only_the_precisions_export_accepts(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code, stdout, _ = export_here("--help", capsys=capsys)
    assert code == 0 and "--precision {fp32,fp16,int8}" in stdout
    assert not re.search(r"\b(auto|bf16)\b", stdout), stdout
    code, _, stderr = export_here("udnie", "--precision", "bf16", capsys=capsys)
    assert code == 2 and "invalid choice: 'bf16'" in stderr
    assert "auto takes int8" in CONTROLS["precision"].help  # stylize's help is the registry's
