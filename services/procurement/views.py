"""Procurement's read side: projects, contracts, changes and firms as API schemas."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from services.procurement.db import changes, contracts, firms, projects
from services.procurement.domain import ChangeState, Role, Status
from shared.auth import Principal
from shared.pagination import Page, PageParams
from shared.views import filters, in_jurisdictions, one, page_of, visible_to


class ProjectOut(BaseModel):
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


class MilestoneOut(BaseModel):
    name: str
    stage: str
    share_percent: str
    amount_fen: int


class ContractOut(BaseModel):
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
    milestones: list[MilestoneOut]
    ip_to_government: bool
    filed_on: dt.date
    filing_due_on: dt.date | None
    late: bool
    notes: list[dict[str, Any]]


class ChangeOut(BaseModel):
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
    decisions: dict[str, Any]
    review: str | None
    status: ChangeState
    reasons: list[dict[str, Any]]
    articles: list[str]
    requested_at: dt.datetime
    decided_at: dt.datetime | None


class DeadlineOut(BaseModel):
    deadline: str
    period: str | None
    due_on: dt.date
    state: str  # running | met | missed
    terminate_on_breach: bool
    articles: list[str]
    message: str


class ProjectDetail(ProjectOut):
    total_fen: int
    requirements: dict[str, Any] | None
    tenders: list[dict[str, Any]]
    reports: list[dict[str, Any]]
    implementation_plan_on: dt.date | None
    security_test_report: str | None
    contracts: list[ContractOut]
    changes: list[ChangeOut]
    deadlines: list[DeadlineOut]


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
