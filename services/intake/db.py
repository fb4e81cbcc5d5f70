"""Intake's tables, mapping, repositories and unit of work."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from dataclasses import asdict
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Enum,
    ForeignKey,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    func,
    select,
    update,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry

from services.intake.domain import (
    LIVE,
    Agency,
    Bar,
    FundingSource,
    Material,
    Project,
    ProjectKind,
    ProjectNature,
    ProjectStatus,
    Signoff,
)
from services.intake.screening import Deployment
from shared.db import AggregateRepository, UnitOfWork
from shared.sqltypes import UTCDateTime

metadata = MetaData()
mapper = registry(metadata=metadata)


def _enum(cls: Any, length: int = 24) -> Enum:
    return Enum(cls, native_enum=False, length=length)


projects = Table(
    "projects",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("jurisdiction", String(32), nullable=False, index=True),
    Column("agency", String(128), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("kind", _enum(ProjectKind, 16), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("classified", Boolean, nullable=False),
    Column("status", _enum(ProjectStatus, 16), nullable=False, index=True),
    Column("declared_at", UTCDateTime, nullable=True),
    Column("declared_by", String(128), nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("idempotency_key", String(128), nullable=True),
    Column("nature", _enum(ProjectNature, 16), nullable=False),
    Column("software_fen", BigInteger, nullable=False),
    Column("packaged_software", Boolean, nullable=False),
    Column("simple", Boolean, nullable=False),
    Column("summary", Text, nullable=False),
    Column("deployment", _enum(Deployment), nullable=False),
    Column("deployment_explanation", Text, nullable=False),
    Column("xinchuang_compatible", Boolean, nullable=False),
    Column("shares_data_with_platform", Boolean, nullable=False),
    Column("assigned_from_above", Boolean, nullable=False),
    Column("data_sharing_items", JSON, nullable=False),
    Column("security_plan", Text, nullable=False),
    Column("off_plan", Boolean, nullable=False),
    Column("off_plan_reason", Text, nullable=False),
    Column("funding_source", _enum(FundingSource, 16), nullable=False),
    Column("upper_approval_ref", String(128), nullable=False),
    Column("predecessor_id", String(64), nullable=True),
    Column("predecessor_acceptance_ref", String(128), nullable=False),
    Column("requested_plan_year", Integer, nullable=True),
    Column("plan_year", Integer, nullable=True, index=True),
    Column("review_batch", String(16), nullable=True),
    Column("notes", JSON, nullable=False),
    Column("flags", JSON, nullable=False),
    Column("plan_rank", Integer, nullable=True),
    Column("plan_document", String(128), nullable=True),
    Column("review_stage", String(32), nullable=True),
    Column("review_verdict", String(16), nullable=True),
    Column("review_case_id", String(64), nullable=True),
    Column("reviews", JSON, nullable=False),
    Column("final_acceptance", String(16), nullable=True),
    Column("approval_number", String(128), nullable=True),
    Column("approved_scope", Text, nullable=True),
    Column("approved_amount_fen", BigInteger, nullable=True),
    Column("approved_at", UTCDateTime, nullable=True),
    Column("closed_reason", Text, nullable=True),
    UniqueConstraint("agency", "idempotency_key", name="uq_projects_agency_idempotency_key"),
    UniqueConstraint("jurisdiction", "approval_number", name="uq_projects_approval_number"),
)

agencies = Table(
    "agencies",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("jurisdiction", String(32), nullable=False),
    Column("name", String(128), nullable=False),
    Column("level", String(16), nullable=False),
    Column("parent", String(128), nullable=True),
    Column("created_at", UTCDateTime, nullable=False),
    Column("duties_unmet", Boolean, nullable=False),
    Column("duties_note", Text, nullable=False),
    # A token names its agency; the full official name (歙县教育局) must say which one.
    UniqueConstraint("name", name="uq_agencies_name"),
)

materials = Table(
    "materials",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("project_id", String(64), ForeignKey("projects.id"), nullable=False, index=True),
    Column("material", String(64), nullable=False),
    Column("filename", String(255), nullable=False),
    Column("content_type", String(128), nullable=False),
    Column("size", BigInteger, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("uploaded_by", String(128), nullable=False),
    Column("uploaded_at", UTCDateTime, nullable=False),
)

signoffs = Table(
    "signoffs",
    metadata,
    Column("project_id", String(64), ForeignKey("projects.id"), primary_key=True),
    Column("signoff", String(64), primary_key=True),
    Column("document_ref", String(128), nullable=False),
    Column("recorded_by", String(128), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
)

decisions = Table(
    "decisions",
    metadata,
    Column("seq", BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True),
    Column("project_id", String(64), ForeignKey("projects.id"), nullable=False, index=True),
    Column("action", String(32), nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("by", String(128), nullable=False),
    Column("at", UTCDateTime, nullable=False),
    Column("note", Text, nullable=False),
    Column("reasons", JSON, nullable=False),
)

bars = Table(
    "bars",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("jurisdiction", String(32), nullable=False),
    Column("agency", String(128), nullable=False, index=True),
    Column("ground", String(48), nullable=False),
    Column("source_project_id", String(64), nullable=False),
    Column("since", UTCDateTime, nullable=False),
    Column("detail", Text, nullable=False),
    Column("lifted_at", UTCDateTime, nullable=True),
    Column("effective_on", Date, nullable=True),
)

plans = Table(
    "plans",
    metadata,
    Column("jurisdiction", String(32), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("status", String(16), nullable=False),  # draft | published
    Column("document", String(128), nullable=True),
    Column("updated_at", UTCDateTime, nullable=False),
    Column("published_at", UTCDateTime, nullable=True),
    Column("published_by", String(128), nullable=True),
)

plan_entries = Table(
    "plan_entries",
    metadata,
    Column("jurisdiction", String(32), primary_key=True),
    Column("year", Integer, primary_key=True),
    Column("rank", Integer, primary_key=True),
    Column("project_id", String(64), ForeignKey("projects.id"), nullable=False, unique=True),
)

mapper.map_imperatively(Project, projects)
mapper.map_imperatively(Agency, agencies)


@event.listens_for(Project, "load")
def _fresh_events(project: Project, _context: Any) -> None:
    project.events = []
    project.entries = []


class ProjectRepository(AggregateRepository[Project]):
    model = Project
    locks = False

    async def by_idempotency_key(self, agency: str, key: str) -> Project | None:
        found: Project | None = await self.session.scalar(
            select(Project).where(projects.c.agency == agency, projects.c.idempotency_key == key)
        )
        return found

    async def by_approval_number(self, jurisdiction: str, number: str) -> Project | None:
        found: Project | None = await self.session.scalar(
            select(Project).where(
                projects.c.jurisdiction == jurisdiction, projects.c.approval_number == number
            )
        )
        return found

    async def siblings(self, project: Project, statuses: frozenset[ProjectStatus] = LIVE) -> list[Project]:
        """The agency's other declarations for the same plan year (lhasa §7, shexian §12)."""
        rows = await self.session.scalars(
            select(Project).where(
                projects.c.jurisdiction == project.jurisdiction,
                projects.c.agency == project.agency,
                projects.c.plan_year == project.plan_year,
                projects.c.status.in_(list(statuses)),
                projects.c.id != project.id,
            )
        )
        return list(rows)

    async def for_plan(self, jurisdiction: str, ids: Sequence[str]) -> dict[str, Project]:
        rows = await self.session.scalars(
            select(Project).where(projects.c.jurisdiction == jurisdiction, projects.c.id.in_(list(ids)))
        )
        return {p.id: p for p in self.tracked(rows)}

    # -- materials and sign-offs ----------------------------------------------------------------
    async def add_material(self, material: Material) -> None:
        await self.session.execute(materials.insert().values(**asdict(material)))

    async def material_counts(self, project_id: str) -> dict[str, int]:
        rows = await self.session.execute(
            select(materials.c.material, func.count())
            .where(materials.c.project_id == project_id)
            .group_by(materials.c.material)
        )
        return {material: int(count) for material, count in rows}

    async def signoff(self, project_id: str, kind: str) -> Signoff | None:
        row = (
            await self.session.execute(
                select(signoffs).where(signoffs.c.project_id == project_id, signoffs.c.signoff == kind)
            )
        ).first()
        return Signoff(**row._mapping) if row else None

    async def add_signoff(self, signoff: Signoff) -> None:
        await self.session.execute(signoffs.insert().values(**asdict(signoff)))

    async def signoffs_of(self, project_id: str) -> set[str]:
        rows = await self.session.scalars(
            select(signoffs.c.signoff).where(signoffs.c.project_id == project_id)
        )
        return set(rows)


class AgencyRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, agency: Agency) -> None:
        self.session.add(agency)

    async def get(self, agency_id: str) -> Agency | None:
        return await self.session.get(Agency, agency_id, with_for_update=True)

    async def anywhere(self, name: str) -> Agency | None:
        found: Agency | None = await self.session.scalar(select(Agency).where(agencies.c.name == name))
        return found

    async def named(self, jurisdiction: str, name: str, *, for_update: bool = False) -> Agency | None:
        query = select(Agency).where(agencies.c.jurisdiction == jurisdiction, agencies.c.name == name)
        found: Agency | None = await self.session.scalar(query.with_for_update() if for_update else query)
        return found


class BarRepository:
    """Bars on agencies, kept from acceptance's events (one open bar per project and ground)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def active(self, jurisdiction: str, agency: str) -> list[Bar]:
        rows = await self.session.execute(
            select(bars).where(
                bars.c.jurisdiction == jurisdiction, bars.c.agency == agency, bars.c.lifted_at.is_(None)
            )
        )
        return [Bar(**r._mapping) for r in rows]

    async def impose(
        self,
        *,
        jurisdiction: str,
        agency: str,
        ground: str,
        project_id: str,
        detail: str,
        at: datetime,
        effective_on: date | None = None,
    ) -> None:
        open_bar = await self.session.scalar(
            select(bars.c.id).where(
                bars.c.source_project_id == project_id, bars.c.ground == ground, bars.c.lifted_at.is_(None)
            )
        )
        if open_bar is None:
            await self.session.execute(
                bars.insert().values(
                    id=uuid.uuid4().hex,
                    jurisdiction=jurisdiction,
                    agency=agency,
                    ground=ground,
                    source_project_id=project_id,
                    since=at,
                    detail=detail,
                    effective_on=effective_on,
                )
            )
        else:
            await self.session.execute(
                update(bars).where(bars.c.id == open_bar).values(detail=detail, effective_on=effective_on)
            )

    async def lift(self, *, project_id: str, ground: str, at: datetime) -> None:
        await self.session.execute(
            update(bars)
            .where(
                bars.c.source_project_id == project_id, bars.c.ground == ground, bars.c.lifted_at.is_(None)
            )
            .values(lifted_at=at)
        )


class IntakeUnitOfWork(UnitOfWork):
    projects: ProjectRepository
    agencies: AgencyRepository
    bars: BarRepository

    async def __aenter__(self) -> IntakeUnitOfWork:
        await super().__aenter__()
        self.projects = ProjectRepository(self.session, self)
        self.agencies = AgencyRepository(self.session)
        self.bars = BarRepository(self.session)
        return self

    async def commit(self) -> None:
        # Each project's decisions are kept with the state they explain, in the same transaction.
        rows = []
        await self.session.flush()
        for aggregate in self._tracked:
            if isinstance(aggregate, Project):
                for entry in aggregate.entries:
                    rows.append(
                        {
                            "project_id": aggregate.id,
                            "action": entry.action,
                            "outcome": entry.outcome,
                            "by": entry.by,
                            "at": entry.at,
                            "note": entry.note,
                            "reasons": [c.model_dump(mode="json") for c in entry.reasons],
                        }
                    )
                aggregate.entries.clear()
        if rows:
            await self.session.execute(decisions.insert(), rows)
        await super().commit()
