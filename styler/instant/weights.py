"""Instant-mode decoder and student-encoder files: safetensors with their settings in the
header, no pickle."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from safetensors import SafetensorError
from safetensors.torch import load

from styler.errors import WeightsError
from styler.fast.manifest import sha256_of
from styler.fast.weights import save_with_header
from styler.imageio import atomic_write_bytes
from styler.instant.decoder import Decoder, DecoderConfig
from styler.instant.files import FRAMES_PREFIX, MANIFEST, checked_bytes, listed
from styler.instant.student import LEVEL as STUDENT_LEVEL
from styler.instant.student import StudentConfig, StudentEncoder

FORMAT = "styler-instant-1"
STUDENT_FORMAT = "styler-student-1"


def save_decoder(net: Decoder, path: str | Path, info: dict[str, Any]) -> None:
    """Write the decoder atomically; `info` (JSON-serialisable) goes in the header."""
    save_with_header(net, path, FORMAT, info)


def read_decoder(path: str | Path, sha256: str | None = None) -> tuple[Decoder, dict]:
    """Load a decoder file, checking its sha256 when one is given (the manifest's)."""
    return _read_network(path, sha256, FORMAT, lambda c: Decoder(DecoderConfig(**c)), "decoder")


def save_student(net: StudentEncoder, path: str | Path, info: dict[str, Any]) -> None:
    """Write the student encoder atomically; `info` (JSON-serialisable) goes in the header."""
    save_with_header(net, path, STUDENT_FORMAT, info)


def read_student(path: str | Path, sha256: str | None = None) -> tuple[StudentEncoder, dict]:
    """Load a student encoder file, checking its sha256 when one is given (the manifest's)."""
    def build(config: dict) -> StudentEncoder:
        return StudentEncoder(StudentConfig(widths=tuple(config["widths"])))

    return _read_network(path, sha256, STUDENT_FORMAT, build, "encoder")


def _read_network(
    path: str | Path,
    sha256: str | None,
    format_name: str,
    build: Callable[[dict], Any],
    what: str,
) -> tuple[Any, dict]:
    """A network from its safetensors file (no pickle), frozen for inference, and its info."""
    path = Path(path)
    data = checked_bytes(path, sha256, what)
    try:
        length = int.from_bytes(data[:8], "little")
        metadata = json.loads(data[8 : 8 + length]).get("__metadata__") or {}
        if metadata.get("format") != format_name:
            raise ValueError(f"format {metadata.get('format')!r}, expected {format_name!r}")
        net = build(json.loads(metadata["config"]))
        net.load_state_dict(load(data))
    except (SafetensorError, KeyError, ValueError, TypeError, RuntimeError) as exc:
        reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WeightsError(f"{path}: not a valid instant {what} ({reason})") from exc
    net.requires_grad_(False)
    return net.eval(), json.loads(metadata.get("info", "{}"))


def write_manifest(folder: str | Path) -> Path:
    """Record every decoder (the photos' and the frames'), and student encoder in `folder`
    with its sha256, training summary and logs."""
    folder = Path(folder)
    entries, frames = [], []
    for path in sorted(folder.glob("decoder_*.safetensors")):
        _, info = read_decoder(path)
        level = info.get("level")
        logs = sorted(p.name for p in folder.glob(f"*_{level}.log.jsonl")  # every stage's
                      if not p.name.startswith(("student_", FRAMES_PREFIX)))  # fmt: skip
        entries.append(_entry(path, level, logs, info))
    for path in sorted(folder.glob(f"{FRAMES_PREFIX}*.safetensors")):
        _, info = read_decoder(path)
        logs = sorted(p.name for p in folder.glob(f"{path.stem}*.log.jsonl"))
        frames.append(_entry(path, info.get("level"), logs, info))
    encoders = [
        _entry(path, STUDENT_LEVEL, sorted(p.name for p in folder.glob(f"{path.stem}*.log.jsonl")),
               read_student(path)[1])
        for path in sorted(folder.glob("student_*.safetensors"))
    ]  # fmt: skip
    manifest = {"decoders": entries, **({"frames": frames} if frames else {}),
                **({"encoders": encoders} if encoders else {})}  # fmt: skip
    target = folder / MANIFEST
    atomic_write_bytes(target, (json.dumps(manifest, indent=2) + "\n").encode())
    return target


def _entry(path: Path, level: str | None, logs: list[str], info: dict) -> dict:
    """A network file's manifest entry: what it is, its sha256, its training logs and record."""
    return {"level": level, "file": path.name,
            "sha256": sha256_of(path), "logs": logs,
            "training": info}  # fmt: skip


def load_encoder(folder: Path | None = None) -> tuple[StudentEncoder, dict] | None:
    """The student encoder the manifest lists, sha256-checked, and its info; None where it
    lists none (the encoder is then VGG19 itself)."""
    entries = listed(folder, "encoders")
    if not entries:
        return None
    return read_student(entries[0].path, entries[0].sha256)


def load_decoders(
    folder: Path | None = None, *, frames: bool = False
) -> tuple[dict[str, Decoder], dict[str, dict]]:
    """Every decoder the manifest lists, sha256-checked: ({level: decoder}, {level: info});
    with `frames`, the video frames' decoders instead (none where it lists none)."""
    decoders, infos = {}, {}
    for entry in listed(folder, "frames" if frames else "decoders"):
        net, info = read_decoder(entry.path, entry.sha256)
        decoders[net.config.level], infos[net.config.level] = net, info
    return decoders, infos
