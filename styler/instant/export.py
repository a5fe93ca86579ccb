"""Instant mode as two ONNX graphs and a small JSON: what an app needs to run it without
PyTorch (docs/embedding.md has a complete one).

- `encoder.onnx`: the photo's: `image` (1, 3, H, W) float RGB in [0, 1], H and W multiples
  of 8 -> `features` (1, 512, H/8, W/8): relu4_1 features, from the student encoder
  distilled from VGG19 (styler.instant.student), preprocessing inside;
- `style_encoder.onnx`: the painting's, the same inputs and outputs: VGG19 to relu4_1 (run
  once per painting: its statistics are what the decoder paints);
- `decoder.onnx`: `features` -> `image` (1, 3, H, W) in [0, 1], already clamped;
- `instant.json`: the numbers the transform between them uses (stride, eigenvalue floor,
  the pass's long side, the style image's size limits).

The whitening-colouring transform stays outside the graphs: it is one eigen-decomposition
of two 512x512 covariances, which numpy does in milliseconds and ONNX has no operator for.
"""

from __future__ import annotations

import json
from pathlib import Path

import torch
from torch import nn

from styler.imageio import atomic_write_bytes
from styler.instant.decoder import LEVELS, Decoder
from styler.instant.student import StudentEncoder
from styler.instant.wct import EIGEN_FLOOR
from styler.onnx_models import trace_to_onnx
from styler.vgg import VGG19Features

LEVEL = "relu4_1"
ENCODER, STYLE_ENCODER = "encoder.onnx", "style_encoder.onnx"
DECODER, DESCRIPTION = "decoder.onnx", "instant.json"
FRAMES_DECODER = "frames_decoder.onnx"  # decoder.onnx's stand-in for a video's frames


class _Encoder(nn.Module):
    def __init__(self, encoder: VGG19Features | StudentEncoder) -> None:
        super().__init__()
        self.encoder = encoder

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.encoder(image, [LEVEL])[LEVEL]


class _ClampedDecoder(nn.Module):
    def __init__(self, decoder: Decoder) -> None:
        super().__init__()
        self.decoder = decoder

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        return self.decoder(features).clamp(0, 1)


def export_encoder(encoder: VGG19Features | StudentEncoder, path: Path) -> None:
    """The encoder to relu4_1 as ONNX (float32), dynamic height and width."""
    example = torch.rand(1, 3, 64, 96)
    trace_to_onnx(_Encoder(encoder).float().eval(), [example], path,
                  {"image": {2: "height", 3: "width"}},
                  {"features": {2: "feature_height", 3: "feature_width"}})  # fmt: skip


def export_decoder(decoder: Decoder, path: Path) -> None:
    """The relu4_1 decoder as ONNX (float32), dynamic height and width."""
    example = torch.rand(1, 512, 8, 12)
    trace_to_onnx(_ClampedDecoder(decoder).float().eval(), [example], path,
                  {"features": {2: "feature_height", 3: "feature_width"}},
                  {"image": {2: "height", 3: "width"}})  # fmt: skip


def describe(stroke_side: int, style_min_side: int, style_max_side: int) -> dict[str, object]:
    """What instant.json says: the transform's and the pass's numbers."""
    return {
        "level": LEVEL,
        "stride": LEVELS[LEVEL][1],
        "eigen_floor": EIGEN_FLOOR,
        "stroke_side": stroke_side,
        "style_min_side": style_min_side,
        "style_max_side": style_max_side,
    }


def write_description(folder: Path, description: dict[str, object]) -> Path:
    path = folder / DESCRIPTION
    atomic_write_bytes(path, (json.dumps(description, indent=2) + "\n").encode())
    return path
