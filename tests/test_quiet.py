"""styler.quiet: silenced blocks on two threads must not undo each other's filters; a C
library's own lines are dropped, nobody else's."""

import os
import re
import threading
import warnings
from pathlib import Path

from styler.quiet import native_noise_dropped, silenced

STYLER = Path(__file__).resolve().parents[1] / "styler"


def test_a_block_ending_on_one_thread_leaves_another_threads_block_silenced() -> None:
    """The batch case: the writer thread's block (EXIF of the last photo) ends while the
    reader's (the next photo) is still open. Plain catch_warnings would restore the filters
    it found on entry, under the reader's feet, and the reader's warning would print."""
    first_inside, second_inside = threading.Event(), threading.Event()

    def first() -> None:
        with silenced():
            first_inside.set()
            second_inside.wait(0.5)  # the second block can only start once this one ends

    def second() -> None:
        first_inside.wait()
        with silenced():
            second_inside.set()
            first_thread.join()
            warnings.warn("escaped", UserWarning, stacklevel=1)

    first_thread = threading.Thread(target=first)
    second_thread = threading.Thread(target=second)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        first_thread.start()
        second_thread.start()
        second_thread.join()
    assert [str(w.message) for w in caught] == []


def test_every_silenced_block_in_styler_takes_the_lock() -> None:
    unguarded = [str(path.relative_to(STYLER)) for path in STYLER.rglob("*.py")
                 if path.name != "quiet.py" and "catch_warnings" in path.read_text()]  # fmt: skip
    assert unguarded == []


def test_a_c_librarys_lines_are_dropped_and_everything_else_kept(capfd) -> None:
    """What reaches file descriptor 2 inside the block (as a C library writes, past Python)
    comes out after it, in order, less the library's lines: another thread's error line or
    progress bar written meanwhile is never lost."""
    with native_noise_dropped(re.compile(rb"TIFF\w*: ")):
        os.write(2, b"error: a.jpg: not an image\n")
        os.write(2, b"TIFFFillStrip: Read error on strip 0\n")
        os.write(2, b"images: 50%\r")
        os.write(2, b"TIFFReadDirectory: Warning, unknown tag\n")
    assert capfd.readouterr().err == "error: a.jpg: not an image\nimages: 50%\r"
