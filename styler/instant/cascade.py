"""The instant-mode pass: VGG19 level by level, coarse to fine, each level's features
given the painting's statistics and decoded back to pixels.

A photo up to `whole_side` runs in one piece. A larger one runs as overlapping tiles
twice per level: first every tile's features add to one set of statistics of the whole
image, then each tile gets the one transform those statistics give and is multi-band
joined to its neighbours (styler.fusion.tiles). Only uint8 images and one tile in float
are held, so memory is bounded by the tile size, not the photo's.
"""

from __future__ import annotations

from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from styler.fusion.tiles import TileCanvas, tile_grid
from styler.instant.decoder import LEVELS, Decoder
from styler.instant.export import LEVEL as ONNX_LEVEL
from styler.instant.runtime import OnnxPass
from styler.instant.student import StudentEncoder
from styler.instant.wct import AffineMap, FeatureStats, StatsAccumulator, whitening_colouring
from styler.progress import PassSteps
from styler.tensors import cancel_scope
from styler.vgg import VGG19Features

# The levels a photo passes through, coarse to fine. One: the relu4_1 decoder, fine-tuned to
# paint every level's statistics, scored better alone than followed by a relu1_1 pass or run
# twice (docs/instant_mode.md, "Levels").
CASCADE: tuple[str, ...] = ("relu4_1",)
STRIDE = 8  # the deepest level's: images are padded to a multiple of it
TILE_OVERLAP = 64  # px: past the decoders' receptive-field radius at relu4_1


@dataclass
class Networks:
    """The photo's encoder (the student distilled from VGG19, styler.instant.student, or
    VGG19), the painting's (VGG19) and one decoder per level, on one device, and how they
    run: PyTorch in `dtype` (None: float32), or the relu4_1 graphs in onnxruntime (`onnx`)."""

    encoder: VGG19Features | StudentEncoder
    style_encoder: VGG19Features
    decoders: Mapping[str, Decoder]
    device: torch.device
    infos: Mapping[str, dict] = field(default_factory=dict)  # each decoder's training record
    encoder_note: str = "vgg19"  # which encoder the photo's is, as outputs record it
    dtype: torch.dtype | None = None
    onnx: OnnxPass | None = None
    precision: str = "fp32"  # what dtype / onnx amount to, as the precision control says it

    @property
    def levels(self) -> tuple[str, ...]:
        return tuple(level for level in CASCADE if level in self.decoders)

    def autocast(self) -> object:
        dtype = self.dtype
        return torch.autocast(self.device.type, dtype=dtype) if dtype else nullcontext()

    def encode(self, image: torch.Tensor, level: str) -> torch.Tensor:
        if self.onnx is not None and level == ONNX_LEVEL:
            return self.onnx.encode(image)
        with self.autocast():
            return self.encoder(image, [level])[level]

    def decode(self, features: torch.Tensor, level: str) -> torch.Tensor:
        if self.onnx is not None and level == ONNX_LEVEL:
            return self.onnx.decode(features)
        with self.autocast():
            return self.decoders[level](features).float().clamp_(0, 1)

    @torch.inference_mode()
    def style_stats(self, style: np.ndarray) -> dict[str, FeatureStats]:
        """Per-level statistics of a style image (HxWx3 uint8), in one VGG19 pass: the
        painting's statistics are what the decoder paints, so they come from the teacher,
        even where a student encodes the photos (docs/instant_mode.md)."""
        tensor = _to_tensor(style, self.device)
        if self.onnx is not None and self.levels == (ONNX_LEVEL,):
            feats = {ONNX_LEVEL: self.onnx.encode_style(tensor)}
        else:
            with self.autocast():
                feats = self.style_encoder(tensor, list(self.levels))
        stats = {}
        for level in self.levels:
            accumulator = StatsAccumulator()
            accumulator.add(feats[level].float())
            stats[level] = accumulator.stats()
        return stats


def _to_tensor(rgb: np.ndarray, device: torch.device) -> torch.Tensor:
    tensor = torch.from_numpy(np.array(rgb, dtype=np.uint8, order="C")).to(device)
    return tensor.permute(2, 0, 1).unsqueeze(0).float().div_(255)


def _to_uint8(tensor: torch.Tensor) -> np.ndarray:
    return tensor[0].mul(255).round_().byte().permute(1, 2, 0).cpu().numpy()


