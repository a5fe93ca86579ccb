"""The API's batch entry point, styler.batch.stylize_files: the CLI's guarantees in Python.

No file stops the batch (each failure is one line in the summary), outputs are written
atomically, skip_existing resumes, a cancel stops between files, and the temporary files a
killed run left behind are removed. Fast mode runs a tiny network; optimizer mode VGG19 at
32 px for one step.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from styler import Engine, InvalidOption, Recipe, build_engine, load_image, read_settings
from styler.batch import (
    Batch,
    BatchEvents,
    InputNotFound,
    Job,
    Summary,
    failure_reason,
    printable,
    stylize_files,
)
from styler.imageio import remove_stale_temporaries
from styler.progress import CancelToken
from tests.conftest import gradient_photo, stripe_style
from tests.ui_helpers import make_tiny_styles


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Engine:
    """A fast-mode engine built once from a recipe (the batches below reuse its network)."""
    net = make_tiny_styles(tmp_path_factory.mktemp("weights")) / "warm_test.safetensors"
    return build_engine(Recipe.create("fast", [net], device="cpu"))


@pytest.fixture
def photos(tmp_path: Path) -> Path:
    folder = tmp_path / "in"
    (folder / "sub").mkdir(parents=True)
    gradient_photo(40, 30, seed=1).save(folder / "a.png")
    gradient_photo(1, 1, seed=2).save(folder / "tiny.png")
    (folder / "broken.jpg").write_bytes(b"not a jpeg")
    gradient_photo(20, 10, seed=3).save(folder / "sub" / "deep.png")
    return folder


def test_fast_mode_over_a_folder_reports_each_bad_file_and_does_the_rest(tmp_path, photos,
                                                                         engine):  # fmt: skip
    half = Recipe.create("fast", engine.recipe.styles, strength=0.5, device="cpu")
    summary = stylize_files(photos, tmp_path / "out", half, recursive=True)
    assert summary.stylized == 3 and not summary.ok
    assert summary.failures == [f"{photos / 'broken.jpg'}: not an image styler can read "
                                "(unknown or damaged image data)"]  # fmt: skip
    assert sorted(p.relative_to(tmp_path / "out").as_posix() for p in summary.written) == [
        "a__warm_test.png", "sub/deep__warm_test.png", "tiny__warm_test.png"]  # fmt: skip
    assert load_image(tmp_path / "out" / "tiny__warm_test.png").rgb.size == (1, 1)
    assert read_settings(summary.written[0])["controls"]["strength"] == 0.5
    again = stylize_files(photos, tmp_path / "out", engine, recursive=True, skip_existing=True)
    assert (again.stylized, again.skipped, len(again.failures)) == (0, 3, 1)


def test_a_raw_and_jpeg_pair_without_rawpy_paints_the_jpeg(tmp_path, engine,
                                                          monkeypatch) -> None:  # fmt: skip
    """A camera's RAW+JPEG pair claims one output twice; the RAW, first by name, claimed it
    and then failed (no rawpy), so the JPEG was refused too and nothing was painted (found
    by QA)."""
    from styler import photo_formats

    monkeypatch.setattr(photo_formats, "_rawpy", lambda: None)
    folder = tmp_path / "card"
    folder.mkdir()
    gradient_photo(40, 30, seed=1).save(folder / "IMG_0002.JPG")
    (folder / "IMG_0002.CR2").write_bytes(b"II*\x00 a raw file rawpy would develop")
    summary = stylize_files(folder, tmp_path / "out", engine.recipe)
    assert [p.name for p in summary.written] == ["IMG_0002__warm_test.png"]
    assert summary.failures == [f"{folder / 'IMG_0002.CR2'}: a camera RAW file; to read RAW "
                                "files: pip install 'styler[raw]'"]  # fmt: skip


def test_optimizer_mode_with_an_array_style_names_it_style1(tmp_path, photos) -> None:
    style = np.asarray(stripe_style(32, 32))
    recipe = Recipe.create("optimize", [style], size=32, steps=1, device="cpu")
    summary = stylize_files([photos / "a.png", photos / "tiny.png"], tmp_path / "out", recipe,
                            format="jpeg")  # fmt: skip
    assert summary.ok and [p.name for p in summary.written] == ["a__style1.jpg",
                                                                "tiny__style1.jpg"]  # fmt: skip


def test_bad_calls_are_refused_before_any_work(tmp_path, photos, engine) -> None:
    with pytest.raises(InputNotFound, match="nowhere.png: no such file or folder"):
        stylize_files([photos / "a.png", tmp_path / "nowhere.png"], tmp_path / "out", engine)
    with pytest.raises(TypeError, match="a Recipe or an engine built from one"):
        stylize_files(photos, tmp_path / "out", object())
    with pytest.raises(ValueError, match="unsupported output format"):
        stylize_files(photos, tmp_path / "out", engine, format="gif")
    # a bad quality was every file's failure, as many lines as the library had photos
    with pytest.raises(InvalidOption, match="quality must be a whole number from 1 to 100"):
        stylize_files(photos, tmp_path / "out", engine, format="jpg", quality=0)
    assert not (tmp_path / "out").exists()


class Recorder(BatchEvents):
    def __init__(self, cancel_after: CancelToken | None = None) -> None:
        self.seen: list[str] = []
        self.cancel = cancel_after

    def written(self, job: Job) -> None:
        self.seen.append(f"written {job.source.name}")
        if self.cancel is not None:
            self.cancel.cancel()

    def failed(self, job: Job, failure: str, exc: BaseException) -> None:
        self.seen.append(f"failed {job.source.name}")


def test_events_and_cancel_between_files(tmp_path, photos, engine) -> None:
    """A cancel from a face's event stops the batch: the file under way when it came (its
    write runs beside the next file's painting) ends as it would have, the rest are not
    started."""
    cancel = CancelToken()
    events = Recorder(cancel_after=cancel)
    summary = stylize_files(photos, tmp_path / "out", engine, cancel=cancel, events=events)
    assert events.seen == ["written a.png", "failed broken.jpg"]  # sorted: a, broken, tiny
    assert summary.interrupted and summary.not_done == 1 and summary.stylized == 1


class CancellingEngine:
    """Paints every file, except that the cancel comes while `stop_at` is painted."""

    recipe = Recipe.create("fast", "udnie")

    def __init__(self, stop_at: str) -> None:
        self.stop_at = stop_at

    def run(self, source: Path, *, progress=None, cancel=None):
        completed = source.name != self.stop_at
        if not completed:
            cancel.cancel()

        class Result:
            settings, alpha = {}, None
            image = Image.new("RGB", (3, 2), (9, 9, 9))

        Result.completed = completed
        return Result()


def test_a_stop_while_a_file_paints_still_writes_the_one_before(tmp_path: Path) -> None:
    """The earlier file's write, in flight while the next is painted, is finished and
    counted; the cancelled file leaves nothing; the rest are not done."""
    jobs = [Job(tmp_path / n, tmp_path / "out" / n) for n in ("a.png", "b.png", "c.png")]
    cancel = CancelToken()
    events = Recorder()
    summary = Batch(CancellingEngine("b.png"), cancel=cancel, events=events).run(jobs)
    assert events.seen == ["written a.png"]
    assert summary.interrupted and summary.stylized == 1 and summary.not_done == 2
    assert os.listdir(tmp_path / "out") == ["a.png"]
    assert load_image(tmp_path / "out" / "a.png").rgb.size == (3, 2)


class RaisingEngine:
    """An engine whose run raises the given exception for some file names."""

    recipe = Recipe.create("fast", "udnie")  # the controls its outputs are written with

    def __init__(self, failures: dict[str, BaseException]) -> None:
        self.failures = failures

    def run(self, source: Path, *, progress=None, cancel=None):
        if source.name in self.failures:
            raise self.failures[source.name]

        class Result:
            completed, settings, alpha = True, {}, None
            image = Image.new("RGB", (3, 2), (9, 9, 9))

        return Result()


def test_any_exception_is_one_line_and_ctrl_c_keeps_the_count(tmp_path: Path) -> None:
    failures = {"bug.png": RuntimeError("x\ny"), "oom.png": MemoryError(),
                "os.png": FileNotFoundError(2, "No such file or directory", "/gone/x.png"),
                "stop.png": KeyboardInterrupt()}  # fmt: skip
    names = ["a.png", "bug.png", "oom.png", "os.png", "b.png", "stop.png", "c.png"]
    jobs = [Job(tmp_path / name, tmp_path / "out" / name) for name in names]
    summary = Summary()
    with pytest.raises(KeyboardInterrupt):
        Batch(RaisingEngine(failures)).run(jobs, summary)
    assert summary.failures == [
        f"{tmp_path / 'bug.png'}: internal error (RuntimeError): x y",
        f"{tmp_path / 'oom.png'}: out of memory",
        f"{tmp_path / 'os.png'}: /gone/x.png: No such file or directory",
    ]
    assert summary.stylized == 2 and summary.not_done == 2  # stop.png and c.png
    assert sorted(os.listdir(tmp_path / "out")) == ["a.png", "b.png"]


def test_failure_reasons_are_one_line_and_bounded() -> None:
    assert failure_reason(ValueError("a\n\nb")) == "internal error (ValueError): a b"
    assert len(failure_reason(RuntimeError("x" * 5000))) < 350
    assert printable("in/\x1b[31mred\n.png") == "in/\\x1b[31mred\\n.png"
    assert printable(os.fsdecode(b"caf\xe9.png")) == "caf\\xe9.png"


def test_a_run_removes_what_killed_runs_left_but_not_live_writes(tmp_path, photos, engine):
    out = tmp_path / "out"
    out.mkdir()
    import socket
    import subprocess
    import sys

    from styler import imageio

    host = imageio._HOST_TAG
    dead = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()  # fmt: skip
    stale = out / f".a__warm_test.png.styler-{host}-{dead}-abcd1234.tmp"
    live = out / f".a__warm_test.png.styler-{host}-{os.getpid()}-abcd1234.tmp"
    other_host = out / f".a__warm_test.png.styler-zzzzzz-{dead}-abcd1234.tmp"
    user_file = out / ".notes.tmp"
    for path in (stale, live, other_host, user_file):
        path.write_bytes(b"partial")
    assert socket.gethostname()  # the host tag is a hash of it
    summary = stylize_files(photos / "a.png", out, engine)
    assert summary.ok
    assert sorted(os.listdir(out)) == sorted(["a__warm_test.png", live.name, other_host.name,
                                              user_file.name])  # fmt: skip
    assert remove_stale_temporaries(out) == 0  # the live one is this process's: kept
