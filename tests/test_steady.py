"""The steadier (styler/video/steady.py): real DIS flow on frames made here, a textured block
moving beside a featureless area; the contrast it keeps, and the detail split that keeping
rests on."""

from __future__ import annotations

import cv2
import numpy as np
from conftest import GALLERY
from PIL import Image

from styler.video.steady import DETAIL_SIGMA, TEXTURED_DETAIL_SIGMA, Steadier, _almost_gaussian

H, W, STEP = 120, 160, 6  # frame size; the block moves STEP px right a frame
SKY, FAINT = 90, 140  # the painted flat area, and a faint stroke in it (passes the output check)


def _texture() -> np.ndarray:
    noise = (np.random.default_rng(0).random((H, W)) * 255).astype(np.uint8)
    return cv2.normalize(cv2.GaussianBlur(noise, (0, 0), 1.5), None, 0, 255, cv2.NORM_MINMAX)


def _frame(t: int, texture: np.ndarray) -> np.ndarray:
    """A still textured strip on the left, a flat grey sky, a textured block moving right."""
    gray = np.full((H, W), 128, np.uint8)
    gray[:, :50] = texture[:, :50]
    x = 60 + STEP * t
    gray[70:110, x : x + 40] = texture[70:110, 100:140]
    return np.dstack([gray] * 3)


def test_a_stroke_in_a_flat_sky_is_not_dragged_along_by_a_moving_neighbour() -> None:
    """DIS spreads the block's motion into the sky above it; followed, it would drag the
    sky's strokes along with the block (the smears by Big Buck Bunny's wing)."""
    texture = _texture()
    steadier = Steadier(0.6)
    painted = np.full((H, W, 3), SKY, np.uint8)
    painted[54:62, 80:90] = FAINT  # in the sky, 8-16 px above the block's path
    painted[85:95, 70:76] = FAINT  # on the block
    steadier.warp_previous(_frame(0, texture))
    steadier.blend(painted, None)
    warped = steadier.warp_previous(_frame(1, texture))
    assert warped is not None
    moved, _ = warped
    # the block's stroke goes with the block: the flow is kept where there is texture
    on_block = np.nonzero(moved[85:95, :, 0].mean(axis=0) > (SKY + FAINT) / 2)[0]
    assert (on_block.min(), on_block.max()) == (70 + STEP, 75 + STEP)
    # the sky's stroke does not: beside it, the blended frame keeps the frame's own sky
    out = steadier.blend(np.full((H, W, 3), SKY, np.uint8), warped)
    assert np.abs(out[54:62, 90:96].astype(int) - SKY).max() <= 2


def _detail(image: np.ndarray) -> float:
    """The fine detail's contrast: what a 1.5 px blur removes, its standard deviation."""
    image = image.astype(np.float32)
    return float((image - cv2.GaussianBlur(image, (0, 0), 1.5)).std())


def _steadied(pattern_each_frame: bool) -> tuple[list[np.ndarray], list[np.ndarray]]:
    """(steadied frames, the frames' own paintings): a still, clean scene, over which the
    network lays out a fresh stroke pattern every frame (as on a zoom), or the same one."""
    rng = np.random.default_rng(1)
    frame = np.dstack([_texture()] * 3)
    steadier = Steadier(0.6)
    outs, paintings = [], []
    for t in range(8):
        if pattern_each_frame or t == 0:
            strokes = cv2.GaussianBlur(rng.normal(0, 40, (H, W)).astype(np.float32), (0, 0), 1)
            painted = np.dstack([np.clip(128 + strokes, 0, 255).astype(np.uint8)] * 3)
        paintings.append(painted)
        outs.append(steadier.blend(painted, steadier.warp_previous(frame)))
    return outs, paintings


def test_steadying_keeps_the_strokes_contrast() -> None:
    """Averaging two stroke patterns that do not line up lowers their contrast (a pan came
    out soft): the steadier raises the detail back, and still changes less from frame to
    frame than the paintings do."""
    outs, paintings = _steadied(pattern_each_frame=True)
    assert _detail(outs[-1]) >= 0.8 * _detail(paintings[-1])  # a plain average: 0.5

    def change(frames: list[np.ndarray]) -> float:
        return float(np.abs(frames[-1].astype(int) - frames[-2]).mean())

    assert change(outs) <= 0.8 * change(paintings)


def test_steadying_leaves_agreeing_paintings_as_they_are() -> None:
    """The contrast is only raised where the blend lowered it: the same pattern painted
    every frame comes out unchanged."""
    outs, paintings = _steadied(pattern_each_frame=False)
    assert np.abs(outs[-1].astype(int) - paintings[-1]).max() <= 2


