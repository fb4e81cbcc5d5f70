"""Procurement's read side: projects, contracts, changes and firms as API schemas."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from typing import Annotated, Any, ClassVar

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, computed_field
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.procurement import labels as _labels  # noqa: F401  (registers the tables)
from services.procurement.db import ProcurementUnitOfWork, changes, contracts, firms, projects, purchases
from services.procurement.domain import (
    Change,
    ChangeState,
    Contract,
    Project,
    Purchase,
    Role,
    Status,
    deadline_states,
)
from services.procurement.domain.purchases import RULE as PURCHASE_RULE
from shared.auth import Principal
from shared.labels import DeadlineState, FilingState, Readable
from shared.pagination import Page, PageParams
from shared.policy import PolicyRegistry
from shared.views import filters, in_jurisdictions, one, page_of, visible_to
from shared.workdays import WorkingCalendar, is_provisional


def _as_stored(value: Any) -> Any:
    """A record as the API has always shown it: its stored JSON."""
    if isinstance(value, BaseModel):
        return value.model_dump(mode="json")
    if hasattr(value, "stored"):
        return value.stored()
    if isinstance(value, dict):
        return {k: _as_stored(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_as_stored(v) for v in value]
    return value


AsStored = BeforeValidator(_as_stored)


class ProjectOut(Readable):
    model_config = ConfigDict(from_attributes=True)

    id: str
    jurisdiction: str
    agency: str
    title: str
    kind: str
    status: Status
    declared_fen: int
    software_fen: int
    approved_fen: int | None
    approved_on: dt.date | None
    plan_issued_on: dt.date | None
    review_passed_on: dt.date | None
    overrun_fen: int
    adjusted_fen: int
    contract_total_fen: int
    contractors: list[str]
    supervisor: str | None
    contract_signed_on: dt.date | None
    contract_starts_on: dt.date | None
    contract_ends_on: dt.date | None
    started_on: dt.date | None
    completed_on: dt.date | None
    closed_reason: str | None
    suspension: dict[str, Any] | None = Field(
        default=None, description="暂停建设：生效中的处理措施（按措施编号：名称、文号、条款），解除后为空"
    )


class MilestoneOut(Readable):
    name: str
    stage: str
    share_percent: str
    amount_fen: int


class ContractOut(Readable):
    model_config = ConfigDict(from_attributes=True)

    id: str
    project_id: str
    jurisdiction: str
    agency: str
    role: Role
    counterparty: str
    credit_code: str
    amount_fen: int
    signed_on: dt.date
    starts_on: dt.date | None
    ends_on: dt.date | None
    milestones: Annotated[list[MilestoneOut], AsStored]
    ip_to_government: bool
    filed_on: dt.date
    filing_due_on: dt.date | None
    late: bool
    notes: Annotated[list[dict[str, Any]], AsStored]

    @computed_field(description="备案期限为暂定（所在年度尚未加载节假日安排通知）")  # type: ignore[prop-decorator]
    @property
    def filing_due_on_provisional(self) -> bool:
        return is_provisional(self.filing_due_on)


class ChangeOut(Readable):
    model_config = ConfigDict(from_attributes=True)

    id: str
    project_id: str
    jurisdiction: str
    agency: str
    description: str
    scope_effect: str
    total_delta_fen: int
    adjustment_fen: int
    goal_changed: bool
    ground: str | None
    path: str
    approvers: list[str]
    decisions: Annotated[dict[str, Any], AsStored]
    review: str | None
    status: ChangeState
    reasons: Annotated[list[dict[str, Any]], AsStored]
    articles: list[str]
    requested_at: dt.datetime
    decided_at: dt.datetime | None


class DeadlineOut(Readable):
    labelled: ClassVar[Mapping[str, type[StrEnum]]] = {"state": DeadlineState}

    model_config = ConfigDict(from_attributes=True)

    deadline: str
    period: str | None
    due_on: dt.date
    state: str  # running | met | missed
    terminate_on_breach: bool
    articles: list[str]
    message: str

    @computed_field(description="期限所在年度尚未加载节假日安排通知：暂定，加载后可能变动")  # type: ignore[prop-decorator]
    @property
    def provisional(self) -> bool:
        return is_provisional(self.due_on)


class ProjectDetail(ProjectOut):
    total_fen: int
    requirements: Annotated[dict[str, Any] | None, AsStored]
    tenders: Annotated[list[dict[str, Any]], AsStored]
    reports: Annotated[list[dict[str, Any]], AsStored]
    implementation_plan_on: dt.date | None
    security_test_report: str | None
    exceptions: list[dict[str, Any]] = Field(
        default_factory=list,
        description="主管部门依“原则上”条款作出的例外：理由代码、理由、文号、作出者、条款（如 shexian §30）",
    )
    contracts: list[ContractOut]
    changes: list[ChangeOut]
    deadlines: list[DeadlineOut]


class PurchaseOut(Readable):
    labelled: ClassVar[Mapping[str, type[StrEnum]]] = {"state": FilingState}

    """计划外采购 and its filing (lhasa §10): the limit, and whether it is filed, running or missed."""

    id: str
    jurisdiction: str
    agency: str
    title: str
    category: str
    amount_fen: int
    supplier: str
    credit_code: str
    procured_on: dt.date
    filing_due_on: dt.date
    filed_on: dt.date | None
    late: bool
    notes: Annotated[list[dict[str, Any]], AsStored]
    materials: str | None
    state: str = Field(description="filed 已备案, running 备案期限未到, missed 逾期未备案")
    articles: list[str]


class FirmOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    jurisdiction: str
    credit_code: str
    name: str
    blacklisted: bool
    reason: str
    updated_at: dt.datetime


async def list_projects(
    session: AsyncSession,
    who: Principal,
    page: PageParams,
    *,
    jurisdiction: str | None,
    status: Status | None,
    agency: str | None,
) -> Page[ProjectOut]:
    where = [
        *visible_to(who, projects),
        *filters(
            [
                (projects.c.jurisdiction, jurisdiction),
                (projects.c.status, status),
                (projects.c.agency, agency),
            ]
        ),
    ]
    return await page_of(
        session, projects, ProjectOut, page, where, [projects.c.created_at.desc(), projects.c.id]
    )


async def get_project(session: AsyncSession, who: Principal, project_id: str) -> ProjectOut | None:
    return await one(session, projects, ProjectOut, projects.c.id == project_id, *visible_to(who, projects))


async def list_changes(
    session: AsyncSession,
    who: Principal,
    page: PageParams,
    *,
    project_id: str | None,
    jurisdiction: str | None,
    status: ChangeState | None,
) -> Page[ChangeOut]:
    where = [
        *visible_to(who, changes),
        *filters(
            [
                (changes.c.project_id, project_id),
                (changes.c.jurisdiction, jurisdiction),
                (changes.c.status, status),
            ]
        ),
    ]
    return await page_of(
        session, changes, ChangeOut, page, where, [changes.c.requested_at.desc(), changes.c.id]
    )


async def get_change(session: AsyncSession, who: Principal, change_id: str) -> ChangeOut | None:
    return await one(session, changes, ChangeOut, changes.c.id == change_id, *visible_to(who, changes))


async def list_contracts(
    session: AsyncSession,
    who: Principal,
    page: PageParams,
    *,
    project_id: str | None,
    jurisdiction: str | None,
) -> Page[ContractOut]:
    where = [
        *visible_to(who, contracts),
        *filters([(contracts.c.project_id, project_id), (contracts.c.jurisdiction, jurisdiction)]),
    ]
    return await page_of(
        session, contracts, ContractOut, page, where, [contracts.c.signed_on, contracts.c.id]
    )


async def list_firms(
    session: AsyncSession,
    who: Principal,
    page: PageParams,
    *,
    jurisdiction: str | None,
    blacklisted: bool | None,
) -> Page[FirmOut]:
    """The firms on the lists of the caller's jurisdictions (every list: admin, an agency naming none)."""
    where = in_jurisdictions(who, firms.c.jurisdiction) + filters(
        [(firms.c.jurisdiction, jurisdiction), (firms.c.blacklisted, blacklisted)]
    )
    return await page_of(session, firms, FirmOut, page, where, [firms.c.jurisdiction, firms.c.credit_code])


