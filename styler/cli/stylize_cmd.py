"""`styler stylize`: style transfer over many files (optimizer, fast or instant mode),
resumable."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from styler.batch import INPUT_EXTENSIONS, check_output_folder, make_plan, runs_as_clip
from styler.cli.batch import Echo, TerminalBatch, TerminalSummary
from styler.cli.common import UsageError, error_text, failure_text, flag_message, say
from styler.controls import (
    CONTROLS,
    FAST,
    FILES,
    INSTANT,
    MODE_NAMES,
    OPTIMIZE,
    STYLE,
    Control,
    checked,
)
from styler.device import device_type
from styler.engine import Engine, RecipeImageError, build_engine
from styler.errors import InvalidOption, OptionNotInMode, OptionsError
from styler.imageio import OUTPUT_FORMATS
from styler.recipe import MissingImage, Recipe
from styler.reproduce import device_note, network_notes
from styler.scale.storage import is_url, plan_any
from styler.settings import Settings
from styler.video.span import Span, parse_time

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
  styler stylize photos/ --fast starry_night udnie --fast-blend 0.7 0.3 --blend-method params
  styler stylize photos/ --fast starry_night --style-scale 2    # fast mode, larger strokes
  styler stylize photos/ --style starry.jpg --instant -o out/   # instant mode: any painting,
                                                         # one pass per photo
  styler stylize a.jpg --style starry.jpg scream.jpg --style-blend 0.7 0.3 --instant \\
                 --region face.png none --strength 0.8 --preserve-color match
  styler stylize a.jpg --settings-from out/a__starry.png # reproduce a result, any mode
  styler stylize clip.mp4 --fast udnie -o out/         # video: out/clip__udnie.mp4, its
                                                         # sound kept, steadied (--temporal)
  styler stylize loop.gif --fast udnie -o out/         # animated GIF/WebP/PNG: animated back
  styler stylize take.mov --style p.jpg --start 1:05 --end 1:07  # a part: two seconds

Outputs go to OUTDIR/<sub-folders of the input>/<input-stem>__<style-stem>.<ext>; each
path is printed on stdout once written, progress and errors go to stderr. A clip whose run
was stopped (Ctrl-C, a kill, a crash) goes on from its last finished segment when the same
command runs again.
Exit status: 0 all done, 1 some inputs failed, 2 usage error, 130 interrupted (Ctrl-C).
"""


def add_parser(subparsers: Any, summary: str) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "stylize",
        help=summary,
        usage="styler stylize INPUT... --style IMAGE... [-o OUTDIR] [options]",
        description="Stylize image files and folders: optimizer mode with --style images (best "
        "quality, seconds to minutes a photo), instant mode with --style images and --instant "
        "(any painting, one pass), or fast mode with --fast networks (one pass, trained styles)."
        "\nA bad input is reported and skipped; the rest go on.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("inputs", nargs="+", metavar="INPUT",
                        help="image or video files, or folders of them")  # fmt: skip
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
    groups = _add_control_options(parser)
    _add_output_options(groups[FILES])  # beside the registry's file controls: one "files" group
    _add_clip_options(parser)
    _add_engine_options(parser)
    return parser


def _add_control_options(parser: argparse.ArgumentParser) -> dict[str, Any]:
    """One argument per control of styler.controls: flag, type, choices and help come from
    there; defaults stay None so explicit flags can override --settings-from. Returns the
    argument groups, by the registry's group names."""
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
    return groups


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


def _add_output_options(group: Any) -> None:
    group.add_argument(
        "--format",
        choices=OUTPUT_FORMATS,
        default="png",
        help="output format (default: %(default)s)",
    )
    group.add_argument(
        "--quality",
        type=_int_range(1, 100),
        default=95,
        metavar="Q",
        help="JPEG, WebP, HEIC and AVIF quality, 1-100 (default: %(default)s)",
    )
    group.add_argument(
        "--skip-existing",
        action="store_true",
        help="skip inputs whose output exists, is readable and finished (a stopped run's "
             "best-so-far is redone); resumes an interrupted run",
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="hide progress bars (errors and the summary still print)",
    )


def _add_clip_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("clips (videos and animations)")
    for flag, which in (("--start", "starts (default: its start)"),
                        ("--end", "ends (default: its end)")):  # fmt: skip
        group.add_argument(flag, type=_time, metavar="TIME",
                           help=f"paint only a part of each clip: where the part {which}; "
                           "seconds (90), minutes:seconds (1:30) or h:mm:ss (0:01:30.5); "
                           "the output's times and sound start at the part's start")  # fmt: skip


def _time(text: str) -> float:
    """An argparse type: a time in seconds, or a usage error saying what was expected."""
    try:
        return parse_time(text)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def _span(args: argparse.Namespace) -> Span | None:
    """--start/--end as a Span; None for whole clips."""
    if args.start is None and args.end is None:
        return None
    try:
        return Span(args.start or 0.0, args.end)
    except ValueError as exc:
        raise UsageError(f"--start/--end: {exc}") from None


def _recorded_span(recorded: Settings | None) -> Span | None:
    """The part of its clip that the --settings-from output was painted from (engine notes,
    styler.video.clip), or None: a photo, a whole clip, no settings."""
    if recorded is None:
        return None
    part = recorded.engine.get("video", {}).get("part")
    if not isinstance(part, list) or len(part) != 2:
        return None
    try:
        return Span(float(part[0]), None if part[1] is None else float(part[1]))
    except (TypeError, ValueError):
        return None


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


