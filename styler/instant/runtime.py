"""Instant mode's encoders and decoder in onnxruntime: float32 exports, or the shipped int8.

Three graphs: the photo's encoder (the student, styler.instant.student), the painting's
(VGG19: its statistics are computed once per painting) and the decoder; without a student
the two encoders are one graph. The float graphs are exported from the loaded networks on
first use and cached under the digest of their parameters (styler.onnx_models); the int8
ones ship in `weights/int8/` (tools/quantize_weights.py) and are used only for the exact
networks they were quantized from. A session.run cannot be interrupted between layers as
PyTorch hooks can, so a watcher thread sets onnxruntime's terminate flag when the run's
CancelToken fires.
"""

from __future__ import annotations

import hashlib
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from styler.errors import OptionsError
from styler.instant.export import export_decoder, export_encoder
from styler.instant.student import StudentEncoder
from styler.int8_models import Int8Graph, int8_graph
from styler.onnx_models import cache_dir, cached_graph, cpu_session, parameters_digest
from styler.progress import Cancelled
from styler.tensors import running_steps

CACHE_FORMAT = "styler-instant-onnx-v2"  # bump when the exported graphs change (v2: mirrored)
ENCODER_KEY, DECODER_KEY = "instant_encoder", "instant_decoder"  # VGG19's and the decoder
STUDENT_KEY = "instant_student"
FRAMES_DECODER_KEY = "instant_frames_decoder"  # the decoder of a video's frames
_CANCEL_POLL_S = 0.05


@dataclass(frozen=True)
class InstantGraphs:
    encoder: Path  # the photo's
    style_encoder: Path  # the painting's
    decoder: Path


def float_graphs(
    encoder: torch.nn.Module, style_encoder: torch.nn.Module, decoder: torch.nn.Module
) -> InstantGraphs:
    """The float32 exports of these networks, from the cache or written now."""
    folder = cache_dir() / "onnx"

    def graph(net: torch.nn.Module, role: str, export: Any) -> Path:
        name = f"instant-{graph_digest(net)[:16]}-{role}.onnx"
        return cached_graph(folder / name, lambda tmp: export(net, tmp))

    photo = graph(encoder, "encoder", export_encoder)
    painting = (
        photo if style_encoder is encoder else graph(style_encoder, "encoder", export_encoder)
    )
    return InstantGraphs(photo, painting, graph(decoder, "decoder", export_decoder))


def graph_digest(net: torch.nn.Module) -> str:
    """What a graph exported from `net` is made of: its parameters and the way the graph is
    drawn (CACHE_FORMAT), so that a cached or shipped graph of the same parameters drawn the
    old way (zero padding, before styler.instant.padding) is never taken for it."""
    return hashlib.sha256(f"{CACHE_FORMAT}:{parameters_digest(net)}".encode()).hexdigest()


def int8_key(encoder: torch.nn.Module) -> str:
    return STUDENT_KEY if isinstance(encoder, StudentEncoder) else ENCODER_KEY


def shipped_int8(
    encoder: torch.nn.Module,
    style_encoder: torch.nn.Module,
    decoder: torch.nn.Module,
    decoder_key: str = DECODER_KEY,
) -> tuple[InstantGraphs, list[Int8Graph]] | None:
    """(the int8 graphs of exactly these networks, their manifest entries: what they cost
    and gain), or None when styler ships none for one of them; decoder_key names the
    decoder's graph (the photos' or the frames')."""
    photo = int8_graph(int8_key(encoder), graph_digest(encoder))
    painting = (
        photo
        if style_encoder is encoder
        else int8_graph(int8_key(style_encoder), graph_digest(style_encoder))
    )
    decoded = int8_graph(decoder_key, graph_digest(decoder))
    if photo is None or painting is None or decoded is None:
        return None
    graphs = InstantGraphs(photo.path, painting.path, decoded.path)
    return graphs, [photo, painting, decoded]


class OnnxPass:
    """Encoder and decoder sessions with torch tensors in and out, as cascade.Networks uses."""

    def __init__(self, graphs: InstantGraphs, threads: int) -> None:
        self.graphs = graphs
        self.encoder = cpu_session(graphs.encoder, threads)
        self.style_encoder = (
            self.encoder
            if graphs.style_encoder == graphs.encoder
            else cpu_session(graphs.style_encoder, threads)
        )
        self.decoder = cpu_session(graphs.decoder, threads)

    def encode(self, image: torch.Tensor) -> torch.Tensor:
        return self._run(self.encoder, {"image": image})

    def encode_style(self, image: torch.Tensor) -> torch.Tensor:
        return self._run(self.style_encoder, {"image": image})

    def decode(self, features: torch.Tensor) -> torch.Tensor:
        return self._run(self.decoder, {"features": features})

    def _run(self, session: Any, feed: Mapping[str, torch.Tensor]) -> torch.Tensor:
        arrays = {
            k: np.ascontiguousarray(v.detach().float().cpu().numpy()) for k, v in feed.items()
        }
        steps = running_steps()
        token = steps.cancel if steps is not None else None
        if token is None:
            return torch.from_numpy(session.run(None, arrays)[0])
        import onnxruntime as ort

        options, finished = ort.RunOptions(), threading.Event()

        def watch() -> None:
            while not finished.is_set():
                if token.wait(_CANCEL_POLL_S):
                    options.terminate = True
                    return

        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        try:
            return torch.from_numpy(session.run(None, arrays, options)[0])
        except Exception as exc:
            if token.cancelled:
                raise Cancelled from exc
            raise
        finally:
            # Not joined: the watcher sees `finished` at its next poll and ends; waiting for
            # it would add up to a poll's length to every pass (two a video frame).
            finished.set()


def require_onnxruntime() -> None:
    try:
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        raise OptionsError("int8 and the onnx graphs need: pip install onnxruntime") from exc
