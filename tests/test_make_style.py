"""Making a style of one's own (styler.fast.style_jobs, user_styles, `styler train --name`,
`styler styles`): bad input refused in one line with nothing left under the style's name,
Stop keeps the best network and resume continues from the checkpoint, publishing is
atomic, and the CLI trains, lists, uses and deletes a style in real subprocesses.

Trainings here are tiny (64 px crops, a few steps: STYLER_TRAINING_OVERRIDES)."""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import gradient_photo, stripe_style

from styler.cli import styles_cmd
from styler.errors import OptionsError
from styler.fast import style_jobs, style_run, user_styles
from styler.fast.manifest import find_style, installed_styles, user_styles_dir

TINY = {"crop": 64, "steps": 8, "eval_every": 4, "checkpoint_every": 2, "val_count": 2,
        "preview_s": 0.0, "distance_photos": 1}  # fmt: skip


@pytest.fixture
def folders(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A user styles folder, a painting and 20 small photos; tiny training settings."""
    monkeypatch.setenv("STYLER_USER_STYLES", str(tmp_path / "styles"))
    monkeypatch.setenv(style_jobs.OVERRIDES_ENV, json.dumps(TINY))
    photos = tmp_path / "photos"
    photos.mkdir()
    for i in range(style_jobs.MIN_PHOTOS):
        gradient_photo(64, 48, seed=i).save(photos / f"p{i:02d}.png")
    painting = tmp_path / "painting.png"
    stripe_style(80, 80).save(painting)
    return {"root": tmp_path, "photos": photos, "painting": painting}


def nothing_under(name: str) -> bool:
    folder = user_styles_dir()
    return not (style_jobs.job_dir(name).exists() or list(folder.glob(f"{name}*"))
                or any(e.name == name for e in installed_styles()))  # fmt: skip


# ---------------------------------------------------------------------------- bad input


@pytest.mark.parametrize("name, words", [
    ("a/b", "can only have letters"), ("../x", "can only have letters"),
    ("my style", "can only have letters"), ("", "give the style a name"),
    ("udnie", "shipped style"), ("Base", "shipped style"),
])  # fmt: skip
def test_names_that_cannot_be_used(folders, name: str, words: str) -> None:
    with pytest.raises(OptionsError, match=words):
        style_jobs.prepare(name, folders["painting"], folders["photos"], minutes=1)
    assert not user_styles_dir().exists() or nothing_under(name.strip("./") or "x")


def test_bad_painting_and_photos_leave_nothing(folders) -> None:
    root = folders["root"]
    fake = root / "fake.jpg"
    fake.write_text("not a painting")
    with pytest.raises(style_jobs.JobError, match=r"^that painting cannot be used: .*fake\.jpg"):
        style_jobs.prepare("mine", fake, folders["photos"], minutes=1)
    few = sorted(folders["photos"].iterdir())[:5]
    with pytest.raises(style_jobs.JobError, match="at least 20 different photos that can be "
                       "read, got 5"):  # fmt: skip
        style_jobs.prepare("mine", folders["painting"], few, minutes=1)
    twice = [*few, *sorted(folders["photos"].iterdir())[:15]]  # the first five dropped again
    with pytest.raises(style_jobs.JobError, match=r"got 15 \(5 repeated another photo\)"):
        style_jobs.prepare("mine", folders["painting"], twice, minutes=1)
    broken = [*sorted(folders["photos"].iterdir())[:19], fake]
    with pytest.raises(style_jobs.JobError, match=r"got 19 \(1 could not be read: .*fake\.jpg"):
        style_jobs.prepare("mine", folders["painting"], broken, minutes=1)
    with pytest.raises(style_jobs.JobError, match="not a folder of photos"):
        style_jobs.prepare("mine", folders["painting"], root / "nowhere", minutes=1)
    assert nothing_under("mine")


def test_full_disk_is_one_line_and_leaves_nothing(folders, monkeypatch) -> None:
    class Usage:
        free = 10 * 2**20

    monkeypatch.setattr(user_styles.shutil, "disk_usage", lambda _path: Usage)
    with pytest.raises(user_styles.DiskFullError, match=r"not enough free disk space .*10 MB"):
        style_jobs.prepare("mine", folders["painting"], folders["photos"], minutes=1)
    assert nothing_under("mine")


def test_a_failed_publish_keeps_the_old_style(folders, monkeypatch, tmp_path) -> None:
    from styler.fast.network import StyleNetwork
    from styler.fast.weights import save_network

    net = tmp_path / "net.safetensors"
    save_network(StyleNetwork(), net, {})
    first = user_styles.publish("mine", net, folders["painting"], training={}, distances={})
    save_network(StyleNetwork(), net, {"second": True})

    def full(*_args, **_kwargs):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(user_styles, "write_manifest", lambda *_a: full())
    with pytest.raises(OSError):
        user_styles.publish("mine", net, folders["painting"], training={}, distances={})
    assert find_style("mine") == first and first.path.is_file()


# ------------------------------------------------------------------ stop, resume, publish


def test_stop_keeps_the_best_and_resume_continues(folders, capsys) -> None:
    style_jobs.prepare("mine", folders["painting"], list(folders["photos"].iterdir()),
                       minutes=5)  # fmt: skip
    with pytest.raises(style_jobs.JobError, match="exists already"):
        style_jobs.prepare("mine", folders["painting"], folders["photos"], minutes=5)
    seen = []

    def stop_after_three() -> bool:
        return bool(seen) and seen[-1].step >= 3

    status = style_run.run_job("mine", on_status=seen.append, should_stop=stop_after_three)
    assert status.state == style_jobs.STOPPED and status.step == 3 and status.previews >= 1
    entry = find_style("mine")
    assert entry.user and entry.path.is_file() and entry.training["step"] == 3
    assert entry.training["painting"] == "painting.png" and entry.distances["style"] > 0
    assert (style_jobs.job_dir("mine") / "previews" / "latest.png").is_file()
    listing = argparse.Namespace(delete=None, json=False)
    styles_cmd.run(listing)  # `styler styles` names it, to resume or delete
    assert re.search(r"trainings not finished .*\n  mine  stopped, \d+% of 5 min, step 3  "
                     r"\(resume it\)\n", capsys.readouterr().out)  # fmt: skip

    resumed = style_run.run_job("mine")
    assert resumed.state == style_jobs.DONE and resumed.step == TINY["steps"]
    styles_cmd.run(listing)
    assert "not finished" not in capsys.readouterr().out
    again = find_style("mine")
    assert again.sha256 != entry.sha256 and again.path.is_file() and not entry.path.exists()
    with pytest.raises(style_jobs.JobError, match="is finished"):
        style_run.run_job("mine")

    user_styles.delete("mine")
    with pytest.raises(OptionsError, match="unknown fast style 'mine'"):
        find_style("mine")


def test_a_time_budget_spreads_the_schedule(folders) -> None:
    from styler.fast.train import TrainConfig, Trainer

    config = TrainConfig(styles=[str(folders["painting"])], data=str(folders["photos"]),
                         val=str(folders["photos"]), output=str(folders["root"] / "n.safetensors"),
                         crop=64, val_count=2, steps=100_000, minutes=10, warmup=2)  # fmt: skip
    assert config.max_minutes == 10
    trainer = Trainer(config)
    trainer.state.step, trainer.state.elapsed = 10, 300.0
    assert trainer.done() == pytest.approx(0.5)
    trainer.state.elapsed = 600.0
    assert trainer.done() == 1.0


# --------------------------------------------------------------------- the command line


def styler(*args: str | Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "styler.cli.main", *map(str, args)]
    return subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)


@pytest.mark.slow
def test_cli_trains_lists_uses_and_deletes_a_style(folders) -> None:
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    root = folders["root"]
    run = styler("train", "--style", folders["painting"], "--data", folders["photos"],
                 "--name", "tiny_cli", "--minutes", "5", "-q", env=env)  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "style tiny_cli saved in" in run.stderr and "--fast tiny_cli" in run.stderr

    listing = styler("styles", env=env)
    shipped, _, own = listing.stdout.partition("your styles (")
    assert "udnie" in shipped and "tiny_cli" in own and "tiny_cli" not in shipped

    stylized = styler("stylize", folders["photos"] / "p00.png", "--fast", "tiny_cli", "-o",
                      root / "out", env=env)  # fmt: skip
    assert stylized.returncode == 0, stylized.stderr
    assert (root / "out" / "p00__tiny_cli.png").is_file()

    again = styler("train", "--style", folders["painting"], "--data", folders["photos"],
                   "--name", "tiny_cli", env=env)  # fmt: skip
    assert again.returncode != 0 and "exists already" in again.stderr
    assert len(again.stderr.strip().splitlines()) == 1
    # --resume continues with the job's own settings: new ones were dropped without a word
    changed = styler("train", "--name", "tiny_cli", "--resume", "--minutes", "3",
                     "--style-weight", "2", env=env)  # fmt: skip
    assert changed.returncode != 0 and len(changed.stderr.strip().splitlines()) == 1
    assert "--minutes, --style-weight: tiny_cli resumes with the settings" in changed.stderr

    deleted = styler("styles", "--delete", "tiny_cli", env=env)
    assert deleted.returncode == 0 and "deleted style tiny_cli" in deleted.stderr
    assert "tiny_cli" not in styler("styles", env=env).stdout
    # its training went too: left behind, it kept the name taken ('exists already (done)')
    assert not style_jobs.job_dir("tiny_cli").exists()


@pytest.mark.slow
@pytest.mark.parametrize("args, words", [
    (("--name", "a/b"), "can only have letters"),
    (("--name", ""), "give the style a name"),  # was "--val, -o/--output needed"
    (("--name", "udnie"), "shipped style"),
    (("--name", "ok", "--data", "PHOTOS_FEW"), "at least 20 different photos"),
    (("--name", "ok", "--style", "FAKE"), "that painting cannot be used"),
    (("--name", "ok", "--minutes", "0"), "minutes must be between"),  # it trained 10 minutes
])  # fmt: skip
def test_cli_bad_input_is_one_line(folders, args: tuple[str, ...], words: str) -> None:
    root = folders["root"]
    few = root / "few"
    few.mkdir()
    for photo in sorted(folders["photos"].iterdir())[:3]:
        (few / photo.name).write_bytes(photo.read_bytes())
    (root / "fake.jpg").write_text("text")
    values = {"PHOTOS_FEW": str(few), "FAKE": str(root / "fake.jpg")}
    given = dict(zip(args[::2], (values.get(a, a) for a in args[1::2]), strict=True))
    options = {"--style": str(folders["painting"]), "--data": str(folders["photos"]), **given}
    run = styler("train", *(x for kv in options.items() for x in kv),
                 env={**os.environ, "OMP_NUM_THREADS": "1"})  # fmt: skip
    assert run.returncode != 0
    lines = run.stderr.strip().splitlines()
    assert len(lines) == 1 and words in lines[0], run.stderr
    assert not list(user_styles_dir().rglob("*.safetensors"))
    assert not (user_styles_dir() / style_jobs.JOBS / "ok").exists()


def test_a_training_that_ends_before_its_first_evaluation_says_no_network_was_saved(
        folders) -> None:  # fmt: skip
    """`styler train -o NET` printed "network in NET" of a file never written when its
    budget ended before the first evaluation (found by QA)."""
    output = folders["root"] / "net.safetensors"
    run = styler("train", "--style", folders["painting"], "--data", folders["photos"], "--val",
                 folders["photos"], "-o", output, "--minutes", "0.05", "--eval-every", "100000",
                 "--crop", "48", "--batch", "1", "--val-count", "1", "-q",
                 env={**os.environ, "OMP_NUM_THREADS": "1"})  # fmt: skip
    assert run.returncode == 1 and not output.exists(), run.stderr
    last = run.stderr.strip().splitlines()[-1]
    assert last.startswith("error: no network was saved: its time ran out at step "), last
    assert last.endswith(", before its first evaluation (step 100000); give it more (--minutes) "
                         "and rerun with --resume")  # fmt: skip


# ------------------------------------------------------------- the UI's queue of trainings


def _wait_for(condition, timeout: float = 240.0) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.2)


@pytest.mark.slow
def test_trainings_run_one_at_a_time_and_a_restart_finds_them(folders, monkeypatch) -> None:
    """Two jobs: the second waits (place 1) while the first trains in its worker; a job left
    'running' by a server that died is interrupted at the next start, and resumes."""
    from styler.ui.make_style_runs import queued_text
    from styler.ui.trainings import Trainings

    monkeypatch.setenv(style_jobs.OVERRIDES_ENV, json.dumps({**TINY, "step_delay_s": 0.3}))
    photos = list(folders["photos"].iterdir())
    for name in ("first", "second"):
        style_jobs.prepare(name, folders["painting"], photos, minutes=5)
    published: list[str] = []
    trainings = Trainings(on_published=published.append, threads=1)
    assert trainings.submit("first") == 0
    assert trainings.submit("second") == 1
    assert queued_text(1).startswith("Queued: 1 training ahead of yours (place 2)")
    _wait_for(lambda: trainings.status("first").state == style_jobs.RUNNING)
    assert trainings.place("second") == 1 and trainings.status("second").state == "queued"
    _wait_for(lambda: published == ["first", "second"])
    assert {e.name for e in installed_styles()} >= {"first", "second"}

    # A server killed mid-training leaves its job 'running', with no process holding it.
    style_jobs.prepare("third", folders["painting"], photos, minutes=5)
    folder = style_jobs.job_dir("third")
    style_jobs.write_status(folder, style_jobs.JobStatus("third", state=style_jobs.RUNNING))
    restarted = Trainings(on_published=published.append, threads=1)
    assert restarted.status("third").state == style_jobs.INTERRUPTED
    restarted.submit("third")
    _wait_for(lambda: published[-1:] == ["third"])
    assert restarted.status("third").state == style_jobs.DONE


def test_a_stop_asked_while_the_worker_starts_is_kept_and_a_stale_one_forgotten(
        folders, monkeypatch) -> None:  # fmt: skip
    """Found by QA: Stop pressed while the bar said "Loading the painting and photos…" said
    "Stopping…", but the starting worker removed the stop file and trained on to the end.
    A stop file left by an earlier run (asked as it ended) must not stop the next one."""
    from styler.ui.trainings import Trainings

    monkeypatch.setenv(style_jobs.OVERRIDES_ENV, json.dumps({**TINY, "step_delay_s": 0.3}))
    style_jobs.prepare("early", folders["painting"], list(folders["photos"].iterdir()),
                       minutes=5)  # fmt: skip
    published: list[str] = []
    trainings = Trainings(on_published=published.append, threads=1)
    trainings.submit("early")
    _wait_for(lambda: trainings._running == "early")
    assert trainings.status("early").step == 0  # the worker is still starting
    assert trainings.stop("early") == "stopping"
    _wait_for(lambda: published == ["early"])
    stopped = trainings.status("early")
    assert stopped.state == style_jobs.STOPPED and stopped.step < TINY["steps"]
    assert not (style_jobs.job_dir("early") / style_jobs.STOP_FILE).exists()

    (style_jobs.job_dir("early") / style_jobs.STOP_FILE).touch()  # asked as a run ended
    monkeypatch.setenv(style_jobs.OVERRIDES_ENV, json.dumps(TINY))
    assert style_run.run_job("early").state == style_jobs.DONE


def test_a_killed_training_is_told_as_interrupted_not_running(folders) -> None:
    """After a kill -9, `styler train --name X` again said "exists already (running)" of a
    job no process trains (found by QA)."""
    photos = list(folders["photos"].iterdir())
    folder = style_jobs.prepare("killed", folders["painting"], photos, minutes=5)
    style_jobs.write_status(folder, style_jobs.JobStatus("killed", state=style_jobs.RUNNING))
    with pytest.raises(style_jobs.JobError, match=r"exists already \(interrupted\): resume it"):
        style_jobs.prepare("killed", folders["painting"], photos, minutes=5)


def test_two_requests_for_one_name_make_one_job(folders) -> None:
    """Found by QA: a double-click on Train ran prepare() twice in one server process; both
    staged in `.NAME-<pid>`, the second deleted the first's, and both failed with a server
    path. Now one makes the job and the other says it exists."""
    import threading

    photos = list(folders["photos"].iterdir())
    outcomes: list[object] = []
    start = threading.Barrier(2)

    def request() -> None:
        start.wait()
        try:
            outcomes.append(style_jobs.prepare("twice", folders["painting"], photos, minutes=5))
        except style_jobs.JobError as exc:
            outcomes.append(str(exc))

    threads = [threading.Thread(target=request) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    made = [o for o in outcomes if isinstance(o, Path)]
    refused = [o for o in outcomes if isinstance(o, str)]
    assert made == [style_jobs.job_dir("twice")] and len(refused) == 1, outcomes
    assert refused[0].startswith("a training of 'twice' exists already")
    assert style_jobs.read_status(made[0]).state == style_jobs.QUEUED
    assert [p.name for p in style_jobs.jobs_dir().iterdir()] == ["twice"]  # no staging left
