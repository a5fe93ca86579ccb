"""The int8 graphs styler ships (`weights/int8/`), and what each one's quantization cost.

Each entry names the float network it was quantized from by its parameters' sha256
(styler.onnx_models.parameters_digest; instant mode's with the way its graph is drawn,
styler.instant.runtime.graph_digest), and also by its file's sha256 (instant mode's: its
files' under the graph's drawing, styler.instant.runtime.file_key), so an int8 graph is
only ever used for the very network it came from (found by the file, both modes run it
without loading the network into PyTorch), and records the quality change
measured on validation photos (tools/quantize_weights.py writes it). `auto` precision uses
a graph only when that change is within QUALITY_BOUND.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from styler.errors import WeightsError
from styler.fast.manifest import sha256_of, weights_dir
from styler.imageio import atomic_write_bytes

MANIFEST = "manifest.json"
# The largest relative change of the style or content distance (validation photos) that
# still counts as the same picture: the bound the issue set for int8 fast mode.
QUALITY_BOUND = 0.03
# The quality entries that hold int8's speed-up over each float precision: a float's median
# time on a 1024x768 photo over int8's (tools/quantize_weights.py).
SPEEDUP_KEYS = {"fp32": "speedup", "bf16": "speedup_bf16"}


@dataclass(frozen=True)
class Int8Graph:
    """One shipped int8 graph and its measured cost in quality."""

    key: str  # a fast style's name, or instant_encoder / instant_decoder
    file: str
    sha256: str
    float_sha256: str  # digest of the float network it was quantized from (parameters_digest;
    # instant mode's: styler.instant.runtime.graph_digest)
    # fp32 -> int8: relative changes of the distances (*_change), and the speed-ups
    # (SPEEDUP_KEYS)
    quality: dict[str, float] = field(default_factory=dict)
    # For a fast style: its distilled twin's file (styler.fast.distill) when the graph was
    # quantized from the twin rather than from the network itself.
    twin: str = ""
    # A fast style's: the sha256 of its network's file; instant mode's: file_key of its file.
    file_sha256: str = ""

    @property
    def path(self) -> Path:
        return int8_dir() / self.file

    def pays_against(self, float_precision: str) -> bool:
        """Within the quality bound, and faster than `float_precision` (the float `auto`
        would run instead) where it was measured. bf16 was timed only where the measuring
        CPU computes it natively; without that figure, float32's stands in."""
        changes = [abs(v) for k, v in self.quality.items() if k.endswith("_change")]
        fp32 = self.quality.get(SPEEDUP_KEYS["fp32"], 0.0)
        speedup = self.quality.get(SPEEDUP_KEYS.get(float_precision, SPEEDUP_KEYS["fp32"]), fp32)
        return speedup > 1.0 and bool(changes) and max(changes) <= QUALITY_BOUND


def int8_dir() -> Path:
    return weights_dir() / "int8"


def _entries() -> dict[str, dict[str, Any]]:
    try:
        return json.loads((int8_dir() / MANIFEST).read_text())["graphs"]
    except (OSError, ValueError, KeyError):
        return {}


def int8_keys() -> list[str]:
    """The networks (shipped styles' names, the instant models' keys) with an int8 graph."""
    return sorted(_entries())


def int8_graph(key: str, float_sha256: str = "", *, file_sha256: str = "") -> Int8Graph | None:
    """The shipped int8 graph of `key` quantized from exactly that float network (given by
    its parameters' digest, or by its file's), if any; WeightsError when the listed file's
    bytes differ from the manifest's."""
    entry = _entries().get(key)
    if not entry or not (float_sha256 or file_sha256) or (
            float_sha256 and entry.get("float_sha256") != float_sha256) or (
            file_sha256 and entry.get("file_sha256") != file_sha256):  # fmt: skip
        return None
    graph = Int8Graph(key=key, **entry)
    try:
        actual = sha256_of(graph.path)
    except OSError as exc:
        raise WeightsError(f"{graph.path}: cannot read int8 graph ({exc.strerror})") from exc
    if actual != graph.sha256:
        raise WeightsError(f"{graph.path}: sha256 {actual[:12]}… differs from the manifest's "
                           f"{graph.sha256[:12]}…; reinstall styler")  # fmt: skip
    return graph


def record_int8_graph(graph: Int8Graph) -> Path:
    """Add or replace `graph`'s entry in the folder's manifest (tools/quantize_weights.py)."""
    entries = _entries()
    entry = {"file": graph.file, "sha256": graph.sha256, "float_sha256": graph.float_sha256,
             "quality": graph.quality}  # fmt: skip
    if graph.twin:
        entry["twin"] = graph.twin
    if graph.file_sha256:
        entry["file_sha256"] = graph.file_sha256
    entries[graph.key] = entry
    target = int8_dir() / MANIFEST
    text = json.dumps({"graphs": dict(sorted(entries.items()))}, indent=2) + "\n"
    atomic_write_bytes(target, text.encode())
    return target


def twin_name(style: str) -> str:
    """The file of a fast style's distilled twin (styler.fast.distill) in int8_dir()."""
    return f"{style}.twin.safetensors"


def twin_log_name(style: str) -> str:
    """Its training log, beside it."""
    return f"{style}.twin.log.jsonl"
