"""Review's composition root."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI

from services.review import api, commands, consumers, handlers, reading_api
from services.review.db import ReviewUnitOfWork, cases
from services.review.settings import ReviewSettings
from shared.app import ServiceSpec, create_service_app
from shared.bus import Bus
from shared.consume import HandlerContext
from shared.db import utcnow
from shared.workdays import WorkingCalendar, changed_years, today_in_shanghai


async def _scan_overdue(app: FastAPI) -> None:
    uow = app.state.runtime.new_uow()
    ctx = HandlerContext(policy=app.state.policy, calendar=app.state.calendar, now=app.state.clock)
    await handlers.scan_overdue(uow, commands.ScanOverdue(today_in_shanghai(ctx.now())), ctx)


async def _recompute(app: FastAPI, old: WorkingCalendar, new: WorkingCalendar) -> None:
    ctx = HandlerContext(policy=app.state.policy, calendar=new, now=app.state.clock)
    cmd = commands.RecomputeTimeLimits(old, changed_years(old, new))
    await handlers.recompute_time_limits(app.state.runtime.new_uow, cmd, ctx)


SPEC = ServiceSpec(
    name=consumers.DURABLE,
    title="govit review — 评审",
    description="专家库、抽选专家组、评审意见与时限",
    routers=[api.experts, api.cases, reading_api.router],
    migrations=Path(__file__).parent / "migrations",
    uow=ReviewUnitOfWork,
    subscriptions=consumers.SUBSCRIPTIONS,
    errors=api.ERRORS,
    owners=cases.c.project_id,
    periodic=((3600.0, _scan_overdue),),
    recompute=_recompute,
)


def create_app(
    settings: ReviewSettings | None = None, *, bus: Bus | None = None, clock: Callable[[], datetime] = utcnow
) -> FastAPI:
    """`clock` gives the current instant (UTC); tests pass their own to move time limits."""
    return create_service_app(SPEC, settings or ReviewSettings(), bus=bus, clock=clock)
