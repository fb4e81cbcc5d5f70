"""Funding's HTTP API: disbursements held until their gates open, O&M funds, gates, settlement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Response, status

from services.funding import commands, handlers, views
from services.funding.db import FundingUnitOfWork
from services.funding.domain import (
    DisbursementNotFound,
    DisbursementStatus,
    FundingError,
    InvalidState,
    ProjectNotFound,
    Refused,
    WrongJurisdiction,
)
from services.funding.schemas import (
    OmApplicationIn,
    OmExceptionIn,
    ReclaimDoneIn,
    RequestDisbursementIn,
    SettlementIn,
)
from shared.auth import Principal, Role, require
from shared.deps import ContextDep, IdempotencyKey, unit_of_work
from shared.pagination import Page, PageDep
from shared.problems import COMMAND, NOT_FOUND, Problem
from shared.workdays import today_in_shanghai

ERRORS: dict[type[Exception], int] = {
    ProjectNotFound: 404,
    DisbursementNotFound: 404,
    Refused: 409,
    InvalidState: 409,
    WrongJurisdiction: 422,
    FundingError: 422,
}


UowDep = Annotated[FundingUnitOfWork, Depends(unit_of_work(FundingUnitOfWork))]

# Who may read: the agency (its own), the authority, finance and audit; experts see only
# the cases assigned to them, in the review service.
ReaderDep = Annotated[Principal, require(Role.APPLICANT, Role.FINANCE, Role.AUTHORITY, Role.AUDITOR)]
RequesterDep = Annotated[Principal, require(Role.APPLICANT, Role.FINANCE)]
FinanceDep = Annotated[Principal, require(Role.FINANCE)]

projects_router = APIRouter(prefix="/projects", tags=["projects"])
disbursements_router = APIRouter(prefix="/disbursements", tags=["disbursements"])


@projects_router.get(
    "/{project_id}", response_model=views.FundedProjectOut, responses=NOT_FOUND, summary="资金系统中的项目"
)
async def get_project(project_id: str, uow: UowDep, principal: ReaderDep) -> views.FundedProjectOut:
    async with uow:
        project = await views.get_project(uow.session, principal, project_id)
    if project is None:
        raise ProjectNotFound(f"资金系统中没有项目 {project_id}")
    return project


@dataclass(frozen=True)
class Asker:
    """Who asks for money, with the Idempotency-Key that makes a retry safe, and (O&M) the
    jurisdiction they apply in where the project may not be known."""

    who: Principal
    idempotency_key: str | None = None
    jurisdiction: str | None = None


async def _asker(who: RequesterDep, idempotency_key: IdempotencyKey = None) -> Asker:
    return Asker(who, idempotency_key)


async def _om_applicant(
    who: RequesterDep,
    ctx: ContextDep,
    jurisdiction: str | None = None,
    idempotency_key: IdempotencyKey = None,
) -> Asker:
    if jurisdiction is not None and jurisdiction not in ctx.policy:
        raise Problem(422, "unknown_jurisdiction", "辖区代码无效", f"未知辖区 {jurisdiction}")
    if jurisdiction is not None:
        who.check_jurisdiction(jurisdiction)
    return Asker(who, idempotency_key, jurisdiction)


AskerDep = Annotated[Asker, Depends(_asker)]
OmApplicantDep = Annotated[Asker, Depends(_om_applicant)]
DisbursementFilterDep = Annotated[views.DisbursementFilter, Depends()]


@projects_router.get(
    "/{project_id}/gates",
    response_model=list[views.GateOut],
    responses=NOT_FOUND,
    summary="各项拨付前置条件：开启或关闭、所依据的条款、开启或关闭它的事件",
)
async def get_gates(project_id: str, uow: UowDep, ctx: ContextDep, principal: ReaderDep) -> Any:
    async with uow:
        project = await uow.projects.get(project_id)
        if project is None or not principal.may_see(project.jurisdiction, project.agency):
            raise ProjectNotFound(f"资金系统中没有项目 {project_id}")
        gates = await uow.gates.of(project_id)
    return views.gate_report(ctx.policy, project, gates, today_in_shanghai(ctx.now()))


@projects_router.post(
    "/{project_id}/disbursements",
    status_code=status.HTTP_201_CREATED,
    response_model=views.DisbursementOut,
    responses={
        **COMMAND,
        200: {"model": views.DisbursementOut, "description": "同一 Idempotency-Key 的重试：返回已有的申请"},
        202: {
            "model": views.DisbursementOut,
            "description": "前置条件未齐备：申请挂起，closed_gates 说明依据",
        },
    },
    summary="申请拨付：前置条件齐备即拨付（201），否则挂起并说明依据（202）",
)
async def request_disbursement(
    project_id: str,
    body: RequestDisbursementIn,
    uow: UowDep,
    ctx: ContextDep,
    response: Response,
    asker: AskerDep,
) -> views.DisbursementOut:
    cmd = commands.RequestDisbursement(
        project_id=project_id,
        kind=body.kind,
        amount_fen=body.amount_fen,
        purpose=body.purpose,
        by=asker.who.sub,
        scope=asker.who.scope,
        idempotency_key=asker.idempotency_key,
        contract_id=body.contract_id,
        milestone=body.milestone,
    )
    item, created = await handlers.request_disbursement(uow, cmd, ctx)
    if item.status is DisbursementStatus.HELD:
        response.status_code = status.HTTP_202_ACCEPTED
    elif not created:
        response.status_code = status.HTTP_200_OK
    return views.DisbursementOut.model_validate(item)


@projects_router.post(
    "/{project_id}/om-applications",
    status_code=status.HTTP_201_CREATED,
    response_model=views.DisbursementOut,
    responses={
        **COMMAND,
        200: {"model": views.DisbursementOut, "description": "同一 Idempotency-Key 的重试：返回已有的申请"},
    },
    summary="申请运维经费：当即核准（201），或不予核准（409，列明全部理由及条款）",
)
async def apply_for_om(
    project_id: str,
    body: OmApplicationIn,
    uow: UowDep,
    ctx: ContextDep,
    response: Response,
    asker: OmApplicantDep,
) -> views.DisbursementOut:
    cmd = commands.OmApplication(
        project_id=project_id,
        amount_fen=body.amount_fen,
        budget_year=body.budget_year,
        purpose=body.purpose,
        free_maintenance_ends_on=body.free_maintenance_ends_on,
        by=asker.who.sub,
        scope=asker.who.scope,
        idempotency_key=asker.idempotency_key,
        jurisdiction=asker.jurisdiction,
        classified=body.classified,
    )
    item, created = await handlers.apply_for_om(uow, cmd, ctx)
    if item.status is DisbursementStatus.REJECTED:
        raise Problem(
            409,
            "om_denied",
            "运维经费不予核准",
            item.decided_reason,
            reasons=item.reasons,
            disbursement_id=item.id,
        )
    if not created:
        response.status_code = status.HTTP_200_OK
    return views.DisbursementOut.model_validate(item)


@projects_router.post(
    "/{project_id}/settlement",
    response_model=views.FundedProjectOut,
    responses=COMMAND,
    summary="结算：结余资金、应退回资金，以及财评或审计的路径和期限",
)
async def settle(project_id: str, body: SettlementIn, uow: UowDep, ctx: ContextDep, who: RequesterDep) -> Any:
    cmd = commands.Settle(
        project_id=project_id,
        final_cost_fen=body.final_cost_fen,
        settled_on=body.settled_on,
        by=who.sub,
        scope=who.scope,
    )
    project = await handlers.settle(uow, cmd, ctx)
    return views.FundedProjectOut.model_validate(project)


@projects_router.get(
    "/{project_id}/reclaims", response_model=Page[views.ReclaimOut], summary="项目终止后的资金收回"
)
async def list_reclaims(
    project_id: str, uow: UowDep, principal: ReaderDep, page: PageDep
) -> Page[views.ReclaimOut]:
    async with uow:
        return await views.list_reclaims(uow.session, principal, page, project_id=project_id)


@projects_router.post(
    "/{project_id}/reclaims/{reclaim_id}/completion",
    response_model=views.ReclaimOut,
    responses=COMMAND,
    summary="登记资金已收回 (finance)",
)
async def complete_reclaim(
    project_id: str, reclaim_id: str, body: ReclaimDoneIn, uow: UowDep, who: FinanceDep, ctx: ContextDep
) -> Any:
    cmd = commands.CompleteReclaim(project_id, reclaim_id, body.returned_fen, who.scope)
    return await handlers.complete_reclaim(uow, cmd, ctx)


@disbursements_router.post(
    "/{disbursement_id}/withdrawal",
    response_model=views.DisbursementOut,
    responses=COMMAND,
    summary="撤回挂起的拨付申请",
)
async def withdraw(
    disbursement_id: str, uow: UowDep, who: RequesterDep, ctx: ContextDep
) -> views.DisbursementOut:
    item = await handlers.withdraw(uow, commands.Withdraw(disbursement_id, who.sub, who.scope), ctx)
    return views.DisbursementOut.model_validate(item)


@disbursements_router.post(
    "/{disbursement_id}/exception",
    response_model=views.DisbursementOut,
    responses=COMMAND,
    summary="对被拒绝的运维经费申请依“原则上”条款作出例外并核准 (finance; zhonglou §28、lhasa §20 等)",
)
async def grant_by_exception(
    disbursement_id: str, body: OmExceptionIn, uow: UowDep, who: FinanceDep, ctx: ContextDep
) -> views.DisbursementOut:
    cmd = commands.GrantByException(disbursement_id, body.made_by(who.sub), who.scope)
    return views.DisbursementOut.model_validate(await handlers.grant_by_exception(uow, cmd, ctx))


@disbursements_router.get("", response_model=Page[views.DisbursementOut], summary="拨付申请列表")
async def list_disbursements(
    uow: UowDep, principal: ReaderDep, page: PageDep, which: DisbursementFilterDep
) -> Page[views.DisbursementOut]:
    if which.jurisdiction is not None:
        principal.check_jurisdiction(which.jurisdiction)
    async with uow:
        return await views.list_disbursements(uow.session, principal, page, which)


@disbursements_router.get(
    "/{disbursement_id}", response_model=views.DisbursementOut, responses=NOT_FOUND, summary="拨付申请详情"
)
async def get_disbursement(disbursement_id: str, uow: UowDep, principal: ReaderDep) -> views.DisbursementOut:
    async with uow:
        item = await views.get_disbursement(uow.session, principal, disbursement_id)
    if item is None:
        raise DisbursementNotFound(f"拨付申请 {disbursement_id} 不存在")
    return item
