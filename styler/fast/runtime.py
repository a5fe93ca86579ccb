"""onnxruntime for fast-mode passes on the CPU: faster than PyTorch eager (docs/performance.md).

ONNX Runtime fuses convolution, normalisation and activation and picks blocked
memory layouts for the CPU, which PyTorch's eager mode does not. Each network
is exported once (see styler.fast.export) and cached on disk under a hash of
its parameters, so shipped styles, user-trained networks and parameter blends
all get the fast path; the cache survives between runs. When onnxruntime or
the exporter is missing, or export fails, callers fall back to PyTorch. A network that
comes from a file is known by the file's sha256 (Painter), so its int8 graph and its
cached float export are found, and run, without importing PyTorch at all.
"""

from __future__ import annotations

import copy
import hashlib
import json
import warnings
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from styler.device import onnx_threads
from styler.errors import OptionsError
from styler.fast.manifest import read_manifest
from styler.fast.sizes import check_size
from styler.int8_models import Int8Graph, int8_graph, int8_keys
from styler.onnx_models import (
    OPSET,
    cache_dir,
    cached_graph,
    cpu_session,
    float_planes_to_rgb,
    onnxruntime_installed,
    parameters_digest,
)
from styler.precision import FP32, INT8, float_dtype, resolve_precision

if TYPE_CHECKING:
    import torch

    from styler.fast.network import StyleNetwork

# Bump when the exported graph changes (v4: one InstanceNormalization node per norm; v5: the
# space-to-depth as a pixel-picking convolution).
CACHE_FORMAT = f"styler-onnx-v5-opset{OPSET}"


def network_digest(network: StyleNetwork) -> str:
    """sha256 of the architecture and every parameter: the cache key of its export."""
    digest = hashlib.sha256(CACHE_FORMAT.encode())
    digest.update(json.dumps(network.config.as_dict(), sort_keys=True).encode())
    digest.update(parameters_digest(network).encode())
    return digest.hexdigest()


class OnnxRunner:
    """One network as an onnxruntime session: uint8 RGB photos in, uint8 RGB photos out."""

    def __init__(self, model_path: Path, threads: int) -> None:
        self.session = cpu_session(model_path, threads)

    def run(self, photos: np.ndarray) -> np.ndarray:
        """(N, H, W, 3) uint8 -> (N, H, W, 3) uint8.

        In, one numpy pass (scale while transposing); out, float_planes_to_rgb."""
        n, h, w, _ = photos.shape
        check_size(h, w)  # the graph takes any other size (StyleNetwork pads small ones)
        images = np.empty((n, 3, h, w), np.float32)
        np.multiply(photos.transpose(0, 3, 1, 2), np.float32(1 / 255), out=images)
        (out,) = self.session.run(None, {"image": images})  # already clamped to [0, 1]
        rgb = np.empty((n, h, w, 3), np.uint8)
        for index, planes in enumerate(out):
            float_planes_to_rgb(planes, rgb[index])
        return rgb


def file_graph_key(file_sha256: str) -> str:
    """The cache key of the float export of a network file with this sha256 (the file holds
    the architecture and every parameter, as network_digest hashes them)."""
    return hashlib.sha256(f"{CACHE_FORMAT}:file:{file_sha256}".encode()).hexdigest()


@dataclass(eq=False)
class Painter:
    """One network as fast mode holds it: its name where it is a shipped style's or a file's
    (None for a blend), its file's sha256 where it has a file, and the network in PyTorch,
    loaded by `load` only when something needs it: onnxruntime's graphs are found by the file.
    Not thread-safe: FastStylizer calls it with its lock held."""

    name: str | None
    file_sha256: str | None
    load: Callable[[], StyleNetwork]
    loaded: StyleNetwork | None = None

    def network(self) -> StyleNetwork:
        if self.loaded is None:
            self.loaded = self.load()
        return self.loaded

    def float_graph_key(self) -> str:
        """The cache key of its float export (network_digest, or the file's key)."""
        if self.file_sha256:
            return file_graph_key(self.file_sha256)
        return network_digest(self.network())

    def int8_graph(self) -> Int8Graph | None:
        """The int8 graph shipped for exactly this network's file, if any (a blend has
        none)."""
        if not (self.name and self.file_sha256):
            return None
        return int8_graph(self.name, file_sha256=self.file_sha256)


def float_graph(painter: Painter) -> Path:
    """The painter's network exported to ONNX in float, once, into the on-disk cache."""

    def export(tmp: Path) -> None:
        from styler.fast.export import export_onnx

        export_onnx(_copy(painter.network()), tmp)

    return cached_graph(cache_dir() / "onnx" / f"{painter.float_graph_key()}.onnx", export)


def onnx_runner(graph: Callable[[], Path]) -> OnnxRunner | None:
    """An onnxruntime session for the graph `graph()` gives (a shipped int8 graph, or a
    float export made on first use), or None where that is not possible."""
    if not onnxruntime_installed():
        return None
    threads = onnx_threads()  # a STYLER_THREADS that is no count is the user's error: raised
    try:
        return OnnxRunner(graph(), threads)
    except Exception as exc:  # any exporter or runtime failure: PyTorch still works
        warnings.warn(f"onnxruntime unavailable for this network, using PyTorch: {exc}",
                      RuntimeWarning, stacklevel=2)  # fmt: skip
        return None


def _copy(network: StyleNetwork) -> StyleNetwork:
    """A CPU fp32 copy to export, so the caller's network keeps its device and layout; a
    deep copy, so a twin (styler.fast.distill: some normalisations folded away) stays one."""
    import torch

    clone = copy.deepcopy(network)
    return clone.to("cpu", torch.float32, memory_format=torch.contiguous_format)


@dataclass(frozen=True)
class Precision:
    """How one network runs: a precision name, and its int8 graph when that is int8."""

    name: str
    int8: Int8Graph | None = None

    def autocast(self, device: torch.device) -> AbstractContextManager[object]:
        dtype = float_dtype(self.name)
        if dtype is None:
            return nullcontext()
        import torch

        return torch.autocast(device.type, dtype=dtype)


def fast_precision(painter: Painter, requested: str, device_type: str) -> Precision:
    """The precision control resolved for one network. Its float choice is fp32: on the CPU
    that runs onnxruntime's graph, faster than PyTorch in any precision (docs/performance.md).
    int8 needs the graph shipped for exactly this network (a shipped style's)."""
    name = painter.name
    graph = None
    if name and device_type == "cpu" and onnxruntime_installed():
        graph = painter.int8_graph()
    chosen = resolve_precision(requested, device_type, [graph] if graph else [],
                               float_choice=FP32)  # fmt: skip
    if chosen != INT8:
        return Precision(chosen)
    if graph is None:
        made = set(int8_keys())
        styles = ", ".join(e.name for e in read_manifest() if e.name in made)
        raise OptionsError(f"no int8 graph ships for {name or 'a blend of networks'} (only "
                           f"for {styles}); choose a float precision")  # fmt: skip
    return Precision(INT8, graph)
