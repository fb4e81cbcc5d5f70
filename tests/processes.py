"""Services as processes (`govit serve <name>`), several replicas of one if asked: started, awaited
until ready, and stopped (or killed) like a deployment's pods."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest

from govit.launch import Launched, NotStarted, start_together, stop_all


@contextlib.asynccontextmanager
async def serving(env: dict[str, str], logs: Path, names: Sequence[str]) -> AsyncIterator[list[Launched]]:
    """A process for each name (a name twice: two replicas, each on its own port), once all are ready."""
    wanted: list[tuple[str, Path, int | None]] = []
    for name in names:
        n = sum(1 for named, _, _ in wanted if named == name) + 1
        wanted.append((name, logs / f"{name}-{n}.log", None))
    try:
        running = await start_together(wanted, env)
    except NotStarted as exc:
        pytest.fail(str(exc))
    try:
        yield running
    finally:
        await asyncio.to_thread(stop_all, running)
