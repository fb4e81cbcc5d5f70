"""Intake's composition root."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI

from services.intake import api, authority_api, case_file, consumers, reports
from services.intake.db import IntakeUnitOfWork
from services.intake.domain import requirements, screening
from services.intake.settings import IntakeSettings
from services.intake.storage import MaterialStore
from services.intake.tables import projects
from shared.app import ServiceSpec, create_service_app
from shared.bus import Bus
from shared.db import utcnow

FORM_OVERHEAD = 64 * 1024  # the multipart boundaries, part headers and the `material` field

SPEC = ServiceSpec(
    name=consumers.DURABLE,
    title="govit intake — 项目申报",
    description="建设单位登记、申报、材料、形式审查、年度计划与批复",
    routers=[api.agencies, api.router, authority_api.router, api.plans, case_file.router, reports.router],
    migrations=Path(__file__).parent / "migrations",
    uow=IntakeUnitOfWork,
    subscriptions=consumers.SUBSCRIPTIONS,
    errors=api.ERRORS,
    owners=projects.c.id,
)


def create_app(
    settings: IntakeSettings | None = None, *, bus: Bus | None = None, clock: Callable[[], datetime] = utcnow
) -> FastAPI:
    """`clock` gives the current instant (UTC); tests pass a fixed one to move deadlines."""
    settings = settings or IntakeSettings()
    app = create_service_app(SPEC, settings, bus=bus, clock=clock)
    # Fail at start, not at the first declaration.
    requirements.validate_packs(app.state.policy)
    screening.validate_packs(app.state.policy)
    max_bytes = settings.max_upload_mib * 1024 * 1024
    app.state.materials = MaterialStore(settings.materials_path, max_bytes)
    # An upload is cut while it streams in once it passes the file cap and the form around it.
    app.state.body_limits.multipart = max_bytes + FORM_OVERHEAD
    app.state.body_limits.upload_file = max_bytes
    return app
