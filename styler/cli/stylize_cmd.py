"""`styler stylize`: style transfer over many files (optimizer, fast or instant mode),
resumable."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from styler.api import RegionInput, Stylizer
from styler.batch import instant_render
from styler.cli.batch import Batch, Render, Summary, optimizer_render
from styler.cli.common import UsageError, error_text, flag_message, say
from styler.cli.plan import IMAGE_EXTENSIONS, make_plan
from styler.controls import (
    CONTROLS,
    FAST,
    INSTANT,
    MODE_NAMES,
    OPTIMIZE,
    STYLE,
    Control,
    checked,
    defaults,
)
from styler.device import resolve_device
from styler.errors import InvalidOption, OptionNotInMode, OptionsError
from styler.fast.inference import FastOptions, FastRegion, FastStylizer
from styler.fusion.regions import load_mask
from styler.imageio import ImageLoadError, LoadedImage, load_image
from styler.instant.stylizer import InstantOptions, InstantStylizer
from styler.optimize import OptimizeOptions
from styler.progress import CancelToken, ProgressCallback
from styler.reproduce import MissingImage, device_note, recorded_regions, recorded_styles
from styler.result import StylizeResult
from styler.scale.storage import is_url, plan_any
from styler.settings import Settings

EPILOG = """\
Examples:
  styler stylize photo.jpg --style starry.jpg            # -> styled/photo__starry.png
  styler stylize photos/ --recursive --style starry.jpg -o out/
  styler stylize a.jpg b.png --style starry.jpg scream.jpg --style-blend 0.7 0.3
                                                         # -> styled/a__starry+scream.png
  styler stylize photos/ --style starry.jpg --size 1024 --format jpg --quality 90
  styler stylize photos/ --style starry.jpg --skip-existing   # resume an interrupted run
  styler stylize photos/ --fast starry_night -o out/     # fast mode: a shipped network
  styler stylize photo.jpg --style starry.jpg --strength 0.5 --preserve-color luminance
  styler stylize photo.jpg --style starry.jpg --region sky.png scream.jpg \\
                 --region face.png none --feather 8     # per-region styles, photo in face
  styler stylize photos/ --fast starry_night mosaic --fast-blend 0.7 0.3 --blend-method params
  styler stylize photos/ --fast starry_night --style-scale 2    # fast mode, larger strokes
  styler stylize photos/ --style starry.jpg --instant -o out/   # instant mode: any painting,
                                                         # one pass per photo
  styler stylize a.jpg --style starry.jpg scream.jpg --style-blend 0.7 0.3 --instant \\
                 --region face.png none --strength 0.8 --preserve-color match
  styler stylize a.jpg --settings-from out/a__starry.png # reproduce a result, any mode

Outputs go to OUTDIR/<sub-folders of the input>/<input-stem>__<style-stem>.<ext>; each
path is printed on stdout once written, progress and errors go to stderr.
Exit status: 0 all done, 1 some inputs failed, 2 usage error, 130 interrupted (Ctrl-C).
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "stylize",
        help="stylize image files and folders with one or more style images",
        usage="styler stylize INPUT... --style IMAGE... [-o OUTDIR] [options]",
        description="Stylize image files and folders: optimizer mode with --style images (best "
        "quality, seconds to minutes a photo), instant mode with --style images and --instant "
        "(any painting, one pass), or fast mode with --fast networks (one pass, trained styles)."
        "\nA bad input is reported and skipped; the rest go on.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT", help="image files or folders")
    parser.add_argument(
        "-s",
        "--style",
        nargs="+",
        action="extend",
        metavar="IMAGE",
        help="style image(s); several are blended (list inputs first, or end the list with --)",
    )
    parser.add_argument(
        "--instant",
        action="store_true",
        help="instant mode: paint with the --style images in one feed-forward pass per photo "
        "(trained decoders, no optimisation)",
    )
    parser.add_argument(
        "--fast",
        nargs="+",
        metavar="NAME",
        help="fast mode: shipped style network(s) (see 'styler styles') or .safetensors files;"
        " one pass instead of optimisation; several are blended",
    )
    parser.add_argument(
        "-o",
        "--output-dir",
        type=_output_dir,
        default=Path("styled"),
        metavar="OUTDIR",
        help="where outputs go (default: %(default)s)",
    )
    parser.add_argument(
        "-r",
        "--recursive",
        action="store_true",
        help="also stylize images in sub-folders of folder inputs",
    )
    _add_control_options(parser)
    _add_output_options(parser)
    _add_engine_options(parser)
    return parser