def _unused_tiff_bits(args: argparse.Namespace, plan: Any) -> list[str]:
    """--tiff-bits 16 asked for outputs that are not TIFF: said, not silently ignored."""
    if args.tiff_bits != "16":
        return []
    # an object store's outputs are URLs (str), a folder's are paths
    other = sorted({Path(str(job.output)).suffix for job in plan.jobs} - {".tiff"})
    if not other:
        return []
    return [f"--tiff-bits 16 is for TIFF outputs (--format tiff): the {', '.join(other)} "
            "outputs are 8 bits a channel"]


def run(args: argparse.Namespace) -> int:
    """Check everything cheap first, then build the engine once for the whole batch."""
    recorded = None if args.settings_from is None else Settings.from_file(args.settings_from)
    recipe = recipe_from_args(args, recorded)
    span = _span(args)
    on_ray = _engine(args)
    plan = (plan_any if on_ray else make_plan)(args.inputs, recipe.names, args.output_dir,
                                               args.format, recursive=args.recursive)  # fmt: skip
    for failure in plan.failures:
        say(f"error: {failure}")
    for note in [*plan.notes, *_unused_tiff_bits(args, plan)]:
        say(f"note: {note}")
    if not plan.jobs:
        raise UsageError(_no_inputs_message(args))
    if span is not None and not any(runs_as_clip(job) for job in plan.jobs):
        raise UsageError("--start/--end are for clips (videos and animations); none of the "
                         "inputs is one")  # fmt: skip
    span = span or _recorded_span(recorded)  # its settings reproduce that output
    if not is_url(args.output_dir):
        check_output_folder(args.output_dir, f"-o {args.output_dir}")
    summary = TerminalSummary(failures=list(plan.failures))
    if on_ray:  # the same jobs, run by a pool of actors on a Ray cluster
        from styler.scale.ray_batch import RayOptions, run_planned

        options = RayOptions(args.address, args.actors, args.quality, args.skip_existing,
                             args.quiet, span=span, describe=failure_text)  # fmt: skip
        run_planned(recipe, plan.jobs, summary, options=options, events=Echo())
    else:
        batch = TerminalBatch(usable_engine(recipe), quality=args.quality,
                      skip_existing=args.skip_existing, quiet=args.quiet, span=span)  # fmt: skip
        batch.run(plan.jobs, summary)
    for line in summary.lines():
        say(line)
    return summary.exit_code()


def usable_engine(recipe: Recipe) -> Engine:
    """build_engine, its refusals worded for the command line (exit code 2)."""
    try:
        return build_engine(recipe)
    except RecipeImageError as exc:
        raise UsageError(error_text(exc)) from exc


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


def recipe_from_args(args: argparse.Namespace, recorded: Settings | None) -> Recipe:
    """The recipe the command line asks for: explicit flags over --settings-from (read as
    `recorded`) over the registry's defaults; usage errors for what contradicts itself."""
    _check_style_flags(args)
    mode = _mode(args, recorded)
    same_mode = recorded is not None and recorded.mode == mode
    given = {c.name: getattr(args, c.name) for c in CONTROLS.values()
             if getattr(args, c.name, None) is not None}  # fmt: skip
    base = recorded.controls if same_mode and recorded is not None else {}
    try:
        values = {**base, **checked(mode, given)}
    except InvalidOption as exc:
        raise UsageError(flag_message(exc)) from exc
    except OptionNotInMode as exc:
        raise UsageError(f"{CONTROLS[exc.name].flag} has no effect in {exc.mode}") from exc
    if args.init_image is not None and mode != OPTIMIZE:
        raise UsageError(f"--init-image has no effect in {MODE_NAMES[mode]}")
    device = values.get("device", CONTROLS["device"].default)
    if recorded is not None:
        networks = [] if args.style or args.fast else network_notes(recorded)  # its own styles
        for note in filter(None, [device_note(recorded, device_type(device)), *networks]):
            say(f"note: {args.settings_from}: {note}")
    found = _found(recorded, args.settings_from) if recorded is not None else None
    if args.style or args.fast:
        styles, blend = list(args.style or args.fast), args.style_blend or args.fast_blend
    else:
        assert recorded is not None and found is not None
        if recorded.mode == FAST and mode != FAST:  # networks are no style images
            raise UsageError(f"{args.settings_from} was made in fast mode; give --style "
                             f"IMAGE... for {MODE_NAMES[mode]}")  # fmt: skip
        styles, blend = list(found.styles), found.blend
    regions = [(mask, None if style.lower() == "none" else style) for mask, style in args.region]
    if not regions and same_mode and found is not None:
        regions = list(found.regions)
    init_image = args.init_image
    if init_image is None and values.get("init") == "image" and same_mode and found is not None:
        init_image = found.init_image  # the recorded start, unless --init changes it
    try:
        return Recipe.create(mode, styles, blend=blend, regions=regions,
                             init_image=init_image, **values)  # fmt: skip
    except OptionsError as exc:
        raise UsageError(str(exc)) from exc


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


def _found(recorded: Settings, settings_from: str) -> Recipe:
    """The recipe of the --settings-from result, its images found where it was made, beside
    it or in the working folder, or a usage error saying how to pass what is not there."""
    folders = [Path(settings_from).parent, Path.cwd()]
    try:
        return Recipe.from_settings(recorded, folders)
    except MissingImage as exc:
        flags = "--init-image" if exc.what == "init image" else "--style, --fast or --region"
        raise UsageError(f"{exc}; pass it with {flags}") from exc


def _no_inputs_message(args: argparse.Namespace) -> str:
    kinds = " ".join(sorted(INPUT_EXTENSIONS))
    hint = "" if args.recursive else "; add --recursive to look in sub-folders"
    return f"no input images found in {' '.join(args.inputs)} (looked for {kinds}{hint})"
