"""Device choice and CPU thread setup."""

from __future__ import annotations

import logging
import os

import torch

from styler.errors import OptionsError

log = logging.getLogger("styler")

THREADS_ENV = "STYLER_THREADS"  # N >= 1: torch runs N threads; 0: styler leaves torch alone
PINNING_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")  # torch's own default follows these
_TORCH_DEFAULT = torch.get_num_threads()  # torch's count as it was when styler was imported
_applied: int | None = None  # the count use_all_cores last set, if any


def usable_cores() -> int:
    """The CPU cores this process may run on: its affinity mask where the OS has one
    (Linux), otherwise every core (macOS and Windows have no os.sched_getaffinity)."""
    counter = getattr(os, "process_cpu_count", None)  # Python 3.13+: honours the mask
    if counter is not None:
        count = counter()
    elif hasattr(os, "sched_getaffinity"):
        count = len(os.sched_getaffinity(0))
    else:
        count = os.cpu_count()
    return max(1, count or 1)


def use_all_cores() -> int:
    """Give torch one thread per usable core, unless someone chose a count; returns the count.

    torch.set_num_threads is process-wide, so Stylizer(), FastStylizer(), `styler train` and
    tools/build_weights.py, which call this, change it only where nobody else decided:

    - STYLER_THREADS=N (N >= 1) sets N threads; STYLER_THREADS=0 leaves torch's count as it is;
    - otherwise, with OMP_NUM_THREADS or MKL_NUM_THREADS set, torch already follows that
      variable, and its count is left alone;
    - otherwise, while torch's count is still its own default (its value when styler was
      imported) or the count this function set before, it becomes `usable_cores()`: torch
      defaults to the physical cores, which leaves hyper-threads idle and oversubscribes a
      process pinned to fewer cores;
    - a count the host program set itself with torch.set_num_threads is left alone.

    What it decided is logged on the "styler" logger: INFO when it changed the count,
    DEBUG when it left it. Raises OptionsError for a STYLER_THREADS that is not a count.
    """
    current = torch.get_num_threads()
    raw = os.environ.get(THREADS_ENV, "").strip()
    if raw:
        try:
            wanted = int(raw)
        except ValueError:
            wanted = -1
        if wanted < 0:
            raise OptionsError(f"{THREADS_ENV} must be a number of threads, 0 or more: {raw!r}")
        if wanted == 0:
            log.debug("%s=0: leaving torch at %d threads", THREADS_ENV, current)
            return current
        return _set_threads(wanted, current, f"{THREADS_ENV}={wanted}")
    pinned = [name for name in PINNING_ENV if name in os.environ]
    if pinned:
        log.debug("%s is set: leaving torch at %d threads", pinned[0], current)
        return current
    if current not in (_TORCH_DEFAULT, _applied):
        log.debug("torch's thread count was set by the program (%d): leaving it", current)
        return current
    return _set_threads(usable_cores(), current, "one per usable core")


def _set_threads(count: int, current: int, reason: str) -> int:
    global _applied
    if count != current:
        torch.set_num_threads(count)
        log.info("torch threads: %d -> %d (%s)", current, count, reason)
    else:
        log.debug("torch threads: already %d (%s)", count, reason)
    _applied = count
    return count


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


def autocast_dtype(device: torch.device, cpu_bf16: bool = True) -> torch.dtype | None:
    """Half precision for VGG where it is faster; None (full fp32) elsewhere.

    GPUs always qualify. CPUs with native bfloat16 (AVX512-BF16, AMX) run VGG faster in
    bf16 at the same quality, in training and in optimizer mode alike (docs/performance.md
    has the figures and the commands that measure them); elsewhere bf16 is emulated and
    slower, so fp32 stays. `cpu_bf16=False` keeps fp32 on every CPU (training's --no-bf16).
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
