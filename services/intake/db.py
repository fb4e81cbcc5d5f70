"""Intake's tables, mapping, repository and unit of work."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Enum,
    Integer,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry

from services.intake.domain import Project, ProjectKind, ProjectNature, ProjectStatus
from shared.db import UnitOfWork, UTCDateTime

metadata = MetaData()
mapper = registry(metadata=metadata)

projects = Table(
    "projects",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("jurisdiction", String(32), nullable=False, index=True),
    Column("agency", String(128), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("kind", Enum(ProjectKind, native_enum=False, length=16), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("classified", Boolean, nullable=False),
    Column("status", Enum(ProjectStatus, native_enum=False, length=16), nullable=False, index=True),
    Column("declared_at", UTCDateTime, nullable=False),
    Column("declared_by", String(128), nullable=False),
    Column("idempotency_key", String(128), nullable=True),
    Column("nature", Enum(ProjectNature, native_enum=False, length=16), nullable=False),
    Column("software_fen", BigInteger, nullable=False),
    Column("packaged_software", Boolean, nullable=False),
    Column("simple", Boolean, nullable=False),
    Column("plan_year", Integer, nullable=True),
    Column("approved_amount_fen", BigInteger, nullable=True),
    Column("approved_at", UTCDateTime, nullable=True),
    UniqueConstraint("agency", "idempotency_key", name="uq_projects_agency_idempotency_key"),
)

mapper.map_imperatively(Project, projects)


@event.listens_for(Project, "load")
def _fresh_events(project: Project, _context: Any) -> None:
    project.events = []


class ProjectRepository:
    def __init__(self, session: AsyncSession, uow: UnitOfWork) -> None:
        self.session = session
        self.uow = uow

    def add(self, project: Project) -> None:
        self.session.add(project)
        self.uow.track(project)

    async def get(self, project_id: str, *, for_update: bool = False) -> Project | None:
        project = await self.session.get(Project, project_id, with_for_update=for_update)
        if project is not None:
            self.uow.track(project)
        return project

    async def by_idempotency_key(self, agency: str, key: str) -> Project | None:
        found: Project | None = await self.session.scalar(
            select(Project).where(projects.c.agency == agency, projects.c.idempotency_key == key)
        )
        return found


class IntakeUnitOfWork(UnitOfWork):
    projects: ProjectRepository

    async def __aenter__(self) -> IntakeUnitOfWork:
        await super().__aenter__()
        self.projects = ProjectRepository(self.session, self)
        return self
