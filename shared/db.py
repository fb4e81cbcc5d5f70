"""Database glue: async engines, per-service Alembic migrations, outbox/inbox tables, UnitOfWork."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, ClassVar, Generic, Protocol, TypedDict, TypeVar

from alembic import command
from alembic.config import Config
from opentelemetry import propagate
from sqlalchemy import (
    JSON,
    BigInteger,
    Column,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    event,
    text,
)
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.util import await_only
from sqlalchemy.util.concurrency import in_greenlet

from shared import audit
from shared.contracts import Event, encode, subject_for
from shared.sqltypes import UTCDateTime

log = logging.getLogger(__name__)


def utcnow() -> datetime:
    return datetime.now(UTC)


def file_clock(path: Path) -> Callable[[], datetime]:
    """A clock reading the instant from a file (ISO 8601 with offset), for tests and demos that
    cross deadlines without waiting; the real clock while the file is missing or empty."""

    def now() -> datetime:
        try:
            written = path.read_text(encoding="utf-8").strip()
        except FileNotFoundError:
            return utcnow()
        if not written:
            return utcnow()
        instant = datetime.fromisoformat(written)
        if instant.tzinfo is None:
            raise ValueError(f"{path}: the instant needs an offset, e.g. 2026-06-15T10:00:00+08:00")
        return instant.astimezone(UTC)

    return now


def set_clock(path: Path, instant: datetime) -> None:
    """Move the services reading `path` (file_clock) to `instant`, in one step: written beside it
    and renamed over it, so that a service reading it meanwhile never sees it half written (an
    empty file reads as real time, and an event dated by the moved clock would look far ahead)."""
    if instant.tzinfo is None:
        raise ValueError("the instant needs an offset")
    path.parent.mkdir(parents=True, exist_ok=True)
    staged = path.with_name(f".{path.name}.{uuid.uuid4().hex}")
    staged.write_text(instant.isoformat(), encoding="utf-8")
    os.replace(staged, path)


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
    info={audit.SKIP_INFO_KEY: False},  # bookkeeping of delivery, not state
)

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


class OutboxRow(TypedDict):
    """One event as the outbox stores it, ready to publish."""

    event_id: str
    event_type: str
    subject: str
    body: bytes
    headers: dict[str, str]
    created_at: datetime


def create_engine(url: str, *, write_timeout: float = 30) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys and a busy timeout, its folder created.

    `write_timeout` (seconds) bounds how long a SQLite write waits for the write lock, in the
    process's queue and then in SQLite's busy handler, before it fails as busy (503).
    """
    if url.startswith("sqlite"):
        path = url.split(":///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, connect_args={"timeout": write_timeout})
        busy_ms = max(1, round(write_timeout * 1000))

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
            cursor = dbapi_conn.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA synchronous=FULL")
            cursor.close()
            # Let SQLAlchemy, not the driver, open transactions (see _begin_immediate).
            dbapi_conn.isolation_level = None

        writers = _WriterQueue(write_timeout)

        @event.listens_for(engine.sync_engine, "begin")
        def _begin_immediate(conn: Any) -> None:
            options = conn.get_execution_options()
            if options.get("govit_read_only"):
                conn.exec_driver_sql("BEGIN")  # readers see a snapshot (WAL) and block no one
                return
            # SQLite has no SELECT ... FOR UPDATE: take the write lock when a unit of work
            # begins, so that a read followed by a write cannot interleave with another writer.
            # The process's own transactions queue for it here, woken the moment it is free,
            # instead of in SQLite's busy handler, which sleeps (up to 100 ms a turn) and retries.
            probe: float | None = options.get(_WRITE_PROBE)
            if probe is None:
                writers.enter(conn)
                conn.exec_driver_sql("BEGIN IMMEDIATE")
                return
            # A readiness probe waits less than a write would (see can_write).
            writers.enter(conn, probe)
            conn.exec_driver_sql(f"PRAGMA busy_timeout = {max(1, round(probe * 1000))}")
            try:
                conn.exec_driver_sql("BEGIN IMMEDIATE")
            finally:
                conn.exec_driver_sql(f"PRAGMA busy_timeout = {busy_ms}")

        for returned in ("checkin", "invalidate", "soft_invalidate"):
            event.listen(engine.sync_engine.pool, returned, writers.leave)

        return engine
    return create_async_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=10)


