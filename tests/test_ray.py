"""`styler stylize --engine ray` on a real Ray cluster of two nodes on this machine.

The module starts a head on 127.0.0.1 and joins a second node to it with `ray start
--address`, one CPU each, and stops both (every process they started, by id) at the end.
Ray rewrites 127.0.0.1 to the machine's network address unless told this is a local-only
cluster (RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER=0, set for the head and the drivers); a node
that joins refuses to under that switch, so it joins through Ray's own CLI with that one
rewrite turned off (JOIN). No traffic leaves 127.0.0.1.

Outputs are compared, bit for bit, with the local engine's. Every styler process runs one
torch thread, as in test_cli (Ray gives a CPU actor OMP_NUM_THREADS=1 itself): on a busy
shared machine thread pools that spin-wait for a second core make tiny runs far slower.
"""

from __future__ import annotations

import contextlib
import importlib.util
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from conftest import gradient_photo, stripe_style
from PIL import Image
from video_clips import decoded, moving_pattern, streams, write_clip

from styler import Settings
from styler.cli.main import main
from styler.imageio import load_image

HAS_RAY = importlib.util.find_spec("ray") is not None
needs_ray = pytest.mark.skipif(
    not HAS_RAY, reason="needs Ray: pip install -e '.[test]' (or '.[ray]')"
)
LOCAL_ONLY = {"RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0", "RAY_USAGE_STATS_ENABLED": "0"}
# Ray's token authentication, with a token of this test run's own (not ~/.ray/auth_token).
AUTH = {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": secrets.token_hex(32)}
ENV = {**{k: v for k, v in os.environ.items() if not k.startswith("RAY_")}, **LOCAL_ONLY,
       **AUTH, "OMP_NUM_THREADS": "1"}  # fmt: skip
NODE = ("--num-cpus", "1", "--num-gpus", "0", "--object-store-memory", str(100 * 2**20),
        "--disable-usage-stats", "--block")  # fmt: skip
JOIN = ("import sys, ray._private.services as s; s.resolve_ip_for_localhost = lambda h: h; "
        "from ray.scripts.scripts import main; sys.exit(main())")  # fmt: skip
RUN_TIMEOUT = 240
SUMMARY_MARK = " stylized, "


def styler(*args: str | Path, cwd: Path, timeout: float = RUN_TIMEOUT,
           ) -> subprocess.CompletedProcess[str]:  # fmt: skip
    command = [sys.executable, "-m", "styler.cli.main", *map(str, args)]
    return subprocess.run(command, cwd=cwd, env=ENV, capture_output=True, text=True,
                          timeout=timeout)  # fmt: skip


def styler_started(*args: str | Path, cwd: Path) -> subprocess.Popen[str]:
    command = [sys.executable, "-m", "styler.cli.main", *map(str, args)]
    return subprocess.Popen(command, cwd=cwd, env=ENV, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)  # fmt: skip


def summary_of(stderr: str) -> list[str]:
    """The summary block: from the 'N stylized, ...' line to the end."""
    lines = stderr.splitlines()
    start = max(i for i, line in enumerate(lines) if SUMMARY_MARK in line)
    return [line for line in lines[start:] if line.strip()]


def error_lines(stderr: str) -> set[str]:
    """The 'error: ...' lines, without the bars' control sequences before them."""
    return {line[line.index("error: "):] for line in stderr.splitlines() if "error: " in line}


def files_under(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}  # fmt: skip


def final_files(folder: Path) -> list[Path]:
    """Files under final names (temporary files are hidden: '.name...tmp')."""
    return sorted(p for p in folder.rglob("*") if p.is_file() and not p.name.startswith("."))


# ------------------------------------------------------------------------------ the cluster


def _processes() -> dict[int, tuple[int, str]]:
    """pid -> (parent pid, command line) of every process this user can see."""
    found = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/status") as status:
                ppid = next(int(line.split()[1]) for line in status if line.startswith("PPid:"))
            with open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except (OSError, StopIteration):
            continue
        found[int(entry)] = (ppid, command)
    return found


class Cluster:
    """A head and a joined node, each a `ray start --block` this test started."""

    def __init__(self) -> None:
        # Short: Ray's socket paths live below it and must stay under 107 bytes.
        self.temp = Path(tempfile.mkdtemp(prefix="styler-ray-", dir="/tmp"))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = probe.getsockname()[1]
        self.address = f"127.0.0.1:{self.port}"
        self.starters: list[subprocess.Popen[bytes]] = []

    def start(self) -> None:
        ray_cli = str(Path(sys.executable).with_name("ray"))
        self._start("head", [ray_cli, "start", "--head", "--node-ip-address", "127.0.0.1",
                             "--port", str(self.port), "--include-dashboard=false",
                             "--temp-dir", str(self.temp), *NODE], ENV)  # fmt: skip
        joining = {k: v for k, v in ENV.items() if k != "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER"}
        self._start("node", [sys.executable, "-c", JOIN, "start", "--address", self.address,
                             *NODE], joining)  # fmt: skip
        self._wait_for_cpus(2)

    def _start(self, name: str, command: list[str], env: dict[str, str]) -> None:
        log = self.temp / f"{name}.log"
        with open(log, "wb") as out:
            self.starters.append(subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT,
                                                  env=env, start_new_session=True))  # fmt: skip
        deadline = time.monotonic() + 120
        while "Ray runtime started" not in log.read_text(errors="replace"):
            if self.starters[-1].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ray start ({name}) failed:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)

    def _wait_for_cpus(self, cpus: int) -> None:
        script = (f"import ray, time; ray.init(address={self.address!r}, logging_level='ERROR'); "
                  "[time.sleep(0.2) for _ in range(300) "
                  f" if ray.cluster_resources().get('CPU', 0) < {cpus}]; "
                  "print(ray.cluster_resources().get('CPU', 0), len(ray.nodes()))")  # fmt: skip
        done = subprocess.run([sys.executable, "-c", script], env=ENV, capture_output=True,
                              text=True, timeout=120)  # fmt: skip
        assert done.stdout.split()[-2:] == [f"{float(cpus)}", "2"], done.stdout + done.stderr

    def ours(self) -> set[int]:
        """Every live process the two `ray start`s started, and theirs, down the tree."""
        table = _processes()
        pids = {p.pid for p in self.starters} | {
            pid for pid, (_, command) in table.items() if str(self.temp) in command}
        grew = True
        while grew:
            children = {pid for pid, (ppid, _) in table.items() if ppid in pids} - pids
            pids |= children
            grew = bool(children)
        return pids & set(table)

    def actor_processes(self) -> list[int]:
        table = _processes()
        return sorted(pid for pid in self.ours() if "StylizeActor" in table[pid][1])

    def stop(self) -> None:
        """SIGTERM the `ray start --block`s (they stop their nodes), then SIGKILL whatever of
        theirs is left: only processes of this cluster, by id."""
        pids = self.ours()
        for starter in self.starters:
            if starter.poll() is None:
                starter.terminate()
        deadline = time.monotonic() + 5
        for starter in self.starters:
            with contextlib.suppress(subprocess.TimeoutExpired):
                starter.wait(timeout=max(0.1, deadline - time.monotonic()))
        for pid in pids | self.ours():
            with contextlib.suppress(OSError):
                os.kill(pid, signal.SIGKILL)
        for starter in self.starters:
            starter.wait(timeout=20)
        shutil.rmtree(self.temp, ignore_errors=True)


