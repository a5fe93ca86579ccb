"""Running style networks on photos of any size, with the controls around them.

Photos up to `whole_side` (1024) px run in one pass (batched when several share
a size). Larger ones run as overlapping tiles. Two pitfalls of naive tiling are
avoided: every tile uses instance-normalisation statistics captured once on a
downscaled copy of the whole photo, so colour and contrast do not jump between
tiles; and each tile is joined to its neighbours by a multi-band blend across
their overlap (styler.fusion.tiles), so there are no seams. Only the uint8
output and one tile in float are held, so an 8K photo's peak memory stays bounded
(docs/performance.md: the peak per tile size, and the command that measures it).

Around the network (FastOptions): style scale runs it at another working resolution and
puts the photo's fine detail back; several styles blend by parameters or outputs; regions
get their own network (or the photo) through a multi-band blend; then colour
preservation and strength.
"""

from __future__ import annotations

import functools
import math
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from styler.controls import CONTROLS, FAST, FAST_WHOLE_SIDE, checked
from styler.device import device_type, requested_threads, resolve_device, use_all_cores
from styler.errors import OptionsError
from styler.fast.blend import blend_networks, blend_outputs, normalised_weights
from styler.fast.manifest import StyleEntry, find_style, sha256_of
from styler.fast.runtime import (
    OnnxRunner,
    Painter,
    Precision,
    fast_precision,
    float_graph,
    onnx_runner,
)
from styler.fast.sizes import MIN_SIDE, MULTIPLE
from styler.fast.weights import NetworkFile, read_network_file
from styler.feedforward import FeedForwardStylizer, PassOptions, Prepared
from styler.fusion.arrays import resize_to
from styler.fusion.color import preserve_colors
from styler.fusion.pyramid import add_detail
from styler.fusion.regions import MaskInput, composite
from styler.fusion.strength import apply_strength
from styler.fusion.tiles import TileCanvas, tile_grid
from styler.grid import GridPhase, Shift, grid_shift, shifted_pass
from styler.image_sizes import scaled_size
from styler.imageio import DEFAULT_MAX_PIXELS, LoadedImage
from styler.int8_models import int8_dir
from styler.precision import AUTO, FP32
from styler.progress import Cancelled, CancelToken, PassSteps, ProgressCallback
from styler.result import ImageInput, StylizeResult
from styler.settings import engine_notes, files_of, image_name

if TYPE_CHECKING:
    import torch

    from styler.fast.network import StyleNetwork

StyleSpec = str | os.PathLike  # a shipped style's name or a .safetensors file
# (mask, style or None): the network of one region; None keeps the photo there.
FastRegion = tuple[MaskInput, StyleSpec | None]
Member = tuple[Painter, float]  # a network and its weight in an outputs blend

BACKENDS = ("auto", "torch", "onnx")  # auto: onnxruntime on the CPU when installed
WHOLE_SIDE = FAST_WHOLE_SIDE  # photos up to this long side run in one pass
# Larger ones run as tiles, which bounds the memory (docs/performance.md has the peak RSS per
# tile size and the command that measures it).
DEFAULT_TILE = CONTROLS["tile"].default_for(FAST)
DEFAULT_OVERLAP = 128  # about the network's receptive-field radius
STATS_SIDE = 1024  # long side of the copy the normalisation statistics come from


@dataclass
class FastOptions(PassOptions):
    """Fast mode's options: the feed-forward controls, checked against fast mode."""

    MODE = FAST

    stroke_side: int = CONTROLS["stroke_side"].default_for(FAST)  # px; 0: strokes sized in pixels

    def scale_for(self, h: int, w: int) -> float:
        """The style scale an h x w photo runs at: style_scale, times how much longer than
        stroke_side the photo is, so its strokes keep their size relative to the picture."""
        if not self.stroke_side or max(h, w) <= self.stroke_side:
            return self.style_scale
        return self.style_scale * max(h, w) / self.stroke_side


def check_style_scale(style_scale: float) -> float:
    """style_scale when fast mode can use it, else InvalidOption."""
    return CONTROLS["style_scale"].check(style_scale, FAST)


def _installed(style: StyleSpec) -> StyleEntry | None:
    """The shipped or user style a name picks; None for a network file."""
    path = Path(style)
    return None if path.suffix == ".safetensors" or path.is_file() else find_style(str(style))


