"""Services as processes (`govit serve <name>`), several replicas of one if asked: started, awaited
until ready, and stopped (or killed) like a deployment's pods."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from govit.devnats import free_port


@dataclass
class Served:
    """One process of a service: its URL, its log, and the process to stop or kill."""

    name: str
    url: str
    log: Path
    proc: asyncio.subprocess.Process

    def tail(self) -> str:
        return self.log.read_text(errors="replace")[-3000:]

    async def kill(self) -> None:
        """kill -9: no shutdown, whatever it was in the middle of."""
        if self.proc.returncode is None:
            self.proc.kill()
            await self.proc.wait()


async def _start(name: str, n: int, env: dict[str, str], logs: Path) -> Served:
    port, log = free_port(), logs / f"{name}-{n}.log"
    with log.open("ab") as out:
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "govit.cli",
            "serve",
            name,
            env=env | {f"GOVIT_{name.upper()}_PORT": str(port)},
            stdout=out,
            stderr=asyncio.subprocess.STDOUT,
            stdin=asyncio.subprocess.DEVNULL,
            start_new_session=True,
        )
    return Served(name, f"http://127.0.0.1:{port}", log, proc)


async def _ready(served: Served, seconds: float = 60) -> None:
    async with httpx.AsyncClient(base_url=served.url, timeout=2) as client:
        for _ in range(int(seconds * 10)):
            if served.proc.returncode is not None:
                pytest.fail(f"{served.name} exited while starting:\n{served.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if (await client.get("/readyz")).status_code == 200:
                    return
            await asyncio.sleep(0.1)
    pytest.fail(f"{served.name} at {served.url} was not ready in {seconds} s:\n{served.tail()}")


@contextlib.asynccontextmanager
async def serving(env: dict[str, str], logs: Path, names: Sequence[str]) -> AsyncIterator[list[Served]]:
    """A process for each name (a name twice: two replicas, each on its own port), once all are ready."""
    running: list[Served] = []
    counts: dict[str, int] = {}
    try:
        for name in names:
            counts[name] = counts.get(name, 0) + 1
            running.append(await _start(name, counts[name], env, logs))
        await asyncio.gather(*(_ready(s) for s in running))
        yield running
    finally:
        for served in running:
            if served.proc.returncode is None:
                served.proc.send_signal(signal.SIGTERM)
        for served in running:
            try:
                await asyncio.wait_for(served.proc.wait(), 20)
            except TimeoutError:
                await served.kill()
