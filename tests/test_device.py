"""CPU thread setup: portable core counting, and no silent change to a chosen thread count."""

from __future__ import annotations

import logging
import os

import pytest
import torch

from styler import device, precision
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
    assert device.cpu_has_native_bf16() is native
    expected = torch.bfloat16 if native else None
    assert device.autocast_dtype(torch.device("cpu")) == expected


def _cgroup_tree(tmp_path, membership: str, files: dict[str, str]):
    """A fake /sys/fs/cgroup under tmp_path and the process's /proc/self/cgroup lines."""
    root = tmp_path / "cgroup"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(text)
    root.mkdir(exist_ok=True)
    (tmp_path / "self").write_text(membership)
    return root, tmp_path / "self"


@pytest.mark.parametrize(
    ("membership", "files", "limit"),
    [
        # cgroup v2 in a container (its own group shows as the root): docker --cpus=1.5
        ("0::/\n", {"cpu.max": "150000 100000\n"}, 1),
        ("0::/\n", {"cpu.max": "max 100000\n"}, None),  # no quota
        ("0::/\n", {"cpu.max": "50000 100000\n"}, 1),  # half a CPU: still one thread
        # a quota on a parent binds its children (a Kubernetes pod's limit over its container)
        ("0::/pod/ctr\n", {"pod/cpu.max": "400000 100000\n", "pod/ctr/cpu.max": "max 100000\n"}, 4),
        # v1, as this machine's hybrid layout mounts it (cpu and cpuacct apart)
        ("2:cpuacct:/\n1:cpu:/job\n0::/\n",
         {"cpu/job/cpu.cfs_quota_us": "300000\n", "cpu/job/cpu.cfs_period_us": "100000\n",
          "unified/cgroup.procs": ""}, 3),  # fmt: skip
        ("4:cpu,cpuacct:/\n", {"cpu,cpuacct/cpu.cfs_quota_us": "-1\n",
                               "cpu,cpuacct/cpu.cfs_period_us": "100000\n"}, None),  # fmt: skip
        ("0::/\n", {}, None),  # no cpu controller files at all
    ],
)
def test_cgroup_cpu_quota(tmp_path, membership, files, limit):
    root, self_file = _cgroup_tree(tmp_path, membership, files)
    assert device.cgroup_cpu_limit(root, self_file) == limit


def test_no_cgroups_no_limit(tmp_path):
    """macOS, Windows, or a Linux without /proc: no quota to honour."""
    assert device.cgroup_cpu_limit(tmp_path, tmp_path / "missing") is None


def test_a_cpu_quota_caps_the_thread_count(threads, monkeypatch):
    """A container limited to 2 CPUs on a 16-core host gets 2 threads, not 16: threads over
    the quota are throttled, not run."""
    monkeypatch.setattr(os, "process_cpu_count", lambda: 16, raising=False)
    monkeypatch.setattr(device, "cgroup_cpu_limit", lambda: 2)
    assert usable_cores() == 2
    assert use_all_cores() == 2 and torch.get_num_threads() == 2
    monkeypatch.setattr(device, "cgroup_cpu_limit", lambda: None)
    assert usable_cores() == 16


@pytest.mark.parametrize(
    ("flags", "best"),
    [("fpu sse avx512f avx512_vnni", "fp32"), ("fpu avx512f avx512_bf16", "bf16"),
     ("fpu avx2 amx_tile amx_bf16", "bf16"), ("fpu avx2", "fp32")],
)
def test_an_x86_cpus_best_float_comes_from_its_flags_without_pytorch(
    monkeypatch, flags: str, best: str
) -> None:
    """Instant and fast mode's onnxruntime passes ask for the CPU's best float without
    importing PyTorch: the flags give PyTorch's own answer (cpu_has_native_bf16's)."""
    monkeypatch.setattr(precision.platform, "machine", lambda: "x86_64")
    monkeypatch.setattr(precision, "cpuinfo_value", lambda *keys: flags)
    monkeypatch.setattr(torch.cpu, "_is_avx512_bf16_supported", lambda: "avx512_bf16" in flags)
    monkeypatch.setattr(torch.cpu, "_is_amx_tile_supported", lambda: "amx_tile" in flags)
    monkeypatch.setattr(device.platform, "machine", lambda: "x86_64")
    assert precision.best_float("cpu") == best
    assert device.cpu_has_native_bf16() is (best == "bf16")


def test_this_cpus_flags_agree_with_pytorch() -> None:
    if precision.x86_native_bf16() is None:
        pytest.skip("not an x86 CPU with /proc/cpuinfo: the flags cannot tell")
    assert precision.x86_native_bf16() is device.cpu_has_native_bf16()
