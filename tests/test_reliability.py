"""Reliability: tiny and extreme shapes in fast mode, and no file can kill a batch.

Fast mode runs the networks at every shape on both backends (PyTorch and onnxruntime);
the CLI runs for real in subprocesses over a folder of good photos and bad files; the
batch's handling of bugs (an internal error) is checked in-process with a render that
raises. See docs/reliability.md.
"""

from __future__ import annotations

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image

from styler import errors
from styler.batch import Job
from styler.cli import common
from styler.cli.batch import TerminalBatch, TerminalSummary
from styler.errors import ImageSizeError, StylerError
from styler.fast.inference import FastStylizer
from styler.fast.network import StyleNetwork, padding
from styler.fast.sizes import MIN_SIDE, MULTIPLE
from styler.imageio import load_image
from styler.recipe import Recipe
from tests.conftest import gradient_photo
from tests.ui_helpers import TINY

# Tiny, 1-pixel-wide and very long shapes; sides up to 8 once broke the onnxruntime graph
# ("Pad reflect requires axis length >= 2"), and 1x20000 runs as a row of tiles.
SHAPES = [(1, 1), (2, 2), (1, 7), (7, 1), (3, 5), (8, 8), (9, 17), (1, 20000), (20000, 1)]
ENV = {**os.environ, "OMP_NUM_THREADS": "1"}  # see tests/test_cli.py


@pytest.fixture(scope="module")
def stylizers(tiny_net: Path) -> dict[str, FastStylizer]:
    pytest.importorskip("onnxruntime")
    # backend "onnx" insists on onnxruntime: no silent fallback to PyTorch
    return {backend: FastStylizer(tiny_net, device="cpu", backend=backend)
            for backend in ("torch", "onnx")}  # fmt: skip


def photo_array(height: int, width: int, seed: int = 0) -> np.ndarray:
    """A gradient with noise, any shape (1x1 included)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    rgb = np.stack([x * 200 / max(width, 2), y * 200 / max(height, 2), (x + y) % 50 * 4], -1)
    return (rgb + rng.normal(0, 8, rgb.shape)).clip(0, 255).astype(np.uint8)


# ----------------------------------------------------------------- fast mode, every shape


def test_padding_reaches_the_minimum_and_the_multiple() -> None:
    for side in range(1, 200):
        target = side + padding(side)
        assert target == max(MIN_SIDE, -(-side // MULTIPLE) * MULTIPLE)


@pytest.mark.parametrize("backend", ["torch", "onnx"])
@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
def test_fast_mode_takes_tiny_and_extreme_shapes(stylizers, backend, shape) -> None:
    rgb = photo_array(*shape)
    out = stylizers[backend].stylize_array(rgb)
    assert out.shape == rgb.shape and out.dtype == np.uint8


@pytest.mark.parametrize("shape", [(1, 1), (2, 2), (1, 7), (7, 1), (3, 5), (8, 8), (9, 17)],
                         ids=lambda s: f"{s[0]}x{s[1]}")  # fmt: skip
def test_backends_agree_on_tiny_shapes(stylizers, shape) -> None:
    rgb = photo_array(*shape, seed=3)
    torch_out = stylizers["torch"].stylize_array(rgb).astype(int)
    onnx_out = stylizers["onnx"].stylize_array(rgb).astype(int)
    assert np.abs(torch_out - onnx_out).max() <= 1


@pytest.mark.parametrize("backend", ["torch", "onnx"])
def test_tiny_photos_are_padded_by_replication_and_cropped_back(stylizers, backend) -> None:
    """A 1x1 photo gives what a plain 16x16 patch of its colour gives; a 1-pixel row what
    that row repeated 16 times gives: the network pads by replication, then crops."""
    stylizer = stylizers[backend]
    colour = np.array([200, 120, 40], np.uint8)
    dot = stylizer.stylize_array(np.broadcast_to(colour, (1, 1, 3)).copy())
    patch = stylizer.stylize_array(np.broadcast_to(colour, (16, 16, 3)).copy())
    assert np.abs(dot[0, 0].astype(int) - patch[5, 7]).max() <= 1
    row = photo_array(1, 40, seed=1)
    assert np.abs(stylizer.stylize_array(row)[0].astype(int)
                  - stylizer.stylize_array(np.repeat(row, 16, axis=0))[0]).max() <= 1  # fmt: skip


def test_same_size_batches_of_tiny_photos(stylizers) -> None:
    photos = [photo_array(1, 1, seed=s) for s in range(3)] + [photo_array(2, 5)]
    for stylizer in stylizers.values():
        outs = stylizer.stylize_arrays(photos)
        assert [o.shape for o in outs] == [p.shape for p in photos]


def test_both_exporters_give_graphs_that_take_tiny_sizes(tiny_net: Path, tmp_path: Path) -> None:
    """The padding is a graph operation for each exporter, not the example's size frozen."""
    ort = pytest.importorskip("onnxruntime")
    pytest.importorskip("onnxscript")
    from styler.fast import export
    from styler.fast.weights import read_network

    net = read_network(tiny_net)[0].eval()
    model = export._Clamped(net)
    paths = {"torchscript": tmp_path / "ts.onnx", "dynamo": tmp_path / "dynamo.onnx"}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        export._export_torchscript(model, paths["torchscript"])
        export._export_dynamo(model, paths["dynamo"])
    for name, path in paths.items():
        session = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        for h, w in [(1, 1), (2, 3), (8, 1), (5, 8), (16, 9)]:
            x = torch.from_numpy(photo_array(h, w)).permute(2, 0, 1)[None].float() / 255
            with torch.no_grad():
                expected = model(x).numpy()
            got = session.run(None, {"image": x.numpy()})[0]
            assert got.shape == (1, 3, h, w), name
            assert np.abs(got - expected).max() < 1e-3, (name, h, w)


