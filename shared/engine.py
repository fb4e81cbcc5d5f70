"""Async engines (SQLite and PostgreSQL), per-service Alembic migrations, readiness probes, and
the line between infrastructure trouble (retry) and a fault of the work itself."""

from __future__ import annotations

import asyncio
import logging
import os
import re
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import MetaData, event, text
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine
from sqlalchemy.util import await_only
from sqlalchemy.util.concurrency import in_greenlet

from shared import audit, sqlite_inline

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)


def create_engine(url: str, *, write_timeout: float = 30) -> AsyncEngine:
    """An async engine; SQLite gets WAL, foreign keys and a busy timeout, its folder created.

    `write_timeout` (seconds) bounds how long a SQLite write waits for the write lock, in the
    process's queue and then in SQLite's busy handler, before it fails as busy (503).
    """
    if url.startswith("sqlite"):
        path = make_url(url).database or ":memory:"
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        engine = create_async_engine(url, async_creator=sqlite_inline.creator(path, write_timeout))
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
    # A prepared statement's generic plan is kept for the connection's life; one chosen while a
    # table was nearly empty (a new database, a replica catching up) scans it as it grows: with
    # 60,000 events a consumer slowed to 40% of what custom plans gave. Plan every execution.
    arguments = {"server_settings": {"plan_cache_mode": "force_custom_plan"}}
    connect_args = arguments if make_url(url).get_driver_name() == "asyncpg" else {}
    return create_async_engine(
        url, pool_pre_ping=True, pool_size=10, max_overflow=10, connect_args=connect_args
    )


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
            await_only(self._acquire(self.timeout if timeout is None else timeout))
        except TimeoutError as exc:
            raise WriterQueueTimeout("BEGIN IMMEDIATE", None, exc) from exc
        self.holder = record

    async def _acquire(self, timeout: float) -> None:
        # asyncio.timeout, not wait_for: no task of its own per transaction (3.11's wait_for makes one).
        async with asyncio.timeout(timeout):
            await self.lock.acquire()

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
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(migrations))
    config.attributes["connection"] = connection
    return config


_REVISION = re.compile(r"^(down_)?revision\s*=\s*[\"']([^\"']+)[\"']", re.MULTILINE)


def head_revision(migrations: Path) -> str | None:
    """The one revision no other revises, read from the migration files; None when there is not
    exactly one (a branch, or no migrations)."""
    revisions: set[str] = set()
    revised: set[str] = set()
    for path in (migrations / "versions").glob("*.py"):
        for down, revision in _REVISION.findall(path.read_text(encoding="utf-8")):
            (revised if down else revisions).add(revision)
    heads = revisions - revised
    return next(iter(heads)) if len(heads) == 1 else None


async def at_head(engine: AsyncEngine, migrations: Path) -> bool:
    """Whether the database is already at the migrations' head: then a start needs no Alembic (its
    import, with Mako's, is a tenth of a second and memory the service would keep)."""
    head = head_revision(migrations)
    if head is None:
        return False
    try:
        async with engine.connect() as conn:
            current = (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalars().all()
    except DBAPIError:  # no version table yet: a new database
        return False
    return list(current) == [head]


async def migrate(engine: AsyncEngine, migrations: Path, *, apart: bool = False) -> None:
    """Apply the service's Alembic migrations (its own database only) up to head; a database
    already there is left as it is without loading Alembic.

    `apart`: in a child process (a database file or server only), so that Alembic and Mako — a
    tenth of the service's memory — are never loaded into the service's own process.
    """
    if await at_head(engine, migrations):
        return
    if apart and engine.url.database not in (None, "", ":memory:"):
        await _migrate_apart(engine, migrations)
        return

    def upgrade(connection: Connection) -> None:
        from alembic import command

        if connection.dialect.name == "postgresql":
            # Replicas starting together: one migrates, the others wait (transaction-scoped lock).
            connection.execute(text("SELECT pg_advisory_xact_lock(hashtext(:k))"), {"k": str(migrations)})
        command.upgrade(_alembic_config(migrations, connection), "head")

    async with engine.begin() as conn:
        await conn.run_sync(upgrade)


_MIGRATE_URL = "GOVIT_MIGRATE_DATABASE_URL"  # how the child is told the database (not on its command line)


async def _migrate_apart(engine: AsyncEngine, migrations: Path) -> None:
    env = os.environ | {_MIGRATE_URL: engine.url.render_as_string(hide_password=False)}
    child = await asyncio.create_subprocess_exec(
        sys.executable, "-m", "shared.engine", str(migrations), env=env, stderr=asyncio.subprocess.PIPE
    )
    _, err = await child.communicate()
    if child.returncode != 0:
        raise RuntimeError(
            f"migrating {migrations.parent.name} failed:\n{err.decode(errors='replace')[-3000:]}"
        )


async def _migrate_here(migrations: Path) -> None:
    engine = create_engine(os.environ[_MIGRATE_URL])
    try:
        await migrate(engine, migrations)
    finally:
        await engine.dispose()


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
                    text(
                        f"LOCK TABLE {audit.audit_log.name}, outbox IN ROW EXCLUSIVE MODE"
                    )  # shared.db.outbox
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


if __name__ == "__main__":  # the child of migrate(apart=True)
    asyncio.run(_migrate_here(Path(sys.argv[1])))
