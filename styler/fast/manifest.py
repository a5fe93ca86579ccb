"""The style networks: the shipped `weights/manifest.json`, the user's own styles folder
(styles made with `styler train --name` or the UI's Make a style tab), and name lookup.

The repository's top-level `weights/` folder is installed as the package
`styler.weights` (see pyproject.toml), found through importlib.resources in a wheel and
in an editable install. A checkout that was never installed has no such package; there
the folder is found beside the `styler` package, so the same lookup works everywhere.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

from styler.errors import OptionsError, WeightsError

MANIFEST = "manifest.json"
# The top-level weights/ folder of the checkout this module lives in, if it is one.
CHECKOUT_WEIGHTS = Path(__file__).resolve().parents[2] / "weights"
USER_STYLES_ENV = "STYLER_USER_STYLES"


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


def user_styles_dir() -> Path:
    """The user's own styles: STYLER_USER_STYLES, else the platform's data folder
    ($XDG_DATA_HOME or ~/.local/share on Linux, Application Support on macOS, %LOCALAPPDATA%
    on Windows) + styler/styles. Outside the install, so an upgrade keeps them."""
    override = os.environ.get(USER_STYLES_ENV)
    if override:
        return Path(override)
    if sys.platform == "win32":
        base = Path(os.environ.get("LOCALAPPDATA") or Path.home() / "AppData" / "Local")
    elif sys.platform == "darwin":
        base = Path.home() / "Library" / "Application Support"
    else:
        base = Path(os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share")
    return base / "styler" / "styles"


@dataclass(frozen=True)
class StyleEntry:
    """One network and what its manifest says about it (`user`: in the user styles folder)."""

    name: str
    file: str
    sha256: str
    title: str = ""
    artist: str = ""
    year: str = ""
    base: bool = False
    training: dict[str, Any] = field(default_factory=dict)
    distances: dict[str, float] = field(default_factory=dict)
    user: bool = False

    @property
    def path(self) -> Path:
        return (user_styles_dir() if self.user else weights_dir()) / self.file

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


def user_styles() -> list[StyleEntry]:
    """The styles in the user styles folder (none when it has no manifest yet)."""
    return [e for e in read_manifest(user_styles_dir() / MANIFEST) if e.user]


def installed_styles() -> list[StyleEntry]:
    """Every style a name can pick: the shipped ones (not the base), then the user's own."""
    return [e for e in read_manifest() if not e.base] + user_styles()


def find_style(name: str) -> StyleEntry:
    """A shipped or user style by name; unknown names list the ones there are. The user
    folder is read only for names not shipped, so a damaged one never hides a shipped style."""
    shipped = [e for e in read_manifest() if not e.base]
    found = next((e for e in shipped if e.name == name), None)
    found = found or next((e for e in user_styles() if e.name == name), None)
    if found is not None:
        return found
    entries = installed_styles()
    known = ", ".join(e.name for e in entries) or "none are installed"
    raise OptionsError(f"unknown fast style {name!r}; installed styles: {known}")


def sha256_of(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
