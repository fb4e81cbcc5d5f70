"""Acceptance's composition root."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI

from services.acceptance import api, consumers, deadlines_api, handlers
from services.acceptance.commands import RecomputeDeadlines, ScanEvaluations
from services.acceptance.db import AcceptanceUnitOfWork, projects
from services.acceptance.settings import AcceptanceSettings
from shared.app import ServiceSpec, create_service_app
from shared.auth import EVERYWHERE
from shared.bus import Bus
from shared.consume import HandlerContext
from shared.db import utcnow
from shared.workdays import WorkingCalendar, changed_years


async def _scan(app: FastAPI) -> None:
    instant: datetime = app.state.clock()
    ctx = HandlerContext(policy=app.state.policy, calendar=app.state.calendar, now=lambda: instant)
    await handlers.scan(app.state.runtime.new_uow, ScanEvaluations(EVERYWHERE), ctx)


async def _recompute(app: FastAPI, old: WorkingCalendar, new: WorkingCalendar) -> None:
    instant: datetime = app.state.clock()
    ctx = HandlerContext(policy=app.state.policy, calendar=new, now=lambda: instant)
    await handlers.recompute_deadlines(
        app.state.runtime.new_uow, RecomputeDeadlines(old, changed_years(old, new)), ctx
    )


SPEC = ServiceSpec(
    name=consumers.DURABLE,
    title="govit acceptance — 验收",
    description="初验、试运行、数据共享确认、安全测评、审计报告、终验、验收报告与评价",
    routers=[api.projects, deadlines_api.router],
    migrations=Path(__file__).parent / "migrations",
    uow=AcceptanceUnitOfWork,
    subscriptions=consumers.SUBSCRIPTIONS,
    errors=api.ERRORS,
    owners=projects.c.id,
    periodic=((3600.0, _scan),),
    recompute=_recompute,
)


def create_app(
    settings: AcceptanceSettings | None = None,
    *,
    bus: Bus | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    """`clock` gives the current instant (UTC); tests pass their own to cross time limits."""
    return create_service_app(SPEC, settings or AcceptanceSettings(), bus=bus, clock=clock)
