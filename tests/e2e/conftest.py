"""The five services as separate processes on one NATS, each with its own database.

The suite is started once per module; the stories drive it through HTTP with the roles'
tokens and read the stream. Time is moved by writing the shared clock file
(GOVIT_CLOCK_FILE), never by sleeping.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import asyncpg
import httpx
import pytest

from govit.launch import Launched, NotStarted, start_together, stop_all
from shared.bus import JetStreamBus
from shared.db import set_clock
from tests.conftest import unique
from tests.servers import database_url, missing

SERVICES = ("intake", "review", "procurement", "acceptance", "funding")
CONSOLE = "console"


@dataclass
class Suite:
    urls: dict[str, str]
    clock_file: Path
    logs: Path
    bus: JetStreamBus
    env: dict[str, str] = field(default_factory=dict)
    clients: dict[str, httpx.AsyncClient] = field(default_factory=dict)

    def __getattr__(self, name: str) -> httpx.AsyncClient:
        if name in SERVICES:
            return self.clients[name]
        raise AttributeError(name)

    def set_time(self, instant: datetime) -> None:
        """Every service takes this instant as now from its next request or event on."""
        assert instant.tzinfo is not None
        set_clock(self.clock_file, instant)

    def log(self, service: str) -> str:
        return (self.logs / f"{service}.log").read_text(errors="replace")


async def _started(services: Sequence[str], env: dict[str, str], logs: Path) -> list[Launched]:
    """The services, then the console: it finds them at the ports they took (GOVIT_<NAME>_PORT,
    written into `env`). A port `env` gives is kept; the others are free ones."""
    running: list[Launched] = []
    waves = [[n for n in services if n != CONSOLE], [n for n in services if n == CONSOLE]]
    try:
        for wave in filter(None, waves):
            ports = {n: env.get(f"GOVIT_{n.upper()}_PORT") for n in wave}
            running += await start_together(
                [(n, logs / f"{n}.log", int(port) if port else None) for n, port in ports.items()], env
            )
            env |= {f"GOVIT_{one.name.upper()}_PORT": one.url.rsplit(":", 1)[1] for one in running}
    except BaseException as exc:
        stop_all(running)
        if isinstance(exc, NotStarted):
            pytest.fail(str(exc))
        raise
    return running


async def create_databases(
    backend: str, admin_url: str | None, root: Path, tag: str, services: Sequence[str]
) -> dict[str, str]:
    """One database per service: SQLite files, or PostgreSQL databases made for this run."""
    if backend == "sqlite":
        return {name: f"sqlite+aiosqlite:///{root / name}.db" for name in services}
    if admin_url is None:
        missing("PostgreSQL (GOVIT_TEST_POSTGRES_URL)")
    assert admin_url is not None
    conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        for name in services:
            await conn.execute(f'CREATE DATABASE "{tag}_{name}"')
    finally:
        await conn.close()
    return {name: database_url(admin_url, f"{tag}_{name}") for name in services}


async def drop_databases(admin_url: str | None, tag: str, services: Sequence[str]) -> None:
    if admin_url is None:
        return
    conn = await asyncpg.connect(admin_url.replace("postgresql+asyncpg://", "postgresql://", 1))
    try:
        for name in services:
            await conn.execute(f'DROP DATABASE IF EXISTS "{tag}_{name}" WITH (FORCE)')
    finally:
        await conn.close()


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
async def suite(
    request: pytest.FixtureRequest,
    nats_url: str,
    postgres_admin_url: str | None,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Suite]:
    async with running_suite(str(request.param), nats_url, postgres_admin_url, tmp_path_factory) as suite:
        yield suite


@contextlib.asynccontextmanager
async def running_suite(
    backend: str,
    nats_url: str,
    postgres_admin_url: str | None,
    tmp_path_factory: pytest.TempPathFactory,
    services: Sequence[str] = SERVICES,
    extra_env: dict[str, str] | None = None,
) -> AsyncIterator[Suite]:
    """The chosen services as processes, each on its own database, sharing one stream; each on a
    free port unless `extra_env` gives it one (GOVIT_<SERVICE>_PORT)."""
    root = tmp_path_factory.mktemp("suite")
    logs = root / "log"
    logs.mkdir()
    tag = unique("e2e")
    env = {k: v for k, v in os.environ.items() if not k.startswith("GOVIT_")}
    env |= {
        "GOVIT_ENVIRONMENT": "test",
        "GOVIT_NATS_URL": nats_url,
        "GOVIT_STREAM": tag.upper(),
        "GOVIT_SUBJECT_PREFIX": tag,
        "GOVIT_VAR_DIR": str(root / "var"),
        "GOVIT_CLOCK_FILE": str(root / "now"),
        "GOVIT_LOG_LEVEL": "WARNING",
    }
    env |= extra_env or {}
    databases = await create_databases(backend, postgres_admin_url, root, tag, services)
    for name in services:
        env[f"GOVIT_{name.upper()}_DATABASE_URL"] = databases[name]
    bus = JetStreamBus(nats_url, stream=tag.upper(), prefix=tag)
    await bus.connect(timeout=10)
    try:
        children = await _started(services, env, logs)
        clients: dict[str, httpx.AsyncClient] = {}
        try:
            urls = {child.name: child.url for child in children}
            clients |= {n: httpx.AsyncClient(base_url=urls[n], timeout=30) for n in services}
            yield Suite(urls=urls, clock_file=root / "now", logs=logs, bus=bus, env=env, clients=clients)
        finally:
            for client in clients.values():
                await client.aclose()
            await asyncio.to_thread(stop_all, children)
    finally:
        with contextlib.suppress(Exception):
            await bus.nc.jetstream().delete_stream(tag.upper())
        await bus.close()
        if backend == "postgresql":
            await drop_databases(postgres_admin_url, tag, services)
