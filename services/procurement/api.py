"""Procurement's HTTP API: the agency procures, contracts, builds and reports; the authority reviews,
decides changes and keeps the 失信 list; finance co-decides changes where the pack says so."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response, status

from services.procurement import commands, handlers, views
from services.procurement.db import ProcurementUnitOfWork
from services.procurement.domain import (
    ChangeNotFound,
    ChangeState,
    InvalidState,
    Listing,
    ProcurementError,
    Project,
    ProjectNotFound,
    RuleViolation,
    Status,
)
from services.procurement.domain.errors import PurchaseNotFound
from services.procurement.domain.suspension import ConstructionSuspended
from services.procurement.schemas import (
    CREDIT_CODE,
    ChangeIn,
    CompletionIn,
    ContractIn,
    DecisionIn,
    FirmIn,
    ReportIn,
    RequirementsIn,
    RequirementsReviewIn,
    StartIn,
    TenderIn,
)
from shared.auth import Principal, Role, require
from shared.consume import HandlerContext
from shared.deps import ContextDep, IdempotencyKey, unit_of_work
from shared.pagination import Page, PageDep
from shared.policy.principle import ExceptionIn
from shared.problems import COMMAND, NOT_FOUND, Problem
from shared.workdays import today_in_shanghai

ERRORS: dict[type[Exception], int] = {
    ProjectNotFound: 404,
    PurchaseNotFound: 404,
    ConstructionSuspended: 409,
    ChangeNotFound: 404,
    InvalidState: 409,
    RuleViolation: 409,
    ProcurementError: 422,
}

UowDep = Annotated[ProcurementUnitOfWork, Depends(unit_of_work(ProcurementUnitOfWork))]
ReaderDep = Annotated[Principal, require(Role.APPLICANT, Role.AUTHORITY, Role.FINANCE, Role.AUDITOR)]
ApplicantDep = Annotated[Principal, require(Role.APPLICANT)]
AuthorityDep = Annotated[Principal, require(Role.AUTHORITY)]
DeciderDep = Annotated[Principal, require(Role.AUTHORITY, Role.FINANCE)]
FirmReaderDep = Annotated[Principal, require(Role.AUTHORITY, Role.AUDITOR, Role.APPLICANT, Role.FINANCE)]


@dataclass(frozen=True)
class Keyed:
    """The applicant, and the request's Idempotency-Key when it sent one."""

    who: Principal
    key: str | None


async def _keyed(who: ApplicantDep, idempotency_key: IdempotencyKey = None) -> Keyed:
    return Keyed(who, idempotency_key)


KeyedApplicantDep = Annotated[Keyed, Depends(_keyed)]

projects = APIRouter(prefix="/projects", tags=["projects"])
changes = APIRouter(prefix="/changes", tags=["changes"])
firms = APIRouter(prefix="/firms", tags=["firms"])


async def _detail(uow: ProcurementUnitOfWork, project: Project, ctx: HandlerContext) -> views.ProjectDetail:
    return await views.project_detail(uow, project, (ctx.policy, ctx.calendar, today_in_shanghai(ctx.now())))


async def _show(uow: ProcurementUnitOfWork, project: Project, ctx: HandlerContext) -> views.ProjectDetail:
    async with uow:
        return await _detail(uow, project, ctx)


# -- projects ---------------------------------------------------------------------------------------


@projects.get("", response_model=Page[views.ProjectOut], summary="项目（建设单位只见本单位的）")
async def list_projects(
    uow: UowDep,
    who: ReaderDep,
    page: PageDep,
    jurisdiction: str | None = None,
    status: Status | None = None,
    agency: str | None = None,
) -> Page[views.ProjectOut]:
    if jurisdiction is not None:
        who.check_jurisdiction(jurisdiction)
    async with uow:
        return await views.list_projects(
            uow.session, who, page, jurisdiction=jurisdiction, status=status, agency=agency
        )


@projects.get(
    "/{project_id}",
    response_model=views.ProjectDetail,
    responses=NOT_FOUND,
    summary="项目详情：采购、合同、变更，以及各项期限（含条款）",
)
async def get_project(project_id: str, uow: UowDep, who: ReaderDep, ctx: ContextDep) -> Any:
    async with uow:
        project = await uow.projects.get(project_id)
        if project is None or not who.may_see(project.jurisdiction, project.agency):
            raise ProjectNotFound(f"项目 {project_id} 不存在")
        return await _detail(uow, project, ctx)


