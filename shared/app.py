"""The FastAPI app factory every service uses: lifespan, health, metrics, errors, messaging."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import APIRouter, FastAPI
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from sqlalchemy import Column
from sqlalchemy.ext.asyncio import AsyncEngine, async_sessionmaker

from shared import audit, docs, limits, problems, telemetry
from shared import metrics as service_metrics
from shared.audit_anchor import AnchorPublisher, open_chain
from shared.audit_api import audit_router
from shared.auth import TokenIssuer
from shared.bus import Bus, JetStreamBus
from shared.calendar_store import SettledCalendar
from shared.calendar_watch import CalendarWatch
from shared.consume import (
    ANY_JURISDICTION,
    EventDispatcher,
    EventHandler,
    HandlerContext,
    TrustedSources,
    service_source,
)
from shared.contracts import Event
from shared.db import UnitOfWork, can_write, create_engine, migrate, ping, read_only_sessions, utcnow
from shared.events_api import events_router
from shared.manual import manual_router
from shared.metrics import Metrics, Readings
from shared.policy import PolicyRegistry, load_registry
from shared.relay import OutboxRelay
from shared.settings import ServiceSettings
from shared.workdays import WorkingCalendar, install_calendar

log = logging.getLogger(__name__)

# /readyz waits at most this long (or the write timeout, if shorter) for a write to get the database.
READY_WRITE_WAIT = 2.0


@dataclass(frozen=True)
class ServiceSpec:
    """What makes one service: its name, routers, migrations, unit of work and subscriptions."""

    name: str
    title: str
    description: str
    routers: Sequence[APIRouter]
    migrations: Path
    uow: Callable[..., UnitOfWork]
    subscriptions: Mapping[type[Event], EventHandler] = field(default_factory=dict)
    errors: Mapping[type[Exception], int] = field(default_factory=dict)
    #: (seconds, job) run every so often while the service runs, e.g. deadline scans.
    periodic: Sequence[tuple[float, Callable[[FastAPI], Awaitable[None]]]] = ()
    #: (app, old calendar, new calendar): moves the open deadlines a newly loaded holiday notice
    #: changes and announces each move (shared.calendar_watch); None where nothing depends on it.
    recompute: Callable[[FastAPI, WorkingCalendar, WorkingCalendar], Awaitable[None]] | None = None
    #: what the service adds to /metrics, read from its database at scrape time (shared.metrics)
    readings: Readings | None = None
    #: the column naming a project in a table with its `jurisdiction` and `agency`: who may read
    #: the project's events (GET /projects/{id}/events, shared.events_api); None: no such list
    owners: Column[str] | None = None


@dataclass
class Runtime:
    """Everything a running service holds, on app.state.runtime."""

    spec: ServiceSpec
    settings: ServiceSettings
    bus: Bus
    metrics: Metrics
    new_uow: Callable[[], UnitOfWork] = field(default=lambda: _not_started())
    #: a unit of work that only reads (GET): no write lock, no row locks, READ ONLY on PostgreSQL
    new_reader: Callable[[], UnitOfWork] = field(default=lambda: _not_started())
    consumer_running: bool = False
    stop: asyncio.Event = field(default_factory=asyncio.Event)
    tasks: list[asyncio.Task[Any]] = field(default_factory=list)
    ready_checks: dict[str, Callable[[], Awaitable[bool]]] = field(default_factory=dict)
    engine: AsyncEngine | None = None
    dispatcher: EventDispatcher | None = None
    anchors: AnchorPublisher | None = None


def _not_started() -> UnitOfWork:
    raise RuntimeError("the service has not started (lifespan not entered)")


def create_service_app(
    spec: ServiceSpec,
    settings: ServiceSettings,
    *,
    bus: Bus | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    """Build a service's app. Nothing connects until the lifespan starts.

    `clock` gives the current instant (UTC) to requests, event handlers and periodic jobs;
    tests pass their own to cross deadlines instead of waiting.
    """
    metrics = Metrics(spec.name, readings=spec.readings)
    runtime = Runtime(
        spec=spec,
        settings=settings,
        bus=bus or _jetstream(spec, settings),
        metrics=metrics,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        telemetry.configure(spec.name, settings.otel_exporter)
        engine = runtime.engine = create_engine(
            settings.db_url, write_timeout=settings.db_write_timeout_seconds
        )
        telemetry.instrument(app, engine)
        await migrate(engine, spec.migrations, apart=settings.migrations_apart)
        anchors = await open_chain(engine, runtime.bus, service=spec.name, settings=settings)
        runtime.anchors = anchors
        sessions = async_sessionmaker(engine, expire_on_commit=False)
        readers = read_only_sessions(engine)
        relay = OutboxRelay(engine, runtime.bus, metrics, name=spec.name, batch=settings.relay_batch)

        def new_uow() -> UnitOfWork:
            return spec.uow(
                sessions,
                source=service_source(spec.name),
                subject_prefix=settings.subject_prefix,
                on_commit=relay.committed,
                clock=clock,
            )

        def new_reader() -> UnitOfWork:
            return spec.uow(
                readers,
                source=service_source(spec.name),
                subject_prefix=settings.subject_prefix,
                clock=clock,
                read_only=True,
            )

        runtime.new_uow = new_uow
        runtime.new_reader = new_reader
        write_wait = min(READY_WRITE_WAIT, settings.db_write_timeout_seconds)

        async def database() -> bool:
            return await ping(engine) and await can_write(engine, write_wait)

        runtime.ready_checks = {"database": database, "nats": _connected(runtime.bus)}
        if spec.subscriptions:
            runtime.ready_checks["consumer"] = _running(runtime)
        context = HandlerContext(policy=app.state.policy, calendar=app.state.calendar, now=clock)
        least_batch, most_batch = settings.batch_on(engine.dialect.name)
        dispatcher = EventDispatcher(
            durable=spec.name,
            subscriptions=spec.subscriptions,
            uow_factory=new_uow,
            context=context,
            max_deliver=settings.max_deliver,
            metrics=metrics,
            prefix=settings.subject_prefix,
            trusted=TrustedSources(settings.trusted_sources),
            future_allowance=timedelta(seconds=settings.future_event_allowance_seconds),
            least_batch=least_batch,
            batch=most_batch,
        )
        runtime.dispatcher = dispatcher
        runtime.tasks.append(asyncio.create_task(_messaging(runtime, relay, dispatcher), name="messaging"))
        for every, job in spec.periodic:
            runtime.tasks.append(asyncio.create_task(_every(every, job, app, runtime.stop), name="periodic"))
        runtime.tasks.append(asyncio.create_task(anchors.run(runtime.stop), name="audit-anchors"))
        watch = _calendar_watch(app, dispatcher, SettledCalendar(engine))
        runtime.tasks.append(
            asyncio.create_task(watch.run(settings.calendar_poll_seconds, runtime.stop), name="calendar")
        )
        # What start-up made (modules, mappers, schemas, packs) lives as long as the process: out of
        # the collector's sight, so that a full collection later does not walk it (a pause of many ms).
        gc.freeze()
        try:
            yield
        finally:
            # Graceful: stop taking work, let the relay batch and the current event finish, drain NATS.
            runtime.stop.set()
            _, pending = await asyncio.wait(runtime.tasks, timeout=10) if runtime.tasks else (set(), set())
            for task in pending:
                task.cancel()
            await anchors.close()  # the final head, after the last write
            await runtime.bus.close()
            await engine.dispose()

    app = FastAPI(title=spec.title, description=spec.description, version="0.1.0", lifespan=lifespan)
    app.state.runtime = runtime
    app.state.settings = settings
    app.state.tokens = TokenIssuer(settings)
    app.state.clock = clock
    app.state.policy = load_registry(settings.policy_dir)
    _check_trusted_jurisdictions(settings, app.state.policy)
    app.state.calendar = WorkingCalendar.from_dir(settings.calendar_path)
    install_calendar(app.state.calendar)
    app.add_middleware(telemetry.TraceContext)  # a request's traceparent goes on to its events
    problems.install(app, dict(spec.errors))
    # Uploads (multipart) get the same cap unless the service raises it (intake's materials).
    app.state.body_limits = limits.BodyLimits(json=settings.max_json_bytes, multipart=settings.max_json_bytes)
    limits.install(app, app.state.body_limits)
    service_metrics.install(app, metrics)
    docs.install(app)
    app.include_router(_health_router(runtime))
    for router in _common_routers(spec):
        app.include_router(router)
    for router in spec.routers:
        app.include_router(router)
    return app


def _jetstream(spec: ServiceSpec, settings: ServiceSettings) -> JetStreamBus:
    bus = JetStreamBus(
        settings.nats_url or "nats://127.0.0.1:4222",
        stream=settings.stream,
        prefix=settings.subject_prefix,
        duplicate_window=settings.duplicate_window_seconds,
        name=f"govit-{spec.name}",
    )
    bus.ack_wait = settings.ack_wait_seconds
    return bus


def _common_routers(spec: ServiceSpec) -> list[APIRouter]:
    """The routers every service has, as far as it has what they read: the audit log, facts recorded
    by hand (where it consumes events) and a project's events (where it keeps projects)."""
    routers = [audit_router()]
    if spec.subscriptions:
        routers.append(manual_router(spec.name))
    if spec.owners is not None:
        routers.append(events_router(spec.title.rpartition("— ")[2] + "系统", spec.owners))
    return routers


