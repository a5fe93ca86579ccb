"""InstantStylizer: any style image, one feed-forward pass, every style control.

Around the pass (styler.instant.cascade): style images are encoded once at the size the
output and style scale give and cached, so a batch pays for them once; several styles
blend as a mixture of their statistics (one pass, not one per style); colour preservation
"match" recolours the style images to the photo first (their statistics then change per
photo), "luminance" keeps the photo's chroma afterwards; regions get their own style's
pass (or the photo) through a multi-band blend; strength mixes with the photo band by
band, as in fast mode.
"""

from __future__ import annotations

import dataclasses
import functools
import os
import threading
from collections import OrderedDict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
from PIL import Image

from styler.controls import CONTROLS, INSTANT, INSTANT_WHOLE_SIDE, checked
from styler.device import device_type, onnx_threads, resolve_device
from styler.errors import OptionsError
from styler.fast.blend import normalised_weights
from styler.feedforward import FeedForwardStylizer, PassOptions
from styler.fusion.color import luminance_transfer, match_colors
from styler.fusion.regions import MaskInput, composite
from styler.fusion.strength import apply_strength
from styler.grid import GridPhase, grid_shift, shifted_pass
from styler.image_sizes import resize_long_side, scaled_size
from styler.imageio import DEFAULT_MAX_PIXELS, LoadedImage
from styler.instant.cascade import Passes, cascade_passes, run_cascade
from styler.instant.detail import reduced_copy, with_detail
from styler.instant.files import listed
from styler.instant.levels import STRIDE
from styler.instant.runtime import (
    DECODER_KEY,
    FRAMES_DECODER_KEY,
    OnnxNetworks,
    float_graphs,
    installed_files,
    shipped_int8,
)
from styler.instant.stats_cache import load_stats, stats_path, store_stats
from styler.instant.wct import FeatureStats, mixture
from styler.onnx_models import onnxruntime_installed
from styler.precision import AUTO, FP32, INT8, float_dtype, resolve_precision
from styler.progress import Cancelled, CancelToken, PassSteps, ProgressCallback, cancel_scope
from styler.result import ImageInput, StylizeResult
from styler.settings import engine_notes, files_of, image_name

if TYPE_CHECKING:
    import torch

StyleInput = ImageInput | LoadedImage
# (mask, style image or None): the style of one region; None keeps the photo there.
InstantRegion = tuple[MaskInput, StyleInput | None]
WHOLE_SIDE = INSTANT_WHOLE_SIDE  # photos up to this long side run in one pass, larger as tiles
STYLE_MAX_SIDE = 2048  # style statistics are taken at most at this size (memory)
STYLE_MIN_SIDE = 64  # and at least at this one
STYLE_MIN_THICKNESS = 16  # px: the encoders pool four times; a thinner painting is repeated
# Style statistics kept in memory, by style and size: a few MB each, so a server painting
# uploads of every size (or a camera switching sizes) must not keep all of them; the disk
# cache (styler.instant.stats_cache) gives back what falls out, without encoding again.
STATS_KEPT = 12


class RecentStats:
    """The STATS_KEPT statistics used last, by key; thread-safe."""

    def __init__(self, limit: int = STATS_KEPT) -> None:
        self.limit = limit
        self._items: OrderedDict[tuple[object, int], dict[str, FeatureStats]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[object, int]) -> dict[str, FeatureStats] | None:
        with self._lock:
            found = self._items.get(key)
            if found is not None:
                self._items.move_to_end(key)
            return found

    def put(self, key: tuple[object, int], stats: dict[str, FeatureStats]) -> None:
        with self._lock:
            self._items[key] = stats
            self._items.move_to_end(key)
            while len(self._items) > self.limit:
                self._items.popitem(last=False)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def __len__(self) -> int:
        return len(self._items)


@dataclass
class InstantOptions(PassOptions):
    """Instant mode's options: the feed-forward controls, checked against instant mode."""

    MODE = INSTANT

    stroke_side: int = CONTROLS["stroke_side"].default_for(INSTANT)  # px; 0: the photo's own

    def pass_side(self, photo_side: int) -> int:
        """The long side the pass runs at for a photo this long."""
        if not self.stroke_side or photo_side <= self.stroke_side:
            return photo_side
        return self.stroke_side


_NETWORKS: dict[tuple[str, str], Passes | None] = {}
_NETWORKS_LOCK = threading.Lock()
NO_INT8 = ("no int8 graphs are installed for instant mode's networks "
           "(tools/quantize_weights.py makes them); choose a float precision")  # fmt: skip


