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


def counts(path: Path) -> dict[tuple[str, str], int]:
    """Python calls counted in a profile `main` wrote, by (file, function). A built-in function
    (file "~" in pstats) is counted under the file of each function that called it, so that
    `isinstance` called by SQLAlchemy is SQLAlchemy's: (caller's file, "~built-in name")."""
    stats = pstats.Stats(str(path)).stats  # type: ignore[attr-defined]
    counted: dict[tuple[str, str], int] = {}
    for (file, _line, function), (_, calls, _, _, callers) in stats.items():
        if file != "~" or not callers:
            counted[file, function] = counted.get((file, function), 0) + int(calls)
            continue
        for (caller_file, _, _), (_, from_caller, _, _) in callers.items():
            key = (caller_file, f"~{function}")
            counted[key] = counted.get(key, 0) + int(from_caller)
    return counted


if __name__ == "__main__":
    main()
