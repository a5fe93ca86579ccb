"""Nothing lost: SIGKILL at random moments, Ctrl-C, a closed stdout, and killed training.

`styler stylize` runs for real in subprocesses. While it runs, the test polls the output
folder and decodes every file it sees under a final name, so a partial file there fails
the test the moment it appears. See docs/reliability.md for the counts.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from PIL import Image

from tests.conftest import gradient_photo, stripe_style

pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(sys.platform == "win32", reason="POSIX signals")]  # fmt: skip

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}  # see tests/test_cli.py
STYLER = [sys.executable, "-m", "styler.cli.main"]
PHOTOS = 12
KILLS = 20


def photo_folder(root: Path, count: int = PHOTOS, size: tuple[int, int] = (64, 48)) -> Path:
    folder = root / "in"
    folder.mkdir(parents=True)
    for seed in range(count):
        gradient_photo(*size, seed=seed).save(folder / f"p{seed:02}.png")
    return folder


class Watcher:
    """Decodes every final-named file in a folder once per version, notes hidden ones."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.decoded: set[tuple[str, int, int, int]] = set()
        self.partial: list[str] = []  # final names that did not decode: must stay empty
        self.temporaries: set[str] = set()

    def poll(self) -> int:
        """Check what is there now; returns how many final-named files there are."""
        try:
            entries = list(os.scandir(self.folder))
        except FileNotFoundError:
            return 0
        finals = 0
        for entry in entries:
            if entry.name.startswith("."):
                self.temporaries.add(entry.name)
                continue
            finals += 1
            try:
                info = entry.stat()
            except FileNotFoundError:
                continue
            version = (entry.name, info.st_ino, info.st_mtime_ns, info.st_size)
            if version in self.decoded:
                continue
            self.decoded.add(version)
            try:
                with Image.open(entry.path) as image:
                    image.load()
            except FileNotFoundError:
                continue  # replaced under us: the next poll sees the new one
            except Exception as exc:
                self.partial.append(f"{entry.name}: {exc}")
        return finals


# Starts `styler stylize` processes fast: it imports styler once, then forks a child per
# request that runs styler.cli.main.main() as the console script does (output to
# /dev/null). On the next line it reads, "kill" or "wait", it sends the child SIGKILL or
# not, reaps it and prints its wait status. Importing torch and onnxruntime takes seconds;
# forking, milliseconds. Nothing has run torch before the fork, so children start clean;
# and as the child is not reaped before the kill, its pid cannot belong to anyone else.
ZYGOTE = """
import json, os, signal, sys
from styler.cli.main import main
for line in sys.stdin:
    pid = os.fork()
    if pid == 0:
        null = os.open(os.devnull, os.O_WRONLY)
        os.dup2(null, 1)
        os.dup2(null, 2)
        try:
            code = main(json.loads(line))
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else 1
        except BaseException:
            code = 99
        os._exit(code)
    print(pid, flush=True)
    if sys.stdin.readline().strip() == "kill":
        os.kill(pid, signal.SIGKILL)
    print(os.waitpid(pid, 0)[1], flush=True)
"""


