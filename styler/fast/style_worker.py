"""`python -m styler.fast.style_worker NAME`: one UI training in a process of its own.

A process, not a thread of the server: the training's torch threads and the GIL never hold
up the server's Stylize runs, it runs at a lower priority (nice) so those get the cores
first, and a crash or a kill ends only the training, whose checkpoint resumes it. It stops
(keeping the best network so far) at its stop file or when the server that started it is
gone.
"""

from __future__ import annotations

import os
import signal
import sys

NICE = 10  # below the server's own runs: a Stylize click takes the cores when it needs them


def main(argv: list[str] | None = None) -> int:
    (name,) = argv if argv is not None else sys.argv[1:]
    parent = os.getppid()
    if hasattr(os, "nice"):
        os.nice(NICE)
    from styler.device import use_all_cores
    from styler.errors import StylerError
    from styler.fast.style_run import run_job

    use_all_cores()
    stop = {"asked": False}

    def terminate(signum: int, frame: object) -> None:  # a service manager's stop: end cleanly
        stop["asked"] = True

    signal.signal(signal.SIGTERM, terminate)
    try:
        run_job(name, should_stop=lambda: stop["asked"] or os.getppid() != parent, queued=True)
    except StylerError as exc:
        print(f"styler training {name}: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
