"""Image fusion: multi-band blending, colour preservation and photo fusion (numpy/OpenCV only).

All functions take and return HxWx3 uint8 RGB arrays; masks are HxW float32 in [0, 1].
"""

from styler.fusion.color import HueStatistics, hue_statistics, luminance_transfer, match_colors
from styler.fusion.photo import align, estimate_warp, exposure_fusion, focus_stack
from styler.fusion.pyramid import blend_two, default_levels, multiband_blend

__all__ = [
    "HueStatistics",
    "align",
    "blend_two",
    "default_levels",
    "estimate_warp",
    "exposure_fusion",
    "focus_stack",
    "hue_statistics",
    "luminance_transfer",
    "match_colors",
    "multiband_blend",
]
