"""Instant-mode decoder and student-encoder files: safetensors with their settings in the
header, no pickle."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

from safetensors import SafetensorError
from safetensors.torch import load

from styler.errors import WeightsError
from styler.fast.manifest import CHECKOUT_WEIGHTS, sha256_of
from styler.fast.weights import _check_digest, save_with_header
from styler.imageio import atomic_write_bytes
from styler.instant.decoder import Decoder, DecoderConfig
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
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WeightsError(f"{path}: cannot read instant {what} ({exc.strerror})") from exc
    if sha256 is not None:
        _check_digest(path, data, sha256)
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


MANIFEST = "manifest.json"


# A video's frames take the decoder in frames_LEVEL.safetensors where there is one: the
# photos' decoder fine-tuned further with the shift term (styler.shift_term), steadier on
# moving pictures but further from the painting on photos (docs/video.md, "Real footage").
FRAMES_PREFIX = "frames_"


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


def decoders_dir() -> Path:
    """The shipped decoders (weights/instant), or the folder in STYLER_INSTANT_DIR."""
    override = os.environ.get("STYLER_INSTANT_DIR")
    if override:
        return Path(override)
    try:
        return Path(str(resources.files("styler.weights"))) / "instant"
    except ModuleNotFoundError:  # a source checkout on sys.path, never installed
        return CHECKOUT_WEIGHTS / "instant"


def _manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text())
        manifest["decoders"]  # noqa: B018 - every manifest lists its decoders
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise WeightsError(
            f"{path}: no readable instant-mode decoder manifest ({exc}); "
            "reinstall styler or run tools/train_instant.py"
        ) from exc
    return manifest


def load_encoder(folder: Path | None = None) -> tuple[StudentEncoder, dict] | None:
    """The student encoder the manifest lists, sha256-checked, and its info; None where it
    lists none (the encoder is then VGG19 itself)."""
    folder = folder or decoders_dir()
    entries = _manifest(folder).get("encoders") or []
    if not entries:
        return None
    return read_student(folder / entries[0]["file"], entries[0]["sha256"])


def load_decoders(
    folder: Path | None = None, *, frames: bool = False
) -> tuple[dict[str, Decoder], dict[str, dict]]:
    """Every decoder the manifest lists, sha256-checked: ({level: decoder}, {level: info});
    with `frames`, the video frames' decoders instead (none where it lists none)."""
    folder = folder or decoders_dir()
    decoders, infos = {}, {}
    for entry in _manifest(folder).get("frames" if frames else "decoders") or []:
        net, info = read_decoder(folder / entry["file"], entry["sha256"])
        decoders[net.config.level], infos[net.config.level] = net, info
    return decoders, infos
