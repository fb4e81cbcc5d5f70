"""Review's HTTP API: the expert pool, cases and draws (authority), my cases and opinions (expert), audit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Response, status
from pydantic import BaseModel, Field

from services.review import handlers, views
from services.review.db import ReviewUnitOfWork
from services.review.domain import (
    CaseNotFound,
    CaseStatus,
    ExpertNotFound,
    InvalidCaseState,
    NotOnPanel,
    ReviewCase,
    ReviewError,
    ThirdPartyReviewMissing,
)
from services.review.drawing import ExpertStatus, InsufficientPool
from services.review.pools import case_scope, pool_of, pools_of
from services.review.rules import Verdict
from shared.auth import Principal, Role, require
from shared.contracts.review import ReviewStage
from shared.deps import CalendarDep, NowDep, PolicyDep, unit_of_work
from shared.pagination import Page, PageDep
from shared.policy import PolicyError, PolicyRegistry
from shared.problems import COMMAND, NOT_FOUND, Problem, problem_responses
from shared.workdays import today_in_shanghai

ERRORS: dict[type[Exception], int] = {
    ExpertNotFound: 404,
    CaseNotFound: 404,
    NotOnPanel: 403,
    InvalidCaseState: 409,
    ThirdPartyReviewMissing: 409,
    InsufficientPool: 409,
    ReviewError: 422,
}

UowDep = Annotated[ReviewUnitOfWork, Depends(unit_of_work(ReviewUnitOfWork))]
AuthorityDep = Annotated[Principal, require(Role.AUTHORITY)]
PoolReaderDep = Annotated[Principal, require(Role.AUTHORITY, Role.AUDITOR)]
CaseReaderDep = Annotated[Principal, require(Role.AUTHORITY, Role.AUDITOR, Role.EXPERT)]
ExpertDep = Annotated[Principal, require(Role.EXPERT)]


def _known(policy: PolicyRegistry, jurisdiction: str) -> str:
    if jurisdiction not in policy:
        raise Problem(422, "unknown_jurisdiction", "辖区代码无效", f"未知辖区 {jurisdiction}")
    return jurisdiction


experts = APIRouter(prefix="/experts", tags=["experts"])
cases = APIRouter(prefix="/cases", tags=["cases"])


class ExpertIn(BaseModel):
    jurisdiction: str = Field(
        description="辖区代码：专家登记入该辖区所用的专家库（见政策包 review.expert_pool）",
        examples=["zhonglou"],
    )
    name: str = Field(min_length=2, max_length=64)
    employer: str = Field(min_length=2, max_length=128, description="工作单位（回避依据）")
    title: str = Field(default="", max_length=64, description="职称")
    specialties: list[str] = Field(
        min_length=1, max_length=10, description="software, network, security, data, cost, archives…"
    )
    subject: str | None = Field(default=None, max_length=128, description="专家登录令牌的 sub")


class ExpertStatusIn(BaseModel):
    status: ExpertStatus
    reason: str = Field(default="", max_length=2000, description="暂停或列入失信名单的原因")


class OpenCaseIn(BaseModel):
    project_id: str = Field(pattern=r"^[A-Za-z0-9_-]{1,64}$")
    jurisdiction: str = Field(description="辖区代码", examples=["zhonglou"])
    stage: ReviewStage
    agency: str = Field(min_length=2, max_length=128, description="申报单位（回避）")
    parties: list[str] = Field(
        default_factory=list, max_length=50, description="承建、监理、投标单位（回避）"
    )


class OpinionIn(BaseModel):
    score: int = Field(ge=0, le=100)
    verdict: Verdict = Field(description="pass 通过, revise 修改后再审, fail 不通过")
    comments: str = Field(min_length=2, max_length=20000, description="评审意见")


@experts.post(
    "",
    status_code=201,
    response_model=views.ExpertOut,
    responses=problem_responses(409),
    summary="专家入库 (authority)",
)
async def add_expert(body: ExpertIn, uow: UowDep, policy: PolicyDep, who: AuthorityDep, now: NowDep) -> Any:
    jurisdiction = who.check_jurisdiction(_known(policy, body.jurisdiction))
    fields = body.model_dump(exclude={"jurisdiction"})
    return await handlers.add_expert(uow, pool=pool_of(policy, jurisdiction), **fields, at=now)


@experts.get(
    "", response_model=Page[views.ExpertOut], summary="专家库：本辖区所用专家库中的专家 (authority, auditor)"
)
async def list_experts(
    uow: UowDep,
    who: PoolReaderDep,
    policy: PolicyDep,
    page: PageDep,
    status: ExpertStatus | None = None,
    specialty: str | None = None,
    jurisdiction: Annotated[str | None, Query(description="只列该辖区所用的专家库")] = None,
) -> Page[views.ExpertOut]:
    pools = pools_of(policy, who.scope)
    if jurisdiction is not None:
        pools = frozenset([pool_of(policy, who.check_jurisdiction(_known(policy, jurisdiction)))])
    async with uow:
        return await views.list_experts(uow.session, page, pools=pools, status=status, specialty=specialty)


@experts.put(
    "/{expert_id}/status",
    response_model=views.ExpertOut,
    responses=COMMAND,
    summary="暂停、恢复或列入失信名单 (authority)",
)
async def set_expert_status(
    expert_id: str, body: ExpertStatusIn, uow: UowDep, policy: PolicyDep, who: AuthorityDep
) -> Any:
    pools = pools_of(policy, who.scope)
    return await handlers.set_expert_status(uow, expert_id, pools, body.status, body.reason)


@cases.post(
    "",
    status_code=201,
    response_model=views.CaseOut,
    responses={200: {"model": views.CaseOut, "description": "该项目该阶段已立案：返回已有的案件"}},
    summary="立案 (authority)",
)
async def open_case(
    body: OpenCaseIn,
    uow: UowDep,
    policy: PolicyDep,
    calendar: CalendarDep,
    who: AuthorityDep,
    now: NowDep,
    response: Response,
) -> Any:
    who.check_jurisdiction(_known(policy, body.jurisdiction))
    try:
        case, created = await handlers.open_case(
            uow, policy, calendar, **body.model_dump(), by=who.sub, at=now
        )
    except PolicyError as exc:
        raise Problem(422, "no_expert_review", "本辖区办法未规定专家评审", str(exc)) from exc
    if not created:
        response.status_code = status.HTTP_200_OK
    return views.case_out(case)


async def _expert_ids(uow: ReviewUnitOfWork, who: Principal) -> frozenset[str]:
    """The caller's entries as an expert, one per pool they are registered in; 403 if none.

    Which cases they see is decided by their jurisdictions' pools (case_scope); a seat is theirs
    by their login whatever pool its entry is in (panels drawn before the pools were split)."""
    async with uow:
        mine = await views.experts_by_subject(uow.session, who.sub)
    if not mine:
        raise Problem(403, "not_an_expert", "专家库中没有您的记录", f"令牌 sub {who.sub} 未登记为专家")
    return mine


@cases.get("", response_model=Page[views.CaseOut], summary="评审案件（专家只见分配给自己的）")
async def list_cases(
    uow: UowDep,
    who: CaseReaderDep,
    policy: PolicyDep,
    page: PageDep,
    status: CaseStatus | None = None,
    jurisdiction: str | None = None,
    project_id: str | None = None,
) -> Page[views.CaseOut]:
    scope = case_scope(policy, who)
    if jurisdiction is not None and not scope.includes(jurisdiction):
        who.check_jurisdiction(jurisdiction)  # outside the scope: 403
    mine = await _expert_ids(uow, who) if who.role is Role.EXPERT else None
    async with uow:
        found = await views.list_cases(
            uow.session,
            page,
            scope,
            expert_ids=mine,
            status=status,
            jurisdiction=jurisdiction,
            project_id=project_id,
        )
    found.items = [views.case_out(c, for_expert=_shown_to(c, mine)) for c in found.items]
    return found


def _on_panel(case: views.CaseOut | ReviewCase, mine: frozenset[str]) -> str | None:
    """The expert's entry among the case's seats, declined ones included; None if not on the panel."""
    return next((s.expert_id for s in views.case_out(case).seats if s.expert_id in mine), None)


def _shown_to(case: views.CaseOut | ReviewCase, mine: frozenset[str] | None) -> str | None:
    """Whose opinion the caller sees: an expert only their own (no one's when off the panel); the
    other roles (None) every one."""
    return None if mine is None else _on_panel(case, mine) or ""


@cases.get("/{case_id}", response_model=views.CaseOut, responses=NOT_FOUND, summary="评审案件详情")
async def get_case(case_id: str, uow: UowDep, policy: PolicyDep, who: CaseReaderDep) -> Any:
    mine = await _expert_ids(uow, who) if who.role is Role.EXPERT else None
    async with uow:
        case = await uow.cases.get(case_id)
    if (
        case is None
        or not case_scope(policy, who).includes(case.jurisdiction)
        or (mine is not None and _on_panel(case, mine) is None)
    ):
        raise CaseNotFound(f"评审案件 {case_id} 不存在")
    return views.case_out(case, for_expert=_shown_to(case, mine))


@cases.post(
    "/{case_id}/draw", response_model=views.CaseOut, responses=COMMAND, summary="抽选专家组 (authority)"
)
async def draw_panel(case_id: str, uow: UowDep, policy: PolicyDep, who: AuthorityDep) -> Any:
    return views.case_out(await handlers.draw_panel(uow, policy, case_id, who.scope))


class PartiesIn(BaseModel):
    parties: list[str] = Field(max_length=50, description="承建、监理、投标单位（评审回避）")


class ReportIn(BaseModel):
    document: str = Field(
        min_length=2,
        max_length=2000,
        description="评审报告与批复文件（通过）或书面评审意见（未通过）的文号与要点",
    )


class AssessmentIn(BaseModel):
    text: str = Field(min_length=2, max_length=20000, description="第三方评估机构、报告文号与结论")


@cases.put(
    "/{case_id}/parties",
    response_model=views.CaseOut,
    responses=COMMAND,
    summary="设定回避单位（抽选前）(authority)",
)
async def set_parties(case_id: str, body: PartiesIn, uow: UowDep, who: AuthorityDep) -> Any:
    return views.case_out(await handlers.set_parties(uow, case_id, who.scope, body.parties))


@cases.put(
    "/{case_id}/assessment",
    response_model=views.CaseOut,
    responses=COMMAND,
    summary="附第三方专业审查或评估意见（shexian §21：报批材料的评审须在抽选专家组前附上）(authority)",
)
async def attach_assessment(case_id: str, body: AssessmentIn, uow: UowDep, who: AuthorityDep) -> Any:
    return views.case_out(await handlers.attach_assessment(uow, case_id, who.scope, body.text))


@cases.post(
    "/{case_id}/report",
    response_model=views.CaseOut,
    responses=COMMAND,
    summary="出具评审报告并下达批复（通过）或书面反馈评审意见（未通过），每次评审一次 (authority)",
)
async def issue_report(
    case_id: str,
    body: ReportIn,
    uow: UowDep,
    policy: PolicyDep,
    calendar: CalendarDep,
    who: AuthorityDep,
    now: NowDep,
) -> Any:
    return views.case_out(
        await handlers.issue_report(uow, policy, calendar, case_id, who.scope, body.document, at=now)
    )


@cases.post(
    "/{case_id}/resubmission",
    response_model=views.CaseOut,
    responses=COMMAND,
    summary="修改材料已送达，再次评审 (authority)",
)
async def resubmit(
    case_id: str, uow: UowDep, policy: PolicyDep, calendar: CalendarDep, who: AuthorityDep, now: NowDep
) -> Any:
    return views.case_out(await handlers.resubmit(uow, policy, calendar, case_id, who.scope, at=now))


@cases.post(
    "/{case_id}/declination",
    response_model=views.CaseOut,
    responses=COMMAND,
    summary="谢绝或回避，系统补抽 (expert)",
)
async def decline(case_id: str, uow: UowDep, policy: PolicyDep, who: ExpertDep) -> Any:
    mine = await _expert_ids(uow, who)
    case = await handlers.decline(uow, policy, case_id, case_scope(policy, who), mine)
    return views.case_out(case, for_expert=_shown_to(case, mine))


@cases.post(
    "/{case_id}/opinions", response_model=views.CaseOut, responses=COMMAND, summary="提交评审意见 (expert)"
)
async def submit_opinion(
    case_id: str,
    body: OpinionIn,
    uow: UowDep,
    policy: PolicyDep,
    calendar: CalendarDep,
    who: ExpertDep,
    now: NowDep,
) -> Any:
    mine = await _expert_ids(uow, who)
    case = await handlers.submit_opinion(
        uow,
        policy,
        calendar,
        case_id,
        case_scope(policy, who),
        mine,
        score=body.score,
        verdict=body.verdict,
        comments=body.comments,
        at=now,
    )
    return views.case_out(case, for_expert=_shown_to(case, mine))


@cases.get(
    "/{case_id}/audit",
    response_model=views.AuditOut,
    responses=NOT_FOUND,
    summary="复核抽选：以记录的种子与候选名单重抽 (auditor)",
)
async def audit_case(case_id: str, uow: UowDep, policy: PolicyDep, who: PoolReaderDep) -> Any:
    async with uow:
        case = await uow.cases.get(case_id)
    if case is None or not who.scope.includes(case.jurisdiction):
        raise CaseNotFound(f"评审案件 {case_id} 不存在")
    out = views.case_out(case)
    return views.AuditOut(
        **out.model_dump(),
        candidates=[views.CandidateOut(**c) for c in case.candidates],
        declined=case.declined,
        redraw_matches=handlers.redraw_check(case, policy),
    )


@cases.post("/overdue-scan", summary="立即检查评审时限，逾期的发出事件（服务也每小时自行检查）(authority)")
async def scan_overdue(uow: UowDep, policy: PolicyDep, who: AuthorityDep, now: NowDep) -> dict[str, int]:
    today = today_in_shanghai(now)
    return {"overdue": await handlers.scan_overdue(uow, policy, today=today, scope=who.scope)}