def test_an_empty_image_is_refused_in_one_line(stylizers) -> None:
    net = StyleNetwork(TINY).eval()
    with pytest.raises(ImageSizeError, match=r"empty image \(5x0 px\)"), torch.no_grad():
        net(torch.zeros(1, 3, 0, 5))
    for stylizer in stylizers.values():
        with pytest.raises(ImageSizeError, match=r"empty image \(0x3 px\)"):
            stylizer.stylize_array(np.zeros((3, 0, 3), np.uint8))


# ------------------------------------------------------------- the CLI: no file kills a batch


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Good photos, extreme shapes that must work, and files that must fail one by one."""
    root = tmp_path_factory.mktemp("reliability")
    photos = root / "in"
    photos.mkdir()
    gradient_photo(64, 48, seed=1).save(photos / "good1.png")
    gradient_photo(40, 30, seed=2).save(photos / "good2.jpg")
    for name, (h, w) in {"one": (1, 1), "two": (2, 2), "wide": (1, 20000)}.items():
        Image.fromarray(photo_array(h, w)).save(photos / f"{name}.png")
    (photos / "text.jpg").write_text("this is a text file, not a JPEG\n")
    (photos / "zero.png").touch()
    return root


GOOD = {"good1": (64, 48), "good2": (40, 30), "one": (1, 1), "two": (2, 2), "wide": (20000, 1)}
BAD = ("text.jpg", "zero.png")


def styler(*args: str | Path, cwd: Path, env: dict | None = None) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "styler.cli.main", *map(str, args)]
    return subprocess.run(command, cwd=cwd, env=env or ENV, capture_output=True, text=True,
                          timeout=300)  # fmt: skip


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


@pytest.mark.slow
def test_cli_batch_reports_bad_files_and_finishes_the_rest(folder: Path) -> None:
    """The issue's case: the real udnie network, auto backend (onnxruntime on the CPU)."""
    run = styler("stylize", "in", "--fast", "udnie", "-o", "out", "-q", cwd=folder)
    assert run.returncode == 1, run.stderr
    for stem, size in GOOD.items():
        assert load_image(folder / "out" / f"{stem}__udnie.png").rgb.size == size
    assert sorted(p.name for p in (folder / "out").iterdir()) == sorted(
        f"{stem}__udnie.png" for stem in GOOD
    )
    errors = error_lines(run.stderr)
    assert len(errors) == len(BAD), run.stderr
    for name, line in zip(sorted(BAD), sorted(errors), strict=True):
        assert line.startswith(f"error: {Path('in') / name}: "), line
    assert f"{len(GOOD)} stylized, 0 skipped (existing), {len(BAD)} failed" in run.stderr
    assert "Traceback" not in run.stderr

    again = styler("stylize", "in", "--fast", "udnie", "-o", "out", "-q", "--skip-existing",
                   cwd=folder)  # fmt: skip
    assert again.returncode == 1
    assert f"0 stylized, {len(GOOD)} skipped (existing), {len(BAD)} failed" in again.stderr


