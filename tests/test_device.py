"""CPU thread setup: portable core counting, and no silent change to a chosen thread count."""

from __future__ import annotations

import logging
import os

import pytest
import torch

from styler import device
from styler.device import usable_cores, use_all_cores
from styler.errors import OptionsError


@pytest.fixture
def threads(monkeypatch):
    """Restore torch's thread count and use_all_cores' memory; start with no thread variables."""
    before, applied = torch.get_num_threads(), device._applied
    for name in (device.THREADS_ENV, *device.PINNING_ENV):
        monkeypatch.delenv(name, raising=False)
    yield
    torch.set_num_threads(before)
    device._applied = applied


def test_usable_cores_without_sched_getaffinity(monkeypatch):
    """macOS and Windows have no os.sched_getaffinity: every core counts."""
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.delattr(os, "process_cpu_count", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 6)
    assert usable_cores() == 6
    monkeypatch.setattr(os, "cpu_count", lambda: None)  # undeterminable
    assert usable_cores() == 1


def test_use_all_cores_without_sched_getaffinity(threads, monkeypatch):
    monkeypatch.delattr(os, "sched_getaffinity", raising=False)
    monkeypatch.delattr(os, "process_cpu_count", raising=False)
    monkeypatch.setattr(os, "cpu_count", lambda: 3)
    monkeypatch.setattr(device, "_TORCH_DEFAULT", torch.get_num_threads())
    assert use_all_cores() == 3
    assert torch.get_num_threads() == 3


def test_raises_torch_default_and_says_so(threads, monkeypatch, caplog):
    wanted = torch.get_num_threads() + 1
    monkeypatch.setattr(device, "_TORCH_DEFAULT", torch.get_num_threads())
    monkeypatch.setattr(device, "usable_cores", lambda: wanted)
    with caplog.at_level(logging.INFO, logger="styler"):
        assert use_all_cores() == wanted
    assert torch.get_num_threads() == wanted
    assert any(f"-> {wanted}" in r.getMessage() for r in caplog.records)
    assert use_all_cores() == wanted  # its own earlier setting is not mistaken for the host's


def test_leaves_a_count_the_program_chose(threads, monkeypatch):
    monkeypatch.setattr(device, "_TORCH_DEFAULT", 5)
    monkeypatch.setattr(device, "_applied", None)
    monkeypatch.setattr(device, "usable_cores", lambda: 4)
    torch.set_num_threads(1)  # the host program's choice
    assert use_all_cores() == 1
    assert torch.get_num_threads() == 1


@pytest.mark.parametrize("name", device.PINNING_ENV)
def test_leaves_torch_alone_when_a_thread_variable_is_set(threads, monkeypatch, name):
    monkeypatch.setattr(device, "_TORCH_DEFAULT", torch.get_num_threads())
    monkeypatch.setattr(device, "usable_cores", lambda: torch.get_num_threads() + 1)
    monkeypatch.setenv(name, "1")
    before = torch.get_num_threads()
    assert use_all_cores() == before
    assert torch.get_num_threads() == before


def test_styler_threads_variable(threads, monkeypatch):
    monkeypatch.setenv("OMP_NUM_THREADS", "4")  # STYLER_THREADS is the more specific choice
    monkeypatch.setenv(device.THREADS_ENV, "1")
    assert use_all_cores() == 1
    assert torch.get_num_threads() == 1
    torch.set_num_threads(2)
    monkeypatch.setenv(device.THREADS_ENV, "0")  # 0: leave torch's count as it is
    assert use_all_cores() == 2
    assert torch.get_num_threads() == 2


@pytest.mark.parametrize("value", ["many", "-1", "1.5"])
def test_styler_threads_must_be_a_count(threads, monkeypatch, value):
    monkeypatch.setenv(device.THREADS_ENV, value)
    with pytest.raises(OptionsError, match=device.THREADS_ENV):
        use_all_cores()


def test_fast_mode_refuses_a_bad_thread_count_before_any_photo(monkeypatch):
    """Fast mode's onnxruntime path never loads PyTorch, and still reads STYLER_THREADS."""
    from styler.fast.inference import FastStylizer

    monkeypatch.setenv(device.THREADS_ENV, "many")
    with pytest.raises(OptionsError, match=device.THREADS_ENV):
        FastStylizer("udnie", device="cpu")


@pytest.mark.parametrize(
    ("machine", "avx512_bf16", "amx", "onednn", "native"),
    [
        ("x86_64", False, False, True, False),  # AVX-512 without BF16: oneDNN emulates it
        ("x86_64", True, False, True, True),  # AVX512-BF16
        ("AMD64", False, True, True, True),  # AMX (Windows spells the machine so)
        ("x86_64", False, False, False, False),  # AVX2 only
        ("aarch64", False, False, True, True),  # ARM's BF16 extension, as oneDNN reports it
    ],
)
def test_bf16_only_where_the_cpu_computes_it_natively(
    monkeypatch, machine, avx512_bf16, amx, onednn, native
):
    """On an AVX-512 CPU without AVX512-BF16 or AMX, oneDNN still reports bf16 support, but
    emulates it: VGG19 ran about three times slower there, so auto precision and training
    must keep fp32 (docs/performance.md, "VGG19 in bfloat16")."""
    monkeypatch.setattr(device.platform, "machine", lambda: machine)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: avx512_bf16)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: amx)
    monkeypatch.setattr(torch.ops.mkldnn, "_is_mkldnn_bf16_supported", lambda: onednn)
    assert device._cpu_has_bf16() is native
    expected = torch.bfloat16 if native else None
    assert device.autocast_dtype(torch.device("cpu")) == expected
