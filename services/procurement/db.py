"""Procurement's tables, mapping, repositories and unit of work."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    Date,
    Enum,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator

from services.procurement.domain import (
    Change,
    ChangeState,
    Contract,
    Decision,
    Firm,
    PaymentMilestone,
    Project,
    Purchase,
    Report,
    Requirements,
    Role,
    Status,
    Tender,
)
from shared.contracts.envelope import Citation
from shared.db import AggregateRepository, UnitOfWork
from shared.sqltypes import UTCDateTime


class Stored(TypeDecorator[Any]):
    """A JSON column holding typed records: `dump` gives the stored JSON, `load` the record back,
    so the stored shape is the one the columns always had."""

    impl = JSON
    cache_ok = True

    def __init__(self, load: Callable[[Any], Any], dump: Callable[[Any], Any]) -> None:
        super().__init__()
        self.load, self.dump = load, dump

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else self.dump(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else self.load(value)


def _many(load: Callable[[Any], Any], dump: Callable[[Any], Any]) -> Stored:
    return Stored(lambda items: [load(i) for i in items], lambda items: [dump(i) for i in items])


def _citations() -> Stored:
    return _many(Citation.model_validate, lambda c: c.model_dump(mode="json"))


REQUIREMENTS = Stored(Requirements.from_stored, Requirements.stored)
TENDERS = _many(Tender.from_stored, Tender.stored)
REPORTS = _many(Report.from_stored, Report.stored)
MILESTONES = _many(PaymentMilestone.from_stored, PaymentMilestone.stored)
DECISIONS = Stored(
    lambda d: {role: Decision.from_stored(v) for role, v in d.items()},
    lambda d: {role: v.stored() for role, v in d.items()},
)

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
    Column("declared_fen", BigInteger, nullable=False),
    Column("software_fen", BigInteger, nullable=False),
    Column("status", Enum(Status, native_enum=False, length=24), nullable=False, index=True),
    Column("approved_fen", BigInteger, nullable=True),
    Column("approved_on", Date, nullable=True),
    Column("plan_issued_on", Date, nullable=True),
    Column("review_passed_on", Date, nullable=True),
    Column("overrun_fen", BigInteger, nullable=False),
    Column("adjusted_fen", BigInteger, nullable=False),
    Column("requirements", REQUIREMENTS, nullable=True),
    Column("tenders", TENDERS, nullable=False),
    Column("reports", REPORTS, nullable=False),
    Column("implementation_plan_on", Date, nullable=True),
    Column("contract_signed_on", Date, nullable=True),
    Column("contract_starts_on", Date, nullable=True),
    Column("contract_ends_on", Date, nullable=True),
    Column("contractors", JSON, nullable=False),
    Column("contract_total_fen", BigInteger, nullable=False),
    Column("supervisor", String(200), nullable=True),
    Column("exceptions", JSON, nullable=True),  # 原则上: the authority's exceptions (code, reason, document)
    Column("started_on", Date, nullable=True),
    Column("completed_on", Date, nullable=True),
    Column("security_test_report", Text, nullable=True),
    Column("closed_reason", String(64), nullable=True),
    Column("notices", JSON, nullable=False),
    Column("extensions", JSON, nullable=True),  # deadline kind → the date the authority extended it to
    Column("suspension", JSON, nullable=True),  # 暂停建设: the measure that suspends construction
    Column("created_at", UTCDateTime, nullable=True),
)

contracts = Table(
    "contracts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("project_id", String(64), nullable=False, index=True),
    Column("jurisdiction", String(32), nullable=False, index=True),
    Column("agency", String(128), nullable=False, index=True),
    Column("role", Enum(Role, native_enum=False, length=16), nullable=False),
    Column("counterparty", String(200), nullable=False),
    Column("credit_code", String(18), nullable=False, index=True),
    Column("amount_fen", BigInteger, nullable=False),
    Column("signed_on", Date, nullable=False),
    Column("starts_on", Date, nullable=True),
    Column("ends_on", Date, nullable=True),
    Column("milestones", MILESTONES, nullable=False),
    Column("ip_to_government", Boolean, nullable=False),
    Column("filed_on", Date, nullable=False),
    Column("filing_due_on", Date, nullable=True),
    Column("late", Boolean, nullable=False),
    Column("filed_by", String(128), nullable=False),
    Column("filed_at", UTCDateTime, nullable=False),
    Column("notes", _citations(), nullable=False),
    Column("idempotency_key", String(128), nullable=True),
    UniqueConstraint("project_id", "idempotency_key", name="uq_contracts_idempotency"),
)

changes = Table(
    "changes",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("project_id", String(64), nullable=False, index=True),
    Column("jurisdiction", String(32), nullable=False, index=True),
    Column("agency", String(128), nullable=False, index=True),
    Column("description", Text, nullable=False),
    Column("scope_effect", Text, nullable=False),
    Column("total_delta_fen", BigInteger, nullable=False),
    Column("adjustment_fen", BigInteger, nullable=False),
    Column("goal_changed", Boolean, nullable=False),
    Column("ground", String(32), nullable=True),
    Column("path", String(16), nullable=False),
    Column("approvers", JSON, nullable=False),
    Column("decisions", DECISIONS, nullable=False),
    Column("review", String(16), nullable=True),
    Column("status", Enum(ChangeState, native_enum=False, length=16), nullable=False, index=True),
    Column("reasons", _citations(), nullable=False),
    Column("articles", JSON, nullable=False),
    Column("requested_by", String(128), nullable=False),
    Column("requested_at", UTCDateTime, nullable=False),
    Column("decided_at", UTCDateTime, nullable=True),
    Column("idempotency_key", String(128), nullable=True),
    UniqueConstraint("project_id", "idempotency_key", name="uq_changes_idempotency"),
)

firms = Table(
    "firms",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("jurisdiction", String(32), nullable=False),
    Column("credit_code", String(18), nullable=False),
    Column("name", String(200), nullable=False),
    Column("blacklisted", Boolean, nullable=False, index=True),
    Column("reason", Text, nullable=False),
    Column("updated_at", UTCDateTime, nullable=False),
    UniqueConstraint("jurisdiction", "credit_code", name="uq_firms_code"),
)

purchases = Table(
    "purchases",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("jurisdiction", String(32), nullable=False, index=True),
    Column("agency", String(128), nullable=False, index=True),
    Column("title", String(200), nullable=False),
    Column("category", String(32), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("supplier", String(200), nullable=False),
    Column("credit_code", String(18), nullable=False),
    Column("procured_on", Date, nullable=False),
    Column("filing_due_on", Date, nullable=False, index=True),
    Column("recorded_by", String(128), nullable=False),
    Column("recorded_at", UTCDateTime, nullable=False),
    Column("materials", Text, nullable=True),
    Column("filed_on", Date, nullable=True),
    Column("filed_by", String(128), nullable=True),
    Column("late", Boolean, nullable=False),
    Column("notes", _citations(), nullable=False),
    Column("missed_noticed", Boolean, nullable=False),
    Column("idempotency_key", String(128), nullable=True),
    UniqueConstraint("agency", "idempotency_key", name="uq_purchases_idempotency"),
)

mapper.map_imperatively(Project, projects)
mapper.map_imperatively(Contract, contracts)
mapper.map_imperatively(Change, changes)
mapper.map_imperatively(Firm, firms)
mapper.map_imperatively(Purchase, purchases)


@event.listens_for(Project, "load")
@event.listens_for(Purchase, "load")
def _fresh_events(aggregate: Project | Purchase, _context: Any) -> None:
    aggregate.events = []


class ProjectRepository(AggregateRepository[Project]):
    model = Project

    async def ids_in_progress(self, jurisdictions: frozenset[str] | None = None) -> list[str]:
        """Projects whose deadlines may still run: not closed, not completed (of these jurisdictions)."""
        query = select(projects.c.id).where(projects.c.status.notin_([Status.CLOSED, Status.COMPLETED]))
        if jurisdictions is not None:
            query = query.where(projects.c.jurisdiction.in_(sorted(jurisdictions)))
        return list(await self.session.scalars(query))


class ContractRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, contract: Contract) -> None:
        self.session.add(contract)

    async def by_key(self, project_id: str, key: str) -> Contract | None:
        found: Contract | None = await self.session.scalar(
            select(Contract).where(contracts.c.project_id == project_id, contracts.c.idempotency_key == key)
        )
        return found

    async def of(self, project_id: str) -> list[Contract]:
        rows = await self.session.scalars(
            select(Contract).where(contracts.c.project_id == project_id).order_by(contracts.c.signed_on)
        )
        return list(rows)


class ChangeRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, change: Change) -> None:
        self.session.add(change)

    async def get(self, change_id: str) -> Change | None:
        return await self.session.get(Change, change_id, with_for_update=True)

    async def by_key(self, project_id: str, key: str) -> Change | None:
        found: Change | None = await self.session.scalar(
            select(Change).where(changes.c.project_id == project_id, changes.c.idempotency_key == key)
        )
        return found

    async def project_of(self, change_id: str) -> str | None:
        found: str | None = await self.session.scalar(
            select(changes.c.project_id).where(changes.c.id == change_id)
        )
        return found

    async def of(self, project_id: str) -> list[Change]:
        rows = await self.session.scalars(
            select(Change).where(changes.c.project_id == project_id).order_by(changes.c.requested_at)
        )
        return list(rows)

    async def awaiting_review(self, project_id: str) -> list[Change]:
        rows = await self.session.scalars(
            select(Change)
            .where(
                changes.c.project_id == project_id,
                changes.c.status == ChangeState.PENDING,
                changes.c.review.in_(["requested", "revise"]),
            )
            .order_by(changes.c.requested_at)
        )
        return list(rows)


class FirmRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def add(self, firm: Firm) -> None:
        self.session.add(firm)

    async def get(self, jurisdiction: str, credit_code: str) -> Firm | None:
        found: Firm | None = await self.session.scalar(
            select(Firm).where(firms.c.jurisdiction == jurisdiction, firms.c.credit_code == credit_code)
        )
        return found


class PurchaseRepository(AggregateRepository[Purchase]):
    model = Purchase

    async def by_key(self, agency: str, key: str) -> Purchase | None:
        found = await self.session.scalar(
            select(Purchase).where(purchases.c.agency == agency, purchases.c.idempotency_key == key)
        )
        return self.tracked([found])[0] if found is not None else None

    async def ids_unfiled_past(self, day: dt.date, jurisdictions: frozenset[str] | None = None) -> list[str]:
        """Purchases unfiled whose limit ended before `day` and not yet evented (of these jurisdictions)."""
        query = select(purchases.c.id).where(
            purchases.c.filed_on.is_(None),
            purchases.c.filing_due_on < day,
            purchases.c.missed_noticed.is_(False),
        )
        if jurisdictions is not None:
            query = query.where(purchases.c.jurisdiction.in_(sorted(jurisdictions)))
        return list(await self.session.scalars(query))


class ProcurementUnitOfWork(UnitOfWork):
    read_with_batch = ("projects",)  # a consumer's batch reads its projects at once
    projects: ProjectRepository
    contracts: ContractRepository
    changes: ChangeRepository
    firms: FirmRepository
    purchases: PurchaseRepository

    async def __aenter__(self) -> ProcurementUnitOfWork:
        await super().__aenter__()
        self.projects = ProjectRepository(self.session, self)
        self.contracts = ContractRepository(self.session)
        self.changes = ChangeRepository(self.session)
        self.firms = FirmRepository(self.session)
        self.purchases = PurchaseRepository(self.session, self)
        return self
