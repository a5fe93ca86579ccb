"""Inputs and outputs on object stores (`s3://`, `gs://`, `file://`, ...) for the Ray engine.

Local paths go through the local engine's own code (styler.batch.make_plan, save_image); a URL goes
through pyarrow's filesystem layer, the one Ray Data uses, so every store pyarrow knows
works with the credentials it finds. A worker copies an input to a local temporary file of
the same name and stylizes that, and uploads an output under a temporary name that it then
renames, so errors read as they do for local files (naming the URL) and no partial object
is ever visible under a final name. pyarrow is imported only when a URL is used.
"""

from __future__ import annotations

import contextlib
import os
import re
import uuid
from collections.abc import Iterator, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from styler.batch import INPUT_EXTENSIONS, Job, Plan, make_plan, output_kind, output_name
from styler.errors import StylerError


class StorageError(StylerError):
    """A location cannot be used (an unknown store, a missing input, mixed kinds)."""


_URL = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]+://")


def is_url(location: object) -> bool:
    """True for 's3://bucket/key' and the like; False for local paths (Windows drives too)."""
    return isinstance(location, str) and bool(_URL.match(location))


def url_join(base: str, *parts: str) -> str:
    return "/".join([base.rstrip("/"), *(p.strip("/") for p in parts if p and p != ".")])


def _filesystem(url: str) -> tuple[Any, str]:
    from pyarrow import fs

    try:
        return fs.FileSystem.from_uri(url)
    except (ValueError, OSError) as exc:
        raise StorageError(f"{url}: {' '.join(str(exc).split())}") from exc


_NOWHERE = Path(os.devnull) / "styler-output"  # a stand-in output folder for make_plan


def plan_any(
    inputs: Sequence[str | os.PathLike],
    styles: Sequence[str | os.PathLike],
    output_dir: str | Path,
    extension: str,
    *,
    recursive: bool = False,
) -> Plan:
    """make_plan where the output folder or the inputs may be URLs: the same names, order
    and refusals. Local inputs are found by make_plan itself; URL inputs are listed through
    pyarrow (sorted, hidden names and the output folder left out, sub-folders with
    `recursive`). Inputs are all local paths or all URLs."""
    remote = [is_url(given) for given in inputs]
    if not any(remote):
        if not is_url(output_dir):
            return make_plan(inputs, styles, Path(output_dir), extension, recursive=recursive)
        plan = make_plan(inputs, styles, _NOWHERE, extension, recursive=recursive)
        plan.jobs = [Job(job.source, _moved(job.output, str(output_dir)))  # type: ignore[arg-type]
                     for job in plan.jobs]  # fmt: skip
        plan.failures = [f.replace(str(_NOWHERE), str(output_dir).rstrip("/"))
                         for f in plan.failures]  # fmt: skip
        return plan
    if not all(remote):
        raise StorageError("give inputs as local paths or as URLs, not both")
    plan = Plan()
    claimed: dict[str, str] = {}  # output -> source
    for source, relative in _listed(inputs, output_dir, recursive):
        name = output_name(Path(PurePosixPath(source).name), styles, output_kind(source, extension))
        output = (url_join(str(output_dir), relative, name) if is_url(output_dir)
                  else str(Path(output_dir) / relative / name))  # fmt: skip
        if claimed.get(output) == source:
            continue  # the same image named twice runs once
        if output in claimed:
            plan.failures.append(
                f"{source}: its output {output} is already the output of {claimed[output]}; "
                "rename one of them or stylize them separately"
            )
            continue
        claimed[output] = source
        plan.jobs.append(Job(source, output))  # type: ignore[arg-type]  # URLs stay strings
    return plan


def _moved(output: Path, base: str) -> str:
    return url_join(base, *output.relative_to(_NOWHERE).parts)


def _listed(
    urls: Sequence[str | os.PathLike], output_dir: str | Path, recursive: bool
) -> Iterator[tuple[str, str]]:
    """(image URL, output sub-folder) for each URL input, a folder's images in sorted order."""
    from pyarrow import fs

    skip = _filesystem(str(output_dir))[1].rstrip("/") + "/" if is_url(output_dir) else None
    for given in map(str, urls):
        filesystem, root = _filesystem(given)
        kind = filesystem.get_file_info(root).type
        if kind == fs.FileType.NotFound:
            raise StorageError(f"{given}: no such file or folder")
        if kind == fs.FileType.File:
            yield given, ""
            continue
        root = root.rstrip("/")
        found = []
        for entry in filesystem.get_file_info(fs.FileSelector(root, recursive=recursive)):
            relative = PurePosixPath(entry.path).relative_to(root or "/")
            if (entry.type != fs.FileType.File or any(p.startswith(".") for p in relative.parts)
                    or (skip is not None and (entry.path + "/").startswith(skip))
                    or relative.suffix.lower() not in INPUT_EXTENSIONS):  # fmt: skip
                continue
            found.append(relative)
        for relative in sorted(found, key=lambda r: (r.parts[:-1], r.name)):
            yield url_join(given, str(relative)), str(relative.parent)


def fetch(url: str, local: Path) -> None:
    """Copy the object at `url` to the local file `local` (its folder is made)."""
    filesystem, key = _filesystem(url)
    local.parent.mkdir(parents=True, exist_ok=True)
    try:
        with filesystem.open_input_stream(key) as stream:
            local.write_bytes(stream.read())
    except FileNotFoundError as exc:
        raise FileNotFoundError(2, "No such file or directory", url) from exc


def publish(local: Path, output: str) -> None:
    """Upload a finished local file to `output` under a hidden temporary name, then rename
    it, so the final name only ever holds a complete file."""
    filesystem, key = _filesystem(output)
    parent = str(PurePosixPath(key).parent)
    filesystem.create_dir(parent, recursive=True)
    temporary = f"{parent}/.{PurePosixPath(key).name}.{uuid.uuid4().hex}.tmp"
    try:
        with filesystem.open_output_stream(temporary) as stream:
            stream.write(local.read_bytes())
        filesystem.move(temporary, key)
    except BaseException:
        with contextlib.suppress(Exception):
            filesystem.delete_file(temporary)
        raise


def exists(output: str) -> bool:
    from pyarrow import fs

    filesystem, key = _filesystem(output)
    return filesystem.get_file_info(key).type == fs.FileType.File
