"""Prometheus metrics of one service, in its own registry, and the /metrics route.

Counters and histograms move with the work; what an operator watches for trouble is read when
/metrics is scraped (at most once per SCRAPE_EVERY seconds, never on the event path): the lag of
the service's durable consumer, the events parked in its dead-letter subject, the age of the
oldest event its outbox has not published, and what the service itself adds (funding: payments
held, ServiceSpec.readings).
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any

from fastapi import FastAPI, Request, Response
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    generate_latest,
)
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from shared.bus import JetStreamBus
from shared.db import outbox

log = logging.getLogger(__name__)

#: seconds a scrape's readings are reused: several Prometheus servers cost one reading
SCRAPE_EVERY = 5.0

#: a service's own readings at scrape time: given its registry, a reader of its database
Readings = Callable[[CollectorRegistry], Callable[[AsyncSession], Awaitable[None]]]


def process_registry(service: str) -> tuple[CollectorRegistry, Histogram]:
    """A registry with what every govit process shows: its identity, CPU, memory, open files and
    start time, and the histogram of its HTTP requests (Measured)."""
    registry = CollectorRegistry()
    info = Gauge("govit_service_info", "service identity", ["service"], registry=registry)
    info.labels(service=service).set(1)
    ProcessCollector(registry=registry)
    PlatformCollector(registry=registry)
    requests = Histogram(
        "govit_http_request_duration_seconds",
        "HTTP request duration",
        ["method", "route", "status"],
        registry=registry,
    )
    return registry, requests


class Metrics:
    def __init__(self, service: str, readings: Readings | None = None) -> None:
        self.registry, self.requests = process_registry(service)
        self.published = Counter(
            "govit_events_published_total",
            "events published from the outbox",
            ["type"],
            registry=self.registry,
        )
        self.consumed = Counter(
            "govit_events_consumed_total",
            "events consumed by outcome",
            ["consumer", "outcome"],
            registry=self.registry,
        )
        self.outbox_pending = Gauge(
            "govit_outbox_pending", "events committed but not yet published", registry=self.registry
        )
        self.outbox_oldest = Gauge(
            "govit_outbox_oldest_age_seconds",
            "age of the oldest committed event not yet published (0 when none waits)",
            registry=self.registry,
        )
        self.consumer_pending = Gauge(
            "govit_consumer_pending",
            "events on the stream for the service's durable consumer, not yet delivered to it",
            ["consumer"],
            registry=self.registry,
        )
        self.consumer_ack_pending = Gauge(
            "govit_consumer_ack_pending",
            "events delivered to the durable consumer and not yet acknowledged",
            ["consumer"],
            registry=self.registry,
        )
        self.dead_letters = Gauge(
            "govit_dead_letters",
            "events parked for the consumer in govit.dlq.<consumer> (govit dlq list)",
            ["consumer"],
            registry=self.registry,
        )
        self.read_at = -math.inf
        self.own = readings(self.registry) if readings is not None else None

    async def read(self, runtime: Any, clock: Callable[[], datetime], now: float | None = None) -> None:
        """Refresh the scrape-time readings, unless read less than SCRAPE_EVERY seconds ago. A
        reading that fails (NATS away, the database busy) keeps its last value and is logged."""
        now = time.monotonic() if now is None else now
        if now - self.read_at < SCRAPE_EVERY:
            return
        self.read_at = now
        engine: AsyncEngine | None = runtime.engine
        if runtime.spec.subscriptions:
            try:
                await self._read_consumer(runtime.bus, runtime.spec.name)
            except Exception as exc:  # a scrape answers also without NATS
                log.debug("consumer readings unavailable: %s", exc)
        if engine is not None:
            try:
                await self._read_database(engine, clock())
            except Exception as exc:  # and without its database
                log.warning("database readings for /metrics failed: %s", exc)

    async def _read_consumer(self, bus: Any, durable: str) -> None:
        if not isinstance(bus, JetStreamBus):  # the in-memory bus of pure tests
            return
        js = bus.nc.jetstream()
        info = await js.consumer_info(bus.stream, durable, timeout=2)
        self.consumer_pending.labels(durable).set(info.num_pending or 0)
        self.consumer_ack_pending.labels(durable).set(info.num_ack_pending or 0)
        parked = f"{bus.prefix}.dlq.{durable}"
        state = (await js.stream_info(bus.stream, subjects_filter=parked)).state
        self.dead_letters.labels(durable).set((state.subjects or {}).get(parked, 0))

    async def _read_database(self, engine: AsyncEngine, now: datetime) -> None:
        async with AsyncSession(engine) as session:
            oldest = await session.scalar(
                select(func.min(outbox.c.created_at)).where(outbox.c.published_at.is_(None))
            )
            self.outbox_oldest.set(max(0.0, (now - oldest).total_seconds()) if oldest else 0)
            if self.own is not None:
                await self.own(session)


class Measured:
    """ASGI middleware: each request's duration by method, route and status (pure ASGI: no task
    and no stream of its own per request, as Starlette's BaseHTTPMiddleware would make)."""

    def __init__(self, app: Any, requests: Histogram) -> None:
        self.app = app
        self.requests = requests

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500  # if the app fails before answering

        async def sending(message: Any) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            path = getattr(scope.get("route"), "path", "unmatched")
            self.requests.labels(scope["method"], path, str(status)).observe(time.perf_counter() - start)


def install(app: FastAPI, metrics: Metrics) -> None:
    app.add_middleware(Measured, requests=metrics.requests)

    @app.get("/metrics", tags=["health"], summary="Prometheus metrics", include_in_schema=False)
    async def get_metrics(request: Request) -> Response:
        await metrics.read(request.app.state.runtime, request.app.state.clock)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)
