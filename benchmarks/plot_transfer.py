"""Plot validation loss against wall time: fine-tuned from the base vs from scratch.

    python benchmarks/plot_transfer.py starry_night    # -> docs/transfer_learning.png

Reads the training logs that tools/build_weights.py leaves in docs/training/.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

DOCS = Path(__file__).resolve().parents[1] / "docs"


def curve(log: Path) -> tuple[list[float], list[float]]:
    rows = [json.loads(line) for line in log.read_text().splitlines() if line.strip()]
    return [r["elapsed"] / 60 for r in rows], [r["val_loss"] for r in rows]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("style", nargs="?", default="starry_night",
                        help="the style whose two training logs to plot (default: %(default)s)")
    style = parser.parse_args().style
    runs = {
        "fine-tuned from the base network": DOCS / "training" / f"{style}.log.jsonl",
        "trained from scratch": DOCS / "training" / f"{style}_scratch.log.jsonl",
    }
    missing = [str(p) for p in runs.values() if not p.is_file()]
    if missing:
        print(f"missing training logs: {', '.join(missing)}", file=sys.stderr)
        return 2
    fig, ax = plt.subplots(figsize=(7, 4.2), dpi=120)
    curves = {label: curve(log) for label, log in runs.items()}
    for label, (minutes, losses) in curves.items():
        ax.plot(minutes, losses, marker="o", markersize=3, label=label)
    (tuned_t, tuned_loss), (scratch_t, scratch_loss) = curves.values()
    # For every validation loss the fine-tuning reached, how long from scratch took.
    for minutes, level in zip(tuned_t, tuned_loss, strict=True):
        hits = [t for t, loss in zip(scratch_t, scratch_loss, strict=True) if loss <= level]
        if hits:
            verdict = f"from scratch in {hits[0]:5.1f} min ({hits[0] / minutes:.1f}x)"
        else:
            verdict = (
                f"from scratch: not in {scratch_t[-1]:.1f} min (> {scratch_t[-1] / minutes:.1f}x)"
            )
        print(f"val loss {level:.4f}: fine-tuned in {minutes:5.1f} min; {verdict}")
    best = min(tuned_loss)
    ax.axhline(best, color="grey", linestyle="--", linewidth=1)
    ax.set_yscale("log")
    ax.set_xlabel("wall time on 2 CPU cores (minutes)")
    ax.set_ylabel("validation loss (perceptual, log scale)")
    ax.set_title(f"Transfer learning: a new style ({style})")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    fig.tight_layout()
    out = DOCS / "transfer_learning.png"
    fig.savefig(out)
    print(out)
    return 0


if __name__ == "__main__":
    sys.exit(main())
