"""What this machine runs styler as: its CPU's instructions, the device, the precision `auto`
takes in each mode, the optional packages and where the networks and caches live.

Why: the same command runs several times faster or slower depending on facts a user cannot
see (an AVX-512 CPU without native bf16 once ran VGG19 three times slower than it had to,
docs/performance.md), and a bug report needs them. `styler info` prints it; apps call
machine_report() for the same facts as a dict.
"""

from __future__ import annotations

import importlib.metadata
import platform
from dataclasses import asdict, dataclass, field
from typing import Any

from styler.precision import AUTO, best_float, cpu_has_int8_dot, cpuinfo_value

# Optional and required packages whose versions matter to a report, by distribution name.
PACKAGES = ("torch", "torchvision", "onnxruntime", "numpy", "pillow", "opencv-python-headless",
            "av", "pillow-heif", "rawpy", "gradio", "ray")  # fmt: skip


@dataclass
class MachineReport:
    """Everything `styler info` says, as data."""

    styler: str
    python: str
    system: str  # "Linux x86_64"
    cpu: str
    cores: int  # the cores this process may use
    cpu_quota: int | None  # whole CPUs its control group allows (a container's), if limited
    cpu_features: dict[str, bool]
    device: str  # what --device auto picks
    precision: dict[str, str]  # mode -> what --precision auto runs
    packages: dict[str, str | None]  # None: not installed
    places: dict[str, str]
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def machine_report() -> MachineReport:
    """The report; loads PyTorch (the device and the float choices need it) and instant
    mode's networks (its precision is decided on them)."""
    from styler.device import cgroup_cpu_limit, cpu_has_native_bf16, resolve_device, usable_cores
    from styler.fast.manifest import user_styles_dir, weights_dir
    from styler.onnx_models import cache_dir
    from styler.settings import styler_version

    device = resolve_device("auto")
    notes: list[str] = []
    features = {
        "avx2": _torch_cpu_check("_is_avx2_supported"),
        "avx512": _torch_cpu_check("_is_avx512_supported"),
        "int8_dot_products": cpu_has_int8_dot(),
        "native_bf16": cpu_has_native_bf16(),
    }
    return MachineReport(
        styler=styler_version(),
        python=platform.python_version(),
        system=f"{platform.system()} {platform.machine()}",
        cpu=_cpu_name(),
        cores=usable_cores(),
        cpu_quota=cgroup_cpu_limit(),
        cpu_features=features,
        device=_device_name(device),
        precision=_auto_precisions(device, notes),
        packages={name: _version(name) for name in PACKAGES},
        places={
            "weights": str(weights_dir()),
            "your_styles": str(user_styles_dir()),
            "cache": str(cache_dir()),
        },
        notes=notes,
    )


def _torch_cpu_check(name: str) -> bool:
    import torch

    check = getattr(torch.cpu, name, None)
    return bool(check()) if check is not None else False


def _cpu_name() -> str:
    return cpuinfo_value("model name") or platform.processor() or "unknown"


def _device_name(device: Any) -> str:
    if device.type == "cuda":
        import torch

        return f"cuda ({torch.cuda.get_device_name(device)})"
    return device.type


def _auto_precisions(device: Any, notes: list[str]) -> dict[str, str]:
    """What `--precision auto` runs in each mode on `device` (Quality mode has no precision
    control: its VGG19 runs in the device's best float)."""
    from styler.fast.manifest import read_manifest
    from styler.fast.runtime import Painter, fast_precision
    from styler.fast.weights import read_network
    from styler.onnx_models import onnxruntime_installed

    choices = {"quality": best_float(device.type)}
    if device.type == "cpu" and not onnxruntime_installed():
        notes.append("onnxruntime is not installed: fast and instant mode run in PyTorch")
    fast = [  # each shipped style as fast mode holds it; its network is never loaded here
        fast_precision(Painter(entry.name, entry.sha256,
                               lambda entry=entry: read_network(entry.path, entry.sha256)[0]),
                       AUTO, device.type).name
        for entry in read_manifest()
        if not entry.base
    ]  # fmt: skip
    choices["fast"] = ", ".join(f"{name} ({fast.count(name)} of {len(fast)} shipped styles)"
                                for name in dict.fromkeys(fast)) or "no shipped styles"  # fmt: skip
    choices["instant"] = _instant_precision(device, notes)
    return choices


def _instant_precision(device: Any, notes: list[str]) -> str:
    from styler.errors import StylerError
    from styler.instant.stylizer import networks_on

    try:
        return networks_on(str(device), AUTO).precision
    except StylerError as exc:
        notes.append(f"instant mode: {exc}")
        return "unavailable"


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None