def _add_control_options(parser: argparse.ArgumentParser) -> None:
    """One argument per control of styler.controls: flag, type, choices and help come from
    there; defaults stay None so explicit flags can override --settings-from."""
    groups: dict[str, Any] = {}
    for control in CONTROLS.values():
        if control.group not in groups:
            groups[control.group] = parser.add_argument_group(control.group)
        metavar = control.unit.upper() or ("NAME" if control.kind is str else "N")
        if control.kind is bool:
            extra: dict[str, Any] = {"action": argparse.BooleanOptionalAction}
        elif control.choices:
            extra = {"choices": control.choices}
        else:
            extra = {"type": _number(control), "metavar": metavar}
        groups[control.group].add_argument(
            control.flag, default=None, help=f"{control.describe()} ({_default_text(control)})",
            **extra,
        )
    group = groups[STYLE]
    group.add_argument(
        "--region",
        nargs=2,
        action="append",
        default=[],
        metavar=("MASK", "STYLE"),
        help="give the white part of MASK (any image, resized to each photo) its own STYLE: "
        "a style image (a fast style in fast mode), or 'none' to keep the photo; repeatable",
    )
    group.add_argument("--style-blend", type=float, nargs="+", metavar="W",
                       help="optimizer and instant mode: one weight per --style image "
                       "(default: equal)")
    group.add_argument("--fast-blend", type=float, nargs="+", metavar="W",
                       help="fast mode: one weight per --fast network (default: equal)")
    group.add_argument("--init-image", metavar="IMAGE",
                       help="optimizer mode: the image --init image starts from")
    group.add_argument(
        "--settings-from",
        metavar="RESULT",
        help="reproduce RESULT (a styler output): its mode, styles, blend, regions and every "
        "control; flags given here override them, images are looked up by name next to "
        "RESULT, then in the working folder",
    )


def _default_text(control: Control) -> str:
    values = {mode: control.default_for(mode) for mode in control.modes}
    if len(set(map(str, values.values()))) == 1:
        return f"default: {next(iter(values.values()))}"
    return "default: " + ", ".join(f"{v} in {MODE_NAMES[m]}" for m, v in values.items())


def _number(control: Control) -> Any:
    """An argparse type converting to the control's kind; ranges are checked once the mode
    is known, by the registry."""

    def parse(text: str) -> Any:
        try:
            return control.convert(text)
        except InvalidOption as exc:
            raise argparse.ArgumentTypeError(f"must be {exc.expected}, got {text!r}") from exc

    parse.__name__ = control.kind.__name__
    return parse


def _add_output_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("files")
    group.add_argument(
        "--format",
        choices=("png", "jpg", "webp"),
        default="png",
        help="output format (default: %(default)s)",
    )
    group.add_argument(
        "--quality",
        type=_int_range(1, 100),
        default=95,
        metavar="Q",
        help="JPEG/WebP quality, 1-100 (default: %(default)s)",
    )
    group.add_argument(
        "--skip-existing",
        action="store_true",
        help="skip inputs whose output exists and is a readable image (resumes an interrupted run)",
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="hide progress bars (errors and the summary still print)",
    )


def _add_engine_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("where it runs")
    group.add_argument(
        "--engine",
        choices=("local", "ray"),
        default="local",
        help="local: this process (default); ray: a Ray cluster, with Ray Data and a pool of "
        "actors that load the models once (needs pip install 'styler[ray]'; docs/ray.md)",
    )
    group.add_argument(
        "--address",
        metavar="ADDR",
        help="--engine ray: the cluster to join, host:port or 'auto' (default: RAY_ADDRESS, "
        "else a new Ray on this machine)",
    )
    group.add_argument(
        "--actors",
        type=_int_range(1, None),
        metavar="N",
        help="--engine ray: actors in the pool, one CPU each (default: one per GPU of the "
        "cluster, else one per CPU); more actors than GPUs share the GPUs",
    )


def _output_dir(text: str) -> Path | str:
    """-o: a folder, or an object-store URL (s3://...; --engine ray) kept as typed."""
    return text if is_url(text) else Path(text)


def _int_range(low: int, high: int | None) -> Any:
    """An argparse type: out-of-range values are usage errors, reported by argparse."""

    def parse(text: str) -> int:
        value = int(text)
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            raise argparse.ArgumentTypeError(f"must be {bounds}, got {value}")
        return value

    parse.__name__ = "integer"  # argparse's message for a non-number: "invalid integer value"
    return parse


