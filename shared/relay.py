"""The outbox relay: publishes committed events to JetStream with Nats-Msg-Id = event id."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind
from sqlalchemy import bindparam, func, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker

from shared.bus import Bus, Outgoing, PublishIncomplete
from shared.db import OutboxRow, outbox, utcnow
from shared.metrics import Metrics

log = logging.getLogger(__name__)
tracer = trace.get_tracer("govit.relay")


class OutboxRelay:
    """Publishes unpublished outbox rows in commit order; while NATS is down it waits and retries.

    Rows committed in this process are handed over by the unit of work (`committed`) and
    published at once, without reading them back, while the relay is caught up: its last scan
    of the outbox found nothing pending and no commit went by unseen since. Otherwise (at
    start, after a failure) it scans the outbox in order until it is caught up again. A row
    published but not yet marked may be published again; JetStream drops the copy by its
    Nats-Msg-Id and consumers' inboxes ignore it.

    On PostgreSQL one replica of a service relays at a time (an advisory lock held for as long
    as it runs), so events leave in the order they were written; the others stand by, and the
    leader finds their rows by its scan.
    """

    def __init__(
        self,
        engine: AsyncEngine,
        bus: Bus,
        metrics: Metrics,
        *,
        name: str,
        batch: int = 200,
        poll: float = 1.0,
    ) -> None:
        self.engine = engine
        self.sessions = async_sessionmaker(engine, expire_on_commit=False)
        self.bus = bus
        self.metrics = metrics
        self.name = name
        self.batch = batch
        self.poll = poll
        self.wakeup = asyncio.Event()
        self.leading = False
        self._committed: deque[OutboxRow] = deque()
        self._caught_up = False
        self._missed = False  # a commit went by while not caught up: scan again before trusting
        self._scanned: frozenset[str] = frozenset()  # the event ids the last scan sent

    @property
    def caught_up(self) -> bool:
        """Its last scan found nothing new: commits handed over are published without a scan."""
        return self._caught_up

    def committed(self, rows: Sequence[OutboxRow]) -> None:
        """Told by a unit of work, right after its commit, which outbox rows it wrote."""
        if not rows:
            return
        if self._caught_up:
            self._committed.extend(rows)
        else:
            self._missed = True
        self.wakeup.set()

    async def run(self, stop: asyncio.Event) -> None:
        async with self._leadership(stop) as leading:
            self.leading = leading
            try:
                if leading:
                    await self._loop(stop)
            finally:
                self.leading = False

    async def _loop(self, stop: asyncio.Event) -> None:
        pause = self.poll
        self._caught_up = False
        try:
            while not stop.is_set():
                try:
                    if self._committed:
                        await self._publish_committed()
                        if self._committed:
                            continue
                    else:
                        self._missed = False
                        published = await self.publish_pending()
                        pause = self.poll
                        # Every row committed before the scan read the outbox is sent, unless its
                        # batch was full; a commit since was handed over or noted as missed.
                        self._caught_up = published < self.batch and not self._missed
                        if not self._caught_up:
                            continue  # scan again until a scan takes in everything
                except Exception as exc:
                    self._caught_up = False
                    self._committed.clear()  # left unmarked in the outbox: the next scans send them
                    log.warning("outbox relay of %s: %s; retrying in %.1fs", self.name, exc, pause)
                    pause = min(pause * 2, 10)
                self.wakeup.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(_first(stop, self.wakeup), pause)
        finally:
            self._caught_up = False
            self._committed.clear()

    async def _publish_committed(self) -> None:
        """Publish what this process just committed, in commit order, then mark it sent. Rows the
        last scan of the outbox found and sent already (a commit it read before its hand-over
        came) are not sent again."""
        if self._scanned:
            self._committed = deque(r for r in self._committed if r["event_id"] not in self._scanned)
        rows = list(self._committed)
        if not rows:
            return
        sent: list[str] = []
        try:
            sent = await self._publish(rows)
        except PublishIncomplete as exc:
            sent = [row["event_id"] for row in rows[: exc.done]]
            raise exc.__cause__ or exc from None
        finally:
            for _ in sent:
                self._committed.popleft()
            if sent:
                async with self.sessions() as session, session.begin():
                    await _mark_sent(session, sent)

    @contextlib.asynccontextmanager
    async def _leadership(self, stop: asyncio.Event) -> AsyncIterator[bool]:
        if self.engine.dialect.name != "postgresql":
            yield True  # SQLite: one process owns the file
            return
        key = f"govit-relay-{self.name}"
        while not stop.is_set():
            conn: AsyncConnection | None = None
            try:
                conn = await self.engine.connect()
                if await conn.scalar(text("SELECT pg_try_advisory_lock(hashtext(:k))"), {"k": key}):
                    await conn.commit()
                    try:
                        yield True
                    finally:
                        with contextlib.suppress(Exception):
                            await conn.execute(text("SELECT pg_advisory_unlock(hashtext(:k))"), {"k": key})
                        await conn.close()
                    return
            except Exception as exc:
                log.warning("outbox relay of %s: cannot take the relay lock: %s", self.name, exc)
            if conn is not None:
                with contextlib.suppress(Exception):
                    await conn.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.poll * 5)
        yield False

    async def publish_pending(self) -> int:
        """Publish one batch; returns how many rows were published and marked."""
        async with self.sessions() as session:
            rows = (
                await session.execute(
                    select(outbox.c.event_id, outbox.c.event_type, outbox.c.subject)
                    .add_columns(outbox.c.body, outbox.c.headers)
                    .where(outbox.c.published_at.is_(None))
                    .order_by(outbox.c.seq)
                    .limit(self.batch)
                )
            ).all()
        done: list[str] = []
        try:
            done = await self._publish([row._mapping for row in rows])
        except PublishIncomplete as exc:
            done = [row.event_id for row in rows[: exc.done]]
            raise exc.__cause__ or exc from None
        finally:
            self._scanned = frozenset(done)
            pending = len(rows) - len(done)
            if done:
                # Marked in a transaction of its own: a failure later in the batch does not undo it.
                async with self.sessions() as session, session.begin():
                    await _mark_sent(session, done)
                    if len(rows) >= self.batch:  # more may wait beyond this batch: count them
                        pending = (
                            await session.scalar(
                                select(func.count())
                                .select_from(outbox)
                                .where(outbox.c.published_at.is_(None))
                            )
                            or 0
                        )
            # An idle poll reads once and writes nothing (on SQLite a write takes the file's lock).
            self.metrics.outbox_pending.set(pending)
        return len(done)

    async def _publish(self, rows: Sequence[Mapping[Any, Any]]) -> list[str]:
        """Outbox rows onto the stream in order, together (one round trip for their PubAcks), each
        in a producer span and with its Nats-Msg-Id; returns their event ids. A failure raises
        PublishIncomplete, saying how many leading rows were stored."""
        outgoing: list[Outgoing] = []
        for row in rows:
            headers = dict(row["headers"])
            with tracer.start_as_current_span(
                f"send {row['event_type']}",
                context=propagate.extract(headers),
                kind=SpanKind.PRODUCER,
                attributes={
                    "messaging.system": "nats",
                    "messaging.operation.type": "send",
                    "messaging.destination.name": row["subject"],
                    "messaging.message.id": headers.get("Nats-Msg-Id", ""),
                },
            ):
                propagate.inject(headers)
            outgoing.append(Outgoing(row["subject"], row["body"], headers))
        try:
            await self.bus.publish_many(outgoing)
        except PublishIncomplete as exc:
            self._count(rows[: exc.done])
            raise
        self._count(rows)
        return [row["event_id"] for row in rows]

    def _count(self, rows: Sequence[Mapping[Any, Any]]) -> None:
        for row in rows:
            self.metrics.published.labels(row["event_type"]).inc()


_MARK_SENT = (
    update(outbox)
    .where(outbox.c.event_id.in_(bindparam("sent", expanding=True)))
    .values(published_at=bindparam("at"))
)


async def _mark_sent(session: AsyncSession, event_ids: list[str]) -> None:
    await session.execute(_MARK_SENT, {"sent": event_ids, "at": utcnow()})


async def _first(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
