"""Review's read side: the pool and the cases as API schemas."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy import String, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.review.db import cases, experts
from services.review.domain import CaseStatus, ReviewCase
from services.review.drawing import ExpertStatus
from shared.auth import Scope
from shared.pagination import Page, PageParams
from shared.views import filters, page_of, visible_to


class ExpertOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    employer: str
    title: str
    specialties: list[str]
    status: ExpertStatus
    status_reason: str
    subject: str | None
    pool: str
    created_at: dt.datetime


class SeatOut(BaseModel):
    expert_id: str
    specialty: str | None
    rank: int
    state: str
    opinion: dict[str, Any] | None = None


class ReportOut(BaseModel):
    round: int
    verdict: str
    document: str
    issued_on: dt.date


class CaseOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    project_id: str
    jurisdiction: str
    stage: str
    agency: str
    parties: list[str]
    status: CaseStatus
    opened_at: dt.datetime
    received_on: dt.date
    round: int
    failures: int
    seed: str | None
    seats: list[SeatOut]
    clock: str | None
    due_on: dt.date | None
    verdict: str | None
    concluded_at: dt.datetime | None
    third_party_assessment: str
    reference: str | None = None
    closed_reason: str | None = None
    reports: list[ReportOut] = []


class CandidateOut(BaseModel):
    id: str
    employer: str
    specialties: list[str]
    status: str


class AuditOut(CaseOut):
    candidates: list[CandidateOut]
    declined: list[str]
    redraw_matches: bool


def case_out(case: ReviewCase | CaseOut, *, for_expert: str | None = None) -> CaseOut:
    """A case as a caller may see it: an expert sees the panel but only their own opinion."""
    out = case if isinstance(case, CaseOut) else CaseOut.model_validate(case)
    if for_expert is None:
        return out
    seats = [s if s.expert_id == for_expert else s.model_copy(update={"opinion": None}) for s in out.seats]
    return out.model_copy(update={"seats": seats})


async def list_experts(
    session: AsyncSession,
    page: PageParams,
    *,
    pools: frozenset[str] | None,
    status: ExpertStatus | None,
    specialty: str | None,
) -> Page[ExpertOut]:
    """The experts of the given pools (every pool for None)."""
    where = filters([(experts.c.status, status)])
    if pools is not None:
        where.append(experts.c.pool.in_(sorted(pools)))
    if specialty:
        where.append(cast(experts.c.specialties, String).like(f'%"{specialty}"%'))
    return await page_of(session, experts, ExpertOut, page, where, [experts.c.name, experts.c.id])


async def list_cases(
    session: AsyncSession,
    page: PageParams,
    scope: Scope,
    *,
    expert_ids: frozenset[str] | None,
    status: CaseStatus | None,
    jurisdiction: str | None,
    project_id: str | None,
) -> Page[CaseOut]:
    """Cases of the scope's jurisdictions; for an expert (their entries given) those they sit on."""
    where = visible_to(scope, cases) + filters(
        [(cases.c.status, status), (cases.c.jurisdiction, jurisdiction), (cases.c.project_id, project_id)]
    )
    if expert_ids is not None:
        seats = cast(cases.c.seats, String)
        where.append(or_(*(seats.like(f'%"expert_id": "{i}"%') for i in sorted(expert_ids))))
    return await page_of(session, cases, CaseOut, page, where, [cases.c.opened_at.desc(), cases.c.id])


async def experts_by_subject(session: AsyncSession, subject: str) -> frozenset[str]:
    """A person's entries in the pools (one per pool they are registered in)."""
    return frozenset(await session.scalars(select(experts.c.id).where(experts.c.subject == subject)))
