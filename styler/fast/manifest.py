"""The shipped style networks: `weights/manifest.json`, its entries, and name lookup.

The repository's top-level `weights/` folder is installed as the package
`styler.weights` (see pyproject.toml), found through importlib.resources in a wheel and
in an editable install. A checkout that was never installed has no such package; there
the folder is found beside the `styler` package, so the same lookup works everywhere.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from styler.errors import OptionsError, WeightsError

MANIFEST = "manifest.json"
# The top-level weights/ folder of the checkout this module lives in, if it is one.
CHECKOUT_WEIGHTS = Path(__file__).resolve().parents[2] / "weights"


def weights_dir() -> Path:
    """The shipped networks, or the folder in STYLER_WEIGHTS_DIR (own networks, tests).

    The installed package styler.weights when there is one, else the checkout's weights/.
    """
    override = os.environ.get("STYLER_WEIGHTS_DIR")
    if override:
        return Path(override)
    try:
        return Path(str(resources.files("styler.weights")))
    except ModuleNotFoundError:  # a source checkout on sys.path, never installed
        return CHECKOUT_WEIGHTS


@dataclass(frozen=True)
class StyleEntry:
    """One shipped network and what the manifest says about it."""

    name: str
    file: str
    sha256: str
    title: str = ""
    artist: str = ""
    year: str = ""
    base: bool = False
    training: dict[str, Any] = field(default_factory=dict)
    distances: dict[str, float] = field(default_factory=dict)

    @property
    def path(self) -> Path:
        return weights_dir() / self.file

    def caption(self) -> str:
        """'The Starry Night — Vincent van Gogh, 1889', for lists and the UI."""
        who = ", ".join(p for p in (self.artist, self.year) if p)
        return f"{self.title or self.name}{' — ' + who if who else ''}"


def read_manifest(path: Path | None = None) -> list[StyleEntry]:
    path = path or weights_dir() / MANIFEST
    if not path.is_file():
        return []
    try:
        entries = json.loads(path.read_text())["styles"]
        return [StyleEntry(**entry) for entry in entries]
    except (ValueError, KeyError, TypeError) as exc:
        raise WeightsError(f"{path}: unreadable style manifest ({exc})") from exc


def write_manifest(entries: list[StyleEntry], path: Path | None = None) -> None:
    from dataclasses import asdict

    from styler.imageio import atomic_write_bytes

    path = path or weights_dir() / MANIFEST
    text = json.dumps({"styles": [asdict(e) for e in entries]}, indent=2, ensure_ascii=False)
    atomic_write_bytes(path, (text + "\n").encode())


def find_style(name: str) -> StyleEntry:
    """A shipped style by name; unknown names list the ones there are."""
    entries = [e for e in read_manifest() if not e.base]
    for entry in entries:
        if entry.name == name:
            return entry
    known = ", ".join(e.name for e in entries) or "none are installed"
    raise OptionsError(f"unknown fast style {name!r}; shipped styles: {known}")
