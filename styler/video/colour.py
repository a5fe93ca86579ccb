"""The colours of a clip: decoded frames as the RGB a viewer sees, HDR brought to SDR, and
output tagged so every player shows the pixels styler painted.

Why this is its own step: a YUV frame only becomes RGB with the matrix it was encoded with.
FFmpeg falls back to BT.601 where a clip does not say which, while players take BT.709 for
HD pictures, so an untagged HD clip (screen recordings, many exports) came in with its
greens 20-odd levels duller than the viewer saw it; and an output written with BT.601 and no
tags was shown through BT.709 by browsers, shifting every colour again. Phones record HDR
(HLG or PQ, BT.2020, 10 bits): read as if it were SDR, HLG is dull and PQ dark and grey,
and a network paints what it is given. So:
- a frame's own tags are honoured; an untagged one is BT.709 from HD sizes on (width 1280 or
  more, or over 576 lines) and BT.601 below, as players guess;
- HLG and PQ frames are brought to SDR BT.709 in display light (BT.2100's transfer
  functions, HLG through its OOTF for a 1000 cd/m2 display, reference white of BT.2408,
  203 cd/m2, at SDR white, highlights above it rolled off smoothly rather than clipped,
  BT.2020's gamut mapped into BT.709's);
- SDR frames in BT.2020's gamut (some cameras' and drones' 10-bit modes) have their colours
  mapped into BT.709's the same way (BT.1886's gamma in and out, no roll-off): read as
  BT.709, their colours came in duller than they are;
- output is BT.709, limited range, and says so (matrix, primaries, transfer, range).
"""

from __future__ import annotations

import functools
from typing import Any

import cv2
import numpy as np
from av.video.reformatter import ColorRange, Colorspace

# FFmpeg's codes (AVColorSpace, AVColorTransferCharacteristic, AVColorPrimaries).
UNSPECIFIED = 2
BT709 = 1
BT2020 = 9  # primaries
PQ, HLG = 16, 18
# An untagged frame at least this wide, or taller than this, is HD: BT.709.
HD_WIDTH, SD_LINES = 1280, 576
# HDR to SDR (BT.2100, BT.2408): HLG's display for its OOTF, the reference white that becomes
# SDR white, where the highlights' roll-off starts (share of SDR white), SDR's display gamma.
HLG_DISPLAY_PEAK, HLG_SYSTEM_GAMMA = 1000.0, 1.2
REFERENCE_WHITE = 203.0  # cd/m2
KNEE = 0.75
SDR_GAMMA = 2.4  # BT.1886
BT709_LUMA = (0.2126, 0.7152, 0.0722)  # luminance from linear BT.709 RGB
BT2020_TO_BT709 = np.array(
    [[1.6605, -0.5876, -0.0728], [-0.1246, 1.1329, -0.0083], [-0.0182, -0.1006, 1.1187]],
    np.float32,
)


def frame_rgb(frame: Any) -> np.ndarray:
    """A decoded PyAV video frame as HxWx3 uint8 RGB, as a viewer sees it (module docstring)."""
    if frame.color_trc in (PQ, HLG) or frame.color_primaries == BT2020:
        return _wide_to_bt709(frame.to_ndarray(format="rgb48le"), frame.color_trc)
    if frame.colorspace == UNSPECIFIED:
        hd = frame.width >= HD_WIDTH or frame.height > SD_LINES
        matrix = Colorspace.ITU709 if hd else Colorspace.ITU601
        return frame.reformat(format="rgb24", src_colorspace=matrix).to_ndarray()
    return frame.to_ndarray(format="rgb24")


def tag_bt709(codec_context: Any) -> None:
    """Say in the output stream what yuv_bt709 encodes: BT.709, limited range."""
    codec_context.colorspace = codec_context.color_primaries = BT709
    codec_context.color_trc = BT709
    codec_context.color_range = ColorRange.MPEG


def yuv_bt709(frame: Any) -> Any:
    """An RGB PyAV frame as yuv420p by BT.709's matrix, limited range (what tag_bt709 says)."""
    return frame.reformat(format="yuv420p", dst_colorspace=Colorspace.ITU709,
                          dst_color_range=ColorRange.MPEG)  # fmt: skip


