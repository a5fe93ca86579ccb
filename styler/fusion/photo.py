"""Fusing several photos of one scene: alignment, exposure fusion and focus stacking.

Hand-held brackets and focus series never line up exactly, and fusing misaligned frames
doubles every edge, so both fusions can align first. Everything here is plain OpenCV.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from styler.controls import FUSION_CONTROLS
from styler.errors import OptionsError, StylerError
from styler.fusion.arrays import check_rgb, resize_to, size_text, to_uint8
from styler.fusion.pyramid import multiband_blend

# What to do about photos of different sizes, named as both faces show the control (the web
# UI's checkbox, the CLI's flag): the CLI's flag alone was named in the web UI.
_ALIGN = FUSION_CONTROLS["align"]


class SizesDiffer(OptionsError):
    """A series of photos of more than one size, given without alignment: `detail` says
    which; the message adds the remedy as the command line takes it, and the web UI words
    it for its checkbox."""

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(f"{detail}; resize them or align them first ({_ALIGN.label}: "
                         f"{_ALIGN.flag})")  # fmt: skip

ALIGN_METHODS = ("ecc", "orb")
# Fewer degrees of freedom fit more robustly when little of the frame is usable (a clipped
# bracket); homography also models the tilt of a hand-held camera and focus breathing.
MOTIONS = ("euclidean", "affine", "homography")
_ECC_MOTIONS = {
    "euclidean": cv2.MOTION_EUCLIDEAN,
    "affine": cv2.MOTION_AFFINE,
    "homography": cv2.MOTION_HOMOGRAPHY,
}

ECC_COARSEST = 256  # ECC starts where the long side is at most this: big shifts converge
ECC_FINEST = 1024  # ... and stops refining here: finer adds time, not useful accuracy
ECC_CRITERIA = (cv2.TERM_CRITERIA_EPS | cv2.TERM_CRITERIA_COUNT, 100, 1e-6)
ECC_BLUR = 5  # Gaussian kernel ECC applies to both images: robust to noise and blur
ECC_MIN_UNCLIPPED = 0.05  # fraction of pixels unclipped in both frames needed to mask
CLIP_DARK, CLIP_BRIGHT = 4, 251  # greyscale levels counted as clipped
CLIP_MARGIN = 3  # px: the edge of a clipped area is a false edge too
ORB_FEATURES = 5000
ORB_RATIO = 0.75  # Lowe's ratio test: keep a match only if clearly better than the runner-up
ORB_MIN_MATCHES = 12
ORB_MIN_SIDE = 64  # ORB's 31 px patches and edge margin leave no features below about this
RANSAC_THRESHOLD = 3.0  # pixels
MAX_AREA_CHANGE = 2.0  # a warp that grows or shrinks the frame more than this is a failure

FOCUS_FEATHER = 2.0  # px: softens the jagged edges of the per-pixel sharpest-frame choice


def estimate_warp(
    reference: np.ndarray,
    moving: np.ndarray,
    method: str = "ecc",
    motion: str = "homography",
) -> np.ndarray:
    """3x3 float64 matrix mapping reference pixel coordinates to the same point in moving.

    Both images must have the same size. "ecc" (cv2.findTransformECC, coarse to fine on
    greyscale copies of at most ECC_FINEST px) is precise and insensitive to exposure changes,
    for small motions; "orb" (feature matches + RANSAC) copes with large ones. motion is
    "homography", "affine" or "euclidean" (rotation and translation): the fewer parameters,
    the more robust the fit when little of the frame is usable. Raises StylerError when no
    plausible warp is found.
    """
    check_rgb(reference, "reference")
    check_rgb(moving, "moving image")
    _check_method(method, motion)
    if reference.shape != moving.shape:
        raise OptionsError(
            f"reference is {size_text(reference)}, moving image is {size_text(moving)}: "
            "estimate_warp needs images of one size"
        )
    if reference.shape[0] * reference.shape[1] == 1:  # one pixel: nothing to align
        return np.eye(3)
    estimate = _ecc_warp if method == "ecc" else _orb_warp
    warp = estimate(_grey(reference), _grey(moving), motion)
    _check_plausible(warp, reference.shape[1], reference.shape[0])
    return warp


def align(
    images: Sequence[np.ndarray],
    method: str = "ecc",
    motion: str = "homography",
    names: Sequence[str] | None = None,
) -> list[np.ndarray]:
    """Every image warped onto the first (returned as is); bicubic, edges replicated.

    Images of another size are first resized to the first image's size, so this also accepts
    frames a camera or editor saved at different resolutions. names label the images in
    error messages (default "image 1", "image 2", ...).
    """
    if not images:
        raise OptionsError("no images to align")
    _check_method(method, motion)
    names = _names(images, names)
    first = check_rgb(images[0], names[0])
    height, width = first.shape[:2]
    aligned = [first]
    for image, name in zip(images[1:], names[1:], strict=True):
        moving = resize_to(check_rgb(image, name), height, width)
        try:
            warp = estimate_warp(first, moving, method=method, motion=motion)
        except StylerError as exc:  # sizes and options are checked: this is a failed fit
            raise StylerError(f"{name}: cannot align it to {names[0]}: {exc}") from exc
        aligned.append(
            cv2.warpPerspective(
                moving,
                warp,
                (width, height),
                flags=cv2.INTER_CUBIC | cv2.WARP_INVERSE_MAP,
                borderMode=cv2.BORDER_REPLICATE,
            )
        )
    return aligned


def exposure_fusion(
    images: Sequence[np.ndarray],
    align_first: bool = False,
    method: str = "ecc",
    motion: str = "euclidean",
    names: Sequence[str] | None = None,
) -> np.ndarray:
    """Mertens exposure fusion of a bracketed series: well-exposed, contrasty, saturated
    pixels win, with no HDR radiance map or tone mapping (and no exposure times) needed.

    Images must share one size unless align_first, which resizes them to the first image's
    size and aligns them to it. ECC tolerates the brightness differences between brackets and
    ignores clipped pixels; as a bright bracket may keep detail in a small area only, the
    default motion is euclidean (hand-held shake), which such an area still pins down.
    """
    frames = _prepare(
        images,
        names,
        (method, motion) if align_first else None,
    )
    bgr = [np.ascontiguousarray(frame[..., ::-1]) for frame in frames]
    fused = cv2.createMergeMertens().process(bgr)
    return to_uint8(fused[..., ::-1] * 255.0)


def focus_stack(
    images: Sequence[np.ndarray],
    align_first: bool = True,
    method: str = "ecc",
    motion: str = "homography",
    names: Sequence[str] | None = None,
) -> np.ndarray:
    """All-in-focus image from frames focused at different depths.

    Each pixel takes the frame that is locally sharpest (smoothed absolute Laplacian); the
    choice is blended with multiband_blend, so the seams between frames show no halos.
    Alignment (the default; a homography also corrects focus breathing) resizes the frames
    to the first one's size, like exposure_fusion; without it the sizes must match.
    """
    frames = _prepare(
        images,
        names,
        (method, motion) if align_first else None,
    )
    sharpness = np.stack([_sharpness(frame) for frame in frames])
    sharpest = np.argmax(sharpness, axis=0)
    masks = [(sharpest == index).astype(np.float32) for index in range(len(frames))]
    return multiband_blend(frames, masks, feather=FOCUS_FEATHER)


def _check_method(method: str, motion: str) -> None:
    if method not in ALIGN_METHODS:
        raise OptionsError(f"unknown alignment method {method!r} (use ecc or orb)")
    if motion not in MOTIONS:
        raise OptionsError(f"unknown motion model {motion!r} (use {', '.join(MOTIONS)})")


def _names(images: Sequence[np.ndarray], names: Sequence[str] | None) -> list[str]:
    if names is None:
        return [f"image {index}" for index in range(1, len(images) + 1)]
    if len(names) != len(images):
        raise OptionsError(f"got {len(names)} names for {len(images)} images")
    return list(names)


def _prepare(
    images: Sequence[np.ndarray],
    names: Sequence[str] | None,
    alignment: tuple[str, str] | None,
) -> list[np.ndarray]:
    """Check the series (two or more RGB images), then align it with alignment's (method,
    motion), or without alignment insist on one size (SizesDiffer)."""
    names = _names(images, names)
    if len(images) < 2:
        given = f": {names[0]}" if names else ""
        raise OptionsError(f"fusion needs at least 2 images, got {len(images)}{given}")
    frames = [check_rgb(image, name) for image, name in zip(images, names, strict=True)]
    if alignment is not None:
        method, motion = alignment
        return align(frames, method=method, motion=motion, names=names)
    for frame, name in zip(frames[1:], names[1:], strict=True):
        if frame.shape != frames[0].shape:
            raise SizesDiffer(f"images differ in size: {names[0]} is {size_text(frames[0])}, "
                              f"{name} is {size_text(frame)}")  # fmt: skip
    return frames


def _grey(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_RGB2GRAY)


def _sharpness(image: np.ndarray) -> np.ndarray:
    """Local contrast of fine detail: |Laplacian| of a lightly blurred (denoised) greyscale,
    smoothed so that a flat patch inside a sharp region still counts as sharp."""
    grey = cv2.GaussianBlur(_grey(image).astype(np.float32), (0, 0), sigmaX=1.0)
    response = np.abs(cv2.Laplacian(grey, cv2.CV_32F, ksize=3))
    sigma = max(2.0, 0.01 * max(image.shape[:2]))
    return cv2.GaussianBlur(response, (0, 0), sigmaX=sigma)


def _scaling(sx: float, sy: float) -> np.ndarray:
    """Pixel-centre coordinates at full size -> at a resized copy scaled by (sx, sy)."""
    return np.array([[sx, 0.0, 0.5 * (sx - 1.0)], [0.0, sy, 0.5 * (sy - 1.0)], [0.0, 0.0, 1.0]])


def _unclipped(grey: np.ndarray) -> np.ndarray:
    """Pixels away from black and white clipping, where brackets of any exposure agree on
    structure; clipped areas are flat in one frame and textured in another, which misleads ECC.
    """
    inside = ((grey > CLIP_DARK) & (grey < CLIP_BRIGHT)).view(np.uint8)
    kernel = np.ones((2 * CLIP_MARGIN + 1, 2 * CLIP_MARGIN + 1), np.uint8)
    return cv2.erode(inside, kernel).view(bool)


def _ecc_warp(reference: np.ndarray, moving: np.ndarray, motion: str) -> np.ndarray:
    """ECC from a copy of at most ECC_COARSEST px up to one of at most ECC_FINEST px."""
    height, width = reference.shape
    long_side = max(height, width)
    scales = [min(1.0, ECC_FINEST / long_side)]
    while long_side * scales[0] > ECC_COARSEST:
        scales.insert(0, scales[0] / 2.0)
    mask = _unclipped(reference) & _unclipped(moving)
    if mask.mean() < ECC_MIN_UNCLIPPED:  # mostly clipped: better all pixels than a sliver
        mask[:] = True
    warp = np.eye(3)
    for scale in scales:  # coarse to fine, each scale starting from the previous warp
        size = (max(8, round(width * scale)), max(8, round(height * scale)))
        to_scaled = _scaling(size[0] / width, size[1] / height)
        scaled = to_scaled @ warp @ np.linalg.inv(to_scaled)
        initial = scaled if motion == "homography" else scaled[:2]
        try:
            _, found = cv2.findTransformECC(
                cv2.resize(reference, size, interpolation=cv2.INTER_AREA),
                cv2.resize(moving, size, interpolation=cv2.INTER_AREA),
                initial.astype(np.float32),
                _ECC_MOTIONS[motion],
                ECC_CRITERIA,
                cv2.resize(mask.view(np.uint8), size, interpolation=cv2.INTER_NEAREST),
                ECC_BLUR,
            )
        except cv2.error as exc:
            hint = "the orb method" if min(height, width) >= ORB_MIN_SIDE else "no alignment"
            raise StylerError(
                f"ECC alignment did not converge (too little overlap or detail); try {hint}"
            ) from exc
        found = found.astype(np.float64)
        if motion != "homography":
            found = np.vstack([found, [0.0, 0.0, 1.0]])
        warp = np.linalg.inv(to_scaled) @ found @ to_scaled
    return warp


def _orb_warp(reference: np.ndarray, moving: np.ndarray, motion: str) -> np.ndarray:
    """ORB features, ratio-tested matches, RANSAC fit (refined on the inliers by OpenCV)."""
    height, width = reference.shape
    if min(height, width) < ORB_MIN_SIDE:  # OpenCV's ORB pyramid fails on it, or finds nothing
        raise StylerError(f"the images ({width}x{height} px) are too small for ORB features "
                          f"(at least {ORB_MIN_SIDE} px a side); try the ecc method")  # fmt: skip
    orb = cv2.ORB_create(nfeatures=ORB_FEATURES)
    ref_points, ref_descriptors = orb.detectAndCompute(reference, None)
    mov_points, mov_descriptors = orb.detectAndCompute(moving, None)
    if ref_descriptors is None or mov_descriptors is None:
        raise StylerError("no ORB features found (too little detail); try the ecc method")
    pairs = cv2.BFMatcher(cv2.NORM_HAMMING).knnMatch(ref_descriptors, mov_descriptors, k=2)
    good = [p[0] for p in pairs if len(p) == 2 and p[0].distance < ORB_RATIO * p[1].distance]
    if len(good) < ORB_MIN_MATCHES:
        raise StylerError(
            f"only {len(good)} reliable ORB matches (need {ORB_MIN_MATCHES}); try the ecc method"
        )
    source = np.float32([ref_points[m.queryIdx].pt for m in good])
    target = np.float32([mov_points[m.trainIdx].pt for m in good])
    if motion == "homography":
        warp, inliers = cv2.findHomography(source, target, cv2.RANSAC, RANSAC_THRESHOLD)
    else:
        fit = cv2.estimateAffine2D if motion == "affine" else cv2.estimateAffinePartial2D
        warp, inliers = fit(
            source, target, method=cv2.RANSAC, ransacReprojThreshold=RANSAC_THRESHOLD
        )
    if warp is None or int(inliers.sum()) < ORB_MIN_MATCHES:
        raise StylerError("ORB matches agree on no single warp; try the ecc method")
    warp = warp.astype(np.float64)
    if motion == "euclidean":  # OpenCV fits a similarity: keep its rotation, drop its scale
        warp[:, :2] /= np.sqrt(abs(np.linalg.det(warp[:, :2])))
    return warp if motion == "homography" else np.vstack([warp, [0.0, 0.0, 1.0]])


def _check_plausible(warp: np.ndarray, width: int, height: int) -> None:
    """Refuse warps that fold, flip or rescale the frame: a failed fit, not a camera motion."""
    corners = np.array([[0, 0, 1], [width, 0, 1], [width, height, 1], [0, height, 1]], float)
    mapped = corners @ warp.T
    if not np.all(np.isfinite(mapped)) or np.any(mapped[:, 2] <= 0):
        raise StylerError("the estimated warp is degenerate")
    x, y = mapped[:, 0] / mapped[:, 2], mapped[:, 1] / mapped[:, 2]
    area = 0.5 * (np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))  # shoelace, signed
    ratio = area / (width * height)
    if not (1.0 / MAX_AREA_CHANGE <= ratio <= MAX_AREA_CHANGE):
        raise StylerError(f"the estimated warp changes the frame's area by {ratio:.2f}x")
