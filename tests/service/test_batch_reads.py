"""A batch kept whole reads its aggregates at once and writes its rows together: one statement
reads (and locks) the batch's rows, the rows reach the database in one flush at the end, and the
audit chain still holds one entry per event's change, made by that event; on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, replace
from typing import Any

import pytest
from opentelemetry import trace
from sqlalchemy import event as sa_event
from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker
from sqlalchemy.orm import registry

from shared import telemetry
from shared.consume import EventDispatcher, HandlerContext
from shared.contracts.intake import ProjectDeclared
from shared.db import AggregateRepository, OutboxRow, UnitOfWork
from shared.metrics import Metrics
from shared.policy import load_registry
from shared.workdays import WorkingCalendar
from tests.service.test_audit import Thing, entries, notes, verdict
from tests.service.test_batch import Handled, engine, event, kinds, things
from tests.service.test_batch import dispatcher as emitting

__all__ = ["engine"]  # the fixture, shared with test_batch


@sa_event.listens_for(Thing, "load")
def _loaded(thing: Thing, _context: Any) -> None:
    thing.events = []  # as the services' aggregates start with no events raised


@dataclass
class Note:
    text: str
    seq: int | None = None


registry().map_imperatively(Note, notes)


class Things(AggregateRepository[Thing]):
    model = Thing


class ThingsUnit(UnitOfWork):
    read_with_batch = ("things",)
    things: Things

    async def __aenter__(self) -> ThingsUnit:
        await super().__aenter__()
        self.things = Things(self.session, self)
        return self


class Counting:
    """Adds the project's Thing or counts it up, through the repository; notes some events in a
    table whose key the database generates, by a Core INSERT or as an ORM object."""

    def __init__(self, noted: frozenset[str] = frozenset(), objects: frozenset[str] = frozenset()) -> None:
        self.noted = noted
        self.objects = objects

    async def __call__(self, uow: ThingsUnit, event: ProjectDeclared, ctx: HandlerContext) -> None:
        assert ctx.envelope is not None
        thing = await uow.things.get(event.project_id)
        if thing is None:
            uow.things.add(Thing(event.project_id, ctx.envelope.id, 1))
        else:
            thing.count += 1
        if ctx.envelope.id in self.noted:
            await uow.session.execute(notes.insert().values(text=ctx.envelope.id))
        if ctx.envelope.id in self.objects:
            uow.session.add(Note(ctx.envelope.id))


def units(engine: AsyncEngine) -> Any:
    sessions = async_sessionmaker(engine, expire_on_commit=False)
    return lambda: ThingsUnit(sessions, source="/govit/funding", subject_prefix="govit")


def dispatcher(engine: AsyncEngine, handler: Counting) -> EventDispatcher:
    return EventDispatcher(
        durable="batch",
        subscriptions={ProjectDeclared: handler},
        uow_factory=units(engine),
        context=HandlerContext(policy=load_registry(), calendar=WorkingCalendar()),
        max_deliver=3,
        metrics=Metrics("test"),
        prefix="govit",
        batch=64,
    )


@pytest.fixture
def statements(engine: AsyncEngine) -> AsyncIterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(" ".join(statement.split()[:4]).upper())

    sa_event.listen(engine.sync_engine, "before_cursor_execute", record)
    yield seen
    sa_event.remove(engine.sync_engine, "before_cursor_execute", record)


async def _existing(engine: AsyncEngine, project: str, count: int) -> None:
    async with units(engine)() as uow:
        uow.things.add(Thing(project, "old", count))
        await uow.commit()


def _summary(logged: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    fields = ("entity", "key", "action", "before", "after")
    return [(*(e[f] for f in fields), e["actor"].get("id")) for e in logged]


async def test_a_batch_reads_its_rows_in_one_statement_writes_them_in_one_flush_and_logs_each_event(
    engine: AsyncEngine, statements: list[str]
) -> None:
    await _existing(engine, "p3", 5)
    statements.clear()
    batch = [event("p1", "e1"), event("p1", "e2"), event("p2", "e3"), event("p3", "e4")]
    assert kinds(await dispatcher(engine, Counting()).settle(batch)) == ["Ack"] * 4
    on_things = sorted(s.split()[0] for s in statements if "THINGS" in s)
    assert on_things == ["INSERT", "SELECT", "UPDATE"], statements
    assert await things(engine) == {"p1": 2, "p2": 1, "p3": 6}
    assert _summary(await entries(engine))[1:] == [  # after the existing p3's entry
        ("things", '["p1"]', "insert", None, {"id": "p1", "colour": "e1", "count": 1}, "e1"),
        ("things", '["p1"]', "update", {"count": 1}, {"count": 2}, "e2"),
        ("things", '["p2"]', "insert", None, {"id": "p2", "colour": "e3", "count": 1}, "e3"),
        ("things", '["p3"]', "update", {"count": 5}, {"count": 6}, "e4"),
    ]
    assert (await verdict(engine)).intact


async def test_rows_the_database_keys_are_logged_with_their_keys_by_their_events(
    engine: AsyncEngine, statements: list[str]
) -> None:
    # n2 inserts through Core (written at once), n3 adds an ORM object with no key yet: its part is
    # flushed at its end, and the parts before it are written with it.
    handler = Counting(noted=frozenset({"n2"}), objects=frozenset({"n3"}))
    batch = [event("p1", "n1"), event("p1", "n2"), event("p2", "n3"), event("p2", "n4")]
    assert kinds(await dispatcher(engine, handler).settle(batch)) == ["Ack"] * 4
    async with engine.connect() as conn:
        keys = dict((await conn.execute(select(notes.c.text, notes.c.seq))).tuples().all())
    assert _summary(await entries(engine)) == [
        ("things", '["p1"]', "insert", None, {"id": "p1", "colour": "n1", "count": 1}, "n1"),
        ("notes", f"[{keys['n2']}]", "insert", None, {"seq": keys["n2"], "text": "n2"}, "n2"),
        ("things", '["p1"]', "update", {"count": 1}, {"count": 2}, "n2"),
        ("things", '["p2"]', "insert", None, {"id": "p2", "colour": "n3", "count": 1}, "n3"),
        ("notes", f"[{keys['n3']}]", "insert", None, {"seq": keys["n3"], "text": "n3"}, "n3"),
        ("things", '["p2"]', "update", {"count": 1}, {"count": 2}, "n4"),
    ]
    assert await things(engine) == {"p1": 2, "p2": 2}
    assert (await verdict(engine)).intact


async def test_a_row_added_in_a_batch_is_found_by_the_next_event_and_a_failure_leaves_nothing(
    engine: AsyncEngine,
) -> None:
    class Failing(Counting):
        async def __call__(self, uow: ThingsUnit, event: ProjectDeclared, ctx: HandlerContext) -> None:
            await super().__call__(uow, event, ctx)
            assert ctx.envelope is not None
            if ctx.envelope.id == "f3":
                raise ValueError("the third fails")

    batch = [event("p1", "f1"), event("p1", "f2"), event("p1", "f3"), event("p2", "f4")]
    # Tried whole, the third fails: the batch is handled again apart, the third rolled back alone.
    assert kinds(await dispatcher(engine, Failing()).settle(batch)) == ["Ack", "Ack", "Retry", "Ack"]
    assert await things(engine) == {"p1": 2, "p2": 1}
    assert [(e["key"], e["action"], e["actor"].get("id")) for e in await entries(engine)] == [
        ('["p1"]', "insert", "f1"),
        ('["p1"]', "update", "f2"),
        ('["p2"]', "insert", "f4"),
    ]
    assert (await verdict(engine)).intact


async def test_without_a_tracing_sdk_an_events_trace_context_is_carried_on_to_the_events_it_causes(
    engine: AsyncEngine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(telemetry, "recording", lambda: False)  # as in a service with no exporter
    trace_id = "4bf92f3577b34da6a3ce929d0e0e4736"
    carried = {"traceparent": f"00-{trace_id}-00f067aa0ba902b7-01"}
    committed: list[OutboxRow] = []
    batch = [replace(event("p1", "t1"), headers=carried), replace(event("p2", "t2"), headers=carried)]
    assert kinds(await emitting(engine, Handled(), committed).settle(batch)) == ["Ack", "Ack"]
    assert [row["headers"]["traceparent"].split("-")[1] for row in committed] == [trace_id, trace_id]
    assert not trace.get_current_span().get_span_context().is_valid  # and it ended with the batch


async def test_on_postgresql_every_statement_is_planned_for_the_rows_the_tables_hold_now(
    engine: AsyncEngine,
) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite plans each statement when it is prepared")
    async with engine.connect() as conn:  # not a generic plan fixed while the tables were empty
        assert await conn.scalar(text("SHOW plan_cache_mode")) == "force_custom_plan"
