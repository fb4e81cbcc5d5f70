"""Review's tables, mapping, repositories and unit of work."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    Date,
    Enum,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    or_,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry

from services.review.domain import CLOSED, CaseStatus, Expert, ReviewCase
from services.review.drawing import ExpertStatus
from shared.db import AggregateRepository, UnitOfWork
from shared.sqltypes import UTCDateTime

metadata = MetaData()
mapper = registry(metadata=metadata)

experts = Table(
    "experts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(64), nullable=False),
    Column("employer", String(128), nullable=False, index=True),
    Column("title", String(64), nullable=False),
    Column("specialties", JSON, nullable=False),
    Column("status", Enum(ExpertStatus, native_enum=False, length=16), nullable=False, index=True),
    Column("status_reason", Text, nullable=False),
    Column("created_at", UTCDateTime, nullable=False),
    Column("subject", String(128), nullable=True),
    # The pool (专家库) the expert is registered in; one person in two pools is two entries.
    Column("pool", String(32), nullable=False, index=True),
    UniqueConstraint("pool", "subject", name="uq_experts_pool_subject"),
)

cases = Table(
    "cases",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("project_id", String(64), nullable=False, index=True),
    Column("jurisdiction", String(32), nullable=False, index=True),
    Column("stage", String(32), nullable=False),
    Column("agency", String(128), nullable=False),
    Column("parties", JSON, nullable=False),
    Column("status", Enum(CaseStatus, native_enum=False, length=16), nullable=False, index=True),
    Column("opened_at", UTCDateTime, nullable=False),
    Column("opened_by", String(128), nullable=False),
    Column("received_on", Date, nullable=False),
    Column("round", Integer, nullable=False),
    Column("failures", Integer, nullable=False),
    Column("seed", String(64), nullable=True),
    Column("candidates", JSON, nullable=False),
    Column("seats", JSON, nullable=False),
    Column("declined", JSON, nullable=False),
    Column("clock", String(48), nullable=True),
    Column("due_on", Date, nullable=True, index=True),
    Column("overdue_notified", Boolean, nullable=False),
    Column("verdict", String(16), nullable=True),
    Column("concluded_at", UTCDateTime, nullable=True),
    Column("third_party_assessment", Text, nullable=False),
    Column("reference", String(64), nullable=True),
    Column("closed_reason", Text, nullable=True),
    Column("reports", JSON, nullable=False),
)

mapper.map_imperatively(Expert, experts)
mapper.map_imperatively(ReviewCase, cases)


@event.listens_for(ReviewCase, "load")
def _fresh_events(case: ReviewCase, _context: Any) -> None:
    case.events = []


class ExpertRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, expert: Expert) -> None:
        self.session.add(expert)

    async def get(self, expert_id: str) -> Expert | None:
        return await self.session.get(Expert, expert_id, with_for_update=True)

    async def by_subject(self, pool: str, subject: str) -> Expert | None:
        found: Expert | None = await self.session.scalar(
            select(Expert).where(experts.c.pool == pool, experts.c.subject == subject)
        )
        return found

    async def pool(self, pool: str) -> list[Expert]:
        """Every expert of the pool, in id order (the draw records it as its candidate list)."""
        return list(
            await self.session.scalars(select(Expert).where(experts.c.pool == pool).order_by(experts.c.id))
        )


class CaseRepository(AggregateRepository[ReviewCase]):
    model = ReviewCase

    async def open_for(self, project_id: str, stage: str, reference: str | None = None) -> ReviewCase | None:
        """The case still open for the project at the stage (and about the same change or application)."""
        found: ReviewCase | None = await self.session.scalar(
            select(ReviewCase).where(
                cases.c.project_id == project_id,
                cases.c.stage == stage,
                cases.c.status.not_in(CLOSED),
                cases.c.reference.is_(None) if reference is None else cases.c.reference == reference,
            )
        )
        return found

    async def unsettled(self, project_id: str, reference: str | None = None) -> list[ReviewCase]:
        """The project's cases still awaiting something (about `reference` if given), locked: not yet
        concluded or cancelled, or concluded with a time limit still running (a report owed)."""
        query = select(ReviewCase).where(
            cases.c.project_id == project_id,
            cases.c.status != CaseStatus.CANCELLED,
            or_(cases.c.status != CaseStatus.CONCLUDED, cases.c.clock.is_not(None)),
        )
        if reference is not None:
            query = query.where(cases.c.reference == reference)
        return self.tracked(await self.session.scalars(query.order_by(cases.c.id).with_for_update()))

    async def past_due(self, today: dt.date, jurisdictions: frozenset[str] | None = None) -> list[ReviewCase]:
        """Cases past their time limit not yet notified (of these jurisdictions only, if given)."""
        query = select(ReviewCase).where(cases.c.due_on < today, cases.c.overdue_notified.is_(False))
        if jurisdictions is not None:
            query = query.where(cases.c.jurisdiction.in_(sorted(jurisdictions)))
        return self.tracked(await self.session.scalars(query.with_for_update(skip_locked=True)))


class ReviewUnitOfWork(UnitOfWork):
    experts: ExpertRepository
    cases: CaseRepository

    async def __aenter__(self) -> ReviewUnitOfWork:
        await super().__aenter__()
        self.experts = ExpertRepository(self.session)
        self.cases = CaseRepository(self.session, self)
        return self
