"""Procurement's HTTP API: the agency procures, contracts, builds and reports; the authority reviews,
decides changes and keeps the 失信 list; finance co-decides changes where the pack says so."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Request, Response, status
from pydantic import BaseModel, Field, model_validator

from services.procurement import handlers, views
from services.procurement.db import ProcurementUnitOfWork
from services.procurement.domain import (
    ChangeNotFound,
    ChangeState,
    InvalidState,
    ProcurementError,
    Project,
    ProjectNotFound,
    RuleViolation,
    Status,
)
from services.procurement.domain import (
    Role as ContractRole,
)
from services.procurement.rules import Ground
from shared.auth import Principal, Role, require
from shared.contracts.procurement import MilestoneStage
from shared.deps import CalendarDep, IdempotencyKey, NowDep, PolicyDep, unit_of_work
from shared.money import Fen, PositiveFen
from shared.pagination import Page, PageDep
from shared.problems import COMMAND, NOT_FOUND, Problem
from shared.workdays import today_in_shanghai

ERRORS: dict[type[Exception], int] = {
    ProjectNotFound: 404,
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

CREDIT_CODE = r"^[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}$"
CreditCode = Annotated[str, Field(pattern=CREDIT_CODE, description="统一社会信用代码（18位）")]


projects = APIRouter(prefix="/projects", tags=["projects"])
changes = APIRouter(prefix="/changes", tags=["changes"])
firms = APIRouter(prefix="/firms", tags=["firms"])


async def _detail(request: Request, uow: ProcurementUnitOfWork, project: Project) -> views.ProjectDetail:
    today = today_in_shanghai(request.app.state.clock())
    contracts = await uow.contracts.of(project.id)
    found = await uow.changes.of(project.id)
    deadlines = handlers.upcoming(request.app.state.policy, request.app.state.calendar, project, today)
    return views.ProjectDetail(
        **views.ProjectOut.model_validate(project).model_dump(),
        total_fen=project.total_fen,
        requirements=project.requirements,
        tenders=project.tenders,
        reports=project.reports,
        implementation_plan_on=project.implementation_plan_on,
        security_test_report=project.security_test_report,
        contracts=[views.ContractOut.model_validate(c) for c in contracts],
        changes=[views.ChangeOut.model_validate(c) for c in found],
        deadlines=[views.DeadlineOut(**d) for d in deadlines],
    )


async def _show(request: Request, uow: ProcurementUnitOfWork, project: Project) -> views.ProjectDetail:
    async with uow:
        return await _detail(request, uow, project)


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
async def get_project(project_id: str, request: Request, uow: UowDep, who: ReaderDep) -> Any:
    async with uow:
        project = await uow.projects.get(project_id)
        if project is None or not who.may_see(project.jurisdiction, project.agency):
            raise ProjectNotFound(f"项目 {project_id} 不存在")
        return await _detail(request, uow, project)


class RequirementsIn(BaseModel):
    summary: str = Field(min_length=2, max_length=20000, description="采购需求（技术、商务要求，预算）")


class RequirementsReviewIn(BaseModel):
    approved: bool
    comment: str = Field(default="", max_length=5000)


@projects.post(
    "/{project_id}/requirements",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="提交采购需求 (applicant)",
)
async def submit_requirements(
    project_id: str,
    body: RequirementsIn,
    request: Request,
    uow: UowDep,
    policy: PolicyDep,
    who: ApplicantDep,
    now: NowDep,
) -> Any:
    project = await handlers.submit_requirements(
        uow, policy, project_id, who.scope, summary=body.summary, by=who.sub, at=now
    )
    return await _show(request, uow, project)


@projects.post(
    "/{project_id}/requirements/review",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="审核采购需求 (authority; shexian §29)",
)
async def review_requirements(
    project_id: str,
    body: RequirementsReviewIn,
    request: Request,
    uow: UowDep,
    policy: PolicyDep,
    who: AuthorityDep,
    now: NowDep,
) -> Any:
    project = await handlers.review_requirements(
        uow, policy, project_id, who.scope, approved=body.approved, comment=body.comment, by=who.sub, at=now
    )
    return await _show(request, uow, project)


TenderMethod = Literal[
    "public_tender",  # 公开招标
    "invited_tender",  # 邀请招标
    "competitive_negotiation",  # 竞争性谈判
    "competitive_consultation",  # 竞争性磋商
    "single_source",  # 单一来源
    "inquiry",  # 询价
    "framework",  # 框架协议
    "decentralized",  # 分散采购
]


class TenderIn(BaseModel):
    method: TenderMethod
    announced_on: dt.date | None = Field(default=None, description="公告日期")
    awarded_on: dt.date = Field(description="中标（成交）日期")
    bidders: list[str] = Field(default_factory=list, max_length=200, description="投标（响应）单位")
    winner: str = Field(min_length=2, max_length=200)
    winner_credit_code: CreditCode
    amount_fen: PositiveFen = Field(description="中标（成交）金额，分")


@projects.post(
    "/{project_id}/tenders",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="记录采购结果 (applicant)",
)
async def record_tender(
    project_id: str,
    body: TenderIn,
    request: Request,
    uow: UowDep,
    policy: PolicyDep,
    who: ApplicantDep,
    now: NowDep,
) -> Any:
    tender = handlers.Tender(**body.model_dump())
    project = await handlers.record_tender(
        uow, policy, project_id, who.scope, tender, by=who.sub, today=today_in_shanghai(now)
    )
    return await _show(request, uow, project)


class MilestoneIn(BaseModel):
    name: str = Field(min_length=1, max_length=100, description="付款节点名称")
    stage: MilestoneStage = Field(description="付款条件所处阶段")
    share_percent: Decimal = Field(gt=0, le=100, decimal_places=2, description="付款比例（%）")


class ContractIn(BaseModel):
    role: ContractRole = Field(description="construction 承建, supervision 监理")
    counterparty: str = Field(min_length=2, max_length=200, description="乙方单位名称")
    credit_code: CreditCode
    amount_fen: PositiveFen = Field(description="合同金额，分")
    signed_on: dt.date
    starts_on: dt.date | None = Field(default=None, description="合同工期起")
    ends_on: dt.date | None = Field(default=None, description="合同工期止")
    milestones: list[MilestoneIn] = Field(min_length=1, max_length=50, description="付款节点，比例合计100%")
    ip_to_government: bool = Field(
        default=False, description="合同明确项目成果及知识产权归政府所有 (shexian §40)"
    )

    @model_validator(mode="after")
    def _period(self) -> ContractIn:
        if (self.starts_on is None) != (self.ends_on is None):
            raise ValueError("合同工期须同时给出起止日期")
        if self.starts_on and self.ends_on and self.ends_on <= self.starts_on:
            raise ValueError("合同工期止须晚于起")
        if sum((m.share_percent for m in self.milestones), Decimal(0)) != 100:
            raise ValueError("付款节点比例合计须为100%")
        return self


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
    policy: PolicyDep,
    calendar: CalendarDep,
    who: ApplicantDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    terms = handlers.ContractTerms(
        role=body.role,
        counterparty=body.counterparty,
        credit_code=body.credit_code,
        amount_fen=body.amount_fen,
        signed_on=body.signed_on,
        starts_on=body.starts_on,
        ends_on=body.ends_on,
        milestones=[(m.name, m.stage, m.share_percent) for m in body.milestones],
        ip_to_government=body.ip_to_government,
    )
    contract, created = await handlers.file_contract(
        uow,
        policy,
        calendar,
        project_id,
        who.scope,
        terms,
        by=who.sub,
        at=now,
        idempotency_key=idempotency_key,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return contract


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


class StartIn(BaseModel):
    started_on: dt.date | None = Field(default=None, description="开工日期，默认今日")


@projects.post(
    "/{project_id}/construction/start",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="开工 (applicant)；未批复或未确定监理的不得开工",
)
async def start_construction(
    project_id: str,
    body: StartIn,
    request: Request,
    uow: UowDep,
    policy: PolicyDep,
    who: ApplicantDep,
    now: NowDep,
) -> Any:
    on = body.started_on or today_in_shanghai(now)
    project = await handlers.start_construction(
        uow, policy, project_id, who.scope, on=on, today=today_in_shanghai(now)
    )
    return await _show(request, uow, project)


class ReportIn(BaseModel):
    kind: Literal["implementation_plan", "progress", "delay"] = Field(
        description="implementation_plan 实施方案和进度计划, progress 进度或绩效报告, delay 逾期情况说明"
    )
    period: str | None = Field(default=None, max_length=8, description="报告期：季度 2026Q3 或年度 2026")
    summary: str = Field(min_length=2, max_length=20000)


@projects.post(
    "/{project_id}/reports",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="报送方案、进度或说明 (applicant)",
)
async def report(
    project_id: str,
    body: ReportIn,
    request: Request,
    uow: UowDep,
    policy: PolicyDep,
    who: ApplicantDep,
    now: NowDep,
) -> Any:
    project = await handlers.report(
        uow,
        policy,
        project_id,
        who.scope,
        kind=body.kind,
        period=body.period,
        summary=body.summary,
        by=who.sub,
        at=now,
    )
    return await _show(request, uow, project)


class CompletionIn(BaseModel):
    completed_on: dt.date | None = Field(default=None, description="竣工日期，默认今日")
    security_test_report: str | None = Field(
        default=None, max_length=500, description="应用软件安全评测报告编号 (zhonglou §15)"
    )


@projects.post(
    "/{project_id}/construction/completion",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="竣工 (applicant)；验收由此开始",
)
async def complete_construction(
    project_id: str,
    body: CompletionIn,
    request: Request,
    uow: UowDep,
    policy: PolicyDep,
    who: ApplicantDep,
    now: NowDep,
) -> Any:
    on = body.completed_on or today_in_shanghai(now)
    project = await handlers.complete_construction(
        uow,
        policy,
        project_id,
        who.scope,
        on=on,
        security_test_report=body.security_test_report,
        today=today_in_shanghai(now),
    )
    return await _show(request, uow, project)


class ChangeIn(BaseModel):
    description: str = Field(min_length=2, max_length=20000, description="变更内容及理由")
    scope_effect: str = Field(min_length=2, max_length=20000, description="对建设内容、规模的影响")
    total_delta_fen: int = Field(
        strict=True, ge=-(10**15), le=10**15, description="对批复总投资的增减（分；超概算为正，核减为负）"
    )
    adjustment_fen: Fen = Field(description="资金调整数额（分）：在各建设内容之间调整的资金")
    goal_changed: bool = Field(default=False, description="建设目标是否改变")
    major: bool = Field(default=False, description="建设内容重大调整 (zhonglou §14)")
    ground: Ground | None = Field(
        default=None,
        description="可由建设单位自行调整的情形 (shexian §38, lhasa §16)：policy / optimisation / business",
    )


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
    policy: PolicyDep,
    who: ApplicantDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    change, created = await handlers.request_change(
        uow,
        policy,
        project_id,
        who.scope,
        handlers.ChangeRequest(**body.model_dump()),
        by=who.sub,
        at=now,
        idempotency_key=idempotency_key,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return change


@projects.post(
    "/deadline-scan",
    summary="立即检查各项期限，逾期的发出事件（服务也每小时自行检查）(authority)",
)
async def scan_deadlines(
    request: Request, policy: PolicyDep, calendar: CalendarDep, who: AuthorityDep, now: NowDep
) -> dict[str, int]:
    fired = await handlers.scan_deadlines(
        request.app.state.runtime.new_uow, policy, calendar, today=today_in_shanghai(now), scope=who.scope
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


class DecisionIn(BaseModel):
    approve: bool
    comment: str = Field(default="", max_length=5000)
    approval_number: str | None = Field(default=None, max_length=100, description="重新立项的批复文号")


@changes.post(
    "/{change_id}/decision",
    response_model=views.ChangeOut,
    responses=COMMAND,
    summary="审批变更 (authority；bayingolin §22 另须 finance)",
)
async def decide_change(change_id: str, body: DecisionIn, uow: UowDep, who: DeciderDep, now: NowDep) -> Any:
    role = "finance" if who.role is Role.FINANCE else "authority"
    return await handlers.decide_change(
        uow,
        change_id,
        who.scope,
        role=role,
        approve=body.approve,
        comment=body.comment,
        approval_number=body.approval_number,
        by=who.sub,
        at=now,
    )


# -- firms ------------------------------------------------------------------------------------------


class FirmIn(BaseModel):
    name: str = Field(min_length=2, max_length=200)
    blacklisted: bool
    reason: str = Field(default="", max_length=2000, description="列入失信名单的原因")


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
    policy: PolicyDep,
    who: AuthorityDep,
    now: NowDep,
) -> Any:
    if jurisdiction not in policy:
        raise Problem(422, "unknown_jurisdiction", "辖区代码无效", f"未知辖区 {jurisdiction}")
    who.check_jurisdiction(jurisdiction)
    return await handlers.set_firm(
        uow,
        policy,
        jurisdiction,
        credit_code,
        name=body.name,
        blacklisted=body.blacklisted,
        reason=body.reason,
        at=now,
    )


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
