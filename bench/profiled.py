"""Run a module as `python -m` would, with Python's deterministic profiler switched on and off from
outside: `python -m bench.profiled OUT -m MODULE ARGS...`. SIGUSR1 starts counting, SIGUSR2 stops
and writes the counts to OUT (pstats format). Until the first SIGUSR1 nothing is counted, so a
process started this way runs as it would otherwise.

The write path's figures use it to count the Python calls one request makes in a service and in the
bare endpoint: a count does not move with the machine's speed, where requests per second do.
"""

from __future__ import annotations

import cProfile
import os
import pstats
import runpy
import signal
import sys
from pathlib import Path
from types import FrameType


def main() -> None:
    out, flag, module, *args = sys.argv[1:]
    if flag != "-m":
        raise SystemExit("usage: python -m bench.profiled OUT -m MODULE [ARGS...]")
    profiler = cProfile.Profile()

    def start(_signum: int, _frame: FrameType | None) -> None:
        profiler.enable()

    def stop(_signum: int, _frame: FrameType | None) -> None:
        profiler.disable()
        partial = Path(f"{out}.partial")
        profiler.dump_stats(partial)
        os.replace(partial, out)  # whole or not at all: the reader waits for the file

    signal.signal(signal.SIGUSR1, start)
    signal.signal(signal.SIGUSR2, stop)
    sys.argv = [module, *args]
    runpy.run_module(module, run_name="__main__", alter_sys=True)


def calls(path: Path) -> int:
    """Python calls counted in a profile `main` wrote (built-in functions included)."""
    stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    return sum(int(row[1]) for row in stats.values())


if __name__ == "__main__":
    main()
