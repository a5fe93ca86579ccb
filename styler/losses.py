"""Perceptual losses: content (feature MSE), Gram-matrix style, total variation.

Both feature losses are *relative* squared errors, ||x - t||^2 / ||t||^2, with
Grams normalised by the number of positions. That makes every term
independent of image size and of each layer's activation scale, so one set of
weights works for any image, and the numbers mean the same thing as the
``styler evaluate`` distances.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import torch

from styler.controls import CONTROLS
from styler.fast.blend import normalised_weights

DEFAULT_STYLE_LAYERS: dict[str, float] = {
    "relu1_1": 1.0,
    "relu2_1": 1.0,
    "relu3_1": 1.0,
    "relu4_1": 1.0,
    "relu5_1": 1.0,
}
DEFAULT_CONTENT_LAYERS: dict[str, float] = {"relu4_2": 1.0}


class _SelfProduct(torch.autograd.Function):
    """F^T F of (N, positions, C) features, whose gradient takes one batched product.

    Both factors are the same tensor, so the gradient is F (g + g^T): autograd's generic
    backward of bmm makes two products the size of the features and adds them, and in
    optimizer mode those were a fifth of the run (docs/performance.md, "Optimizer mode")."""

    @staticmethod
    def forward(ctx: torch.autograd.function.FunctionCtx, flat: torch.Tensor) -> torch.Tensor:
        ctx.save_for_backward(flat)
        return torch.bmm(flat.transpose(1, 2), flat)

    @staticmethod
    def backward(ctx: torch.autograd.function.FunctionCtx, grad: torch.Tensor) -> torch.Tensor:
        (flat,) = ctx.saved_tensors  # type: ignore[attr-defined]
        return torch.bmm(flat, (grad + grad.transpose(1, 2)).to(flat.dtype))


def gram_matrix(features: torch.Tensor) -> torch.Tensor:
    """(N, C, H, W) -> (N, C, C), divided by H*W so it does not grow with image size."""
    n, c, h, w = features.shape
    # VGG runs channels-last: (N, H, W, C) is then a free view, (N, C, H*W) a copy.
    flat = features.permute(0, 2, 3, 1).reshape(n, h * w, c)
    return _SelfProduct.apply(flat) / (h * w)


def guided_gram(features: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Gram of the features weighted by a mask, divided by the mask's sum: one region's style.

    mask is (1 or N, 1, H, W) at the features' resolution; an all-ones mask gives gram_matrix.
    """
    n, c, h, w = features.shape
    flat = features.permute(0, 2, 3, 1).reshape(n, h * w, c)
    weights = mask.reshape(-1, h * w, 1)
    total = weights.sum(dim=(1, 2)).clamp_min(1e-8).view(-1, 1, 1)
    return torch.bmm((flat * weights).transpose(1, 2), flat) / total


def relative_error(value: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """||value - target||^2 / ||target||^2, averaged over the batch."""
    dims = tuple(range(1, value.dim()))
    num = (value - target).pow(2).sum(dims)
    den = target.pow(2).sum(dims).clamp_min(1e-12)
    return (num / den).mean()


def total_variation(image: torch.Tensor) -> torch.Tensor:
    """Mean squared difference of neighbouring pixels: penalises high-frequency noise."""
    dx = image[..., :, 1:] - image[..., :, :-1]
    dy = image[..., 1:, :] - image[..., :-1, :]
    return dx.pow(2).mean() + dy.pow(2).mean()


def blended_grams(
    per_style: Sequence[Mapping[str, torch.Tensor]], blend: Sequence[float]
) -> dict[str, torch.Tensor]:
    """Weighted average of several styles' Grams: the target for blended styles."""
    weights = normalised_weights(blend, len(per_style), "style")
    layers = per_style[0].keys()
    return {
        layer: sum(w * grams[layer] for w, grams in zip(weights, per_style, strict=True))
        for layer in layers
    }


@dataclass
class RegionStyle:
    """Style targets for one region of the image (Gatys et al. 2017, spatial control).

    The region's Gram (guided_gram with its mask) is matched to `grams`; the error counts in
    proportion to the region's share of the image, so regions that tile the image weigh
    as much in total as one style over the whole image.
    """

    grams: Mapping[str, torch.Tensor]  # style layer -> target Gram
    masks: Mapping[str, torch.Tensor]  # style layer -> (1, 1, h, w) weights at its resolution

    def error(self, layer: str, features: torch.Tensor) -> torch.Tensor:
        mask = self.masks[layer]
        return mask.mean() * relative_error(guided_gram(features, mask), self.grams[layer])


@dataclass
class LossWeights:
    """Weights of the perceptual loss; the defaults need no tuning."""

    # The controls' defaults, tuned on tubingen x starry_night: strong, clearly recognisable.
    content: float = CONTROLS["content_weight"].default
    style: float = CONTROLS["style_weight"].default
    tv: float = CONTROLS["tv_weight"].default
    content_layers: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_CONTENT_LAYERS))
    style_layers: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_STYLE_LAYERS))

    def __post_init__(self) -> None:
        for name in ("content", "style", "tv"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name} weight must be >= 0, got {getattr(self, name)}")
        if not self.style_layers:
            raise ValueError("at least one style layer is needed")

    @property
    def layers(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys([*self.content_layers, *self.style_layers]))


@dataclass
class LossTerms:
    """The weighted parts of one loss evaluation, kept apart for progress reports."""

    content: torch.Tensor
    style: torch.Tensor
    tv: torch.Tensor

    @property
    def total(self) -> torch.Tensor:
        return self.content + self.style + self.tv

    def as_floats(self) -> dict[str, float]:
        return {
            "total": float(self.total.detach()),
            "content": float(self.content.detach()),
            "style": float(self.style.detach()),
            "tv": float(self.tv.detach()),
        }


def perceptual_loss(
    image: torch.Tensor,
    features: Mapping[str, torch.Tensor],
    content_targets: Mapping[str, torch.Tensor],
    style_targets: Mapping[str, torch.Tensor] | Sequence[RegionStyle],
    weights: LossWeights,
) -> LossTerms:
    """Combine content, style and TV terms for an image and its VGG features.

    style_targets are Grams for the whole image, or one RegionStyle per styled region
    (parts of the image in no region get the content loss only).
    """
    content = image.new_zeros(())
    if weights.content > 0:
        for layer, w in weights.content_layers.items():
            content = content + w * relative_error(features[layer], content_targets[layer])
        content = content * weights.content
    style = image.new_zeros(())
    layer_total = sum(weights.style_layers.values())
    for layer, w in weights.style_layers.items():
        if isinstance(style_targets, Mapping):
            error = relative_error(gram_matrix(features[layer]), style_targets[layer])
        else:
            errors = [region.error(layer, features[layer]) for region in style_targets]
            error = torch.stack(errors).sum() if errors else image.new_zeros(())
        style = style + w / layer_total * error
    style = style * weights.style
    tv = total_variation(image) * weights.tv if weights.tv > 0 else image.new_zeros(())
    return LossTerms(content=content, style=style, tv=tv)
