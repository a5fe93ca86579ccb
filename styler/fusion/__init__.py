"""Image fusion: multi-band blending, colour preservation, strength, regions and photo fusion
(numpy/OpenCV only).

All functions take and return HxWx3 uint8 RGB arrays; masks are HxW float32 in [0, 1].
"""

from styler.fusion.color import (
    HueStatistics,
    hue_statistics,
    luminance_transfer,
    match_colors,
    preserve_colors,
)
from styler.fusion.photo import align, estimate_warp, exposure_fusion, focus_stack
from styler.fusion.pyramid import (
    add_detail,
    blend_alphas,
    blend_two,
    default_levels,
    multiband_blend,
)
from styler.fusion.regions import composite, load_mask, load_region_masks
from styler.fusion.strength import apply_strength

__all__ = [
    "HueStatistics",
    "add_detail",
    "align",
    "apply_strength",
    "blend_alphas",
    "blend_two",
    "composite",
    "default_levels",
    "estimate_warp",
    "exposure_fusion",
    "focus_stack",
    "hue_statistics",
    "load_mask",
    "load_region_masks",
    "luminance_transfer",
    "match_colors",
    "multiband_blend",
    "preserve_colors",
]