def contract_out(contract: Contract) -> ContractOut:
    return ContractOut.model_validate(contract)


def change_out(change: Change) -> ChangeOut:
    return ChangeOut.model_validate(change)


async def project_detail(
    uow: ProcurementUnitOfWork, project: Project, judged: tuple[PolicyRegistry, WorkingCalendar, dt.date]
) -> ProjectDetail:
    """The project with its contracts, changes and every deadline (its state and articles) as of
    the day given, by the pack and calendar given."""
    policy, calendar, today = judged
    found_contracts = await uow.contracts.of(project.id)
    found_changes = await uow.changes.of(project.id)
    return ProjectDetail(
        **ProjectOut.model_validate(project).model_dump(),
        total_fen=project.total_fen,
        requirements=project.requirements,
        tenders=project.tenders,
        reports=project.reports,
        implementation_plan_on=project.implementation_plan_on,
        security_test_report=project.security_test_report,
        exceptions=project.exceptions or [],
        contracts=[contract_out(c) for c in found_contracts],
        changes=[change_out(c) for c in found_changes],
        deadlines=[DeadlineOut.model_validate(d) for d in deadline_states(policy, calendar, project, today)],
    )


def purchase_out(purchase: Purchase, policy: PolicyRegistry, today: dt.date) -> PurchaseOut:
    """The purchase as of `today`: its filing state, and the articles its limit comes from."""
    fields = {name: getattr(purchase, name) for name in PurchaseOut.model_fields if name not in _JUDGED}
    articles = list(policy.rule(purchase.jurisdiction, PURCHASE_RULE).articles)
    return PurchaseOut.model_validate({**fields, "state": purchase.state(today), "articles": articles})


_JUDGED = frozenset({"state", "articles"})


async def list_purchases(
    session: AsyncSession,
    who: Principal,
    page: PageParams,
    jurisdiction: str | None,
    judged: tuple[PolicyRegistry, dt.date],
) -> Page[PurchaseOut]:
    """The purchases outside the plan the caller may see (an applicant its agency's), newest first."""
    policy, today = judged
    where = [*visible_to(who, purchases), *filters([(purchases.c.jurisdiction, jurisdiction)])]
    total = await session.scalar(select(func.count()).select_from(purchases).where(*where)) or 0
    found = await session.scalars(
        select(Purchase)
        .where(*where)
        .order_by(purchases.c.recorded_at.desc(), purchases.c.id)
        .limit(page.limit)
        .offset(page.offset)
    )
    items = [purchase_out(p, policy, today) for p in found]
    return Page[PurchaseOut](items=items, total=total, limit=page.limit, offset=page.offset)
