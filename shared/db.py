"""Units of work: the service's state change, its outbox events and its inbox claim in one
transaction; the outbox/inbox tables; the tracked-aggregate repository.

The engine, migrations and fault classification live in shared.engine, the clock in
shared.clock; both are re-exported here, where the services have always found them."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Iterator, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from datetime import datetime
from types import TracebackType
from typing import Any, ClassVar, TypedDict

from opentelemetry import propagate
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    bindparam,
    text,
)
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared import audit
from shared import savepoint as savepoints
from shared.clock import file_clock, set_clock, utcnow
from shared.contracts import Event, encode, subject_for
from shared.engine import (
    READ_ONLY,
    TRANSIENT,
    WriterQueueTimeout,
    can_write,
    create_engine,
    is_busy,
    is_transient,
    migrate,
    ping,
    read_only_sessions,
    run_migrations_online,
)
from shared.repository import AggregateRepository as AggregateRepository
from shared.repository import HasEvents
from shared.sqltypes import UTCDateTime
from shared.statements import NUMBERED_AT_ONCE, claiming, numbering

__all__ = [
    "READ_ONLY",
    "TRANSIENT",
    "WriterQueueTimeout",
    "can_write",
    "create_engine",
    "file_clock",
    "is_busy",
    "is_transient",
    "migrate",
    "ping",
    "read_only_sessions",
    "run_migrations_online",
    "set_clock",
    "utcnow",
]

log = logging.getLogger(__name__)


# Outbox and inbox live in every service's own database (one migration each creates them).
infrastructure = MetaData()

outbox = Table(
    "outbox",
    infrastructure,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("event_id", String(64), nullable=False, unique=True),
    Column("event_type", String(128), nullable=False),
    Column("subject", String(255), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("headers", JSON, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("published_at", UTCDateTime, nullable=True, index=True),
    # the project the event is about (also in its subject): a project's events, read back in order
    Column("project_id", String(64), nullable=True),
    Index("ix_outbox_project_id", "project_id", "seq"),
    info={audit.SKIP_INFO_KEY: False},  # bookkeeping of delivery, not state
)
_INSERT_OUTBOX = outbox.insert()

inbox = Table(
    "inbox",
    infrastructure,
    Column("consumer", String(64), primary_key=True),
    Column("event_id", String(64), primary_key=True),
    Column("event_type", String(128), nullable=False),
    Column("handled_at", UTCDateTime, nullable=False),
    Column("source", String(255), nullable=True),  # the system the event came from
    Column("recorded_by", String(128), nullable=True),  # recorded by hand (POST /manual-events)
    Column("document_ref", String(200), nullable=True),
    info={audit.SKIP_INFO_KEY: False},
)


# The producer's numbering of its events per project (the CloudEvents `sequence` extension):
# consumers order one producer's facts about a project by it, never by the time an event claims.
event_sequence = Table(
    "event_sequence",
    infrastructure,
    Column("project_id", String(64), primary_key=True),
    Column("last", BigInteger, nullable=False),
    info={audit.SKIP_INFO_KEY: False},
)


# The upserts as text: the dialects' INSERT … ON CONFLICT constructs have no cache key, so
# SQLAlchemy would compile them again on every event. Both databases read this syntax.
_CLAIM = text(
    f"INSERT INTO inbox ({', '.join(c.name for c in inbox.c)}) "
    f"VALUES ({', '.join(':' + c.key for c in inbox.c)}) ON CONFLICT DO NOTHING"
).bindparams(*(bindparam(c.key, type_=c.type) for c in inbox.c))


class OutboxRow(TypedDict):
    """One event as the outbox stores it, ready to publish."""

    event_id: str
    event_type: str
    subject: str
    project_id: str
    body: bytes
    headers: dict[str, str]
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Raised:
    """An event raised in a unit of work, waiting for its commit: its id and trace headers."""

    event: Event
    event_id: str
    headers: dict[str, str]


class UnitOfWork:
    """One transaction: the aggregates' state and the events they raised commit together.

    Services subclass it in their db.py to add repositories. Events raised by tracked
    aggregates (or passed to `emit`) are written to the outbox in the same transaction;
    the relay publishes them after commit.
    """

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        source: str,
        subject_prefix: str,
        on_commit: Callable[[Sequence[OutboxRow]], None] | None = None,
        clock: Callable[[], datetime] = utcnow,
        read_only: bool = False,
    ) -> None:
        """`on_commit` is told the outbox rows of each commit once it is durable (the relay);
        `clock` is the service's, and dates the events (their CloudEvents `time`). A `read_only`
        unit reads (sessions from read_only_sessions): it takes no row locks."""
        self._sessions = sessions
        self.read_only = read_only
        self._clock = clock
        self.source = source
        self.subject_prefix = subject_prefix
        self._on_commit = on_commit
        self._tracked: list[HasEvents] = []
        self._emitted: list[Event] = []
        self._audit = audit.AuditTrail()
        # Events of the parts (savepoints) ended so far, each with the trace it was raised in; they
        # are numbered and written to the outbox together when the unit commits.
        self._held: list[Raised] = []
        self._nested = 0  # parts open now (savepoints, or a batch's parts kept whole)
        # Aggregates a consumer's batch read at once (preload), by (model, key); None: no such row.
        # One dict for the unit's life, emptied when a transaction ends: repositories may hold it.
        self.read_ahead: dict[tuple[Any, ...], Any] = {}
        self.broken = False  # a savepoint could not be rolled back: the transaction is lost
        self.session: AsyncSession

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
        self._audit = audit.start(self.session.sync_session)
        self._tracked = []
        self._emitted = []
        self._held = []
        self.read_ahead.clear()
        self.broken = False
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Objects handed out stay readable after the unit ends; nothing uncommitted is kept.
        self.session.expunge_all()
        self._audit.clear()
        self._held = []
        self.read_ahead.clear()
        await self.session.rollback()
        await self.session.close()

    def savepoint(self) -> AbstractAsyncContextManager[None]:
        """One part of the transaction that fails alone (SAVEPOINT); see shared.savepoint."""
        return savepoints.savepoint(self)

    def part(self) -> AbstractAsyncContextManager[None]:
        """One part of a transaction kept whole or not at all (no SAVEPOINT); see shared.savepoint."""
        return savepoints.part(self)

    #: Repositories (attribute names) keyed by the project id, read for a whole batch at once.
    read_with_batch: ClassVar[tuple[str, ...]] = ()

    async def preload(self, project_ids: Sequence[str]) -> None:
        """Read the aggregates of a consumer's batch of events about these projects in one
        statement per repository named in `read_with_batch`, before the events are handled."""
        for name in self.read_with_batch:
            await getattr(self, name).preload(project_ids)

    def track(self, aggregate: HasEvents) -> None:
        if all(aggregate is not seen for seen in self._tracked):
            self._tracked.append(aggregate)

    def emit(self, *events: Event) -> None:
        self._emitted.extend(events)

    def _drain(self) -> list[Event]:
        drained = list(self._emitted)
        self._emitted.clear()
        for aggregate in self._tracked:
            drained.extend(aggregate.events)
            aggregate.events.clear()
        return drained

    async def claim(
        self,
        event_id: str,
        event_type: str,
        consumer: str,
        *,
        source: str | None = None,
        recorded_by: str | None = None,
        document_ref: str | None = None,
    ) -> bool:
        """Record an incoming event in the inbox; False when this consumer already handled it."""
        # One statement: the row is new (first delivery) or the insert does nothing (handled).
        row = {
            "consumer": consumer,
            "event_id": event_id,
            "event_type": event_type,
            "handled_at": utcnow(),
            "source": source,
            "recorded_by": recorded_by,
            "document_ref": document_ref,
        }
        try:
            result = await self.session.execute(_CLAIM, row)
        except IntegrityError as exc:
            if self._nested:  # only the part is void: it is rolled back, the event was handled
                raise savepoints.AlreadyHandled(event_id) from exc
            # A concurrent delivery of the same event won; this transaction is void.
            await self.rollback()
            return False
        return bool(getattr(result, "rowcount", 0) == 1)

    async def claim_all(self, consumer: str, events: Sequence[tuple[str, str, str]]) -> set[str]:
        """Record a batch's incoming events, (id, type, source) each, in the inbox in one statement;
        the ids it had not seen (the others this consumer handled before)."""
        if not events:
            return set()
        now = utcnow()
        rows = {  # one row per event, in id order: two units claiming together lock alike
            event_id: {
                "consumer": consumer,
                "event_id": event_id,
                "event_type": event_type,
                "handled_at": now,
            }
            | {"source": source, "recorded_by": None, "document_ref": None}
            for event_id, event_type, source in sorted(events)
        }
        statement = claiming(self._dialect())
        return set((await self.session.execute(statement, list(rows.values()))).scalars())

    async def commit(self) -> None:
        self.hold()
        rows = await self.write_outbox(self._held)
        self._held = []
        await self.session.commit()  # the audit entries are written first (shared.audit)
        if self._on_commit is not None:
            self._on_commit(rows)

    def hold(self) -> None:
        """Keep the events raised so far for the outbox, with their ids and the current trace (the
        request's or the event's that caused them), as they stand now."""
        for evt in self._drain():
            headers: dict[str, str] = {}
            propagate.inject(headers)
            self._held.append(Raised(evt, headers.setdefault("Nats-Msg-Id", str(uuid.uuid4())), headers))

    async def write_outbox(self, raised: Sequence[Raised]) -> list[OutboxRow]:
        """The events numbered per project and written to the outbox, in one statement each."""
        if not raised:
            return []
        now = self._clock()
        numbers = await self._number([r.event for r in raised])
        rows: list[OutboxRow] = [
            {
                "event_id": r.event_id,
                "event_type": r.event.type,
                "subject": subject_for(self.subject_prefix, r.event),
                "project_id": r.event.project_id,
                "body": encode(
                    r.event,
                    source=self.source,
                    event_id=r.event_id,
                    time=now,
                    sequence=next(numbers[r.event.project_id]),
                ),
                "headers": r.headers,
                "created_at": now,
            }
            for r in raised
        ]
        await self.session.execute(_INSERT_OUTBOX, rows)
        return rows

    async def _number(self, events: Sequence[Event]) -> dict[str, Iterator[int]]:
        """The next numbers of each project's events, taken in this transaction.

        One statement for all the projects: each counter row is created or advanced and its new
        value returned. Its row lock (PostgreSQL, taken in project order: no deadlock between two
        units) or the write lock (SQLite) holds another transaction numbering the same project's
        events until this one commits, so numbers follow commit order and the outbox rows of one
        project are written in that order too.
        """
        wanted: dict[str, int] = {}
        for evt in events:
            wanted[evt.project_id] = wanted.get(evt.project_id, 0) + 1
        ordered = sorted(wanted.items())
        numbers: dict[str, Iterator[int]] = {}
        for start in range(0, len(ordered), NUMBERED_AT_ONCE):
            chunk = ordered[start : start + NUMBERED_AT_ONCE]
            params: dict[str, Any] = {}
            for i, (project_id, count) in enumerate(chunk):
                params |= {f"p{i}": project_id, f"c{i}": count}
            result = await self.session.execute(numbering(len(chunk)), params)
            for project_id, last in result.tuples():
                count = wanted[project_id]
                numbers[project_id] = iter(range(int(last) - count + 1, int(last) + 1))
        return numbers

    def _dialect(self) -> str:
        return self.session.bind.dialect.name if self.session.bind is not None else ""

    async def rollback(self) -> None:
        self._audit.clear()
        self._held = []
        self.read_ahead.clear()
        await self.session.rollback()
