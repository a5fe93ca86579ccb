"""Fast mode on a GPU: frames per second at 3840x2160 in fp16.

Two numbers per network: the network alone (frame already on the GPU, output left
there: what a video pipeline that keeps frames on the device gets), and a whole
stylize_array call (uint8 frame in host memory -> uint8 frame back, in one pass).

    python benchmarks/bench_fast_gpu.py [--style starry_night] [--frames 50]
    python benchmarks/bench_fast_gpu.py --device cpu --width 640 --height 360 --frames 3

Needs a CUDA device (the second line is a CPU smoke test); prints a table.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable

import numpy as np
import torch

from styler.fast.inference import FastStylizer


def frames_per_second(run: Callable[[], object], frames: int, sync: Callable[[], None]) -> float:
    for _ in range(3):  # warm-up: kernel selection, allocator growth
        run()
    sync()
    start = time.perf_counter()
    for _ in range(frames):
        run()
    sync()
    return frames / (time.perf_counter() - start)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--style", default="starry_night")
    parser.add_argument("--device", default="cuda")
    parser.add_argument("--width", type=int, default=3840)
    parser.add_argument("--height", type=int, default=2160)
    parser.add_argument("--frames", type=int, default=50)
    args = parser.parse_args()
    device = torch.device(args.device)
    if device.type == "cuda" and not torch.cuda.is_available():
        print("no CUDA device here; run on a machine with a GPU", file=sys.stderr)
        return 2
    sync = torch.cuda.synchronize if device.type == "cuda" else (lambda: None)
    dtype = torch.float16 if device.type == "cuda" else torch.float32

    stylizer = FastStylizer(args.style, device=str(device), whole_side=max(args.width, args.height))
    network = stylizer.network.to(dtype)
    frame = torch.rand(1, 3, args.height, args.width, device=device, dtype=dtype)
    frame = frame.contiguous(memory_format=torch.channels_last)
    rgb = np.random.default_rng(0).integers(0, 256, (args.height, args.width, 3), dtype=np.uint8)

    with torch.inference_mode():
        network_fps = frames_per_second(lambda: network(frame), args.frames, sync)
    network.float()  # stylize_array feeds float32 frames
    calls = max(3, args.frames // 5)
    whole_fps = frames_per_second(lambda: stylizer.stylize_array(rgb), calls, sync)

    name = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU"
    print(f"{args.style} at {args.width}x{args.height} on {name}")
    print(f"{'what':42} {'frames/s':>9}")
    print(f"{'network alone, ' + str(dtype).removeprefix('torch.'):42} {network_fps:9.1f}")
    print(f"{'stylize_array (uint8 in/out, float32)':42} {whole_fps:9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
