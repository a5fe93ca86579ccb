"""Every user-facing control, defined once: name, type, range, default, unit, help, and what
it means in each mode.

The engine's option classes (OptimizeOptions, FastOptions) take their defaults and checks
from here; the CLI's arguments, the API's keyword arguments and the UI's widgets are derived
from it, so adding a control is one entry in CONTROLS. Like torchvision's weight enums, each
entry carries its own metadata, so no face hard-codes a range or a default.
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from styler.errors import InvalidOption, OptionNotInMode, UnknownOption

OPTIMIZE, FAST, INSTANT = "optimize", "fast", "instant"
MODES = (OPTIMIZE, FAST, INSTANT)
MODE_NAMES = {OPTIMIZE: "optimizer mode", FAST: "fast mode", INSTANT: "instant mode"}

STYLE, OPTIMISATION, ENGINE, FILES = "style controls", "optimisation", "engine", "files"


@dataclass(frozen=True)
class Control:
    """One control. `default` and `bounds` may differ per mode (a dict keyed by mode)."""

    name: str  # the keyword argument; the CLI flag is --name-with-dashes
    kind: type  # int, float, str or bool
    default: Any
    label: str  # a few words, as a form shows them
    help: str  # one line: what it does
    modes: tuple[str, ...] = MODES  # the modes it acts in
    meaning: Mapping[str, str] = field(default_factory=dict)  # per mode, where they differ
    unit: str = ""
    bounds: tuple[float, float] | Mapping[str, tuple[float, float]] | None = None
    zero_means: str = ""  # 0 is allowed outside bounds and means this
    choices: tuple[str, ...] = ()
    choice_labels: Mapping[str, str] = field(default_factory=dict)  # choice -> form label
    step: float | None = None  # a slider's step
    slider: tuple[float, float] | None = None  # a slider's usual range, inside bounds
    group: str = STYLE
    recorded: bool = True  # part of a result's settings (reproduces it)
    # The value that reproduces a result recorded before this control existed (None: its
    # default does): a new control must not change the pictures old settings describe.
    unrecorded_before: Any = None

    @property
    def flag(self) -> str:
        return "--" + self.name.replace("_", "-")

    def acts_in(self, mode: str) -> bool:
        return mode in self.modes

    def default_for(self, mode: str) -> Any:
        return self.default[mode] if isinstance(self.default, Mapping) else self.default

    def bounds_for(self, mode: str) -> tuple[float, float] | None:
        if isinstance(self.bounds, Mapping):
            return self.bounds.get(mode)
        return self.bounds

    def slider_for(self, mode: str) -> tuple[float, float]:
        """The range a slider offers: `slider` clipped to this mode's bounds (0 kept)."""
        low, high = self.bounds_for(mode) or self.slider or (0, 1)
        if self.slider is not None:
            low, high = max(low, self.slider[0]), min(high, self.slider[1])
        return (0 if self.zero_means else low), high

    def describe(self, mode: str | None = None) -> str:
        """The help line, with this mode's meaning (or every mode's) and the default."""
        modes = [mode] if mode else [m for m in self.modes if m in self.meaning]
        notes = [f"{MODE_NAMES[m]}: {self.meaning[m]}" for m in modes if m in self.meaning]
        if len(self.modes) == 1 and mode is None:
            notes.insert(0, f"{MODE_NAMES[self.modes[0]]} only")
        ranges = self._ranges([mode] if mode else list(self.modes))
        if ranges:
            notes.append(ranges)
        if self.zero_means:
            notes.append(f"0: {self.zero_means}")
        return "; ".join([self.help, *notes])

    def _ranges(self, modes: list[str]) -> str:
        """'0 to 1', or each mode's where they differ; "" for words and choices."""
        if self.kind not in (int, float) or self.choices:
            return ""
        texts = {m: self._bounds_text(b) for m in modes if (b := self.bounds_for(m))}
        if len(set(texts.values())) == 1:
            return next(iter(texts.values()))
        shared: dict[str, list[str]] = {}
        for mode, text in texts.items():
            shared.setdefault(text, []).append(mode.replace(OPTIMIZE, "optimizer"))
        return ", ".join(f"{text} in {' and '.join(m)} mode" for text, m in shared.items())

    def check(self, value: Any, mode: str) -> Any:
        """value converted to this control's type and checked, else InvalidOption."""
        value = self.convert(value)
        if self.choices:
            if value not in self.choices:
                raise InvalidOption(self.name, value, "one of " + ", ".join(self.choices))
            return value
        if self.kind in (str, bool):
            return value
        if not math.isfinite(value):
            raise InvalidOption(self.name, value, "a finite number")
        if value == 0 and self.zero_means:
            return value
        bounds = self.bounds_for(mode)
        if bounds is not None and not bounds[0] <= value <= bounds[1]:
            raise InvalidOption(self.name, value, self._range_text(bounds))
        return value

    def convert(self, value: Any) -> Any:
        """value (a number, or text as typed) as this control's type, else InvalidOption."""
        if self.kind is bool:
            words = {"true": True, "yes": True, "on": True, "1": True,
                     "false": False, "no": False, "off": False, "0": False}  # fmt: skip
            if isinstance(value, bool):
                return value
            if isinstance(value, str) and value.strip().lower() in words:
                return words[value.strip().lower()]
            raise InvalidOption(self.name, value, "true or false")
        if self.kind is str:
            if isinstance(value, int) and not isinstance(value, bool) and self.choices and \
                    str(value) in self.choices:  # tiff_bits=16: its choice "16"
                return str(value)
            if not isinstance(value, str):
                wanted = "one of " + ", ".join(self.choices) if self.choices else "a word"
                raise InvalidOption(self.name, value, wanted)
            return value
        if isinstance(value, bool) or not isinstance(value, numbers.Real | str):  # numpy's too
            raise InvalidOption(self.name, value, f"a number ({self.kind.__name__})")
        try:
            number = float(value)
        except (ValueError, OverflowError) as exc:  # OverflowError: an int beyond float's range
            raise InvalidOption(self.name, value, "a number") from exc
        if self.kind is int:
            if not number.is_integer():
                raise InvalidOption(self.name, value, "a whole number")
            return int(number)
        return number

    def _range_text(self, bounds: tuple[float, float]) -> str:
        text = self._bounds_text(bounds)
        return f"0 or {text}" if self.zero_means else text

    def _bounds_text(self, bounds: tuple[float, float]) -> str:
        low, high = (f"{int(b)}" if math.isfinite(b) and b == int(b) else f"{b:g}" for b in bounds)
        unit = f" {self.unit}" if self.unit else ""
        return f"between {low} and {high}{unit}" if high != "inf" else f"at least {low}{unit}"


