"""The user styles folder: styles made on this machine, each a network and a manifest entry.

Layout of `user_styles_dir()` (styler.fast.manifest):

    manifest.json              entries like the shipped manifest's, with `user: true`
    NAME-SHA12.safetensors     a style's network (SHA12: the start of its sha256)
    paintings/NAME-SHA12.EXT   the painting it learned
    .training/NAME/            a training under way or stopped (styler.fast.style_jobs)

A style is published in one step that readers can never see half done: its files go in
under names no entry uses yet (each written atomically), then the manifest is replaced
atomically, then the files the old entry named are removed. A crash or a full disk leaves
the old manifest with every file it names.
"""

from __future__ import annotations

import contextlib
import hashlib
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from styler.errors import OptionsError, StylerError
from styler.fast.manifest import (
    MANIFEST,
    StyleEntry,
    read_manifest,
    user_styles,
    user_styles_dir,
    write_manifest,
)
from styler.imageio import atomic_write_bytes

NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,47}")
# A training writes its checkpoints, logs, previews and the uploaded photos; refusing to
# start below this keeps a full disk from failing it half way.
FREE_SPACE_NEEDED = 200 * 1024 * 1024


class StyleNameError(OptionsError):
    """A style name that cannot be used: path characters, or taken."""


class DiskFullError(StylerError):
    """Not enough free space in the user styles folder."""


def check_name(name: str, *, replacing: bool = False) -> str:
    """The name, stripped, or StyleNameError saying why it cannot name a new style. A user
    style of that name may be replaced only when `replacing` (its own training's result)."""
    name = (name or "").strip()
    if not name:
        raise StyleNameError("give the style a name (letters, digits, - and _)")
    if not NAME_PATTERN.fullmatch(name):
        raise StyleNameError(f"style name {name!r} can only have letters, digits, - and _ "
                             "(at most 48, no spaces or path characters)")  # fmt: skip
    taken = {e.name.lower() for e in read_manifest()}  # the shipped ones, the base too
    if name.lower() in taken:
        raise StyleNameError(f"style name {name!r} is a shipped style's: choose another")
    if not replacing and name.lower() in {e.name.lower() for e in user_styles()}:
        raise StyleNameError(
            f"a style named {name!r} exists already: delete it first "
            "(styler styles --delete NAME, or the UI) or choose another"
        )
    return name


def check_free_space(folder: Path | None = None, needed: int = FREE_SPACE_NEEDED) -> None:
    """DiskFullError when the folder's disk has less than `needed` bytes free."""
    folder = folder or user_styles_dir()
    probe = next((p for p in (folder, *folder.parents) if p.exists()), Path.cwd())
    free = shutil.disk_usage(probe).free
    if free < needed:
        raise DiskFullError(f"not enough free disk space for a training in {folder} "
                            f"({free / 2**20:.0f} MB free, it needs about "
                            f"{needed / 2**20:.0f} MB): free some space first")  # fmt: skip


@contextlib.contextmanager
def _manifest_lock() -> Iterator[None]:
    """One writer of the user manifest at a time, across processes where the OS allows
    (a UI server and a `styler train --name` may finish together)."""
    folder = user_styles_dir()
    folder.mkdir(parents=True, exist_ok=True)
    with open(folder / ".manifest.lock", "a+b") as handle:
        try:
            import fcntl
        except ImportError:  # Windows: manifest writes stay atomic, the last one wins
            yield
            return
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def _write(path: Path, data: bytes) -> None:
    try:
        atomic_write_bytes(path, data)
    except StylerError as exc:
        raise DiskFullError(f"could not save the style: {exc}") from exc


def publish(name: str, network: Path, painting: Path, *, title: str = "",
            training: dict[str, Any], distances: dict[str, float]) -> StyleEntry:  # fmt: skip
    """Add or replace the user style `name` with the network file (its sha256 recorded)
    and a copy of its painting; returns the new entry."""
    folder = user_styles_dir()
    data = network.read_bytes()
    digest = hashlib.sha256(data).hexdigest()
    art = painting.read_bytes()
    art_digest = hashlib.sha256(art).hexdigest()
    file = f"{name}-{digest[:12]}.safetensors"
    art_file = f"paintings/{name}-{art_digest[:12]}{painting.suffix.lower()}"
    _write(folder / file, data)
    _write(folder / art_file, art)
    training = {**training, "painting": painting.name, "painting_file": art_file,
                "painting_sha256": art_digest}  # fmt: skip
    entry = StyleEntry(name=name, file=file, sha256=digest, title=title or name,
                       training=training, distances=distances, user=True)  # fmt: skip
    with _manifest_lock():
        entries = read_manifest(folder / MANIFEST)
        old = [e for e in entries if e.name == name]
        try:
            write_manifest([*(e for e in entries if e.name != name), entry], folder / MANIFEST)
        except StylerError as exc:
            raise DiskFullError(f"could not save the style: {exc}") from exc
    for stale in old:
        _remove_files(stale, keep={file, art_file})
    return entry


def delete(name: str) -> StyleEntry:
    """Remove the user style `name` (its entry first, then its files); OptionsError for a
    name that is not a user style."""
    folder = user_styles_dir()
    with _manifest_lock():
        entries = read_manifest(folder / MANIFEST)
        found = next((e for e in entries if e.name == name and e.user), None)
        if found is None:
            known = ", ".join(e.name for e in entries if e.user) or "there are none"
            raise OptionsError(f"no user style named {name!r} (user styles: {known})")
        write_manifest([e for e in entries if e is not found], folder / MANIFEST)
    _remove_files(found)
    return found


def _remove_files(entry: StyleEntry, keep: frozenset[str] | set[str] = frozenset()) -> None:
    folder = user_styles_dir()
    for file in (entry.file, entry.training.get("painting_file")):
        if file and file not in keep:
            with contextlib.suppress(OSError):
                (folder / file).unlink()
