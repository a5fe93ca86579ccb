"""Export a style network to ONNX, for apps that run it without PyTorch.

The graph takes `image` (N, 3, H, W) float RGB in [0, 1] and returns
`stylized` of the same shape; N, H and W are dynamic. `half` stores the
weights in float16 (half the file) while keeping float32 inputs and outputs.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import nn

from styler.errors import StylerError
from styler.fast.network import StyleNetwork
from styler.onnx_models import OPSET, store_weights_as_half
from styler.quiet import silenced


class _Clamped(nn.Module):
    """The network plus the clamp every consumer would otherwise have to remember."""

    def __init__(self, network: StyleNetwork) -> None:
        super().__init__()
        self.network = network

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return self.network(image).clamp(0, 1)


def export_onnx(network: StyleNetwork, path: str | Path, half: bool = False) -> Path:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    model = _Clamped(network.float().eval())
    tmp = path.with_name(f".{path.name}.tmp")
    with silenced():
        try:
            _export_torchscript(model, tmp)
        except Exception:  # a torch without the TorchScript exporter: use the dynamo one
            _export_dynamo(model, tmp)
    if half:
        store_weights_as_half(tmp)
    tmp.replace(path)
    return path


def _example() -> torch.Tensor:
    return torch.rand(1, 3, 61, 90)  # not a multiple of 8: the padding path is traced too


def _export_torchscript(model: nn.Module, path: Path) -> None:
    """The TorchScript-based exporter: many times faster than the dynamo one (figures in
    docs/performance.md), which matters because fast mode exports each network the first
    time it runs."""
    axes = {0: "batch", 2: "height", 3: "width"}
    torch.onnx.export(
        model,
        (_example(),),
        str(path),
        dynamo=False,
        opset_version=OPSET,
        input_names=["image"],
        output_names=["stylized"],
        dynamic_axes={"image": axes, "stylized": axes},
    )


def _export_dynamo(model: nn.Module, path: Path) -> None:
    try:
        import onnx  # noqa: F401  (the exporter needs it; say so clearly if missing)
        import onnxscript  # noqa: F401
    except ImportError as exc:
        raise StylerError("ONNX export needs: pip install onnx onnxscript") from exc
    batch = torch.export.Dim("batch", min=1, max=64)
    height = torch.export.Dim("height", min=1, max=16384)
    width = torch.export.Dim("width", min=1, max=16384)
    program = torch.onnx.export(
        model,
        (_example(),),
        dynamo=True,
        opset_version=OPSET,
        input_names=["image"],
        output_names=["stylized"],
        dynamic_shapes={"image": {0: batch, 2: height, 3: width}},
        verbose=False,
    )
    program.save(str(path))