def run(args: argparse.Namespace) -> int:
    """Check everything cheap first, then load the engine and styles once for the whole batch."""
    job = _job(args)
    on_ray = _engine(args)
    plan = (plan_any if on_ray else make_plan)(args.inputs, job.names, args.output_dir,
                                               args.format, recursive=args.recursive)  # fmt: skip
    for failure in plan.failures:
        say(f"error: {failure}")
    if not plan.jobs:
        raise UsageError(_no_inputs_message(args))
    summary = Summary(failures=list(plan.failures))
    if on_ray:  # the same jobs, run by a pool of actors on a Ray cluster
        from styler.scale.ray_batch import RayOptions, run_planned

        options = RayOptions(args.address, args.actors, args.quality, args.skip_existing,
                             args.quiet)  # fmt: skip
        run_planned(job, plan.jobs, summary, max_pixels=args.max_pixels_value, options=options)
    else:
        batch = Batch(
            *_renderer(job, args.max_pixels_value),
            quality=args.quality,
            skip_existing=args.skip_existing,
            quiet=args.quiet,
        )
        batch.run(plan.jobs, summary)
    for line in summary.lines():
        say(line)
    return summary.exit_code()


def _engine(args: argparse.Namespace) -> bool:
    """True for --engine ray; the Ray-only options and URLs are usage errors otherwise."""
    if args.engine == "ray":
        return True
    for flag, value in (("--address", args.address), ("--actors", args.actors)):
        if value is not None:
            raise UsageError(f"{flag} is for --engine ray")
    urls = [str(p) for p in (*args.inputs, args.output_dir) if is_url(p)]
    if urls:
        raise UsageError(f"{urls[0]}: object-store URLs need --engine ray")
    return False


@dataclass
class _Job:
    """What the command line (and --settings-from) asks for, checked against the registry."""

    mode: str
    styles: list[str]  # style images, or fast networks
    blend: list[float] | None
    regions: list[tuple[str, str | None]]  # (mask, style or None)
    values: dict[str, Any]  # every control of the mode, checked
    init_image: str | None = None

    @property
    def names(self) -> list[str]:
        """What output names derive from."""
        return self.styles


def _job(args: argparse.Namespace) -> _Job:
    """Merge explicit flags over --settings-from over the registry's defaults."""
    _check_style_flags(args)
    recorded = _recorded(args.settings_from)
    mode = _mode(args, recorded)
    same_mode = recorded is not None and recorded.mode == mode
    given = {c.name: getattr(args, c.name) for c in CONTROLS.values()
             if getattr(args, c.name) is not None}  # fmt: skip
    base = recorded.controls if same_mode and recorded is not None else {}
    try:
        values = {**defaults(mode, recorded_only=False), **base, **checked(mode, given)}
    except InvalidOption as exc:
        raise UsageError(flag_message(exc)) from exc
    except OptionNotInMode as exc:
        raise UsageError(f"{CONTROLS[exc.name].flag} has no effect in {exc.mode}") from exc
    if args.init_image is not None and mode != OPTIMIZE:
        raise UsageError(f"--init-image has no effect in {MODE_NAMES[mode]}")
    args.max_pixels_value = values["max_pixels"]
    note = recorded and device_note(recorded, resolve_device(values["device"]))
    if note:
        say(f"note: {args.settings_from}: {note}")
    folders = _search_folders(args.settings_from)
    if args.style or args.fast:
        styles, blend = list(args.style or args.fast), args.style_blend or args.fast_blend
        if blend is not None and len(blend) != len(styles):
            kind = "style images" if args.style else "fast networks"
            raise UsageError(f"{len(styles)} {kind} but {len(blend)} blend weights")
    else:
        assert recorded is not None
        if recorded.mode == FAST and mode != FAST:  # networks are no style images
            raise UsageError(f"{args.settings_from} was made in fast mode; give --style "
                             f"IMAGE... for {MODE_NAMES[mode]}")  # fmt: skip
        styles, blend = _found(recorded_styles, recorded, folders), recorded.blend
    regions = [(mask, None if style.lower() == "none" else style) for mask, style in args.region]
    if not regions and same_mode and recorded is not None:
        regions = _found(recorded_regions, recorded, folders)
    return _Job(mode, styles, blend, regions, values, args.init_image)


def _check_style_flags(args: argparse.Namespace) -> None:
    """The style flags that contradict each other, as usage errors."""
    if args.style and args.fast:
        raise UsageError("give either --style IMAGE... or --fast NAME..., not both")
    if args.instant and args.fast:
        raise UsageError("--instant paints --style images; --fast runs trained networks: "
                         "give one of them")  # fmt: skip
    if args.fast and args.style_blend:
        raise UsageError("--style-blend weighs --style images; in fast mode use --fast-blend")
    if (args.style or args.instant) and args.fast_blend:
        mode = MODE_NAMES[INSTANT if args.instant else OPTIMIZE]
        raise UsageError(f"--fast-blend weighs --fast networks; in {mode} use --style-blend")


