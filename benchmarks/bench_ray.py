"""The Ray engine against the local engine, side by side in one run: photos per second.

One fast-mode batch (the shipped udnie network, PHOTOS photos of 512x384, written as PNG
with the settings embedded, as `styler stylize` writes them) through:

- the local engine (styler.batch's Batch, in this process, the network loaded beforehand),
  with one torch thread and with one per core;
- the Ray engine (styler.scale.ray_batch.run_planned, as `--engine ray` runs it) on a Ray
  started here on 127.0.0.1 with 4 logical CPUs, with 1, 2 and 4 CPU actors.

For each: the steady rate (photos/s once work flows, what a long batch converges to), the
wall time (the Ray ones include starting the actors and loading the network in each), and
for Ray the time a photo spends in its actor (read, stylize, write) and Ray's overhead per
photo: how much longer each photo holds an actor than that work (dispatch, the result row
back, scheduling, the actor idle between tasks). Both come from the times each actor
reports its photos done: an actor's steady rate is its photos over the time from its first
to its last; the pool's rate is the sum over actors, the overhead the mean of theirs.
A last Ray run over the finished outputs with --skip-existing (each photo's output only
checked) shows the rate the engine's own overhead allows, and one-row tasks through no-op
actors Ray Data's cost per task (why fast mode sends several photos per task).
On a 2-core machine 2 and 4 actors share 2 cores: the point is that overhead, not
speed-up. docs/ray.md turns these figures into the scaling to expect with N GPUs.

    pip install -e '.[ray]'
    python benchmarks/bench_ray.py [--photos 96]
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from PIL import Image

# A Ray of this benchmark's own: 127.0.0.1 only (read when Ray is first imported), token
# authentication with a token of its own (not written to ~/.ray), no usage reporting.
os.environ["RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"] = "0"
os.environ["RAY_AUTH_MODE"] = "token"
os.environ["RAY_AUTH_TOKEN"] = secrets.token_hex(32)
os.environ["RAY_USAGE_STATS_ENABLED"] = "0"

from styler.batch import Batch, Summary  # noqa: E402
from styler.engine import build_engine  # noqa: E402
from styler.imageio import load_image, save_image  # noqa: E402
from styler.recipe import Recipe  # noqa: E402
from styler.scale.ray_batch import (  # noqa: E402
    Done,
    RayOptions,
    _core_logs_quiet,
    import_ray,
    run_planned,
)
from styler.scale.storage import plan_any  # noqa: E402

LOGICAL_CPUS = 4
ACTOR_COUNTS = (1, 2, 4)


def make_photos(folder: Path, count: int) -> None:
    folder.mkdir(parents=True)
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:384, 0:512].astype(np.float32)
    for i in range(count):
        base = np.stack([x / 512, y / 384, 0.5 + 0.5 * np.sin(x / (5 + i % 7))], axis=-1) * 220
        rgb = (base + rng.normal(0, 6, base.shape)).clip(0, 255).astype(np.uint8)
        Image.fromarray(rgb).save(folder / f"photo{i:03d}.jpg", quality=92)


def planned(photos: Path, out: Path) -> tuple[Recipe, list]:
    """What `styler stylize PHOTOS --fast udnie -o OUT` runs: its recipe and its jobs."""
    recipe = Recipe.create("fast", ["udnie"])
    return recipe, plan_any([str(photos)], recipe.names, out, "png").jobs


def run_local(photos: Path, out: Path, threads: int) -> dict:
    os.environ["STYLER_THREADS"] = str(threads)
    try:
        recipe, jobs = planned(photos, out)
        engine = build_engine(recipe)  # the network loads here, outside the timing
        engine.run(jobs[0].source)  # and warms up
    finally:
        del os.environ["STYLER_THREADS"]
    start = time.perf_counter()
    summary = Batch(engine).run(jobs, Summary())
    wall = time.perf_counter() - start
    assert summary.stylized == len(jobs) and not summary.failures, summary.failures
    return {"engine": f"local, {threads} thread{'s' * (threads > 1)}", "wall": wall,
            "rate": len(jobs) / wall, "in_actor": wall / len(jobs), "overhead": None}  # fmt: skip


def io_seconds(photos: Path, out: Path) -> float:
    """Median time to decode one photo and encode one result as the engine does (PNG with
    settings, written atomically), on one thread: the part of a photo's time that stays on
    the CPU of a GPU actor."""
    recipe, jobs = planned(photos, out)
    result = build_engine(recipe).run(jobs[0].source)
    times = []
    for item in jobs[:12]:
        start = time.perf_counter()
        load_image(item.source)
        save_image(result.image, item.output, settings=result.settings, alpha=result.alpha)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def run_ray(photos: Path, out: Path, actors: int, skip_existing: bool = False) -> dict:
    recipe, jobs = planned(photos, out)
    done: list[Done] = []
    start = time.perf_counter()
    summary = run_planned(recipe, jobs, Summary(),
                          options=RayOptions(actors=actors, skip_existing=skip_existing,
                                             quiet=True),
                          on_done=done.append)  # fmt: skip
    wall = time.perf_counter() - start
    done_count = summary.skipped if skip_existing else summary.stylized
    assert done_count == len(jobs) and not summary.failures, summary.failures
    # Per actor, from the times its photos were done (its own clock): its steady rate, and
    # its time per photo beyond the work itself; the pool's rate is the sum over actors.
    rates, overheads = [], []
    for node in {row.node for row in done}:
        mine = sorted((row for row in done if row.node == node), key=lambda r: r.finished)
        if len(mine) > 1:
            rates.append((len(mine) - 1) / (mine[-1].finished - mine[0].finished))
            overheads.append(1 / rates[-1] - statistics.median(r.seconds for r in mine[1:]))
    rate, overhead = sum(rates), statistics.mean(overheads)
    in_actor = statistics.median(row.seconds for row in done)  # the first includes warm-up
    used = len({row.node for row in done})
    what = ", every output there (--skip-existing)" if skip_existing else ""
    return {"engine": f"ray, {actors} CPU actor{'s' * (actors > 1)} ({used} used){what}",
            "wall": wall, "rate": rate, "in_actor": in_actor, "overhead": overhead}  # fmt: skip


class _Echo:
    """A Ray Data UDF that does nothing: what remains is Ray Data's cost per task."""

    def __call__(self, batch: dict) -> dict:
        return batch


