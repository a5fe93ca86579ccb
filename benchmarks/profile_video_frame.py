"""Where a 1280x720 Fast-mode video frame's time goes, part by part.

    python benchmarks/profile_video_frame.py [--frames 40] [--style udnie]

Big Buck Bunny's first frames, upscaled to 1280x720, run through FrameStylizer.run_ahead (the
network pass on one thread, the steadying's flow, warp and blend on another, as stylize_video
runs them);
each part is timed by wrapping it, so parts that run at the same time overlap in the table
and its rows do not add up to the wall time. Decoding and encoding (the clip's own x264
settings) are timed on their own. Prints milliseconds per frame. --steadier-only times the
steadier alone on one thread instead (CPU time), for both of its variants.
"""

from __future__ import annotations

import argparse
import collections
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import bench_video  # noqa: E402
from part_timer import time_calls  # noqa: E402

import styler.fast.inference as inference  # noqa: E402
import styler.fast.runtime as runtime  # noqa: E402
import styler.video.steady as steady  # noqa: E402
import styler.video.writer as writer  # noqa: E402
from styler.engine import build_engine  # noqa: E402
from styler.recipe import Recipe  # noqa: E402
from styler.video.frames import FrameStylizer  # noqa: E402

SECONDS: collections.Counter[str] = collections.Counter()


def encode_seconds(image: np.ndarray, count: int, path: Path) -> float:
    """Time to encode `count` copies of image with the writer's x264 settings."""
    with av.open(str(path), "w") as out:
        stream = out.add_stream("libx264", rate=30)
        stream.width, stream.height, stream.pix_fmt = image.shape[1], image.shape[0], "yuv420p"
        stream.options = {"crf": str(writer.CRF), "preset": writer.PRESET}
        start = time.perf_counter()
        for _ in range(count):
            for packet in stream.encode(av.VideoFrame.from_ndarray(image, format="rgb24")):
                out.mux(packet)
        for packet in stream.encode():
            out.mux(packet)
        return time.perf_counter() - start


def steadier_cpu(frames: list[np.ndarray], paintings: list[np.ndarray], textured: bool) -> float:
    """CPU milliseconds a frame of the steadier alone (flow, reliability, warp, blend) on one
    thread: the part of a frame that runs beside the pass, measured without the pass
    competing for the cores, so two commits compare on a busy machine too."""
    import cv2

    threads = cv2.getNumThreads()
    cv2.setNumThreads(1)
    steadier = steady.Steadier(0.6, textured=textured)
    try:
        start = time.process_time()
        for frame, painting in zip(frames, paintings, strict=True):
            gray = steady.small_gray(frame)
            steadier.grid_phase(gray, frame.shape[1])
            steadier.blend(painting, steadier.warp_previous(frame, gray))
        return (time.process_time() - start) / len(frames) * 1000
    finally:
        cv2.setNumThreads(threads)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--frames", type=int, default=40)
    parser.add_argument("--style", default="udnie")
    parser.add_argument("--steadier-only", action="store_true",
                        help="only the steadier's CPU a frame on one thread, fast mode's and "
                        "instant mode's (textured) variants")  # fmt: skip
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="profile_video_"))
    clip = bench_video.trimmed(bench_video.BBB, work / "clip.mp4", args.frames, (1280, 720))
    start = time.perf_counter()
    frames = list(bench_video.read_frames(clip))
    decode = time.perf_counter() - start
    if args.steadier_only:
        engine = build_engine(Recipe.create("fast", [args.style]))
        paintings = [np.asarray(engine.run(frame).image) for frame in frames]
        print(f"## The steadier alone, one thread, {len(frames)} 1280x720 frames of Fast mode "
              f"'{args.style}', {bench_video.stamp()}")  # fmt: skip
        for textured in (False, True):
            label = "textured (instant mode)" if textured else "fast mode"
            print(f"{label:44} {steadier_cpu(frames, paintings, textured):9.1f} CPU ms/frame")
        return 0

    for owner, name, label in (
        (inference.FastStylizer, "run", "engine run (all of the painting)"),
        (inference.FastStylizer, "prepare", "  prepare (checks, sizes)"),
        (inference.FastStylizer, "_stylize_with", "  resize, network, detail put-back"),
        (runtime.OnnxRunner, "run", "    network pass (onnxruntime)"),
        (steady.Steadier, "grid_phase", "camera shift for the painting grid"),
        (steady.Steadier, "warp_previous", "flow, reliability, warp (2nd thread)"),
        (steady.Steadier, "blend_pixels", "blend (2nd thread, beside the next painting)"),
    ):
        time_calls(owner, name, label, SECONDS)
    stream = FrameStylizer(Recipe.create("fast", [args.style]))
    stream.run(frames[0])  # the first frame loads the network and has nothing to steady
    SECONDS.clear()
    start = time.perf_counter()
    pending = None  # as stylize_video runs it: a frame's blend overlaps the next painting
    for frame in frames[1:]:
        result, steadied = stream.run_ahead(frame)
        if pending is not None:
            pending.result()
        pending = steadied
    last = pending.result()
    wall = time.perf_counter() - start
    count = len(frames) - 1
    encode = encode_seconds(last, count, work / "encoded.mp4")

    precision = result.settings.get("engine", {}).get("precision")
    print(f"## One 1280x720 frame, Fast mode '{args.style}' ({precision}), {count} frames, "
          f"{bench_video.stamp()}")  # fmt: skip
    print(f"{'':44} {'ms/frame':>9}")
    print(f"{'FrameStylizer.run_ahead (wall)':44} {wall / count * 1000:9.1f}")
    for label, seconds in SECONDS.items():
        print(f"{label:44} {seconds / count * 1000:9.1f}")
    print(f"{'decode (PyAV)':44} {decode / len(frames) * 1000:9.1f}")
    print(f"{'encode (x264, the writer settings)':44} {encode / count * 1000:9.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
