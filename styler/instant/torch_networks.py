"""Instant mode's networks in PyTorch: on a GPU, in a half precision, or wherever
onnxruntime's graphs (styler.instant.runtime) do not run them; and what exports those graphs.

The photo's encoder is the shipped student (styler.instant.student) where the passes need
only its level (the default), else VGG19; the painting's is always VGG19.
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from contextlib import nullcontext
from dataclasses import dataclass, field, replace

import numpy as np
import torch
import torch.nn.functional as F

from styler.device import use_all_cores
from styler.errors import OptionsError
from styler.instant.cascade import CASCADE
from styler.instant.decoder import Decoder
from styler.instant.levels import image_padding
from styler.instant.student import LEVEL as STUDENT_LEVEL
from styler.instant.student import StudentEncoder
from styler.instant.wct import AffineMap, FeatureStats, feature_stats
from styler.instant.weights import load_decoders, load_encoder
from styler.tensors import check_between_layers
from styler.vgg import VGG19Features


@dataclass
class Networks:
    """The photo's encoder, the painting's and one decoder per level, on one device, run in
    PyTorch in `dtype` (None: float32)."""

    encoder: VGG19Features | StudentEncoder
    style_encoder: VGG19Features
    decoders: Mapping[str, Decoder]
    device: torch.device
    infos: Mapping[str, dict] = field(default_factory=dict)  # each decoder's training record
    encoder_note: str = "vgg19"  # which encoder the photo's is, as outputs record it
    dtype: torch.dtype | None = None
    precision: str = "fp32"  # what dtype amounts to, as the precision control says it
    painting_key: str | None = None  # paintings' statistics are not kept on disk (stats_cache)

    @property
    def levels(self) -> tuple[str, ...]:
        return tuple(level for level in CASCADE if level in self.decoders)

    def autocast(self) -> object:
        dtype = self.dtype
        return torch.autocast(self.device.type, dtype=dtype) if dtype else nullcontext()

    @torch.inference_mode()
    def features(self, rgb: np.ndarray, level: str) -> torch.Tensor:
        """The photo (HxWx3 uint8), padded (styler.instant.levels.image_padding), encoded."""
        with self.autocast():
            return self.encoder(_padded(_to_tensor(rgb, self.device)), [level])[level]

    @torch.inference_mode()
    def painted(
        self, features: torch.Tensor, transform: AffineMap, level: str, h: int, w: int
    ) -> np.ndarray:
        """Features given the transform, decoded, cropped to h x w: HxWx3 uint8."""
        with self.autocast():
            out = self.decoders[level](transform(features).to(features.dtype))
        return _to_uint8(out.float().clamp_(0, 1)[..., :h, :w])

    @torch.inference_mode()
    def style_stats(self, style: np.ndarray) -> dict[str, FeatureStats]:
        """Per-level statistics of a style image (HxWx3 uint8), in one VGG19 pass: the
        painting's statistics are what the decoder paints, so they come from the teacher,
        even where a student encodes the photos (docs/instant_mode.md)."""
        with self.autocast():
            feats = self.style_encoder(_to_tensor(style, self.device), list(self.levels))
        return {level: feature_stats(feats[level].float()) for level in self.levels}


def _to_tensor(rgb: np.ndarray, device: torch.device) -> torch.Tensor:
    tensor = torch.from_numpy(np.array(rgb, dtype=np.uint8, order="C")).to(device)
    return tensor.permute(2, 0, 1).unsqueeze(0).float().div_(255)


def _to_uint8(tensor: torch.Tensor) -> np.ndarray:
    return tensor[0].mul(255).round_().byte().permute(1, 2, 0).cpu().numpy()


def _padded(image: torch.Tensor) -> torch.Tensor:
    pad_h, pad_w, mode = image_padding(*image.shape[-2:])
    if not (pad_h or pad_w):
        return image
    return F.pad(image, (0, pad_w, 0, pad_h), mode="replicate" if mode == "edge" else mode)


_LOADED: dict[tuple[str, bool], Networks] = {}
_LOCK = threading.Lock()


def loaded_networks(device: torch.device, frames: bool = False) -> Networks:
    """The shipped networks on `device` in float32, loaded once per process (read-only);
    with `frames`, the video frames' decoder in place of the photos' (OptionsError where
    none is installed)."""
    key = (str(device), frames)
    with _LOCK:
        if key not in _LOADED:
            use_all_cores()
            if frames:
                base = _loaded(device)
                decoders, infos = load_decoders(frames=True)
                if set(decoders) != set(base.decoders):
                    raise OptionsError("no decoder of a video's frames is installed")
                on_device = {k: check_between_layers(v.to(device)) for k, v in decoders.items()}
                _LOADED[key] = replace(base, decoders=on_device, infos=infos)
            else:
                _LOADED[key] = _loaded(device)
        return _LOADED[key]


def _loaded(device: torch.device) -> Networks:
    """Call with the lock held."""
    key = (str(device), False)
    if key in _LOADED:
        return _LOADED[key]
    decoders, infos = load_decoders()
    levels = [level for level in CASCADE if level in decoders]
    if not levels:
        raise OptionsError("no instant-mode decoders are installed")
    vgg = check_between_layers(VGG19Features(levels).to(device))
    student = load_encoder() if levels == [STUDENT_LEVEL] else None
    encoder = check_between_layers(student[0].to(device)) if student else vgg
    on_device = {k: check_between_layers(v.to(device)) for k, v in decoders.items()}
    note = f"student, step {student[1].get('step')}" if student else "vgg19"
    _LOADED[key] = Networks(encoder, vgg, on_device, device, infos, encoder_note=note)
    return _LOADED[key]