_MAX_SIDE = 16384

# Engine constants the help texts below describe; the engine takes them from here, so the
# help can never tell another number than the one that runs.
# Strength s scales optimizer mode's style weight by STRENGTH_FLOOR ** (1 - s) (s = 0.5:
# x0.22): geometric, because the look follows the logarithm of the style/content balance.
# This floor makes equal steps of s give about equal steps of style distance
# (docs/performance.md has the distances and the command that measures them).
STRENGTH_FLOOR = 0.05
# Automatic steps (the steps control at 0), by init: the coarse-to-fine schedule from the
# photo needs many; from the instant result, a few at the output's size reach that run's
# quality (benchmarks/probe_instant_init.py; docs/instant_mode.md has its table).
AUTO_STEPS = {"content": 120, "noise": 120, "image": 120, "instant": 20}
FAST_WHOLE_SIDE = 1280  # fast mode: photos up to this long side (an HD frame) run in one pass
INSTANT_WHOLE_SIDE = 1536  # instant mode: photos up to this long side run in one pass
INIT_CHOICES = ("content", "noise", "image", "instant")
# Fast mode paints a photo longer than this as its copy at this side would look: about the
# size a screen shows a whole photo at, where the shipped styles' strokes read as the
# paintings' own; left in pixels they shrink to a fine texture at 4 and 12 MP (docs/ui.md
# shows 1, 4 and 12 MP side by side, benchmarks/stroke_side_sheet.py makes the sheet).
STROKE_SIDE = 1024
# Instant mode paints at most at this long side, the photo's own detail put back above it:
# its decoder was trained and measured at this scale, and at 1024x768 the half-size pass
# scored a lower style distance than the full-size one on all six benchmark pairs and a
# lower content distance on five, for a quarter of the work (docs/instant_mode.md).
INSTANT_STROKE_SIDE = 512
PRECISIONS = ("auto", "fp32", "bf16", "fp16", "int8")  # styler.precision says what each runs

