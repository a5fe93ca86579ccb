"""Fast mode: the style network, its files, tiled inference and training with resume."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest
import torch

from styler.errors import OptionsError, WeightsError
from styler.fast.data import PhotoCrops
from styler.fast.inference import FastStylizer
from styler.fast.manifest import StyleEntry, find_style, sha256_of
from styler.fast.network import BilinearUpConv, NetworkConfig, StyleNetwork, count_macs
from styler.fast.train import TrainConfig, Trainer
from styler.fast.weights import read_network, save_network
from styler.fusion.tiles import tile_grid
from styler.imageio import load_image
from styler.quantize import float_convs
from tests.conftest import GALLERY, border_gradients, gradient_photo, stripe_style

TINY = NetworkConfig(widths=(8, 16, 16), res_blocks=1)


@pytest.fixture
def net_file(tmp_path: Path) -> Path:
    """An untrained network whose output sits mid-range, so nothing hides in clipping."""
    torch.manual_seed(0)
    net = StyleNetwork(TINY)
    with torch.no_grad():
        net.decoder[-1].weight.mul_(0.2)
        net.decoder[-1].bias.fill_(0.5)
    path = tmp_path / "net.safetensors"
    save_network(net, path, {"styles": ["stripes"]})
    return path


@pytest.mark.parametrize("size", [(37, 53), (64, 64), (1, 3, 8, 8)])
def test_any_size_in_same_size_out(size) -> None:
    net = StyleNetwork(TINY).eval()
    shape = size if len(size) == 4 else (1, 3, *size)
    with torch.no_grad():
        assert net(torch.rand(shape)).shape == shape


def test_bilinear_up_conv_is_upsample_then_conv_without_the_big_tensor() -> None:
    torch.manual_seed(0)
    layer = BilinearUpConv(5, 3)
    x = torch.rand(2, 5, 9, 14)
    up = torch.nn.functional.interpolate(x, scale_factor=2, mode="bilinear", align_corners=False)
    padded = torch.nn.functional.pad(up, (1, 1, 1, 1), mode="replicate")
    expected = torch.nn.functional.conv2d(padded, layer.weight, layer.bias)
    with torch.no_grad():
        assert torch.allclose(layer(x), expected, atol=1e-5)


def test_default_network_cost_is_documented() -> None:
    macs = count_macs(NetworkConfig())
    assert 5e9 < macs < 10e9  # the module docstring's 7.5 GMAC at 1024x768


def test_network_file_round_trip_and_checks(net_file: Path, tmp_path: Path) -> None:
    net, info = read_network(net_file, sha256=sha256_of(net_file))
    assert info == {"styles": ["stripes"]} and net.config == TINY
    with pytest.raises(WeightsError, match="sha256 does not match"):
        read_network(net_file, sha256="0" * 64)
    broken = tmp_path / "broken.safetensors"
    broken.write_bytes(b"\x08\x00\x00\x00\x00\x00\x00\x00{}garbage")
    with pytest.raises(WeightsError, match="not a styler style network"):
        read_network(broken)
    with pytest.raises(WeightsError, match="cannot read"):
        read_network(tmp_path / "missing.safetensors")


def test_unknown_shipped_style_lists_known_ones() -> None:
    with pytest.raises(OptionsError, match="unknown fast style 'nope'"):
        find_style("nope")
    entry = StyleEntry(name="x", file="x.safetensors", sha256="", title="T", artist="A", year="1")
    assert entry.caption() == "T — A, 1"


@pytest.fixture
def textured_net_file(tmp_path: Path) -> Path:
    """An untrained network with a strong output, so its texture shows any seam."""
    torch.manual_seed(0)
    net = StyleNetwork(TINY)
    with torch.no_grad():
        net.decoder[-1].weight.mul_(3.0)
    path = tmp_path / "textured.safetensors"
    save_network(net, path, {"styles": ["noise"]})
    return path


def test_tiles_match_whole_image_without_seams(textured_net_file: Path) -> None:
    """Shared normalisation statistics + multi-band joins: tiles look like one pass."""
    photo = np.asarray(load_image(GALLERY / "photos" / "chelsea.jpg").rgb.resize((384, 256)))
    whole = FastStylizer(textured_net_file, device="cpu", tile=4096).stylize_array(photo)
    whole = whole.astype(float)
    tiled_stylizer = FastStylizer(textured_net_file, device="cpu", tile=128, overlap=48,
                                  whole_side=128)  # fmt: skip
    tiled = tiled_stylizer.stylize_array(photo)
    # Naive tiling for reference: each tile alone, its own statistics, hard cuts.
    naive = np.zeros_like(whole)
    for top in range(0, 256, 128):
        for left in range(0, 384, 128):
            tile = photo[top : top + 128, left : left + 128]
            naive[top : top + 128, left : left + 128] = tiled_stylizer.stylize_array(tile)
    assert np.abs(tiled - whole).mean() < 0.5 * np.abs(naive - whole).mean()
    border, rest = border_gradients(tiled, tile_grid(256, 384, 128, 48))
    print(f"fast tiles: mean gradient {border:.2f} across borders, {rest:.2f} elsewhere")
    assert border <= rest


def test_batches_of_same_size_match_single_runs(net_file: Path) -> None:
    stylizer = FastStylizer(net_file, device="cpu")
    photos = [np.asarray(gradient_photo(48, 40, seed=s)) for s in range(3)]
    photos.append(np.asarray(gradient_photo(40, 48)))
    batched = stylizer.stylize_arrays(photos, batch=2)
    for photo, out in zip(photos, batched, strict=True):
        assert np.abs(out.astype(int) - stylizer.stylize_array(photo).astype(int)).max() <= 1


def _photo_folder(folder: Path, count: int) -> Path:
    folder.mkdir()
    for seed in range(count):
        gradient_photo(80, 64, seed=seed).save(folder / f"p{seed}.png")
    return folder


@pytest.fixture
def training_setup(tmp_path: Path) -> dict:
    style = tmp_path / "style.png"
    stripe_style().save(style)
    return {
        "styles": [str(style)],
        "data": str(_photo_folder(tmp_path / "train", 4)),
        "val": str(_photo_folder(tmp_path / "val", 2)),
        "crop": 48,
        "batch": 2,
        "val_count": 2,
        "style_size": 64,
        "widths": TINY.widths,
        "res_blocks": TINY.res_blocks,
        "eval_every": 2,
        "checkpoint_every": 2,
        "warmup": 1,
    }


def test_training_crops_span_the_short_side_and_skip_bad_files(tmp_path: Path) -> None:
    folder = _photo_folder(tmp_path / "train", 2)
    gradient_photo(40, 90, seed=9).save(folder / "portrait.png")
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    crops = PhotoCrops(folder, crop=32)
    assert sorted(min(p.size) for p in crops.photos) == [32, 32, 32]
    assert len(crops.skipped) == 1 and "broken.jpg" in crops.skipped[0]
    batch = crops.batch(5, random.Random(3))
    assert batch.shape == (5, 3, 32, 32)
    assert torch.equal(batch, crops.batch(5, random.Random(3)))  # a pure function of the rng


def test_training_lowers_val_loss_logs_and_keeps_best(training_setup, tmp_path) -> None:
    # Weighted towards content: in 8 steps this tiny network learns the content term
    # reliably, while the stripe style's Grams need far more steps than a unit test has.
    config = TrainConfig(output=str(tmp_path / "a.safetensors"), steps=8, learning_rate=1e-2,
                         content_weight=1.0, style_weight=0.2, **training_setup)  # fmt: skip
    state = Trainer(config).run()
    log = [json.loads(line) for line in config.log_path().read_text().splitlines()]
    assert [e["step"] for e in log] == [2, 4, 6, 8]
    assert log[-1]["val_loss"] < log[0]["val_loss"]
    assert state.best_val == min(e["val_loss"] for e in log)
    _, info = read_network(config.output)
    assert info["step"] == state.best_step and info["val_loss"] == pytest.approx(state.best_val)


def test_resume_continues_exactly(training_setup, tmp_path) -> None:
    straight = TrainConfig(output=str(tmp_path / "s.safetensors"), steps=4, **training_setup)
    Trainer(straight).run()
    split = TrainConfig(output=str(tmp_path / "r.safetensors"), steps=4, **training_setup)
    first = Trainer(split)
    first.run(should_stop=lambda: first.state.step >= 2)  # as if killed after step 2
    resumed = Trainer(split, resume=True)
    assert resumed.state.step == 2
    resumed.run()
    a, _ = read_network(straight.output)
    b, _ = read_network(split.output)
    for (name, x), y in zip(a.state_dict().items(), b.state_dict().values(), strict=True):
        assert torch.allclose(x, y, atol=1e-5), name


def test_resume_refuses_a_checkpoint_of_other_settings(training_setup, tmp_path) -> None:
    config = TrainConfig(output=str(tmp_path / "c.safetensors"), steps=2, **training_setup)
    Trainer(config).run()
    changed = TrainConfig(**{**asdict(config), "style_weight": 3.0, "learning_rate": 0.5})
    with pytest.raises(OptionsError) as refused:
        Trainer(changed, resume=True)
    message = str(refused.value)
    assert str(config.checkpoint_path()) in message and "\n" not in message
    assert "style weight 1.0 -> 3.0" in message and "learning rate" in message
    # The same painting moved elsewhere, and a longer schedule, continue the run.
    moved = tmp_path / "moved" / Path(config.styles[0]).name
    moved.parent.mkdir()
    moved.write_bytes(Path(config.styles[0]).read_bytes())
    longer = TrainConfig(**{**asdict(config), "styles": [str(moved)], "steps": 4})
    assert Trainer(longer, resume=True).state.step == 2


def test_fine_tuning_freezes_encoder_first(training_setup, tmp_path, net_file) -> None:
    config = TrainConfig(output=str(tmp_path / "f.safetensors"), steps=2, base=str(net_file),
                         freeze_fraction=1.0, **training_setup)  # fmt: skip
    trainer = Trainer(config)
    before = {k: v.clone() for k, v in trainer.net.state_dict().items()}
    trainer.run()
    after = trainer.net.state_dict()
    assert torch.equal(before["encoder.1.0.weight"], after["encoder.1.0.weight"])
    assert not torch.equal(before["decoder.0.1.weight"], after["decoder.0.1.weight"])
    assert not torch.equal(before["encoder.1.1.weight"], after["encoder.1.1.weight"])  # a norm


def test_kill_9_then_resume_loses_at_most_one_interval(training_setup, tmp_path) -> None:
    out = tmp_path / "k.safetensors"
    command = [sys.executable, "-m", "styler.cli.main", "train", "--quiet", "--style",
               *training_setup["styles"], "--data", training_setup["data"], "--val",
               training_setup["val"], "-o", str(out), "--steps", "400", "--crop", "48",
               "--batch", "1", "--val-count", "1", "--style-size", "64", "--eval-every", "5",
               "--checkpoint-every", "5"]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    proc = subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True)
    ckpt = out.with_suffix(".ckpt")
    deadline = time.time() + 120
    while not ckpt.exists() and time.time() < deadline:
        time.sleep(0.2)
    time.sleep(1.0)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    saved = torch.load(ckpt, weights_only=True)
    done = json.loads(saved["state"])["step"]
    assert done >= 5 and done % 5 == 0
    resumed = subprocess.run([*command[:-4], "--steps", str(done + 5), "--eval-every", "5",
                              "--checkpoint-every", "5", "--resume"],
                             env=env, capture_output=True, text=True, timeout=300)  # fmt: skip
    assert resumed.returncode == 0, resumed.stderr
    log = out.with_suffix(".log.jsonl").read_text().splitlines()
    steps = [json.loads(line)["step"] for line in log]
    assert steps == list(range(5, done + 6, 5))  # evaluations after the checkpoint are redone
    refused = subprocess.run([*command, "--style-weight", "9", "--resume"], env=env,
                             capture_output=True, text=True, timeout=300)  # fmt: skip
    assert refused.returncode != 0
    assert refused.stderr.count("\n") == 1 and "style weight 1.0 -> 9.0" in refused.stderr


def test_onnx_export_matches_pytorch(net_file: Path, tmp_path: Path) -> None:
    ort = pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    from styler.fast.export import export_onnx

    net, _ = read_network(net_file)
    for half, tolerance in ((False, 1e-4), (True, 2e-2)):
        path = export_onnx(net, tmp_path / f"net{half}.onnx", half=half)
        operators = [node.op_type for node in onnx.load(str(path)).graph.node]
        assert operators.count("InstanceNormalization") == len(list(net.norms()))
        assert "ReduceMean" not in operators  # no norm spelt out in nine nodes
        # the space-to-depth is a convolution that picks pixels, kept in float by int8
        # quantization with the first and last convolutions that compute
        first, last, picking = float_convs(path)
        assert "encoder.0" in picking and "encoder.1" in first and "decoder.2" in last
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        for shape in ((1, 3, 37, 53), (2, 3, 64, 80)):  # dynamic batch, height and width
            x = torch.rand(shape)
            with torch.no_grad():
                expected = net(x).clamp(0, 1).numpy()
            got = session.run(None, {"image": x.numpy()})[0]
            error = float(np.abs(got - expected).max())
            print(f"onnx half={half} shape={shape}: max abs error {error:.2e}")
            assert got.shape == expected.shape and error < tolerance


def test_cli_fast_mode_and_export(net_file: Path, tmp_path: Path) -> None:
    from styler.imageio import read_settings

    photo = tmp_path / "photo.png"
    gradient_photo(70, 50).save(photo)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    run = [sys.executable, "-m", "styler.cli.main"]
    done = subprocess.run([*run, "stylize", str(photo), "--fast", str(net_file), "-o",
                           str(tmp_path / "out"), "--quiet"],
                          env=env, capture_output=True, text=True, timeout=120)  # fmt: skip
    assert done.returncode == 0, done.stderr
    out = Path(done.stdout.strip())
    assert out.name == "photo__net.png"
    settings = read_settings(out)
    assert settings["mode"] == "fast" and settings["engine"]["network"] == {"styles": ["stripes"]}
    both = [*run, "stylize", str(photo), "--fast", str(net_file), "--style", str(photo)]
    both = subprocess.run(both, env=env, capture_output=True, text=True, timeout=120)
    assert both.returncode == 2 and "either --style" in both.stderr


def test_onnx_backend_matches_pytorch_and_exports_once(
    net_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    import styler.fast.export as export

    monkeypatch.setenv("STYLER_CACHE_DIR", str(tmp_path / "cache"))
    photo = np.asarray(gradient_photo(72, 56))
    reference = FastStylizer(net_file, device="cpu", backend="torch").stylize_array(photo)
    fast = FastStylizer(net_file, device="cpu", backend="onnx").stylize_array(photo)
    assert np.abs(fast.astype(int) - reference.astype(int)).max() <= 1
    assert len(list((tmp_path / "cache" / "onnx").glob("*.onnx"))) == 1

    def no_export(*_args, **_kwargs):
        raise AssertionError("the cached export should have been reused")

    monkeypatch.setattr(export, "export_onnx", no_export)
    again = FastStylizer(net_file, device="cpu", backend="onnx")
    assert np.array_equal(again.stylize_arrays([photo, photo])[1], fast)
    with pytest.raises(OptionsError, match="backend must be one of"):
        FastStylizer(net_file, device="cpu", backend="tensorrt")
    monkeypatch.undo()
    monkeypatch.setenv("STYLER_CACHE_DIR", str(tmp_path / "cache"))
    # A cached export changed on disk (damaged, or swapped) is exported again, never run.
    cached = next((tmp_path / "cache" / "onnx").glob("*.onnx"))
    cached.write_bytes(cached.read_bytes()[:-64] + b"\0" * 64)
    repaired = FastStylizer(net_file, device="cpu", backend="onnx").stylize_array(photo)
    assert np.array_equal(repaired, fast)


def test_onnx_export_falls_back_to_the_dynamo_exporter(
    net_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    import styler.fast.export as export

    def unavailable(*_args, **_kwargs):
        raise RuntimeError("no TorchScript exporter in this torch")

    monkeypatch.setattr(export, "_export_torchscript", unavailable)
    net, _ = read_network(net_file)
    path = export.export_onnx(net, tmp_path / "dynamo.onnx")
    x = torch.rand(1, 3, 45, 70)
    with torch.no_grad():
        expected = net(x).clamp(0, 1).numpy()
    session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    assert np.abs(session.run(None, {"image": x.numpy()})[0] - expected).max() < 1e-4


def test_int8_graphs_pad_the_quantized_tensor_and_paint_the_same(
    net_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The quantizer leaves each convolution's reflect padding in float, before the
    QuantizeLinear; quantize_int8 moves it after, where it copies bytes instead of floats.
    Quantizing is per element and padding only copies, so not one output value changes."""
    ort = pytest.importorskip("onnxruntime")
    onnx = pytest.importorskip("onnx")
    pytest.importorskip("onnxscript")
    import styler.quantize as quantize
    from styler.fast.export import export_onnx

    net, _ = read_network(net_file)
    float_graph = export_onnx(net, tmp_path / "net.onnx")
    rng = np.random.default_rng(0)
    feeds = [{"image": rng.random((1, 3, 40, 56), np.float32)} for _ in range(3)]
    monkeypatch.setattr(quantize, "pad_after_quantizing", lambda _path: 0)
    plain = quantize.quantize_int8(float_graph, tmp_path / "plain.onnx", feeds, operators=["Conv"])
    monkeypatch.undo()
    moved = tmp_path / "moved.onnx"
    moved.write_bytes(plain.read_bytes())

    def pads_by_reader_and_source(path: Path) -> tuple[int, int]:
        """(Pads a QuantizeLinear reads, Pads that read a QuantizeLinear)."""
        nodes = onnx.load(str(path)).graph.node
        made_by = {output: node.op_type for node in nodes for output in node.output}
        read_by = {name: node.op_type for node in nodes for name in node.input}
        pads = [node for node in nodes if node.op_type == "Pad"]
        return (sum(read_by.get(pad.output[0]) == "QuantizeLinear" for pad in pads),
                sum(made_by.get(pad.input[0]) == "QuantizeLinear" for pad in pads))  # fmt: skip

    before_int8_convolutions, _ = pads_by_reader_and_source(plain)
    assert before_int8_convolutions >= 4  # every convolution's but the first and last
    assert quantize.pad_after_quantizing(moved) == before_int8_convolutions
    assert pads_by_reader_and_source(moved) == (0, before_int8_convolutions)
    image = rng.random((1, 3, 45, 61), np.float32)
    outputs = [ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
               .run(None, {"image": image})[0] for path in (plain, moved)]  # fmt: skip
    assert np.array_equal(*outputs)
