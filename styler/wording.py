"""English for the counts messages name: '1 core', '3 cores'."""

from __future__ import annotations


def counted(number: int, noun: str) -> str:
    """'1 fast style', '2 fast styles': the noun's plural by an s, as every noun here takes."""
    return f"{number} {noun}" + ("" if number == 1 else "s")
