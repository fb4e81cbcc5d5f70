"""Fixtures: real NATS JetStream and real databases (SQLite and PostgreSQL), isolated per test."""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import uuid
import weakref
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from fastapi import FastAPI
from httpx import ASGITransport, AsyncClient
from nats.aio.msg import Msg
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from shared.auth import SCOPED_ROLES, Role, TokenIssuer
from shared.bus import JetStreamBus
from shared.policy.pack import JURISDICTIONS
from shared.settings import GovitSettings
from tests.selection import SERVICES, exercised
from tests.servers import (
    POSTGRES_HINT,
    database_url,
    missing,
    nats_server,
    postgres_available,
    postgres_server,
)

SPANS = InMemorySpanExporter()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--service",
        action="append",
        default=[],
        metavar="NAME",
        help="only the tests exercising this service (repeatable): its unit, service and e2e tests",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "services(*names, by=None, homonyms=()): the services a test exercises (tests/selection.py)",
    )
    unknown = sorted(set(config.getoption("service")) - set(SERVICES))
    if unknown:
        raise pytest.UsageError(
            f"未知服务 {', '.join(unknown)}；可选：{' '.join(SERVICES)} / unknown service"
        )
    # Hundreds of apps start on new databases here: migrated in the test process (Alembic is
    # loaded once), not by a child each; tests/service/test_process.py keeps the child's path.
    os.environ.setdefault("GOVIT_MIGRATIONS_APART", "false")
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(SPANS))
    trace.set_tracer_provider(provider)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    chosen = set(config.getoption("service"))
    if chosen:
        kept = [item for item in items if exercised(item) & chosen]
        config.hook.pytest_deselected(items=[item for item in items if not exercised(item) & chosen])
        items[:] = kept
    if not postgres_available():
        # Skipped before any fixture runs; the reason says how to point them at a server.
        skip = pytest.mark.skip(reason=POSTGRES_HINT)
        for item in items:
            if "postgresql" in getattr(getattr(item, "callspec", None), "params", {}).values():
                item.add_marker(skip)


def pytest_report_collectionfinish(config: pytest.Config, items: Sequence[pytest.Item]) -> list[str]:
    lines = []
    if config.getoption("service"):
        lines.append(f"按服务选择：{' '.join(config.getoption('service'))} / tests exercising these services")
    on_postgres = _on_postgres(items)
    if on_postgres and not postgres_available():
        lines.append(f"{POSTGRES_HINT}（{on_postgres} 项 / tests）")
    return lines


def _on_postgres(items: Sequence[pytest.Item]) -> int:
    return sum("postgresql" in getattr(getattr(i, "callspec", None), "params", {}).values() for i in items)


@pytest.fixture(scope="session")
def spans() -> InMemorySpanExporter:
    return SPANS


@pytest.fixture(scope="session")
def nats_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with nats_server(tmp_path_factory.mktemp("nats")) as url:
        yield url


@pytest.fixture(scope="session")
def postgres_admin_url() -> Iterator[str | None]:
    # Not under pytest's temporary directory: run as root, the embedded server runs as a user of its
    # own, and every pytest session started meanwhile (tests that run pytest) makes that directory
    # private to root again, so the server could no longer reach its data (nor pg_ctl stop it).
    with (
        tempfile.TemporaryDirectory(prefix="govit-postgres-") as store,
        postgres_server(Path(store) / "data") as url,
    ):
        yield url


def unique(prefix: str = "t") -> str:
    return f"{prefix}{uuid.uuid4().hex[:12]}"


@pytest.fixture
def isolation() -> dict[str, str]:
    """A stream name and subject prefix of this test's own, so tests can share one NATS server."""
    tag = unique()
    return {"stream": tag.upper(), "subject_prefix": tag}


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
async def make_database(
    backend: str, tmp_path: Path, postgres_admin_url: str | None
) -> AsyncIterator[Callable[[str], Any]]:
    """make_database(name) -> URL of a fresh, empty database on this test's backend."""
    created: list[str] = []

    async def make(name: str) -> str:
        if backend == "sqlite":
            return f"sqlite+aiosqlite:///{tmp_path / name}.db"
        if postgres_admin_url is None:
            missing("PostgreSQL (GOVIT_TEST_POSTGRES_URL)")
        db = unique(f"govit_{name}_")
        conn = await asyncpg.connect(_plain(postgres_admin_url))
        try:
            await conn.execute(f'CREATE DATABASE "{db}"')
        finally:
            await conn.close()
        created.append(db)
        return database_url(postgres_admin_url, db)

    yield make
    if created and postgres_admin_url is not None:
        conn = await asyncpg.connect(_plain(postgres_admin_url))
        try:
            for db in created:
                await conn.execute(f'DROP DATABASE IF EXISTS "{db}" WITH (FORCE)')
        finally:
            await conn.close()


