"""The outbox relay: what it marks as sent, and who relays when a service has replicas."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.ext.asyncio import async_sessionmaker

from services.intake.db import IntakeUnitOfWork
from services.intake.main import SPEC
from shared.contracts.intake import ProjectDeclared
from shared.db import create_engine, migrate, outbox
from shared.membus import InMemoryBus
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


class Flaky(InMemoryBus):
    """The in-memory bus, refusing every publish while `down` is set, as NATS away would."""

    def __init__(self) -> None:
        super().__init__()
        self.down = False
        self.attempts: list[str] = []

    async def publish(self, subject: str, data: bytes, headers: dict[str, str]) -> None:
        self.attempts.append(subject.split(".")[3])
        if self.down:
            raise ConnectionError("NATS is not connected")
        await super().publish(subject, data, headers)


class Counting(OutboxRelay):
    """The relay, counting its scans of the outbox."""

    scans = 0

    async def publish_pending(self) -> int:
        self.scans += 1
        return await super().publish_pending()


@contextlib.asynccontextmanager
async def relaying(relay: OutboxRelay) -> AsyncIterator[None]:
    """The relay running for the block, then stopped as a service stops it."""
    stop = asyncio.Event()
    task = asyncio.create_task(relay.run(stop))
    try:
        yield
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)


async def _declare(sessions: Any, relay: OutboxRelay, *projects: str) -> None:
    for project in projects:
        async with IntakeUnitOfWork(
            sessions, source="/t", subject_prefix="govit", on_commit=relay.committed
        ) as uow:
            uow.emit(declared(project))
            await uow.commit()


async def _unmarked(sessions: Any) -> int:
    async with sessions() as session:
        return len((await session.execute(select(outbox.c.seq).where(outbox.c.published_at.is_(None)))).all())


async def test_commits_are_published_as_handed_over_without_scanning_the_outbox(engine: Any) -> None:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    bus = InMemoryBus()
    relay = Counting(engine, bus, Metrics("t"), name="intake", poll=60)
    await _declare(sessions, relay, "before-1", "before-2")  # committed before the relay runs
    async with relaying(relay):
        await eventually(lambda: len(bus.messages) == 2, what="the rows written before the start")
        await eventually(lambda: relay.caught_up, what="a scan that finds nothing new")
        scans = relay.scans
        await _declare(sessions, relay, "a", "b", "c")
        await eventually(lambda: len(bus.messages) == 5, what="the handed-over rows")
        assert relay.scans == scans  # published from the hand-over; the outbox was not read again
        assert [m.subject.split(".")[3] for m in bus.messages] == ["before-1", "before-2", "a", "b", "c"]
        await eventually(lambda: _zero(sessions), what="every row marked as sent")


async def _zero(sessions: Any) -> bool:
    return await _unmarked(sessions) == 0


async def test_a_failed_hand_over_falls_back_to_the_outbox_in_commit_order(engine: Any) -> None:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    bus = Flaky()
    relay = OutboxRelay(engine, bus, Metrics("t"), name="intake", poll=0.05)
    async with relaying(relay):
        await _declare(sessions, relay, "a")
        await eventually(lambda: len(bus.messages) == 1, what="the first row")
        bus.down = True
        await _declare(sessions, relay, "b", "c")  # handed over, refused, left in the outbox
        await eventually(lambda: "b" in bus.attempts, what="an attempt while NATS is away")
        await _declare(sessions, relay, "d")
        bus.down = False
        await _declare(sessions, relay, "e")
        await eventually(lambda: len(bus.messages) == 5, what="every row once NATS is back")
        # The later commit does not overtake the ones the outage held back.
        assert [m.subject.split(".")[3] for m in bus.messages] == ["a", "b", "c", "d", "e"]
        await eventually(lambda: _zero(sessions), what="every row marked as sent")


class SneakingIn(OutboxRelay):
    """The relay, with a commit landing right after its first scan read the outbox."""

    def __init__(self, *args: Any, sneak: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.sneak = sneak

    async def publish_pending(self) -> int:
        published = await super().publish_pending()
        if self.sneak is not None:
            sneak, self.sneak = self.sneak, None
            await sneak()
        return published


async def test_a_commit_between_a_scan_and_its_verdict_is_not_overtaken(engine: Any) -> None:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    bus = InMemoryBus()
    relay = SneakingIn(
        engine, bus, Metrics("t"), name="intake", poll=60, sneak=lambda: _declare(sessions, relay, "x")
    )
    async with relaying(relay):
        await eventually(lambda: relay.sneak is None, what="the first scan")
        await _declare(sessions, relay, "z")
        await eventually(
            lambda: len(bus.messages) == 2, timeout=5, what="both rows, without waiting for a poll"
        )
        assert [m.subject.split(".")[3] for m in bus.messages] == ["x", "z"]


async def test_a_scan_that_finds_a_commit_keeps_the_relay_caught_up_and_sends_it_once(engine: Any) -> None:
    """A scan (an idle poll, or the leader finding a replica's rows) that takes in every pending
    row leaves the relay caught up: the next commits are sent as handed over, without a further
    scan. A row the scan sent before its own hand-over came is not sent again."""
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    bus = InMemoryBus()
    relay = Counting(engine, bus, Metrics("t"), name="intake", poll=60)
    async with relaying(relay):
        await eventually(lambda: relay.caught_up, what="the first scan")
        late: list[Any] = []  # committed here, handed over only after a scan has sent it
        async with IntakeUnitOfWork(
            sessions, source="/t", subject_prefix="govit", on_commit=late.extend
        ) as uow:
            uow.emit(declared("found"))
            await uow.commit()
        scans = relay.scans
        relay.wakeup.set()  # as a poll does
        await eventually(lambda: len(bus.messages) == 1, what="the row the scan found")
        assert relay.scans == scans + 1 and relay.caught_up
        relay.committed(late)
        await _declare(sessions, relay, "next")
        await eventually(lambda: len(bus.messages) >= 2, what="the handed-over row")
        await eventually(lambda: _zero(sessions), what="every row marked as sent")
        assert [m.subject.split(".")[3] for m in bus.messages] == ["found", "next"]
        assert relay.scans == scans + 1  # no scan since
