"""Quantize the shipped one-pass networks to int8 and record what it costs in quality.

    python tools/quantize_weights.py                    # every fast style and instant mode
    python tools/quantize_weights.py --only starry_night instant
    python tools/quantize_weights.py --speed-only        # re-time the graphs already made

For each network: export the float ONNX graph, quantize it statically (styler.quantize:
QDQ, per-channel weights, first and last convolutions kept in float) with activation
ranges calibrated on training photos, then stylize validation photos in fp32 and int8 and
record the relative change of the mean style and content distances, and int8's speed-up
over float32 (and over bfloat16 where the CPU has it natively) on a 1024x768 photo (median
of SPEED_RUNS), in weights/int8/manifest.json (styler.int8_models: `auto` uses int8 only
within 3% and faster than the float it would replace). The speed-ups are this machine's:
re-time on the CPU you care about with --speed-only (which times on the gallery's photo and
painting). Quantizing needs the shared data folder (../shared/data): photos never ship,
only the graphs.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageOps

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # this checkout's styler, even where another is installed
    sys.path.insert(0, str(ROOT))

from styler.errors import OptionsError  # noqa: E402
from styler.evaluate import distances  # noqa: E402
from styler.fast.export import export_onnx  # noqa: E402
from styler.fast.inference import FastStylizer, load_network  # noqa: E402
from styler.fast.manifest import find_style, read_manifest, sha256_of  # noqa: E402
from styler.fast.photo_files import image_files  # noqa: E402
from styler.fast.twin import read_twin  # noqa: E402
from styler.instant.export import export_decoder, export_encoder  # noqa: E402
from styler.instant.runtime import (  # noqa: E402
    DECODER_KEY,
    ENCODER_KEY,
    FRAMES_DECODER_KEY,
    STUDENT_KEY,
    graph_digest,
    installed_files,
)
from styler.instant.stylizer import InstantOptions, InstantStylizer  # noqa: E402
from styler.instant.torch_networks import loaded_networks  # noqa: E402
from styler.instant.wct import feature_stats, whitening_colouring  # noqa: E402
from styler.int8_models import (  # noqa: E402
    SPEEDUP_KEYS,
    Int8Graph,
    int8_dir,
    int8_keys,
    record_int8_graph,
    twin_name,
)
from styler.onnx_models import cpu_session, parameters_digest  # noqa: E402
from styler.precision import best_float  # noqa: E402
from styler.quantize import calibration_input, quantize_int8  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
CALIBRATION_PHOTOS = 32  # spread over the training photos
VAL_PHOTOS = 12
SPEED_RUNS = 7
# Timing needs no particular photo or painting: the repository's own, so that --speed-only
# re-times on any machine, the shared data folder or not.
SPEED_PHOTO = ROOT / "gallery" / "photos" / "astronaut.jpg"
SPEED_PAINTING = ROOT / "gallery" / "styles" / "swirls.jpg"
FAST_OPERATORS = ("Conv",)  # see styler.quantize
INSTANT_PAINTINGS = ("starry_night", "the_scream", "udnie", "vg_olive")  # unseen in training


def calibration_photos() -> list[np.ndarray]:
    """(1, 3, 384, 512) float inputs of training photos spread over the folder."""
    files = image_files(DATA / "train")
    chosen = files[:: max(1, len(files) // CALIBRATION_PHOTOS)][:CALIBRATION_PHOTOS]
    return [calibration_input(path) for path in chosen]


def val_files() -> list[Path]:
    files = image_files(DATA / "val")
    return files[:: len(files) // VAL_PHOTOS][:VAL_PHOTOS]


def val_photos() -> list[Image.Image]:
    return [Image.open(p).convert("RGB") for p in val_files()]


Run = Callable[[str, Image.Image, Image.Image], Image.Image]  # (precision, photo, painting)
Pairs = list[tuple[Image.Image, Image.Image]]  # (photo, painting)


def changes(run: Run, pairs: Pairs) -> dict[str, float]:
    """Mean style and content distance over (photo, painting) pairs in fp32 and in int8, and
    int8's relative change of each."""
    means = {}
    for precision in ("fp32", "int8"):
        found = [distances(run(precision, photo, painting), photo, painting)
                 for photo, painting in pairs]  # fmt: skip
        means[precision] = (np.mean([d.style for d in found]), np.mean([d.content for d in found]))
        print(f"  {precision}: style {means[precision][0]:.4f}, content {means[precision][1]:.4f}")
    (s32, c32), (s8, c8) = means["fp32"], means["int8"]
    return {"style_fp32": round(float(s32), 5), "content_fp32": round(float(c32), 5),
            "style_change": round(float(s8 / s32 - 1), 5),
            "content_change": round(float(c8 / c32 - 1), 5)}  # fmt: skip


