"""What a clip's journal costs and saves (docs/video.md, "A stopped clip goes on where it
stopped"), on Big Buck Bunny's first frames upscaled to 1280x720, fast mode:

- cost: the clip painted in-process with the output cut into segments (the default: a
  keyframe every 2 s, the journal written) and as one segment (the old way: x264's own
  keyframes, no journal), in turn: wall and CPU seconds, output size;
- saving: the CLI killed (SIGKILL) once about 60 % of the segments are written, then run
  again: the seconds the rerun takes and the frames it took from the journal, beside a
  whole run's.

    python benchmarks/bench_video_resume.py [--frames 300] [--rounds 2]

Needs ../shared/data/video/big_buck_bunny_480p_30s.mp4. Prints the time of day and the
load average: compare only figures of one run. Nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_video  # noqa: E402

import styler.video.clip as clip_module  # noqa: E402
from styler import Recipe  # noqa: E402
from styler.engine import build_engine  # noqa: E402
from styler.video import stylize_video  # noqa: E402
from styler.video.journal import folder_of  # noqa: E402
from styler.video.reader import probe_clip  # noqa: E402


def painted(source: Path, output: Path, recipe: Recipe, segments: bool) -> tuple[float, float]:
    """(wall, CPU) seconds of one in-process run, cut into segments or not."""
    saved = clip_module.SEGMENT_SECONDS
    clip_module.SEGMENT_SECONDS = saved if segments else 1e9  # one segment: the whole clip
    try:
        wall, cpu = time.perf_counter(), time.process_time()
        stylize_video(source, output, recipe, resume=segments)
        return time.perf_counter() - wall, time.process_time() - cpu
    finally:
        clip_module.SEGMENT_SECONDS = saved


def killed_and_rerun(
    source: Path, folder: Path, style: str, frames: int, segment: int
) -> tuple[float, ...]:
    """(seconds to the kill, seconds of the rerun, frames the rerun took, seconds of a whole
    run): the CLI, in a folder of its own, killed once 60 % of the segments (of `segment`
    frames) are written."""
    command = [sys.executable, "-m", "styler.cli.main", "stylize", str(source), "--fast", style,
               "-o", "out", "-q"]  # fmt: skip
    target = folder / "out" / f"{source.stem}__{style}.mp4"
    wanted = folder_of(target) / f"segment-{max(0, int(0.6 * frames / segment) - 1):05d}.npz"
    start = time.perf_counter()
    run = subprocess.Popen(command, cwd=folder, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL)  # fmt: skip
    while not wanted.exists() and run.poll() is None:
        time.sleep(0.01)
    run.send_signal(signal.SIGKILL)
    run.wait()
    to_kill = time.perf_counter() - start
    start = time.perf_counter()
    again = subprocess.run(command, cwd=folder, capture_output=True, text=True, check=True)
    rerun = time.perf_counter() - start
    note = again.stderr.split("went on from frame ")
    taken = int(note[1].split()[0]) - 1 if len(note) > 1 else 0
    target.unlink()
    start = time.perf_counter()
    subprocess.run(command, cwd=folder, capture_output=True, check=True)
    return to_kill, rerun, taken, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=300)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--style", default="udnie")
    args = parser.parse_args()
    if not bench_video.BBB.is_file():
        print(f"needs {bench_video.BBB}, absent here")
        return 1
    work = Path(tempfile.mkdtemp(prefix="bench_resume_"))
    source = bench_video.trimmed(bench_video.BBB, work / "bbb720.mp4", args.frames, (1280, 720))
    recipe = Recipe.create("fast", [args.style])
    info = probe_clip(source, max_pixels=2**40)
    segment = clip_module.segment_frames(info, build_engine(recipe))
    print(f"## Segments and journal: {args.frames} frames at 1280x720, fast '{args.style}', "
          f"{bench_video.stamp()}")  # fmt: skip
    print(f"{'output':28} {'wall s':>8} {'CPU s':>8} {'MB':>8}")
    painted(source, work / "warm-up.mp4", recipe, True)
    for _ in range(args.rounds):
        for segments, label in ((False, "one segment, no journal"), (True, "segments and journal")):
            output = work / f"{segments}.mp4"
            wall, cpu = painted(source, output, recipe, segments)
            print(f"{label:28} {wall:8.1f} {cpu:8.1f} {output.stat().st_size / 1e6:8.2f}")
    to_kill, rerun, taken, whole = killed_and_rerun(source, work, args.style, args.frames,
                                                    segment)  # fmt: skip
    print(f"\n## Killed and run again ({bench_video.stamp()})")
    print(f"killed after {to_kill:.1f} s; the rerun took {taken} frames from the journal and "
          f"painted {args.frames - taken} in {rerun:.1f} s; a whole run {whole:.1f} s")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