def test_sigkill_at_random_moments_then_skip_existing_loses_nothing(tmp_path: Path) -> None:
    """20+ SIGKILLs of `styler stylize in --fast udnie --skip-existing` at random moments
    (seeded), each followed by a rerun: every photo ends with exactly one complete output,
    no partial file is ever seen under a final name, no temporary file is left."""
    photo_folder(tmp_path, size=(512, 384))
    out = tmp_path / "out"
    args = ["stylize", "in", "--fast", "udnie", "-o", "out", "-q", "--skip-existing"]
    # An unkilled run on one photo exports the network for onnxruntime (cached); then the
    # batch alone (engine load plus the twelve photos) is timed, so kills land across it.
    warm = subprocess.run([*STYLER, "stylize", "in/p00.png", "--fast", "udnie", "-o", "warm",
                           "-q"], cwd=tmp_path, env=ENV, capture_output=True, text=True,
                          timeout=300)  # fmt: skip
    assert warm.returncode == 0, warm.stderr
    zygote = subprocess.Popen([sys.executable, "-c", ZYGOTE], cwd=tmp_path, env=ENV, text=True,
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE)  # fmt: skip

    def start(argv: list[str]) -> int:
        zygote.stdin.write(json.dumps(argv) + "\n")
        zygote.stdin.flush()
        return int(zygote.stdout.readline())

    def status(kill: bool = False) -> int:
        zygote.stdin.write("kill\n" if kill else "wait\n")
        zygote.stdin.flush()
        return int(zygote.stdout.readline())

    try:
        for timing in ("timing1", "timing2"):  # the second is warm, as the runs below
            began = time.monotonic()  # time a whole run: until its first output, and the rest
            start(["stylize", "in", "--fast", "udnie", "-o", timing, "-q"])
            while not (tmp_path / timing).is_dir() or not os.listdir(tmp_path / timing):
                time.sleep(0.002)
            load = time.monotonic() - began
            assert status() == 0
            limit = time.monotonic() - began
        rng = random.Random(14)
        watcher = Watcher(out)
        kills = mid_batch = in_startup = skipping = cut_writes = runs = 0
        while kills < KILLS and runs < 3 * KILLS:
            runs += 1
            before = watcher.poll()
            if before < PHOTOS:  # work left: around the first few photos of this run
                moment = rng.uniform(0.8 * load, load + 3 * (limit - load) / PHOTOS)
            else:  # all done: anywhere in a run that only skips
                moment = rng.uniform(0.0, limit)
            start(args)
            began = time.monotonic()
            while time.monotonic() - began < moment:
                watcher.poll()
                time.sleep(0.002)
            code = status(kill=True)
            killed = os.WIFSIGNALED(code) and os.WTERMSIG(code) == signal.SIGKILL
            if not killed:  # it finished first: runs got shorter (fewer photos left)
                limit = 0.9 * (time.monotonic() - began)
            kills += killed
            after = watcher.poll()
            mid_batch += killed and before < after < PHOTOS  # some written, not all
            in_startup += killed and before == after < PHOTOS
            skipping += killed and before == PHOTOS
            cut_writes += killed and out.is_dir() and any(n[0] == "." for n in os.listdir(out))
            assert killed or os.WEXITSTATUS(code) == 0
    finally:
        zygote.stdin.close()
        zygote.wait(timeout=60)
    temporaries_left = sorted(name for name in os.listdir(out) if name.startswith("."))
    final = subprocess.run([*STYLER, *args], cwd=tmp_path, env=ENV, capture_output=True,
                           text=True, timeout=300)  # fmt: skip
    watcher.poll()
    print(f"\n{runs} runs, {kills} killed by SIGKILL: {in_startup} before their first "
          f"output, {mid_batch} part-way through the photos ({cut_writes} in the middle of a "
          f"write, leaving a temporary file), {skipping} when all was done; "
          f"{len(watcher.decoded)} output versions decoded while running, "
          f"{len(watcher.temporaries)} temporary files seen, {len(temporaries_left)} left "
          f"before the last run, {len(watcher.partial)} partial files seen")
    assert kills >= KILLS and mid_batch >= 1 and watcher.partial == []
    assert final.returncode == 0, final.stderr
    assert "0 failed" in final.stderr
    names = sorted(os.listdir(out))
    assert names == [f"p{seed:02}__udnie.png" for seed in range(PHOTOS)]  # no temporaries
    for name in names:
        with Image.open(out / name) as image:
            image.load()
            assert image.size == (512, 384)


@pytest.mark.parametrize("mode", [("--fast", "udnie"), ("--style", "style.png", "--instant")],
                         ids=["fast", "instant"])  # fmt: skip
