"""Acceptance's composition root."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.acceptance import consumers
from services.acceptance.db import AcceptanceUnitOfWork
from services.acceptance.settings import AcceptanceSettings
from shared.app import ServiceSpec, create_service_app
from shared.bus import Bus

SPEC = ServiceSpec(
    name=consumers.DURABLE,
    title="govit acceptance — 验收",
    description="初验、试运行、数据共享确认、终验与评价",
    routers=[],
    migrations=Path(__file__).parent / "migrations",
    uow=AcceptanceUnitOfWork,
    subscriptions=consumers.SUBSCRIPTIONS,
)


def create_app(settings: AcceptanceSettings | None = None, *, bus: Bus | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or AcceptanceSettings(), bus=bus)