class WriterQueueTimeout(OperationalError):
    """No turn at SQLite's write lock within the write timeout: the database is busy."""


class _WriterQueue:
    """One SQLite write transaction at a time per process, awaited on the event loop.

    Entered from SQLAlchemy's "begin" event, which runs inside the async engine's greenlet, so
    waiting is an await (await_only) that lets other tasks run. The connection holding it may
    begin again (it already has it); it lets go when the connection goes back to the pool —
    after its COMMIT or ROLLBACK has finished — or is invalidated. Outside a greenlet (plain
    sync use) nothing is queued and SQLite's own busy timeout applies.
    """

    def __init__(self, timeout: float = 30) -> None:
        self.lock = asyncio.Lock()
        self.timeout = timeout
        self.holder: Any = None  # the pool's record of the connection that holds it

    def enter(self, conn: Connection, timeout: float | None = None) -> None:
        record = getattr(conn.connection, "_connection_record", None)
        if record is None or not in_greenlet() or self.holder is record:
            return
        try:
            await_only(asyncio.wait_for(self.lock.acquire(), self.timeout if timeout is None else timeout))
        except TimeoutError as exc:
            raise WriterQueueTimeout("BEGIN IMMEDIATE", None, exc) from exc
        self.holder = record

    def leave(self, _dbapi: Any, record: Any, *_: Any) -> None:
        if record is not None and record is self.holder:
            self.holder = None
            self.lock.release()


# Execution options of a reader: on SQLite a deferred BEGIN that takes no lock and skips the
# writer queue (a WAL snapshot), on PostgreSQL a READ ONLY transaction.
READ_ONLY: dict[str, Any] = {"govit_read_only": True, "postgresql_readonly": True}
_WRITE_PROBE = "govit_write_probe"  # seconds a readiness probe waits for the write lock


