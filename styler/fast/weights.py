"""Style-network files: safetensors with their settings in the header, no pickle anywhere."""

from __future__ import annotations

import hashlib
import io
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PIL import Image
from safetensors import SafetensorError

from styler.errors import WeightsError
from styler.fast.manifest import read_manifest
from styler.imageio import atomic_write_bytes

if TYPE_CHECKING:
    from styler.fast.network import StyleNetwork

# 2: the last decoder stage is BilinearUpConv (decoder.2), no longer Upsample + Conv2d
FORMAT = "styler-fast-2"


def save_with_header(net: Any, path: str | Path, format_name: str, info: dict[str, Any]) -> None:
    """Write a network's tensors atomically as safetensors; its format, its config
    (`net.config.as_dict()`) and `info` (JSON-serialisable) go in the header."""
    from safetensors.torch import save

    tensors = {k: v.detach().cpu().contiguous() for k, v in net.state_dict().items()}
    metadata = {
        "format": format_name,
        "config": json.dumps(net.config.as_dict()),
        "info": json.dumps(info),
    }
    atomic_write_bytes(path, save(tensors, metadata=metadata))


def save_network(net: StyleNetwork, path: str | Path, info: dict[str, Any]) -> None:
    """Write the network atomically; `info` (JSON-serialisable) goes in the header."""
    save_with_header(net, path, FORMAT, info)


@dataclass(frozen=True)
class NetworkFile:
    """A style network's file: its bytes, checked, and its header, read without PyTorch
    (fast mode finds a network's onnxruntime graphs by the file alone)."""

    path: Path
    data: bytes
    sha256: str
    config: dict[str, Any]
    info: dict[str, Any]

    def network(self) -> StyleNetwork:
        """The network in PyTorch, in eval mode."""
        from safetensors.torch import load

        from styler.fast.network import NetworkConfig, StyleNetwork

        try:
            tensors = load(self.data)
            config = NetworkConfig(**{k: tuple(v) if isinstance(v, list) else v
                                      for k, v in self.config.items()})  # fmt: skip
        except (SafetensorError, TypeError) as exc:
            raise WeightsError(f"{self.path}: not a styler style network ({exc})") from exc
        net = StyleNetwork(config)
        try:
            net.load_state_dict(tensors)
        except RuntimeError as exc:
            raise WeightsError(f"{self.path}: tensors do not fit the network its header "
                               "describes") from exc  # fmt: skip
        return net.eval()


def _not_a_network(data: bytes, exc: Exception) -> str:
    """Why a file is no style network, in words: a picture given where a network's name goes
    is told where pictures go, not shown a decoding error of its bytes."""
    try:
        with Image.open(io.BytesIO(data)) as picture:
            kind = picture.format or "an image"
    except Exception:  # noqa: BLE001 - not a picture either: the header's own error
        return f"not a styler style network ({exc})"
    return (f"a {kind} picture, not a style network: paint with it by --style (or make a "
            "network of it: styler train --name)")


def read_network_file(path: str | Path, sha256: str | None = None) -> NetworkFile:
    """Read a network file and its header (safetensors: no code in it is ever run).

    Its sha256 is checked against `sha256` when given, else against the manifest's entry
    when the file is one of the shipped networks (so naming it by path skips no check);
    a mismatch is a WeightsError in one line. The bytes checked are the bytes loaded.
    """
    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WeightsError(f"{path}: cannot read style network ({exc.strerror})") from exc
    expected = sha256 if sha256 is not None else _manifest_digest(path)
    if expected is not None:
        check_digest(path, data, expected)
    try:
        metadata = _metadata(data)
        config = json.loads(metadata["config"])
        info = json.loads(metadata.get("info", "{}"))
        if not isinstance(config, dict) or not isinstance(info, dict):
            raise ValueError("config and info must be JSON objects")
    except (KeyError, ValueError, TypeError) as exc:
        raise WeightsError(f"{path}: {_not_a_network(data, exc)}") from exc
    digest = expected.lower() if expected is not None else hashlib.sha256(data).hexdigest()
    return NetworkFile(path, data, digest, config, info)


def read_network(path: str | Path, sha256: str | None = None) -> tuple[StyleNetwork, dict]:
    """Load a network file into PyTorch (read_network_file says what is checked)."""
    file = read_network_file(path, sha256)
    return file.network(), file.info


_SHA256 = re.compile(r"[0-9a-f]{64}")


def check_digest(path: Path, data: bytes, expected: str) -> None:
    """Refuse a weights file whose bytes are not the ones a manifest names (WeightsError,
    one line): shipped fast networks and instant mode's files are checked alike."""
    if not _SHA256.fullmatch(expected.lower()):
        raise WeightsError(f"{path}: the style manifest has no valid sha256 for it "
                           f"({expected!r}); reinstall styler")  # fmt: skip
    if hashlib.sha256(data).hexdigest() != expected.lower():
        raise WeightsError(f"{path}: sha256 does not match the manifest; the file is damaged "
                           "or was replaced, reinstall styler or retrain it")  # fmt: skip


def _manifest_digest(path: Path) -> str | None:
    """The manifest's sha256 for a shipped network's file, None for any other file."""
    try:
        target = path.resolve()
        for entry in read_manifest():
            if entry.path.resolve() == target:
                return entry.sha256
    except (OSError, RuntimeError, WeightsError):  # a link loop, an unreadable manifest
        return None
    return None


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

    import torch

    buffer = io.BytesIO()
    torch.save(state, buffer)
    return buffer.getvalue()


def read_checkpoint(path: str | Path) -> dict[str, Any]:
    """Load a training checkpoint without executing pickled code."""
    import torch

    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise WeightsError(f"{path}: unreadable training checkpoint ({exc})") from exc
