"""A stream of frames in, stylized frames out, each steadied by the one before: the runner a
clip, a webcam loop or an app's own decoder drives, one frame at a time.

It wraps an engine (styler.engine) and knows nothing of files, faces or the mode: the
engine paints each frame as it paints a photo, with every control of the recipe; the
Steadier (styler.video.steady) blends in the previous result moved along the flow; in
optimizer mode the engine also starts each frame from that moved result (`run(start=)`),
which needs far fewer steps than a start from the photo.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor, wait
from typing import TypeVar

import cv2
import numpy as np
from PIL import Image

from styler.controls import CONTROLS, output_side
from styler.engine import Engine, build_engine
from styler.image_sizes import scaled_size
from styler.imageio import described
from styler.progress import CancelToken, ProgressCallback
from styler.recipe import Recipe
from styler.result import StylizeResult
from styler.video.steady import Steadier, small_gray

_T = TypeVar("_T")
# Grey level (0-255) under which a frame counts as fading to black, on average over the frame:
# its painting is then dimmed where the frame is darker than this (_dim_result), judged over
# FADE_BLUR px. Video black sits at about 16.
FADE_LEVEL, FADE_BLUR = 16.0, 2.0


class FrameStylizer:
    """Stylizes frames in order, keeping what steadies the next one.

        stream = FrameStylizer(Recipe.create("fast", ["udnie"]))
        while True:
            ok, frame = camera.read()                  # BGR from OpenCV
            cv2.imshow("styled", stream.stylize(frame, bgr=True))

    temporal: the recipe's `temporal` control unless given (0: each frame on its own).
    Call reset() before frames of another scene or clip; a frame of another size than the
    one before (a camera switching resolution) starts afresh by itself.
    """

    def __init__(self, recipe: Recipe | Engine, *, temporal: float | None = None) -> None:
        self.engine = build_engine(recipe) if isinstance(recipe, Recipe) else recipe
        controls = self.engine.recipe.controls
        mode = self.engine.recipe.mode  # the registry's check: 0-0.95, a number
        self.strength = controls["temporal"] if temporal is None else CONTROLS["temporal"].check(
            temporal, mode)  # fmt: skip
        self._size, self._upscale = controls["size"], controls["upscale"]
        self.steadier = Steadier(self.strength, textured=self.engine.textured)
        # The steadier's flow, warp and blend run here, one at a time and in order, so each
        # sees the state the one before left; the painting runs meanwhile.
        self._side = ThreadPoolExecutor(1, thread_name_prefix="styler-steady")
        self._last: Future | None = None  # the latest work given to it
        self._shape: tuple[int, ...] | None = None  # the last frame's

    def reset(self) -> None:
        self._settle()
        self.steadier.reset()

    def checkpoint(self) -> dict[str, np.ndarray]:
        """What the next frame needs of the frames so far (once the last frame's blend is
        done): with restore(), a stopped clip goes on from here as if it never stopped."""
        self._settle()
        return self.steadier.state() if self.strength > 0 else {}

    def restore(self, state: dict[str, np.ndarray]) -> None:
        """The stream as checkpoint() left it (an empty state: as at the first frame)."""
        self._settle()
        if state and self.strength > 0:
            self.steadier.restore(state)
        else:
            self.steadier.reset()

    def run(
        self,
        frame: np.ndarray,
        *,
        bgr: bool = False,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> StylizeResult:
        """The next frame (HxWx3 uint8) stylized and steadied, as a StylizeResult; a
        cancelled frame leaves the stream as it was."""
        result, steadied = self.run_ahead(frame, bgr=bgr, progress=progress, cancel=cancel)
        if steadied is not None:
            result.image = Image.fromarray(steadied.result(), "RGB")
        return result

    def run_ahead(
        self,
        frame: np.ndarray,
        *,
        bgr: bool = False,
        progress: ProgressCallback | None = None,
        cancel: CancelToken | None = None,
    ) -> tuple[StylizeResult, Future[np.ndarray] | None]:
        """run(), for a pipeline: (the result, its image the frame's own painting; the
        steadied frame to come), the future None where nothing is steadied (temporal 0, a
        cancelled frame). The blend is left to the stream's second thread, where it overlaps
        the next frame's painting; the next call waits for it only where it must."""
        _check_frame(frame)
        rgb = np.ascontiguousarray(frame[..., ::-1]) if bgr else frame
        if rgb.shape != self._shape:
            if self._shape is not None:
                self.reset()  # the previous result cannot be moved onto another size
            self._shape = rgb.shape
        if self.strength <= 0:
            result = self.engine.run(rgb, progress=progress, cancel=cancel)
            if result.completed:
                _dim_result(result, rgb)
            return result, None
        at_size = self._at_output_size(rgb)
        if self.engine.warm_starts:  # the moved result is the start
            moving = self._later(self.steadier.warp_previous, at_size)
            warped = moving.result()
            start = None if warped is None else Image.fromarray(warped[0])
            result = self.engine.run(rgb, progress=progress, cancel=cancel, start=start)
        else:  # the flow and warp run while the pass paints the frame
            gray = small_gray(at_size)
            grid = self.steadier.grid_phase(gray, at_size.shape[1]) if (
                self.engine.grid_locks) else None  # fmt: skip
            moving = self._later(self.steadier.warp_previous, at_size, gray)
            result = self.engine.run(rgb, progress=progress, cancel=cancel, grid=grid)
        if not result.completed:
            self._settle()  # the stream is as it was once the warp is done
            return result, None
        self.steadier.keep_grid_place()
        painted = _dim_result(result, rgb)
        return result, self._later(lambda: self.steadier.blend_pixels(painted, moving.result()))

    def _later(self, work: Callable[..., _T], *args: object) -> Future[_T]:
        self._last = self._side.submit(work, *args)
        return self._last

    def _settle(self) -> None:
        """Wait for the second thread's work (its errors are its callers')."""
        if self._last is not None:
            wait([self._last])

    def stylize(self, frame: np.ndarray, *, bgr: bool = False) -> np.ndarray:
        """The next frame stylized, as an array in the channel order it came in."""
        out = np.asarray(self.run(frame, bgr=bgr).image)
        return np.ascontiguousarray(out[..., ::-1]) if bgr else out

    def _at_output_size(self, rgb: np.ndarray) -> np.ndarray:
        """The input frame at the size the engine paints it, for the flow."""
        h, w = rgb.shape[:2]
        side = output_side(self._size, self._upscale, (w, h))
        if side == max(h, w):
            return rgb
        width, height = scaled_size((w, h), side)
        return np.asarray(Image.fromarray(rgb).resize((width, height), Image.Resampling.LANCZOS))


