"""Batch tab plumbing: many photos or zips in, one zip of results (and an error list) out.

Zips are read defensively: only image entries, no paths taken from the archive (names are
flattened and cleaned), and limits on the entry count and on the uncompressed size, checked
while reading, so a zip bomb stops at the limit instead of filling the disk.
"""

from __future__ import annotations

import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from styler.imageio import IMAGE_EXTENSIONS as IMAGE_SUFFIXES  # HEIC, AVIF and RAW too
from styler.ui.services import safe_name

CHUNK = 1 << 20


@dataclass(frozen=True)
class BatchInput:
    name: str  # what the user called it: 'photo.jpg' or 'trip.zip/day1/photo.jpg'
    path: Path  # readable copy on the server


class _Budget:
    def __init__(self, max_files: int, max_bytes: int) -> None:
        self.files, self.bytes = max_files, max_bytes

    def take_file(self) -> bool:
        self.files -= 1
        return self.files >= 0


def collect(
    files: Sequence[str | Path],
    workdir: Path,
    *,
    max_files: int,
    max_bytes: int,
) -> tuple[list[BatchInput], list[str], list[str]]:
    """Uploaded files (images and zips of images) -> inputs to process, per-file errors, and
    what a zip held besides images (a readme: left out, as a folder's are, not a failure)."""
    inputs: list[BatchInput] = []
    errors: list[str] = []
    left_out: list[str] = []
    budget = _Budget(max_files, max_bytes)
    used: set[str] = set()
    workdir.mkdir(parents=True, exist_ok=True)
    for file in files:
        path = Path(file)
        name = path.name
        if path.suffix.lower() == ".zip":
            _from_zip(path, workdir, budget, used, inputs, errors, left_out)
        elif path.suffix.lower() in IMAGE_SUFFIXES:
            if budget.take_file():
                inputs.append(BatchInput(name, path))
            else:
                errors.append(f"{name}: skipped, more than {max_files} images in one batch")
        else:
            errors.append(f"{name}: not an image or a zip file")
    if not inputs and not errors:
        errors.append("no images were uploaded" if left_out else "no files were uploaded")
    return inputs, errors, left_out


def _from_zip(
    path: Path,
    workdir: Path,
    budget: _Budget,
    used: set[str],
    inputs: list[BatchInput],
    errors: list[str],
    left_out: list[str],
) -> None:
    try:
        archive = zipfile.ZipFile(path)
    except (zipfile.BadZipFile, OSError):
        errors.append(f"{path.name}: not a readable zip file")
        return
    with archive:
        for info in archive.infolist():
            member = info.filename
            label = f"{path.name}/{member}"
            parts = Path(member).parts
            if info.is_dir() or "__MACOSX" in parts or Path(member).name.startswith("."):
                continue
            if Path(member).suffix.lower() not in IMAGE_SUFFIXES:
                left_out.append(label)
                continue
            if not budget.take_file():
                errors.append(f"{label}: skipped, too many images in one batch")
                continue
            if info.file_size > budget.bytes:
                errors.append(f"{label}: skipped, the batch is over its size limit")
                continue
            target = workdir / _unique(safe_name("_".join(parts)), used)
            try:
                written = _extract(archive, info, target, budget.bytes)
            except (zipfile.BadZipFile, OSError, RuntimeError, ValueError) as exc:
                errors.append(f"{label}: could not be read from the zip ({exc})")
                continue
            if written is None:
                errors.append(f"{label}: skipped, the batch is over its size limit")
                continue
            budget.bytes -= written
            inputs.append(BatchInput(label, target))


def _extract(
    archive: zipfile.ZipFile, info: zipfile.ZipInfo, target: Path, limit: int
) -> int | None:
    """Copy one member, stopping at `limit` bytes whatever its header claims; None if over."""
    written = 0
    with archive.open(info) as source, open(target, "wb") as out:
        while chunk := source.read(CHUNK):
            written += len(chunk)
            if written > limit:
                break
            out.write(chunk)
    if written > limit:
        target.unlink(missing_ok=True)
        return None
    return written


def _unique(name: str, used: set[str]) -> str:
    stem, dot, suffix = name.rpartition(".")
    if not dot:
        stem, suffix = name, ""
    candidate, number = name, 2
    while candidate.lower() in used:
        candidate = f"{stem}-{number}{dot}{suffix}"
        number += 1
    used.add(candidate.lower())
    return candidate


def write_zip(outputs: Sequence[Path], errors: Sequence[str], target: Path,
              left_out: Sequence[str] = ()) -> Path:  # fmt: skip
    """Results (stored: PNGs do not compress further) plus errors.txt when some files were
    not stylized or were left out (not images), as the page's report lists them."""
    used: set[str] = set()
    with zipfile.ZipFile(target, "w") as archive:
        for output in outputs:
            archive.write(output, _unique(output.name, used), compress_type=zipfile.ZIP_STORED)
        parts = [("These files were not stylized:", errors),
                 ("Left out, not images:", left_out)]  # fmt: skip
        text = "\n".join(f"{title}\n" + "\n".join(names) + "\n" for title, names in parts if names)
        if text:
            archive.writestr("errors.txt", text, compress_type=zipfile.ZIP_DEFLATED)
    return target