def network_file(style: StyleSpec) -> tuple[str, NetworkFile]:
    """(name, checked file) of a .safetensors file or a shipped style's name; no PyTorch."""
    entry = _installed(style)
    if entry is None:
        return Path(style).stem, read_network_file(Path(style))
    return entry.name, read_network_file(entry.path, entry.sha256)


def named_networks(specs: Sequence[StyleSpec]) -> dict[str, dict[str, str]]:
    """{name: {"sha256"}} of the networks given by name (a shipped or user style), for a
    result's settings: a later network of that name (a style retrained, or replaced by
    another of the same name) is then told from the one that painted it."""
    entries = [entry for entry in map(_installed, specs) if entry is not None]
    return {entry.name: {"sha256": entry.sha256} for entry in entries}


def load_network(style: StyleSpec) -> tuple[str, StyleNetwork, dict]:
    """(name, network, info) of a .safetensors file or a shipped style's name."""
    name, file = network_file(style)
    return name, file.network(), file.info


def _detail_levels(style_scale: float) -> int:
    """Laplacian bands an image enlarged by style_scale lacks: one per octave, at least one."""
    return max(1, round(math.log2(style_scale)))


def _to_input(array: np.ndarray, device: torch.device) -> torch.Tensor:
    import torch

    tensor = torch.from_numpy(np.array(array, dtype=np.uint8, order="C")).to(device)
    return tensor.permute(2, 0, 1).unsqueeze(0).float().div_(255)


def _to_uint8(tensor: torch.Tensor) -> np.ndarray:
    return tensor.float().clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()


