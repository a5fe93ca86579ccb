"""How optimizer mode spreads its steps over its scales: a module of its own, free of
PyTorch, because the web UI reckons a Quality run's time left from it without loading the
optimizer (docs/performance.md, "Start-up")."""

from __future__ import annotations


def split_steps(steps: int, scales: int) -> list[int]:
    """Split `steps` over `scales` scales, halving from one scale to the next finer one.

    A step at scale k costs about 2x one at scale k-1, so each scale gets roughly the same
    time while the coarse ones get the iterations that form the style's large-scale
    structure (the web UI's time left counts on it).
    """
    shares = [2.0 ** (scales - 1 - k) for k in range(scales)]
    total = sum(shares)
    counts = [max(1, round(steps * s / total)) for s in shares]
    counts[0] += steps - sum(counts)
    return counts
