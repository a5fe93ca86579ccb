"""Which files a batch stylizes and where each result goes.

Inputs are files or folders; folders yield their image files (recognised by
extension), sub-folders too with `recursive`. Outputs mirror the tree below
each folder given, named `<input-stem>__<style-stems>.<ext>`, so a rerun
finds the same names and `--skip-existing` can resume.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from styler.cli.common import UsageError

IMAGE_EXTENSIONS = frozenset({".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff", ".gif"})


@dataclass(frozen=True)
class Job:
    source: Path  # as the user's paths spell it, so messages name what they typed
    output: Path


@dataclass
class Plan:
    jobs: list[Job] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)  # '<path>: <reason>', found while planning


def output_name(source: Path, styles: Sequence[str | os.PathLike], extension: str) -> str:
    """'<input-stem>__<style-stem>.<ext>'; blended styles' stems are joined with '+'."""
    style_stems = "+".join(Path(style).stem for style in styles)
    return f"{source.stem}__{style_stems}.{extension}"


def make_plan(
    inputs: Sequence[str | os.PathLike],
    styles: Sequence[str | os.PathLike],
    output_dir: Path,
    extension: str,
    *,
    recursive: bool = False,
) -> Plan:
    """Jobs for every input image; an image named twice runs once, and an input whose
    output name another input already claims fails rather than overwriting it."""
    plan = Plan()
    claimed: dict[Path, Path] = {}  # output -> source
    seen: set[Path] = set()
    for source, relative in _discover(inputs, output_dir, recursive, plan.failures):
        resolved = source.resolve()
        if resolved in seen:
            continue
        seen.add(resolved)
        output = output_dir / relative / output_name(source, styles, extension)
        if output in claimed:
            plan.failures.append(
                f"{source}: its output {output} is already the output of {claimed[output]}; "
                "rename one of them or stylize them separately"
            )
            continue
        claimed[output] = source
        plan.jobs.append(Job(source, output))
    return plan


def _discover(
    inputs: Sequence[str | os.PathLike], output_dir: Path, recursive: bool, failures: list[str]
) -> Iterator[tuple[Path, Path]]:
    """(image path, output sub-folder) pairs; a file given by name is taken whatever its name."""
    skip = output_dir.resolve()
    for given in inputs:
        path = Path(given)
        if path.is_dir():
            yield from _folder_images(path, recursive, skip, failures)
        elif path.exists():
            yield path, Path()
        else:
            raise UsageError(f"{path}: no such file or folder")


def _folder_images(
    root: Path, recursive: bool, skip: Path, failures: list[str]
) -> Iterator[tuple[Path, Path]]:
    """Image files under `root` in sorted order, leaving out hidden ones and the output folder,
    which would otherwise be stylized again on the next run."""

    def unreadable(exc: OSError) -> None:
        failures.append(f"{exc.filename}: cannot list folder ({exc.strerror})")

    for folder, subfolders, files in os.walk(root, onerror=unreadable):
        here = Path(folder)
        subfolders[:] = sorted(
            name
            for name in subfolders
            if recursive and not _hidden(name) and (here / name).resolve() != skip
        )
        for name in sorted(files):
            if not _hidden(name) and Path(name).suffix.lower() in IMAGE_EXTENSIONS:
                yield here / name, here.relative_to(root)


def _hidden(name: str) -> bool:
    return name.startswith(".")
