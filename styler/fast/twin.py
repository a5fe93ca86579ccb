"""A fast network's twin: its architecture and its file.

The twin (trained by styler.fast.distill) is the network with the normalisations of its
1/8-scale trunk folded into the convolutions before them and zero padding in the residual
blocks, so its trunk quantizes end to end. Its int8 graph is what `auto` runs on CPUs with
int8 dot products; in float it paints video frames where they do not (the shift term it
trained with keeps a moved frame's strokes in place, docs/video.md). Reading it needs
neither training code nor VGG19.
"""

from __future__ import annotations

import json
from pathlib import Path

from safetensors import safe_open
from safetensors.torch import load_file, save_file
from torch import nn

from styler.fast.network import NetworkConfig, StyleNetwork, TileableInstanceNorm

FOLDED = ("encoder.3.", "residuals.")  # the 1/8-scale trunk: module-name prefixes


def folded(name: str) -> bool:
    """Whether the module of this name sits in the trunk whose normalisations fold."""
    return name.startswith(FOLDED)


def twin_shell(config: NetworkConfig) -> StyleNetwork:
    """The twin's architecture: the network with identity in place of the trunk's
    normalisations and zero padding in the residual blocks."""
    net = StyleNetwork(config)
    modules = dict(net.named_modules())
    for name, module in list(modules.items()):
        if isinstance(module, TileableInstanceNorm) and folded(name):
            parent, child = name.rsplit(".", 1)
            setattr(modules[parent], child, nn.Identity())
    for module in net.residuals.modules():
        if isinstance(module, nn.Conv2d):
            module.padding_mode = "zeros"
    return net


def save_twin(twin: StyleNetwork, path: Path, info: dict) -> None:
    """A safetensors file with the architecture and `info` (how it was made) in its header.
    The twin's state has no normalisation parameters, so read_network would refuse it."""
    meta = {"config": json.dumps(twin.config.as_dict()), "info": json.dumps(info, default=str)}
    save_file({k: v.contiguous() for k, v in twin.state_dict().items()}, str(path), meta)


def read_twin(path: Path) -> StyleNetwork:
    with safe_open(str(path), "pt") as handle:
        config = json.loads(handle.metadata()["config"])
    twin = twin_shell(NetworkConfig(tuple(config["widths"]), config["res_blocks"]))
    twin.load_state_dict(load_file(str(path)))
    return twin.eval()