def _calendar_watch(app: FastAPI, dispatcher: EventDispatcher, store: SettledCalendar) -> CalendarWatch:
    """The watch on the calendar directory: a new calendar becomes the app's, the process's and the
    event handlers'; the service's hook then moves the deadlines it changes, and the calendar they
    were settled by is recorded in the service's database (where it has deadlines to move)."""
    runtime: Runtime = app.state.runtime
    hook = runtime.spec.recompute

    def swap(calendar: WorkingCalendar) -> None:
        app.state.calendar = calendar
        install_calendar(calendar)
        dispatcher.context = replace(dispatcher.context, calendar=calendar)

    async def recompute(old: WorkingCalendar, new: WorkingCalendar) -> None:
        if hook is not None:
            audit.current_actor.set({"kind": "system", "job": "calendar"})
            await hook(app, old, new)

    settled = store if hook is not None else None
    clock = app.state.clock
    return CalendarWatch(runtime.settings.calendar_path, app.state.calendar, swap, recompute, settled, clock)


def _check_trusted_jurisdictions(settings: ServiceSettings, policy: PolicyRegistry) -> None:
    """Fail at start on a trusted source named for a jurisdiction no policy pack covers."""
    for event_type, sources in settings.trusted_sources.items():
        for source, jurisdictions in sources.items():
            unknown = [j for j in jurisdictions if j != ANY_JURISDICTION and j not in policy]
            if unknown:
                raise ValueError(
                    f"GOVIT_TRUSTED_SOURCES[{event_type!r}][{source!r}]: no policy pack for "
                    f"{', '.join(unknown)}"
                )