@pytest.mark.slow
@pytest.mark.parametrize("how", ["flag", "env"])
def test_cli_debug_shows_the_traceback_of_a_failing_file(folder: Path, tiny_net, how) -> None:
    args = ["stylize", "in/text.jpg", "in/good1.png", "--fast", tiny_net, "-o", "dbg", "-q"]
    env = {**ENV, "STYLER_DEBUG": "1"} if how == "env" else ENV
    run = styler(*(["--debug", *args] if how == "flag" else args), cwd=folder, env=env)
    assert run.returncode == 1, run.stderr
    assert (folder / "dbg" / "good1__warm_test.png").is_file()
    assert "Traceback (most recent call last)" in run.stderr
    assert "ImageLoadError" in run.stderr
    assert len(error_lines(run.stderr)) == 1


@pytest.mark.slow
def test_an_output_name_stdout_cannot_encode_is_still_a_success(tmp_path: Path, tiny_net) -> None:
    """A file name that is not valid UTF-8, under a strict stdout encoding: the output is
    written and its path printed with the odd byte escaped, not reported as a failure."""
    folder = tmp_path / "in"
    folder.mkdir()
    Image.fromarray(photo_array(20, 30)).save(os.fsencode(folder) + b"/caf\xe9.png")
    env = {**ENV, "PYTHONIOENCODING": "utf-8:strict"}
    run = styler("stylize", "in", "--fast", tiny_net, "-o", "out", "-q", cwd=tmp_path, env=env)
    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines() == [str(Path("out") / "caf\\xe9__warm_test.png")]
    assert (tmp_path / "out").exists() and os.listdir(os.fsencode(tmp_path / "out")) == [
        b"caf\xe9__warm_test.png"
    ]


