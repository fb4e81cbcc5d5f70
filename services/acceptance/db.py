"""Acceptance's tables, mapping, repositories and unit of work."""

from __future__ import annotations

from typing import Any

from sqlalchemy import JSON, BigInteger, Column, Date, Enum, MetaData, String, Table, Text, event, select
from sqlalchemy.orm import registry

from services.acceptance.domain import Project, Status
from shared.db import AggregateRepository, UnitOfWork
from shared.sqltypes import UTCDateTime

metadata = MetaData()
mapper = registry(metadata=metadata)

projects = Table(
    "projects",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("jurisdiction", String(32), nullable=False, index=True),
    Column("agency", String(128), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("software_fen", BigInteger, nullable=False),
    Column("status", Enum(Status, native_enum=False, length=24), nullable=False, index=True),
    Column("completed_on", Date, nullable=True),
    Column("contractors", JSON, nullable=False),
    Column("supervisor", String(200), nullable=True),
    Column("initial", JSON, nullable=True),
    Column("trial_started_on", Date, nullable=True),
    Column("trial_ended_on", Date, nullable=True),
    Column("data_sharing", JSON, nullable=True),
    Column("attestations", JSON, nullable=False),
    Column("audit_report", JSON, nullable=True),
    Column("delay", JSON, nullable=True),
    Column("applications", JSON, nullable=False),
    Column("accepted_on", Date, nullable=True, index=True),
    Column("report", JSON, nullable=True),
    Column("report_due_on", Date, nullable=True),
    Column("rectification", JSON, nullable=True),
    Column("evaluations", JSON, nullable=False),
    Column("notices", JSON, nullable=False),
    Column("closed_reason", Text, nullable=True),
    Column("created_at", UTCDateTime, nullable=True),
)

mapper.map_imperatively(Project, projects)


@event.listens_for(Project, "load")
def _fresh_events(project: Project, _context: Any) -> None:
    project.events = []


class ProjectRepository(AggregateRepository[Project]):
    model = Project

    async def ids_to_watch(self, jurisdictions: frozenset[str] | None = None) -> list[str]:
        """Projects whose time limits may still run: completed and not closed (of these jurisdictions)."""
        query = select(projects.c.id).where(projects.c.status.notin_([Status.CLOSED, Status.BUILDING]))
        if jurisdictions is not None:
            query = query.where(projects.c.jurisdiction.in_(sorted(jurisdictions)))
        return list(await self.session.scalars(query))


class AcceptanceUnitOfWork(UnitOfWork):
    projects: ProjectRepository

    async def __aenter__(self) -> AcceptanceUnitOfWork:
        await super().__aenter__()
        self.projects = ProjectRepository(self.session, self)
        return self