def _check_frame(frame: object) -> None:
    """A frame must be HxWx3 8-bit pixels: anything else is one line here, not an error deep
    in OpenCV at the next frame."""
    if isinstance(frame, np.ndarray) and frame.dtype == np.uint8 and frame.ndim == 3 and \
            frame.shape[2] == 3 and min(frame.shape[:2]) > 0:  # fmt: skip
        return
    raise ValueError("a frame must be an HxWx3 uint8 array (8-bit RGB or BGR), not "
                     + described(frame))  # fmt: skip


def _dim_result(result: StylizeResult, rgb: np.ndarray) -> np.ndarray:
    """The result's picture (HxWx3 uint8); where the input frame `rgb` is darker than
    FADE_LEVEL on average, dimmed pixel by pixel by the frame's grey level there over
    FADE_LEVEL (result.image follows).

    Why: a network normalises each frame's features, so a black frame was painted at a
    photo's brightness, a flat grey with a light border, and a fade from black came out as a
    grey flash that brightened before the picture did (docs/video.md). Dimmed where the frame
    is dark, black stays black, the painting fades in with the picture, and a title card's
    letters keep their painting on a black ground; frames at video black's level or brighter
    on average are left exactly as painted."""
    painted = np.asarray(result.image)
    red, green, blue, _ = cv2.mean(rgb)
    if 0.299 * red + 0.587 * green + 0.114 * blue >= FADE_LEVEL:
        return painted
    gray = cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)
    if gray.shape != painted.shape[:2]:
        gray = cv2.resize(gray, painted.shape[1::-1], interpolation=cv2.INTER_AREA)
    level = cv2.GaussianBlur(gray.astype(np.float32), (0, 0), FADE_BLUR)
    weight = np.minimum(level / FADE_LEVEL, 1.0)
    dimmed = cv2.blendLinear(painted, np.zeros_like(painted), weight, 1.0 - weight)
    result.image = Image.fromarray(dimmed, "RGB")
    return dimmed
