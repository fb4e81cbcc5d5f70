"""The outbox relay: publishes committed events to JetStream with Nats-Msg-Id = event id."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from opentelemetry import propagate, trace
from opentelemetry.trace import SpanKind
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from shared.bus import Bus
from shared.db import outbox, utcnow
from shared.metrics import Metrics

log = logging.getLogger(__name__)
tracer = trace.get_tracer("govit.relay")


class OutboxRelay:
    """Publishes unpublished outbox rows in commit order; while NATS is down it waits and retries."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        bus: Bus,
        metrics: Metrics,
        *,
        batch: int = 200,
        poll: float = 1.0,
    ) -> None:
        self.sessions = sessions
        self.bus = bus
        self.metrics = metrics
        self.batch = batch
        self.poll = poll
        self.wakeup = asyncio.Event()

    async def run(self, stop: asyncio.Event) -> None:
        pause = self.poll
        while not stop.is_set():
            try:
                published = await self.publish_pending()
                pause = self.poll
                if published >= self.batch:
                    continue
            except Exception as exc:
                log.warning("outbox relay: %s; retrying in %.1fs", exc, pause)
                pause = min(pause * 2, 10)
            self.wakeup.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(_first(stop, self.wakeup), pause)

    async def publish_pending(self) -> int:
        """Publish one batch; returns how many rows were published."""
        async with self.sessions() as session, session.begin():
            rows = (
                await session.execute(
                    select(
                        outbox.c.seq, outbox.c.event_type, outbox.c.subject, outbox.c.body, outbox.c.headers
                    )
                    .where(outbox.c.published_at.is_(None))
                    .order_by(outbox.c.seq)
                    .limit(self.batch)
                    .with_for_update(skip_locked=True)
                )
            ).all()
            done: list[int] = []
            try:
                for row in rows:
                    await self._publish(row.subject, row.body, dict(row.headers), row.event_type)
                    done.append(row.seq)
            finally:
                if done:
                    await session.execute(
                        update(outbox).where(outbox.c.seq.in_(done)).values(published_at=utcnow())
                    )
            pending = await session.scalar(
                select(func.count()).select_from(outbox).where(outbox.c.published_at.is_(None))
            )
            self.metrics.outbox_pending.set(pending or 0)
        return len(done)

    async def _publish(self, subject: str, body: bytes, headers: dict[str, str], event_type: str) -> None:
        parent = propagate.extract(headers)
        with tracer.start_as_current_span(
            f"send {event_type}",
            context=parent,
            kind=SpanKind.PRODUCER,
            attributes={
                "messaging.system": "nats",
                "messaging.operation.type": "send",
                "messaging.destination.name": subject,
                "messaging.message.id": headers.get("Nats-Msg-Id", ""),
            },
        ):
            propagate.inject(headers)
            await self.bus.publish(subject, body, headers)
        self.metrics.published.labels(event_type).inc()


async def _first(*events: asyncio.Event) -> None:
    waiters = [asyncio.ensure_future(e.wait()) for e in events]
    try:
        await asyncio.wait(waiters, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for w in waiters:
            w.cancel()