def test_a_halo_painted_beside_a_moving_thing_does_not_trail_it() -> None:
    """A network paints a flat sky lighter around a dark wing, and the halo goes with the
    wing. The sky does not move, so the flow there is trusted: held by the blend, the halo
    left a faint ring where the wing had been (Big Buck Bunny's wing tips). Beside a mover,
    the frame's own painting wins."""
    h, w, step, halo = 240, 320, 4, 16
    rng = np.random.default_rng(0)
    noise = (rng.random((h, w)) * 255).astype(np.uint8)
    texture = cv2.normalize(cv2.GaussianBlur(noise, (0, 0), 1.5), None, 0, 255, cv2.NORM_MINMAX)
    ring_shape = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * halo + 1, 2 * halo + 1))

    def scene(t: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(input frame, its painting, the halo's ring): a still textured frame around a flat
        sky, and a thin textured bar crossing the sky 4 px a frame."""
        gray = np.full((h, w), 128, np.uint8)
        gray[:, :50], gray[-40:] = texture[:, :50], texture[-40:]
        bar = np.zeros((h, w), np.uint8)
        bar[80:88, 80 + step * t : 140 + step * t] = 1
        gray[bar > 0] = texture[:8, :60].ravel()
        ring = cv2.dilate(bar, ring_shape) - bar
        painted = gray.astype(np.int16) + 70 * ring
        return np.dstack([gray] * 3), np.dstack([painted.astype(np.uint8)] * 3), ring

    steadier = Steadier(0.6)
    rings = []
    for t in range(6):
        frame, painted, ring = scene(t)
        out = steadier.blend(painted, steadier.warp_previous(frame))
        rings.append(ring)
    left_behind = (rings[-2] > 0) & (rings[-1] == 0) & (frame[..., 0] == 128)
    residue = np.abs(out[..., 0].astype(int) - painted[..., 0])[left_behind]
    assert left_behind.sum() > 100
    # held by the blend, the ring stayed at 32 levels on average (median 32)
    assert residue.mean() <= 5 and np.median(residue) <= 1


def _panned(texture: np.ndarray, x: float) -> np.ndarray:
    """The texture moved x px right (any fraction of a pixel), as a camera pan shows it."""
    moved = cv2.warpAffine(texture, np.float32([[1, 0, x], [0, 1, 0]]), (W, H),
                           flags=cv2.INTER_CUBIC, borderMode=cv2.BORDER_REFLECT)  # fmt: skip
    return np.dstack([moved] * 3)


def _panned_detail(textured: bool) -> float:
    """The fine detail left after a slow pan of a finely painted scene (each frame's
    painting the scene itself), steadied as a textured picture or not."""
    texture = cv2.GaussianBlur((np.random.default_rng(2).random((H, W)) * 255).astype(
        np.uint8), (0, 0), 0.8)  # fmt: skip
    steadier = Steadier(0.6, textured=textured)
    out = None
    for t in range(12):
        frame = _panned(texture, 0.45 * t)
        out = steadier.blend(frame, steadier.warp_previous(frame))
    assert out is not None
    return _detail(out[:, 16:-16]) / _detail(_panned(texture, 0.45 * 11)[:, 16:-16])


def test_a_textured_picture_keeps_more_of_its_fine_texture_on_a_slow_pan() -> None:
    """Instant mode's steadier (styler.engine's `textured`) moves the previous result with
    bicubic resampling; bilinear softens it a little more every frame."""
    plain, textured = _panned_detail(False), _panned_detail(True)
    assert textured > plain + 0.02, (plain, textured)


def test_the_detail_split_takes_the_band_a_gaussian_would() -> None:
    """The blend's detail split uses three box filters instead of a Gaussian (a fraction of
    its cost at full size): on a photo the two smooth copies differ by under a grey level on
    average, and the detail's energy by under 5 % (2 % measured), at both widths used."""
    picture = np.asarray(Image.open(GALLERY / "photos" / "astronaut.jpg").convert("RGB"))
    for sigma in (DETAIL_SIGMA, TEXTURED_DETAIL_SIGMA):
        boxed = _almost_gaussian(picture, sigma).astype(float)
        gaussian = cv2.GaussianBlur(picture, (0, 0), sigma).astype(float)
        assert np.abs(boxed - gaussian).mean() < 1.0
        energy = ((picture - boxed) ** 2).mean() / ((picture - gaussian) ** 2).mean()
        assert 0.95 < energy < 1.05
