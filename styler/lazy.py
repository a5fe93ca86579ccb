"""Package attributes imported on first use (PEP 562): a package can name what it offers
without loading the heavy modules behind each name (PyTorch, PyAV) until one is asked for."""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any


def lazy_attributes(
    package: str, homes: Mapping[str, str]
) -> tuple[Callable[[str], Any], Callable[[], list[str]]]:
    """The package's module-level __getattr__ and __dir__: each name in `homes` (name -> the
    module that defines it) is imported from its module the first time it is asked for,
    then kept in the package so later lookups are plain; dir() lists them all along."""

    def __getattr__(name: str) -> Any:
        if name not in homes:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(homes[name]), name)
        setattr(sys.modules[package], name, value)
        return value

    def __dir__() -> list[str]:
        return sorted({*vars(sys.modules[package]), *homes})

    return __getattr__, __dir__
