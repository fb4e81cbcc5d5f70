"""A fetched batch settled in one transaction (GOVIT_CONSUMER_BATCH > 1): each event in a savepoint of
its own, a failing one rolled back alone, nothing doubled, the audit chain holding exactly the events
that committed; on SQLite and PostgreSQL, and through the funding service on a real JetStream."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event as sa_event
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from services.funding.main import create_app as create_funding
from services.funding.settings import FundingSettings
from shared import audit
from shared.auth import Role
from shared.bus import DeadLetter, Delivery, Outcome, dead_letter_subject
from shared.consume import EventDispatcher, HandlerContext
from shared.contracts import encode, subject_for
from shared.contracts.intake import ProjectDeclared
from shared.db import OutboxRow, UnitOfWork, create_engine, inbox, infrastructure, outbox
from shared.metrics import Metrics
from shared.policy import load_registry
from shared.workdays import WorkingCalendar
from tests.conftest import bearer, eventually, on_the_stream, real_bus, running, unique
from tests.service.test_audit import Thing, entries, metadata, verdict
from tests.service.test_delivery import declared, holds, send


@pytest.fixture
async def engine(make_database: Any) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(await make_database("batch"))
    async with engine.begin() as conn:
        for tables in (metadata, infrastructure, audit.audit_metadata):
            await conn.run_sync(tables.create_all)
    yield engine
    await engine.dispose()


class Handled:
    """The test's handler: adds or counts up the project's Thing and emits the event again."""

    def __init__(self) -> None:
        self.calls: list[str] = []
        self.poisoned: set[str] = set()
        self.away: set[str] = set()  # event ids whose handling finds the database away
        self.fail_after_change: set[str] = set()

    async def __call__(self, uow: UnitOfWork, event: ProjectDeclared, ctx: HandlerContext) -> None:
        assert ctx.envelope is not None
        event_id = ctx.envelope.id
        self.calls.append(event_id)
        if event_id in self.away:
            raise OperationalError("SELECT 1", {}, ConnectionRefusedError("database is away"))
        if event.project_id in self.poisoned:
            raise ValueError(f"poisoned {event_id}")
        thing = await uow.session.get(Thing, event.project_id)
        if thing is None:
            thing = Thing(event.project_id, event_id, 1)
            uow.session.add(thing)
        else:
            thing.count += 1
        uow.track(thing)
        thing.events.append(event)
        if event_id in self.fail_after_change:
            await uow.session.flush()
            raise ValueError(f"failed after changing {event.project_id}")


def dispatcher(engine: AsyncEngine, handler: Handled, committed: list[OutboxRow] | None = None) -> Any:
    sessions = async_sessionmaker(engine, expire_on_commit=False)

    def uow() -> UnitOfWork:
        return UnitOfWork(
            sessions,
            source="/govit/funding",
            subject_prefix="govit",
            on_commit=None if committed is None else committed.extend,
        )

    return EventDispatcher(
        durable="batch",
        subscriptions={ProjectDeclared: handler},
        uow_factory=uow,
        context=HandlerContext(policy=load_registry(), calendar=WorkingCalendar()),
        max_deliver=3,
        metrics=Metrics("test"),
        prefix="govit",
        batch=64,
    )


def event_of(project: str) -> ProjectDeclared:
    return ProjectDeclared(
        project_id=project, jurisdiction="xunyang", agency="局", title="平台", kind="service", amount_fen=1
    )


def event(project: str, event_id: str, attempt: int = 1, seq: int = 1) -> Delivery:
    declared_event = event_of(project)
    raw = encode(declared_event, source="/govit/intake", event_id=event_id)
    return Delivery(subject_for("govit", declared_event), raw, {}, attempt, seq)


def kinds(outcomes: Sequence[Outcome]) -> list[str]:
    return [type(o).__name__ for o in outcomes]


async def count(engine: AsyncEngine, table: Any) -> int:
    async with engine.connect() as conn:
        return int(await conn.scalar(select(func.count()).select_from(table)) or 0)


async def things(engine: AsyncEngine) -> dict[str, int]:
    async with engine.connect() as conn:
        rows = await conn.execute(select(metadata.tables["things"]))
        return {r.id: r.count for r in rows}


async def test_a_poisoned_event_in_a_batch_fails_alone_and_is_dead_lettered_after_max_deliver(
    engine: AsyncEngine,
) -> None:
    handler = Handled()
    handler.poisoned = {"p3"}
    committed: list[OutboxRow] = []
    dispatch = dispatcher(engine, handler, committed)
    batch = [event(f"p{n}", f"e{n}", seq=n) for n in range(1, 6)]
    assert kinds(await dispatch.settle(batch)) == ["Ack", "Ack", "Retry", "Ack", "Ack"]
    assert await things(engine) == {"p1": 1, "p2": 1, "p4": 1, "p5": 1}
    assert await count(engine, inbox) == 4 and await count(engine, outbox) == 4
    assert sorted(json.loads(r["body"])["data"]["project_id"] for r in committed) == ["p1", "p2", "p4", "p5"]

    # Redelivered (the poisoned one for the second and third time): nothing doubled.
    again = [event(f"p{n}", f"e{n}", attempt=2, seq=n) for n in range(1, 6)]
    assert kinds(await dispatch.settle(again)) == ["Ack", "Ack", "Retry", "Ack", "Ack"]
    last = await dispatch.settle([event("p3", "e3", attempt=3, seq=3)])
    assert isinstance(last[0], DeadLetter) and "poisoned e3" in last[0].reason
    assert await things(engine) == {"p1": 1, "p2": 1, "p4": 1, "p5": 1}
    assert await count(engine, inbox) == 4 and await count(engine, outbox) == 4
    assert len(committed) == 4

    logged = await entries(engine)
    assert [(e["entity"], e["key"], e["action"]) for e in logged] == [
        ("things", f'["p{n}"]', "insert") for n in (1, 2, 4, 5)
    ]
    assert [e["actor"]["id"] for e in logged] == ["e1", "e2", "e4", "e5"]  # each its own event
    assert all(e["actor"]["kind"] == "event" for e in logged)
    found = await verdict(engine)
    assert found.intact and found.checked == 4


async def test_a_transient_failure_retries_only_its_event_and_holds_back_its_projects_later_events(
    engine: AsyncEngine,
) -> None:
    handler = Handled()
    handler.away = {"a1"}
    dispatch = dispatcher(engine, handler)
    batch = [event("p1", "a1", attempt=50), event("p1", "a2"), event("p2", "b1"), event("p1", "a3")]
    outcomes = await dispatch.settle(batch)
    assert kinds(outcomes) == ["Retry", "Retry", "Ack", "Retry"]  # beyond max_deliver: still a retry
    # tried whole (a1 failed first), then apart: p1's later events waited for a1
    assert handler.calls == ["a1", "a1", "b1"]
    assert await things(engine) == {"p2": 1}
    handler.away.clear()
    handler.calls.clear()
    assert kinds(await dispatch.settle(batch)) == ["Ack", "Ack", "Ack", "Ack"]
    assert handler.calls == ["a1", "a2", "a3"]  # in order; b1 was handled before
    assert await things(engine) == {"p1": 3, "p2": 1}
    assert await count(engine, inbox) == 4 and await count(engine, outbox) == 4
    assert (await verdict(engine)).intact


async def test_changes_of_one_object_across_savepoints_are_logged_per_event_and_a_failed_one_not(
    engine: AsyncEngine,
) -> None:
    handler = Handled()
    handler.fail_after_change = {"x3"}
    dispatch = dispatcher(engine, handler)
    batch = [event("p1", "x1"), event("p1", "x2"), event("p1", "x3"), event("p2", "y1")]
    assert kinds(await dispatch.settle(batch)) == ["Ack", "Ack", "Retry", "Ack"]
    assert await things(engine) == {"p1": 2, "p2": 1}
    logged = await entries(engine)
    summary = [(e["key"], e["action"], e["before"], e["after"], e["actor"]["id"]) for e in logged]
    assert summary == [
        ('["p1"]', "insert", None, {"id": "p1", "colour": "x1", "count": 1}, "x1"),
        ('["p1"]', "update", {"count": 1}, {"count": 2}, "x2"),
        ('["p2"]', "insert", None, {"id": "p2", "colour": "y1", "count": 1}, "y1"),
    ]
    assert (await verdict(engine)).intact and await count(engine, outbox) == 3


async def test_a_batch_without_a_failure_is_one_transaction_with_no_savepoint_and_each_event_its_entry(
    engine: AsyncEngine,
) -> None:
    statements: list[str] = []

    def seen(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement.split()[0].upper())

    sa_event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        handler = Handled()
        dispatch = dispatcher(engine, handler)
        batch = [event("p1", "w1"), event("p1", "w2"), event("p2", "v1"), event("p1", "w1")]
        assert kinds(await dispatch.settle(batch)) == ["Ack"] * 4  # the doubled w1 is handled once
    finally:
        sa_event.remove(engine.sync_engine, "before_cursor_execute", seen)
    assert "SAVEPOINT" not in statements and "RELEASE" not in statements
    assert handler.calls == ["w1", "w2", "v1"]
    assert await things(engine) == {"p1": 2, "p2": 1}
    summary = [(e["key"], e["action"], e["after"], e["actor"]["id"]) for e in await entries(engine)]
    assert summary == [
        ('["p1"]', "insert", {"id": "p1", "colour": "w1", "count": 1}, "w1"),
        ('["p1"]', "update", {"count": 2}, "w2"),
        ('["p2"]', "insert", {"id": "p2", "colour": "v1", "count": 1}, "v1"),
    ]
    assert await count(engine, inbox) == 3 and await count(engine, outbox) == 3
    assert (await verdict(engine)).intact


async def test_when_the_commit_fails_every_event_of_the_batch_is_retried(engine: AsyncEngine) -> None:
    handler = Handled()
    dispatch = dispatcher(engine, handler)
    plain_factory = dispatch.uow_factory

    def failing() -> UnitOfWork:
        uow = plain_factory()

        async def commit() -> None:
            raise OperationalError("COMMIT", {}, ConnectionResetError("gone"))

        uow.commit = commit  # type: ignore[method-assign]
        return uow

    dispatch.uow_factory = failing
    outcomes = await dispatch.settle([event("p1", "c1"), event("p2", "c2")])
    assert kinds(outcomes) == ["Retry", "Retry"]
    assert await things(engine) == {} and await count(engine, inbox) == 0
    dispatch.uow_factory = plain_factory
    assert kinds(await dispatch.settle([event("p1", "c1"), event("p2", "c2")])) == ["Ack", "Ack"]
    assert await things(engine) == {"p1": 1, "p2": 1}


async def test_a_savepoint_rolls_back_alone_and_a_claim_in_it_sees_an_earlier_one(
    engine: AsyncEngine,
) -> None:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    rows: list[OutboxRow] = []
    token = audit.current_actor.set({"kind": "user", "sub": "甲"})
    try:
        async with UnitOfWork(sessions, source="/t", subject_prefix="t", on_commit=rows.extend) as uow:
            async with uow.savepoint():
                assert await uow.claim("m1", "t", "c")
                uow.session.add(Thing("a", "red", 1))
            async with uow.savepoint():
                assert not await uow.claim("m1", "t", "c")  # the same transaction's earlier claim
            with pytest.raises(IntegrityError):
                async with uow.savepoint():  # the flush fails: only this savepoint is rolled back
                    uow.session.add(Thing("a", "blue", 2))
            with pytest.raises(ValueError, match="given up"):
                async with uow.savepoint():
                    thing = Thing("b", "green", 3)
                    uow.session.add(thing)
                    uow.track(thing)
                    thing.events.append(event_of("p"))
                    raise ValueError("given up")
            async with uow.savepoint():
                kept = await uow.session.get(Thing, "a")  # read afresh: the first savepoint's row
                assert kept is not None and kept.colour == "red"
                kept.count = 7
            await uow.commit()
    finally:
        audit.current_actor.reset(token)
    assert await things(engine) == {"a": 7} and await count(engine, inbox) == 1
    assert rows == [] and await count(engine, outbox) == 0  # the event of the rolled-back savepoint
    logged = await entries(engine)
    assert [(e["key"], e["action"], e["after"]) for e in logged] == [
        ('["a"]', "insert", {"id": "a", "colour": "red", "count": 1}),
        ('["a"]', "update", {"count": 7}),
    ]
    assert (await verdict(engine)).intact


async def test_a_service_batches_by_its_database_unless_told(
    make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> None:
    url = await make_database("funding")
    settings = FundingSettings(
        database_url=url,
        nats_url=nats_url,
        var_dir=tmp_path,
        environment="test",
        consumer_batch=None,
        **isolation,
    )
    app = create_funding(settings)
    async with running(app):
        # PostgreSQL: each statement a round trip, shared by more events; SQLite: the one write lock
        dispatcher = app.state.runtime.dispatcher
        assert dispatcher.least_batch == 64
        assert dispatcher.batch == (256 if url.startswith("postgresql") else 64)
    told = settings.model_copy(update={"consumer_batch": 8})
    assert told.batch_on("postgresql") == told.batch_on("sqlite") == (8, 8)


async def test_the_funding_service_settles_a_batch_with_a_poisoned_event_on_jetstream(
    make_database: Any, nats_url: str, isolation: dict[str, str], tmp_path: Path
) -> None:
    settings = FundingSettings(
        database_url=await make_database("funding"),
        nats_url=nats_url,
        var_dir=tmp_path,
        environment="test",
        consumer_batch=64,
        max_deliver=2,
        **isolation,
    )
    app = create_funding(settings)
    projects = [(unique("p"), unique("局")) for _ in range(6)]
    poisoned = projects[2][0]
    async with real_bus(nats_url, isolation) as bus, running(app) as funding:
        dispatch = app.state.runtime.dispatcher
        assert dispatch.batch == 64
        handler = dispatch.handlers[ProjectDeclared.model_fields["type"].default]

        async def poisoning(uow: Any, event: Any, ctx: Any) -> None:
            if event.project_id == poisoned:
                raise ValueError("poisoned")
            await handler(uow, event, ctx)

        dispatch.handlers[ProjectDeclared.model_fields["type"].default] = poisoning
        for n, (project, agency) in enumerate(projects):
            await send(bus, declared(project, agency), event_id=f"d{n}")

        async def all_known() -> bool:
            for project, agency in projects:
                if project == poisoned:
                    continue
                got = await funding.get(f"/projects/{project}", headers=bearer(Role.APPLICANT, agency))
                if got.status_code != 200:
                    return False
            return True

        await eventually(all_known, what="the good events of the batch")
        dlq = dead_letter_subject(bus.prefix, "funding")
        await eventually(
            lambda: holds(bus, dlq, 1), timeout=60, what="the poisoned event dead-lettered"
        )  # a redelivery the broker hands to a lapsed pull request comes back after ack_wait (30 s)
        await asyncio.sleep(0.5)
        parked = await on_the_stream(bus, dlq)
        assert len(parked) == 1 and json.loads(parked[0].data)["data"]["project_id"] == poisoned
        async with app.state.runtime.new_uow() as uow:
            handled = await uow.session.scalar(select(func.count()).select_from(inbox))
        assert handled == 5
        answer = await funding.get(f"/projects/{poisoned}", headers=bearer(Role.APPLICANT, projects[2][1]))
        assert answer.status_code == 404