_CONTROL_LIST = (
    Control(
        "size", int, {OPTIMIZE: 512, FAST: 0, INSTANT: 0}, "Output size (long side)",
        "long side of the output, at most the photo's own unless upscale is on",
        meaning={FAST: "the photo is resized to it before the network runs",
                 INSTANT: "the photo is resized to it before the pass"},
        unit="px", bounds=(16, _MAX_SIDE), zero_means="the photo's own size",
        step=32, slider=(64, 2048),
    ),
    Control(
        "upscale", bool, False, "Upscale small photos",
        "make photos smaller than the output size larger; off, they keep their own size",
    ),
    Control(
        "strength", float, 1.0, "Strength", "0 keeps the photo, 1 is the full style",
        meaning={
            OPTIMIZE: "scales the style weight geometrically "
            f"({STRENGTH_FLOOR:g} ** (1 - strength))",
            FAST: "mixes the network's output with the photo band by band, edges kept crisp",
            INSTANT: "mixes the instant result with the photo band by band, edges kept crisp",
        },
        bounds=(0.0, 1.0), step=0.05,
    ),
    Control(
        "preserve_color", str, "off", "Colour preservation", "keep the photo's colours",
        meaning={
            OPTIMIZE: "luminance keeps the photo's chroma; match recolours the style images "
            "to the photo before transfer",
            FAST: "luminance keeps the photo's chroma; match recolours the output to the "
            "photo's colour statistics",
            INSTANT: "luminance keeps the photo's chroma; match recolours the style images "
            "to the photo before their statistics are taken",
        },
        choices=("off", "luminance", "match"),
        choice_labels={"off": "Off", "luminance": "Keep photo colours (luminance)",
                       "match": "Match style to photo colours"},  # fmt: skip
    ),
    Control(
        "style_scale", float, 1.0, "Style scale", "larger gives bigger brush strokes",
        meaning={
            OPTIMIZE: "the style images' size relative to the output's",
            FAST: "the network runs on a 1/scale copy, the photo's fine detail put back",
            INSTANT: "the style images' size relative to the output's",
        },
        bounds={OPTIMIZE: (0.05, 8.0), FAST: (0.25, 4.0), INSTANT: (0.25, 4.0)}, step=0.05,
        slider=(0.25, 4.0),
    ),
    Control(
        "stroke_side", int, {FAST: STROKE_SIDE, INSTANT: INSTANT_STROKE_SIDE},
        "Strokes sized as at (long side)",
        "keeps the strokes' size relative to the picture: a photo longer than this is painted "
        "as its copy at this long side would be, its own fine detail then put back, so a full "
        "photo looks as its preview does",
        meaning={INSTANT: "the pass runs on that copy, so a larger photo costs little more"},
        modes=(FAST, INSTANT), unit="px", bounds=(256, _MAX_SIDE), step=64, slider=(256, 4096),
        zero_means="strokes keep their size in pixels: a larger photo gets finer strokes",
        unrecorded_before=0,
    ),
    Control(
        "feather", float, 6.0, "Region edge softness", "softness of region edges",
        unit="px", bounds=(0.0, 512.0), step=1, slider=(0, 40),
    ),
    Control(
        "temporal", float, 0.6, "Steadiness (video)",
        "video: how much of the previous stylized frame, moved along the optical flow of the "
        "input frames, each frame keeps where that flow is reliable; 0 paints each frame on "
        "its own; no effect on photos",
        meaning={OPTIMIZE: "each frame also starts from the previous result, moved along the "
                 "flow, and needs far fewer steps"},
        bounds=(0.0, 0.95), step=0.05,
    ),
    Control(
        "blend_method", str, "params", "Blend method",
        "how several fast networks blend: one network with interpolated parameters (one "
        "pass), or the mix of their outputs",
        modes=(FAST,), choices=("params", "outputs"),
    ),
    Control(
        "tile", int, {OPTIMIZE: 1024, FAST: 768, INSTANT: 1024}, "Tile size",
        "the side of the overlapping tiles a large image runs as, joined by a multi-band "
        "blend, which bounds memory",
        meaning={OPTIMIZE: "each scale of the optimisation longer than this is tiled",
                 FAST: f"photos over {FAST_WHOLE_SIDE} px are tiled, with normalisation "
                 "statistics of the whole photo",
                 INSTANT: f"photos over {INSTANT_WHOLE_SIDE} px are tiled, with feature "
                 "statistics of the whole photo"},
        unit="px", bounds={OPTIMIZE: (256, _MAX_SIDE), FAST: (64, _MAX_SIDE),
                           INSTANT: (128, _MAX_SIDE)},
        zero_means="never tile", group=ENGINE,
    ),
    Control(
        "steps", int, 0, "Steps", "optimisation steps over all scales",
        modes=(OPTIMIZE,), bounds=(1, 100_000),
        zero_means=f"automatic: {AUTO_STEPS['content']} from the photo, noise or an init image, "
        f"{AUTO_STEPS['instant']} from the instant result", step=1, slider=(1, 1000),
        group=OPTIMISATION,
    ),
    Control(
        "content_weight", float, 0.15, "Content weight", "how much of the photo's structure to "
        "keep", modes=(OPTIMIZE,), bounds=(0.0, 1e6), step=0.01, slider=(0, 2),
        group=OPTIMISATION,
    ),
    Control(
        "style_weight", float, 1.0, "Style weight", "how strongly to apply the style",
        modes=(OPTIMIZE,), bounds=(0.0, 1e6), step=0.1, slider=(0, 5), group=OPTIMISATION,
    ),
    Control(
        "tv_weight", float, 0.0, "Smoothness", "total-variation weight: smooths the result",
        modes=(OPTIMIZE,), bounds=(0.0, 1e6), step=0.01, slider=(0, 1), group=OPTIMISATION,
    ),
    Control(
        "optimizer", str, "lbfgs", "Optimizer", "optimisation algorithm",
        modes=(OPTIMIZE,), choices=("lbfgs", "adam"), group=OPTIMISATION,
    ),
    Control(
        "init", str, "content", "Start from", "what the optimisation starts from: the photo, a "
        "noisy photo, an init image, or the instant-mode result", modes=(OPTIMIZE,),
        choices=INIT_CHOICES, choice_labels={"content": "Photo", "noise": "Noisy photo",
                                             "image": "Init image", "instant": "Instant result"},
        group=OPTIMISATION,
    ),
    Control(
        "seed", int, 0, "Seed", "random seed, for reproducible noise",
        modes=(OPTIMIZE,), bounds=(0, 2**31 - 1), group=OPTIMISATION,
    ),
    Control(
        "device", str, "auto", "Device", "auto, cpu, cuda, cuda:N or mps", group=ENGINE,
        recorded=False,
    ),
    Control(
        "precision", str, "auto", "Precision",
        "number format of the one-pass networks: auto takes int8 where the CPU has int8 dot "
        "products and the model's measured loss is within bounds and it ran faster than the "
        "float it replaces, else the device's best float; fp32, bf16, fp16 (GPUs) and int8 "
        "(CPU, onnxruntime) insist",
        modes=(FAST, INSTANT), choices=PRECISIONS, group=ENGINE, recorded=False,
    ),
    Control(
        "vgg", str, "original", "VGG19 weights",
        "original (Oxford, Caffe preprocessing), torchvision, or a weight file",
        modes=(OPTIMIZE,), group=ENGINE, recorded=False,
    ),
    Control(
        "max_pixels", int, 178_956_970, "Pixel limit",
        "refuse images with more pixels than this, before decoding them",
        bounds=(1, math.inf), group=FILES, recorded=False,
    ),
    # How an output file is written, not what is painted: unrecorded, so --settings-from
    # reproduces the picture and each run decides what its files keep (docs/photographers.md).
    Control(
        "keep_location", bool, False, "Keep location",
        "keep the photo's GPS location in the output's metadata (removed by default)",
        group=FILES, recorded=False,
    ),
    Control(
        "strip_metadata", bool, False, "Strip metadata",
        "keep none of the photo's metadata (date, camera, lens, exposure, artist, copyright, "
        "caption, location); styler's own settings stay", group=FILES, recorded=False,
    ),
    Control(
        "color_space", str, "srgb", "Output colour space",
        "srgb: tagged sRGB, as screens and the web expect; source: converted to the photo's "
        "own profile (Adobe RGB, Display P3, ProPhoto) and embedded, for further editing",
        choices=("srgb", "source"), choice_labels={"srgb": "sRGB", "source": "The photo's own"},
        group=FILES, recorded=False,
    ),
    Control(
        "tiff_bits", str, "8", "TIFF bits per channel",
        "bits per channel of TIFF outputs: 16 keeps the precision of --color-space source",
        choices=("8", "16"), group=FILES, recorded=False,
    ),
)