def networks_on(device: str, precision: str = AUTO) -> Passes:
    """The networks on a device ("cpu", or a GPU as PyTorch names it) in a precision
    (styler.precision resolves auto), made once per process for each (they are read-only):
    int8 and float32 on the CPU run onnxruntime's graphs without PyTorch
    (styler.instant.runtime); half precisions, GPUs, and CPUs without onnxruntime run
    PyTorch (styler.instant.torch_networks)."""
    with _NETWORKS_LOCK:
        if (device, precision) not in _NETWORKS:
            _NETWORKS[(device, precision)] = _networks(device, precision, frames=False)
        nets = _NETWORKS[(device, precision)]
        assert nets is not None  # only frames' networks can be missing
        return nets


def frame_networks_on(device: str, precision: str = AUTO) -> Passes | None:
    """The networks a video's frames run on: those of networks_on with the frames' decoder
    (styler.instant.files.FRAMES_PREFIX) in place of the photos', in the same precision;
    None where none is installed, or where the precision is int8 and no int8 graph of it
    ships (the frames then keep the photos' decoder)."""
    resolved = networks_on(device, precision).precision
    with _NETWORKS_LOCK:
        key = (device, f"frames {resolved}")
        if key not in _NETWORKS:
            try:
                _NETWORKS[key] = _networks(device, resolved, frames=True) if listed(
                    kind="frames") else None  # fmt: skip
            except OptionsError:  # int8, and no int8 graph of the frames' decoder ships
                _NETWORKS[key] = None
        return _NETWORKS[key]


def _networks(device: str, requested: str, frames: bool) -> Passes:
    """The networks as `requested` asks: int8 and float32 on the CPU through the onnxruntime
    graphs an app would run (docs/embedding.md), half precisions through PyTorch autocast.
    Call with the lock held."""
    files = installed_files(frames) if device == "cpu" and onnxruntime_installed() else None
    int8 = shipped_int8(files, FRAMES_DECODER_KEY if frames else DECODER_KEY) if files else None
    precision = resolve_precision(requested, device_type(device), int8[1] if int8 else [])
    if precision == INT8:
        if int8 is None:
            raise OptionsError(NO_INT8)
        graphs, (_, painting, _) = int8  # the entries of the photo's, painting's and decoder's
        return OnnxNetworks(graphs, files, INT8, onnx_threads(), f"int8:{painting.sha256}")
    if precision == FP32 and files is not None:
        graphs = float_graphs(files, lambda role, tmp: _export(role, tmp, frames))
        return OnnxNetworks(graphs, files, FP32, onnx_threads(), f"fp32:{files.style_encoder}")
    from styler.instant.torch_networks import loaded_networks

    base = loaded_networks(resolve_device(device), frames)
    return dataclasses.replace(base, dtype=float_dtype(precision), precision=precision)


def _export(role: str, path: os.PathLike, frames: bool) -> None:
    """One float32 graph from the networks in PyTorch (loaded for it, once)."""
    import torch

    from styler.instant.export import export_decoder, export_encoder
    from styler.instant.torch_networks import loaded_networks

    nets = loaded_networks(torch.device("cpu"), frames)
    if role == "decoder":
        export_decoder(nets.decoders[nets.levels[0]], path)
    else:
        export_encoder(nets.encoder if role == "encoder" else nets.style_encoder, path)


