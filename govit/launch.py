"""A service as a process of its own (`python -m govit.cli serve NAME`) on a free port, awaited
until it, and not whatever else listens there, says it is ready.

Ports are chosen by binding to port 0 and letting go: another process starting at the same
moment can take the same port before the service binds it. The service then cannot listen, and
the one already there answers its URL. So readiness counts only an answer naming the service
(`/readyz` says `service`), and a start that failed on a taken port is tried again on another.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from govit.devnats import free_port

READY_TIMEOUT = 60.0
TRIES = 3  # starts on a free port, each after the last one's port was taken meanwhile
PORT_TAKEN = "address already in use"


class NotStarted(RuntimeError):
    """The process exited, or did not say it was ready in time; the message ends with its log."""


def ready_as(answer: httpx.Response, service: str, pid: int | None = None) -> bool:
    """`answer` to GET /readyz says `service` is ready (and not another server on its port); with a
    `pid`, that this very process is (and not a replica of the service that took the port)."""
    if answer.status_code != 200:
        return False
    with contextlib.suppress(ValueError):
        body = answer.json()
        return (
            isinstance(body, dict)
            and body.get("service") == service
            and (pid is None or body.get("pid") == pid)
        )
    return False


@dataclass
class Launched:
    """One process of a service: its URL, its log, and the process to stop or kill."""

    name: str
    url: str
    log: Path
    proc: subprocess.Popen[bytes]
    offset: int = 0  # where this process's output starts in the log

    @property
    def alive(self) -> bool:
        return self.proc.poll() is None

    def tail(self, chars: int = 3000) -> str:
        """The end of what this process wrote to its log."""
        with contextlib.suppress(OSError), self.log.open("rb") as file:
            file.seek(max(self.offset, file.seek(0, 2) - chars * 4))
            return file.read().decode(errors="replace")[-chars:]
        return ""

    def kill(self) -> None:
        """kill -9: no shutdown, whatever it was in the middle of."""
        if self.alive:
            self.proc.kill()
        self.proc.wait()

    def stop(self, grace: float = 20) -> None:
        """SIGTERM, and kill -9 if it has not stopped within `grace` seconds."""
        stop_all([self], grace)


def stop_all(launched: Sequence[Launched], grace: float = 20) -> None:
    """SIGTERM to every process first, so they shut down together; kill -9 what outlives `grace`."""
    for one in launched:
        if one.alive:
            one.proc.send_signal(signal.SIGTERM)
    for one in launched:
        try:
            one.proc.wait(grace)
        except subprocess.TimeoutExpired:
            one.kill()


def spawn(
    name: str,
    env: Mapping[str, str],
    log: Path,
    port: int,
    *,
    command: Sequence[str] | None = None,
    cwd: Path | None = None,
) -> Launched:
    """Start the service `name` on `port` (GOVIT_<NAME>_PORT), its output appended to `log`, in a
    session of its own; `command` replaces `-m govit.cli serve NAME` as the interpreter's arguments."""
    args = command or ["-m", "govit.cli", "serve", name]
    with log.open("ab") as out:
        offset = out.tell()
        proc = subprocess.Popen(
            [sys.executable, *args],
            env={**env, f"GOVIT_{name.upper()}_PORT": str(port)},
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
            cwd=cwd,
        )
    return Launched(name, f"http://127.0.0.1:{port}", log, proc, offset)


async def until_ready(launched: Launched, timeout: float = READY_TIMEOUT, poll: float = 0.1) -> None:
    """Wait for the process to say on /readyz that it is ready; NotStarted if it exits or is late."""
    deadline = time.monotonic() + timeout
    async with httpx.AsyncClient(base_url=launched.url, timeout=2) as client:
        while time.monotonic() < deadline:
            if not launched.alive:
                raise NotStarted(f"{launched.name} exited while starting:\n{launched.tail()}")
            with contextlib.suppress(httpx.HTTPError):
                if ready_as(await client.get("/readyz"), launched.name, launched.proc.pid):
                    return
            await asyncio.sleep(poll)
    raise NotStarted(
        f"{launched.name} at {launched.url} was not ready in {timeout:.0f} s:\n{launched.tail()}"
    )


async def start(
    name: str,
    env: Mapping[str, str],
    log: Path,
    *,
    port: int | None = None,
    command: Sequence[str] | None = None,
    cwd: Path | None = None,
) -> Launched:
    """Spawn the service and wait until it is ready. Without a `port`, a free one; when another
    process took it meanwhile, another, up to TRIES times. A `port` given is kept."""
    for attempt in range(1, TRIES + 1):
        launched = spawn(name, env, log, port or free_port(), command=command, cwd=cwd)
        try:
            await until_ready(launched)
        except NotStarted:
            await asyncio.to_thread(launched.stop)
            if port is not None or attempt == TRIES or PORT_TAKEN not in launched.tail().lower():
                raise
        except BaseException:  # cancelled, interrupted: no process outlives its start
            launched.kill()
            raise
        else:
            return launched
    raise AssertionError("unreachable")  # pragma: no cover


async def start_together(
    wanted: Sequence[tuple[str, Path, int | None]], env: Mapping[str, str]
) -> list[Launched]:
    """Start each (name, log, port or None for a free one) at once and wait for all. If one does not
    start, or the wait is cancelled, those that did are stopped; NotStarted says why each failed,
    another error is raised as it came."""
    tasks = [asyncio.ensure_future(start(name, env, log, port=port)) for name, log, port in wanted]
    try:
        await asyncio.wait(tasks)
    except BaseException:
        for task in tasks:
            task.cancel()  # one still starting kills its process
        await asyncio.gather(*tasks, return_exceptions=True)
        stop_all(_started(tasks))
        raise
    launched = _started(tasks)
    errors = [error for task in tasks if not task.cancelled() and (error := task.exception()) is not None]
    if errors:
        await asyncio.to_thread(stop_all, launched)
        if all(isinstance(error, NotStarted) for error in errors):
            raise NotStarted("\n\n".join(str(error) for error in errors))
        raise next(error for error in errors if not isinstance(error, NotStarted))
    return launched


def _started(tasks: Sequence[asyncio.Future[Launched]]) -> list[Launched]:
    return [task.result() for task in tasks if not task.cancelled() and task.exception() is None]
