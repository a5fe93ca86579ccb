"""Paintings' feature statistics kept on disk between commands.

A command that paints one photo with a painting spends a fifth of its time encoding the
painting with VGG19 (the session included) and taking the square root of its covariance:
the same work every time a script runs styler once per photo with the same painting. So
the statistics of a painting (as resized for the pass, not recoloured to a photo) are kept
in the cache folder under a digest of its pixels and of the graph that encoded them; the
newest KEEP entries stay. A damaged entry is ignored and made again.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import os
import zipfile
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from styler.imageio import atomic_write_bytes
from styler.instant.wct import FeatureStats
from styler.onnx_models import cache_dir

STATS_FORMAT = "styler-instant-stats-v1"  # bump when what a statistics file holds changes
KEEP = 32  # entries, 4 MB each (a 512-channel level's covariance and its square root)


def stats_path(encoder_key: str, painting: np.ndarray) -> Path:
    """Where the statistics of `painting` (HxWx3 uint8) as the graph `encoder_key` sees
    it are kept."""
    digest = hashlib.sha256(f"{STATS_FORMAT}:{encoder_key}:{painting.shape}".encode())
    digest.update(np.ascontiguousarray(painting).data)
    return cache_dir() / "instant-stats" / f"{digest.hexdigest()[:40]}.npz"


def load_stats(path: Path) -> dict[str, FeatureStats] | None:
    """The statistics kept at `path`, or None where there are none or they are damaged."""
    try:
        with np.load(path, allow_pickle=False) as data:
            levels = {name.split("/")[0] for name in data.files}
            stats = {level: FeatureStats.primed(data[f"{level}/mean"], data[f"{level}/cov"],
                                                data[f"{level}/colouring"])
                     for level in levels}  # fmt: skip
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile):
        return None
    with contextlib.suppress(OSError):
        os.utime(path)  # recently used: pruned last
    return stats or None


def store_stats(path: Path, stats: Mapping[str, FeatureStats]) -> None:
    """Keep `stats` at `path` (atomically), then prune the folder to the newest KEEP."""
    arrays = {}
    for level, level_stats in stats.items():
        arrays.update({f"{level}/mean": level_stats.mean, f"{level}/cov": level_stats.cov,
                       f"{level}/colouring": level_stats.colouring})  # fmt: skip
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    try:
        atomic_write_bytes(path, buffer.getvalue())
    except OSError:  # a read-only or full cache: the statistics are only an optimisation
        return
    _prune(path.parent)


def _prune(folder: Path) -> None:
    entries = []
    for path in folder.glob("*.npz"):
        with contextlib.suppress(OSError):
            entries.append((path.stat().st_mtime, path))
    for _, path in sorted(entries, reverse=True)[KEEP:]:
        path.unlink(missing_ok=True)
