"""Re-measure the figures that docs/performance.md records for design choices in the code.

Code comments give the reason for a choice and point to docs/performance.md; the figures
behind them live there, each with the command here (or in benchmarks/) that measures it,
so they can be kept current on the machine at hand. Run on a quiet machine:

    python tools/measure_figures.py vgg-layout     # VGG19 on CPU: channels-last vs contiguous
    python tools/measure_figures.py vgg-bf16       # a VGG19 training pass: bf16 vs fp32 on CPU
                                                   # (--emulated: also without native bf16)
    python tools/measure_figures.py optimize-bf16  # a default Quality run: bf16 vs fp32 on CPU
    python tools/measure_figures.py optimize-profile  # where a default Quality run's time goes
    python tools/measure_figures.py gram-backward  # a Gram's gradient: one product or autograd's
    python tools/measure_figures.py network        # a 1024x768 pass: eager (2 layouts), ORT
    python tools/measure_figures.py onnx-convert   # uint8 <-> float around onnxruntime
    python tools/measure_figures.py onnx-export    # the TorchScript vs the dynamo exporter
    python tools/measure_figures.py strength       # style distance against strength
    python tools/measure_figures.py tile-memory --tile 1024   # an 8K photo's peak RSS
    python tools/measure_figures.py batch-writes   # a batch writing beside painting, or not
    python tools/measure_figures.py instant-graphs # instant mode's int8 graphs, one pass each
    python tools/measure_figures.py instant-parts  # where an instant photo's run goes, by part
    python tools/measure_figures.py fast-graph-ops --style udnie  # a fast graph's time by operator
    python tools/measure_figures.py png-compression  # PNG writing: zlib levels and strategies
    python tools/measure_figures.py output-formats   # each --format: write time, size, PSNR
"""

from __future__ import annotations

import argparse
import functools
import io
import statistics
import subprocess
import sys
import tempfile
import time
import warnings
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # this checkout's styler, installed or not
    sys.path.insert(0, str(ROOT))

from styler.device import use_all_cores  # noqa: E402
from styler.fast.network import NetworkConfig, StyleNetwork  # noqa: E402


def median_seconds(work: Callable[[], object], runs: int) -> float:
    for _ in range(2):  # warm-up: allocations, oneDNN primitive caches, lazy initialisation
        work()
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        work()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def vgg_layout(args: argparse.Namespace) -> None:
    """VGG19 to relu5_1 at 512x384, forward only (optimizer-mode scoring), both layouts."""
    from styler.vgg import VGG19Features

    vgg = VGG19Features(["relu5_1"])
    image = torch.rand(1, 3, 384, 512)

    def forward(layout: torch.memory_format) -> None:
        x = vgg.preprocessing.apply(image).contiguous(memory_format=layout)
        with torch.no_grad():
            for module in vgg.body:
                x = module(x)

    for name, layout in (("contiguous", torch.contiguous_format),
                         ("channels-last", torch.channels_last)):  # fmt: skip
        vgg.to(memory_format=layout)
        print(f"{name}: {median_seconds(lambda fmt=layout: forward(fmt), args.runs):.3f} s")


def vgg_bf16(args: argparse.Namespace) -> None:
    """Forward and backward through VGG19 for a training batch (2 x 288 px), fp32 and bf16."""
    from styler.device import cpu_has_native_bf16
    from styler.vgg import VGG19Features

    if not cpu_has_native_bf16():
        print("this CPU has no native bfloat16: training runs VGG in fp32 here")
        if not args.emulated:
            return
    vgg = VGG19Features(["relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu4_2", "relu5_1"])
    images = torch.rand(2, 3, 288, 288, requires_grad=True)

    def step(bf16: bool) -> None:
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=bf16):
            feats = vgg(images)
        sum(f.float().square().mean() for f in feats.values()).backward()

    for name, bf16 in (("fp32", False), ("bf16", True)):
        print(f"{name}: {median_seconds(lambda b=bf16: step(b), args.runs):.3f} s")


def optimize_bf16(args: argparse.Namespace) -> None:
    """One default 512 px Quality run (--pair, or gallery coffee x swirls) in fp32 and in
    bf16: time and both distances, so a precision is judged on quality as well as speed."""
    from unittest import mock

    from styler import Stylizer
    from styler.device import cpu_has_native_bf16
    from styler.evaluate import distances

    if not cpu_has_native_bf16():
        print("this CPU has no native bfloat16: optimizer mode runs in fp32 here")
        return
    gallery = ROOT / "gallery"
    pair = args.pair or (gallery / "photos" / "coffee.jpg", gallery / "styles" / "swirls.jpg")
    photo, style = (Image.open(path).convert("RGB") for path in pair)
    engine = Stylizer(device="cpu")
    for name, dtype in (("fp32", None), ("bf16", torch.bfloat16)):
        with mock.patch("styler.optimize.autocast_dtype", return_value=dtype):
            start = time.perf_counter()
            out = engine.stylize(photo, style, size=512)
            seconds = time.perf_counter() - start
        found = distances(out, photo, style)
        print(f"{name}: {seconds:.1f} s, style {found.style:.4f}, content {found.content:.3f}")


