"""Where instant mode's network files are and what the manifest says of them, read without
PyTorch: the onnxruntime passes (styler.instant.runtime) find their graphs by these files'
sha256 alone; styler.instant.weights loads the files themselves into PyTorch."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

from styler.errors import WeightsError
from styler.fast.manifest import CHECKOUT_WEIGHTS
from styler.fast.weights import check_digest

MANIFEST = "manifest.json"
# A video's frames take the decoder in frames_LEVEL.safetensors where there is one: the
# photos' decoder fine-tuned further with the shift term (styler.shift_term), steadier on
# moving pictures but further from the painting on photos (docs/video.md, "Real footage").
FRAMES_PREFIX = "frames_"


@dataclass(frozen=True)
class NetworkEntry:
    """One network file as the manifest lists it: its level, path, sha256 and training record."""

    level: str
    path: Path
    sha256: str
    info: dict[str, Any]


def decoders_dir() -> Path:
    """The shipped decoders (weights/instant), or the folder in STYLER_INSTANT_DIR."""
    override = os.environ.get("STYLER_INSTANT_DIR")
    if override:
        return Path(override)
    try:
        return Path(str(resources.files("styler.weights"))) / "instant"
    except ModuleNotFoundError:  # a source checkout on sys.path, never installed
        return CHECKOUT_WEIGHTS / "instant"


def read_manifest(folder: Path) -> dict[str, Any]:
    path = folder / MANIFEST
    try:
        manifest = json.loads(path.read_text())
        manifest["decoders"]  # noqa: B018 - every manifest lists its decoders
    except (OSError, ValueError, KeyError, TypeError) as exc:
        remedy = ("point STYLER_INSTANT_DIR at a folder `styler train-instant` wrote, or unset "
                  "it" if os.environ.get("STYLER_INSTANT_DIR")
                  else "reinstall styler, or train decoders with `styler train-instant`")
        raise WeightsError(
            f"{path}: no readable instant-mode decoder manifest ({exc}); {remedy}"
        ) from exc
    return manifest


def listed(folder: Path | None = None, kind: str = "decoders") -> list[NetworkEntry]:
    """The manifest's entries of one kind: "decoders" (the photos'), "frames" (a video's
    frames' decoders) or "encoders" (the student)."""
    folder = folder or decoders_dir()
    return [NetworkEntry(entry["level"], folder / entry["file"], entry["sha256"],
                         entry.get("training") or {})
            for entry in read_manifest(folder).get(kind) or []]  # fmt: skip


def checked_bytes(path: Path, sha256: str | None, what: str) -> bytes:
    """A network file's bytes, checked against `sha256` where given (the manifest's): one
    line naming the file where it cannot be read or was damaged or replaced."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WeightsError(f"{path}: cannot read instant {what} ({exc.strerror})") from exc
    if sha256 is not None:
        check_digest(path, data, sha256)
    return data
