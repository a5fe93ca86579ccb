"""Conversions between PIL images and (1, 3, H, W) float tensors in [0, 1], and resizing."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from styler.progress import running_steps


def to_tensor(image: Image.Image, device: torch.device | str = "cpu") -> torch.Tensor:
    array = np.asarray(image.convert("RGB"), dtype=np.float32) / 255.0
    return torch.from_numpy(array).permute(2, 0, 1).unsqueeze(0).contiguous().to(device)


def to_image(tensor: torch.Tensor) -> Image.Image:
    array = tensor.detach()[0].float().clamp(0, 1).mul(255).round().byte()
    return Image.fromarray(array.permute(1, 2, 0).cpu().numpy(), "RGB")


def resize_tensor(tensor: torch.Tensor, size: tuple[int, int]) -> torch.Tensor:
    """Resize (N, C, H, W) to (width, height) with antialiased bicubic interpolation."""
    w, h = size
    if tensor.shape[-2:] == (h, w):
        return tensor
    return F.interpolate(tensor, size=(h, w), mode="bicubic", align_corners=False, antialias=True)


def check_between_layers(module: torch.nn.Module) -> torch.nn.Module:
    """Let a cancel stop `module` between two of its layers, not only after a whole pass:
    a pass over a large tile takes seconds. The hook reads the steps of the run on the
    calling thread (styler.progress.cancel_scope), so runs sharing the module never stop
    each other."""
    if getattr(module, "_styler_checked", False):
        return module

    def check(_module: torch.nn.Module, _inputs: object) -> None:
        steps = running_steps()
        if steps is not None:
            steps.check()

    for layer in module.modules():
        if not list(layer.children()):
            layer.register_forward_pre_hook(check)
    module._styler_checked = True  # type: ignore[assignment]
    return module