def optimize_profile(args: argparse.Namespace) -> None:
    """One default 512 px Quality run (--pair, or gallery coffee x swirls) under PyTorch's
    profiler: the operations that take its time."""
    from styler import Stylizer

    gallery = ROOT / "gallery"
    pair = args.pair or (gallery / "photos" / "coffee.jpg", gallery / "styles" / "swirls.jpg")
    photo, style = (Image.open(path).convert("RGB") for path in pair)
    engine = Stylizer(device="cpu")
    engine.stylize(photo, style, size=128, steps=2)  # warm-up: VGG19 loaded, kernels chosen
    with torch.autograd.profiler.profile() as profile:
        start = time.perf_counter()
        engine.stylize(photo, style, size=512)
        print(f"{time.perf_counter() - start:.1f} s")
    print(profile.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))


def gram_backward(args: argparse.Namespace) -> None:
    """A Gram's forward and backward at relu1_1's size for a 512x384 image (64 channels,
    fp32): styler's one-product backward against autograd's backward of bmm."""
    from styler.losses import gram_matrix

    features = torch.rand(1, 64, 384, 512).contiguous(memory_format=torch.channels_last)
    features.requires_grad_(True)
    target = torch.rand(1, 64, 64)

    def autograd_gram(x: torch.Tensor) -> torch.Tensor:
        flat = x.permute(0, 2, 3, 1).reshape(1, -1, 64)
        return torch.bmm(flat.transpose(1, 2), flat) / flat.shape[1]

    for name, gram in (("autograd's bmm backward", autograd_gram), ("one product", gram_matrix)):
        seconds = median_seconds(
            lambda g=gram: torch.autograd.grad(((g(features) - target) ** 2).sum(), features),
            args.runs)  # fmt: skip
        print(f"{name}: {seconds * 1000:.1f} ms")


def _session(network: StyleNetwork, folder: Path):
    from styler.fast.export import export_onnx
    from styler.fast.runtime import OnnxRunner

    return OnnxRunner(export_onnx(network, folder / "net.onnx"), torch.get_num_threads())


def network(args: argparse.Namespace) -> None:
    """The shipped architecture (random weights: the cost does not depend on them), in
    PyTorch eager in both memory layouts and in onnxruntime."""
    net = StyleNetwork(NetworkConfig()).eval()
    image = torch.rand(1, 3, 768, 1024)
    eager = {}
    for name, layout in (("contiguous", torch.contiguous_format),
                         ("channels-last", torch.channels_last)):  # fmt: skip
        net.to(memory_format=layout)
        x = image.contiguous(memory_format=layout)
        with torch.no_grad():
            eager[name] = median_seconds(lambda n=net, x=x: n(x), args.runs)
        print(f"PyTorch eager, {name}: {eager[name]:.3f} s")
    with tempfile.TemporaryDirectory() as folder:
        runner = _session(StyleNetwork(NetworkConfig()).eval(), Path(folder))
        feed = {"image": image.numpy()}
        ort = median_seconds(lambda: runner.session.run(None, feed), args.runs)
    print(f"onnxruntime session.run: {ort:.3f} s "
          f"({eager['channels-last'] / ort:.2f}x the speed of channels-last eager)")  # fmt: skip


def onnx_convert(args: argparse.Namespace) -> None:
    """OnnxRunner.run's numpy conversions against float tensors, without the session."""
    photo = np.random.default_rng(0).integers(0, 256, (1, 768, 1024, 3), dtype=np.uint8)

    def numpy_passes() -> None:
        images = np.empty((1, 3, 768, 1024), np.float32)
        np.multiply(photo.transpose(0, 3, 1, 2), np.float32(1 / 255), out=images)
        np.multiply(images, np.float32(255), out=images)
        images += np.float32(0.5)
        rgb = np.empty(photo.shape, np.uint8)
        np.copyto(rgb, images.transpose(0, 2, 3, 1), casting="unsafe")

    def float_tensors() -> None:
        x = torch.from_numpy(photo).permute(0, 3, 1, 2).float().div(255).contiguous().numpy()
        y = torch.from_numpy(x).mul(255).round().clamp(0, 255).byte()
        y.permute(0, 2, 3, 1).contiguous().numpy()

    for name, work in (("float tensors", float_tensors), ("numpy passes", numpy_passes)):
        print(f"{name}: {1000 * median_seconds(work, args.runs):.1f} ms per 1024x768 photo")


