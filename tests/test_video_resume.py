"""A clip whose run stopped goes on from its last finished segment (styler.video.journal):
stopped in the API, and killed outright in the CLI."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from styler import Recipe, load_image
from styler.video import stylize_video
from styler.video.clip import segment_frames
from styler.video.reader import probe_clip
from tests.conftest import GALLERY
from tests.video_clips import counted_pixels, decoded, moving_pattern, streams, write_clip

ENV = {**os.environ, "OMP_NUM_THREADS": "1"}
JOURNAL = ".pan.mp4.styler-journal"


@pytest.fixture(scope="module")
def clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """25 frames at 5 fps: segments of 10 frames (2 s), so two finish and five are left."""
    folder = tmp_path_factory.mktemp("clips")
    return write_clip(folder / "pan.mp4", moving_pattern(96, 64, 25, shift=3), rate=5)


class Killed(Exception):
    """What a run stopped by its progress callback raises (as a crash would)."""


def stopped_at(step: int):
    def progress(p) -> None:
        if p.step == step:
            raise Killed

    return progress


def test_a_stopped_clip_goes_on_from_its_last_finished_segment(
    tmp_path, clip, tiny_net, monkeypatch
) -> None:
    recipe = Recipe.create("fast", [tiny_net], temporal=0.6)
    assert segment_frames(probe_clip(clip, max_pixels=10**6), recipe_engine(recipe)) == 10
    whole = stylize_video(clip, tmp_path / "whole" / "pan.mp4", recipe)
    target = tmp_path / "out" / "pan.mp4"
    with pytest.raises(Killed):
        stylize_video(clip, target, recipe, progress=stopped_at(17))
    # nothing under the final name; the first segment (frames 1-10) kept in the journal
    assert os.listdir(target.parent) == [JOURNAL]
    kept = ["journal.json", "segment-00000.npz", "state.npz"]
    assert sorted(os.listdir(target.parent / JOURNAL)) == kept

    events, made = [], counted_pixels(monkeypatch)
    again = stylize_video(clip, target, recipe, progress=events.append)
    assert again.completed and again.resumed == 10 and again.frames == 25
    assert len(made) == 15  # the frames taken from the journal are decoded, never converted
    assert os.listdir(target.parent) == ["pan.mp4"]  # the journal goes with the clip complete
    # the earlier run's frames reported at once, as theirs; this run's counted from there
    assert (events[0].step, events[0].resumed, events[0].image) == (10, 10, None)
    assert [e.step for e in events[1:]] == list(range(11, 26)) and events[-1].resumed == 10
    # as one run would have made it: the steadied frames after the stop too, and the sound
    assert streams(again.output) == streams(whole.output)
    for made, one_run in zip(decoded(again.output), decoded(whole.output), strict=True):
        assert np.abs(made.astype(int) - one_run).max() <= 2
    assert target.read_bytes() == whole.output.read_bytes()


def test_a_journal_is_only_taken_for_the_same_clip_and_recipe(tmp_path, clip, tiny_net) -> None:
    target = tmp_path / "pan.mp4"
    with pytest.raises(Killed):
        stylize_video(clip, target, Recipe.create("fast", [tiny_net]), progress=stopped_at(12))
    assert (tmp_path / JOURNAL).is_dir()
    other = stylize_video(clip, target, Recipe.create("fast", [tiny_net], strength=0.5))
    assert other.completed and other.resumed == 0 and os.listdir(tmp_path) == ["pan.mp4"]
    target.unlink()
    with pytest.raises(Killed):
        stylize_video(clip, target, Recipe.create("fast", [tiny_net]), progress=stopped_at(12))
    fresh = stylize_video(clip, target, Recipe.create("fast", [tiny_net]), resume=False)
    assert fresh.resumed == 0 and os.listdir(tmp_path) == ["pan.mp4"]


def test_a_run_killed_between_a_segment_and_its_state_goes_on_from_the_one_before(
    tmp_path, clip, tiny_net
) -> None:
    recipe = Recipe.create("fast", [tiny_net])
    target = tmp_path / "pan.mp4"
    with pytest.raises(Killed):
        stylize_video(clip, target, recipe, progress=stopped_at(12))
    state = tmp_path / JOURNAL / "state.npz"
    after_first = state.read_bytes()
    with pytest.raises(Killed):
        stylize_video(clip, target, recipe, progress=stopped_at(22))
    state.write_bytes(after_first)  # segment 2's file written, the state after it not
    went_on = stylize_video(clip, target, recipe)
    assert went_on.resumed == 10
    whole = stylize_video(clip, tmp_path / "whole.mp4", recipe)
    assert target.read_bytes() == whole.output.read_bytes()
    with pytest.raises(Killed):
        stylize_video(clip, target, recipe, progress=stopped_at(12))
    state.write_bytes(b"PK damaged")
    assert stylize_video(clip, target, recipe).resumed == 0
    assert target.read_bytes() == whole.output.read_bytes()


def recipe_engine(recipe: Recipe):
    from styler.engine import build_engine

    return build_engine(recipe)


def _niced_with_ctrl_c() -> None:
    os.nice(10)
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def stopped_cli_run(
    folder: Path, net: Path, how: signal.Signals
) -> tuple[list[str], subprocess.Popen[str], str]:
    """(the command, its process, its stderr): `styler stylize` of a 300-frame clip (60 s
    at 5 fps: segments of 10 frames) sent `how` once its third segment is written. The run
    is niced (on two busy cores it painted a whole small clip before this process woke to
    signal it), and Ctrl-C is given back to it: a test process may ignore SIGINT (some
    earlier test's library set it so), a child inherits that, and the CLI rightly leaves
    an ignored Ctrl-C alone."""
    long_clip = write_clip(folder / "pan.mp4", moving_pattern(128, 96, 300, shift=1), rate=5)
    command = [sys.executable, "-m", "styler.cli.main", "stylize", str(long_clip), "--fast",
               str(net), "-o", "out"]  # fmt: skip
    journal = folder / "out" / ".pan__warm_test.mp4.styler-journal"
    run = subprocess.Popen(command, cwd=folder, env=ENV, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, text=True,
                           preexec_fn=_niced_with_ctrl_c)  # fmt: skip
    try:
        deadline = time.monotonic() + 120
        while not (journal / "segment-00002.npz").exists() and run.poll() is None:
            assert time.monotonic() < deadline, "no segment finished in two minutes"
            time.sleep(0.005)
        run.send_signal(how)
    finally:
        _, stderr = run.communicate(timeout=60)
    return command, run, stderr


@pytest.mark.slow
def test_a_killed_cli_run_goes_on_where_it_stopped(tmp_path, tiny_net) -> None:
    """SIGKILL, no chance to tidy up: the rerun takes the finished segments, says so, and
    the clip is whole."""
    command, run, _ = stopped_cli_run(tmp_path, tiny_net, signal.SIGKILL)
    assert run.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert not (tmp_path / "out" / "pan__warm_test.mp4").exists()

    again = subprocess.run(command, cwd=tmp_path, env=ENV, capture_output=True, text=True,
                           timeout=300)  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert "pan.mp4: went on from frame " in again.stderr
    taken = int(again.stderr.split("went on from frame ")[1].split()[0]) - 1
    assert taken % 10 == 0 and taken >= 20
    out = tmp_path / again.stdout.strip()
    assert streams(out)["frames"] == 300 and sorted(os.listdir(out.parent)) == [out.name]


def test_a_journal_is_of_the_files_and_networks_as_they_are(monkeypatch, tmp_path) -> None:
    """A source edited in place, or a fast style made again under the same name (the UI's
    Make a style), is another clip or style: its journal is not taken."""
    from dataclasses import replace

    import styler.fast.manifest as manifest
    from styler.video.journal import journal_key

    source = write_clip(tmp_path / "pan.mp4", moving_pattern(32, 24, 3), rate=5)
    recipe = Recipe.create("fast", ["udnie"])
    first = journal_key(source, recipe, None, 10)
    assert journal_key(source, recipe, None, 10) == first
    shipped = manifest.find_style("udnie")
    monkeypatch.setattr(manifest, "find_style", lambda name: replace(shipped, sha256="0" * 64))
    assert journal_key(source, recipe, None, 10) != first
    monkeypatch.undo()
    os.utime(source, ns=(1, 1))
    assert journal_key(source, recipe, None, 10) != first
    # a style the web UI loaded had no fingerprint: its clips kept no journal (found by QA)
    loaded = [Recipe.create("instant", [load_image(GALLERY / "styles" / name)])
              for name in ("swirls.jpg", "swirls.jpg", "waves.jpg")]  # fmt: skip
    keys = [journal_key(source, recipe, None, 10) for recipe in loaded]
    assert keys[0] == keys[1] != keys[2]


def test_an_output_with_a_name_at_the_limit_keeps_a_journal(tmp_path, clip, tiny_net) -> None:
    """The journal's folder name is longer than the output's; near the file system's limit
    (255 bytes) it is shortened, and still goes with its output alone."""
    recipe = Recipe.create("fast", [tiny_net])
    long_names = [tmp_path / ("é" * 60 + "x" * (246 - 120 + i) + ".mp4") for i in range(2)]
    assert all(len(os.fsencode(p.name)) in (250, 251) for p in long_names)
    for target in long_names:
        with pytest.raises(Killed):
            stylize_video(clip, target, recipe, progress=stopped_at(12))
    journals = sorted(p for p in tmp_path.iterdir() if p.name.endswith(".styler-journal"))
    assert len(journals) == 2 and all(len(os.fsencode(p.name)) <= 255 for p in journals)
    assert stylize_video(clip, long_names[0], recipe).resumed == 10
    assert stylize_video(clip, long_names[1], recipe).resumed == 10
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in long_names)


@pytest.mark.slow
def test_ctrl_c_on_a_clip_says_what_is_kept_and_the_rerun_goes_on(tmp_path, tiny_net) -> None:
    command, run, stderr = stopped_cli_run(tmp_path, tiny_net, signal.SIGINT)
    assert run.returncode == 130, stderr
    journal = tmp_path / "out" / ".pan__warm_test.mp4.styler-journal"
    kept = int(stderr.split("stopped; its first ")[1].split()[0])
    assert kept >= 30 and kept % 10 == 0
    assert f"kept in out/{journal.name} (" in stderr and "delete that folder" in stderr
    assert "a clip under way goes on from its last finished segment" in stderr
    again = subprocess.run(command, cwd=tmp_path, env=ENV, capture_output=True, text=True,
                           timeout=300)  # fmt: skip
    assert again.returncode == 0 and f"went on from frame {kept + 1} of 300" in again.stderr
