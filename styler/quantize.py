"""Static INT8 quantization of a float ONNX graph with onnxruntime's tools.

QDQ format (QuantizeLinear/DequantizeLinear pairs around each quantized operator, which
onnxruntime fuses into int8 kernels and any other runtime can still read), weights int8 per
output channel, activations uint8 per tensor with ranges calibrated on real photos.

The first and last convolutions stay in float (keep_outer, the default): the first sees
raw pixels, whose fine steps int8 would band, and the last writes them; so do convolutions
that only move pixels (float_convs). `operators` limits
what is quantized: fast networks quantize only their convolutions, since int8 arithmetic
in their instance normalisation cost 4 % of the content distance on validation photos
(tools/quantize_weights.py measures it).
"""

from __future__ import annotations

import contextlib
import sys
import tempfile
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps

from styler.errors import StylerError

Feed = Mapping[str, np.ndarray]  # one calibration input: graph input name -> array
CALIBRATION_SIZE = (512, 384)  # one shape for every calibration photo (the calibrator stacks)


def calibration_input(path: Path) -> np.ndarray:
    """A photo as a (1, 3, 384, 512) float input in [0, 1], cropped to fill that shape."""
    image = ImageOps.fit(Image.open(path).convert("RGB"), CALIBRATION_SIZE)
    return np.asarray(image, np.float32).transpose(2, 0, 1)[None] / 255


def float_convs(path: Path) -> list[str]:
    """The convolutions kept in float by default: the first and last that compute, and every
    one that only picks pixels (a fast network's space-to-depth, styler.fast.network), whose
    input is the raw photo and whose int8 copy would round it."""
    import onnx
    from onnx import numpy_helper

    model = onnx.load(str(path))
    weights = {tensor.name: tensor for tensor in model.graph.initializer}
    constants = [node for node in model.graph.node if node.op_type == "Constant"]
    weights.update({node.output[0]: node.attribute[0].t for node in constants
                    if node.attribute[0].name == "value"})  # fmt: skip
    computing, picking = [], []
    for node in model.graph.node:
        if node.op_type == "Conv":
            weight = weights.get(node.input[1])
            picks = weight is not None and _picks_pixels(numpy_helper.to_array(weight))
            (picking if picks else computing).append(node.name)
    return [*dict.fromkeys(computing[:1] + computing[-1:]), *picking]


def _picks_pixels(weight: np.ndarray) -> bool:
    """Every output channel copies one input pixel: a kernel of zeros with a single one."""
    rows = weight.reshape(weight.shape[0], -1)
    return bool(np.isin(rows, (0, 1)).all() and (rows.sum(axis=1) == 1).all())


def quantize_int8(
    float_model: Path,
    output: Path,
    calibration: Iterable[Feed],
    keep_outer: bool = True,
    operators: Sequence[str] | None = None,
) -> Path:
    """Write `output`, the int8 version of `float_model`, calibrated on `calibration` (inputs
    of one shape: the percentile calibrator stacks them)."""
    try:
        from onnxruntime.quantization import (
            CalibrationDataReader,
            CalibrationMethod,
            QuantFormat,
            QuantType,
            quantize_static,
        )
        from onnxruntime.quantization.shape_inference import quant_pre_process
    except ImportError as exc:
        raise StylerError("int8 quantization needs: pip install onnxruntime onnx") from exc

    feeds = iter(calibration)

    class Reader(CalibrationDataReader):
        def get_next(self) -> Feed | None:
            return next(feeds, None)

    # onnxruntime's quantizer prints its progress: to stderr, so a command's stdout stays the
    # path it wrote (what scripts read)
    with tempfile.TemporaryDirectory() as folder, contextlib.redirect_stdout(sys.stderr):
        prepared = Path(folder) / "prepared.onnx"
        quant_pre_process(str(float_model), str(prepared), skip_symbolic_shape=True)
        quantize_static(
            str(prepared),
            str(output),
            Reader(),
            quant_format=QuantFormat.QDQ,
            per_channel=True,
            activation_type=QuantType.QUInt8,
            weight_type=QuantType.QInt8,
            calibrate_method=CalibrationMethod.Percentile,
            nodes_to_exclude=float_convs(prepared) if keep_outer else [],
            op_types_to_quantize=list(operators) if operators else None,
            extra_options={"CalibPercentile": 99.999},
        )
    pad_after_quantizing(output)
    return output


def pad_after_quantizing(path: Path) -> int:
    """Rewrite the graph at `path` so that each reflect or edge Pad whose only reader is a
    QuantizeLinear pads the quantized tensor instead: the same values (quantizing is per
    element, these pads only copy elements), with a quarter of the bytes to copy. The
    quantizer leaves a convolution's padding in float before its input is quantized, and
    those float copies were an eighth of a fast network's int8 pass (docs/performance.md).
    Returns how many it moved."""
    import onnx

    model = onnx.load(str(path))
    nodes = model.graph.node
    readers: dict[str, list[onnx.NodeProto]] = {}
    for node in nodes:
        for name in dict.fromkeys(node.input):
            readers.setdefault(name, []).append(node)
    outputs = {value.name for value in model.graph.output}
    moved = 0
    for pad in nodes:
        mode = next((a.s for a in pad.attribute if a.name == "mode"), b"constant")
        after = readers.get(pad.output[0], [])
        if (pad.op_type != "Pad" or mode not in (b"reflect", b"edge") or len(after) != 1
                or after[0].op_type != "QuantizeLinear" or pad.output[0] in outputs):  # fmt: skip
            continue
        quantize, padded = after[0], after[0].output[0]
        quantize.input[0], quantize.output[0] = pad.input[0], f"{padded}_unpadded"
        pad.input[0], pad.output[0] = quantize.output[0], padded
        moved += 1
    if moved:
        _in_running_order(model.graph)
        onnx.save(model, str(path))
    return moved


def _in_running_order(graph: Any) -> None:
    """Sort the graph's nodes so each comes after the nodes whose outputs it reads (ONNX
    requires it; pad_after_quantizing swaps neighbours)."""
    known = {value.name for value in (*graph.initializer, *graph.input)} | {""}
    waiting, order = list(graph.node), []
    while waiting:
        ready = [node for node in waiting if all(name in known for name in node.input)]
        if not ready:
            raise StylerError("the quantized graph has a cycle")
        for node in ready:
            known.update(node.output)
        order += ready
        placed = {id(node) for node in ready}
        waiting = [node for node in waiting if id(node) not in placed]
    del graph.node[:]
    graph.node.extend(order)
