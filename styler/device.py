"""Device choice and CPU thread setup.

PyTorch is imported here only when a choice needs it: fast mode's onnxruntime passes on
the CPU run without it, and importing it is most of a short command's start-up
(docs/performance.md, "Start-up").
"""

from __future__ import annotations

import logging
import math
import os
import platform
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from styler.errors import OptionsError

if TYPE_CHECKING:
    import torch

log = logging.getLogger("styler")

THREADS_ENV = "STYLER_THREADS"  # N >= 1: torch runs N threads; 0: styler leaves torch alone
PINNING_ENV = ("OMP_NUM_THREADS", "MKL_NUM_THREADS")  # torch's own default follows these
# torch's count as it was when styler was imported, or, where torch was not loaded yet, when
# styler first loaded it
_TORCH_DEFAULT: int | None = (
    sys.modules["torch"].get_num_threads() if "torch" in sys.modules else None
)
_applied: int | None = None  # the count use_all_cores last set, if any


def usable_cores() -> int:
    """The CPU cores this process may run on: its affinity mask where the OS has one
    (Linux), otherwise every core (macOS and Windows have no os.sched_getaffinity); and no
    more than its control group's CPU quota (cgroup_cpu_limit: a container's --cpus, a
    Kubernetes pod's CPU limit), where the kernel throttles threads beyond the quota instead
    of running them, so one thread per core of the host would stall every few milliseconds."""
    counter = getattr(os, "process_cpu_count", None)  # Python 3.13+: honours the mask
    if counter is not None:
        count = counter()
    elif hasattr(os, "sched_getaffinity"):
        count = len(os.sched_getaffinity(0))
    else:
        count = os.cpu_count()
    count, limit = max(1, count or 1), cgroup_cpu_limit()
    return count if limit is None else min(count, limit)


CGROUP_ROOT = Path("/sys/fs/cgroup")
SELF_CGROUP = Path("/proc/self/cgroup")


def cgroup_cpu_limit(root: Path = CGROUP_ROOT, membership: Path = SELF_CGROUP) -> int | None:
    """The whole CPUs this process's control groups allow it (the quota over the period,
    rounded down, at least 1), or None where no quota is set or there are no cgroups (not
    Linux). Each group from the process's own up to the root counts (a parent's quota binds
    its children): cgroup v2's cpu.max (under `root`, or `root`/unified on a hybrid
    layout) and v1's cpu.cfs_quota_us over cpu.cfs_period_us."""
    try:
        lines = membership.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return None
    quotas: list[float] = []
    for line in lines:
        hierarchy, controllers, path = (line.split(":", 2) + ["", ""])[:3]
        if hierarchy == "0" and not controllers:
            for base in (root, root / "unified"):
                quotas += [q for d in _groups(base, path) if (q := _v2_quota(d)) is not None]
        elif "cpu" in controllers.split(","):
            base = next((root / name for name in (controllers, "cpu", "cpu,cpuacct")
                         if (root / name).is_dir()), None)  # fmt: skip
            if base is not None:
                quotas += [q for d in _groups(base, path) if (q := _v1_quota(d)) is not None]
    return max(1, math.floor(min(quotas))) if quotas else None


def _groups(base: Path, path: str) -> list[Path]:
    """The group at `path` under the hierarchy's mount `base`, and each group above it."""
    folder = base / path.strip("/")
    groups = [folder, *folder.parents]
    return [group for group in groups if group == base or base in group.parents]