def _mode(args: argparse.Namespace, recorded: Settings | None) -> str:
    """--fast: fast mode; --instant: instant mode; --style alone: optimizer mode; none of
    them: the mode of the --settings-from result."""
    if args.fast:
        return FAST
    if args.instant:
        if not args.style and recorded is None:
            raise UsageError("--instant needs --style IMAGE... (or --settings-from RESULT)")
        return INSTANT
    if args.style:
        return OPTIMIZE
    if recorded is not None:
        return recorded.mode
    raise UsageError("give either --style IMAGE... (optimizer mode, or instant mode with "
                     "--instant) or --fast NAME...")  # fmt: skip


def _recorded(path: str | None) -> Settings | None:
    if path is None:
        return None
    return Settings.from_file(path)


def _search_folders(settings_from: str | None) -> list[Path]:
    return [Path(settings_from).parent, Path.cwd()] if settings_from else [Path.cwd()]


def _found(find: Callable[[Settings, list[Path]], Any], recorded: Settings,
           folders: list[Path]) -> Any:  # fmt: skip
    """What `find` (recorded_styles or recorded_regions) finds, or a usage error saying how to
    pass what it could not."""
    try:
        return find(recorded, folders)
    except MissingImage as exc:
        raise UsageError(f"{exc}; pass it with --style, --fast or --region") from exc


def _renderer(job: _Job, max_pixels: int) -> tuple[Render, int]:
    """The engine for this run and the number of progress steps per file."""
    values = job.values
    masks = [_load_mask(mask, max_pixels) for mask, _ in job.regions]
    if job.mode == FAST:
        stylizer = FastStylizer(job.styles, device=values["device"], tile=values["tile"],
                                blend=job.blend, blend_method=values["blend_method"],
                                max_pixels=max_pixels)  # fmt: skip
        fast_regions: list[FastRegion] = []
        for mask, (_, spec) in zip(masks, job.regions, strict=True):
            if spec is not None:
                stylizer.region_network(spec)  # an unknown style stops here, before any work
            fast_regions.append((mask, spec))
        fast_options = FastOptions.from_values(values)

        def render(
            source: Path, _progress: ProgressCallback, _cancel: CancelToken
        ) -> StylizeResult:
            return stylizer.run(source, fast_options, regions=fast_regions)

        return render, 1
    if job.mode == INSTANT:
        return _instant_renderer(job, masks, max_pixels), 1
    options = OptimizeOptions.from_values(values)
    styles = [_load_style(path, max_pixels) for path in job.styles]
    regions: list[RegionInput] = [
        (mask, None if style is None else _load_style(style, max_pixels))
        for mask, (_, style) in zip(masks, job.regions, strict=True)
    ]
    init = None if job.init_image is None else _load_style(job.init_image, max_pixels).rgb
    stylizer = Stylizer(device=values["device"], vgg=values["vgg"], max_pixels=max_pixels)
    render = optimizer_render(stylizer, styles, options, job.blend, regions, init)
    return render, sum(options.step_schedule())


def _instant_renderer(job: _Job, masks: list[LoadedImage], max_pixels: int) -> Render:
    """Instant mode: the style images (and regions' styles) decoded once for the batch."""
    values = job.values
    styles = [_load_style(path, max_pixels) for path in job.styles]
    stylizer = InstantStylizer(styles, device=values["device"], tile=values["tile"],
                               blend=job.blend, max_pixels=max_pixels)  # fmt: skip
    regions = [(mask, None if style is None else _load_style(style, max_pixels))
               for mask, (_, style) in zip(masks, job.regions, strict=True)]  # fmt: skip
    return instant_render(stylizer, InstantOptions.from_values(values), regions)


def _load_style(path: str, max_pixels: int) -> LoadedImage:
    try:
        return load_image(path, max_pixels=max_pixels)
    except ImageLoadError as exc:
        raise UsageError(f"style image {error_text(exc)}") from exc


def _load_mask(path: str, max_pixels: int) -> LoadedImage:
    """A region mask, decoded once for the whole batch and checked not to be empty."""
    try:
        mask = load_image(path, max_pixels=max_pixels)
        load_mask(mask, mask.rgb.height, mask.rgb.width)
    except (ImageLoadError, OptionsError) as exc:
        raise UsageError(f"region {error_text(exc)}") from exc
    return mask


def _no_inputs_message(args: argparse.Namespace) -> str:
    kinds = " ".join(sorted(IMAGE_EXTENSIONS))
    hint = "" if args.recursive else "; add --recursive to look in sub-folders"
    return f"no input images found in {' '.join(args.inputs)} (looked for {kinds}{hint})"
