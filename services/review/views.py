"""Review's read side: the pool and the cases as API schemas, who sees which case and opinion,
and the auditor's redraw."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar

from pydantic import ConfigDict, Field, computed_field
from sqlalchemy import String, cast, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.review import labels as _labels  # noqa: F401  (registers the tables)
from services.review.db import ReviewUnitOfWork, cases, experts
from services.review.domain import CaseNotFound, CaseStatus, ExpertStatus, ReviewCase, SeatState, Verdict
from services.review.domain.panels import redraw_matches
from shared.auth import Principal, Scope
from shared.labels import Readable
from shared.pagination import Page, PageParams
from shared.policy import PolicyRegistry
from shared.problems import Problem
from shared.views import filters, page_of, visible_to
from shared.workdays import is_provisional


class ExpertOut(Readable):
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


class OpinionOut(Readable):
    labelled: ClassVar[Mapping[str, type[StrEnum]]] = {"verdict": Verdict}

    model_config = ConfigDict(from_attributes=True)

    score: int
    verdict: str
    comments: str


class SeatOut(Readable):
    labelled: ClassVar[Mapping[str, type[StrEnum]]] = {"state": SeatState}

    model_config = ConfigDict(from_attributes=True)

    expert_id: str
    specialty: str | None
    rank: int
    state: str
    opinion: OpinionOut | None = None


class ReportOut(Readable):
    labelled: ClassVar[Mapping[str, type[StrEnum]]] = {"verdict": Verdict}

    model_config = ConfigDict(from_attributes=True)

    round: int
    verdict: str
    document: str
    issued_on: dt.date


class CaseOut(Readable):
    labelled: ClassVar[Mapping[str, type[StrEnum]]] = {"verdict": Verdict}

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

    @computed_field(description="期限所在年度尚未加载节假日安排通知：暂定，加载后可能变动")  # type: ignore[prop-decorator]
    @property
    def due_on_provisional(self) -> bool:
        return is_provisional(self.due_on)

    concluded_at: dt.datetime | None
    third_party_assessment: str
    reference: str | None = None
    closed_reason: str | None = None
    reports: list[ReportOut] = Field(default_factory=list)


class CandidateOut(Readable):
    labelled: ClassVar[Mapping[str, type[StrEnum]]] = {"status": ExpertStatus}

    model_config = ConfigDict(from_attributes=True)

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


@dataclass(frozen=True)
class ExpertFilter:
    """Which experts to list: of a status, a specialty, the pool of one jurisdiction."""

    status: ExpertStatus | None = None
    specialty: str | None = None
    jurisdiction: str | None = None


@dataclass(frozen=True)
class CaseFilter:
    status: CaseStatus | None = None
    jurisdiction: str | None = None
    project_id: str | None = None


async def list_experts(
    session: AsyncSession, page: PageParams, pools: frozenset[str] | None, wanted: ExpertFilter
) -> Page[ExpertOut]:
    """The experts of the given pools (every pool for None)."""
    where = filters([(experts.c.status, wanted.status)])
    if pools is not None:
        where.append(experts.c.pool.in_(sorted(pools)))
    if wanted.specialty:
        where.append(cast(experts.c.specialties, String).like(f'%"{wanted.specialty}"%'))
    return await page_of(session, experts, ExpertOut, page, where, [experts.c.name, experts.c.id])


async def list_cases(
    session: AsyncSession,
    page: PageParams,
    scope: Scope,
    wanted: CaseFilter,
    expert_ids: frozenset[str] | None = None,
) -> Page[CaseOut]:
    """Cases of the scope's jurisdictions; for an expert (their entries given) those they sit on."""
    where = visible_to(scope, cases) + filters(
        [
            (cases.c.status, wanted.status),
            (cases.c.jurisdiction, wanted.jurisdiction),
            (cases.c.project_id, wanted.project_id),
        ]
    )
    if expert_ids is not None:
        seats = cast(cases.c.seats, String)
        where.append(or_(*(seats.like(f'%"expert_id": "{i}"%') for i in sorted(expert_ids))))
    return await page_of(session, cases, CaseOut, page, where, [cases.c.opened_at.desc(), cases.c.id])


async def experts_by_subject(session: AsyncSession, subject: str) -> frozenset[str]:
    """A person's entries in the pools (one per pool they are registered in)."""
    return frozenset(await session.scalars(select(experts.c.id).where(experts.c.subject == subject)))


def audit_out(case: ReviewCase, policy: PolicyRegistry) -> AuditOut:
    """The case with the candidates it was drawn from, and whether the recorded seed redraws it."""
    return AuditOut(
        **case_out(case).model_dump(),
        candidates=[
            CandidateOut(
                id=c.id, employer=c.employer, specialties=sorted(c.specialties), status=c.status.value
            )
            for c in case.candidates
        ],
        declined=case.declined,
        redraw_matches=redraw_matches(case, policy),
    )


async def expert_ids(uow: ReviewUnitOfWork, who: Principal) -> frozenset[str]:
    """The caller's entries as an expert, one per pool they are registered in; 403 if none.

    Which cases they see is decided by their jurisdictions' pools (case_scope); a seat is theirs
    by their login whatever pool its entry is in (panels drawn before the pools were split)."""
    async with uow:
        mine = await experts_by_subject(uow.session, who.sub)
    if not mine:
        raise Problem(403, "not_an_expert", "专家库中没有您的记录", f"令牌 sub {who.sub} 未登记为专家")
    return mine


def on_panel(case: CaseOut | ReviewCase, mine: frozenset[str]) -> str | None:
    """The expert's entry among the case's seats, declined ones included; None if not on the panel."""
    return next((s.expert_id for s in case_out(case).seats if s.expert_id in mine), None)


def shown_to(case: CaseOut | ReviewCase, mine: frozenset[str] | None) -> str | None:
    """Whose opinion the caller sees: an expert only their own (no one's when off the panel); the
    other roles (None) every one."""
    return None if mine is None else on_panel(case, mine) or ""


async def visible_case(
    uow: ReviewUnitOfWork, case_id: str, scope: Scope, mine: frozenset[str] | None = None
) -> ReviewCase:
    """The case if the caller may see it: in `scope`, and for an expert (their entries given) only
    one they sit or sat on; otherwise not found, as a missing one."""
    async with uow:
        case = await uow.cases.get(case_id)
    if (
        case is None
        or not scope.includes(case.jurisdiction)
        or (mine is not None and on_panel(case, mine) is None)
    ):
        raise CaseNotFound(f"评审案件 {case_id} 不存在")
    return case