async def _messaging(runtime: Runtime, relay: OutboxRelay, dispatcher: EventDispatcher) -> None:
    """Connect (retrying while NATS is away), ensure the stream, then run relay and consumer."""
    bus, stop = runtime.bus, runtime.stop
    pause = 0.5
    while not stop.is_set():
        try:
            if not bus.connected:
                await bus.connect(timeout=5)
            await bus.ensure_stream()
            break
        except Exception as exc:
            log.warning("%s: NATS not available (%s); retrying", runtime.spec.name, exc)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), pause)
            pause = min(pause * 2, 5)
    if stop.is_set():
        return

    def running(flag: bool) -> None:
        runtime.consumer_running = flag

    jobs = [relay.run(stop)]
    if dispatcher.handlers:
        jobs.append(
            bus.consume(
                runtime.spec.name,
                dispatcher.filters(),
                dispatcher,
                stop,
                # The server redelivers without limit; the dispatcher dead-letters an event whose
                # handler keeps failing, and retries for ever while only infrastructure is away.
                max_deliver=-1,
                running=running,
            )
        )
    await asyncio.gather(*jobs)


async def _every(
    seconds: float, job: Callable[[FastAPI], Awaitable[None]], app: FastAPI, stop: asyncio.Event
) -> None:
    """Run `job` now and then every `seconds` until the service stops; a failure waits for the next turn."""
    audit.current_actor.set({"kind": "system", "job": getattr(job, "__name__", str(job))})
    while not stop.is_set():
        try:
            await job(app)
        except Exception:
            log.exception("periodic job %s failed", getattr(job, "__name__", job))
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), seconds)


def _connected(bus: Bus) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return bus.connected

    return check


def _running(runtime: Runtime) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return runtime.consumer_running

    return check


class Readiness(BaseModel):
    ready: bool
    service: str
    pid: int = Field(description="the answering process: tells replicas on one machine apart")
    checks: dict[str, bool]


def _health_router(runtime: Runtime) -> APIRouter:
    router = APIRouter(tags=["health"])

    @router.get("/healthz", summary="Liveness")
    async def get_health() -> dict[str, str]:
        return {"status": "ok", "service": runtime.spec.name}

    @router.get(
        "/readyz",
        summary="Readiness: database reachable and writable, NATS connected, consumer running",
        response_model=Readiness,
        responses={
            503: {
                "model": Readiness,
                "description": "未就绪：数据库不可达或写入无法及时取得数据库、NATS 或消费者不可用",
            }
        },
    )
    async def get_readiness() -> JSONResponse:
        checks = {name: await check() for name, check in runtime.ready_checks.items()}
        ready = bool(checks) and all(checks.values())
        body = Readiness(ready=ready, service=runtime.spec.name, pid=os.getpid(), checks=checks)
        return JSONResponse(body.model_dump(), status_code=200 if ready else 503)

    return router