class FastStylizer(FeedForwardStylizer):
    """One or several shipped (by name) or trained (by path) style networks, ready to stylize.

    Several styles blend with `blend` weights (default equal): "params" (the default)
    interpolates the networks' parameters into one network, "outputs" runs each network and
    averages the images (see styler.fast.blend). backend "auto" runs untiled CPU passes in
    onnxruntime when it is installed (faster than PyTorch eager; figures in
    docs/performance.md), "torch" always uses PyTorch, "onnx" insists on onnxruntime.
    A network is loaded into PyTorch only when a pass or a blend needs it (a shipped style's
    int8 graph, or a cached float export, runs without PyTorch: docs/performance.md,
    "Start-up"); loading it calls styler.device.use_all_cores(), as Stylizer does
    (STYLER_THREADS=N, or 0 to leave torch's thread count alone).
    """

    def __init__(
        self,
        style: StyleSpec | Sequence[StyleSpec],
        device: str = "auto",
        tile: int = DEFAULT_TILE,
        overlap: int = DEFAULT_OVERLAP,
        *,
        blend: Sequence[float] | None = None,
        blend_method: str = CONTROLS["blend_method"].default,
        backend: str = "auto",
        whole_side: int = WHOLE_SIDE,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        precision: str = CONTROLS["precision"].default,
    ) -> None:
        requested_threads()  # a STYLER_THREADS that is no count stops here, before any photo
        self.device_type = device_type(device)
        self._device_name = device
        specs = [style] if isinstance(style, str | os.PathLike) else list(style)
        if not specs:
            raise OptionsError("at least one fast style is needed")
        if backend not in BACKENDS:
            raise OptionsError(f"backend must be one of {BACKENDS}, not {backend!r}")
        checked(FAST, {"blend_method": blend_method, "tile": tile, "max_pixels": max_pixels,
                       "precision": precision})  # fmt: skip
        self.precision = precision
        self.blend_method, self.max_pixels = blend_method, max_pixels
        self.specs = [os.fspath(spec) for spec in specs]
        self.style_files = {**files_of(self.specs), **named_networks(self.specs)}
        weights = normalised_weights(blend if blend is not None else [1.0] * len(specs), len(specs))
        self.blend = list(weights)
        names, files = zip(*(network_file(spec) for spec in specs), strict=True)
        self.name = "+".join(names)
        self.info: dict[str, Any] = files[0].info
        if len(specs) == 1:  # only a single style's network has a name its int8 graph knows
            self._members: list[Member] = [(self._painter(names[0], files[0]), 1.0)]
        else:
            self.info = {"styles": list(names), "blend": weights, "blend_method": blend_method,
                         "networks": [file.info for file in files]}  # fmt: skip
            self._members = [(self._painter(None, file), w) for file, w in zip(files, weights,
                                                                               strict=True)]
            if blend_method == "params":
                networks = [file.network() for file in files]
                blended = self._prepared(blend_networks(networks, weights, names))
                self._members = [(Painter(None, None, lambda: blended), 1.0)]
        self._precisions: dict[Painter, Precision] = {}
        self._frame_painters: dict[Painter, Painter | None] = {}
        self._region_painters: dict[str, Painter] = {}
        self.backend = backend
        self._runners: dict[Painter, OnnxRunner | None] = {}
        self.tile, self.overlap, self.whole_side = tile, overlap, whole_side
        self._lock = threading.Lock()  # tiles replay shared statistics stored on the network

    @functools.cached_property
    def device(self) -> torch.device:
        """The device as PyTorch names it (importing PyTorch)."""
        return resolve_device("cpu" if self.device_type == "cpu" else self._device_name)

    def _painter(self, name: str | None, file: NetworkFile) -> Painter:
        return Painter(name, file.sha256, lambda: self._prepared(file.network()))

    @property
    def main_precision(self) -> Precision:
        """How the first network of the output runs (the only one but in an outputs blend)."""
        with self._lock:
            return self.precision_of(self._members[0][0])

    @property
    def network(self) -> StyleNetwork:
        """The one network that makes the output (a params blend is one network), in PyTorch."""
        if len(self._members) != 1:
            raise OptionsError("an outputs blend runs several networks; there is no single one")
        with self._lock:
            return self._members[0][0].network()

    def stylize_array(self, rgb: np.ndarray, style_scale: float = 1.0) -> np.ndarray:
        """HxWx3 uint8 RGB -> stylized HxWx3 uint8 RGB of the same size.

        style_scale s runs the network on a copy 1/s the size, so its strokes come out s
        times larger; enlarged back, the copy gets the photo's finest detail bands added
        (one per octave), so edges stay sharp instead of blurry.
        """
        steps = PassSteps(1, (rgb.shape[1], rgb.shape[0]))
        return self._stylize_with(self._members, rgb, check_style_scale(style_scale), steps)

    def _working_size(self, h: int, w: int, style_scale: float) -> tuple[int, int]:
        """(height, width) the network runs at: 1/style_scale of the photo's."""
        if style_scale == 1.0:
            return h, w
        side = max(MIN_SIDE, round(max(h, w) / style_scale))
        width, height = scaled_size((w, h), side)
        return height, width

    def passes(self, h: int, w: int, style_scale: float) -> int:
        """Network passes one network makes over an h x w photo: one, or one per tile."""
        height, width = self._working_size(h, w, style_scale)
        if not self.tile or max(height, width) <= self.whole_side:
            return 1
        return sum(len(row) for row in tile_grid(height, width, self.tile, self.overlap))

    def _stylize_with(
        self,
        members: Sequence[Member],
        rgb: np.ndarray,
        style_scale: float,
        steps: PassSteps,
        grid: GridPhase | None = None,
    ) -> np.ndarray:
        h, w = rgb.shape[:2]
        height, width = self._working_size(h, w, style_scale)
        working = rgb if (height, width) == (h, w) else resize_to(rgb, height, width)
        shift = (0, 0) if grid is None else grid_shift(grid, width / w, MULTIPLE)
        with self._lock:
            painters = [painter if grid is None else self._frame_painter(painter)
                        for painter, _ in members]  # fmt: skip
            outputs = [self._pass(painter, working, steps, shift) for painter in painters]
        weights = [weight for _, weight in members]
        out = outputs[0] if len(outputs) == 1 else blend_outputs(outputs, weights)
        if working is rgb:
            return out
        out = resize_to(out, h, w)
        return add_detail(out, rgb, _detail_levels(style_scale)) if style_scale > 1 else out

    def _pass(
        self, painter: Painter, rgb: np.ndarray, steps: PassSteps, shift: Shift = (0, 0)
    ) -> np.ndarray:
        """One network over the photo: in one piece up to whole_side (placed `shift` px
        into the network's grid, styler.grid), else tiled."""
        h, w = rgb.shape[:2]
        steps.check()
        if not self.tile or max(h, w) <= self.whole_side:
            out = shifted_pass(lambda padded: self._run_whole(painter, padded[None])[0],
                               rgb, shift)  # fmt: skip
            steps.step()
            return out
        return self._tiled(painter, rgb, steps)

    def _frame_painter(self, painter: Painter) -> Painter:
        """The network that paints a video's frames (those given a grid): where `auto` runs
        a shipped style in float, that style's twin, the float network its int8 graph was
        quantized from. The twin trained to paint a frame moved by a few pixels moved
        (styler.fast.distill's shift term), so a moving scene flickers far less; its
        photos are within the int8 bound of the network's (docs/video.md). A photo keeps
        the network itself. Call with the lock held."""
        if painter not in self._frame_painters:
            self._frame_painters[painter] = self._float_twin(painter)
        return self._frame_painters[painter] or painter

    def _float_twin(self, painter: Painter) -> Painter | None:
        if self.precision != AUTO or painter.name is None or self.precision_of(painter).int8:
            return None  # a precision asked for, a blend or user network, or int8 runs
        graph = painter.int8_graph()
        if graph is None or not graph.twin:
            return None
        path = int8_dir() / graph.twin

        def load() -> StyleNetwork:
            from styler.fast.twin import read_twin

            return self._prepared(read_twin(path))

        return Painter(None, sha256_of(path), load)

    def precision_of(self, painter: Painter) -> Precision:
        """How `painter`'s network runs, the precision control resolved for it (once)."""
        if painter not in self._precisions:
            self._precisions[painter] = fast_precision(painter, self.precision, self.device_type)
        return self._precisions[painter]

    def _run_whole(self, painter: Painter, photos: np.ndarray) -> np.ndarray:
        """(N, H, W, 3) uint8 through one untiled pass each -> (N, H, W, 3) uint8."""
        runner = self._runner(painter)
        if runner is not None:
            return runner.run(photos)
        import torch

        network = painter.network()
        with torch.inference_mode(), self.precision_of(painter).autocast(self.device):
            x = torch.cat([_to_input(photo, self.device) for photo in photos])
            return np.stack([_to_uint8(y) for y in network(x)])

    def _runner(self, painter: Painter) -> OnnxRunner | None:
        """What runs untiled passes: onnxruntime where the backend allows, else None (the
        network in PyTorch). Tiles stay in PyTorch: they replay normalisation statistics the
        graph has no input for."""
        precision = self.precision_of(painter)
        int8 = precision.int8
        torch_backend = self.backend == "torch" or (
            self.backend == "auto" and self.device_type != "cpu"
        )
        if int8 is None and (torch_backend or precision.name != FP32):
            return None  # half precisions run in PyTorch's autocast
        if painter not in self._runners:  # one session per network, int8 or float
            self._runners[painter] = onnx_runner(
                (lambda: int8.path) if int8 else (lambda: float_graph(painter)))
            if self._runners[painter] is None and self.backend == "onnx":
                raise OptionsError("the onnx backend needs onnxruntime, onnx and onnxscript")
        return self._runners[painter]

    def stylize_arrays(self, images: Sequence[np.ndarray], batch: int = 4) -> list[np.ndarray]:
        """Several photos; those that share a size and fit in a tile run as one batch."""
        results: list[np.ndarray | None] = [None] * len(images)
        by_size: dict[tuple[int, ...], list[int]] = {}
        for index, image in enumerate(images):
            by_size.setdefault(image.shape, []).append(index)
        for shape, indices in by_size.items():
            if max(shape[:2]) > self.whole_side:
                for i in indices:
                    results[i] = self.stylize_array(images[i])
                continue
            weights = [w for _, w in self._members]
            for start in range(0, len(indices), batch):
                chunk = indices[start : start + batch]
                photos = np.stack([images[i] for i in chunk])
                with self._lock:
                    outs = [self._run_whole(painter, photos) for painter, _ in self._members]
                for position, i in enumerate(chunk):
                    mine = [member[position] for member in outs]
                    results[i] = mine[0] if len(mine) == 1 else blend_outputs(mine, weights)
        return [r for r in results if r is not None]

    def _tiled(self, painter: Painter, rgb: np.ndarray, steps: PassSteps) -> np.ndarray:
        import torch

        h, w = rgb.shape[:2]
        # Box-filtered copy: cheap and antialiased even from 8K.
        side = min(STATS_SIDE, max(h, w))
        small = Image.fromarray(rgb).resize(scaled_size((w, h), side), Image.Resampling.BOX)
        network = painter.network()
        proxy = _to_input(np.asarray(small), self.device)
        canvas = TileCanvas(np.zeros((h, w, 3), np.uint8))
        with torch.inference_mode(), self.precision_of(painter).autocast(self.device), (
                network.shared_statistics(proxy)):  # fmt: skip
            for row in tile_grid(h, w, self.tile, self.overlap):
                for tile in row:
                    pixels = network(_to_input(rgb[tile.slices], self.device))[0]
                    canvas.paste(tile, _to_uint8(pixels))
                    steps.step()
        return canvas.image

    def _prepared(self, network: StyleNetwork) -> StyleNetwork:
        """On the device, in eval mode, channels-last: faster convolutions on CPU
        (docs/performance.md); _to_input's arrays from HWC photos are channels-last already."""
        import torch

        use_all_cores()
        return network.to(self.device, memory_format=torch.channels_last).eval()

    def region_network(self, style: StyleSpec) -> Painter:
        """A region's network, read once per style (call early to check that it exists)."""
        key = os.fspath(style)
        with self._lock:
            if key not in self._region_painters:
                self._region_painters[key] = self._painter(*network_file(style))
            return self._region_painters[key]

    def _styled(
        self,
        members: Sequence[Member],
        photo: np.ndarray,
        options: FastOptions,
        steps: PassSteps,
        grid: GridPhase | None,
    ) -> np.ndarray:
        """One style's result over the whole photo: network(s), then colour preservation."""
        scale = options.scale_for(*photo.shape[:2])
        out = self._stylize_with(members, photo, scale, steps, grid)
        return preserve_colors(out, photo, options.preserve_color)

    def run(
        self,
        image: ImageInput | LoadedImage,
        options: FastOptions | None = None,
        *,
        regions: Sequence[FastRegion] = (),
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        bgr: bool = False,
        grid: GridPhase | None = None,
    ) -> StylizeResult:
        """Stylize one image; the result records the network(s) and options that made it.

        regions: (mask, style or None) pairs; each mask (file or array, any size) gets that
        style's network, or the photo for None, multi-band blended into the main result.
        Colour preservation "match" recolours the *output* to the photo's colour statistics
        (a network's style image cannot be recoloured first, as in optimizer mode).
        `progress` hears of every network pass (a whole photo or a tile); a cancelled run
        stops after the pass under way and returns the photo, completed False.
        grid: where the photo sits on the network's pixel grid (styler.grid), so a video's
        frames keep their strokes where the camera moves them; such a frame is painted by
        the style's twin where `auto` runs it in float (_frame_network).
        """
        options = options or FastOptions()
        prepared = self.prepare(image, options.size, options.upscale, regions, bgr)
        photo = prepared.photo
        networks = len(self._members) + sum(style is not None for style in prepared.styles_in)
        per_network = self.passes(*photo.shape[:2], options.scale_for(*photo.shape[:2]))
        steps = PassSteps(networks * per_network if options.strength > 0 else 1,
                          (photo.shape[1], photo.shape[0]), progress, cancel)  # fmt: skip
        try:
            out = self._painted(prepared, options, steps, grid)
        except Cancelled:
            out = None
        return prepared.result(
            out,
            mode=FAST,
            styles=[image_name(spec) for spec in self.specs],
            blend=self.blend,
            controls={**asdict(options), "tile": self.tile, "blend_method": self.blend_method},
            engine=engine_notes(
                device="cpu" if self.device_type == "cpu" else str(self.device),
                network=self.info,
                precision=self.main_precision.name,
                **({"frames": "twin"} if grid is not None and self._frame_painters.get(
                    self._members[0][0]) else {}),
            ),  # fmt: skip
            style_files=self.style_files,
        )

    def _painted(
        self, prepared: Prepared, options: FastOptions, steps: PassSteps, grid: GridPhase | None
    ) -> np.ndarray:
        """The main networks' result, each region's own (or the photo), joined, then strength."""
        photo = prepared.photo
        if options.strength == 0:  # the photo itself: no network to run
            steps.step()
            return photo
        layers = []
        for mask, style in zip(prepared.masks, prepared.styles_in, strict=True):
            own = None if style is None else [(self.region_network(style), 1.0)]
            layers.append((photo if own is None else self._styled(own, photo, options, steps, grid),
                           mask))  # fmt: skip
        out = self._styled(self._members, photo, options, steps, grid)
        return apply_strength(composite(out, layers, options.feather), photo, options.strength)

    def options_from(self, values: Mapping[str, Any]) -> FastOptions:
        return FastOptions.from_values(values)