CONTROLS: dict[str, Control] = {control.name: control for control in _CONTROL_LIST}


def output_side(size: int, upscale: bool, photo_size: tuple[int, int]) -> int:
    """The long side an output gets from the size and upscale controls: `size` (0: the
    photo's own), never larger than the photo unless `upscale`."""
    side = max(photo_size)
    wanted = size or side
    return wanted if upscale else min(wanted, side)


def controls_for(mode: str, *, recorded_only: bool = False) -> list[Control]:
    """The controls that act in `mode`, in definition order."""
    check_mode(mode)
    return [c for c in _CONTROL_LIST if c.acts_in(mode) and (c.recorded or not recorded_only)]


def unrecorded_values(mode: str) -> dict[str, Any]:
    """What settings recorded before a control of `mode` existed mean by leaving it out."""
    return {c.name: c.unrecorded_before for c in controls_for(mode, recorded_only=True)
            if c.unrecorded_before is not None}  # fmt: skip


def check_mode(mode: str) -> str:
    if mode not in MODES:
        raise InvalidOption("mode", mode, "one of " + ", ".join(MODES))
    return mode


def defaults(mode: str, *, recorded_only: bool = True) -> dict[str, Any]:
    """Every (recorded) control of `mode` at its default."""
    return {c.name: c.default_for(mode) for c in controls_for(mode, recorded_only=recorded_only)}


