"""Device choice and CPU thread setup."""

from __future__ import annotations

import os

import torch

from styler.errors import OptionsError


def use_all_cores() -> None:
    """Let torch use every core unless the user pinned a thread count."""
    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(max(1, len(os.sched_getaffinity(0))))


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' picks cuda, then mps, then cpu; an explicit name must be usable here."""
    if name == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda")
        if getattr(torch.backends, "mps", None) and torch.backends.mps.is_available():
            return torch.device("mps")
        return torch.device("cpu")
    try:
        device = torch.device(name)
    except RuntimeError as exc:
        raise OptionsError(f"unknown device {name!r}: use auto, cpu, cuda, cuda:N or mps") from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise OptionsError(f"device {name!r} asked for, but no CUDA GPU is available here")
    if device.type == "mps" and not torch.backends.mps.is_available():
        raise OptionsError(f"device {name!r} asked for, but Apple MPS is not available here")
    return device


def autocast_dtype(device: torch.device, cpu_bf16: bool = False) -> torch.dtype | None:
    """Half precision for VGG where it is faster; None (full fp32) elsewhere.

    GPUs always qualify. CPUs with native bfloat16 (AVX512-BF16, AMX) run VGG about
    1.6x faster in bf16; `cpu_bf16` opts in, for training, whose many noisy steps do
    not mind the lower precision the way L-BFGS's line search does.
    """
    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu" and cpu_bf16 and _cpu_has_bf16():
        return torch.bfloat16
    return None


def _cpu_has_bf16() -> bool:
    try:
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())
    except (AttributeError, RuntimeError):
        return False
