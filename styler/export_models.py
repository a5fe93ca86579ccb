"""Exporting the one-pass models: a fast network as one ONNX file, instant mode as a folder.

Float graphs are traced from the networks; fp16 stores their weights in float16; int8 is
the graph styler ships for that exact network (tools/quantize_weights.py), or, for a
network of one's own, one quantized now on the photos the caller gives. Every file is
written under a temporary name and renamed, so a failed export leaves nothing half-written.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

import numpy as np
import torch

from styler.controls import CONTROLS, INSTANT
from styler.errors import OptionsError, StylerError
from styler.fast.export import export_onnx
from styler.fast.inference import load_network
from styler.fast.runtime import fast_precision
from styler.imageio import IMAGE_EXTENSIONS
from styler.instant.export import (
    DECODER,
    ENCODER,
    FRAMES_DECODER,
    STYLE_ENCODER,
    describe,
    export_decoder,
    export_encoder,
    write_description,
)
from styler.instant.runtime import DECODER_KEY, FRAMES_DECODER_KEY, shipped_int8
from styler.instant.stylizer import (
    STYLE_MAX_SIDE,
    STYLE_MIN_SIDE,
    frame_networks_on,
    networks_on,
)
from styler.onnx_models import store_weights_as_half
from styler.precision import FP16, FP32, INT8
from styler.quantize import calibration_input, quantize_int8

EXPORT_PRECISIONS = (FP32, FP16, INT8)
MIN_CALIBRATION_PHOTOS = 8


def export_fast(name: str, output: Path | None, precision: str, calibrate: Path | None) -> Path:
    """A fast network (shipped name or .safetensors) as one ONNX file; returns its path."""
    _check_precision(precision)
    style, network, _ = load_network(name)
    suffix = "" if precision == FP32 else f"_{precision}"
    output = output or Path(f"{style}{suffix}.onnx")
    _check_writable(output.parent)
    if precision != INT8:
        return export_onnx(network.cpu().eval(), output, half=precision == FP16)
    if calibrate is None:
        chosen = fast_precision(network, style, INT8, torch.device("cpu"))
        return _copy(chosen.int8.path, output)  # fast_precision refused a network without one
    with tempfile.TemporaryDirectory() as work:
        float_graph = export_onnx(network.cpu().eval(), Path(work) / "float.onnx")
        feeds = ({"image": x} for x in calibration_photos(calibrate))
        quantized = quantize_int8(float_graph, Path(work) / "int8.onnx", feeds, operators=("Conv",))
        return _copy(quantized, output)


def export_instant(folder: Path, precision: str) -> list[Path]:
    """Instant mode's encoders, decoder, the decoder of a video's frames where one is
    installed, and instant.json in `folder`; returns their paths."""
    _check_precision(precision)
    folder.mkdir(parents=True, exist_ok=True)
    _check_writable(folder)
    nets = networks_on("cpu", FP32)
    decoders = {DECODER: (nets.decoders["relu4_1"], DECODER_KEY)}
    frames = frame_networks_on("cpu", FP32)
    if frames is not None:
        decoders[FRAMES_DECODER] = (frames.decoders["relu4_1"], FRAMES_DECODER_KEY)
    written = []
    for name, (decoder, key) in decoders.items():
        targets = [folder / ENCODER, folder / STYLE_ENCODER, folder / name]
        if precision == INT8:
            shipped = shipped_int8(nets.encoder, nets.style_encoder, decoder, key)
            if shipped is None:
                raise OptionsError("no int8 graphs are installed for instant mode's networks")
            graphs = shipped[0]
            sources = [graphs.encoder, graphs.style_encoder, graphs.decoder]
            exports = [lambda p, source=source: shutil.copyfile(source, p) for source in sources]
        else:
            exports = [lambda p: export_encoder(nets.encoder, p),
                       lambda p: export_encoder(nets.style_encoder, p),
                       lambda p, decoder=decoder: export_decoder(decoder, p)]  # fmt: skip
        for target, export in zip(targets, exports, strict=True):
            if target in written:  # the encoders, once
                continue
            tmp = target.with_name(f".{target.name}.tmp")
            export(tmp)
            if precision == FP16:
                store_weights_as_half(tmp)
            written.append(tmp.replace(target))
    description = describe(CONTROLS["stroke_side"].default_for(INSTANT), STYLE_MIN_SIDE,
                           STYLE_MAX_SIDE)  # fmt: skip
    return [*written, write_description(folder, {**description, "precision": precision})]


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
