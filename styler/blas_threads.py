"""numpy's BLAS threads around products that run between onnxruntime passes.

OpenBLAS's worker threads spin for a while after each call; on a small CPU they took the
cores the next onnxruntime pass needed, and instant mode's photo ran a fifth slower with
its statistics in numpy than in PyTorch (docs/performance.md, "Start-up"). So such products
run with one BLAS thread each (one_blas_thread), the large ones split by columns over a
small pool of Python threads (by_columns; numpy releases the GIL in them), which leave
nothing spinning when they are done.
"""

from __future__ import annotations

import contextlib
import functools
import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
from threadpoolctl import ThreadpoolController

from styler.device import onnx_threads


@functools.cache
def _blas() -> ThreadpoolController:
    return ThreadpoolController()


_limit_lock = threading.Lock()
_limit: list[Any] = []  # the limiter in force, while any thread is within one_blas_thread
_limit_users = 0


@contextlib.contextmanager
def one_blas_thread() -> Iterator[None]:
    """numpy's BLAS and LAPACK on the calling thread alone within this block. The limit is
    process-wide: it is set when the first thread enters and the count the process had is
    given back when the last one leaves, so runs on several threads never leave it set;
    one thread of its own sets and restores it, since threadpoolctl lets only the thread
    that first set OpenBLAS's count change it again."""
    global _limit_users
    with _limit_lock:
        if _limit_users == 0:
            _limit.append(_limiter().submit(_blas().limit, limits=1, user_api="blas").result())
        _limit_users += 1
    try:
        yield
    finally:
        with _limit_lock:
            _limit_users -= 1
            if _limit_users == 0:
                _limiter().submit(_limit.pop().restore_original_limits).result()


@functools.cache
def _limiter() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(1, thread_name_prefix="styler-blas-limit")


@functools.cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(onnx_threads(), thread_name_prefix="styler-wct")


def by_columns(product: Callable[[slice], Any], columns: int) -> list[Any]:
    """product(part) over `columns` split into one part per thread onnxruntime gets
    (styler.device.onnx_threads), each on its own thread with one BLAS thread
    (one_blas_thread): the cores share the large products, and no BLAS worker is left
    spinning when they are done (numpy releases the GIL in them)."""
    parts = max(1, min(onnx_threads(), columns // 1024))
    bounds = np.linspace(0, columns, parts + 1).astype(int)
    slices = [slice(a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    with one_blas_thread():
        return list(_pool().map(product, slices)) if parts > 1 else [product(slices[0])]
