"""Exporting the one-pass models: a fast network as one ONNX file, instant mode as a folder.

Float graphs are traced from the networks (instant mode's are the ones its engine runs,
styler.instant.runtime); fp16 stores their weights in float16; int8 is the graph styler
ships for that exact network (tools/quantize_weights.py), or, for a fast network of one's
own, one quantized now on the photos the caller gives. Every graph is written under a
temporary name beside its target, and all are renamed into place only once all are
complete, so a failed export leaves no new file (an earlier export in the folder stays as
it was), no temporary file and no folder it made.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from pathlib import Path

import numpy as np

from styler.batch import check_output_folder
from styler.controls import CONTROLS, INSTANT
from styler.errors import OptionsError, StylerError
from styler.fast.export import export_onnx
from styler.fast.inference import network_file
from styler.fast.runtime import Painter, fast_precision
from styler.imageio import (
    IMAGE_EXTENSIONS,
    ImageSaveError,
    commit_temporary,
    os_reason,
    temporary_name,
)
from styler.instant.cascade import Passes
from styler.instant.export import (
    DECODER,
    DESCRIPTION,
    ENCODER,
    FRAMES_DECODER,
    STYLE_ENCODER,
    describe,
    write_description,
)
from styler.instant.runtime import InstantGraphs, OnnxNetworks, require_onnxruntime
from styler.instant.stylizer import (
    STYLE_MAX_SIDE,
    STYLE_MIN_SIDE,
    STYLE_MIN_THICKNESS,
    frame_networks_on,
    networks_on,
)
from styler.onnx_models import store_weights_as_half
from styler.precision import EXPORT_PRECISIONS, FP16, FP32, INT8
from styler.quantize import calibration_input, quantize_int8

MIN_CALIBRATION_PHOTOS = 8
_SEPARATORS = tuple(sep for sep in (os.sep, os.altsep) if sep)


def export_fast(
    name: str, output: str | Path | None, precision: str, calibrate: Path | None
) -> Path:
    """A fast network (shipped name or .safetensors) as one ONNX file; returns its path.
    `output` is the file, or a folder to put NAME.onnx in (see _target)."""
    _check_precision(precision)
    style, file = network_file(name)
    network = file.network()
    suffix = "" if precision == FP32 else f"_{precision}"
    target = _target(output, f"{style}{suffix}.onnx")
    check_output_folder(target.parent, str(target))
    if precision == INT8 and calibrate is None:
        try:
            chosen = fast_precision(Painter(style, file.sha256, lambda: network), INT8, "cpu")
        except OptionsError as exc:  # a network of one's own: none ships, one can be made
            raise OptionsError(f"{exc}, or quantize it on your photos: --calibrate DIR") from None
        # fast_precision refused a network without one
        return _install(target.parent, {target.name: chosen.int8.path})[0]
    with tempfile.TemporaryDirectory() as work:
        graph = export_onnx(network.cpu().eval(), Path(work) / "float.onnx",
                            half=precision == FP16)  # fmt: skip
        if precision == INT8:
            feeds = ({"image": x} for x in calibration_photos(calibrate))
            graph = quantize_int8(graph, Path(work) / "int8.onnx", feeds, operators=("Conv",))
        return _install(target.parent, {target.name: graph})[0]


def export_instant(folder: Path, precision: str) -> list[Path]:
    """Instant mode's graphs as the engine runs them on the CPU (the photo's and the
    painting's encoders, the decoder and, where one is installed, the decoder of a video's
    frames) and instant.json in `folder`; returns their paths."""
    _check_precision(precision)
    require_onnxruntime()
    check_output_folder(folder, str(folder))
    runs_as = INT8 if precision == INT8 else FP32  # fp16: fp32's graphs, weights halved
    graphs = _graphs(networks_on("cpu", runs_as))
    sources = {ENCODER: graphs.encoder, STYLE_ENCODER: graphs.style_encoder,
               DECODER: graphs.decoder}  # fmt: skip
    frames = frame_networks_on("cpu", runs_as)
    if frames is not None:
        sources[FRAMES_DECODER] = _graphs(frames).decoder
    description = describe(CONTROLS["stroke_side"].default_for(INSTANT), STYLE_MIN_SIDE,
                           STYLE_MAX_SIDE)  # fmt: skip
    description.update(precision=precision, style_min_thickness=STYLE_MIN_THICKNESS)
    with tempfile.TemporaryDirectory() as work:
        if precision == FP16:
            sources = {name: _halved(graph, Path(work) / name) for name, graph in sources.items()}
        sources[DESCRIPTION] = write_description(Path(work), description)
        return _install(folder, sources)


def _graphs(nets: Passes) -> InstantGraphs:
    """The graphs behind networks onnxruntime runs (on the CPU in fp32 or int8 with
    onnxruntime installed, as export_instant asks for them)."""
    assert isinstance(nets, OnnxNetworks)
    return nets.graphs


def calibration_photos(folder: Path) -> list[np.ndarray]:
    """(1, 3, 384, 512) float inputs of the photos in `folder` (unreadable ones skipped)."""
    if not folder.is_dir():
        raise StylerError(f"{folder}: not a folder of calibration photos")
    arrays = []
    for path in sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_EXTENSIONS):
        try:
            arrays.append(calibration_input(path))
        except OSError:
            continue
    if len(arrays) < MIN_CALIBRATION_PHOTOS:
        raise StylerError(f"{folder}: {len(arrays)} readable photos; int8 calibration needs "
                          f"at least {MIN_CALIBRATION_PHOTOS}")  # fmt: skip
    return arrays


def _check_precision(precision: str) -> None:
    if precision not in EXPORT_PRECISIONS:
        raise OptionsError(f"export precision must be one of {', '.join(EXPORT_PRECISIONS)}")


def _target(output: str | Path | None, name: str) -> Path:
    """Where the graph `name` goes: `output` itself, or `output`/`name` where `output` is a
    folder: an existing one, or one spelt with a trailing separator (`-o models/`), made
    when the graph is written."""
    if output is None:
        return Path(name)
    if Path(output).is_dir() or str(output).endswith(_SEPARATORS):
        return Path(output) / name
    return Path(output)


def _install(folder: Path, files: dict[str, Path]) -> list[Path]:
    """`files` copied into `folder` under their names, all or none; returns their paths.

    Each goes to a temporary file beside its target first (imageio's, so one a killed
    export left is cleared by the next write there), and all are renamed into place only
    once all are complete: a failure part way (a full disk at the second graph) leaves no
    new file, no temporary one, no folder made for them, and an earlier export in `folder`
    as it was. A rename that fails (a folder in the way is found before the first) takes
    back those already made, and what they replaced is gone."""
    made = [path for path in (folder, *folder.parents) if not path.exists()]  # deepest first
    temporaries: dict[Path, Path] = {}
    renamed: list[Path] = []
    try:
        for name, source in files.items():
            target = folder / name
            if target.is_dir():  # found now, before any rename, not when renaming over it
                raise ImageSaveError(str(target), "a folder of that name is in the way")
            temporaries[target] = temporary_name(target)
            try:
                shutil.copyfile(source, temporaries[target])
            except OSError as exc:  # named as the user gave it, not as the temporary file
                reason = f"could not write the file ({os_reason(exc)})"
                raise ImageSaveError(str(target), reason) from exc
        for target, temporary in temporaries.items():
            commit_temporary(temporary, target)
            renamed.append(target)
    except BaseException:
        for path in [*temporaries.values(), *renamed]:
            with contextlib.suppress(OSError):
                path.unlink(missing_ok=True)
        for path in made:
            with contextlib.suppress(OSError):
                path.rmdir()
        raise
    return list(temporaries)


def _halved(source: Path, copy: Path) -> Path:
    """A copy of the graph `source` at `copy` with its weights stored as float16."""
    shutil.copyfile(source, copy)
    store_weights_as_half(copy)
    return copy
