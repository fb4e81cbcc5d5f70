"""The outbox relay: what it marks as sent, and who relays when a service has replicas."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.intake.db import IntakeUnitOfWork
from services.intake.main import SPEC
from shared.bus import InMemoryBus
from shared.contracts.intake import ProjectDeclared
from shared.db import create_engine, migrate, outbox
from shared.metrics import Metrics
from shared.relay import OutboxRelay
from tests.conftest import eventually


class FailingOn(InMemoryBus):
    """The in-memory bus, refusing one subject as a broker would refuse an oversized message."""

    def __init__(self, refused: str) -> None:
        super().__init__()
        self.refused = refused

    async def publish(self, subject: str, data: bytes, headers: dict[str, str]) -> None:
        if self.refused in subject:
            raise ConnectionError("refused by the broker")
        await super().publish(subject, data, headers)


def declared(project_id: str) -> ProjectDeclared:
    return ProjectDeclared(
        project_id=project_id,
        jurisdiction="lhasa",
        agency="市经信局",
        title="项目",
        kind="service",
        amount_fen=1,
    )


@pytest.fixture
async def engine(make_database: Any) -> Any:
    engine = create_engine(await make_database("intake"))
    await migrate(engine, Path(SPEC.migrations))
    yield engine
    await engine.dispose()


async def test_rows_published_before_a_failure_in_the_batch_stay_marked_as_sent(engine: Any) -> None:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    async with IntakeUnitOfWork(sessions, source="/t", subject_prefix="govit") as uow:
        uow.emit(declared("first"), declared("second"), declared("third"))
        await uow.commit()
    bus = FailingOn(".second.")
    relay = OutboxRelay(engine, bus, Metrics("t"), name="intake")
    with pytest.raises(ConnectionError):
        await relay.publish_pending()
    async with sessions() as session:
        sent = dict((await session.execute(select(outbox.c.subject, outbox.c.published_at))).all())
    marked = {subject.split(".")[3]: at is not None for subject, at in sent.items()}
    assert marked == {"first": True, "second": False, "third": False}
    assert [m.subject.split(".")[3] for m in bus.messages] == ["first"]


async def test_only_one_replica_relays_at_a_time_on_postgresql(engine: Any, backend: str) -> None:
    if backend != "postgresql":
        pytest.skip("SQLite has one process per database file")
    relays = [OutboxRelay(engine, InMemoryBus(), Metrics("t"), name="intake", poll=0.1) for _ in range(2)]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(r.run(stop)) for r in relays]
    try:
        await eventually(lambda: any(r.leading for r in relays), what="a leader")
        await asyncio.sleep(0.5)
        assert [r.leading for r in relays].count(True) == 1
        # The leader stops: the stand-by takes over.
        leader = next(i for i, r in enumerate(relays) if r.leading)
        tasks[leader].cancel()
        await asyncio.gather(tasks[leader], return_exceptions=True)
        await eventually(lambda: relays[1 - leader].leading, what="the stand-by to take over")
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 10)