def test_ctrl_c_in_one_pass_modes_stops_cleanly_and_leaves_no_partial_file(
    tmp_path: Path, mode: tuple[str, ...]
) -> None:
    """SIGINT after the first output: exit 130, the summary counts what was written and what
    was not, every file there is complete, and --skip-existing then does the rest."""
    photo_folder(tmp_path)
    stripe_style().save(tmp_path / "style.png")
    command = [*STYLER, "stylize", "in", *mode, "-o", "out"]
    with subprocess.Popen(command, cwd=tmp_path, env=ENV, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True,
                          preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
                          ) as process:  # fmt: skip
        first = process.stdout.readline()
        process.send_signal(signal.SIGINT)
        rest, err = process.communicate(timeout=120)
    printed = [first.strip(), *rest.split()]
    written = sorted(os.listdir(tmp_path / "out"))
    if process.returncode == 0:  # it finished before the signal landed: nothing to test
        pytest.skip("the batch finished before SIGINT arrived")
    assert process.returncode == 130, err
    assert sorted(Path(p).name for p in printed) == written  # no temporaries, none unsaid
    for name in written:
        with Image.open(tmp_path / "out" / name) as image:
            image.load()
    assert f"{len(written)} stylized, 0 skipped (existing), 0 failed" in err
    assert f"interrupted: {PHOTOS - len(written)} not done" in err and "Traceback" not in err
    resumed = subprocess.run([*command, "--skip-existing", "-q"], cwd=tmp_path, env=ENV,
                             capture_output=True, text=True, timeout=120)  # fmt: skip
    assert resumed.returncode == 0
    assert f"{PHOTOS - len(written)} stylized, {len(written)} skipped" in resumed.stderr
    assert len(os.listdir(tmp_path / "out")) == PHOTOS


def test_a_closed_stdout_does_not_fail_written_files(tmp_path: Path) -> None:
    """`styler stylize ... | head -1`: once stdout is closed, printing a written path raised
    BrokenPipeError and every later file was reported as failed although it was written."""
    photo_folder(tmp_path)
    command = [*STYLER, "stylize", "in", "--fast", "udnie", "-o", "out", "-q"]
    with subprocess.Popen(command, cwd=tmp_path, env=ENV, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True) as process:  # fmt: skip
        process.stdout.readline()
        process.stdout.close()  # what head does after its line
        err = process.stderr.read()
        process.wait(timeout=120)
    assert process.returncode == 0, err
    assert f"{PHOTOS} stylized, 0 skipped (existing), 0 failed" in err
    assert "note: stdout was closed" in err
    assert "Broken pipe" not in err and "Exception ignored" not in err and "Traceback" not in err
    assert len(os.listdir(tmp_path / "out")) == PHOTOS


def test_sigkill_during_training_never_leaves_a_half_written_checkpoint(tmp_path: Path) -> None:
    """Training checkpoints every step; killed at random moments twice, the checkpoint
    is each time absent or complete (it loads), and after the last --resume finishes no
    temporary file is left beside it. (tests/test_fast.py checks what a resume loses.)"""
    style = tmp_path / "style.png"
    stripe_style().save(style)
    data, val = tmp_path / "train", tmp_path / "val"
    for folder, count in ((data, 3), (val, 1)):
        folder.mkdir()
        for seed in range(count):
            gradient_photo(64, 64, seed=seed).save(folder / f"{seed}.png")
    out = tmp_path / "net.safetensors"
    command = [*STYLER, "train", "--quiet", "--style", str(style), "--data", str(data),
               "--val", str(val), "-o", str(out), "--steps", "12", "--crop", "32", "--batch",
               "1", "--val-count", "1", "--style-size", "32", "--eval-every", "4",
               "--checkpoint-every", "1"]  # fmt: skip
    checkpoint = out.with_suffix(".ckpt")
    rng = random.Random(7)
    for attempt in range(2):
        resume = ["--resume"] if attempt else []
        process = subprocess.Popen([*command, *resume], env=ENV, stdout=subprocess.DEVNULL,
                                   stderr=subprocess.DEVNULL)  # fmt: skip
        deadline = time.monotonic() + 120
        while not checkpoint.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        time.sleep(rng.uniform(0.0, 0.5))
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=60)
        saved = torch.load(checkpoint, map_location="cpu", weights_only=True)
        assert {"model", "optimizer", "state"} <= set(saved)
    done = subprocess.run([*command, "--resume"], env=ENV, capture_output=True, text=True,
                          timeout=600)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []
