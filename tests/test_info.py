"""`styler info` and styler.machine_report(): what this machine runs styler as, through the
real command in a subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from styler.precision import NO_INT8_DOT_ENV

pytestmark = pytest.mark.slow  # each run starts Python, torch and instant mode's networks


def info(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "styler.cli.main", "info", *args]
    return subprocess.run(command, env={**os.environ, **env}, capture_output=True, text=True,
                          timeout=180, check=True)  # fmt: skip


def test_the_report_says_what_auto_runs_in_each_mode() -> None:
    report = json.loads(info("--json").stdout)
    assert report["device"] == "cpu" or report["device"].startswith(("cuda", "mps"))
    assert set(report["cpu_features"]) == {"avx2", "avx512", "int8_dot_products", "native_bf16"}
    assert set(report["precision"]) == {"quality", "fast", "instant"}
    if report["device"] == "cpu":
        native = report["cpu_features"]["native_bf16"]
        assert report["precision"]["quality"] == ("bf16" if native else "fp32")
        assert report["precision"]["instant"] in ("int8", "bf16", "fp32")
        assert "shipped styles" in report["precision"]["fast"]
    assert report["packages"]["torch"] and report["packages"]["onnxruntime"]
    assert "gradio" in report["packages"]  # listed whether installed or not
    assert set(report["places"]) == {"weights", "your_styles", "cache"}
    assert report["cpu_quota"] is None or report["cpu_quota"] >= 1


def test_without_int8_dot_products_auto_takes_a_float() -> None:
    """The flag that simulates a CPU without VNNI: the report says so, and no mode is int8."""
    report = json.loads(info("--json", **{NO_INT8_DOT_ENV: "1"}).stdout)
    assert report["cpu_features"]["int8_dot_products"] is False
    assert not any("int8" in choice for choice in report["precision"].values())


def test_the_text_report_reads_as_a_table() -> None:
    text = info().stdout
    for label in ("CPU", "int8 dot products", "native bf16", "device (auto)",
                  "precision (auto), fast", "precision (auto), instant", "torch", "weights"):
        assert any(line.lstrip().startswith(label) for line in text.splitlines()), label


def test_the_api_gives_the_function_whatever_was_imported_before() -> None:
    """The report's module once had the function's name: importing it first (as `styler
    info` does) made `styler.machine_report` the module, which is not callable."""
    code = ("import styler.cli.info_cmd, styler.machine_facts\n"
            "from styler import machine_report, MachineReport\n"
            "assert isinstance(machine_report(), MachineReport)")  # fmt: skip
    subprocess.run([sys.executable, "-c", code], check=True, timeout=120)