def _plain(url: str) -> str:
    return url.replace("postgresql+asyncpg://", "postgresql://", 1)


@pytest.fixture
async def drop_stream(nats_url: str, isolation: dict[str, str]) -> AsyncIterator[None]:
    yield
    bus = JetStreamBus(nats_url, stream=isolation["stream"], prefix=isolation["subject_prefix"])
    with contextlib.suppress(Exception):
        await bus.connect(timeout=5)
        await bus.nc.jetstream().delete_stream(isolation["stream"])
    await bus.close()


@contextlib.asynccontextmanager
async def running(app: FastAPI, *, ready: bool = True, timeout: float = 20) -> AsyncIterator[AsyncClient]:
    """Run an app's lifespan and give an HTTP client to it; wait for /readyz unless told not to."""
    async with (
        app.router.lifespan_context(app),
        AsyncClient(transport=ASGITransport(app=app), base_url="http://test") as client,
    ):
        if ready:
            await eventually(lambda: _ready(client), timeout=timeout, what="/readyz")
        yield client


async def _ready(client: AsyncClient) -> bool:
    return (await client.get("/readyz")).status_code == 200


async def eventually(
    check: Callable[[], Any], *, timeout: float = 20, interval: float = 0.05, what: str = "condition"
) -> Any:
    """Poll `check` (sync or async) until it returns something truthy; fail after `timeout` seconds."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return result
        if loop.time() > deadline:
            pytest.fail(f"timed out after {timeout}s waiting for {what}")
        await asyncio.sleep(interval)


def bearer(
    role: Role,
    agency: str | None = None,
    sub: str = "tester",
    jurisdictions: Sequence[str] | None = None,
) -> dict[str, str]:
    """A token of the role; authority, finance, expert and auditor act for every jurisdiction unless
    told which (tests of the scope name them), applicants for their agency alone."""
    if jurisdictions is None:
        jurisdictions = JURISDICTIONS if role in SCOPED_ROLES else ()
    token = TokenIssuer(GovitSettings()).issue(sub=sub, role=role, agency=agency, jurisdictions=jurisdictions)
    return {"Authorization": f"Bearer {token}"}


# The clock of the services a test runs, per bus: events the test publishes as another service
# are dated by it, as that service would date them (a consumer refuses events dated ahead of it).
EVENT_CLOCKS: weakref.WeakKeyDictionary[JetStreamBus, Callable[[], datetime]] = weakref.WeakKeyDictionary()


@contextlib.asynccontextmanager
async def real_bus(
    nats_url: str, isolation: dict[str, str], clock: Callable[[], datetime] | None = None
) -> AsyncIterator[JetStreamBus]:
    """A connected JetStream bus on this test's own stream, deleted afterwards; `clock` dates
    the events the test publishes on it (tests/intake_flow.publish)."""
    bus = JetStreamBus(nats_url, stream=isolation["stream"], prefix=isolation["subject_prefix"])
    if clock is not None:
        EVENT_CLOCKS[bus] = clock
    await bus.connect(timeout=10)
    await bus.ensure_stream()
    try:
        yield bus
    finally:
        with contextlib.suppress(Exception):
            await bus.nc.jetstream().delete_stream(isolation["stream"])
        await bus.close()


async def on_the_stream(bus: JetStreamBus, subject: str, *, within: float = 30) -> list[Msg]:
    """Every message the bus's stream holds under `subject` now, oldest first. The count is the
    reading consumer's own when it is made, so a server slow to deliver (a loaded machine, a
    cluster electing) is waited for up to `within` seconds, never taken for an empty stream. A
    message not yet published is not waited for: a test expecting one asks with `eventually`."""
    sub = await bus.nc.jetstream().pull_subscribe(subject, durable=None, stream=bus.stream)
    try:
        expected = (await sub.consumer_info()).num_pending
        found: list[Msg] = []
        deadline = asyncio.get_running_loop().time() + within
        while len(found) < expected and asyncio.get_running_loop().time() < deadline:
            with contextlib.suppress(TimeoutError):
                found += await sub.fetch(batch=min(expected - len(found), 500), timeout=2)
        return found
    finally:
        await sub.unsubscribe()
