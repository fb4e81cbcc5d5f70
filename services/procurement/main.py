"""Procurement's composition root."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.procurement import consumers
from services.procurement.db import ProcurementUnitOfWork
from services.procurement.settings import ProcurementSettings
from shared.app import ServiceSpec, create_service_app
from shared.bus import Bus

SPEC = ServiceSpec(
    name=consumers.DURABLE,
    title="govit procurement — 采购与建设",
    description="采购需求、合同备案、监理、建设进度与变更",
    routers=[],
    migrations=Path(__file__).parent / "migrations",
    uow=ProcurementUnitOfWork,
    subscriptions=consumers.SUBSCRIPTIONS,
)


def create_app(settings: ProcurementSettings | None = None, *, bus: Bus | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or ProcurementSettings(), bus=bus)