def onnx_export(args: argparse.Namespace) -> None:
    """One export of each kind: fast mode exports every network the first time it runs."""
    from styler.fast.export import _Clamped, _export_dynamo, _export_torchscript

    model = _Clamped(StyleNetwork(NetworkConfig())).eval()
    with tempfile.TemporaryDirectory() as folder, warnings.catch_warnings():
        warnings.simplefilter("ignore")  # as export_onnx does
        for name, export in (("torchscript", _export_torchscript), ("dynamo", _export_dynamo)):
            start = time.perf_counter()
            export(model, Path(folder) / f"{name}.onnx")
            print(f"{name}: {time.perf_counter() - start:.1f} s")


def strength(args: argparse.Namespace) -> None:
    """The tests' 96 px pair (a generated photo, gallery/styles/swirls.jpg)."""
    from styler import Stylizer
    from styler.evaluate import style_distance
    from tests.conftest import GALLERY, gradient_photo

    photo = gradient_photo(96, 72)
    style = Image.open(GALLERY / "styles" / "swirls.jpg").convert("RGB").resize((96, 96))
    engine = Stylizer(device="cpu")
    for s in (0, 0.25, 0.5, 0.75, 1):
        out = engine.stylize(photo, style, size=96, steps=args.steps, strength=s)
        print(f"strength {s}: style distance {style_distance(out, style):.3f}")


TILE_MEMORY = """
import resource, sys, numpy as np
sys.path.insert(0, sys.argv[1])
from styler.fast.inference import FastStylizer
stylizer = FastStylizer(sys.argv[2], device="cpu", tile=int(sys.argv[3]))
photo = np.random.default_rng(0).integers(0, 256, (4320, 7680, 3), dtype=np.uint8)
stylizer.stylize_array(photo)
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def tile_memory(args: argparse.Namespace) -> None:
    """An 8K photo through a shipped network in a fresh process (Linux: ru_maxrss in KiB)."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", TILE_MEMORY, str(ROOT), args.style,
                           str(args.tile)], capture_output=True, text=True, check=True)  # fmt: skip
    seconds = time.perf_counter() - start
    print(f"{args.tile} px tiles: peak RSS {done.stdout.split()[-1]} MiB, {seconds:.1f} s")