def _wide_to_bt709(rgb48: np.ndarray, transfer: int) -> np.ndarray:
    """BT.2020 R'G'B' (16 bits; HLG, PQ or an SDR transfer) to 8-bit BT.709 SDR in display
    light. Every per-pixel factor (HLG's OOTF, HDR's roll-off) scales all three channels, so
    it commutes with the gamut's matrix: they are gathered into one scale, applied once; SDR
    needs none. OpenCV's calls on whole arrays throughout (a channel's strided view, or
    NumPy's broadcasting, costs several times as much on a frame's 6 million values)."""
    light = cv2.transform(np.take(_to_light(transfer), rgb48), BT2020_TO_BT709)
    pixels = light.reshape(-1, 3)  # a row a pixel: cv2.reduce gives each pixel's brightest
    scale = None
    if transfer == HLG:  # scene light -> display light of a HLG_DISPLAY_PEAK display
        luma = cv2.max(cv2.transform(light, np.array([BT709_LUMA], np.float32)), 0.0)
        scale = cv2.pow(luma, HLG_SYSTEM_GAMMA - 1).reshape(-1, 1)
        scale *= np.float32(HLG_DISPLAY_PEAK / REFERENCE_WHITE)
    cv2.max(pixels, 0.0, dst=pixels)  # colours outside BT.709's gamut: channels clipped
    if transfer not in (PQ, HLG):  # SDR: white stays white, a channel over it is clipped
        cv2.min(pixels, 1.0, dst=pixels)  # one channel of N x 3: the 1.0 is for all three
        return cv2.convertScaleAbs(cv2.pow(light, 1 / SDR_GAMMA), alpha=255)
    peak = cv2.reduce(pixels, 1, cv2.REDUCE_MAX)
    if scale is not None:
        peak *= scale
    rolled = _roll_off(peak)
    scale = rolled if scale is None else cv2.multiply(scale, rolled)
    cv2.multiply(pixels, cv2.merge([scale] * 3).reshape(-1, 3), dst=pixels)
    encoded = cv2.pow(light, 1 / SDR_GAMMA)  # the roll-off keeps every channel under 1
    return cv2.convertScaleAbs(encoded, alpha=255)


def _roll_off(peak: np.ndarray) -> np.ndarray:
    """Per pixel, the factor that brings its brightest channel `peak` (1 = SDR white) under
    1: none up to KNEE, then an exponential shoulder, so highlights keep their gradations and
    hue instead of clipping channel by channel. (Under the knee the shoulder's value is KNEE,
    over the peak: the factor's cap of 1 is what leaves those pixels alone.)"""
    over = cv2.max(peak - np.float32(KNEE), 0.0)
    rolled = KNEE + (1 - KNEE) * (1 - cv2.exp(over * np.float32(-1 / (1 - KNEE))))
    return cv2.min(rolled / cv2.max(peak, 1e-6), 1.0)


@functools.cache
def _to_light(transfer: int) -> np.ndarray:
    """Each 16-bit code's linear light: PQ's display light, in units of REFERENCE_WHITE;
    HLG's scene light, 0..1 (its OOTF is applied per pixel, it depends on the pixel's luma);
    any other (SDR) a BT.1886 display's light, 0..1."""
    signal = np.arange(65536, dtype=np.float64) / 65535
    if transfer not in (PQ, HLG):
        return (signal**SDR_GAMMA).astype(np.float32)
    if transfer == PQ:
        m1, m2 = 2610 / 16384, 2523 / 4096 * 128
        c1, c2, c3 = 3424 / 4096, 2413 / 4096 * 32, 2392 / 4096 * 32
        power = signal ** (1 / m2)
        light = (np.maximum(power - c1, 0) / (c2 - c3 * power)) ** (1 / m1) * 10000
        return (light / REFERENCE_WHITE).astype(np.float32)
    a, b, c = 0.17883277, 0.28466892, 0.55991073
    low = signal**2 / 3
    high = (np.exp((signal - c) / a) + b) / 12
    return np.where(signal <= 0.5, low, high).astype(np.float32)
