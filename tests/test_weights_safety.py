"""Weights: nothing is ever unpickled, and a network whose sha256 does not match the
manifest is refused in one line, however it is named (by style name or by path)."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from styler.errors import WeightsError
from styler.fast.inference import FastStylizer
from styler.fast.manifest import read_manifest, write_manifest
from styler.fast.weights import read_checkpoint, read_network
from tests.ui_helpers import make_tiny_styles

SOURCE = Path(__file__).resolve().parents[1] / "styler"


def test_no_pickle_anywhere_in_styler() -> None:
    """Every torch.load says weights_only=True; no pickle, no np.load with pickles."""
    for path in SOURCE.rglob("*.py"):
        text = path.read_text()
        for call in re.findall(r"torch\.load\([^)]*\)", text, re.DOTALL):
            assert "weights_only=True" in call, f"{path}: {call}"
        assert not re.search(r"^\s*(import|from) (c?pickle|dill|joblib)\b", text, re.M), path
        assert "allow_pickle=True" not in text, path


class Boom:
    """Unpickling this would create a file: the marker shows whether code ran."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (self.marker, "w"))


def test_a_pickle_with_code_in_a_checkpoint_is_refused_unrun(tmp_path: Path) -> None:
    marker = tmp_path / "ran"
    checkpoint = tmp_path / "evil.ckpt"
    torch.save({"model": Boom(str(marker))}, checkpoint)
    with pytest.raises(WeightsError, match="unreadable training checkpoint"):
        read_checkpoint(checkpoint)
    assert not marker.exists()


@pytest.fixture
def shipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = make_tiny_styles(tmp_path / "weights")
    monkeypatch.setenv("STYLER_WEIGHTS_DIR", str(folder))
    return folder


def swap_in_another_network(folder: Path) -> None:
    """Replace warm_test's file with cool_test's: a valid network, only the digest tells."""
    shutil.copy(folder / "cool_test.safetensors", folder / "warm_test.safetensors")


def test_a_replaced_network_is_refused_by_name_and_by_path(shipped: Path) -> None:
    FastStylizer("warm_test", device="cpu", backend="torch")  # intact: loads
    swap_in_another_network(shipped)
    expected = (f"{shipped / 'warm_test.safetensors'}: sha256 does not match the manifest; "
                "the file is damaged or was replaced, reinstall styler or retrain it")  # fmt: skip
    with pytest.raises(WeightsError) as by_name:
        FastStylizer("warm_test", device="cpu", backend="torch")
    assert str(by_name.value) == expected
    with pytest.raises(WeightsError) as by_path:  # naming the shipped file skips no check
        read_network(shipped / "warm_test.safetensors")
    assert str(by_path.value) == expected
    own = shipped.parent / "own.safetensors"  # a copy outside the manifest: the user's own
    shutil.copy(shipped / "warm_test.safetensors", own)
    assert read_network(own)[0] is not None


def test_a_manifest_entry_without_a_digest_is_refused(shipped: Path) -> None:
    entries = read_manifest(shipped / "manifest.json")
    entries[0] = type(entries[0])(**{**entries[0].__dict__, "sha256": ""})
    write_manifest(entries, shipped / "manifest.json")
    with pytest.raises(WeightsError, match="the style manifest has no valid sha256 for it"):
        FastStylizer(entries[0].name, device="cpu", backend="torch")


@pytest.mark.slow
def test_the_cli_refuses_a_replaced_network_in_one_line(shipped: Path, tmp_path: Path) -> None:
    swap_in_another_network(shipped)
    (tmp_path / "photo.png").write_bytes((Path(__file__).parent / "conftest.py").read_bytes())
    env = {**os.environ, "OMP_NUM_THREADS": "1", "STYLER_WEIGHTS_DIR": str(shipped)}
    run = subprocess.run([sys.executable, "-m", "styler.cli.main", "stylize", "photo.png",
                          "--fast", "warm_test"], cwd=tmp_path, env=env, capture_output=True,
                         text=True, timeout=120)  # fmt: skip
    assert run.returncode == 2
    assert run.stderr.strip() == (f"styler: error: {shipped / 'warm_test.safetensors'}: sha256 "
                                  "does not match the manifest; the file is damaged or was "
                                  "replaced, reinstall styler or retrain it")  # fmt: skip