def timed_precisions() -> list[str]:
    """int8 and the floats it is timed against: float32, and bfloat16 where this CPU computes
    it natively (styler.int8_models.SPEEDUP_KEYS)."""
    return ["int8", "fp32", *(["bf16"] if best_float("cpu") == "bf16" else [])]


def speedups(stylizer: Callable[[str], FastStylizer | InstantStylizer]) -> dict[str, float]:
    """Each timed float's median time over int8's on a 1024x768 photo, alternating them;
    stylizer(precision) makes the stylizer that runs in that precision."""
    photo = np.asarray(ImageOps.fit(Image.open(SPEED_PHOTO).convert("RGB"), (1024, 768)))
    stylizers = {p: stylizer(p) for p in timed_precisions()}
    times: dict[str, list[float]] = {p: [] for p in stylizers}
    floats = [p for p in times if p != "int8"]
    for precision in times:
        stylizers[precision].stylize_array(photo)  # warm-up: sessions, kernels, statistics
    for _ in range(SPEED_RUNS):
        for precision, spent in times.items():
            start = time.perf_counter()
            stylizers[precision].stylize_array(photo)
            spent.append(time.perf_counter() - start)
    int8 = statistics.median(times["int8"])
    found = {SPEEDUP_KEYS[p]: round(statistics.median(times[p]) / int8, 3) for p in floats}
    said = ", ".join(f"{found[SPEEDUP_KEYS[p]]:.2f}x over {p}" for p in floats)
    print(f"  int8 speed-up: {said}")
    return found


def fast_speedups(name: str) -> dict[str, float]:
    return speedups(lambda precision: FastStylizer(name, device="cpu", precision=precision))


def instant_speedups() -> dict[str, float]:
    painting = Image.open(SPEED_PAINTING).convert("RGB")
    return speedups(lambda precision: InstantStylizer(painting, device="cpu", precision=precision))


def retime(key: str, timed: dict[str, float]) -> None:
    entry = json.loads((int8_dir() / "manifest.json").read_text())["graphs"][key]
    quality = {**entry.pop("quality"), **timed}
    record_int8_graph(Int8Graph(key, **entry, quality=quality))


def ship(
    key: str, graph: Path, float_digest: str, twin: str = "", file_sha256: str = ""
) -> Int8Graph:
    target = int8_dir() / f"{key}.int8.onnx"
    target.parent.mkdir(parents=True, exist_ok=True)
    graph.replace(target)
    entry = Int8Graph(key, target.name, sha256_of(target), float_digest, twin=twin,
                      file_sha256=file_sha256)  # fmt: skip
    record_int8_graph(entry)
    return entry


def quantize_fast(name: str, folder: Path) -> None:
    """From the style's trained twin (styler.fast.distill) when one ships, else from the
    network itself."""
    _, network, _ = load_network(name)
    twin = int8_dir() / twin_name(name)
    has_twin = twin.is_file()
    source = read_twin(twin) if has_twin else network
    float_graph = export_onnx(source.eval(), folder / f"{name}.onnx")
    feeds = ({"image": x} for x in calibration_photos())
    quantized = quantize_int8(float_graph, folder / f"{name}.int8.onnx", feeds,
                              operators=FAST_OPERATORS)  # fmt: skip
    graph = ship(name, quantized, parameters_digest(network), twin.name if has_twin else "",
                 find_style(name).sha256)  # fmt: skip
    painting = Image.open(DATA / "styles" / f"{name}.jpg").convert("RGB")
    stylizers = {p: FastStylizer(name, device="cpu", precision=p) for p in ("fp32", "int8")}

    def run(precision: str, photo: Image.Image, _painting: Image.Image) -> Image.Image:
        return stylizers[precision].stylize(photo, size=512)

    quality = changes(run, [(photo, painting) for photo in val_photos()])
    quality.update(fast_speedups(name))
    record_int8_graph(dataclasses.replace(graph, quality=quality))
    print(f"{name}: {quality}")


def transformed_features(encoder: Path, style_encoder: Path) -> Iterator[dict[str, np.ndarray]]:
    """The decoder's real inputs: training photos' features given other photos' and the
    gallery paintings' statistics (no benchmark painting), each from its own encoder."""
    photos = calibration_photos()
    session = cpu_session(encoder, torch.get_num_threads())
    features = [session.run(None, {"image": x})[0] for x in photos[::2]]
    session = cpu_session(style_encoder, torch.get_num_threads())
    styles = [session.run(None, {"image": x})[0] for x in [*photos[1::2], *gallery_styles()]]
    for i, feature in enumerate(features):
        tensor = torch.from_numpy(feature)
        style = torch.from_numpy(styles[(3 * i + 1) % len(styles)])
        transform = whitening_colouring(feature_stats(tensor), feature_stats(style))
        yield {"features": transform(tensor).numpy().astype(np.float32)}