def _padded(image: torch.Tensor) -> tuple[torch.Tensor, tuple[int, int]]:
    """Reflect-pad to a multiple of STRIDE (the decoders upsample by exact powers of 2), and
    to two of them at least: the deepest layers mirror their input by a pixel
    (styler.instant.padding), which takes two."""
    h, w = image.shape[-2:]
    pad_h, pad_w = (max(-side % STRIDE, 2 * STRIDE - side) for side in (h, w))
    if pad_h or pad_w:
        mode = "reflect" if min(h, w) > max(pad_h, pad_w) else "replicate"
        image = F.pad(image, (0, pad_w, 0, pad_h), mode=mode)
    return image, (h, w)


def _decoded(nets: Networks, image: torch.Tensor, level: str, transform: AffineMap) -> torch.Tensor:
    padded, (h, w) = _padded(image)
    features = nets.encode(padded, level)
    return nets.decode(transform(features).to(features.dtype), level)[..., :h, :w]


def cascade_passes(nets: Networks, shape: tuple[int, ...], *, whole_side: int, tile: int) -> int:
    """How many network passes run_cascade makes for a photo of this shape: one per level
    in one piece, two per tile and level when tiled (statistics, then painting)."""
    h, w = shape[:2]
    if not tile or max(h, w) <= whole_side:
        return len(nets.levels)
    return 2 * len(nets.levels) * sum(len(row) for row in tile_grid(h, w, tile, TILE_OVERLAP))


@torch.inference_mode()
def run_cascade(
    nets: Networks,
    photo: np.ndarray,
    style: Mapping[str, FeatureStats],
    *,
    whole_side: int,
    tile: int,
    steps: PassSteps,
) -> np.ndarray:
    """photo (HxWx3 uint8) through every level, one step of `steps` per pass; raises
    Cancelled (styler.progress) between two layers once the run is cancelled."""
    image = photo
    with cancel_scope(steps):
        for level in nets.levels:
            steps.check()
            if not tile or max(photo.shape[:2]) <= whole_side:
                image = _whole_level(nets, image, level, style[level])
                steps.step()
            else:
                image = _tiled_level(nets, image, level, style[level], tile, steps)
    return image


def _whole_level(nets: Networks, rgb: np.ndarray, level: str, style: FeatureStats) -> np.ndarray:
    padded, (h, w) = _padded(_to_tensor(rgb, nets.device))
    features = nets.encode(padded, level)
    content = _unpadded_stats(features, h, w)
    transform = whitening_colouring(content, style)
    out = nets.decode(transform(features).to(features.dtype), level)
    return _to_uint8(out[..., :h, :w])


def _unpadded_stats(features: torch.Tensor, h: int, w: int) -> FeatureStats:
    """Statistics of the positions that see the image, not its reflected padding."""
    stride = LEVELS_STRIDE[features.shape[1]]
    accumulator = StatsAccumulator()
    accumulator.add(features[..., : -(-h // stride), : -(-w // stride)].float())
    return accumulator.stats()


LEVELS_STRIDE = {channels: stride for channels, stride in LEVELS.values()}


def _tiled_level(
    nets: Networks, rgb: np.ndarray, level: str, style: FeatureStats, tile: int, steps: PassSteps
) -> np.ndarray:
    h, w = rgb.shape[:2]
    grid = [t for row in tile_grid(h, w, tile, TILE_OVERLAP) for t in row]
    accumulator = StatsAccumulator()
    for window in grid:
        padded, (th, tw) = _padded(_to_tensor(rgb[window.slices], nets.device))
        features = nets.encode(padded, level)
        accumulator.add(_core(features, window, th, tw).float())
        steps.step()
    transform = whitening_colouring(accumulator.stats(), style)
    canvas = TileCanvas(np.zeros_like(rgb))
    for window in grid:
        out = _decoded(nets, _to_tensor(rgb[window.slices], nets.device), level, transform)
        canvas.paste(window, _to_uint8(out))
        steps.step()
    return canvas.image


def _core(features: torch.Tensor, window: object, h: int, w: int) -> torch.Tensor:
    """The features of a tile's own part: half of each overlap belongs to the tile before."""
    stride = LEVELS_STRIDE[features.shape[1]]
    top = window.overlap_top // 2 // stride
    left = window.overlap_left // 2 // stride
    return features[..., top : -(-h // stride), left : -(-w // stride)]
