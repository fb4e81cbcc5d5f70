"""Acceptance's tables, mapping, repositories and unit of work."""

from __future__ import annotations

from typing import Any, Protocol, Self

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Dialect,
    Enum,
    MetaData,
    String,
    Table,
    Text,
    event,
    select,
)
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator

from services.acceptance.domain import (
    Application,
    Attestation,
    AuditReport,
    DataSharing,
    Delay,
    Evaluation,
    InitialAcceptance,
    Project,
    Rectification,
    Report,
    Status,
)
from shared.db import AggregateRepository, UnitOfWork
from shared.sqltypes import UTCDateTime


class StoredRecord(Protocol):
    @classmethod
    def from_stored(cls, d: dict[str, Any]) -> Self: ...

    def stored(self) -> dict[str, Any]: ...


class Record(TypeDecorator[Any]):
    """A typed record (or a tuple of them) kept as the JSON it always was."""

    impl = JSON
    cache_ok = True

    def __init__(self, record: type[StoredRecord], many: bool = False) -> None:
        super().__init__()
        self.record, self.many = record, many

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        return [r.stored() for r in value] if self.many else value.stored()

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        if self.many:
            return tuple(self.record.from_stored(d) for d in value)
        return self.record.from_stored(value)


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
    Column("classified", Boolean, nullable=False),
    Column("completed_on", Date, nullable=True),
    Column("contractors", JSON, nullable=False),
    Column("supervisor", String(200), nullable=True),
    Column("initial", Record(InitialAcceptance), nullable=True),
    Column("trial_started_on", Date, nullable=True),
    Column("trial_ended_on", Date, nullable=True),
    Column("data_sharing", Record(DataSharing), nullable=True),
    Column("attestations", Record(Attestation, many=True), nullable=False),
    Column("audit_report", Record(AuditReport), nullable=True),
    Column("delay", Record(Delay), nullable=True),
    Column("applications", Record(Application, many=True), nullable=False),
    Column("accepted_on", Date, nullable=True, index=True),
    Column("report", Record(Report), nullable=True),
    Column("report_due_on", Date, nullable=True),
    Column("rectification", Record(Rectification), nullable=True),
    Column("evaluations", Record(Evaluation, many=True), nullable=False),
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
    read_with_batch = ("projects",)  # a consumer's batch reads its projects at once
    projects: ProjectRepository

    async def __aenter__(self) -> AcceptanceUnitOfWork:
        await super().__aenter__()
        self.projects = ProjectRepository(self.session, self)
        return self