@projects.post(
    "/{project_id}/requirements",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="提交采购需求 (applicant)",
)
async def submit_requirements(
    project_id: str, body: RequirementsIn, uow: UowDep, who: ApplicantDep, ctx: ContextDep
) -> Any:
    cmd = commands.SubmitRequirements(project_id, body.summary, who.sub, who.scope)
    return await _show(uow, await handlers.submit_requirements(uow, cmd, ctx), ctx)


@projects.post(
    "/{project_id}/requirements/review",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="审核采购需求 (authority; shexian §29)",
)
async def review_requirements(
    project_id: str, body: RequirementsReviewIn, uow: UowDep, who: AuthorityDep, ctx: ContextDep
) -> Any:
    cmd = commands.ReviewRequirements(project_id, body.approved, body.comment, who.sub, who.scope)
    return await _show(uow, await handlers.review_requirements(uow, cmd, ctx), ctx)


@projects.post(
    "/{project_id}/tenders",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="记录采购结果 (applicant)",
)
async def record_tender(
    project_id: str, body: TenderIn, uow: UowDep, who: ApplicantDep, ctx: ContextDep
) -> Any:
    cmd = commands.RecordTender(project_id, body.tender(), who.sub, who.scope)
    return await _show(uow, await handlers.record_tender(uow, cmd, ctx), ctx)


@projects.post(
    "/{project_id}/contracts",
    status_code=201,
    response_model=views.ContractOut,
    responses={
        **COMMAND,
        200: {"model": views.ContractOut, "description": "同一 Idempotency-Key 的重试：返回已备案的合同"},
    },
    summary="合同备案 (applicant)；逾期备案予以登记并标注",
)
async def file_contract(
    project_id: str,
    body: ContractIn,
    response: Response,
    uow: UowDep,
    caller: KeyedApplicantDep,
    ctx: ContextDep,
) -> Any:
    who = caller.who
    cmd = commands.FileContract(project_id, body.terms(), who.sub, who.scope, caller.key)
    contract, created = await handlers.file_contract(uow, cmd, ctx)
    if not created:
        response.status_code = status.HTTP_200_OK
    return views.contract_out(contract)


@projects.get(
    "/{project_id}/contracts",
    response_model=Page[views.ContractOut],
    summary="项目的备案合同及付款节点",
)
async def list_contracts(
    project_id: str, uow: UowDep, who: ReaderDep, page: PageDep
) -> Page[views.ContractOut]:
    async with uow:
        return await views.list_contracts(uow.session, who, page, project_id=project_id, jurisdiction=None)


@projects.post(
    "/{project_id}/construction/start",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="开工 (applicant)；未批复或未确定监理的不得开工",
)
async def start_construction(
    project_id: str, body: StartIn, uow: UowDep, who: ApplicantDep, ctx: ContextDep
) -> Any:
    cmd = commands.StartConstruction(project_id, body.started_on, who.scope)
    return await _show(uow, await handlers.start_construction(uow, cmd, ctx), ctx)


@projects.post(
    "/{project_id}/exceptions",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="依“原则上”条款作出例外 (authority)，如 shexian §30 不实行监理：写明理由、注明文号",
)
async def record_exception(
    project_id: str, body: ExceptionIn, uow: UowDep, who: AuthorityDep, ctx: ContextDep
) -> Any:
    cmd = commands.RecordException(project_id, body.made_by(who.sub), who.scope)
    return await _show(uow, await handlers.record_exception(uow, cmd, ctx), ctx)


@projects.post(
    "/{project_id}/reports",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="报送方案、进度或说明 (applicant)",
)
async def report(project_id: str, body: ReportIn, uow: UowDep, who: ApplicantDep, ctx: ContextDep) -> Any:
    cmd = commands.SubmitReport(project_id, body.kind, body.period, body.summary, who.sub, who.scope)
    return await _show(uow, await handlers.report(uow, cmd, ctx), ctx)


@projects.post(
    "/{project_id}/construction/completion",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="竣工 (applicant)；验收由此开始",
)
async def complete_construction(
    project_id: str, body: CompletionIn, uow: UowDep, who: ApplicantDep, ctx: ContextDep
) -> Any:
    cmd = commands.CompleteConstruction(project_id, body.completed_on, body.security_test_report, who.scope)
    return await _show(uow, await handlers.complete_construction(uow, cmd, ctx), ctx)


