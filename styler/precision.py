"""Which number format a one-pass network runs in: the `precision` control resolved.

`auto` takes int8 only where it pays and is safe: the CPU has int8 dot-product
instructions (without them onnxruntime's int8 kernels are slower than float ones), and the
model's int8 version was measured within the quality bound and faster than the float it
would replace when it was quantized (styler.int8_models.Int8Graph.pays_against). Else it
takes the best float the device computes natively: bfloat16 on CPUs with AVX512-BF16/AMX,
float16 or bfloat16 on GPUs, float32 elsewhere. Thin networks can run faster in bfloat16
than in int8, so on a CPU with both int8 must beat bfloat16, not only float32.
"""

from __future__ import annotations

import os
import platform
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING

from styler.controls import PRECISIONS
from styler.errors import OptionsError

if TYPE_CHECKING:
    import torch

    from styler.int8_models import Int8Graph

AUTO, FP32, BF16, FP16, INT8 = PRECISIONS
EXPORT_PRECISIONS = (FP32, FP16, INT8)  # what `styler export` writes graphs in
# x86 int8 dot products (VNNI), ARM's (SDOT/UDOT), and AMX: what onnxruntime's int8
# convolutions need to beat float ones.
INT8_DOT_FLAGS = ("avx512_vnni", "avx_vnni", "amx_int8", "asimddp")
# numpy's names for those of INT8_DOT_FLAGS its run-time CPU detection knows (it names no
# AVX-VNNI or AMX): where there is no /proc/cpuinfo to read (Windows, macOS on Intel) they
# stand in for its flags.
NUMPY_INT8_DOT = {"AVX512VNNI": "avx512_vnni", "ASIMDDP": "asimddp"}
# What makes an x86 CPU compute bfloat16 natively: AVX512-BF16, or AMX.
NATIVE_BF16_FLAGS = ("avx512_bf16", "amx_tile")
# Set (to anything but "" or "0") to treat this CPU as one without int8 dot products:
# how tests check auto's fallback on a CPU that has them.
NO_INT8_DOT_ENV = "STYLER_NO_INT8_DOT"


def cpuinfo_value(*keys: str) -> str:
    """The value on /proc/cpuinfo's first line that starts with one of `keys` ("flags",
    "model name"), "" where there is none (or no /proc: not Linux)."""
    try:
        with open("/proc/cpuinfo", encoding="ascii", errors="replace") as info:
            for line in info:
                if line.startswith(keys):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


@cache
def _cpu_flags() -> frozenset[str]:
    """The CPU's flags as /proc/cpuinfo names them (x86 "flags", ARM "Features"); where
    there is none, the int8 dot-product ones numpy's run-time detection finds."""
    flags = cpuinfo_value("flags", "Features").split()
    if flags:
        return frozenset(flags)
    found = numpy_cpu_features()
    return frozenset(flag for name, flag in NUMPY_INT8_DOT.items() if name in found)


def numpy_cpu_features() -> frozenset[str]:
    """The features numpy detected on this CPU at import (on every system), by its names."""
    try:
        from numpy._core._multiarray_umath import __cpu_features__ as features
    except ImportError:  # numpy 1.x
        from numpy.core._multiarray_umath import __cpu_features__ as features
    return frozenset(name for name, present in features.items() if present)


def cpu_has_int8_dot() -> bool:
    """True where int8 convolutions run faster than float ones (see INT8_DOT_FLAGS)."""
    if os.environ.get(NO_INT8_DOT_ENV, "") not in ("", "0"):
        return False
    if platform.system() == "Darwin" and platform.machine() == "arm64":
        return True  # every Apple Silicon core has the dot-product instructions
    return bool(_cpu_flags() & set(INT8_DOT_FLAGS))


def float_dtype(precision: str) -> torch.dtype | None:
    """The PyTorch type of a half precision (bf16, fp16), None for the others."""
    if precision not in (BF16, FP16):
        return None
    import torch

    return torch.bfloat16 if precision == BF16 else torch.float16


def x86_native_bf16() -> bool | None:
    """Whether this x86 CPU computes bfloat16 natively, told from its /proc/cpuinfo flags
    as PyTorch's own check tells it (styler.device.cpu_has_native_bf16), without importing
    PyTorch; None where the flags cannot tell (not x86, or no /proc/cpuinfo)."""
    from styler.device import X86_MACHINES

    flags = cpuinfo_value("flags").split()
    if platform.machine().lower() not in X86_MACHINES or not flags:
        return None
    return bool(set(flags) & set(NATIVE_BF16_FLAGS))


def best_float(device_type: str) -> str:
    """The float format a device of this type computes fastest at no loss we can see:
    bf16/fp16 or fp32. An x86 CPU's is told from its flags, so that onnxruntime's passes
    (which would run fp32 or int8) need not import PyTorch to learn it."""
    native = x86_native_bf16() if device_type == "cpu" else None
    if native is not None:
        return BF16 if native else FP32
    import torch

    from styler.device import autocast_dtype

    dtype = autocast_dtype(torch.device(device_type))
    if dtype is None:
        return FP32
    return BF16 if dtype == torch.bfloat16 else FP16


def resolve_precision(
    requested: str, device_type: str, int8: Sequence[Int8Graph], float_choice: str = ""
) -> str:
    """The precision a run on a device of `device_type` ("cpu", "cuda", "mps") uses:
    `requested`, or for auto the one the module docstring says (`float_choice`, where given,
    instead of the device's best float).

    int8: the shipped int8 graphs the model would run as (none: it has no int8 version).
    """
    if requested not in PRECISIONS:
        raise OptionsError(f"precision must be one of {', '.join(PRECISIONS)}, not {requested!r}")
    if requested == INT8 and device_type != "cpu":
        raise OptionsError("int8 runs on the CPU (onnxruntime); choose --device cpu or a float")
    if requested != AUTO:
        return requested
    float_choice = float_choice or best_float(device_type)
    pays = bool(int8) and all(graph.pays_against(float_choice) for graph in int8)
    if device_type == "cpu" and pays and cpu_has_int8_dot():
        return INT8
    return float_choice
