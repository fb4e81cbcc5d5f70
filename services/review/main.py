"""Review's composition root."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.review import consumers
from services.review.db import ReviewUnitOfWork
from services.review.settings import ReviewSettings
from shared.app import ServiceSpec, create_service_app
from shared.bus import Bus

SPEC = ServiceSpec(
    name=consumers.DURABLE,
    title="govit review — 评审",
    description="专家库、抽选专家组、评审意见与时限",
    routers=[],
    migrations=Path(__file__).parent / "migrations",
    uow=ReviewUnitOfWork,
    subscriptions=consumers.SUBSCRIPTIONS,
)


def create_app(settings: ReviewSettings | None = None, *, bus: Bus | None = None) -> FastAPI:
    return create_service_app(SPEC, settings or ReviewSettings(), bus=bus)
