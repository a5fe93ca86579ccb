"""The sizes a style network takes, known without PyTorch: onnxruntime's passes check them too."""

from __future__ import annotations

from styler.errors import ImageSizeError

MULTIPLE = 8  # the input is padded to a multiple of this, then cropped back
MIN_SIDE = 16  # so the 1/8 scale is at least 2 px, which reflection padding needs


def check_size(height: int, width: int) -> None:
    """ImageSizeError for a size the network cannot take: an empty image (any other works)."""
    if height < 1 or width < 1:
        raise ImageSizeError(f"cannot stylize an empty image ({width}x{height} px)")
