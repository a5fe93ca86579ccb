"""Style-network files: safetensors with their settings in the header, no pickle anywhere."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError
from safetensors.torch import load, save

from styler.errors import WeightsError
from styler.fast.network import NetworkConfig, StyleNetwork
from styler.imageio import atomic_write_bytes

# 2: the last decoder stage is BilinearUpConv (decoder.2), no longer Upsample + Conv2d
FORMAT = "styler-fast-2"


def save_network(net: StyleNetwork, path: str | Path, info: dict[str, Any]) -> None:
    """Write the network atomically; `info` (JSON-serialisable) goes in the header."""
    tensors = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    metadata = {
        "format": FORMAT,
        "config": json.dumps(net.config.as_dict()),
        "info": json.dumps(info),
    }
    atomic_write_bytes(path, save(tensors, metadata=metadata))


def sha256_of(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def read_network(path: str | Path, sha256: str | None = None) -> tuple[StyleNetwork, dict]:
    """Load a network file, checking its digest when one is given (from the manifest)."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WeightsError(f"{path}: cannot read style network ({exc.strerror})") from exc
    if sha256 is not None and hashlib.sha256(data).hexdigest() != sha256:
        raise WeightsError(f"{path}: sha256 does not match the manifest; the file is damaged "
                           "or was replaced, reinstall styler or retrain it")  # fmt: skip
    try:
        tensors = load(data)
        metadata = _metadata(data)
        config = NetworkConfig(**{k: tuple(v) if isinstance(v, list) else v
                                  for k, v in json.loads(metadata["config"]).items()})  # fmt: skip
        info = json.loads(metadata.get("info", "{}"))
    except (SafetensorError, KeyError, ValueError, TypeError) as exc:
        raise WeightsError(f"{path}: not a styler style network ({exc})") from exc
    net = StyleNetwork(config)
    try:
        net.load_state_dict(tensors)
    except RuntimeError as exc:
        raise WeightsError(f"{path}: tensors do not fit the network its header describes") from exc
    return net.eval(), info


def _metadata(data: bytes) -> dict[str, str]:
    """The safetensors header's __metadata__ (8-byte length, then JSON)."""
    length = int.from_bytes(data[:8], "little")
    header = json.loads(data[8 : 8 + length])
    metadata = header.get("__metadata__") or {}
    if metadata.get("format") != FORMAT:
        raise ValueError(f"format is {metadata.get('format')!r}, expected {FORMAT!r}")
    return metadata


def checkpoint_bytes(state: dict[str, Any]) -> bytes:
    """Serialise a training checkpoint (tensors, numbers, strings) for an atomic write."""
    import io

    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a training checkpoint without executing pickled code."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsError(f"{path}: unreadable training checkpoint ({exc})") from exc