def batch_writes(args: argparse.Namespace) -> None:
    """Eight 1024x768 photos through Batch.run (each PNG written on a second thread while
    the next photo paints) and through Batch.attempt one after the other, alternating."""
    from styler.batch import Batch, Job, Summary
    from styler.engine import build_engine
    from styler.recipe import Recipe

    recipes = {"instant": Recipe.create("instant", [str(ROOT / "gallery/styles/swirls.jpg")]),
               "fast": Recipe.create("fast", [args.style])}  # fmt: skip
    with tempfile.TemporaryDirectory() as folder:
        work = Path(folder)
        photos = sorted((ROOT / "gallery/photos").glob("*.jpg"))
        sources = []
        for i in range(8):
            source = work / f"p{i}.jpg"
            with Image.open(photos[i % len(photos)]) as im:
                im.convert("RGB").resize((1024, 768), Image.Resampling.LANCZOS).save(source)
            sources.append(source)

        def jobs(tag: str) -> list[Job]:
            return [Job(s, work / tag / f"{s.stem}.png") for s in sources]

        for mode, recipe in recipes.items():
            batch = Batch(build_engine(recipe))
            batch.attempt(jobs("warm")[0], Summary())
            for _ in range(max(1, args.runs // 3)):
                start = time.perf_counter()
                batch.run(jobs("beside"))
                beside = (time.perf_counter() - start) / len(sources)
                start = time.perf_counter()
                summary = Summary()
                for job in jobs("after"):
                    batch.attempt(job, summary)
                after = (time.perf_counter() - start) / len(sources)
                print(f"{mode}: written beside {beside:.3f} s a photo, after {after:.3f} s: "
                      f"{after / beside:.2f}x", flush=True)  # fmt: skip


def instant_graphs(args: argparse.Namespace) -> None:
    """Each shipped int8 graph of instant mode on the pass of a 1024x768 photo (512x384)."""
    from styler.instant.runtime import DECODER_KEY, ENCODER_KEY, STUDENT_KEY
    from styler.int8_models import int8_dir
    from styler.onnx_models import cpu_session

    inputs = {STUDENT_KEY: (1, 3, 384, 512), ENCODER_KEY: (1, 3, 384, 512),
              DECODER_KEY: (1, 512, 48, 64)}  # fmt: skip
    for key, shape in inputs.items():
        session = cpu_session(int8_dir() / f"{key}.int8.onnx", torch.get_num_threads())
        feed = {session.get_inputs()[0].name: np.random.rand(*shape).astype(np.float32)}
        seconds = median_seconds(lambda s=session, f=feed: s.run(None, f), args.runs)
        print(f"{key:16} {1000 * seconds:7.1f} ms")


def instant_parts(args: argparse.Namespace) -> None:
    """Where InstantStylizer.run's time goes on a 1024x768 photo (the gallery astronaut
    enlarged, swirls.jpg; default controls: painted at 512x384, detail put back), each part
    timed by wrapping it; every run's parts, summed, over --runs runs after one warm-up."""
    from styler.instant import cascade, runtime, stylizer, wct

    sys.path.insert(0, str(ROOT / "benchmarks"))
    from part_timer import time_calls

    photo = Image.open(ROOT / "gallery/photos/astronaut.jpg").convert("RGB").resize((1024, 768))
    painter = stylizer.InstantStylizer(ROOT / "gallery/styles/swirls.jpg", device="cpu")
    painter.run(photo)
    spent: Counter[str] = Counter()
    for owner, name, label in (
        (stylizer, "reduced_copy", "the photo's reduced copy"),
        (runtime.OnnxNetworks, "_run", "onnxruntime's passes (3: painting, photo, decoder)"),
        (cascade, "_unpadded_stats", "the photo's feature statistics"),
        (cascade, "whitening_colouring", "whitening-colouring (its eigendecomposition)"),
        (wct.AffineMap, "__call__", "the map applied to the features"),
        (stylizer, "with_detail", "the photo's detail put back"),
    ):
        time_calls(owner, name, label, spent)
    painter._stats.clear()  # the painting's statistics too, as a new command computes them
    start = time.perf_counter()
    for _ in range(args.runs):
        painter._stats.clear()
        painter.run(photo)
    whole = (time.perf_counter() - start) / args.runs
    print(f"instant mode, {painter.nets.precision}, 1024x768: {whole * 1000:.0f} ms a run")
    for label, seconds in spent.items():
        print(f"  {label:52} {seconds / args.runs * 1000:6.1f} ms")


def fast_graph_ops(args: argparse.Namespace) -> None:
    """Where a 1280x720 pass of a style's float export and int8 graph goes, by operator: one
    onnxruntime thread, its own profiler, summed over --runs passes after a warm-up."""
    import json

    import onnxruntime as ort

    from styler.fast.export import export_onnx
    from styler.fast.inference import load_network
    from styler.int8_models import int8_dir

    image = np.random.default_rng(0).random((1, 3, 720, 1280), np.float32)
    with tempfile.TemporaryDirectory() as folder:
        exported = export_onnx(load_network(args.style)[1].eval(), Path(folder) / "fp32.onnx")
        for label, graph in (("fp32 export", exported),
                             ("int8 graph", int8_dir() / f"{args.style}.int8.onnx")):  # fmt: skip
            options = ort.SessionOptions()
            options.intra_op_num_threads = 1
            options.enable_profiling = True
            options.profile_file_prefix = str(Path(folder) / label.replace(" ", "_"))
            session = ort.InferenceSession(str(graph), options, providers=["CPUExecutionProvider"])
            session.run(None, {"image": image})
            for _ in range(args.runs):
                session.run(None, {"image": image})
            spent: Counter[str] = Counter()
            events = json.loads(Path(session.end_profiling()).read_text())
            for event in events:
                if event.get("cat") == "Node" and event["name"].endswith("_kernel_time"):
                    spent[event["args"]["op_name"]] += event["dur"] / 1000 / (args.runs + 1)
            print(f"{args.style} {label}: {sum(spent.values()):.1f} ms a pass, one thread")
            for operator, ms in spent.most_common(10):
                print(f"  {operator:24} {ms:7.1f} ms")


def png_compression(args: argparse.Namespace) -> None:
    """Engine outputs (instant and fast mode, 1024x768 and 12 MP) written as PNG at zlib's
    levels with its default strategy and with Z_RLE and Z_HUFFMAN_ONLY: time and size."""
    import zlib

    outputs = engine_outputs(args.style)
    choices = {"level 1": (1, -1), "level 3": (3, -1), "level 6 (Pillow's default)": (6, -1),
               "level 3, Z_RLE": (3, zlib.Z_RLE), "level 1, Z_RLE": (1, zlib.Z_RLE),
               "level 3, Z_HUFFMAN_ONLY": (3, zlib.Z_HUFFMAN_ONLY)}  # fmt: skip
    print(f"{'image':20} {'zlib':28} {'encode s':>9} {'MB':>6}")
    for name, image in outputs.items():
        for label, (level, strategy) in choices.items():
            seconds = median_seconds(
                functools.partial(png_bytes, image, level, strategy), max(1, args.runs // 3)
            )
            size = len(png_bytes(image, level, strategy)) / 1e6
            print(f"{name:20} {label:28} {seconds:9.3f} {size:6.2f}", flush=True)


def engine_outputs(style: str) -> dict[str, Image.Image]:
    """The gallery astronaut painted by instant mode (swirls) and fast mode (`style`), at
    1024x768 and 4000x3000: what written files hold."""
    from styler.engine import build_engine
    from styler.recipe import Recipe

    photo = Image.open(ROOT / "gallery/photos/astronaut.jpg").convert("RGB")
    recipes = {"instant": Recipe.create("instant", [str(ROOT / "gallery/styles/swirls.jpg")]),
               "fast": Recipe.create("fast", [style])}  # fmt: skip
    outputs = {}
    for mode, recipe in recipes.items():
        engine = build_engine(recipe)
        for size in ((1024, 768), (4000, 3000)):
            pixels = np.asarray(photo.resize(size, Image.Resampling.LANCZOS))
            outputs[f"{mode} {size[0]}x{size[1]}"] = engine.run(pixels).image
    return outputs


def output_formats(args: argparse.Namespace) -> None:
    """Engine outputs written by save_image in each --format at the default quality: time,
    size and PSNR of the decoded file against the pixels written."""
    from styler.imageio import OUTPUT_FORMATS, load_image, save_image

    outputs = engine_outputs(args.style)
    print(f"{'image':20} {'format':7} {'write s':>8} {'MB':>6} {'PSNR dB':>8}")
    with tempfile.TemporaryDirectory() as folder:
        for name, image in outputs.items():
            for fmt in OUTPUT_FORMATS:
                path = Path(folder) / f"out.{fmt}"
                write = functools.partial(save_image, image, path, settings={"mode": "-"})
                seconds = median_seconds(write, max(1, args.runs // 3))
                back = np.asarray(load_image(path).rgb, np.float64)
                error = np.mean((back - np.asarray(image, np.float64)) ** 2)
                psnr = "lossless" if error == 0 else f"{10 * np.log10(255**2 / error):.1f}"
                size = path.stat().st_size / 1e6
                print(f"{name:20} {fmt:7} {seconds:8.3f} {size:6.2f} {psnr:>8}", flush=True)


def png_bytes(image: Image.Image, level: int, strategy: int) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, "PNG", compress_level=level, compress_type=strategy)
    return buffer.getvalue()


MEASURES = {
    "vgg-layout": vgg_layout,
    "vgg-bf16": vgg_bf16,
    "optimize-bf16": optimize_bf16,
    "network": network,
    "onnx-convert": onnx_convert,
    "onnx-export": onnx_export,
    "strength": strength,
    "optimize-profile": optimize_profile,
    "gram-backward": gram_backward,
    "tile-memory": tile_memory,
    "batch-writes": batch_writes,
    "instant-graphs": instant_graphs,
    "instant-parts": instant_parts,
    "fast-graph-ops": fast_graph_ops,
    "png-compression": png_compression,
    "output-formats": output_formats,
}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("measure", choices=MEASURES)
    parser.add_argument("--runs", type=int, default=9, help="timed runs; the median is printed")
    parser.add_argument("--steps", type=int, default=6, help="strength: optimizer steps")
    parser.add_argument("--tile", type=int, default=768, help="tile-memory: tile size, px")
    parser.add_argument(
        "--style", default="udnie", help="a style (tile-memory, batch-writes, fast-graph-ops, png)"
    )
    parser.add_argument(
        "--pair",
        nargs=2,
        metavar=("PHOTO", "PAINTING"),
        help="optimize-bf16, optimize-profile: image files (default: gallery coffee x swirls)",
    )
    parser.add_argument("--emulated", action="store_true",
                        help="vgg-bf16: time bf16 where the CPU only emulates it")  # fmt: skip
    args = parser.parse_args()
    print(f"torch threads: {use_all_cores()}", flush=True)
    MEASURES[args.measure](args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
