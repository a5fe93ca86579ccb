"""Silencing library warnings without racing other threads.

`warnings.catch_warnings` swaps the process-wide filter list and puts back the list it found
on exit. Two threads inside such blocks at once put back each other's lists, and a warning
escapes: a batch reads the next photo while a second thread writes the last one with its
EXIF, and both silence Pillow. Every silenced block in styler takes one lock first.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterator

_FILTERS_LOCK = threading.RLock()


@contextlib.contextmanager
def silenced(category: type[Warning] = Warning) -> Iterator[None]:
    """Ignore warnings of `category` inside the block; nests, and is safe across threads."""
    with _FILTERS_LOCK, warnings.catch_warnings():
        warnings.simplefilter("ignore", category)
        yield