def tasks_per_second(ray, tasks: int = 300) -> float:
    """Ray Data alone: one-row tasks through 2 no-op actors, per second once flowing."""
    ray.data.DataContext.get_current().enable_progress_bars = False
    items = ray.data.from_items([{"i": i} for i in range(tasks)], override_num_blocks=tasks)
    mapped = items.map_batches(_Echo, batch_size=1, num_cpus=1,
                               compute=ray.data.ActorPoolStrategy(size=2))  # fmt: skip
    first = None
    for _ in mapped.iter_rows():
        first = first or time.perf_counter()
    return (tasks - 1) / (time.perf_counter() - first)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photos", type=int, default=96, help="photos in the batch")
    count = parser.parse_args().photos
    os.environ.pop("STYLER_THREADS", None)  # actors inherit STYLER_*: leave them Ray's 1
    with tempfile.TemporaryDirectory(prefix="bench-ray-") as temp:
        root = Path(temp)
        make_photos(root / "photos", count)
        rows = [run_local(root / "photos", root / "local1", 1),
                run_local(root / "photos", root / f"local{os.cpu_count()}", os.cpu_count() or 1)]
        os.environ["STYLER_THREADS"] = "1"
        io = io_seconds(root / "photos", root / "io")
        del os.environ["STYLER_THREADS"]
        ray = import_ray()
        with _core_logs_quiet(True):
            ray.init(num_cpus=LOGICAL_CPUS, num_gpus=0, include_dashboard=False,
                     object_store_memory=200 * 2**20, logging_level="ERROR",
                     log_to_driver=False)  # fmt: skip
        try:
            for actors in ACTOR_COUNTS:
                rows.append(run_ray(root / "photos", root / f"ray{actors}", actors))
            # Ray's own ceiling: each photo only checked (its output decodes), nothing made
            rows.append(run_ray(root / "photos", root / "ray4", 4, skip_existing=True))
            bare = tasks_per_second(ray)
        finally:
            ray.shutdown()
        reference = sorted((root / "local1").iterdir())
        for actors in ACTOR_COUNTS:  # the Ray engine wrote the very same files
            assert [p.read_bytes() for p in sorted((root / f"ray{actors}").iterdir())] == [
                p.read_bytes() for p in reference]
    print(f"\n{count} photos 512x384, fast mode (udnie), PNG out; {os.cpu_count()} cores, "
          f"Ray with {LOGICAL_CPUS} logical CPUs on 127.0.0.1\n")
    print("| engine | photos/s (steady) | wall s (incl. start) | ms/photo in actor | "
          "Ray overhead ms/photo |")
    print("|---|---:|---:|---:|---:|")
    for row in rows:
        overhead = "-" if row["overhead"] is None else f"{row['overhead'] * 1000:.1f}"
        print(f"| {row['engine']} | {row['rate']:.2f} | {row['wall']:.1f} | "
              f"{row['in_actor'] * 1000:.1f} | {overhead} |")
    print(f"\nlocal rows: ms/photo is the local engine's whole time per photo. Decoding a photo "
          f"and encoding its result (PNG, settings, atomic write), one thread: {io * 1000:.1f} "
          "ms of it. Every output of the Ray runs is byte-identical to the local engine's.")
    print(f"Ray Data alone (one-row tasks, no-op actors): {bare:.0f} tasks/s, {1000 / bare:.1f} "
          "ms of the driver's time per task; fast mode sends several photos per task.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
