"""onnxruntime for fast-mode passes on the CPU: faster than PyTorch eager (docs/performance.md).

ONNX Runtime fuses convolution, normalisation and activation and picks blocked
memory layouts for the CPU, which PyTorch's eager mode does not. Each network
is exported once (see styler.fast.export) and cached on disk under a hash of
its parameters, so shipped styles, user-trained networks and parameter blends
all get the fast path; the cache survives between runs. When onnxruntime or
the exporter is missing, or export fails, callers fall back to PyTorch.
"""

from __future__ import annotations

import hashlib
import json
import os
import threading
import warnings
from pathlib import Path

import numpy as np
import torch

from styler.fast.export import OPSET, export_onnx
from styler.fast.network import StyleNetwork, check_size
from styler.fast.weights import sha256_of
from styler.imageio import atomic_write_bytes

CACHE_FORMAT = f"styler-onnx-v3-opset{OPSET}"  # bump when the exported graph changes


def cache_dir() -> Path:
    """STYLER_CACHE_DIR, else $XDG_CACHE_HOME/styler, else ~/.cache/styler."""
    if override := os.environ.get("STYLER_CACHE_DIR"):
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "styler"


def network_digest(network: StyleNetwork) -> str:
    """sha256 of the architecture and every parameter: the cache key of its export."""
    digest = hashlib.sha256(CACHE_FORMAT.encode())
    digest.update(json.dumps(network.config.as_dict(), sort_keys=True).encode())
    for name, tensor in network.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


class OnnxRunner:
    """One network as an onnxruntime session: uint8 RGB photos in, uint8 RGB photos out."""

    def __init__(self, model_path: Path, threads: int) -> None:
        import onnxruntime as ort

        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        self.session = ort.InferenceSession(
            str(model_path), options, providers=["CPUExecutionProvider"]
        )

    def run(self, photos: np.ndarray) -> np.ndarray:
        """(N, H, W, 3) uint8 -> (N, H, W, 3) uint8.

        Each conversion is a single numpy pass (scale while transposing, then round while
        transposing back), quicker than going through float tensors (docs/performance.md).
        """
        n, h, w, _ = photos.shape
        check_size(h, w)  # the graph takes any other size (StyleNetwork pads small ones)
        images = np.empty((n, 3, h, w), np.float32)
        np.multiply(photos.transpose(0, 3, 1, 2), np.float32(1 / 255), out=images)
        (out,) = self.session.run(None, {"image": images})  # already clamped to [0, 1]
        np.multiply(out, np.float32(255), out=out)
        out += np.float32(0.5)  # the cast below truncates: this rounds (values are >= 0)
        rgb = np.empty((n, h, w, 3), np.uint8)
        np.copyto(rgb, out.transpose(0, 2, 3, 1), casting="unsafe")
        return rgb


_export_lock = threading.Lock()


def onnx_runner(network: StyleNetwork) -> OnnxRunner | None:
    """A cached onnxruntime session for `network`, or None where that is not possible."""
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return None
    path = cache_dir() / "onnx" / f"{network_digest(network)}.onnx"
    try:
        with _export_lock:
            if not _intact(path):  # absent, or changed on disk since it was written
                export_onnx(_copy(network), path)
                atomic_write_bytes(_digest_file(path), sha256_of(path).encode())
        return OnnxRunner(path, torch.get_num_threads())
    except Exception as exc:  # any exporter or runtime failure: PyTorch still works
        warnings.warn(f"onnxruntime unavailable for this network, using PyTorch: {exc}",
                      RuntimeWarning, stacklevel=2)  # fmt: skip
        return None


def _digest_file(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def _intact(path: Path) -> bool:
    """A cached export whose bytes are the ones written: the cache folder is the user's,
    so a file changed there (damaged, or replaced) is exported again, never run."""
    try:
        return _digest_file(path).read_text().strip() == sha256_of(path)
    except OSError:
        return False


def _copy(network: StyleNetwork) -> StyleNetwork:
    """A CPU fp32 copy to export, so the caller's network keeps its device and layout."""
    clone = StyleNetwork(network.config)
    clone.load_state_dict({k: v.detach().float().cpu() for k, v in network.state_dict().items()})
    return clone
