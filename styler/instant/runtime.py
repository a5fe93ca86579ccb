"""Instant mode's encoder and decoder in onnxruntime: float32 exports, or the shipped int8.

The float graphs are exported from the loaded networks on first use and cached under the
digest of their parameters (styler.onnx_models); the int8 ones ship in `weights/int8/`
(tools/quantize_weights.py) and are used only for the exact networks they were quantized
from. A session.run cannot be interrupted between layers as PyTorch hooks can, so a
watcher thread sets onnxruntime's terminate flag when the run's CancelToken fires.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from styler.errors import OptionsError
from styler.instant.export import export_decoder, export_encoder
from styler.int8_models import int8_graph
from styler.onnx_models import cache_dir, cached_graph, cpu_session, parameters_digest
from styler.progress import Cancelled
from styler.tensors import running_steps

CACHE_FORMAT = "styler-instant-onnx-v1"  # bump when the exported graphs change
ENCODER_KEY, DECODER_KEY = "instant_encoder", "instant_decoder"
_CANCEL_POLL_S = 0.05


@dataclass(frozen=True)
class GraphPair:
    encoder: Path
    decoder: Path


def float_graphs(vgg: torch.nn.Module, decoder: torch.nn.Module) -> GraphPair:
    """The float32 exports of this encoder and decoder, from the cache or written now."""
    folder = cache_dir() / "onnx"
    digest = f"{CACHE_FORMAT}-{parameters_digest(vgg)[:16]}-{parameters_digest(decoder)[:16]}"
    encoder = cached_graph(folder / f"instant-{digest}-encoder.onnx",
                           lambda tmp: export_encoder(vgg, tmp))  # fmt: skip
    return GraphPair(encoder, cached_graph(folder / f"instant-{digest}-decoder.onnx",
                                           lambda tmp: export_decoder(decoder, tmp)))  # fmt: skip


def shipped_int8(vgg: torch.nn.Module, decoder: torch.nn.Module) -> tuple[GraphPair, bool] | None:
    """(the int8 graphs of exactly these networks, whether they pay: see
    styler.int8_models), or None when styler ships none for them."""
    encoder = int8_graph(ENCODER_KEY, parameters_digest(vgg))
    decoded = int8_graph(DECODER_KEY, parameters_digest(decoder))
    if encoder is None or decoded is None:
        return None
    return GraphPair(encoder.path, decoded.path), encoder.pays and decoded.pays


class OnnxPass:
    """Encoder and decoder sessions with torch tensors in and out, as cascade.Networks uses."""

    def __init__(self, graphs: GraphPair, threads: int) -> None:
        self.graphs = graphs
        self.encoder = cpu_session(graphs.encoder, threads)
        self.decoder = cpu_session(graphs.decoder, threads)

    def encode(self, image: torch.Tensor) -> torch.Tensor:
        return self._run(self.encoder, {"image": image})

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
            finished.set()
            watcher.join()


def require_onnxruntime() -> None:
    try:
        import onnxruntime  # noqa: F401
    except ImportError as exc:
        raise OptionsError("int8 and the onnx graphs need: pip install onnxruntime") from exc
