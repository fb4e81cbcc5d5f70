"""Funding's tables, mapping, repositories and unit of work."""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Enum,
    ForeignKey,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry

from services.funding.domain import Disbursement, DisbursementStatus, FundedProject, PaymentKind
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
    Column("declared_amount_fen", BigInteger, nullable=False),
    Column("approved", Boolean, nullable=False),
    Column("approved_amount_fen", BigInteger, nullable=True),
)

disbursements = Table(
    "disbursements",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("project_id", String(64), ForeignKey("projects.id"), nullable=False, index=True),
    Column("jurisdiction", String(32), nullable=False),
    Column("agency", String(128), nullable=False, index=True),
    Column("kind", Enum(PaymentKind, native_enum=False, length=16), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("purpose", String(200), nullable=False),
    Column("requested_by", String(128), nullable=False),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("status", Enum(DisbursementStatus, native_enum=False, length=16), nullable=False, index=True),
    Column("closed_gates", JSON, nullable=False),
    Column("idempotency_key", String(128), nullable=True),
    Column("released_at", UTCDateTime, nullable=True),
    UniqueConstraint("agency", "idempotency_key", name="uq_disbursements_agency_idempotency_key"),
)

mapper.map_imperatively(FundedProject, projects)
mapper.map_imperatively(Disbursement, disbursements)


@event.listens_for(FundedProject, "load")
@event.listens_for(Disbursement, "load")
def _fresh_events(aggregate: Any, _context: Any) -> None:
    aggregate.events = []


class ProjectRepository:
    def __init__(self, session: AsyncSession, uow: UnitOfWork) -> None:
        self.session = session
        self.uow = uow

    def add(self, project: FundedProject) -> None:
        self.session.add(project)
        self.uow.track(project)

    async def get(self, project_id: str, *, for_update: bool = False) -> FundedProject | None:
        """`for_update` serialises a request with the event that opens its gates (PostgreSQL)."""
        project = await self.session.get(FundedProject, project_id, with_for_update=for_update)
        if project is not None:
            self.uow.track(project)
        return project


class DisbursementRepository:
    def __init__(self, session: AsyncSession, uow: UnitOfWork) -> None:
        self.session = session
        self.uow = uow

    def add(self, item: Disbursement) -> None:
        self.session.add(item)
        self.uow.track(item)

    async def held_for(self, project_id: str) -> list[Disbursement]:
        items = list(
            await self.session.scalars(
                select(Disbursement)
                .where(
                    disbursements.c.project_id == project_id,
                    disbursements.c.status == DisbursementStatus.HELD,
                )
                .order_by(disbursements.c.requested_at)
                .with_for_update()
            )
        )
        for item in items:
            self.uow.track(item)
        return items

    async def by_idempotency_key(self, agency: str, key: str) -> Disbursement | None:
        found: Disbursement | None = await self.session.scalar(
            select(Disbursement).where(
                disbursements.c.agency == agency, disbursements.c.idempotency_key == key
            )
        )
        return found


class FundingUnitOfWork(UnitOfWork):
    projects: ProjectRepository
    disbursements: DisbursementRepository

    async def __aenter__(self) -> FundingUnitOfWork:
        await super().__aenter__()
        self.projects = ProjectRepository(self.session, self)
        self.disbursements = DisbursementRepository(self.session, self)
        return self