@projects.post(
    "/{project_id}/changes",
    status_code=201,
    response_model=views.ChangeOut,
    responses={
        **COMMAND,
        200: {"model": views.ChangeOut, "description": "同一 Idempotency-Key 的重试：返回已有的申请"},
    },
    summary="变更申请 (applicant)：依办法确定备案、审批或重新立项",
)
async def request_change(
    project_id: str,
    body: ChangeIn,
    response: Response,
    uow: UowDep,
    caller: KeyedApplicantDep,
    ctx: ContextDep,
) -> Any:
    who = caller.who
    cmd = commands.RequestChange(project_id, body.request(), who.sub, who.scope, caller.key)
    change, created = await handlers.request_change(uow, cmd, ctx)
    if not created:
        response.status_code = status.HTTP_200_OK
    return views.change_out(change)


@projects.post(
    "/deadline-scan",
    summary="立即检查各项期限，逾期的发出事件（服务也每小时自行检查）(authority)",
)
async def scan_deadlines(request: Request, who: AuthorityDep, ctx: ContextDep) -> dict[str, int]:
    fired = await handlers.scan_deadlines(
        request.app.state.runtime.new_uow, commands.ScanDeadlines(who.scope), ctx
    )
    return {"missed": fired}


# -- changes ----------------------------------------------------------------------------------------


@changes.get("", response_model=Page[views.ChangeOut], summary="变更申请")
async def list_changes(
    uow: UowDep,
    who: ReaderDep,
    page: PageDep,
    project_id: str | None = None,
    jurisdiction: str | None = None,
    status: ChangeState | None = None,
) -> Page[views.ChangeOut]:
    if jurisdiction is not None:
        who.check_jurisdiction(jurisdiction)
    async with uow:
        return await views.list_changes(
            uow.session, who, page, project_id=project_id, jurisdiction=jurisdiction, status=status
        )


@changes.get("/{change_id}", response_model=views.ChangeOut, responses=NOT_FOUND, summary="变更申请详情")
async def get_change(change_id: str, uow: UowDep, who: ReaderDep) -> Any:
    async with uow:
        found = await views.get_change(uow.session, who, change_id)
    if found is None:
        raise ChangeNotFound(f"变更 {change_id} 不存在")
    return found


@changes.post(
    "/{change_id}/decision",
    response_model=views.ChangeOut,
    responses=COMMAND,
    summary="审批变更 (authority；bayingolin §22 另须 finance)",
)
async def decide_change(
    change_id: str, body: DecisionIn, uow: UowDep, who: DeciderDep, ctx: ContextDep
) -> Any:
    role = "finance" if who.role is Role.FINANCE else "authority"
    cmd = commands.DecideChange(
        change_id, role, body.approve, body.comment, body.approval_number, who.sub, who.scope
    )
    return views.change_out(await handlers.decide_change(uow, cmd, ctx))


# -- firms ------------------------------------------------------------------------------------------


@firms.put(
    "/{jurisdiction}/{credit_code}",
    response_model=views.FirmOut,
    summary="列入或移出失信名单 (authority; xunyang §25, lhasa §22)",
)
async def set_firm(
    jurisdiction: Annotated[str, Path(description="辖区代码", examples=["zhonglou"])],
    credit_code: Annotated[str, Path(pattern=CREDIT_CODE, description="统一社会信用代码")],
    body: FirmIn,
    uow: UowDep,
    who: AuthorityDep,
    ctx: ContextDep,
) -> Any:
    if jurisdiction not in ctx.policy:
        raise Problem(422, "unknown_jurisdiction", "辖区代码无效", f"未知辖区 {jurisdiction}")
    who.check_jurisdiction(jurisdiction)
    listing = Listing(jurisdiction, credit_code, body.name, body.blacklisted, body.reason)
    return await handlers.set_firm(uow, commands.SetFirm(listing), ctx)


@firms.get("", response_model=Page[views.FirmOut], summary="企业及失信名单")
async def list_firms(
    uow: UowDep,
    who: FirmReaderDep,
    page: PageDep,
    jurisdiction: str | None = None,
    blacklisted: bool | None = None,
) -> Page[views.FirmOut]:
    if jurisdiction is not None:
        who.check_jurisdiction(jurisdiction)
    async with uow:
        return await views.list_firms(
            uow.session, who, page, jurisdiction=jurisdiction, blacklisted=blacklisted
        )