def gallery_styles() -> list[np.ndarray]:
    return [calibration_input(path) for path in sorted((ROOT / "gallery" / "styles").glob("*.jpg"))]


def quantize_instant(folder: Path) -> None:
    """The photo's encoder (the student), the painting's (VGG19), the decoder and, where one
    is installed, the decoder of a video's frames."""
    nets, files = loaded_networks(torch.device("cpu")), installed_files()
    try:
        frames = loaded_networks(torch.device("cpu"), frames=True)
    except OptionsError:  # no decoder of a video's frames is installed
        frames = None
    decoder = nets.decoders["relu4_1"]
    encoders = {"encoder": (nets.encoder, files.encoder_int8_key, files.encoder)}
    if nets.style_encoder is not nets.encoder:  # without a student one encoder serves both
        encoders["style_encoder"] = (nets.style_encoder, ENCODER_KEY, files.style_encoder)
    graphs, exported = [], {}
    for role, (encoder, key, file_key) in encoders.items():
        exported[role] = folder / f"{role}.onnx"
        export_encoder(encoder, exported[role])
        feeds = ({"image": x} for x in calibration_photos())
        quantized = quantize_int8(exported[role], folder / f"{role}.int8.onnx", feeds)
        graphs.append(ship(key, quantized, graph_digest(encoder), file_sha256=file_key))
    decoders = {DECODER_KEY: (decoder, files.decoder)}
    if frames is not None:
        decoders[FRAMES_DECODER_KEY] = (frames.decoders["relu4_1"],
                                        installed_files(frames=True).decoder)  # fmt: skip
    for key, (net, file_key) in decoders.items():
        export_decoder(net, folder / f"{key}.onnx")
        calibration = transformed_features(exported["encoder"],
                                           exported.get("style_encoder", exported["encoder"]))
        quantized = quantize_int8(folder / f"{key}.onnx", folder / f"{key}.int8.onnx",
                                  calibration)  # fmt: skip
        graphs.append(ship(key, quantized, graph_digest(net), file_sha256=file_key))
    paintings = [Image.open(DATA / "styles" / f"{n}.jpg").convert("RGB") for n in INSTANT_PAINTINGS]
    pairs = [(photo, paintings[i % len(paintings)]) for i, photo in enumerate(val_photos())]

    def run(precision: str, photo: Image.Image, painting: Image.Image) -> Image.Image:
        return InstantStylizer(painting, device="cpu", precision=precision).stylize(photo, size=512)

    def run_frame(precision: str, photo: Image.Image, painting: Image.Image) -> Image.Image:
        stylizer = InstantStylizer(painting, device="cpu", precision=precision)
        return stylizer.run(photo, InstantOptions(size=512), grid=(0.0, 0.0)).image

    speed = instant_speedups()  # the frames decoder is the same network: the same speed
    quality = {**changes(run, pairs), **speed}
    for graph in graphs:
        measured = quality
        if graph.key == FRAMES_DECODER_KEY:  # its own quality
            print("  the frames decoder, painting frames:")
            measured = {**changes(run_frame, pairs), **speed}
        record_int8_graph(dataclasses.replace(graph, quality=measured))
    print(f"instant: {quality}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="+", metavar="NAME", help="fast style names, instant")
    parser.add_argument("--speed-only", action="store_true",
                        help="only re-time int8 against the floats")  # fmt: skip
    args = parser.parse_args()
    names = args.only or [*(e.name for e in read_manifest() if not e.base), "instant"]
    if args.speed_only:  # the graphs already made, nothing else
        made = int8_keys()
        names = [n for n in names if n in made or (n == "instant" and ENCODER_KEY in made)]
        for name in names:
            print(f"timing {name}", flush=True)
            if name == "instant":
                timed = instant_speedups()
                for key in (ENCODER_KEY, STUDENT_KEY, DECODER_KEY, FRAMES_DECODER_KEY):
                    if key in made:
                        retime(key, timed)
            else:
                retime(name, fast_speedups(name))
        return
    with tempfile.TemporaryDirectory() as work:
        for name in names:
            print(f"quantizing {name}", flush=True)
            if name == "instant":
                quantize_instant(Path(work))
            else:
                quantize_fast(name, Path(work))


if __name__ == "__main__":
    main()
