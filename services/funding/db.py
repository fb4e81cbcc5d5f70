"""Funding's tables, mapping, repositories and unit of work."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    Enum,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    Select,
    String,
    Table,
    Text,
    UniqueConstraint,
    bindparam,
    case,
    event,
    func,
    select,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import registry
from sqlalchemy.types import TypeDecorator

from services.funding.domain import (
    BUDGET_KINDS,
    Contract,
    Disbursement,
    DisbursementStatus,
    FundedProject,
    GateState,
    Ledger,
    PaymentKind,
    Reclaim,
)
from services.funding.domain.contracts import PaymentNode
from services.funding.domain.gates import GateOrdering
from services.funding.domain.projects import Settlement
from shared.db import AggregateRepository, UnitOfWork
from shared.sqltypes import UTCDateTime

# The typed records of the domain, stored as the JSON they always were (no migration); each
# reads as that JSON too (domain.stored.Stored), so the audit log sees no difference.


class SettlementJSON(TypeDecorator[Settlement]):
    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: Settlement | None, dialect: Dialect) -> Any:
        return None if value is None else value.stored()

    def process_result_value(self, value: Any, dialect: Dialect) -> Settlement | None:
        return None if value is None else Settlement.from_stored(value)


class OrderingJSON(TypeDecorator[GateOrdering]):
    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: GateOrdering | None, dialect: Dialect) -> Any:
        return None if value is None else value.stored()

    def process_result_value(self, value: Any, dialect: Dialect) -> GateOrdering | None:
        return None if value is None else GateOrdering.from_stored(value)


class MilestonesJSON(TypeDecorator[tuple[PaymentNode, ...]]):
    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: tuple[PaymentNode, ...] | None, dialect: Dialect) -> Any:
        return None if value is None else [m.stored() for m in value]

    def process_result_value(self, value: Any, dialect: Dialect) -> tuple[PaymentNode, ...] | None:
        return None if value is None else tuple(PaymentNode.from_stored(m) for m in value)


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
    Column("kind", String(32), nullable=False),
    Column("classified", Boolean, nullable=False),
    Column("accepted_on", Date, nullable=True),
    Column("terminated", Boolean, nullable=False),
    Column("settlement", SettlementJSON, nullable=True),
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
    Column("contract_id", String(64), nullable=True),
    Column("milestone", String(100), nullable=True),
    Column("milestone_key", String(200), nullable=True),
    Column("stage", String(32), nullable=True),
    Column("budget_year", Integer, nullable=True),
    Column("decided_reason", Text, nullable=True),
    Column("om_key", String(100), nullable=True),
    Column("bases", JSON, nullable=True),
    UniqueConstraint("agency", "idempotency_key", name="uq_disbursements_agency_idempotency_key"),
    CheckConstraint("amount_fen > 0", name="ck_disbursements_amount_positive"),
    Index("ix_disbursements_milestone", "milestone_key"),
    Index("uq_disbursements_om_year", "om_key", unique=True),
)

gates = Table(
    "gates",
    metadata,
    Column("project_id", String(64), ForeignKey("projects.id"), primary_key=True),
    Column("gate", String(32), primary_key=True),
    Column("open", Boolean, nullable=False),
    Column("event_id", String(64), nullable=True),
    Column("event_type", String(100), nullable=True),
    Column("event_time", UTCDateTime, nullable=True),
    Column("detail", JSON, nullable=False),
    Column("event_source", String(255), nullable=True),
    Column("ordering", OrderingJSON, nullable=True),
)

contracts = Table(
    "contracts",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("project_id", String(64), ForeignKey("projects.id"), nullable=False, index=True),
    Column("role", String(16), nullable=False),
    Column("counterparty", String(200), nullable=False),
    Column("amount_fen", BigInteger, nullable=False),
    Column("milestones", MilestonesJSON, nullable=False),
)

reclaims = Table(
    "reclaims",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("project_id", String(64), ForeignKey("projects.id"), nullable=False, unique=True),
    Column("jurisdiction", String(32), nullable=False),
    Column("agency", String(128), nullable=False, index=True),
    Column("amount_fen", BigInteger, nullable=False),
    Column("reason", Text, nullable=False),
    Column("articles", JSON, nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", UTCDateTime, nullable=False),
    Column("returned_fen", BigInteger, nullable=False),
    Column("completed_at", UTCDateTime, nullable=True),
)

mapper.map_imperatively(FundedProject, projects)
mapper.map_imperatively(Disbursement, disbursements)
mapper.map_imperatively(GateState, gates)
mapper.map_imperatively(Contract, contracts)
mapper.map_imperatively(Reclaim, reclaims)


@event.listens_for(FundedProject, "load")
@event.listens_for(Disbursement, "load")
@event.listens_for(Reclaim, "load")
def _fresh_events(aggregate: Any, _context: Any) -> None:
    aggregate.events = []


class ProjectRepository(AggregateRepository[FundedProject]):
    """get(…, for_update=True) serialises a request with the event that opens its gates (PostgreSQL)."""

    model = FundedProject
    locks = False

    async def settled(self) -> list[str]:
        """The projects settled with a review due date, by id."""
        rows = await self.session.execute(
            select(projects.c.id, projects.c.settlement).order_by(projects.c.id)
        )
        return [row.id for row in rows if row.settlement is not None and row.settlement.review_due_on]


class GateRepository:
    """A project's gates, read in one query the first time a unit of work asks for any of them
    (gates change only under the project's row lock, so they stay as read until it commits)."""

    def __init__(self, session: AsyncSession) -> None:
        self.session = session
        self._read: dict[str, dict[str, GateState]] = {}

    async def of(self, project_id: str) -> dict[str, GateState]:
        known = self._read.get(project_id)
        if known is None:
            rows = await self.session.scalars(_GATES_OF, {"project": project_id})
            known = self._read[project_id] = {g.gate: g for g in rows}
        return dict(known)

    async def get(self, project_id: str, gate: str) -> GateState | None:
        return (await self.of(project_id)).get(gate)

    def add(self, state: GateState) -> None:
        self.session.add(state)
        if state.project_id in self._read:
            self._read[state.project_id][state.gate] = state


def _ledger() -> Select[Any]:
    """DisbursementRepository.ledger_sums's statement, built once (no milestone: NULL, matching none)."""
    taken = disbursements.c.status.in_([DisbursementStatus.RELEASED, DisbursementStatus.HELD])
    on_project = disbursements.c.project_id == bindparam("project_id")
    on_contracts = disbursements.c.contract_id.in_(bindparam("contracts", expanding=True))
    on_milestone = disbursements.c.milestone_key == bindparam("milestone_key", type_=String)
    wanted = (
        on_project & disbursements.c.kind.in_(BUDGET_KINDS),
        on_project & (disbursements.c.kind == PaymentKind.FINAL),
        on_contracts,
        on_milestone,
    )
    amount = disbursements.c.amount_fen
    sums = [func.coalesce(func.sum(case((taken & w, amount), else_=0)), 0) for w in wanted]
    # The project's rows only (its index): a payment on a contract or a milestone is the project's
    # whose contract it is (domain.limits accepts one only on a contract filed for the project).
    return select(*sums).where(on_project)


_LEDGER = _ledger()
_GATES_OF = select(GateState).where(gates.c.project_id == bindparam("project"))
_CONTRACTS_OF = select(Contract).where(contracts.c.project_id == bindparam("project"))


class DisbursementRepository(AggregateRepository[Disbursement]):
    model = Disbursement

    async def project_of(self, item_id: str) -> str | None:
        found: str | None = await self.session.scalar(
            select(disbursements.c.project_id).where(disbursements.c.id == item_id)
        )
        return found

    async def held_for(self, project_id: str) -> list[Disbursement]:
        return self.tracked(
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

    async def released_fen(self, project_id: str, kinds: tuple[PaymentKind, ...]) -> int:
        total = await self.session.scalar(
            select(func.coalesce(func.sum(disbursements.c.amount_fen), 0)).where(
                disbursements.c.project_id == project_id,
                disbursements.c.kind.in_(kinds),
                disbursements.c.status == DisbursementStatus.RELEASED,
            )
        )
        return int(total or 0)

    async def by_idempotency_key(self, agency: str, key: str) -> Disbursement | None:
        found: Disbursement | None = await self.session.scalar(
            select(Disbursement).where(
                disbursements.c.agency == agency, disbursements.c.idempotency_key == key
            )
        )
        return found

    async def ledger_sums(
        self, project_id: str, construction: Sequence[str], milestone_key: str | None
    ) -> tuple[int, int, int, int]:
        """Money released or held on the project, read in one statement: of BUDGET_KINDS, its final
        payments, on its `construction` contracts and on the milestone."""
        params = {"project_id": project_id, "contracts": list(construction), "milestone_key": milestone_key}
        row = (await self.session.execute(_LEDGER, params)).one()
        committed, finals, on_construction, on_milestone = (int(v or 0) for v in row)
        return committed, finals, on_construction, on_milestone

    async def om_granted(self, project_id: str, budget_year: int) -> Disbursement | None:
        found: Disbursement | None = await self.session.scalar(
            select(Disbursement).where(disbursements.c.om_key == f"{project_id}:{budget_year}")
        )
        return found


class FundingUnitOfWork(UnitOfWork):
    read_with_batch = ("projects",)  # a consumer's batch reads its projects at once
    projects: ProjectRepository
    disbursements: DisbursementRepository
    gates: GateRepository

    async def __aenter__(self) -> FundingUnitOfWork:
        await super().__aenter__()
        self.projects = ProjectRepository(self.session, self)
        self.disbursements = DisbursementRepository(self.session, self)
        self.gates = GateRepository(self.session)
        return self

    async def rollback(self) -> None:
        self.gates = GateRepository(self.session)  # what was read or added is gone with it
        await super().rollback()

    async def contract(self, contract_id: str) -> Contract | None:
        return await self.session.get(Contract, contract_id)

    def add_contract(self, contract: Contract) -> None:
        self.session.add(contract)

    async def contracts_of(self, project_id: str) -> list[Contract]:
        return list(await self.session.scalars(_CONTRACTS_OF, {"project": project_id}))

    async def ledger(self, project_id: str, contract_id: str | None, milestone: str | None) -> Ledger:
        """The money a new request must fit beside (see Ledger), with the contract it names."""
        construction = tuple(c for c in await self.contracts_of(project_id) if c.role == "construction")
        milestone_key = f"{contract_id}:{milestone}" if contract_id and milestone else None
        committed, finals, on_construction, on_milestone = await self.disbursements.ledger_sums(
            project_id, [c.id for c in construction], milestone_key
        )
        return Ledger(
            committed_fen=committed,
            construction=construction,
            on_construction_fen=on_construction,
            finals_fen=finals,
            contract=await self.contract(contract_id) if contract_id else None,
            on_milestone_fen=on_milestone,
        )

    def add_reclaim(self, reclaim: Reclaim) -> None:
        self.session.add(reclaim)
        self.track(reclaim)

    async def reclaim(self, reclaim_id: str) -> Reclaim | None:
        found = await self.session.get(Reclaim, reclaim_id, with_for_update=True)
        if found is not None:
            self.track(found)
        return found