def checked(mode: str, values: Mapping[str, Any], also: Iterable[str] = ()) -> dict[str, Any]:
    """values checked against `mode`'s controls; a name that does not act there is an error
    (`also`: the caller's own options, named among the known ones)."""
    allowed = {c.name: c for c in controls_for(mode)}
    result = {}
    for name, value in values.items():
        if name not in allowed:
            if name in CONTROLS:
                raise OptionNotInMode(name, MODE_NAMES[mode])
            raise UnknownOption(name, value, MODE_NAMES[mode], sorted({*allowed, *also}))
        result[name] = allowed[name].check(value, mode)
    return result


# ------------------------------------------------------------------------------ fusion tools

# The fusion tools (`styler fuse`, the web UI's Fusion tab) have controls of their own, apart
# from CONTROLS: they are not style controls, so the stylize modes, their command-line flags
# and a stylized result's settings never see them. Their modes are the tools.
FUSE_BLEND, FUSE_EXPOSURE, FUSE_FOCUS = "blend", "exposure", "focus"
FUSION_TOOLS = (FUSE_BLEND, FUSE_EXPOSURE, FUSE_FOCUS)
FUSION = "fusion"  # their group
_SERIES = (FUSE_EXPOSURE, FUSE_FOCUS)  # the tools that take a series of photos

_FUSION_LIST = (
    Control(
        "feather", float, 0.0, "Edge softness",
        "blur the mask by this many pixels first: a wider transition",
        modes=(FUSE_BLEND,), unit="px", bounds=(0.0, 512.0), step=1, slider=(0, 64),
        group=FUSION,
    ),
    Control(
        "levels", int, 0, "Pyramid levels", "bands of the multi-band blend",
        modes=(FUSE_BLEND,), bounds=(1, 32), zero_means="until the coarsest is 8-16 px",
        group=FUSION,
    ),
    Control(
        "align", bool, {FUSE_EXPOSURE: False, FUSE_FOCUS: True}, "Align the photos first",
        "resize the photos to the first one's size and align them to it (hand-held shots)",
        modes=_SERIES, group=FUSION,
    ),
    Control(
        "align_method", str, "ecc", "Alignment method",
        "ecc: precise, small motions; orb: feature matching, large motions",
        modes=_SERIES, choices=("ecc", "orb"), group=FUSION,
    ),
    Control(
        "motion", str, {FUSE_EXPOSURE: "euclidean", FUSE_FOCUS: "homography"}, "Camera motion",
        "the camera motion alignment corrects; euclidean: shift and rotation; a homography "
        "also corrects focus breathing",
        modes=_SERIES, choices=("euclidean", "affine", "homography"), group=FUSION,
    ),
)

FUSION_CONTROLS: dict[str, Control] = {control.name: control for control in _FUSION_LIST}


def fusion_controls(tool: str) -> list[Control]:
    """The controls of one fusion tool, in definition order."""
    if tool not in FUSION_TOOLS:
        raise InvalidOption("tool", tool, "one of " + ", ".join(FUSION_TOOLS))
    return [c for c in _FUSION_LIST if c.acts_in(tool)]


# Making a style (`styler train --name`, the UI's Make a style tab): like the fusion tools'
# controls, not style controls, so they stay out of CONTROLS and the stylize faces.
TRAIN = "train"
_TRAINING_LIST = (
    Control(
        "minutes", float, 10.0, "Training time",
        "time budget: fine-tuning from the base network stops after this many minutes, its "
        "learning rate and freeze schedule spread over them",
        modes=(TRAIN,), unit="min", bounds=(0.05, 24 * 60.0), step=5, slider=(5, 20),
        group=TRAIN,
    ),
)

TRAINING_CONTROLS: dict[str, Control] = {control.name: control for control in _TRAINING_LIST}
