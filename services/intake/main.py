"""Intake's composition root."""

from __future__ import annotations

from pathlib import Path

from fastapi import FastAPI

from services.intake import api, consumers, requirements, screening
from services.intake.db import IntakeUnitOfWork
from services.intake.settings import IntakeSettings
from shared.app import ServiceSpec, create_service_app
from shared.bus import Bus

SPEC = ServiceSpec(
    name=consumers.DURABLE,
    title="govit intake — 项目申报",
    description="申报、形式审查、年度计划与批复",
    routers=[api.router],
    migrations=Path(__file__).parent / "migrations",
    uow=IntakeUnitOfWork,
    subscriptions=consumers.SUBSCRIPTIONS,
    errors=api.ERRORS,
)


def create_app(settings: IntakeSettings | None = None, *, bus: Bus | None = None) -> FastAPI:
    app = create_service_app(SPEC, settings or IntakeSettings(), bus=bus)
    # Fail at start, not at the first declaration.
    requirements.validate_packs(app.state.policy)
    screening.validate_packs(app.state.policy)
    return app