def _v2_quota(group: Path) -> float | None:
    try:
        quota, period = (group / "cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        return None


def _v1_quota(group: Path) -> float | None:
    try:
        quota = int((group / "cpu.cfs_quota_us").read_text())
        period = int((group / "cpu.cfs_period_us").read_text())
    except (OSError, ValueError):
        return None
    return quota / period if quota > 0 and period > 0 else None


def use_all_cores() -> int:
    """Give torch one thread per usable core, unless someone chose a count; returns the count.

    torch.set_num_threads is process-wide, so Stylizer(), FastStylizer(), `styler train` and
    tools/build_weights.py, which call this, change it only where nobody else decided:

    - STYLER_THREADS=N (N >= 1) sets N threads; STYLER_THREADS=0 leaves torch's count as it is;
    - otherwise, with OMP_NUM_THREADS or MKL_NUM_THREADS set, torch already follows that
      variable, and its count is left alone;
    - otherwise, while torch's count is still its own default (_TORCH_DEFAULT) or the
      count this function set before, it becomes `usable_cores()`: torch
      defaults to the physical cores, which leaves hyper-threads idle and oversubscribes a
      process pinned to fewer cores;
    - a count the host program set itself with torch.set_num_threads is left alone.

    What it decided is logged on the "styler" logger: INFO when it changed the count,
    DEBUG when it left it. Raises OptionsError for a STYLER_THREADS that is not a count.
    """
    import torch

    global _TORCH_DEFAULT
    current = torch.get_num_threads()
    if _TORCH_DEFAULT is None:
        _TORCH_DEFAULT = current
    wanted = requested_threads()
    if wanted is not None:
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


def requested_threads() -> int | None:
    """STYLER_THREADS as a count (0: leave torch's alone), None where it is not set;
    OptionsError where it is not a count."""
    raw = os.environ.get(THREADS_ENV, "").strip()
    if not raw:
        return None
    try:
        wanted = int(raw)
    except ValueError:
        wanted = -1
    if wanted < 0:
        raise OptionsError(f"{THREADS_ENV} must be a number of threads, 0 or more: {raw!r}")
    return wanted


def _set_threads(count: int, current: int, reason: str) -> int:
    import torch

    global _applied
    if count != current:
        torch.set_num_threads(count)
        log.info("torch threads: %d -> %d (%s)", current, count, reason)
    else:
        log.debug("torch threads: already %d (%s)", count, reason)
    _applied = count
    return count


def onnx_threads() -> int:
    """Threads for an onnxruntime session: torch's count where PyTorch is loaded (after
    use_all_cores, or as the host program set it), else the count use_all_cores would give
    it: STYLER_THREADS, OMP_NUM_THREADS (which torch would follow), or one per usable core.
    Raises OptionsError for a STYLER_THREADS that is not a count, as use_all_cores does."""
    if "torch" in sys.modules:
        return sys.modules["torch"].get_num_threads()
    wanted = requested_threads()
    if wanted:
        return wanted
    for name in PINNING_ENV:
        raw = os.environ.get(name, "").strip()
        if raw.isdigit() and int(raw) > 0:
            return int(raw)
    return usable_cores()


# What a GPU runtime PyTorch could use leaves on Linux: NVIDIA's driver, AMD's ROCm.
GPU_DRIVER_PATHS = ("/proc/driver/nvidia/version", "/dev/nvidiactl", "/dev/kfd")


def device_type(name: str = "auto") -> str:
    """The kind of device `name` resolves to ("cpu", "cuda", "mps"), asking PyTorch only
    when the answer can be other than the CPU: an explicit GPU, or `auto` where PyTorch is
    loaded already, on macOS or Windows, or where a GPU driver is installed."""
    if name == "cpu":
        return "cpu"
    if name == "auto" and "torch" not in sys.modules and sys.platform.startswith("linux") and (
            not any(Path(path).exists() for path in GPU_DRIVER_PATHS)):  # fmt: skip
        return "cpu"
    return resolve_device(name).type


def resolve_device(name: str = "auto") -> torch.device:
    """'auto' picks cuda, then mps, then cpu; an explicit name must be usable here."""
    import torch

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
    import torch

    if device.type == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device.type == "cpu" and cpu_bf16 and cpu_has_native_bf16():
        return torch.bfloat16
    return None


X86_MACHINES = ("x86_64", "amd64", "i386", "i686")


def cpu_has_native_bf16() -> bool:
    """True where the CPU computes bfloat16 natively. On x86 that is AVX512-BF16 or AMX:
    oneDNN's own check (`_is_mkldnn_bf16_supported`) also says yes on every AVX-512 CPU
    without them (Skylake to Ice Lake servers, and virtual machines that hide AMX), where
    bf16 is emulated and VGG19 runs about three times slower than in fp32
    (`python tools/measure_figures.py vgg-bf16 --emulated` measures it)."""
    import torch

    try:
        if platform.machine().lower() in X86_MACHINES:
            return bool(torch.cpu._is_avx512_bf16_supported() or torch.cpu._is_amx_tile_supported())
        return bool(torch.ops.mkldnn._is_mkldnn_bf16_supported())  # ARM: its BF16 extension
    except (AttributeError, RuntimeError):
        return False
