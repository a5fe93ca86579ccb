"""What every ONNX graph styler writes and runs shares: tracing, the on-disk cache, sessions.

Graphs are exported once per network and cached under a hash of what they compute, so
shipped, user-trained and blended networks all get onnxruntime's fused CPU kernels. A file
in the cache is the user's to damage, so each carries its sha256 and one whose bytes
changed is exported again, never run.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

import cv2
import numpy as np

from styler.fast.manifest import sha256_of
from styler.imageio import atomic_write_bytes, commit_temporary, temporary_name
from styler.quiet import silenced

if TYPE_CHECKING:
    import torch
    from torch import nn

OPSET = 18


def cache_dir() -> Path:
    """STYLER_CACHE_DIR, else $XDG_CACHE_HOME/styler, else ~/.cache/styler."""
    if override := os.environ.get("STYLER_CACHE_DIR"):
        return Path(override)
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "styler"


def trace_to_onnx(
    model: nn.Module,
    example: Sequence[torch.Tensor],
    path: Path,
    inputs: Mapping[str, Mapping[int, str]],
    outputs: Mapping[str, Mapping[int, str]],
) -> None:
    """Export with the TorchScript tracer: many times faster than the dynamo exporter, which
    matters because graphs are exported the first time a network runs. Names map to their
    dynamic axes."""
    import torch

    with silenced(), torch.no_grad():
        torch.onnx.export(
            model,
            tuple(example),
            str(path),
            dynamo=False,
            opset_version=OPSET,
            input_names=list(inputs),
            output_names=list(outputs),
            dynamic_axes={**inputs, **outputs},
        )


def parameters_digest(module: nn.Module) -> str:
    """sha256 of every parameter and buffer by name: what a graph of `module` computes."""
    digest = hashlib.sha256()
    for name, tensor in module.state_dict().items():
        digest.update(name.encode())
        digest.update(tensor.detach().float().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()


_export_lock = threading.Lock()


def cached_graph(path: Path, write: Callable[[Path], None]) -> Path:
    """`path`, written by `write(temporary)` first unless an intact copy is there (the
    temporary file imageio's, so one a killed export left is cleared by the next write)."""
    with _export_lock:
        if not intact(path):
            tmp = temporary_name(path)
            try:
                write(tmp)
                commit_temporary(tmp, path)
            finally:
                tmp.unlink(missing_ok=True)
            atomic_write_bytes(_digest_file(path), sha256_of(path).encode())
    return path


def _digest_file(path: Path) -> Path:
    return path.with_name(path.name + ".sha256")


def intact(path: Path) -> bool:
    """A cached graph whose bytes are the ones written."""
    try:
        return _digest_file(path).read_text().strip() == sha256_of(path)
    except OSError:
        return False


_lean_memory = False


def prefer_lean_memory() -> None:
    """Sessions made from now on give their working memory back after each run.

    onnxruntime's arena keeps the largest run's buffers for the session's life: fastest for
    a batch, but a long-lived server that once painted a large photo would hold that memory
    for good. Without the arena a pass costs about a fifth more (docs/performance.md), and
    the memory goes back. `styler ui` calls this; the CLI and the API keep the arena."""
    global _lean_memory
    _lean_memory = True


def cpu_session(path: Path, threads: int) -> Any:
    """An onnxruntime session on the CPU with every graph optimisation, `threads` wide.

    Its threads sleep between runs instead of spinning: a video frame's flow, warp and
    encoding run between two passes, and spinning threads would hold both cores while they
    do (docs/performance.md)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.enable_cpu_mem_arena = not _lean_memory
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def float_planes_to_rgb(planes: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """(3, H, W) float in [0, 1], as the graphs give images, -> (H, W, 3) uint8 (into `out`
    where given): OpenCV per colour plane (scale, round half to even and saturate in one
    call, then interleave), several times quicker than numpy's strided pass back, which
    cost a video frame noticeably (benchmarks/profile_video_frame.py)."""
    # values in [0, 1]: convertScaleAbs's absolute value changes nothing
    return cv2.merge([cv2.convertScaleAbs(plane, alpha=255) for plane in planes], dst=out)


def onnxruntime_installed() -> bool:
    try:
        import onnxruntime  # noqa: F401
    except ImportError:
        return False
    return True


def store_weights_as_half(path: Path) -> None:
    """Store float initialisers as float16, each cast back to float32 inside the graph.

    Halves the file; arithmetic stays float32, so every runtime and CPU runs it.
    """
    import numpy as np
    import onnx
    from onnx import helper, numpy_helper

    model = onnx.load(str(path))
    graph = model.graph
    casts = []
    for init in graph.initializer:
        if init.data_type != onnx.TensorProto.FLOAT:
            continue
        name = init.name
        values = numpy_helper.to_array(init).astype(np.float16)
        init.CopyFrom(numpy_helper.from_array(values, f"{name}_fp16"))
        casts.append(helper.make_node("Cast", [f"{name}_fp16"], [name], to=onnx.TensorProto.FLOAT))
    nodes = casts + list(graph.node)
    del graph.node[:]
    graph.node.extend(nodes)
    onnx.save(model, str(path))
