"""English for the counts and times messages name: '1 core', '3 cores', '0.04 s'."""

from __future__ import annotations


def counted(number: int, noun: str) -> str:
    """'1 fast style', '2 fast styles': the noun's plural by an s, as every noun here takes."""
    return f"{number} {noun}" + ("" if number == 1 else "s")


def seconds(value: float) -> str:
    """'0.04 s', '3.2 s': a run under a second with two decimals (a fast frame is not
    '0.0 s')."""
    return f"{value:.2f} s" if value < 1 else f"{value:.1f} s"