@pytest.fixture(scope="module")
def cluster() -> Iterator[Cluster]:
    if not HAS_RAY:
        pytest.skip("needs Ray: pip install -e '.[test]' (or '.[ray]')")
    running = Cluster()
    try:
        running.start()
        yield running
    finally:
        running.stop()


@pytest.fixture(scope="module")
def library(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """photos/: good photos (PNG, JPEG, one with transparency, one a folder down), a
    garbage file and an empty one; the local engine's outputs of it in local/."""
    root = tmp_path_factory.mktemp("ray")
    photos = root / "photos"
    (photos / "sub").mkdir(parents=True)
    for seed in range(3):
        gradient_photo(72, 56, seed=seed).save(photos / f"p{seed}.png")
    gradient_photo(72, 56, seed=7).save(photos / "sub" / "j.jpg", quality=92)
    rgba = gradient_photo(64, 48, seed=8).convert("RGBA")
    rgba.putalpha(Image.linear_gradient("L").resize((64, 48)))
    rgba.save(photos / "alpha.png")
    (photos / "garbage.jpg").write_bytes(b"this is not a JPEG " * 20)
    (photos / "empty.png").touch()
    stripe_style(48, 48).save(root / "stripes.png")
    return root


FAST_RUN = ("photos", "--recursive", "--fast", "udnie", "--size", "64")


@pytest.fixture(scope="module")
def local_fast(library: Path) -> subprocess.CompletedProcess[str]:
    return styler("stylize", *FAST_RUN, "-o", "local", cwd=library)


# ---------------------------------------------------------------------------------- tests


@needs_ray
def test_fast_mode_matches_the_local_engine_bit_for_bit(cluster, library, local_fast):
    run = styler("stylize", *FAST_RUN, "-o", "on_ray", "--engine", "ray", "--address",
                 cluster.address, "--actors", "2", cwd=library)  # fmt: skip
    assert local_fast.returncode == run.returncode == 1, run.stderr
    assert summary_of(run.stderr) == summary_of(local_fast.stderr)
    assert summary_of(run.stderr)[0] == "5 stylized, 0 skipped (existing), 2 failed"
    assert error_lines(run.stderr) == error_lines(local_fast.stderr)
    assert sorted(Path(p).relative_to("on_ray") for p in run.stdout.splitlines()) == sorted(
        Path(p).relative_to("local") for p in local_fast.stdout.splitlines())
    local, on_ray = files_under(library / "local"), files_under(library / "on_ray")
    assert list(on_ray) == list(local) and len(local) == 5
    assert on_ray == local  # same pixels, same embedded settings, same encoding
    assert "Traceback" not in run.stderr
    assert "images: 100%" in run.stderr and "2 actors" in run.stderr  # the progress bar


@needs_ray
def test_a_one_photo_batch_starts_one_actor_and_prints_no_warning(cluster, library):
    """The cluster has a CPU for each of two actors, but one photo is one task: a pool of
    two left one actor idle, and Ray Data printed a UserWarning saying so."""
    run = styler("stylize", "photos/p0.png", "--fast", "udnie", "--size", "64", "-o", "one",
                 "--engine", "ray", "--address", cluster.address, cwd=library)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "Warning" not in run.stderr and "1 actor]" in run.stderr, run.stderr
    assert run.stdout.splitlines() == [str(Path("one") / "p0__udnie.png")]


@needs_ray
def test_optimizer_mode_matches_the_local_engine(cluster, library):
    args = ("stylize", "photos/p0.png", "photos/p1.png", "--style", "stripes.png", "--size",
            "48", "--steps", "2")  # fmt: skip
    local = styler(*args, "-o", "opt_local", cwd=library)
    run = styler(*args, "-o", "opt_ray", "--engine", "ray", "--address", cluster.address,
                 cwd=library)  # fmt: skip
    assert local.returncode == run.returncode == 0, run.stderr
    assert summary_of(run.stderr) == summary_of(local.stderr)
    local_files, ray_files = files_under(library / "opt_local"), files_under(library / "opt_ray")
    assert len(ray_files) == 2 and ray_files == local_files


@needs_ray
def test_object_store_urls_through_pyarrow(cluster, library, local_fast):
    """file:// URLs take the object-store path (pyarrow listing, fetch, upload, rename)."""
    source, target = (library / "photos").as_uri(), (library / "url_out").as_uri()
    run = styler("stylize", source, "--recursive", "--fast", "udnie", "--size", "64", "-o",
                 target, "--engine", "ray", "--address", cluster.address, cwd=library)  # fmt: skip
    assert run.returncode == 1, run.stderr
    assert summary_of(run.stderr)[0] == summary_of(local_fast.stderr)[0]
    assert f"  {source}/garbage.jpg: not an image" in "\n".join(summary_of(run.stderr))
    assert sorted(run.stdout.splitlines()) == sorted(
        f"{target}/{name}" for name in files_under(library / "local"))
    assert files_under(library / "url_out") == files_under(library / "local")
    again = styler("stylize", source, "--recursive", "--fast", "udnie", "--size", "64", "-o",
                   target, "--engine", "ray", "--address", cluster.address, "--skip-existing",
                   cwd=library)  # fmt: skip
    assert summary_of(again.stderr)[0] == "0 stylized, 5 skipped (existing), 2 failed"
    assert again.stdout == ""


@needs_ray
def test_python_api_runs_the_same_job(cluster, library, local_fast):
    script = (
        "import json, sys\n"
        "from styler.scale import stylize_on_ray\n"
        "s = stylize_on_ray(['photos'], 'api_out', fast='udnie', size=64, recursive=True,\n"
        f"                   address={cluster.address!r}, actors=2)\n"
        "print(json.dumps([s.stylized, s.skipped, s.failures, sorted(map(str, s.written))]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=library, env=ENV,
                          capture_output=True, text=True, timeout=RUN_TIMEOUT)  # fmt: skip
    assert done.returncode == 0, done.stderr
    stylized, skipped, failures, written = json.loads(done.stdout.splitlines()[-1])
    local_summary = summary_of(local_fast.stderr)
    assert (stylized, skipped) == (5, 0)
    assert [f"  {f}" for f in failures] == local_summary[local_summary.index("failed:") + 1:]
    assert len(written) == 5
    assert files_under(library / "api_out") == files_under(library / "local")


@needs_ray
def test_instant_mode_through_the_python_api_matches_the_local_engine(cluster, library):
    args = ("photos/p0.png", "photos/p1.png", "--style", "stripes.png", "--instant",
            "--strength", "0.8")  # fmt: skip
    local = styler("stylize", *args, "-o", "instant_local", cwd=library)
    script = (
        "import json\n"
        "from styler.scale import stylize_on_ray\n"
        "s = stylize_on_ray(['photos/p0.png', 'photos/p1.png'], 'instant_ray', instant=True,\n"
        f"                   style='stripes.png', strength=0.8, address={cluster.address!r})\n"
        "print(json.dumps([s.stylized, s.failures]))\n"
    )
    done = subprocess.run([sys.executable, "-c", script], cwd=library, env=ENV,
                          capture_output=True, text=True, timeout=RUN_TIMEOUT)  # fmt: skip
    assert local.returncode == done.returncode == 0, local.stderr + done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == [2, []]
    ray_files = files_under(library / "instant_ray")
    assert len(ray_files) == 2 and ray_files == files_under(library / "instant_local")


@needs_ray
def test_a_clip_is_an_item_like_a_photo_and_matches_the_local_engine(cluster, library):
    """A folder with a photo, a clip and an animated GIF: one actor takes a clip whole; its
    frames are the local engine's within x264's own variation (it does not give the same
    bytes twice for the same frames, and an actor has other threads), its sound and settings
    too; the GIF comes back animated, as the local engine writes it. Only a part of each
    (--start): the actors read the part as the local engine does."""
    clips = library / "clips"
    clips.mkdir()
    write_clip(clips / "pan.mp4", moving_pattern(64, 48, 6))
    gradient_photo(72, 56, seed=1).save(clips / "still.png")
    loop = [Image.fromarray(rgb) for rgb in moving_pattern(48, 32, 4)]
    loop[0].save(clips / "loop.gif", save_all=True, append_images=loop[1:], duration=70)
    args = ("clips", "--fast", "udnie", "--size", "64", "--start", "0.1")
    local = styler("stylize", *args, "-o", "clips_local", cwd=library)
    on_ray = styler("stylize", *args, "-o", "clips_ray", "--engine", "ray", "--address",
                    cluster.address, "--actors", "2", cwd=library)  # fmt: skip
    assert local.returncode == on_ray.returncode == 0, local.stderr + on_ray.stderr
    assert sorted(on_ray.stdout.split()) == sorted(
        line.replace("clips_local", "clips_ray") for line in local.stdout.split())
    mine = library / "clips_local" / "pan__udnie.mp4"
    theirs = library / "clips_ray" / "pan__udnie.mp4"
    assert streams(theirs)["frames"] == streams(mine)["frames"] == 5  # on screen from 0.1 s
    for a, b in zip(decoded(mine), decoded(theirs), strict=True):
        assert np.abs(a.astype(int) - b).mean() < 3
    assert streams(theirs)["audio"] == streams(mine)["audio"]
    assert Settings.from_file(theirs).controls == Settings.from_file(mine).controls
    with Image.open(library / "clips_local" / "loop__udnie.gif") as a, \
            Image.open(library / "clips_ray" / "loop__udnie.gif") as b:  # an animation: a clip
        assert a.n_frames == b.n_frames == 3  # frames 1-3 of 70 ms each are on screen from 0.1 s
        for index in range(3):
            a.seek(index)
            b.seek(index)
            ours, ray = np.asarray(a.convert("RGB"), int), np.asarray(b.convert("RGB"))
            assert np.abs(ours - ray).mean() < 1


@pytest.fixture
def many_photos(tmp_path: Path) -> Path:
    """Enough work (40 photos of 640x480) that a run can be cut into mid-way."""
    photos = tmp_path / "many"
    photos.mkdir()
    for seed in range(40):
        gradient_photo(640, 480, seed=seed).save(photos / f"m{seed:02d}.jpg", quality=90)
    return tmp_path


def _wait_for_outputs(folder: Path, count: int, run: subprocess.Popen[str]) -> int:
    deadline = time.monotonic() + RUN_TIMEOUT
    while time.monotonic() < deadline and run.poll() is None:
        done = len(final_files(folder)) if folder.is_dir() else 0
        if done >= count:
            return done
        time.sleep(0.05)
    raise AssertionError(f"the run ended or stalled before {count} outputs: "
                         f"{run.communicate()[1][-2000:]}")  # fmt: skip


MANY = ("stylize", "many", "--fast", "udnie", "-o", "out", "--engine", "ray", "--actors", "2")


@needs_ray
def test_killed_workers_lose_nothing_and_redo_nothing_finished(cluster, many_photos):
    run = styler_started(*MANY, "--address", cluster.address, cwd=many_photos)
    _wait_for_outputs(many_photos / "out", 2, run)
    finished = {p.name: p.stat().st_mtime_ns for p in final_files(many_photos / "out")}
    time.sleep(0.5)  # their actors tell the ledger right after writing them
    deadline = time.monotonic() + 60  # on a cold cluster one actor may start late
    while len(actors := cluster.actor_processes()) < 2 and time.monotonic() < deadline:
        time.sleep(0.05)
    assert len(actors) == 2
    for pid in actors:  # both: whichever wrote those, its task is cut short and retried
        os.kill(pid, signal.SIGKILL)
    assert run.poll() is None and len(final_files(many_photos / "out")) < 40  # mid-run
    stdout, stderr = run.communicate(timeout=RUN_TIMEOUT)
    assert run.returncode == 0, stderr
    assert summary_of(stderr) == ["40 stylized, 0 skipped (existing), 0 failed"]
    printed = stdout.splitlines()
    assert len(printed) == len(set(printed)) == 40  # each photo reported exactly once
    finals = final_files(many_photos / "out")
    assert [p.name for p in finals] == sorted(f"m{i:02d}__udnie.png" for i in range(40))
    for path in finals:  # no partial file under a final name
        assert load_image(path).rgb.size == (640, 480)
    assert {name: (many_photos / "out" / name).stat().st_mtime_ns
            for name in finished} == finished  # fmt: skip  # finished before: not redone


@needs_ray
def test_a_clip_whose_actor_is_killed_goes_on_from_its_journal(cluster, tmp_path):
    """The retried task paints the clip through the same stylize_video, which takes the
    segments the killed actor finished (styler.video.journal) and says so."""
    (tmp_path / "in").mkdir()
    write_clip(tmp_path / "in" / "pan.mp4", moving_pattern(96, 64, 400, shift=1), rate=5)
    run = styler_started("stylize", "in", "--fast", "udnie", "--size", "64", "-o", "out",
                         "--engine", "ray", "--actors", "1", "--address", cluster.address,
                         cwd=tmp_path)  # fmt: skip
    journal = tmp_path / "out" / ".pan__udnie.mp4.styler-journal"
    deadline = time.monotonic() + RUN_TIMEOUT
    while not (journal / "segment-00002.npz").exists():
        assert run.poll() is None and time.monotonic() < deadline, run.communicate()[1][-2000:]
        time.sleep(0.01)
    for pid in cluster.actor_processes():
        os.kill(pid, signal.SIGKILL)
    stdout, stderr = run.communicate(timeout=RUN_TIMEOUT)
    assert run.returncode == 0, stderr
    assert summary_of(stderr)[0] == "1 stylized, 0 skipped (existing), 0 failed"
    assert "pan.mp4: went on from frame " in stderr, stderr
    taken = int(stderr.split("went on from frame ")[1].split()[0]) - 1
    assert taken >= 20 and taken % 10 == 0
    out = tmp_path / "out" / "pan__udnie.mp4"
    assert stdout.split() == ["out/pan__udnie.mp4"] and streams(out)["frames"] == 400
    assert final_files(tmp_path / "out") == [out] and not journal.exists()


@needs_ray
def test_resume_after_the_driver_is_killed_redoes_nothing(cluster, many_photos):
    run = styler_started(*MANY, "--address", cluster.address, cwd=many_photos)
    _wait_for_outputs(many_photos / "out", 4, run)
    run.send_signal(signal.SIGKILL)
    run.communicate(timeout=60)
    deadline = time.monotonic() + 60  # the cluster ends the dead driver's actors
    while cluster.actor_processes() and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not cluster.actor_processes()
    before = {p.name: p.stat().st_mtime_ns for p in final_files(many_photos / "out")}
    assert 4 <= len(before) < 40
    for path in final_files(many_photos / "out"):
        load_image(path)  # whole files only
    again = styler(*MANY, "--address", cluster.address, "--skip-existing", cwd=many_photos)
    assert again.returncode == 0, again.stderr
    assert summary_of(again.stderr) == [
        f"{40 - len(before)} stylized, {len(before)} skipped (existing), 0 failed"]
    redone = {Path(p).name for p in again.stdout.splitlines()}
    assert not redone & set(before)
    assert len(redone) == 40 - len(before)
    assert {p.name: p.stat().st_mtime_ns for p in final_files(many_photos / "out")
            if p.name in before} == before  # fmt: skip


# ------------------------------------------------------------ without a cluster, or Ray


def call_main(*args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    try:
        code = main(list(args))
    except SystemExit as exc:
        code = exc.code
    return code, capsys.readouterr().err


def test_without_ray_the_engine_says_how_to_install_it(tmp_path, monkeypatch, capsys):
    gradient_photo(32, 24).save(tmp_path / "a.png")
    monkeypatch.setitem(sys.modules, "ray", None)  # import ray fails, as where it is absent
    monkeypatch.setenv("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    code, err = call_main("stylize", str(tmp_path / "a.png"), "--fast", "udnie", "-o",
                          str(tmp_path / "out"), "--engine", "ray", capsys=capsys)  # fmt: skip
    assert code == 2
    assert err == "styler: error: --engine ray needs Ray: pip install 'styler[ray]'\n"
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--actors", "2"), "--actors is for --engine ray"),
        (("--address", "auto"), "--address is for --engine ray"),
        (("-o", "s3://bucket/styled"), "s3://bucket/styled: object-store URLs need --engine ray"),
    ],
)
def test_ray_options_need_the_ray_engine(tmp_path, capsys, extra, message):
    gradient_photo(32, 24).save(tmp_path / "a.png")
    code, err = call_main("stylize", str(tmp_path / "a.png"), "--fast", "udnie", *extra,
                          capsys=capsys)  # fmt: skip
    assert (code, err) == (2, f"styler: error: {message}\n")


