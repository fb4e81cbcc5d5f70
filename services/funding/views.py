"""Funding's read side: disbursements and projects as API schemas."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.db import disbursements, projects
from services.funding.domain import DisbursementStatus, PaymentKind
from shared.auth import Principal, Role
from shared.pagination import Page, PageParams
from shared.policy import Reason


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


def _scope(principal: Principal, table: Any) -> list[Any]:
    return [table.c.agency == principal.agency] if principal.role is Role.APPLICANT else []


async def get_project(
    session: AsyncSession, principal: Principal, project_id: str
) -> FundedProjectOut | None:
    row = (
        await session.execute(
            select(projects).where(projects.c.id == project_id, *_scope(principal, projects))
        )
    ).first()
    return FundedProjectOut.model_validate(row._mapping) if row else None


async def get_disbursement(
    session: AsyncSession, principal: Principal, item_id: str
) -> DisbursementOut | None:
    row = (
        await session.execute(
            select(disbursements).where(disbursements.c.id == item_id, *_scope(principal, disbursements))
        )
    ).first()
    return DisbursementOut.model_validate(row._mapping) if row else None


async def list_disbursements(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    project_id: str | None,
    status: DisbursementStatus | None,
    jurisdiction: str | None,
) -> Page[DisbursementOut]:
    clauses = _scope(principal, disbursements)
    for column, value in (
        (disbursements.c.project_id, project_id),
        (disbursements.c.status, status),
        (disbursements.c.jurisdiction, jurisdiction),
    ):
        if value is not None:
            clauses.append(column == value)
    total = await session.scalar(select(func.count()).select_from(disbursements).where(*clauses)) or 0
    rows = await session.execute(
        select(disbursements)
        .where(*clauses)
        .order_by(disbursements.c.requested_at.desc(), disbursements.c.id)
        .limit(page.limit)
        .offset(page.offset)
    )
    return Page[DisbursementOut](
        items=[DisbursementOut.model_validate(r._mapping) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )
