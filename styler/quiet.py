"""Silencing library warnings without racing other threads, and C libraries' own lines.

`warnings.catch_warnings` swaps the process-wide filter list and puts back the list it found
on exit. Two threads inside such blocks at once put back each other's lists, and a warning
escapes: a batch reads the next photo while a second thread writes the last one with its
EXIF, and both silence Pillow. Every silenced block in styler takes one lock first.

C libraries (libtiff, LibRaw) print their complaints straight to the process's stderr, past
Python: a damaged file gave its one line and then the library's. `native_noise_dropped`
holds the stderr descriptor's output of its block back and then writes what it held,
without the lines the library wrote: other threads' output (a progress bar, another file's
error line) comes out after the block, never lost.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
import tempfile
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


_STDERR_LOCK = threading.RLock()  # a nested block holds the descriptor once more


@contextlib.contextmanager
def native_noise_dropped(noise: re.Pattern[bytes]) -> Iterator[None]:
    """Drop the lines matching `noise` that reach file descriptor 2 inside the block. One
    thread at a time holds the descriptor; where it cannot be redirected (closed, not a
    file), the block runs as it is."""
    with _STDERR_LOCK:
        try:
            sys.stderr.flush()
            saved = os.dup(2)
        except (OSError, ValueError, AttributeError):
            saved = None
        if saved is None:
            yield
            return
        with tempfile.TemporaryFile() as held:
            try:
                os.dup2(held.fileno(), 2)
                yield
            finally:
                with contextlib.suppress(OSError, ValueError, AttributeError):
                    sys.stderr.flush()
                os.dup2(saved, 2)
                os.close(saved)
                held.seek(0)
                kept = b"".join(line for line in held.read().splitlines(keepends=True)
                                if not noise.match(line))  # fmt: skip
                while kept:
                    kept = kept[os.write(2, kept):]
