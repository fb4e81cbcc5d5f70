"""SQLite for the async engine with one thread hop per transaction, not one per call.

SQLAlchemy's aiosqlite dialect awaits aiosqlite, which runs every call (cursor, execute, fetch,
close) on a thread of its own and wakes the event loop for each answer: about 26 hand-offs per
consumed event, each a turn of the loop. Statements of a unit of work are microseconds of work in
SQLite, far less than a hand-off, so here they run on the loop's thread; what may wait goes to a
worker thread as before — the write lock when another process holds it (BEGIN IMMEDIATE is tried
on the loop first, without waiting), COMMIT (the fsync, and the WAL checkpoint it may run) and
ROLLBACK of a transaction — so the loop never blocks on the disk or on another process.

`connect` is the engine's `async_creator`: the dialect, its URL, its pool and its events stay
aiosqlite's; only the object behind its adaptor is this one. The connection is used by one task
at a time (the pool hands it to one holder), from the loop's thread and the worker thread in
turn, never at once.
"""

from __future__ import annotations

import asyncio
import re
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from typing import Any

_IMMEDIATE = re.compile(r"\s*BEGIN\s+IMMEDIATE\s*$", re.IGNORECASE)

# Statements that may wait on the disk or on another process's lock: these run off the loop.
_WAITING = ("BEGIN IMMEDIATE", "BEGIN EXCLUSIVE", "COMMIT", "ROLLBACK", "VACUUM", "PRAGMA WAL_CHECKPOINT")


def _waits(sql: str) -> bool:
    head = sql.lstrip()[:24].upper()
    return head.startswith(_WAITING) and not head.startswith("ROLLBACK TO")


class InlineCursor:
    """aiosqlite.Cursor's interface over a sqlite3 cursor, run where it is awaited."""

    __slots__ = ("_connection", "_cursor")

    def __init__(self, connection: InlineConnection, cursor: sqlite3.Cursor) -> None:
        self._connection = connection
        self._cursor = cursor

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        args = (sql,) if parameters is None else (sql, parameters)
        if _IMMEDIATE.match(sql):
            await self._connection.begin(self._cursor, sql)
        elif _waits(sql):
            await self._connection.off_loop(self._cursor.execute, *args)
        else:
            self._cursor.execute(*args)
        return self

    async def executemany(self, sql: str, parameters: Iterable[Sequence[Any]]) -> InlineCursor:
        self._cursor.executemany(sql, parameters)
        return self

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchmany(self, size: int | None = None) -> list[Any]:
        return self._cursor.fetchmany(self._cursor.arraysize if size is None else size)

    async def close(self) -> None:
        self._cursor.close()

    @property
    def description(self) -> Any:
        return self._cursor.description

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    @property
    def lastrowid(self) -> int | None:
        return self._cursor.lastrowid


class _Immediate:
    """What the dialect's adaptor puts on aiosqlite's queue (setting the isolation level): run now."""

    __slots__ = ()

    @staticmethod
    def put_nowait(item: tuple[asyncio.Future[Any] | None, Callable[[], Any]]) -> None:
        future, function = item
        try:
            result = function()
        except BaseException as exc:
            if future is None:
                raise
            future.set_exception(exc)
        else:
            if future is not None:
                future.set_result(result)


class InlineConnection:
    """aiosqlite.Connection's interface, as far as SQLAlchemy's aiosqlite adaptor uses it."""

    _tx = _Immediate()

    def __init__(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    async def begin(self, cursor: sqlite3.Cursor, sql: str) -> None:
        """BEGIN IMMEDIATE on the loop when the write lock is free (the usual case: the process's
        own writers queue before it, shared.engine); when another process holds it, wait for it off
        the loop, for as long as the busy timeout allows."""
        (wait_ms,) = cursor.execute("PRAGMA busy_timeout").fetchone()  # a readiness probe's is shorter
        cursor.execute("PRAGMA busy_timeout = 0")
        try:
            cursor.execute(sql)
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                raise
            cursor.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")
            await self.off_loop(cursor.execute, sql)
        finally:
            cursor.execute(f"PRAGMA busy_timeout = {int(wait_ms)}")

    async def off_loop(self, function: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.to_thread(function, *args)

    @property
    def isolation_level(self) -> str | None:
        return self._conn.isolation_level

    async def cursor(self) -> InlineCursor:
        return InlineCursor(self, self._conn.cursor())

    async def execute(self, sql: str, parameters: Sequence[Any] | None = None) -> InlineCursor:
        return await (await self.cursor()).execute(sql, parameters)

    async def create_function(self, *args: Any, **kwargs: Any) -> None:
        self._conn.create_function(*args, **kwargs)

    async def commit(self) -> None:
        if self._conn.in_transaction:
            await self.off_loop(self._conn.commit)

    async def rollback(self) -> None:
        if self._conn.in_transaction:  # the pool rolls back every connection it takes back
            await self.off_loop(self._conn.rollback)

    async def close(self) -> None:
        await self.off_loop(self._conn.close)

    def stop(self) -> None:
        self._conn.close()


def creator(path: str, timeout: float) -> Callable[[], Any]:
    """The async engine's `async_creator` for a SQLite file (or ":memory:")."""

    async def connect() -> InlineConnection:
        def open_() -> sqlite3.Connection:
            return sqlite3.connect(path, timeout=timeout, check_same_thread=False, isolation_level=None)

        return InlineConnection(await asyncio.to_thread(open_))

    return connect
