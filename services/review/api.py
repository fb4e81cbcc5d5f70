"""Review's HTTP API: the expert pool, cases and draws (authority), my cases and opinions (expert), audit."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status

from services.review import commands, handlers, views
from services.review.db import ReviewUnitOfWork
from services.review.domain import (
    CaseNotFound,
    ExpertNotFound,
    InsufficientPool,
    InvalidCaseState,
    NotOnPanel,
    ReviewError,
    ThirdPartyReviewMissing,
    case_scope,
    pool_of,
    pools_of,
)
from services.review.schemas import (
    AssessmentIn,
    CaseQuery,
    ExpertIn,
    ExpertQuery,
    ExpertStatusIn,
    OpenCaseIn,
    OpinionIn,
    PartiesIn,
    ReportIn,
)
from shared.auth import Principal, Role, require
from shared.deps import ContextDep, unit_of_work
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


@experts.post(
    "",
    status_code=201,
    response_model=views.ExpertOut,
    responses=problem_responses(409),
    summary="专家入库 (authority)",
)
async def add_expert(body: ExpertIn, uow: UowDep, ctx: ContextDep, who: AuthorityDep) -> Any:
    jurisdiction = who.check_jurisdiction(_known(ctx.policy, body.jurisdiction))
    cmd = commands.AddExpert(
        jurisdiction, body.name, body.employer, body.title, tuple(body.specialties), body.subject
    )
    return await handlers.add_expert(uow, cmd, ctx)


@experts.get(
    "", response_model=Page[views.ExpertOut], summary="专家库：本辖区所用专家库中的专家 (authority, auditor)"
)
async def list_experts(
    uow: UowDep, who: PoolReaderDep, ctx: ContextDep, page: PageDep, wanted: ExpertQuery
) -> Page[views.ExpertOut]:
    pools = pools_of(ctx.policy, who.scope)
    if wanted.jurisdiction is not None:
        pools = frozenset(
            [pool_of(ctx.policy, who.check_jurisdiction(_known(ctx.policy, wanted.jurisdiction)))]
        )
    async with uow:
        return await views.list_experts(uow.session, page, pools, wanted)


@experts.put(
    "/{expert_id}/status",
    response_model=views.ExpertOut,
    responses=COMMAND,
    summary="暂停、恢复或列入失信名单 (authority)",
)
async def set_expert_status(
    expert_id: str, body: ExpertStatusIn, uow: UowDep, ctx: ContextDep, who: AuthorityDep
) -> Any:
    cmd = commands.SetExpertStatus(expert_id, body.status, body.reason, who.scope)
    return await handlers.set_expert_status(uow, cmd, ctx)


@cases.post(
    "",
    status_code=201,
    response_model=views.CaseOut,
    responses={200: {"model": views.CaseOut, "description": "该项目该阶段已立案：返回已有的案件"}},
    summary="立案 (authority)",
)
async def open_case(
    body: OpenCaseIn, uow: UowDep, ctx: ContextDep, who: AuthorityDep, response: Response
) -> Any:
    who.check_jurisdiction(_known(ctx.policy, body.jurisdiction))
    cmd = commands.OpenCase(
        body.project_id, body.jurisdiction, body.stage, body.agency, tuple(body.parties), by=who.sub
    )
    try:
        case, created = await handlers.open_case(uow, cmd, ctx)
    except PolicyError as exc:
        raise Problem(422, "no_expert_review", "本辖区办法未规定专家评审", str(exc)) from exc
    if not created:
        response.status_code = status.HTTP_200_OK
    return views.case_out(case)


@cases.get("", response_model=Page[views.CaseOut], summary="评审案件（专家只见分配给自己的）")
async def list_cases(
    uow: UowDep, who: CaseReaderDep, ctx: ContextDep, page: PageDep, wanted: CaseQuery
) -> Page[views.CaseOut]:
    scope = case_scope(ctx.policy, who)
    if wanted.jurisdiction is not None and not scope.includes(wanted.jurisdiction):
        who.check_jurisdiction(wanted.jurisdiction)  # outside the scope: 403
    mine = await views.expert_ids(uow, who) if who.role is Role.EXPERT else None
    async with uow:
        found = await views.list_cases(uow.session, page, scope, wanted, expert_ids=mine)
    found.items = [views.case_out(c, for_expert=views.shown_to(c, mine)) for c in found.items]
    return found


@cases.get("/{case_id}", response_model=views.CaseOut, responses=NOT_FOUND, summary="评审案件详情")
async def get_case(case_id: str, uow: UowDep, ctx: ContextDep, who: CaseReaderDep) -> Any:
    mine = await views.expert_ids(uow, who) if who.role is Role.EXPERT else None
    case = await views.visible_case(uow, case_id, case_scope(ctx.policy, who), mine)
    return views.case_out(case, for_expert=views.shown_to(case, mine))


@cases.post(
    "/{case_id}/draw", response_model=views.CaseOut, responses=COMMAND, summary="抽选专家组 (authority)"
)
async def draw_panel(case_id: str, uow: UowDep, ctx: ContextDep, who: AuthorityDep) -> Any:
    return views.case_out(await handlers.draw_panel(uow, commands.DrawPanel(case_id, who.scope), ctx))


@cases.put(
    "/{case_id}/parties",
    response_model=views.CaseOut,
    responses=COMMAND,
    summary="设定回避单位（抽选前）(authority)",
)
async def set_parties(case_id: str, body: PartiesIn, uow: UowDep, ctx: ContextDep, who: AuthorityDep) -> Any:
    cmd = commands.SetParties(case_id, who.scope, tuple(body.parties))
    return views.case_out(await handlers.set_parties(uow, cmd, ctx))


@cases.put(
    "/{case_id}/assessment",
    response_model=views.CaseOut,
    responses=COMMAND,
    summary="附第三方专业审查或评估意见（shexian §21：报批材料的评审须在抽选专家组前附上）(authority)",
)
async def attach_assessment(
    case_id: str, body: AssessmentIn, uow: UowDep, ctx: ContextDep, who: AuthorityDep
) -> Any:
    cmd = commands.AttachAssessment(case_id, who.scope, body.text)
    return views.case_out(await handlers.attach_assessment(uow, cmd, ctx))


@cases.post(
    "/{case_id}/report",
    response_model=views.CaseOut,
    responses=COMMAND,
    summary="出具评审报告并下达批复（通过）或书面反馈评审意见（未通过），每次评审一次 (authority)",
)
async def issue_report(case_id: str, body: ReportIn, uow: UowDep, ctx: ContextDep, who: AuthorityDep) -> Any:
    cmd = commands.IssueReport(case_id, who.scope, body.document)
    return views.case_out(await handlers.issue_report(uow, cmd, ctx))


@cases.post(
    "/{case_id}/resubmission",
    response_model=views.CaseOut,
    responses=COMMAND,
    summary="修改材料已送达，再次评审 (authority)",
)
async def resubmit(case_id: str, uow: UowDep, ctx: ContextDep, who: AuthorityDep) -> Any:
    return views.case_out(await handlers.resubmit(uow, commands.Resubmit(case_id, who.scope), ctx))


@cases.post(
    "/{case_id}/declination",
    response_model=views.CaseOut,
    responses=COMMAND,
    summary="谢绝或回避，系统补抽 (expert)",
)
async def decline(case_id: str, uow: UowDep, ctx: ContextDep, who: ExpertDep) -> Any:
    mine = await views.expert_ids(uow, who)
    cmd = commands.Decline(case_id, case_scope(ctx.policy, who), mine)
    case = await handlers.decline(uow, cmd, ctx)
    return views.case_out(case, for_expert=views.shown_to(case, mine))


@cases.post(
    "/{case_id}/opinions", response_model=views.CaseOut, responses=COMMAND, summary="提交评审意见 (expert)"
)
async def submit_opinion(case_id: str, body: OpinionIn, uow: UowDep, ctx: ContextDep, who: ExpertDep) -> Any:
    mine = await views.expert_ids(uow, who)
    scope = case_scope(ctx.policy, who)
    cmd = commands.SubmitOpinion(case_id, scope, mine, body.score, body.verdict, body.comments)
    case = await handlers.submit_opinion(uow, cmd, ctx)
    return views.case_out(case, for_expert=views.shown_to(case, mine))


@cases.get(
    "/{case_id}/audit",
    response_model=views.AuditOut,
    responses=NOT_FOUND,
    summary="复核抽选：以记录的种子与候选名单重抽 (auditor)",
)
async def audit_case(case_id: str, uow: UowDep, ctx: ContextDep, who: PoolReaderDep) -> Any:
    case = await views.visible_case(uow, case_id, who.scope)
    return views.audit_out(case, ctx.policy)


@cases.post("/overdue-scan", summary="立即检查评审时限，逾期的发出事件（服务也每小时自行检查）(authority)")
async def scan_overdue(uow: UowDep, ctx: ContextDep, who: AuthorityDep) -> dict[str, int]:
    cmd = commands.ScanOverdue(today_in_shanghai(ctx.now()), who.scope)
    return {"overdue": await handlers.scan_overdue(uow, cmd, ctx)}
