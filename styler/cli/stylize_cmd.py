"""`styler stylize`: style transfer over many files (optimizer or fast mode), resumable."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from styler.api import RegionInput, Stylizer, build_options
from styler.cli.batch import Batch, Render, Summary, optimizer_render
from styler.cli.common import UsageError, say
from styler.cli.plan import IMAGE_EXTENSIONS, make_plan
from styler.errors import OptionsError
from styler.fast.blend import BLEND_METHODS
from styler.fast.inference import FastOptions, FastRegion, FastStylizer
from styler.fusion.color import PRESERVE_METHODS
from styler.fusion.regions import REGION_FEATHER, load_mask
from styler.imageio import DEFAULT_MAX_PIXELS, ImageLoadError, LoadedImage, load_image
from styler.losses import LossWeights
from styler.optimize import OptimizeOptions
from styler.progress import CancelToken, ProgressCallback
from styler.result import StylizeResult

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
  styler stylize photo.jpg --style starry.jpg --region sky.png scream.jpg \
                 --region face.png none --feather 8     # per-region styles, photo in face
  styler stylize photos/ --fast starry_night mosaic --fast-blend 0.7 0.3 --blend-method params
  styler stylize photos/ --fast starry_night --style-scale 2    # fast mode, larger strokes

Outputs go to OUTDIR/<sub-folders of the input>/<input-stem>__<style-stem>.<ext>; each
path is printed on stdout once written, progress and errors go to stderr.
Exit status: 0 all done, 1 some inputs failed, 2 usage error, 130 interrupted (Ctrl-C).
"""


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser = subparsers.add_parser(
        "stylize",
        help="stylize image files and folders with one or more style images",
        usage="styler stylize INPUT... --style IMAGE... [-o OUTDIR] [options]",
        description="Stylize image files and folders (optimizer mode, or fast mode with --fast).\n"
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
        nargs="+",
        metavar="NAME",
        help="fast mode: shipped style network(s) (see 'styler styles') or .safetensors files;"
        " one pass instead of optimisation; several are blended",
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
    _add_control_options(parser)
    _add_optimisation_options(parser)
    _add_output_options(parser)
    return parser


def _add_control_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("style controls (both modes)")
    group.add_argument(
        "--strength",
        type=float,
        default=1.0,
        metavar="A",
        help="0 keeps the photo, 1 is the full style (default: %(default)s); optimizer mode "
        "scales the style weight, fast mode mixes edge-preservingly with the photo",
    )
    group.add_argument(
        "--preserve-color",
        choices=PRESERVE_METHODS,
        default="off",
        help="keep the photo's colours: luminance keeps its chroma; match recolours the style "
        "image to the photo (fast mode: the output) (default: %(default)s)",
    )
    group.add_argument(
        "--region",
        nargs=2,
        action="append",
        default=[],
        metavar=("MASK", "STYLE"),
        help="give the white part of MASK (any image, resized to each photo) its own STYLE: "
        "a style image, a fast style in fast mode, or 'none' to keep the photo; repeatable",
    )
    group.add_argument(
        "--feather",
        type=float,
        default=REGION_FEATHER,
        metavar="PX",
        help="softness of region edges in pixels (default: %(default)s)",
    )
    group.add_argument(
        "--fast-blend",
        type=float,
        nargs="+",
        metavar="W",
        help="fast mode: one weight per --fast network (default: equal weights)",
    )
    group.add_argument(
        "--blend-method",
        choices=BLEND_METHODS,
        default="params",
        help="fast mode: blend networks by interpolating their parameters (one network, one "
        "pass) or by mixing their outputs (default: %(default)s)",
    )


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
        "--tile",
        type=int,
        default=OptimizeOptions.tile,
        metavar="PX",
        help="scales longer than this are optimised as overlapping tiles joined by a "
        "multi-band blend, which bounds memory; 0: never tile (default: %(default)s)",
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
        help="style image size relative to the output's; larger gives larger brush strokes; "
        "fast mode: the network runs on a 1/F size copy (0.25-4) (default: %(default)s)",
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
    if bool(args.style) == bool(args.fast):
        raise UsageError("give either --style IMAGE... (optimizer mode) or --fast NAME...")
    if args.fast and args.style_blend:
        raise UsageError("--style-blend weighs --style images; in fast mode use --fast-blend")
    if args.style and args.fast_blend:
        raise UsageError("--fast-blend weighs --fast networks; in optimizer mode use --style-blend")
    options = _fast_options(args) if args.fast else _optimizer_options(args)
    styles = args.style or args.fast  # output names derive from these
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


def _renderer(
    args: argparse.Namespace, options: OptimizeOptions | FastOptions
) -> tuple[Render, int]:
    """The engine for this run and the number of progress steps per file."""
    masks = [_load_mask(mask, args.max_pixels) for mask, _ in args.region]
    if isinstance(options, FastOptions):
        stylizer = FastStylizer(args.fast, device=args.device, blend=args.fast_blend,
                                blend_method=args.blend_method)  # fmt: skip
        fast_regions: list[FastRegion] = []
        for mask, (_, style) in zip(masks, args.region, strict=True):
            spec = None if style.lower() == "none" else style
            if spec is not None:
                stylizer.region_network(spec)  # an unknown style stops here, before any work
            fast_regions.append((mask, spec))

        def render(
            source: Path, _progress: ProgressCallback, _cancel: CancelToken
        ) -> StylizeResult:
            return stylizer.run(source, options, regions=fast_regions)

        return render, 1
    styles = [_load_style(path, args.max_pixels) for path in args.style]
    regions: list[RegionInput] = [
        (mask, None if style.lower() == "none" else _load_style(style, args.max_pixels))
        for mask, (_, style) in zip(masks, args.region, strict=True)
    ]
    stylizer = Stylizer(device=args.device, vgg=args.vgg, max_pixels=args.max_pixels)
    render = optimizer_render(stylizer, styles, options, args.style_blend, regions)
    return render, sum(options.step_schedule())


def _fast_options(args: argparse.Namespace) -> FastOptions:
    return FastOptions(
        strength=args.strength,
        preserve_color=args.preserve_color,
        style_scale=args.style_scale,
        feather=args.feather,
    )


def _optimizer_options(args: argparse.Namespace) -> OptimizeOptions:
    return build_options(
        size=args.size,
        steps=args.steps,
        content_weight=args.content_weight,
        style_weight=args.style_weight,
        tv_weight=args.tv_weight,
        optimizer=args.optimizer,
        init=args.init,
        style_scale=args.style_scale,
        seed=args.seed,
        strength=args.strength,
        preserve_color=args.preserve_color,
        feather=args.feather,
        tile=args.tile,
    )


def _load_style(path: str, max_pixels: int) -> LoadedImage:
    try:
        return load_image(path, max_pixels=max_pixels)
    except ImageLoadError as exc:
        raise UsageError(f"style image {exc}") from exc


def _load_mask(path: str, max_pixels: int) -> LoadedImage:
    """A region mask, decoded once for the whole batch and checked not to be empty."""
    try:
        mask = load_image(path, max_pixels=max_pixels)
        load_mask(mask, mask.rgb.height, mask.rgb.width)
    except (ImageLoadError, OptionsError) as exc:
        raise UsageError(f"region {exc}") from exc
    return mask


def _no_inputs_message(args: argparse.Namespace) -> str:
    kinds = " ".join(sorted(IMAGE_EXTENSIONS))
    hint = "" if args.recursive else "; add --recursive to look in sub-folders"
    return f"no input images found in {' '.join(args.inputs)} (looked for {kinds}{hint})"
