"""Funding's composition root."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI

from services.funding import api, consumers, handlers, reports, signals
from services.funding.commands import RecomputeDeadlines
from services.funding.db import FundingUnitOfWork, projects
from services.funding.settings import FundingSettings
from shared.app import ServiceSpec, create_service_app
from shared.bus import Bus
from shared.consume import HandlerContext
from shared.db import utcnow
from shared.workdays import WorkingCalendar, changed_years


async def _recompute(app: FastAPI, old: WorkingCalendar, new: WorkingCalendar) -> None:
    ctx = HandlerContext(policy=app.state.policy, calendar=new, now=app.state.clock)
    cmd = RecomputeDeadlines(old, changed_years(old, new))
    await handlers.recompute_deadlines(app.state.runtime.new_uow, cmd, ctx)


SPEC = ServiceSpec(
    name=consumers.DURABLE,
    title="govit funding — 资金拨付",
    description="按前置条件（闸门）拨付资金与运维经费，说明每个未开启闸门的条款依据",
    routers=[api.projects_router, api.disbursements_router, reports.router],
    migrations=Path(__file__).parent / "migrations",
    uow=FundingUnitOfWork,
    subscriptions=consumers.SUBSCRIPTIONS,
    errors=api.ERRORS,
    owners=projects.c.id,
    recompute=_recompute,
    readings=signals.held_payments,
)


def create_app(
    settings: FundingSettings | None = None, *, bus: Bus | None = None, clock: Callable[[], datetime] = utcnow
) -> FastAPI:
    """`clock` gives the current instant (UTC); tests pass their own to cross dates."""
    return create_service_app(SPEC, settings or FundingSettings(), bus=bus, clock=clock)