def read_only_sessions(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    """Sessions whose every transaction is a reader's (READ_ONLY), also after a rollback."""
    return async_sessionmaker(engine.execution_options(**READ_ONLY), expire_on_commit=False)


def _alembic_config(migrations: Path, connection: Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.attributes["connection"] = connection
    return config


async def migrate(engine: AsyncEngine, migrations: Path) -> None:
    """Apply the service's Alembic migrations (its own database only) up to head."""

    def upgrade(connection: Connection) -> None:
        if connection.dialect.name == "postgresql":
            # Replicas starting together: one migrates, the others wait (transaction-scoped lock).
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": str(migrations)})
        command.upgrade(_alembic_config(migrations, connection), "head")

    async with engine.begin() as conn:
        await conn.run_sync(upgrade)


def run_migrations_online(context: Any, target_metadata: MetaData | None = None) -> None:
    """Body of every service's migrations/env.py: migrate on the connection handed over."""
    connection = context.config.attributes["connection"]
    context.configure(connection=connection, target_metadata=target_metadata)
    with context.begin_transaction():
        context.run_migrations()


async def ping(engine: AsyncEngine) -> bool:
    try:
        async with engine.connect() as conn:
            await conn.execution_options(**READ_ONLY)
            await conn.execute(text("SELECT 1"))
        return True
    except Exception:
        return False


async def can_write(engine: AsyncEngine, wait: float) -> bool:
    """Whether a write would get the database within `wait` seconds; nothing is written.

    SQLite: the write lock itself (the process's writer queue, then BEGIN IMMEDIATE), held by
    another connection or process for longer than that means no. PostgreSQL: a transaction that
    may write (not a standby, not default_transaction_read_only) and the lock an INSERT takes on
    the tables every change writes (audit log, outbox), which a migration or an explicit LOCK
    TABLE holds against writers; row locks are a matter of single records, not of the database.
    """
    try:
        async with engine.connect() as conn:
            if conn.dialect.name == "sqlite":
                await conn.execution_options(**{_WRITE_PROBE: wait})
                await conn.begin()
                await conn.rollback()
                return True
            async with conn.begin() as transaction:
                ms = max(1, round(wait * 1000))
                await conn.execute(text(f"SET LOCAL lock_timeout = {ms}"))
                await conn.execute(text(f"SET LOCAL statement_timeout = {ms}"))
                if await conn.scalar(text("SHOW transaction_read_only")) != "off":
                    log.warning("database: read-only (a standby, or default_transaction_read_only)")
                    return False
                await conn.execute(
                    text(f"LOCK TABLE {audit.audit_log.name}, {outbox.name} IN ROW EXCLUSIVE MODE")
                )
                await transaction.rollback()
        return True
    except Exception as exc:
        log.warning("database: a write cannot get it within %ss (%r)", wait, exc)
        return False


TRANSIENT: tuple[type[BaseException], ...] = (
    OperationalError,
    InterfaceError,
    PoolTimeout,
    OSError,
    TimeoutError,
)


# PostgreSQL SQLSTATEs that say "not now" rather than "never": connection exceptions (08),
# insufficient resources (53), operator intervention (57P: shutdown, cannot connect now),
# "not currently accepting connections" (55000), a lock not had within lock_timeout (55P03),
# serialization failure and deadlock (40001, 40P01).
_TRANSIENT_SQLSTATE_CLASSES = ("08", "53", "57P")
_TRANSIENT_SQLSTATES = frozenset({"55000", "55P03", "40001", "40P01"})


def _sqlstate(exc: BaseException) -> str | None:
    for candidate in (exc, getattr(exc, "orig", None), getattr(exc, "__cause__", None)):
        code = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(code, str):
            return code
    return None


def is_busy(exc: BaseException) -> bool:
    """The database is there but a write could not get it in time: SQLite's write lock (the
    process's queue or SQLITE_BUSY), PostgreSQL's lock_timeout (55P03)."""
    if isinstance(exc, WriterQueueTimeout):
        return True
    if _sqlstate(exc) == "55P03":
        return True
    orig = getattr(exc, "orig", None)
    code = getattr(orig, "sqlite_errorcode", None)
    return isinstance(code, int) and code & 0xFF in _SQLITE_BUSY


_SQLITE_BUSY = frozenset({5, 6})  # SQLITE_BUSY, SQLITE_LOCKED; extended codes keep them in the low byte


def is_transient(exc: BaseException) -> bool:
    """Infrastructure trouble (database down or locked, network), not a fault of the event."""
    if isinstance(exc, DBAPIError) and exc.connection_invalidated:
        return True
    code = _sqlstate(exc)
    if code is not None and (code in _TRANSIENT_SQLSTATES or code.startswith(_TRANSIENT_SQLSTATE_CLASSES)):
        return True
    return isinstance(exc, TRANSIENT)


class HasEvents(Protocol):
    events: list[Event]


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
        self.session: AsyncSession

    async def __aenter__(self) -> UnitOfWork:
        self.session = self._sessions()
        self._audit = audit.start(self.session.sync_session)
        self._tracked = []
        self._emitted = []
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        # Objects handed out stay readable after the unit ends; nothing uncommitted is kept.
        self.session.expunge_all()
        self._audit.clear()
        await self.session.rollback()
        await self.session.close()

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
        insert = postgresql_insert if self._dialect() == "postgresql" else sqlite_insert
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
            result = await self.session.execute(insert(inbox).values(**row).on_conflict_do_nothing())
        except IntegrityError:
            # A concurrent delivery of the same event won; this transaction is void.
            await self.rollback()
            return False
        return bool(getattr(result, "rowcount", 0) == 1)

    async def commit(self) -> None:
        rows = await self.write_outbox(self._drain())
        await self.session.commit()  # the audit entries are written first (shared.audit)
        if self._on_commit is not None:
            self._on_commit(rows)

    async def write_outbox(self, events: Iterable[Event]) -> list[OutboxRow]:
        rows: list[OutboxRow] = []
        now = self._clock()
        events = list(events)
        numbers = await self._number(events)
        for evt in events:
            headers: dict[str, str] = {}
            propagate.inject(headers)  # the trace of the request that caused the event
            event_id = headers.setdefault("Nats-Msg-Id", str(uuid.uuid4()))
            rows.append(
                {
                    "event_id": event_id,
                    "event_type": evt.type,
                    "subject": subject_for(self.subject_prefix, evt),
                    "body": encode(
                        evt,
                        source=self.source,
                        event_id=event_id,
                        time=now,
                        sequence=next(numbers[evt.project_id]),
                    ),
                    "headers": headers,
                    "created_at": now,
                }
            )
        if rows:
            await self.session.execute(outbox.insert(), rows)
        return rows

    async def _number(self, events: Sequence[Event]) -> dict[str, Iterator[int]]:
        """The next numbers of each project's events, taken in this transaction.

        One statement per project: the counter row is created or advanced and its new value
        returned. Its row lock (PostgreSQL) or the write lock (SQLite) holds another transaction
        numbering the same project's events until this one commits, so numbers follow commit
        order and the outbox rows of one project are written in that order too.
        """
        wanted: dict[str, int] = {}
        for evt in events:
            wanted[evt.project_id] = wanted.get(evt.project_id, 0) + 1
        numbers: dict[str, Iterator[int]] = {}
        insert = postgresql_insert if self._dialect() == "postgresql" else sqlite_insert
        for project_id, count in sorted(wanted.items()):  # a fixed order: no deadlock between two units
            statement = insert(event_sequence).values(project_id=project_id, last=count)
            last = await self.session.scalar(
                statement.on_conflict_do_update(
                    index_elements=[event_sequence.c.project_id],
                    set_={"last": event_sequence.c.last + count},
                ).returning(event_sequence.c.last)
            )
            numbers[project_id] = iter(range(int(last or count) - count + 1, int(last or count) + 1))
        return numbers

    def _dialect(self) -> str:
        return self.session.bind.dialect.name if self.session.bind is not None else ""

    async def rollback(self) -> None:
        self._audit.clear()
        await self.session.rollback()


A = TypeVar("A", bound=HasEvents)


class AggregateRepository(Generic[A]):
    """Adds and loads one kind of aggregate, tracked by the unit of work so that the events
    it raises are written to the outbox with the commit. Services add their own queries."""

    model: ClassVar[type[Any]]
    locks: ClassVar[bool] = True  # get() takes the row lock (SELECT … FOR UPDATE) unless told not to

    def __init__(self, session: AsyncSession, uow: UnitOfWork) -> None:
        self.session = session
        self.uow = uow

    def add(self, aggregate: A) -> None:
        self.session.add(aggregate)
        self.uow.track(aggregate)

    async def get(self, key: Any, *, for_update: bool | None = None) -> A | None:
        # A reader locks nothing: PostgreSQL refuses FOR UPDATE in a READ ONLY transaction, and
        # a read must not wait for the writer holding the row.
        lock = not self.uow.read_only and (self.locks if for_update is None else for_update)
        found: A | None = await self.session.get(self.model, key, with_for_update=lock)
        if found is not None:
            self.uow.track(found)
        return found

    def tracked(self, found: Iterable[A]) -> list[A]:
        """Aggregates loaded by a query of the service's own, tracked like the ones from get()."""
        items = list(found)
        for item in items:
            self.uow.track(item)
        return items
