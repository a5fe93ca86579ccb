"""Instant mode's networks with zero padding (as trained) and mirrored (as shipped), side by side.

    python benchmarks/probe_instant_borders.py [--side 512] [--margin 32]

Per pair of bench_instant.py, in the precision `auto` picks: style and content distance
over the whole picture and over its interior (`--margin` px off each side, where neither
variant's edge reaches), and the edge-to-inside step (mean grey-level step across the
edges over the same measured further in, as tests/test_instant.py does; lines along the
edge raise it), with the photo's own for reference. Then the student and decoder's pass on
a 512x384 photo in bf16 with each padding, and with F.pad's reflect mode (median of 5; run
on a quiet machine). docs/instant_mode.md, "Border stripes".
"""

from __future__ import annotations

import argparse
import contextlib
import statistics
import time
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from bench_instant import PAIRS, painting, pair_photos  # this folder's benchmark: the same pairs
from PIL import Image

import styler.instant.padding as padding
from styler.evaluate import distances, edge_to_inside
from styler.instant.stylizer import InstantStylizer, networks_on

PADDINGS = {
    "zeros": lambda x: F.pad(x, (1, 1, 1, 1)),
    "mirrored": padding.mirrored,
    "F.pad reflect": lambda x: F.pad(x, (1, 1, 1, 1), mode="reflect"),
}


@contextlib.contextmanager
def padded_with(name: str) -> Iterator[None]:
    """MirrorConv2d pads its input with PADDINGS[name] meanwhile."""
    shipped = padding.mirrored
    padding.mirrored = PADDINGS[name]
    try:
        yield
    finally:
        padding.mirrored = shipped


def pass_seconds() -> float:
    nets = networks_on("cpu", "bf16")
    image = torch.rand(1, 3, 384, 512).contiguous(memory_format=torch.channels_last)

    def run() -> None:
        with torch.inference_mode(), nets.autocast():
            nets.decoders["relu4_1"](nets.encoder(image)["relu4_1"])

    run()
    times = []
    for _ in range(5):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--side", type=int, default=512)
    parser.add_argument("--margin", type=int, default=32)
    args = parser.parse_args()
    photos = pair_photos(args.side)
    if photos is None:
        return 2
    print(f"## {args.side} px: style / content whole, style / content inside {args.margin} px, "
          "edge-to-inside step (the photo's)")  # fmt: skip
    for content, style_name in PAIRS:
        style = Image.open(painting(style_name)).convert("RGB")
        photo = photos[content]
        w, h = photo.size
        box = (args.margin, args.margin, w - args.margin, h - args.margin)
        cells = []
        for name in ("zeros", "mirrored"):
            with padded_with(name):
                out = InstantStylizer(style, device="cpu").stylize(photo)
            whole = distances(out, photo, style)
            inner = distances(out.crop(box), photo.crop(box), style)
            cells.append(f"{name} {whole.style:.4f} / {whole.content:.3f}, {inner.style:.4f} / "
                         f"{inner.content:.3f}, {edge_to_inside(out):.2f}")  # fmt: skip
        print(f"{content} x {style_name}: {' | '.join(cells)} ({edge_to_inside(photo):.2f})",
              flush=True)  # fmt: skip
    print("\n## student + decoder, 512x384, bf16 (median of 5)")
    for name in PADDINGS:
        with padded_with(name):
            print(f"{name:14} {pass_seconds() * 1000:6.1f} ms", flush=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
