"""Where instant mode's style distance comes from, and whether the transform or the decoder
holds it back. Per pair at 512 px, the style distance per VGG19 level, for:

  wct          the shipped pass (whitening-colouring at relu4_1, the shipped decoder);
  swap         every relu4_1 position replaced by the style position nearest to it after
               both are whitened (Avatar-Net's style decorator, 1x1 patches), then decoded;
  relu5_1-opt  the WCT target moved by 40 Adam steps until its relu5_1 Gram matches the
               style's, then decoded: what a perfect relu5_1 transform would leave after
               the decoder.

    python benchmarks/probe_instant_gap.py [--pairs 3]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch
from bench_instant import DATA, PAIRS  # this folder's benchmark: the same pairs
from PIL import Image

from styler.evaluate import EVAL_STYLE_LAYERS, _features, content_distance
from styler.image_sizes import resize_long_side
from styler.instant.torch_networks import loaded_networks
from styler.instant.wct import _powered, feature_stats, whitening_colouring
from styler.losses import gram_matrix, relative_error
from styler.tensors import to_image
from styler.vgg import VGG19Features

LEVEL = "relu4_1"


def per_level(out: Image.Image, style: Image.Image) -> list[float]:
    a, b = _features(out), _features(style)
    return [float(relative_error(gram_matrix(a[n]), gram_matrix(b[n]))) for n in EVAL_STYLE_LAYERS]


def _whitened(features: torch.Tensor) -> torch.Tensor:
    stats = feature_stats(features)
    mean = torch.from_numpy(stats.mean).float()  # the statistics are numpy's (float64)
    flat = features.reshape(features.shape[1], -1) - mean[:, None]
    return (torch.from_numpy(_powered(stats.cov, -0.5)).float() @ flat).reshape(features.shape)


def swapped(content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """Each content position takes the style features of its nearest whitened neighbour."""
    channels = content.shape[1]
    keys = _whitened(style).reshape(channels, -1)
    keys = keys / keys.norm(dim=0, keepdim=True).clamp_min(1e-6)
    nearest = (keys.T @ _whitened(content).reshape(channels, -1)).argmax(dim=0)
    return style.reshape(channels, -1)[:, nearest].reshape(content.shape)


def relu5_matched(target: torch.Tensor, style: torch.Tensor, tail: torch.nn.Module) -> torch.Tensor:
    """The relu4_1 target nudged until the VGG19 layers above it give the style's relu5_1 Gram."""
    with torch.no_grad():
        goal = gram_matrix(tail(style))
    moved = target.clone().requires_grad_(True)
    optimizer = torch.optim.Adam([moved], lr=0.05 * float(target.abs().mean()))
    for _ in range(40):
        optimizer.zero_grad()
        relative_error(gram_matrix(tail(moved)), goal).backward()
        optimizer.step()
        with torch.no_grad():
            moved.clamp_(min=0)  # relu4_1 features are non-negative
    return moved.detach()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=3)
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"needs the shared data folder at {DATA}", file=sys.stderr)
        return 2
    nets = loaded_networks(torch.device("cpu"))  # in PyTorch: features in and out
    upper = VGG19Features(["relu5_1"])
    tail = torch.nn.Sequential(*list(upper.body)[upper.names.index(LEVEL) + 1 :])
    levels = " ".join(f"{n:>7}" for n in EVAL_STYLE_LAYERS)
    print(f"{'pair':30} {'run':12} {levels} {'mean':>7} {'content':>8}")
    for content_name, style_name in PAIRS[: args.pairs]:
        photo = resize_long_side(Image.open(DATA / "content" / f"{content_name}.jpg"), 512)
        painting = Image.open(DATA / "styles" / f"{style_name}.jpg").convert("RGB")
        w, h = photo.size
        with torch.no_grad():
            content = nets.features(np.asarray(photo.convert("RGB")), LEVEL).float()
            small = np.asarray(resize_long_side(painting, 512))
            style = nets.features(small, LEVEL).float()
        target = whitening_colouring(feature_stats(content), feature_stats(style))(content)
        runs = {
            "wct": target,
            "swap": swapped(content, style),
            "relu5_1-opt": relu5_matched(target, style, tail),
        }
        for name, features in runs.items():
            with torch.no_grad():
                out = to_image(nets.decoders[LEVEL](features)[..., :h, :w])
            errors = per_level(out, painting)
            cells = " ".join(f"{e:7.3f}" for e in errors)
            print(
                f"{content_name + ' x ' + style_name:30} {name:12} {cells} "
                f"{np.mean(errors):7.4f} {content_distance(out, photo):8.3f}",
                flush=True,
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
