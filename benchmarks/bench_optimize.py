"""Optimizer mode against pastiche, side by side in one run, as ratios.

Both tools run as separate processes on the same content/style pairs at a
512 px long side; wall time covers the whole process (model loading
included). Quality is scored with `styler evaluate`'s distances. Optionally
reports the peak memory (RSS) of a 1024 px styler run on the CPU.

    python benchmarks/bench_optimize.py                    # 3 pairs, pastiche 300 steps
    python benchmarks/bench_optimize.py --pairs 1 --memory
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from PIL import Image

from styler.evaluate import distances

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
PAIRS = [
    ("content/tubingen.jpg", "styles/starry_night.jpg"),
    ("content/golden_gate.jpg", "styles/the_scream.jpg"),
    ("content/taj_mahal.jpg", "styles/wave_crop.jpg"),
]

# Prints its own peak RSS (Linux reports KiB) so each run's memory is measured alone.
STYLER_RUN = """
import resource, sys
from styler import Stylizer
Stylizer(device="cpu").stylize(sys.argv[1], sys.argv[2], size=int(sys.argv[4]), output=sys.argv[3])
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""


def timed(command: list[str]) -> tuple[float, str]:
    """Wall time of a child process, and what it printed."""
    start = time.perf_counter()
    done = subprocess.run(command, check=True, stdout=subprocess.PIPE, text=True)
    return time.perf_counter() - start, done.stdout


def run_pastiche(content: Path, style: Path, out: Path, steps: int) -> float:
    command = [sys.executable, "-m", "pastiche", "--content", str(content), "--styles", str(style),
               "--output", str(out), "--num-steps", str(steps), "--size", "512",
               "--device", "cpu", "--no-verbose"]  # fmt: skip
    return timed(command)[0]


def run_styler(content: Path, style: Path, out: Path, size: int = 512) -> tuple[float, int]:
    command = [sys.executable, "-c", STYLER_RUN, str(content), str(style), str(out), str(size)]
    seconds, printed = timed(command)
    return seconds, int(printed.split()[-1])


def score(out: Path, content: Path, style: Path) -> tuple[float, float]:
    d = distances(Image.open(out), Image.open(content), Image.open(style))
    return d.style, d.content


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pairs", type=int, default=len(PAIRS), help="how many pairs to run")
    parser.add_argument("--pastiche-steps", type=int, default=300)
    parser.add_argument("--memory", action="store_true", help="also measure a 1024 px run's RSS")
    parser.add_argument("--keep", type=Path, help="folder to keep the result images in")
    args = parser.parse_args()
    if not DATA.is_dir():
        print(f"needs the shared data folder at {DATA}", file=sys.stderr)
        return 2
    folder = args.keep or Path(tempfile.mkdtemp(prefix="bench_optimize_"))
    folder.mkdir(parents=True, exist_ok=True)
    header = f"{'pair':36} {'tool':22} {'time s':>7} {'style':>7} {'content':>8} {'time ratio':>10}"
    print(header)
    print("-" * len(header))
    for content_rel, style_rel in PAIRS[: args.pairs]:
        content, style = DATA / content_rel, DATA / style_rel
        pair = f"{content.stem} x {style.stem}"
        p_out, s_out = folder / f"{pair}_pastiche.png", folder / f"{pair}_styler.png"
        p_time = run_pastiche(content, style, p_out, args.pastiche_steps)
        s_time, _ = run_styler(content, style, s_out)
        rows = [
            (f"pastiche {args.pastiche_steps} steps", p_time, score(p_out, content, style)),
            ("styler default", s_time, score(s_out, content, style)),
        ]
        for tool, seconds, (style_d, content_d) in rows:
            ratio = seconds / p_time
            print(
                f"{pair:36} {tool:22} {seconds:7.1f} {style_d:7.4f} {content_d:8.3f} {ratio:10.3f}",
                flush=True,
            )
    if args.memory:
        content, style = DATA / PAIRS[0][0], DATA / PAIRS[0][1]
        seconds, peak = run_styler(content, style, folder / "memory_1024.png", size=1024)
        print(f"\nstyler 1024 px on CPU: {seconds:.1f} s, peak RSS {peak} MiB")
    print(f"\nimages in {folder}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
