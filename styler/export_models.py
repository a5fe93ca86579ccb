"""Exporting the one-pass models: a fast network as one ONNX file, instant mode as a folder.

Float graphs are traced from the networks (instant mode's are the ones its engine runs,
styler.instant.runtime); fp16 stores their weights in float16; int8 is the graph styler
ships for that exact network (tools/quantize_weights.py), or, for a fast network of one's
own, one quantized now on the photos the caller gives. Every file is
written under a temporary name and renamed, so a failed export leaves nothing half-written.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np

from styler.controls import CONTROLS, INSTANT
from styler.errors import OptionsError, StylerError
from styler.fast.export import export_onnx
from styler.fast.inference import network_file
from styler.fast.runtime import Painter, fast_precision
from styler.imageio import IMAGE_EXTENSIONS
from styler.instant.cascade import Passes
from styler.instant.export import (
    DECODER,
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
    frame_networks_on,
    networks_on,
)
from styler.onnx_models import store_weights_as_half
from styler.precision import EXPORT_PRECISIONS, FP16, FP32, INT8
from styler.quantize import calibration_input, quantize_int8

MIN_CALIBRATION_PHOTOS = 8


def export_fast(name: str, output: Path | None, precision: str, calibrate: Path | None) -> Path:
    """A fast network (shipped name or .safetensors) as one ONNX file; returns its path."""
    _check_precision(precision)
    style, file = network_file(name)
    network = file.network()
    suffix = "" if precision == FP32 else f"_{precision}"
    output = output or Path(f"{style}{suffix}.onnx")
    _check_writable(output.parent)
    if precision != INT8:
        return export_onnx(network.cpu().eval(), output, half=precision == FP16)
    if calibrate is None:
        chosen = fast_precision(Painter(style, file.sha256, lambda: network), INT8, "cpu")
        return _copy(chosen.int8.path, output)  # fast_precision refused a network without one
    with tempfile.TemporaryDirectory() as work:
        float_graph = export_onnx(network.cpu().eval(), Path(work) / "float.onnx")
        feeds = ({"image": x} for x in calibration_photos(calibrate))
        quantized = quantize_int8(float_graph, Path(work) / "int8.onnx", feeds, operators=("Conv",))
        return _copy(quantized, output)


def export_instant(folder: Path, precision: str) -> list[Path]:
    """Instant mode's graphs as the engine runs them on the CPU (the photo's and the
    painting's encoders, the decoder and, where one is installed, the decoder of a video's
    frames) and instant.json in `folder`; returns their paths."""
    _check_precision(precision)
    require_onnxruntime()
    folder.mkdir(parents=True, exist_ok=True)
    _check_writable(folder)
    runs_as = INT8 if precision == INT8 else FP32  # fp16: fp32's graphs, weights halved
    graphs = _graphs(networks_on("cpu", runs_as))
    sources = {ENCODER: graphs.encoder, STYLE_ENCODER: graphs.style_encoder,
               DECODER: graphs.decoder}  # fmt: skip
    frames = frame_networks_on("cpu", runs_as)
    if frames is not None:
        sources[FRAMES_DECODER] = _graphs(frames).decoder
    written = []
    for name, source in sources.items():
        target = folder / name
        tmp = target.with_name(f".{target.name}.tmp")
        shutil.copyfile(source, tmp)
        if precision == FP16:
            store_weights_as_half(tmp)
        written.append(tmp.replace(target))
    description = describe(CONTROLS["stroke_side"].default_for(INSTANT), STYLE_MIN_SIDE,
                           STYLE_MAX_SIDE)  # fmt: skip
    return [*written, write_description(folder, {**description, "precision": precision})]


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


def _check_writable(folder: Path) -> None:
    """Fail before any work when the target folder cannot take a file."""
    folder = folder if str(folder) else Path(".")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".styler-write-check-"):
            pass
    except OSError as exc:
        raise StylerError(f"{folder}: cannot write there ({exc.strerror or exc})") from exc


def _copy(source: Path, target: Path) -> Path:
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.copyfile(source, tmp)
    return tmp.replace(target)
