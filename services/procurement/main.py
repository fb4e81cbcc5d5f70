"""Procurement's composition root."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI

from services.procurement import api, commands, consumers, deadlines_api, handlers, purchases_api, reports
from services.procurement.db import ProcurementUnitOfWork, projects
from services.procurement.settings import ProcurementSettings
from shared.app import ServiceSpec, create_service_app
from shared.bus import Bus
from shared.consume import HandlerContext
from shared.db import utcnow
from shared.workdays import WorkingCalendar, changed_years


async def _scan_deadlines(app: FastAPI) -> None:
    ctx = HandlerContext(policy=app.state.policy, calendar=app.state.calendar, now=app.state.clock)
    await handlers.scan_deadlines(app.state.runtime.new_uow, commands.ScanDeadlines(), ctx)


async def _recompute(app: FastAPI, old: WorkingCalendar, new: WorkingCalendar) -> None:
    ctx = HandlerContext(policy=app.state.policy, calendar=new, now=app.state.clock)
    cmd = commands.RecomputeDeadlines(old, changed_years(old, new))
    await handlers.recompute_deadlines(app.state.runtime.new_uow, cmd, ctx)


SPEC = ServiceSpec(
    name=consumers.DURABLE,
    title="govit procurement — 采购与建设",
    description="采购需求、采购结果、合同备案、监理、开工、进度报告、变更与竣工；计划外采购备案",
    routers=[
        api.projects,
        api.changes,
        api.firms,
        purchases_api.purchases,
        deadlines_api.router,
        reports.router,
    ],
    migrations=Path(__file__).parent / "migrations",
    uow=ProcurementUnitOfWork,
    subscriptions=consumers.SUBSCRIPTIONS,
    errors=api.ERRORS,
    owners=projects.c.id,
    periodic=((3600.0, _scan_deadlines),),
    recompute=_recompute,
)


def create_app(
    settings: ProcurementSettings | None = None,
    *,
    bus: Bus | None = None,
    clock: Callable[[], datetime] = utcnow,
) -> FastAPI:
    """`clock` gives the current instant (UTC); tests pass their own to cross deadlines."""
    return create_service_app(SPEC, settings or ProcurementSettings(), bus=bus, clock=clock)
