"""Funding's read side: projects, disbursements and reclaims as API schemas."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.db import disbursements, projects, reclaims
from services.funding.domain import DisbursementStatus, PaymentKind
from shared.auth import Principal
from shared.pagination import Page, PageParams
from shared.policy import Reason
from shared.views import filters, one, page_of, visible_to


class DisbursementOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    project_id: str
    jurisdiction: str
    agency: str
    kind: PaymentKind
    amount_fen: int
    purpose: str
    status: DisbursementStatus
    closed_gates: list[Reason]
    requested_at: datetime
    released_at: datetime | None
    contract_id: str | None = None
    milestone: str | None = None
    stage: str | None = None
    budget_year: int | None = None
    decided_reason: str | None = None


class FundedProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    jurisdiction: str
    agency: str
    title: str
    kind: str
    declared_amount_fen: int
    approved: bool
    approved_amount_fen: int | None
    accepted_on: date | None
    terminated: bool
    settlement: dict[str, Any] | None


class GateEventOut(BaseModel):
    id: str
    type: str | None
    time: datetime | None
    source: str | None  # the system that published it (CloudEvents source); urn:govit:funding:manual by hand


class GateOut(BaseModel):
    gate: str
    open: bool
    required_for: dict[str, list[str]]  # payment kind → the articles that make it needed
    event: GateEventOut | None
    detail: dict[str, Any]
    explanation: str  # e.g. 终验 — 已满足；由 govit.acceptance.final_acceptance_concluded.v1 设定，来源 …


class ReclaimOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    project_id: str
    amount_fen: int
    reason: str
    articles: list[str]
    status: str
    started_at: datetime
    returned_fen: int
    completed_at: datetime | None


async def get_project(
    session: AsyncSession, principal: Principal, project_id: str
) -> FundedProjectOut | None:
    return await one(
        session, projects, FundedProjectOut, projects.c.id == project_id, *visible_to(principal, projects)
    )


async def get_disbursement(
    session: AsyncSession, principal: Principal, item_id: str
) -> DisbursementOut | None:
    return await one(
        session,
        disbursements,
        DisbursementOut,
        disbursements.c.id == item_id,
        *visible_to(principal, disbursements),
    )


async def list_disbursements(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    project_id: str | None,
    status: DisbursementStatus | None,
    jurisdiction: str | None,
    kind: PaymentKind | None = None,
) -> Page[DisbursementOut]:
    where = visible_to(principal, disbursements) + filters(
        [
            (disbursements.c.project_id, project_id),
            (disbursements.c.status, status),
            (disbursements.c.jurisdiction, jurisdiction),
            (disbursements.c.kind, kind),
        ]
    )
    order = [disbursements.c.requested_at.desc(), disbursements.c.id]
    return await page_of(session, disbursements, DisbursementOut, page, where, order)


async def list_reclaims(
    session: AsyncSession, principal: Principal, page: PageParams, *, project_id: str
) -> Page[ReclaimOut]:
    where = [reclaims.c.project_id == project_id, *visible_to(principal, reclaims)]
    return await page_of(session, reclaims, ReclaimOut, page, where, [reclaims.c.started_at, reclaims.c.id])