class _FakeRay:
    def __init__(self, resources: dict[str, float]) -> None:
        self.resources = resources

    def cluster_resources(self) -> dict[str, float]:
        return self.resources


@pytest.mark.parametrize(
    ("resources", "device", "wanted", "jobs", "expected"),
    [
        ({"CPU": 16.0, "GPU": 4.0}, "auto", None, 50, ({"num_gpus": 1.0, "num_cpus": 1.0}, 4)),
        ({"CPU": 16.0, "GPU": 4.0}, "cuda", 2, 50, ({"num_gpus": 1.0, "num_cpus": 1.0}, 2)),
        ({"CPU": 16.0, "GPU": 4.0}, "auto", 12, 50, ({"num_gpus": 1 / 3, "num_cpus": 1.0}, 12)),
        ({"CPU": 16.0, "GPU": 3.0}, "auto", 4, 50, ({"num_gpus": 0.5, "num_cpus": 1.0}, 4)),
        ({"CPU": 16.0, "GPU": 4.0}, "cpu", None, 50, ({"num_cpus": 1.0}, 16)),
        ({"CPU": 2.0}, "auto", None, 50, ({"num_cpus": 1.0}, 2)),
        ({"CPU": 2.0}, "auto", None, 1, ({"num_cpus": 1.0}, 1)),  # no more actors than photos
        ({"CPU": 16.0, "GPU": 4.0}, "auto", 12, 3, ({"num_gpus": 1.0, "num_cpus": 1.0}, 3)),
    ],
)
def test_a_gpu_per_actor_where_the_cluster_has_gpus(resources, device, wanted, jobs, expected):
    """One GPU each by default; more actors than GPUs share them evenly (so that they fit);
    never more actors than photos."""
    from styler.scale.ray_batch import _actor_resources

    assert _actor_resources(_FakeRay(resources), device, wanted, jobs) == expected


