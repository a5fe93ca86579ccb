"""Blending fast styles: interpolate the networks' parameters, or mix their outputs.

Every shipped network is fine-tuned from one base network, so their parameters stay close
enough that a weighted average of them is itself a working network, with a style between
theirs, at the cost of one network. Mixing the outputs instead runs every network, and
shows each style's own strokes, faded, rather than strokes of an in-between style.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

from styler.controls import CONTROLS
from styler.errors import OptionsError
from styler.fusion.arrays import to_uint8
from styler.wording import counted

if TYPE_CHECKING:
    from styler.fast.network import NetworkConfig, StyleNetwork

BLEND_METHODS = CONTROLS["blend_method"].choices


def normalised_weights(weights: Sequence[float], count: int,
                       kind: str = "fast style") -> list[float]:  # fmt: skip
    """weights scaled to sum to 1, after checking there is one per style (`kind` names
    them), each a finite number >= 0, not all 0."""
    weights = [float(w) for w in weights]
    if len(weights) != count:
        raise OptionsError(f"{counted(count, kind)} but {counted(len(weights), 'blend weight')}")
    if not all(math.isfinite(w) and w >= 0 for w in weights) or sum(weights) <= 0:
        raise OptionsError(f"blend weights must be finite numbers >= 0, not all zero, got "
                           f"{weights}")  # fmt: skip
    total = sum(weights)
    return [w / total for w in weights]


def blend_networks(
    networks: Sequence[StyleNetwork],
    weights: Sequence[float],
    names: Sequence[str] | None = None,
) -> StyleNetwork:
    """A new network whose every parameter is the weighted average of the networks' own.

    The networks must share one configuration (widths and blocks), as networks fine-tuned
    from one base do; names label them in the error otherwise.
    """
    import torch

    from styler.fast.network import StyleNetwork

    if not networks:
        raise OptionsError("no networks to blend")
    weights = normalised_weights(weights, len(networks))
    names = list(names) if names is not None else [f"network {i + 1}" for i in range(len(networks))]
    first = networks[0].config
    for network, name in zip(networks[1:], names[1:], strict=True):
        if network.config != first:
            raise OptionsError(
                f"cannot blend {names[0]} ({_shape(first)}) with {name} "
                f"({_shape(network.config)}): parameter blending needs networks of one shape; "
                "use the outputs blend method"
            )
    states = [network.state_dict() for network in networks]
    blended = StyleNetwork(first)
    with torch.no_grad():
        mixed = {
            key: sum(w * state[key].float() for w, state in zip(weights, states, strict=True))
            for key in states[0]
        }
        blended.load_state_dict(mixed)
    return blended.to(next(networks[0].parameters()).device).eval()


def blend_outputs(images: Sequence[np.ndarray], weights: Sequence[float]) -> np.ndarray:
    """Weighted average of same-size uint8 RGB images (the outputs blend method)."""
    weights = normalised_weights(weights, len(images))
    total = sum(w * image.astype(np.float32) for w, image in zip(weights, images, strict=True))
    return to_uint8(np.asarray(total))


def _shape(config: NetworkConfig) -> str:
    return f"widths {config.widths}, {config.res_blocks} residual blocks"
