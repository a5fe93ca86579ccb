"""`styler stylize`: style transfer over many files (optimizer or fast mode), resumable."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from styler.api import Stylizer, build_options
from styler.cli.batch import Batch, Render, Summary, optimizer_render
from styler.cli.common import UsageError, say
from styler.cli.plan import IMAGE_EXTENSIONS, make_plan
from styler.fast.inference import FastStylizer
from styler.imageio import DEFAULT_MAX_PIXELS, ImageLoadError, LoadedImage, load_image
from styler.losses import LossWeights
from styler.optimize import OptimizeOptions

EPILOG = """\
Examples:
  styler stylize photo.jpg --style starry.jpg            # -> styled/photo__starry.png
  styler stylize photos/ --recursive --style starry.jpg -o out/
  styler stylize a.jpg b.png --style starry.jpg scream.jpg --style-blend 0.7 0.3
                                                         # -> styled/a__starry+scream.png
  styler stylize photos/ --style starry.jpg --size 1024 --format jpg --quality 90
  styler stylize photos/ --style starry.jpg --skip-existing   # resume an interrupted run
  styler stylize photos/ --fast starry_night -o out/     # fast mode: a shipped network

Outputs go to OUTDIR/<sub-folders of the input>/<input-stem>__<style-stem>.<ext>; each
path is printed on stdout once written, progress and errors go to stderr.
Exit status: 0 all done, 1 some inputs failed, 2 usage error, 130 interrupted (Ctrl-C).
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "stylize",
        help="stylize image files and folders with one or more style images",
        usage="styler stylize INPUT... --style IMAGE... [-o OUTDIR] [options]",
        description="Stylize image files and folders (optimizer mode).\n"
        "A bad input is reported and skipped; the rest go on.",
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
        "--fast",
        metavar="NAME",
        help="fast mode: a shipped style network (see 'styler styles') or a .safetensors file;"
        " one pass instead of optimisation",
    )
    parser.add_argument(
        "-o",
        "--output-dir",
        type=Path,
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
    _add_optimisation_options(parser)
    _add_output_options(parser)
    return parser


def _add_optimisation_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("optimisation")
    group.add_argument(
        "--size",
        type=int,
        default=OptimizeOptions.size,
        metavar="PX",
        help="long side of the output in pixels (default: %(default)s)",
    )
    group.add_argument(
        "--steps",
        type=int,
        default=OptimizeOptions.steps,
        metavar="N",
        help="optimisation steps over all scales (default: %(default)s)",
    )
    group.add_argument(
        "--content-weight",
        type=float,
        default=LossWeights.content,
        metavar="W",
        help="how much of the photo's content to keep (default: %(default)s)",
    )
    group.add_argument(
        "--style-weight",
        type=float,
        default=LossWeights.style,
        metavar="W",
        help="how strongly to apply the style (default: %(default)s)",
    )
    group.add_argument(
        "--tv-weight",
        type=float,
        default=LossWeights.tv,
        metavar="W",
        help="smoothness: total-variation weight (default: %(default)s)",
    )
    group.add_argument(
        "--style-blend",
        type=float,
        nargs="+",
        metavar="W",
        help="one weight per style image (default: equal weights)",
    )
    group.add_argument(
        "--style-scale",
        type=float,
        default=OptimizeOptions.style_scale,
        metavar="F",
        help="style image size relative to the output's; larger "
        "gives larger brush strokes (default: %(default)s)",
    )
    group.add_argument(
        "--optimizer",
        choices=("lbfgs", "adam"),
        default=OptimizeOptions.optimizer,
        help="optimisation algorithm (default: %(default)s)",
    )
    group.add_argument(
        "--init",
        choices=("content", "noise"),
        default=OptimizeOptions.init,
        help="start from the photo or from a noisy photo (default: %(default)s)",
    )
    group.add_argument(
        "--seed",
        type=int,
        default=OptimizeOptions.seed,
        help="random seed, for reproducible noise (default: %(default)s)",
    )
    group.add_argument(
        "--device", default="auto", help="auto, cpu, cuda, cuda:N or mps (default: %(default)s)"
    )
    group.add_argument(
        "--vgg",
        default="original",
        metavar="SOURCE",
        help="VGG19 weights: original, torchvision or a weight file (default: %(default)s)",
    )


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
        "--max-pixels",
        type=_int_range(1, None),
        default=DEFAULT_MAX_PIXELS,
        metavar="N",
        help="refuse images with more pixels than this, before "
        "decoding them (default: %(default)s)",
    )
    group.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        help="hide progress bars (errors and the summary still print)",
    )


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
    options = build_options(
        size=args.size,
        steps=args.steps,
        content_weight=args.content_weight,
        style_weight=args.style_weight,
        tv_weight=args.tv_weight,
        optimizer=args.optimizer,
        init=args.init,
        style_scale=args.style_scale,
        seed=args.seed,
    )
    if bool(args.style) == bool(args.fast):
        raise UsageError("give either --style IMAGE... (optimizer mode) or --fast NAME")
    styles = args.style or [args.fast]  # output names derive from these
    plan = make_plan(args.inputs, styles, args.output_dir, args.format, recursive=args.recursive)
    for failure in plan.failures:
        say(f"error: {failure}")
    if not plan.jobs:
        raise UsageError(_no_inputs_message(args))
    batch = Batch(
        *_renderer(args, options),
        quality=args.quality,
        skip_existing=args.skip_existing,
        quiet=args.quiet,
    )
    summary = batch.run(plan.jobs, Summary(failures=list(plan.failures)))
    for line in summary.lines():
        say(line)
    return summary.exit_code()


def _renderer(args: argparse.Namespace, options: OptimizeOptions) -> tuple[Render, int]:
    """The engine for this run and the number of progress steps per file."""
    if args.fast:
        stylizer = FastStylizer(args.fast, device=args.device)
        return (lambda source, _progress, _cancel: stylizer.run(source)), 1
    styles = [_load_style(path, args.max_pixels) for path in args.style]
    stylizer = Stylizer(device=args.device, vgg=args.vgg, max_pixels=args.max_pixels)
    render = optimizer_render(stylizer, styles, options, args.style_blend)
    return render, sum(options.step_schedule())


def _load_style(path: str, max_pixels: int) -> LoadedImage:
    try:
        return load_image(path, max_pixels=max_pixels)
    except ImageLoadError as exc:
        raise UsageError(f"style image {exc}") from exc


def _no_inputs_message(args: argparse.Namespace) -> str:
    kinds = " ".join(sorted(IMAGE_EXTENSIONS))
    hint = "" if args.recursive else "; add --recursive to look in sub-folders"
    return f"no input images found in {' '.join(args.inputs)} (looked for {kinds}{hint})"
