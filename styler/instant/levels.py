"""What the instant-mode passes know of VGG19's levels, without PyTorch: each level's
channels and stride, and how an image is padded to go through the deepest one."""

from __future__ import annotations

# VGG19 level -> (its channels, its stride)
LEVELS: dict[str, tuple[int, int]] = {
    "relu1_1": (64, 1),
    "relu2_1": (128, 2),
    "relu3_1": (256, 4),
    "relu4_1": (512, 8),
}
STRIDE_OF_CHANNELS = {channels: stride for channels, stride in LEVELS.values()}
STRIDE = 8  # the deepest level's: images are padded to a multiple of it


def image_padding(h: int, w: int) -> tuple[int, int, str]:
    """(rows, columns, mode) to pad an h x w image with at its bottom and right: to a
    multiple of STRIDE (the decoders upsample by exact powers of 2), and to two of them at
    least, since the deepest layers mirror their input by a pixel (styler.instant.padding);
    mirrored ("reflect") where the image is larger than the padding, else its edge repeated
    ("edge"). numpy's and PyTorch's reflect modes agree: neither repeats the edge."""
    pad_h, pad_w = (max(-side % STRIDE, 2 * STRIDE - side) for side in (h, w))
    return pad_h, pad_w, "reflect" if min(h, w) > max(pad_h, pad_w) else "edge"
