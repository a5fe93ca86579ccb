"""Where the shipped networks and their manifest are found, and where build_weights writes."""

from __future__ import annotations

import importlib.util
import json
import os
import site
import subprocess
import sys
from importlib import resources
from pathlib import Path

import pytest
import torch
from PIL import Image

from styler.fast import manifest
from styler.fast.manifest import MANIFEST, read_manifest, weights_dir
from styler.fast.network import NetworkConfig, StyleNetwork
from styler.fast.weights import save_network

ROOT = Path(__file__).resolve().parents[1]


def shipped_names() -> list[str]:
    return [
        entry["name"] for entry in json.loads((ROOT / "weights" / MANIFEST).read_text())["styles"]
    ]


def test_checkout_that_was_never_installed_finds_weights() -> None:
    """`python -S` skips site's .pth files, so the editable install's finder is not there: the
    checkout is only a folder on sys.path, with the dependencies reachable as plain paths."""
    script = (
        "import sys; sys.path[:0] = [sys.argv[1]]; sys.path += sys.argv[2:]\n"
        "from styler.fast.manifest import read_manifest, weights_dir\n"
        "print(weights_dir()); print(','.join(e.name for e in read_manifest()))\n"
    )
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "STYLER_WEIGHTS_DIR")}
    done = subprocess.run(
        [sys.executable, "-S", "-c", script, str(ROOT), *site.getsitepackages()],
        capture_output=True, text=True, env=env, cwd=ROOT.parent, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    folder, names = done.stdout.strip().splitlines()[-2:]
    assert Path(folder) == ROOT / "weights"
    assert names.split(",") == shipped_names() and names


def test_falls_back_to_the_checkout_without_the_package(monkeypatch) -> None:
    def not_installed(name):
        raise ModuleNotFoundError(f"No module named {name!r}")

    monkeypatch.delenv("STYLER_WEIGHTS_DIR", raising=False)
    monkeypatch.setattr(resources, "files", not_installed)
    assert weights_dir() == manifest.CHECKOUT_WEIGHTS == ROOT / "weights"
    assert [e.name for e in read_manifest()] == shipped_names()


def load_build_weights():
    spec = importlib.util.spec_from_file_location(
        "build_weights", ROOT / "tools" / "build_weights.py"
    )
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_build_weights_writes_the_manifest_beside_its_networks(tmp_path, monkeypatch) -> None:
    """Training is stubbed with tiny untrained networks; the installed package's folder (here
    STYLER_WEIGHTS_DIR, which weights_dir() prefers) must not receive the manifest."""
    tool = load_build_weights()
    shipped = (ROOT / "weights" / MANIFEST).read_bytes()
    out, installed, data = tmp_path / "weights", tmp_path / "site-packages", tmp_path / "data"
    for folder in (out, installed, data / "val", data / "styles"):
        folder.mkdir(parents=True)
    Image.new("RGB", (32, 32)).save(data / "val" / "photo.png")
    monkeypatch.setenv("STYLER_WEIGHTS_DIR", str(installed))
    monkeypatch.setattr(tool, "WEIGHTS", out)
    monkeypatch.setattr(tool, "WORK", tmp_path / "build")
    monkeypatch.setattr(tool, "DATA", data)

    def train_network(config, name, publish=True):
        torch.manual_seed(0)
        path = out / f"{name}.safetensors"
        save_network(StyleNetwork(NetworkConfig(widths=(8, 16, 16), res_blocks=1)), path, {})
        return path

    monkeypatch.setattr(tool, "train_network", train_network)
    monkeypatch.setattr(tool, "mean_distances", lambda *args: {"style": 0.1})
    monkeypatch.setattr(sys, "argv", ["build_weights.py", "--only", "udnie"])
    assert tool.main() == 0
    assert tool.manifest_path() == out / MANIFEST
    entries = read_manifest(out / MANIFEST)
    assert [e.name for e in entries] == ["base", "udnie"]
    assert all((out / e.file).is_file() for e in entries)
    assert not (installed / MANIFEST).exists()
    assert (ROOT / "weights" / MANIFEST).read_bytes() == shipped


@pytest.mark.parametrize("override", [True, False])
def test_styler_weights_dir_still_wins(tmp_path, monkeypatch, override) -> None:
    if override:
        monkeypatch.setenv("STYLER_WEIGHTS_DIR", str(tmp_path))
        assert weights_dir() == tmp_path
    else:
        monkeypatch.delenv("STYLER_WEIGHTS_DIR", raising=False)
        assert (weights_dir() / MANIFEST).is_file()
