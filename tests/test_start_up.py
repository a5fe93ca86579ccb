"""Fast mode on the CPU runs without importing PyTorch: most of a short command's start-up
(docs/performance.md, "Start-up"); a batch of photos does not import PyAV either. Each check
runs a fresh interpreter, as a user's command does, and asks it whether torch (and av) were
loaded."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from conftest import GALLERY
from PIL import Image

from tests.video_clips import moving_pattern, write_clip

REPORT = """
import json, sys
from styler.cli.main import main
code = main(sys.argv[1:])
print(json.dumps({"code": code, "torch": "torch" in sys.modules, "av": "av" in sys.modules}))
"""


def _styler(*args: str) -> dict:
    done = subprocess.run([sys.executable, "-c", REPORT, *args], capture_output=True, text=True,
                          check=True)  # fmt: skip
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.fixture
def photo(tmp_path: Path) -> Path:
    rng = np.random.default_rng(3)
    path = tmp_path / "photo.png"
    Image.fromarray(rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)).save(path)
    return path


def test_the_shipped_int8_graph_runs_without_pytorch(photo: Path, tmp_path: Path) -> None:
    report = _styler("stylize", str(photo), "--fast", "udnie", "--precision", "int8",
                     "-o", str(tmp_path / "out"))  # fmt: skip
    assert report == {"code": 0, "torch": False, "av": False}
    assert Image.open(tmp_path / "out" / "photo__udnie.png").size == (64, 48)


def test_a_cached_float_export_runs_without_pytorch(photo: Path, tmp_path: Path) -> None:
    first = _styler("stylize", str(photo), "--fast", "udnie", "--precision", "fp32",
                    "-o", str(tmp_path / "first"))  # fmt: skip
    assert first["code"] == 0  # the first run exports the graph, in PyTorch
    again = _styler("stylize", str(photo), "--fast", "udnie", "--precision", "fp32",
                    "-o", str(tmp_path / "again"))  # fmt: skip
    assert again == {"code": 0, "torch": False, "av": False}
    same = [np.asarray(Image.open(tmp_path / d / "photo__udnie.png")) for d in ("first", "again")]
    assert np.array_equal(*same)


def test_instant_mode_on_the_cpu_runs_without_pytorch(photo: Path, tmp_path: Path) -> None:
    """The shipped int8 graphs run at once; float32's export is made in PyTorch on the first
    run and taken from the cache after, with the same pixels."""
    painting = str(GALLERY / "styles" / "swirls.jpg")
    reports = {
        run: _styler("stylize", str(photo), "--instant", "--style", painting,
                     "--precision", precision, "-o", str(tmp_path / run))  # fmt: skip
        for run, precision in (("int8", "int8"), ("first", "fp32"), ("again", "fp32"))
    }
    assert reports["int8"] == {"code": 0, "torch": False, "av": False}
    assert reports["first"]["code"] == 0
    assert reports["again"] == {"code": 0, "torch": False, "av": False}
    same = [np.asarray(Image.open(tmp_path / d / "photo__swirls.png")) for d in ("first", "again")]
    assert np.array_equal(*same)


def test_modes_that_need_pytorch_still_load_it(photo: Path, tmp_path: Path) -> None:
    report = _styler("stylize", str(photo), "--fast", "udnie", "--precision", "bf16",
                     "-o", str(tmp_path / "out"))  # fmt: skip
    assert report == {"code": 0, "torch": True, "av": False}


def test_listing_the_commands_imports_none_of_them() -> None:
    done = subprocess.run(
        [sys.executable, "-c", "import sys\nfrom styler.cli.main import main\n"
         "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
         "print('torch' in sys.modules, sorted(m for m in sys.modules if m.endswith('_cmd')))"],
        capture_output=True, text=True, check=True)  # fmt: skip
    assert "stylize" in done.stdout and "train-instant" in done.stdout
    assert done.stdout.strip().splitlines()[-1] == "False []"


def test_a_clip_in_the_batch_loads_pyav_when_it_comes(photo: Path, tmp_path: Path) -> None:
    """The batch imports PyAV where a clip needs it, not at start-up: a folder of a photo and
    a clip stylizes both (and skips both, finished, on a second run)."""
    folder = tmp_path / "in"
    folder.mkdir()
    photo.rename(folder / "photo.png")
    write_clip(folder / "clip.mp4", moving_pattern(64, 48, 3))
    for _ in range(2):
        report = _styler("stylize", str(folder), "--fast", "udnie", "--precision", "int8",
                         "--skip-existing", "-o", str(tmp_path / "out"))  # fmt: skip
        assert report == {"code": 0, "torch": False, "av": True}
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "clip__udnie.mp4", "photo__udnie.png"]


def test_the_web_ui_is_built_without_pytorch() -> None:
    """`styler ui` serves its page before PyTorch loads: the UI's modules import none of it
    (the server's prewarm loads it in the background once the page is up)."""
    pytest.importorskip("gradio")
    done = subprocess.run(
        [sys.executable, "-c", "import sys\nimport styler.ui.app\nimport styler.cli.ui_cmd\n"
         "print('torch' in sys.modules)"],
        capture_output=True, text=True, check=True)  # fmt: skip
    assert done.stdout.strip().splitlines()[-1] == "False"
