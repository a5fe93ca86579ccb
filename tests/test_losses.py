"""Gram matrices and perceptual losses, on real VGG features."""

from __future__ import annotations

import pytest
import torch

from styler.image_sizes import resize_long_side
from styler.losses import (
    LossWeights,
    blended_grams,
    gram_matrix,
    perceptual_loss,
    relative_error,
    total_variation,
)
from styler.tensors import to_tensor
from styler.vgg import VGG19Features


def test_gram_matches_definition() -> None:
    feats = torch.randn(1, 4, 3, 5)
    flat = feats[0].reshape(4, 15)
    assert torch.allclose(gram_matrix(feats)[0], flat @ flat.T / 15, atol=1e-6)
    assert torch.allclose(gram_matrix(feats)[0], gram_matrix(feats)[0].T)


def test_gram_does_not_grow_with_image_size() -> None:
    """A tiled copy of a texture has the same Gram: style weight is size-independent."""
    feats = torch.rand(1, 8, 6, 6)
    tiled = feats.repeat(1, 1, 3, 3)
    assert torch.allclose(gram_matrix(feats), gram_matrix(tiled), atol=1e-6)


def test_style_loss_of_real_vgg_features_is_size_independent(style) -> None:
    vgg = VGG19Features(["relu2_1"])
    small = to_tensor(style)
    large = to_tensor(style).repeat(1, 1, 2, 2)  # the same stripes over 4x the area
    g_small = gram_matrix(vgg(small)["relu2_1"])
    g_large = gram_matrix(vgg(large)["relu2_1"])
    assert float(relative_error(g_large, g_small)) < 0.02


def test_relative_error_scale_free() -> None:
    t = torch.rand(1, 10)
    v = t + 0.1
    assert torch.isclose(relative_error(v, t), relative_error(v * 100, t * 100))
    assert float(relative_error(t, t)) == 0.0


def test_total_variation_penalises_noise() -> None:
    smooth = torch.linspace(0, 1, 64).view(1, 1, 1, 64).expand(1, 3, 64, 64)
    noisy = smooth + 0.2 * torch.rand(1, 3, 64, 64)
    assert total_variation(noisy) > 10 * total_variation(smooth)


def test_blended_grams_are_weighted_averages() -> None:
    a = {"relu1_1": torch.ones(1, 2, 2)}
    b = {"relu1_1": torch.zeros(1, 2, 2)}
    assert torch.allclose(blended_grams([a, b], [3, 1])["relu1_1"], torch.full((1, 2, 2), 0.75))
    with pytest.raises(ValueError, match="blend weights"):
        blended_grams([a, b], [0, 0])
    with pytest.raises(ValueError, match="2 styles but 1"):
        blended_grams([a, b], [1])


def test_perceptual_loss_terms_and_weights(photo, style) -> None:
    weights = LossWeights(content=1.0, style=1.0, tv=0.5)
    vgg = VGG19Features(weights.layers)
    content = to_tensor(photo)
    with torch.no_grad():
        content_feats = vgg(content)
        style_feats = vgg(to_tensor(resize_long_side(style, 64)))
    targets_c = {k: content_feats[k] for k in weights.content_layers}
    targets_s = {k: gram_matrix(style_feats[k]) for k in weights.style_layers}
    same = perceptual_loss(content, content_feats, targets_c, targets_s, weights)
    assert float(same.content) == 0.0 and float(same.style) > 0 and float(same.tv) > 0
    zero_style = LossWeights(content=1.0, style=0.0)
    none = perceptual_loss(content, content_feats, targets_c, targets_s, zero_style)
    assert float(none.style) == 0.0
    per_layer = LossWeights(style_layers={"relu1_1": 1.0, "relu5_1": 0.0})
    only_first = perceptual_loss(content, content_feats, targets_c, targets_s, per_layer)
    expected = relative_error(gram_matrix(content_feats["relu1_1"]), targets_s["relu1_1"])
    assert torch.isclose(only_first.style, expected)


def test_invalid_weights_are_refused() -> None:
    with pytest.raises(ValueError, match="content weight must be >= 0"):
        LossWeights(content=-1)
    with pytest.raises(ValueError, match="at least one style layer"):
        LossWeights(style_layers={})
