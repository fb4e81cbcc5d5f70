"""Funding's read side: disbursements and projects as API schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.db import disbursements, projects
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


class FundedProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    jurisdiction: str
    agency: str
    title: str
    declared_amount_fen: int
    approved: bool
    approved_amount_fen: int | None


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
) -> Page[DisbursementOut]:
    where = visible_to(principal, disbursements) + filters(
        [
            (disbursements.c.project_id, project_id),
            (disbursements.c.status, status),
            (disbursements.c.jurisdiction, jurisdiction),
        ]
    )
    order = [disbursements.c.requested_at.desc(), disbursements.c.id]
    return await page_of(session, disbursements, DisbursementOut, page, where, order)
