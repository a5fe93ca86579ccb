"""A clip's journal: the segments a run has finished, kept beside the output until the clip
is complete, so a run that was killed, stopped or crashed goes on from its last finished
segment instead of the first frame (a long clip in Quality mode takes hours).

Beside `out/clip__udnie.mp4`, the hidden folder `out/.clip__udnie.mp4.styler-journal` holds
- `journal.json`: what the segments are of (`key`: the source file, the recipe, the part,
  the segment length, styler's version), the settings the clip carries and its size;
- `segment-00000.npz`, ...: each segment's encoded packets (styler.video.writer);
- `state.npz`: what the frame after the last segment needs of the frames before
  (FrameStylizer.checkpoint), replaced at each segment: only the last one's is ever needed.
Each file is written whole or not at all (styler.imageio.atomic_write_bytes), a segment's
before the state after it, so a run killed between the two goes on from the segment before.
A journal made for another key (another source, recipe or version) is removed, as is the
whole folder once the clip has its final name.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import json
import os
import shutil
import zipfile
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from styler.imageio import LoadedImage, atomic_write_bytes, name_within
from styler.settings import file_digest, styler_version
from styler.video.span import Span
from styler.video.writer import EncodedPacket, EncodedSegment

SUFFIX = ".styler-journal"
_AFTER = "state.segment"  # in state.npz: the segment the state is after


class UnknownInput(ValueError):
    """A recipe holds something with no fingerprint: its clips keep no journal."""


class ClipJournal:
    """The finished segments of one output clip (`segments` of them, numbered from 0)."""

    def __init__(self, folder: Path, key: str) -> None:
        self.folder, self.key = folder, key
        self.settings: dict[str, Any] | None = None
        self.size: tuple[int, int] | None = None
        self.segments = 0

    @classmethod
    def open(cls, target: str | os.PathLike, key: str) -> ClipJournal:
        """The journal of `target` for this key: its finished segments where an earlier run
        left some for the same key, else empty (another key's journal is removed)."""
        journal = cls(folder_of(target), key)
        try:
            header = json.loads((journal.folder / "journal.json").read_text("utf-8"))
        except (OSError, ValueError):
            header = None
        if not isinstance(header, dict) or header.get("key") != key:
            journal.remove()
            return journal
        journal.settings = header.get("settings")
        journal.size = tuple(header.get("size", ()))  # type: ignore[assignment]
        after = journal._state_after()
        while journal.segments <= after and _readable(journal._segment_path(journal.segments)):
            journal.segments += 1
        if journal.segments != after + 1:  # no state, or one after a segment that is lost
            journal.remove()
            return cls(journal.folder, key)
        return journal

    def _state_after(self) -> int:
        """The segment state.npz follows (-1: none)."""
        try:
            with np.load(self.folder / "state.npz", allow_pickle=False) as saved:
                return int(saved[_AFTER])
        except (OSError, ValueError, KeyError, zipfile.BadZipFile):
            return -1

    def state(self) -> dict[str, np.ndarray]:
        """The stream's state after the last segment."""
        with np.load(self.folder / "state.npz", allow_pickle=False) as saved:
            return {name: saved[name] for name in saved.files if name != _AFTER}

    def load(self, number: int) -> EncodedSegment:
        """Segment `number`'s packets."""
        with np.load(self._segment_path(number), allow_pickle=False) as saved:
            lengths, data = saved["lengths"], saved["data"].tobytes()
            ends = np.cumsum(lengths)
            packets = tuple(
                EncodedPacket(data[end - length : end], _time(pts, has_pts), _time(dts, has_dts),
                              int(duration), bool(key))  # fmt: skip
                for end, length, pts, has_pts, dts, has_dts, duration, key in zip(
                    ends, lengths, saved["pts"], saved["has_pts"], saved["dts"],
                    saved["has_dts"], saved["duration"], saved["keyframe"], strict=True)
            )  # fmt: skip
            frames, last_pts = (int(value) for value in saved["position"])
            known = bool(saved["has_last_pts"])
        return EncodedSegment(packets, frames, last_pts if known else None)

    def save(
        self,
        number: int,
        segment: EncodedSegment,
        state: Mapping[str, np.ndarray],
        settings: dict[str, Any],
        size: tuple[int, int],
    ) -> None:
        """Segment `number` finished: its packets and the stream's state after it, kept (the
        first one also writes what the journal is of)."""
        if number == 0:
            self.folder.mkdir(parents=True, exist_ok=True)
            header = {"key": self.key, "settings": settings, "size": list(size)}
            atomic_write_bytes(self.folder / "journal.json", json.dumps(header).encode())
        packets = segment.packets
        arrays = {
            "data": np.frombuffer(b"".join(p.data for p in packets), np.uint8),
            "lengths": np.array([len(p.data) for p in packets], np.int64),
            "pts": np.array([p.pts or 0 for p in packets], np.int64),
            "has_pts": np.array([p.pts is not None for p in packets], bool),
            "dts": np.array([p.dts or 0 for p in packets], np.int64),
            "has_dts": np.array([p.dts is not None for p in packets], bool),
            "duration": np.array([p.duration for p in packets], np.int64),
            "keyframe": np.array([p.keyframe for p in packets], bool),
            "position": np.array([segment.frames, segment.last_pts or 0], np.int64),
            "has_last_pts": np.array(segment.last_pts is not None),
        }
        atomic_write_bytes(self._segment_path(number), _npz(arrays))
        atomic_write_bytes(self.folder / "state.npz", _npz({**state, _AFTER: np.array(number)}))
        self.segments = number + 1

    def remove(self) -> None:
        """The journal gone (the clip is complete, or the journal is another key's)."""
        _removed(self.folder)

    def _segment_path(self, number: int) -> Path:
        return self.folder / f"segment-{number:05d}.npz"


def folder_of(target: str | os.PathLike) -> Path:
    """Where the journal of the output `target` is kept: a hidden folder beside it. An
    output whose name is near the file system's limit gets a shortened one, told apart from
    other shortened names by a digest of the whole."""
    name = Path(target).name
    if name_within(name, len(f".{SUFFIX}")) != name:
        digest = hashlib.sha256(os.fsencode(name)).hexdigest()[:12]
        name = f"{name_within(name, len(f'.~{digest}{SUFFIX}'))}~{digest}"
    return Path(target).parent / f".{name}{SUFFIX}"


def discard(target: str | os.PathLike) -> None:
    """Any journal an earlier run of `target` left (a run that starts afresh)."""
    _removed(folder_of(target))


def _removed(folder: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        shutil.rmtree(folder)


def journal_key(
    source: str | os.PathLike, recipe: Any, span: Span | None, segment_frames: int
) -> str:
    """What a journal's segments depend on, as one digest: the source file (its path, size
    and modification time: a video is too large to read twice), the recipe (mode, controls,
    blend, and each style, region mask and start image by its content), the part, the
    segment length and styler's version. UnknownInput where the recipe holds something
    that has no fingerprint."""
    stat = os.stat(source)
    facts = {
        "source": [os.path.abspath(source), stat.st_size, stat.st_mtime_ns],
        "mode": recipe.mode,
        "controls": dict(recipe.controls),
        "blend": recipe.blend,
        "styles": [_identity(style) for style in recipe.styles],
        "regions": [[_identity(mask), _identity(style)] for mask, style in recipe.regions],
        "init": _identity(recipe.init_image),
        "part": None if span is None else [span.start, span.end],
        "segment": segment_frames,
        "version": styler_version(),
    }
    text = json.dumps(facts, sort_keys=True, default=_identity)
    return hashlib.sha256(text.encode()).hexdigest()


def _identity(item: Any) -> Any:
    """A style, mask or start image by its content: a file's digest, an image's pixels'."""
    if item is None:
        return None
    if isinstance(item, LoadedImage):  # a style the web UI loaded from its upload
        return ["loaded", _identity(item.rgb), _identity(item.alpha)]
    if isinstance(item, Image.Image):
        return ["pixels", item.mode, list(item.size), hashlib.sha256(item.tobytes()).hexdigest()]
    if isinstance(item, np.ndarray):
        return ["array", list(item.shape), str(item.dtype),
                hashlib.sha256(np.ascontiguousarray(item).tobytes()).hexdigest()]  # fmt: skip
    if isinstance(item, str | os.PathLike):
        path = os.fspath(item)
        if not os.path.isfile(path):
            return _named_style(os.fsdecode(path))
        return ["file", os.path.abspath(path), file_digest(path)]
    return _unknown(item)


def _named_style(name: str) -> list[str]:
    """A fast style by name, with its network's digest: a style made again under the same
    name (the UI's Make a style) is another style."""
    from styler.errors import OptionsError
    from styler.fast.manifest import find_style

    try:
        return ["name", name, find_style(name).sha256]
    except OptionsError:
        return ["name", name]


def _unknown(item: Any) -> Any:
    raise UnknownInput(f"no fingerprint for {type(item).__name__}")


def _npz(arrays: Mapping[str, np.ndarray]) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _readable(path: Path) -> bool:
    """A segment's file that is there and whole (its zip directory reads)."""
    try:
        with zipfile.ZipFile(path) as archive:
            return bool(archive.namelist())
    except (OSError, zipfile.BadZipFile):
        return False


def _time(value: Any, present: Any) -> int | None:
    return int(value) if present else None
