"""Running a style network on photos of any size.

Photos up to `tile` x `tile` pixels run in one pass (batched when several share
a size). Larger ones run as overlapping tiles blended with linear ramps. Two
pitfalls of naive tiling are avoided: every tile uses instance-normalisation
statistics captured once on a downscaled copy of the whole photo, so colour and
contrast do not jump between tiles; and overlaps are cross-faded, so there are
no seams. Peak memory stays near one float copy of the output.
"""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from styler.device import resolve_device, use_all_cores
from styler.fast.manifest import find_style
from styler.fast.network import StyleNetwork
from styler.fast.weights import read_network
from styler.imageio import LoadedImage, load_image, to_array
from styler.result import StylizeResult
from styler.tensors import scaled_size

ImageInput = str | os.PathLike | Image.Image | np.ndarray

DEFAULT_TILE = 1024
DEFAULT_OVERLAP = 128  # about the network's receptive-field radius
STATS_SIDE = 1024  # long side of the copy the normalisation statistics come from


def _to_input(array: np.ndarray, device: torch.device) -> torch.Tensor:
    tensor = torch.from_numpy(np.array(array, dtype=np.uint8, order="C")).to(device)
    return tensor.permute(2, 0, 1).unsqueeze(0).float().div_(255)


def _to_uint8(tensor: torch.Tensor) -> np.ndarray:
    return tensor.clamp(0, 1).mul(255).round().byte().permute(1, 2, 0).cpu().numpy()


def _ramp(length: int, overlap: int, fade_in: bool, fade_out: bool) -> np.ndarray:
    """1 in the middle, rising/falling linearly over the overlap at interior edges."""
    weights = np.ones(length, np.float32)
    steps = np.linspace(1, overlap, overlap, dtype=np.float32) / (overlap + 1)
    if fade_in:
        weights[:overlap] = steps
    if fade_out:
        weights[-overlap:] = steps[::-1]
    return weights


def _starts(length: int, tile: int, overlap: int) -> list[int]:
    if length <= tile:
        return [0]
    stride = tile - overlap
    starts = list(range(0, length - tile, stride))
    return [*starts, length - tile]


class FastStylizer:
    """One shipped (by name) or trained (by path) style network, ready to stylize."""

    def __init__(
        self,
        style: str | Path,
        device: str = "auto",
        tile: int = DEFAULT_TILE,
        overlap: int = DEFAULT_OVERLAP,
    ) -> None:
        use_all_cores()
        self.device = resolve_device(device)
        path = Path(style)
        if path.suffix == ".safetensors" or path.is_file():
            self.name, network, self.info = path.stem, *read_network(path)
        else:
            entry = find_style(str(style))
            self.name, network, self.info = entry.name, *read_network(entry.path, entry.sha256)
        self.network: StyleNetwork = network.to(self.device).eval()
        self.tile, self.overlap = tile, overlap
        self._lock = threading.Lock()  # tiles replay shared statistics stored on the network

    @torch.inference_mode()
    def stylize_array(self, rgb: np.ndarray) -> np.ndarray:
        """HxWx3 uint8 RGB -> stylized HxWx3 uint8 RGB of the same size."""
        h, w = rgb.shape[:2]
        with self._lock:
            if h <= self.tile and w <= self.tile:
                return _to_uint8(self.network(_to_input(rgb, self.device))[0])
            return self._tiled(rgb)

    @torch.inference_mode()
    def stylize_arrays(self, images: Sequence[np.ndarray], batch: int = 4) -> list[np.ndarray]:
        """Several photos; those that share a size and fit in a tile run as one batch."""
        results: list[np.ndarray | None] = [None] * len(images)
        by_size: dict[tuple[int, ...], list[int]] = {}
        for index, image in enumerate(images):
            by_size.setdefault(image.shape, []).append(index)
        for shape, indices in by_size.items():
            if max(shape[:2]) > self.tile:
                for i in indices:
                    results[i] = self.stylize_array(images[i])
                continue
            for start in range(0, len(indices), batch):
                chunk = indices[start : start + batch]
                x = torch.cat([_to_input(images[i], self.device) for i in chunk])
                with self._lock:
                    out = self.network(x)
                for i, y in zip(chunk, out, strict=True):
                    results[i] = _to_uint8(y)
        return [r for r in results if r is not None]

    def _tiled(self, rgb: np.ndarray) -> np.ndarray:
        h, w = rgb.shape[:2]
        # Box-filtered copy: cheap and antialiased even from 8K.
        side = min(STATS_SIDE, max(h, w))
        small = Image.fromarray(rgb).resize(scaled_size((w, h), side), Image.Resampling.BOX)
        proxy = _to_input(np.asarray(small), self.device)
        total = np.zeros((h, w, 3), np.float32)
        weight = np.zeros((h, w, 1), np.float32)
        tile, overlap = self.tile, self.overlap
        with self.network.shared_statistics(proxy):
            for top in _starts(h, tile, overlap):
                for left in _starts(w, tile, overlap):
                    bottom, right = min(h, top + tile), min(w, left + tile)
                    out = self.network(_to_input(rgb[top:bottom, left:right], self.device))[0]
                    ramp_y = _ramp(bottom - top, overlap, top > 0, bottom < h)
                    ramp_x = _ramp(right - left, overlap, left > 0, right < w)
                    mask = (ramp_y[:, None] * ramp_x[None, :])[..., None]
                    pixels = out.clamp(0, 1).permute(1, 2, 0).cpu().numpy()
                    total[top:bottom, left:right] += pixels * mask
                    weight[top:bottom, left:right] += mask
        total /= weight
        np.multiply(total, 255, out=total)
        return np.rint(total, out=total).astype(np.uint8)

    def run(self, image: ImageInput | LoadedImage, *, bgr: bool = False) -> StylizeResult:
        """Stylize one image; the result records the network that made it."""
        start = time.perf_counter()
        loaded = image if isinstance(image, LoadedImage) else load_image(image, bgr=bgr)
        out = Image.fromarray(self.stylize_array(np.asarray(loaded.rgb)), "RGB")
        settings = {"mode": "fast", "style": self.name, "network": self.info}
        return StylizeResult(image=out, alpha=loaded.alpha, settings=settings, losses={},
                             completed=True, elapsed=time.perf_counter() - start)  # fmt: skip

    def stylize(self, image: ImageInput | LoadedImage, *, bgr: bool = False):
        """Stylize a path, PIL image or array: arrays come back as arrays, the rest as PIL."""
        result = self.run(image, bgr=bgr).with_alpha()
        return to_array(result, bgr=bgr) if isinstance(image, np.ndarray) else result
