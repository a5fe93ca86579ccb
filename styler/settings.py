"""The settings every result carries: one versioned schema, whatever face or mode made it.

A result's settings name its mode, styles, blend weights, regions and the value of every
control that acts in that mode (styler.controls), so they reproduce it: `styler stylize
PHOTO --settings-from RESULT`, `Settings.from_file(path)` in the API, or a result dropped
on the UI. Images are named by their file name; `files` adds, for each image that was a
file, where it was (absolute path) and its sha256, so a reproduction finds it where it was
made, else by name next to the result or where the user says, and never takes a different
file of the same name (styler.recipe).
The `engine` part (device, weights, versions) is informational: it says where a result may
differ, never changes what runs.
"""

from __future__ import annotations

import functools
import hashlib
import os
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from importlib import metadata
from pathlib import Path
from typing import Any

from styler.controls import CONTROLS, check_mode, checked, defaults, unrecorded_values
from styler.errors import StylerError

SCHEMA = "styler.settings"
VERSION = 1


class SettingsError(StylerError):
    """A file's settings are missing or not of a schema this version can read."""

    def __init__(self, source: str, reason: str) -> None:
        self.source, self.reason = source, reason
        super().__init__(f"{source}: {reason}")


@dataclass(frozen=True)
class RegionSetting:
    """One region: its mask's name, and its style's name (None keeps the photo there)."""

    mask: str
    style: str | None


@dataclass
class Settings:
    """What made a result; `controls` holds every recorded control of `mode`."""

    mode: str
    styles: list[str]
    blend: list[float]
    controls: dict[str, Any]
    regions: list[RegionSetting] = field(default_factory=list)
    completed: bool = True  # False: a run stopped early, the best image so far
    engine: dict[str, Any] = field(default_factory=dict)
    files: dict[str, dict[str, str]] = field(default_factory=dict)  # name -> path, sha256
    init_image: str | None = None  # optimizer mode's `init image` start, by name (in `files`)

    def __post_init__(self) -> None:
        check_mode(self.mode)
        # A control left out was recorded before it existed: the value of that time.
        self.controls = {**defaults(self.mode), **unrecorded_values(self.mode),
                         **checked(self.mode, self.controls)}  # fmt: skip
        self.blend = [float(w) for w in self.blend]

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        if data["init_image"] is None:  # written only where a run started from one
            del data["init_image"]
        return {"schema": SCHEMA, "version": VERSION, **data}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "settings") -> Settings:
        """Settings from a dict of this schema (or of the flat, unversioned one before it)."""
        if data.get("schema") != SCHEMA:
            return cls._from_unversioned(data, source)
        if data.get("version") != VERSION:
            raise SettingsError(source, f"settings version {data.get('version')!r}; this "
                                f"styler reads version {VERSION}: upgrade styler")  # fmt: skip
        try:
            return cls(
                mode=data["mode"],
                styles=[str(s) for s in data["styles"]],
                blend=list(data["blend"]),
                controls=dict(data["controls"]),
                regions=[RegionSetting(r["mask"], r["style"]) for r in data.get("regions", [])],
                completed=bool(data.get("completed", True)),
                engine=dict(data.get("engine", {})),
                files={str(k): dict(v) for k, v in data.get("files", {}).items()},
                init_image=None if data.get("init_image") is None else str(data["init_image"]),
            )
        except (KeyError, TypeError) as exc:
            raise SettingsError(source, f"settings lack or garble {exc}") from exc

    @classmethod
    def _from_unversioned(cls, data: Mapping[str, Any], source: str) -> Settings:
        mode = {"optimize": "optimize", "fast": "fast"}.get(str(data.get("mode")))
        if mode is None:
            raise SettingsError(source, "no styler settings of a stylized image in it")
        styles = data.get("styles") or [data.get("style", "")]
        controls = {k: v for k, v in data.items() if k in CONTROLS and CONTROLS[k].recorded
                    and CONTROLS[k].acts_in(mode)}  # fmt: skip
        return cls(mode=mode, styles=[str(s) for s in styles],
                   blend=list(data.get("blend") or [1.0] * len(styles)), controls=controls)

    @classmethod
    def from_file(cls, path: str | os.PathLike) -> Settings:
        """The settings embedded in a result file (an image, or a clip styler wrote)."""
        from styler.imageio import read_settings  # these write settings; keep imports one-way
        from styler.video import is_video, read_video_settings

        source = os.fsdecode(path)
        data = read_video_settings(source) if is_video(source) else read_settings(source)
        if not data:
            raise SettingsError(source, "no styler settings in it (not a styler result?)")
        return cls.from_dict(data, source)

    def differences(self, other: Settings) -> dict[str, tuple[Any, Any]]:
        """{what: (mine, theirs)} for everything but the engine notes; empty when equal."""
        mine, theirs = self.to_dict(), other.to_dict()
        for informational in ("engine", "files"):
            mine.pop(informational), theirs.pop(informational)
        return {k: (mine.get(k), theirs.get(k)) for k in mine if mine.get(k) != theirs.get(k)}


def image_name(item: object) -> str:
    """How settings name an image: a path's file name, or '<array>' / '<image>'."""
    source = getattr(item, "source", item)  # a LoadedImage names its source
    if isinstance(source, str | os.PathLike):
        text = os.fsdecode(source)
        return text if text.startswith("<") else Path(text).name
    return "<array>" if type(source).__name__ == "ndarray" else "<image>"


_DIGESTS: dict[tuple[str, int, int], str] = {}  # (path, mtime_ns, size) -> sha256


def file_digest(path: str | os.PathLike) -> str:
    """The file's sha256, computed once per version of the file (a batch records the same
    style image for every photo)."""
    resolved = os.path.abspath(path)
    stat = os.stat(resolved)
    key = (resolved, stat.st_mtime_ns, stat.st_size)
    if key not in _DIGESTS:
        digest = hashlib.sha256()
        with open(resolved, "rb") as stream:
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
        _DIGESTS[key] = digest.hexdigest()
    return _DIGESTS[key]


def files_of(items: Sequence[object]) -> dict[str, dict[str, str]]:
    """{name: {"path", "sha256"}} for each item that is (or was loaded from) a file; items
    in memory and names that are no file (a shipped fast style) are left out."""
    records = {}
    for item in items:
        source = getattr(item, "source", item)
        if not isinstance(source, str | os.PathLike) or os.fsdecode(source).startswith("<"):
            continue
        if os.path.isfile(source):
            records[image_name(source)] = {"path": os.path.abspath(source),
                                           "sha256": file_digest(source)}  # fmt: skip
    return records


def regions_of(pairs: Sequence[tuple[object, object | None]]) -> list[RegionSetting]:
    return [RegionSetting(image_name(m), None if s is None else image_name(s)) for m, s in pairs]


@functools.cache
def styler_version() -> str:
    """The installed styler's version, or 'unknown' in a source tree never installed. Read
    once: every result asks (a video, every frame), and the lookup walks the installed
    packages' metadata."""
    try:
        return metadata.version("styler")
    except metadata.PackageNotFoundError:
        return "unknown"


def engine_notes(**notes: Any) -> dict[str, Any]:
    """The informational part: styler's version plus what the caller adds (device, ...)."""
    return {"styler": styler_version(), **notes}