def test_cli_debug_flag_is_documented_and_off_by_default(capsys) -> None:
    from styler.cli.main import build_parser, main

    assert "--debug" in build_parser().format_help()
    assert main(["--debug", "stylize", "nowhere.png", "--fast", "udnie"]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and err.rstrip().endswith("nowhere.png: no such file or folder")
    assert not common.debug_enabled()  # main() puts it back
    assert main(["stylize", "nowhere.png", "--fast", "udnie"]) == 2
    assert "Traceback" not in capsys.readouterr().err
    # after the command too, where "rerun with --debug" sends people (it was refused there)
    assert main(["stylize", "nowhere.png", "--fast", "udnie", "--debug"]) == 2
    assert "Traceback" in capsys.readouterr().err
    assert not common.debug_enabled()


# ------------------------------------------------------------------- the batch, in-process


class FakeResult:
    completed = True
    settings: dict = {}
    alpha = None

    def __init__(self) -> None:
        self.image = Image.new("RGB", (4, 3), (10, 20, 30))


class FailingEngine:
    """An engine whose run raises the given exception for some file names."""

    recipe = Recipe.create("fast", "udnie")  # the controls its outputs are written with

    def __init__(self, failures: dict[str, BaseException]) -> None:
        self.failures = failures

    def run(self, source: Path, *, progress=None, cancel=None) -> FakeResult:
        if source.name in self.failures:
            raise self.failures[source.name]
        return FakeResult()


def run_batch(
    tmp_path: Path, failures: dict[str, BaseException]
) -> tuple[TerminalSummary, list[Path]]:
    names = ["a.png", *failures, "z.png"]
    jobs = [Job(tmp_path / name, tmp_path / "out" / f"{name}.png") for name in names]
    batch = TerminalBatch(FailingEngine(failures), quiet=True)
    return batch.run(jobs, TerminalSummary()), [job.output for job in jobs]


BUGS: dict[str, BaseException] = {
    "bug.png": TypeError("unsupported operand type(s) for +: 'int' and 'NoneType'"),
    "oom.png": MemoryError(),
    "size.png": ImageSizeError("cannot stylize an empty image (0x3 px)"),
    "os.png": PermissionError(13, "Permission denied", "/somewhere/os.png"),
    "runtime.png": RuntimeError("Non-zero status code\nreturned while running Pad node"),
}


def test_any_exception_in_one_file_is_one_line_and_the_batch_goes_on(tmp_path, capsys) -> None:
    summary, outputs = run_batch(tmp_path, BUGS)
    assert outputs[0].is_file() and outputs[-1].is_file()  # before and after the failures
    assert summary.stylized == 2 and len(summary.failures) == len(BUGS)
    assert summary.exit_code() == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = error_lines(err)
    assert len(lines) == len(BUGS) and all("\n" not in f for f in summary.failures)
    by_name = {Path(line.split(": ")[1]).name: line for line in lines}
    assert by_name["bug.png"].endswith(
        "internal error (TypeError): unsupported operand type(s) for +: 'int' and 'NoneType'"
        "; rerun with --debug for the traceback"
    )
    assert by_name["oom.png"].endswith("oom.png: out of memory")
    assert by_name["size.png"].endswith("size.png: cannot stylize an empty image (0x3 px)")
    assert by_name["os.png"].endswith("os.png: /somewhere/os.png: Permission denied")
    assert "internal error (RuntimeError): Non-zero status code returned" in by_name["runtime.png"]


@pytest.mark.parametrize("how", ["flag", "env"])
def test_debug_prints_the_traceback_of_an_internal_error(tmp_path, capsys, monkeypatch, how):
    if how == "flag":
        monkeypatch.setattr(errors, "_debug_flag", True)
    else:
        monkeypatch.setenv("STYLER_DEBUG", "1")
    summary, _ = run_batch(tmp_path, {"bug.png": TypeError("boom")})
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "TypeError: boom" in err
    assert "in run" in err  # the frame that raised
    assert summary.failures == [f"{tmp_path / 'bug.png'}: internal error (TypeError): boom"]


@pytest.mark.parametrize("value", ["", "0", "no", "off", "false"])
def test_styler_debug_off_values(monkeypatch, value) -> None:
    monkeypatch.setenv("STYLER_DEBUG", value)
    assert not common.debug_enabled()


def test_ctrl_c_and_exit_still_stop_the_batch(tmp_path) -> None:
    summary, outputs = run_batch(tmp_path, {"stop.png": KeyboardInterrupt()})
    assert summary.interrupted and summary.exit_code() == 130
    assert outputs[0].is_file() and not outputs[-1].exists()
    with pytest.raises(SystemExit):
        run_batch(tmp_path / "exit", {"exit.png": SystemExit(3)})


def test_styler_errors_are_not_called_internal(tmp_path) -> None:
    summary, _ = run_batch(tmp_path, {"x.png": StylerError("network refused this photo")})
    assert summary.failures == [f"{tmp_path / 'x.png'}: network refused this photo"]


# --------------------------------------------- Chromium for the browser tests (tests/browser.py)

FAKE_APT = """#!/bin/sh
echo "$@" >> "$APT_LOG"
case "$1" in
  update)
    if [ -n "$APT_OFFLINE" ]; then echo "E: Could not resolve 'deb.debian.org'" >&2; exit 100; fi ;;
  install)
    if [ -n "$APT_SLOW" ]; then /bin/sleep 30; fi
    if [ -n "$APT_NO_PACKAGE" ]; then echo "E: Unable to locate package chromium" >&2; exit 100; fi
    printf '#!/bin/sh\\necho fake chromium\\n' > "$APT_BIN/chromium"
    /bin/chmod +x "$APT_BIN/chromium" ;;
esac
"""


@pytest.fixture
def no_chromium(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A machine without Chromium, as root, with a fake apt-get that 'installs' it."""
    import browser

    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    apt = bin_dir / "apt-get"
    apt.write_text(FAKE_APT)
    apt.chmod(0o755)
    log = tmp_path / "apt.log"
    log.touch()
    for name, value in {"PATH": str(bin_dir), "APT_LOG": str(log), "APT_BIN": str(bin_dir)}.items():
        monkeypatch.setenv(name, value)
    for name in ("STYLER_CHROMIUM", "STYLER_INSTALL_CHROMIUM", "APT_OFFLINE", "APT_SLOW",
                 "APT_NO_PACKAGE"):  # fmt: skip
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setattr(browser, "DEFAULT_PATH", str(tmp_path / "usr-bin-chromium"))
    monkeypatch.setattr(browser.os, "geteuid", lambda: 0)
    lock = tmp_path / "install.lock"

    def ensure(**kwargs):
        return browser.ensure_chromium(lock=lock, **kwargs)

    return ensure, log, bin_dir


def test_a_missing_chromium_is_installed_once_with_apt_get(no_chromium) -> None:
    ensure, log, bin_dir = no_chromium
    said: list[str] = []
    assert ensure(announce=said.append) == (str(bin_dir / "chromium"), "")
    assert log.read_text().splitlines() == [
        "update -qq",
        "install -y -qq --no-install-recommends chromium",
    ]
    assert len(said) == 1 and said[0].startswith("installing Chromium for the browser tests")
    assert ensure() == (str(bin_dir / "chromium"), "")  # found now: apt-get not run again
    assert len(log.read_text().splitlines()) == 2


def test_parallel_runs_install_chromium_once(no_chromium) -> None:
    import threading

    ensure, log, bin_dir = no_chromium
    results: list[tuple] = []
    threads = [threading.Thread(target=lambda: results.append(ensure())) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert results == [(str(bin_dir / "chromium"), "")] * 4
    assert log.read_text().splitlines() == [
        "update -qq",
        "install -y -qq --no-install-recommends chromium",
    ]


def test_without_root_or_apt_get_the_browser_tests_skip_with_a_reason(
    no_chromium, monkeypatch: pytest.MonkeyPatch
) -> None:
    import browser

    ensure, log, _ = no_chromium
    monkeypatch.setattr(browser.os, "geteuid", lambda: 1000)
    path, reason = ensure()
    assert path is None and "\n" not in reason
    assert "apt-get install chromium" in reason and "STYLER_CHROMIUM=" in reason
    monkeypatch.setattr(browser.os, "geteuid", lambda: 0)
    monkeypatch.setenv("STYLER_INSTALL_CHROMIUM", "0")
    assert ensure()[0] is None and "STYLER_INSTALL_CHROMIUM=0" in ensure()[1]
    monkeypatch.setenv("STYLER_CHROMIUM", "/nowhere/chromium")
    assert ensure() == (None, "no Chromium at STYLER_CHROMIUM=/nowhere/chromium")
    assert log.read_text() == ""  # apt-get never ran


def test_a_failed_installation_is_one_line_and_not_retried_at_once(
    no_chromium, monkeypatch: pytest.MonkeyPatch
) -> None:
    ensure, log, _ = no_chromium
    monkeypatch.setenv("APT_OFFLINE", "1")
    monkeypatch.setenv("APT_NO_PACKAGE", "1")
    path, reason = ensure()
    assert path is None and "\n" not in reason
    assert "'apt-get update' failed: E: Could not resolve 'deb.debian.org'; " in reason
    assert "'apt-get install' failed: E: Unable to locate package chromium" in reason
    assert ensure() == (None, reason)  # a parallel or later run in the next minutes
    assert len(log.read_text().splitlines()) == 2


def test_an_offline_machine_still_installs_from_what_apt_has(no_chromium, monkeypatch):
    ensure, _, bin_dir = no_chromium
    monkeypatch.setenv("APT_OFFLINE", "1")  # update fails; the packages are cached
    assert ensure() == (str(bin_dir / "chromium"), "")


def test_a_hanging_installation_is_cut_off(no_chromium, monkeypatch) -> None:
    import time

    ensure, _, _ = no_chromium
    monkeypatch.setenv("APT_SLOW", "1")
    start = time.monotonic()
    path, reason = ensure(timeout=1.5)
    assert time.monotonic() - start < 10  # the fake apt-get's sleep (30 s) was killed
    assert path is None and "'apt-get install' took longer than 1.5 s" in reason


def test_ctrl_c_while_the_command_loads_is_one_line(monkeypatch, capsys) -> None:
    """A Ctrl-C in the half second the command's modules load printed a traceback from
    inside numpy's import (found by QA): the entry point the `styler` script runs says it
    was interrupted, as a Ctrl-C during a run does."""
    import tomllib

    from styler.cli import entry

    pyproject = Path(__file__).resolve().parents[1] / "pyproject.toml"
    scripts = tomllib.loads(pyproject.read_text())["project"]["scripts"]
    assert scripts["styler"] == "styler.cli.entry:main"

    def interrupted(name: str) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(entry.importlib, "import_module", interrupted)
    assert entry.main() == 130
    assert capsys.readouterr().err == "styler: interrupted\n"