def test_a_pool_larger_than_the_cluster_is_refused_not_waited_for():
    from styler.scale.ray_batch import RayUnavailable, _actor_resources

    with pytest.raises(RayUnavailable, match="--actors 3: the cluster has 2 CPUs"):
        _actor_resources(_FakeRay({"CPU": 2.0}), "auto", 3, 50)
    with pytest.raises(RayUnavailable, match="--actors 9: the cluster has 8 CPUs"):
        _actor_resources(_FakeRay({"CPU": 8.0, "GPU": 4.0}), "auto", 9, 50)


def test_bad_options_are_refused_before_ray_starts_and_not_as_ray_failures(tmp_path,
                                                                         monkeypatch):  # fmt: skip
    """actors=0 and an unknown fast style were RayUnavailable (a caller falling back to the
    local engine on it misfired), the style only after Ray and an actor had started; a bad
    quality was every photo's failure (found by QA)."""
    from styler import InvalidOption, OptionsError
    from styler.scale import ray_batch, stylize_on_ray

    def no_ray() -> None:
        raise AssertionError("Ray was started")

    monkeypatch.setattr(ray_batch, "import_ray", no_ray)
    gradient_photo(32, 24).save(tmp_path / "a.png")
    for bad, words in (({"actors": 0}, "actors must be a whole number, at least 1"),
                       ({"quality": 0}, "quality must be a whole number from 1 to 100")):
        with pytest.raises(InvalidOption, match=words):
            stylize_on_ray([tmp_path / "a.png"], tmp_path / "out", fast="udnie", **bad)
    with pytest.raises(OptionsError, match="unknown fast style 'nonexistent_style'") as refused:
        stylize_on_ray([tmp_path / "a.png"], tmp_path / "out", fast="nonexistent_style")
    assert not isinstance(refused.value, ray_batch.RayUnavailable)


def test_an_address_with_nothing_listening_is_one_line_not_a_wait_for_ever(tmp_path):
    """ray.init waits on such an address without a word (a run sat silent for 400 s)."""
    from styler.scale.ray_batch import RayUnavailable, _check_reachable

    with socket.socket() as closed:  # a port that was free a moment ago: nothing listens
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
    for address in (f"127.0.0.1:{port}", f"ray://127.0.0.1:{port}"):
        with pytest.raises(RayUnavailable, match=f"cannot join Ray at {address}: nothing "
                                                 "answers there"):  # fmt: skip
            _check_reachable(address)
    _check_reachable("auto")  # Ray finds its own: nothing to check