class InstantStylizer(FeedForwardStylizer):
    """Stylizes photos with any style image(s) in one pass; safe to share between threads.

    style: one image (path, PIL image, array) or several, blended with `blend` weights
    (default equal). Where a pass runs in PyTorch, loading its networks calls
    styler.device.use_all_cores(), as Stylizer does; onnxruntime's passes take the same
    count of threads (styler.device.onnx_threads).
    """

    def __init__(
        self,
        style: StyleInput | Sequence[StyleInput],
        device: str = "auto",
        tile: int = CONTROLS["tile"].default_for(INSTANT),
        *,
        blend: Sequence[float] | None = None,
        max_pixels: int = DEFAULT_MAX_PIXELS,
        whole_side: int = WHOLE_SIDE,
        precision: str = CONTROLS["precision"].default,
    ) -> None:
        checked(INSTANT, {"tile": tile, "max_pixels": max_pixels, "device": device,
                          "precision": precision})  # fmt: skip
        kind = device_type(device)
        # PyTorch's name for it, known without PyTorch on the CPU
        self.device_name = "cpu" if kind == "cpu" else str(resolve_device(device))
        self.max_pixels, self.tile, self.whole_side = max_pixels, tile, whole_side
        specs = (
            [style]
            if isinstance(style, str | os.PathLike | Image.Image | np.ndarray | LoadedImage)
            else list(style)
        )
        if not specs:
            raise OptionsError("at least one style image is needed")
        self.style_names = [image_name(spec) for spec in specs]
        self.style_files = files_of(specs)
        self.styles = [self.load(spec).painting() for spec in specs]
        self.blend = list(
            normalised_weights(blend if blend is not None else [1.0] * len(specs), len(specs),
                               "style image")  # fmt: skip
        )
        self.precision = precision
        self.nets = networks_on(self.device_name, precision)
        self._stats = RecentStats()

    @functools.cached_property
    def device(self) -> torch.device:
        """The device as PyTorch names it (importing PyTorch)."""
        return resolve_device(self.device_name)

    def _style_side(self, output_long_side: int, style_scale: float) -> int:
        return max(STYLE_MIN_SIDE, min(STYLE_MAX_SIDE, round(output_long_side * style_scale)))

    def style_statistics(
        self,
        style: Image.Image,
        side: int,
        photo: np.ndarray | None = None,
        key: tuple[int, int] | None = None,
    ) -> dict[str, FeatureStats]:
        """One style image's per-level statistics at `side` px; recoloured to `photo` when
        given ('match'), cached under `key` otherwise."""
        if key is not None and (kept := self._stats.get(key)) is not None:
            return kept
        array = _thick_enough(np.asarray(resize_long_side(style, side)))
        if photo is not None:
            array = match_colors(array, photo)
        stats = self._painting_stats(array, keep=photo is None)
        if key is not None:
            self._stats.put(key, stats)
        return stats

    def _painting_stats(self, array: np.ndarray, keep: bool) -> dict[str, FeatureStats]:
        """The networks' statistics of a painting, from the disk cache where `keep` and the
        networks can tell what encoded them (styler.instant.stats_cache), else computed
        (and kept, where `keep`: a painting not recoloured to one photo)."""
        painting_key = self.nets.painting_key if keep else None
        path = stats_path(painting_key, array) if painting_key else None
        stats = load_stats(path) if path else None
        if stats is None or set(stats) != set(self.nets.levels):
            stats = self.nets.style_stats(array)
            if path:
                store_stats(path, stats)
        return stats

    def _blended_stats(
        self, side: int, photo: np.ndarray, options: InstantOptions
    ) -> dict[str, FeatureStats]:
        """The styles' statistics mixed by the blend weights; cached per size unless 'match'
        recolours the styles to each photo."""
        match = photo if options.preserve_color == "match" else None
        if match is None and (kept := self._stats.get(("blend", side))) is not None:
            return kept
        per_style = [
            self.style_statistics(style, side, match, None if match is not None else (i, side))
            for i, style in enumerate(self.styles)
        ]
        blended = {
            level: mixture([s[level] for s in per_style], self.blend) for level in self.nets.levels
        }
        if match is None:
            self._stats.put(("blend", side), blended)
        return blended

    def _painted(
        self,
        photo: np.ndarray,
        stats: Mapping[str, FeatureStats],
        options: InstantOptions,
        steps: PassSteps,
        grid: GridPhase | None = None,
    ) -> np.ndarray:
        """The pass over the photo, or over its copy at the stroke side with the photo's own
        finer detail put back; placed on the encoder's pixel grid at `grid` (styler.grid)."""
        working = reduced_copy(photo, options.pass_side(max(photo.shape[:2])))
        shift = (0, 0) if grid is None else grid_shift(grid, working.shape[1] / photo.shape[1],
                                                       STRIDE)  # fmt: skip
        nets = self._nets_for(grid)
        out = shifted_pass(lambda image: run_cascade(nets, image, stats, tile=self.tile,
                                                     whole_side=self.whole_side, steps=steps),
                           working, shift)  # fmt: skip
        if working is not photo:
            out = with_detail(out, working, photo)
        if options.preserve_color == "luminance":
            out = luminance_transfer(out, photo)
        return out

    @functools.cached_property
    def frame_nets(self) -> Passes | None:
        """The networks of a video's frames (frame_networks_on), loaded at the first frame:
        a stylizer that paints only photos never reads the frames' decoder."""
        return frame_networks_on(self.device_name, self.precision)

    def _nets_for(self, grid: GridPhase | None) -> Passes:
        """A video frame's networks (it comes with its place on the grid), or a photo's."""
        return self.frame_nets if grid is not None and self.frame_nets is not None else self.nets

    def stylize_array(self, rgb: np.ndarray, options: InstantOptions | None = None) -> np.ndarray:
        """HxWx3 uint8 RGB -> stylized HxWx3 uint8 RGB of the same size (no regions)."""
        options = options or InstantOptions()
        side = self._style_side(options.pass_side(max(rgb.shape[:2])), options.style_scale)
        stats = self._blended_stats(side, rgb, options)
        out = self._painted(rgb, stats, options, PassSteps(1, (rgb.shape[1], rgb.shape[0])))
        return apply_strength(out, rgb, options.strength)

    def run(
        self,
        image: ImageInput | LoadedImage,
        options: InstantOptions | None = None,
        *,
        regions: Sequence[InstantRegion] = (),
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
        bgr: bool = False,
        grid: GridPhase | None = None,
    ) -> StylizeResult:
        """Stylize one image; the result records the styles and controls that made it.

        regions: (mask, style image or None) pairs; each mask (file or array, any size)
        gets that style, or the photo for None, multi-band blended into the main result.
        `progress` hears of every pass (a whole photo or a tile); a cancelled run stops
        between two layers of the pass under way and returns the photo, completed False.
        grid: where the photo sits on the encoder's pixel grid (styler.grid), so a video's
        frames keep their strokes where the camera moves them.
        """
        options = options or InstantOptions()
        prepared = self.prepare(image, options.size, options.upscale, regions, bgr)
        photo = prepared.photo
        style_side = self._style_side(options.pass_side(max(photo.shape[:2])), options.style_scale)
        styled_regions = list(zip(prepared.masks, prepared.styles_in, strict=True))
        painted_count = 1 + sum(style is not None for _, style in styled_regions)
        working = scaled_size(photo.shape[1::-1], options.pass_side(max(photo.shape[:2])))
        per_pass = cascade_passes(self.nets, working[::-1], whole_side=self.whole_side,
                                  tile=self.tile)  # fmt: skip
        steps = PassSteps(painted_count * per_pass if options.strength > 0 else 1,
                          (photo.shape[1], photo.shape[0]), progress, cancel)  # fmt: skip
        try:
            out = self._painted_with_regions(photo, styled_regions, style_side, options, steps,
                                             grid)  # fmt: skip
        except Cancelled:
            out = None
        nets = self._nets_for(grid)
        return prepared.result(
            out,
            mode=INSTANT,
            styles=self.style_names,
            blend=self.blend,
            controls={**asdict(options), "tile": self.tile},
            engine=engine_notes(
                device=self.device_name,
                decoders=self.decoder_notes(nets),
                encoder=self.nets.encoder_note,
                precision=self.nets.precision,
                **({"frames": "frames decoder"} if nets is not self.nets else {}),
            ),  # fmt: skip
            style_files=self.style_files,
        )

    def _painted_with_regions(
        self,
        photo: np.ndarray,
        regions: Sequence[tuple[np.ndarray, StyleInput | None]],
        style_side: int,
        options: InstantOptions,
        steps: PassSteps,
        grid: GridPhase | None,
    ) -> np.ndarray:
        """The main style's pass, each region's own (or the photo), joined, then strength."""
        if options.strength == 0:
            steps.step()
            return photo
        # the paintings' statistics stop on a cancel too: a new painting's, at a large
        # stroke side, is a pass of seconds (a Cancel waited 6 s for it)
        with cancel_scope(steps):
            stats = self._blended_stats(style_side, photo, options)
        out = self._painted(photo, stats, options, steps, grid)
        layers = []
        for mask, style in regions:
            if style is None:
                layers.append((photo, mask))
                continue
            with cancel_scope(steps):
                region_stats = self._region_stats(style, style_side, photo, options)
            layers.append((self._painted(photo, region_stats, options, steps, grid), mask))
        return apply_strength(composite(out, layers, options.feather), photo, options.strength)

    def _region_stats(
        self, style: StyleInput, side: int, photo: np.ndarray, options: InstantOptions
    ) -> dict[str, FeatureStats]:
        image = self.load(style).painting()
        match = photo if options.preserve_color == "match" else None
        return self.style_statistics(image, side, match)

    def decoder_notes(self, nets: Passes | None = None) -> dict[str, Any]:
        infos = (nets or self.nets).infos
        return {level: {"step": info.get("step")} for level, info in infos.items()}

    def options_from(self, values: Mapping[str, Any]) -> InstantOptions:
        return InstantOptions.from_values(values)


def _thick_enough(array: np.ndarray) -> np.ndarray:
    """A painting thinner than STYLE_MIN_THICKNESS (a 1x200 strip) repeated across its thin
    side, so its strokes and colours are measured as they are, not stretched: the encoders'
    pooling would shrink it to nothing."""
    height, width = array.shape[:2]
    times = [max(1, -(-STYLE_MIN_THICKNESS // n)) for n in (height, width)]
    return array if times == [1, 1] else np.tile(array, (*times, 1))
