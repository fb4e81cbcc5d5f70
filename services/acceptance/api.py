"""Acceptance's HTTP API: the agency records 初验, trial run, reports and applies; the authority
confirms data sharing, admits and (where no panel does) concludes the final acceptance."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from pydantic import BaseModel, Field

from services.acceptance import handlers, rules, views
from services.acceptance.db import AcceptanceUnitOfWork
from services.acceptance.domain import (
    AcceptanceError,
    EvaluationNotFound,
    InvalidState,
    Project,
    ProjectNotFound,
    RuleViolation,
    Status,
)
from shared.auth import Principal, Role, require
from shared.deps import CalendarDep, NowDep, PolicyDep, unit_of_work
from shared.pagination import Page, PageDep
from shared.problems import COMMAND, NOT_FOUND
from shared.workdays import today_in_shanghai

ERRORS: dict[type[Exception], int] = {
    ProjectNotFound: 404,
    EvaluationNotFound: 404,
    InvalidState: 409,
    RuleViolation: 409,
    AcceptanceError: 422,
}

UowDep = Annotated[AcceptanceUnitOfWork, Depends(unit_of_work(AcceptanceUnitOfWork))]
ReaderDep = Annotated[Principal, require(Role.APPLICANT, Role.AUTHORITY, Role.FINANCE, Role.AUDITOR)]
ApplicantDep = Annotated[Principal, require(Role.APPLICANT)]
AuthorityDep = Annotated[Principal, require(Role.AUTHORITY)]
ActorDep = Annotated[Principal, require(Role.APPLICANT, Role.AUTHORITY)]


projects = APIRouter(prefix="/projects", tags=["projects"])


def _detail(request: Request, project: Project) -> views.ProjectDetail:
    policy, calendar = request.app.state.policy, request.app.state.calendar
    today = today_in_shanghai(request.app.state.clock())
    return views.ProjectDetail(
        **{
            name: getattr(project, name)
            for name in views.ProjectDetail.model_fields
            if hasattr(project, name)
        },
        required_materials=rules.required_materials(policy, project.jurisdiction, project.kind),
        deadlines=[views.DeadlineOut(**d) for d in handlers.deadlines(policy, calendar, project, today)],
    )


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
    summary="项目验收详情：初验、试运行、数据共享、申请与结论、评价，以及各项期限（含条款）",
)
async def get_project(project_id: str, request: Request, uow: UowDep, who: ReaderDep) -> Any:
    async with uow:
        project = await uow.projects.get(project_id)
    if project is None or not who.may_see(project.jurisdiction, project.agency):
        raise ProjectNotFound(f"项目 {project_id} 不存在")
    return _detail(request, project)


class InitialIn(BaseModel):
    held_on: dt.date = Field(description="初验日期")
    passed: bool
    findings: str = Field(min_length=2, max_length=20000, description="初验意见")


@projects.post(
    "/{project_id}/initial-acceptance",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="登记初验 (applicant)",
)
async def record_initial(
    project_id: str,
    body: InitialIn,
    request: Request,
    uow: UowDep,
    policy: PolicyDep,
    calendar: CalendarDep,
    who: ApplicantDep,
    now: NowDep,
) -> Any:
    project = await handlers.record_initial(
        uow,
        policy,
        calendar,
        project_id,
        who.scope,
        **body.model_dump(),
        by=who.sub,
        today=today_in_shanghai(now),
    )
    return _detail(request, project)


class TrialIn(BaseModel):
    started_on: dt.date | None = Field(default=None, description="试运行开始")
    ended_on: dt.date | None = Field(default=None, description="试运行结束")


@projects.post(
    "/{project_id}/trial-run",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="登记试运行开始或结束 (applicant)",
)
async def trial_run(
    project_id: str,
    body: TrialIn,
    request: Request,
    uow: UowDep,
    policy: PolicyDep,
    who: ApplicantDep,
    now: NowDep,
) -> Any:
    if body.started_on is None and body.ended_on is None:
        raise AcceptanceError("请给出试运行开始或结束日期")
    project = await handlers.trial_run(
        uow,
        policy,
        project_id,
        who.scope,
        started_on=body.started_on,
        ended_on=body.ended_on,
        today=today_in_shanghai(now),
    )
    return _detail(request, project)


class DataSharingIn(BaseModel):
    catalogue: list[str] = Field(min_length=1, max_length=500, description="数据资源目录")
    items: list[str] = Field(default_factory=list, max_length=500, description="共享的数据项")


class DataSharingDecisionIn(BaseModel):
    decision: Literal["confirmed", "refused", "revoked"]
    duplicate_collection: bool = Field(default=False, description="存在重复采集数据")
    reason: str = Field(default="", max_length=5000)


@projects.post(
    "/{project_id}/data-sharing",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="提交数据资源目录和共享清单，待主管部门确认 (applicant)",
)
async def submit_data_sharing(
    project_id: str, body: DataSharingIn, request: Request, uow: UowDep, who: ApplicantDep, now: NowDep
) -> Any:
    project = await handlers.submit_data_sharing(
        uow, project_id, who.scope, catalogue=body.catalogue, items=body.items, by=who.sub, at=now
    )
    return _detail(request, project)


@projects.post(
    "/{project_id}/data-sharing/decision",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="数据共享确认、不予确认或撤销确认 (authority; shexian §39, §44(一))",
)
async def decide_data_sharing(
    project_id: str,
    body: DataSharingDecisionIn,
    request: Request,
    uow: UowDep,
    policy: PolicyDep,
    who: AuthorityDep,
    now: NowDep,
) -> Any:
    project = await handlers.decide_data_sharing(
        uow, policy, project_id, who.scope, **body.model_dump(), by=who.sub, at=now
    )
    return _detail(request, project)


class AttestationIn(BaseModel):
    attestation: Literal["mlps", "crypto"] = Field(description="mlps 等保测评, crypto 密码应用安全性评估")
    compliant: bool
    reference: str = Field(min_length=2, max_length=200, description="测评报告编号")
    issued_on: dt.date
    valid_until: dt.date | None = Field(default=None, description="有效期至")


@projects.post(
    "/{project_id}/attestations",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="登记等保测评或密评结果",
)
async def attest(
    project_id: str, body: AttestationIn, request: Request, uow: UowDep, policy: PolicyDep, who: ActorDep
) -> Any:
    project = await handlers.attest(uow, policy, project_id, who.scope, **body.model_dump(), by=who.sub)
    return _detail(request, project)


class AuditReportIn(BaseModel):
    reference: str = Field(min_length=2, max_length=200, description="审计报告文号")
    issued_on: dt.date
    auditor: str = Field(default="", max_length=200, description="审计机构")


@projects.post(
    "/{project_id}/audit-report",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="报送审计报告 (xunyang §20)",
)
async def file_audit_report(
    project_id: str, body: AuditReportIn, request: Request, uow: UowDep, who: ActorDep
) -> Any:
    project = await handlers.file_audit_report(uow, project_id, who.scope, **body.model_dump(), by=who.sub)
    return _detail(request, project)


class DelayIn(BaseModel):
    until: dt.date = Field(description="申请延期至")
    reason: str = Field(min_length=2, max_length=5000)


class DelayDecisionIn(BaseModel):
    approve: bool
    comment: str = Field(default="", max_length=5000)


@projects.post(
    "/{project_id}/acceptance-delay",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="延期验收申请 (applicant; shexian §39)",
)
async def request_delay(
    project_id: str, body: DelayIn, request: Request, uow: UowDep, policy: PolicyDep, who: ApplicantDep
) -> Any:
    project = await handlers.request_delay(
        uow, policy, project_id, who.scope, until=body.until, reason=body.reason, by=who.sub
    )
    return _detail(request, project)


@projects.post(
    "/{project_id}/acceptance-delay/decision",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="审批延期验收申请 (authority)",
)
async def decide_delay(
    project_id: str, body: DelayDecisionIn, request: Request, uow: UowDep, who: AuthorityDep
) -> Any:
    project = await handlers.decide_delay(
        uow, project_id, who.scope, approve=body.approve, comment=body.comment, by=who.sub
    )
    return _detail(request, project)


class ApplicationIn(BaseModel):
    materials: dict[str, str] = Field(
        default_factory=dict,
        description="验收材料：材料代码 → 文号或文件引用（见项目详情 required_materials）",
    )
    archives_accepted: bool = Field(
        default=False,
        deprecated=True,
        description="不再采用：档案验收以其意见文号证明，请在 materials.archives_acceptance 中填写 "
        "(shexian §41, bayingolin §25)",
    )


@projects.post(
    "/{project_id}/final-acceptance/application",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="申请终验 (applicant)；不符合条件的一次列明全部理由",
)
async def apply(
    project_id: str,
    body: ApplicationIn,
    request: Request,
    uow: UowDep,
    policy: PolicyDep,
    calendar: CalendarDep,
    who: ApplicantDep,
    now: NowDep,
) -> Any:
    project = await handlers.apply(
        uow,
        policy,
        calendar,
        project_id,
        who.scope,
        materials=body.materials,
        by=who.sub,
        at=now,
    )
    return _detail(request, project)


class AdmissionIn(BaseModel):
    admit: bool
    reason: str = Field(default="", max_length=5000, description="退回理由")


@projects.post(
    "/{project_id}/final-acceptance/admission",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="受理或退回终验申请 (authority; bayingolin §26)；受理后由评审服务抽选专家",
)
async def admit(
    project_id: str, body: AdmissionIn, request: Request, uow: UowDep, policy: PolicyDep, who: AuthorityDep
) -> Any:
    project = await handlers.admit(
        uow, policy, project_id, who.scope, admit=body.admit, reason=body.reason, by=who.sub
    )
    return _detail(request, project)


class ConclusionIn(BaseModel):
    passed: bool
    rectification_items: list[str] = Field(default_factory=list, max_length=200, description="整改事项")
    rectification_due: dt.date | None = Field(default=None, description="整改期限")


@projects.post(
    "/{project_id}/final-acceptance/conclusion",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="登记终验结论 (authority；由专家组评审的辖区随评审结论自动登记)",
)
async def conclude(
    project_id: str,
    body: ConclusionIn,
    request: Request,
    uow: UowDep,
    policy: PolicyDep,
    calendar: CalendarDep,
    who: AuthorityDep,
    now: NowDep,
) -> Any:
    project = await handlers.conclude(
        uow,
        policy,
        calendar,
        project_id,
        who.scope,
        passed=body.passed,
        items=body.rectification_items,
        rectification_due=body.rectification_due,
        by=who.sub,
        at=now,
    )
    return _detail(request, project)


class RectificationIn(BaseModel):
    items: list[str] = Field(min_length=1, max_length=200)
    due_on: dt.date


@projects.put(
    "/{project_id}/final-acceptance/rectification",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="验收未通过的整改事项和期限 (authority; zhonglou §19, bayingolin §25)",
)
async def order_rectification(
    project_id: str, body: RectificationIn, request: Request, uow: UowDep, who: AuthorityDep
) -> Any:
    project = await handlers.order_rectification(
        uow, project_id, who.scope, items=body.items, due_on=body.due_on
    )
    return _detail(request, project)


class ReportIn(BaseModel):
    reference: str = Field(min_length=2, max_length=200, description="验收报告文号")


@projects.post(
    "/{project_id}/acceptance-report",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="验收报告备案 (applicant; bayingolin §29 七个工作日内)",
)
async def file_report(
    project_id: str,
    body: ReportIn,
    request: Request,
    uow: UowDep,
    policy: PolicyDep,
    who: ApplicantDep,
    now: NowDep,
) -> Any:
    project = await handlers.file_report(
        uow, policy, project_id, who.scope, reference=body.reference, by=who.sub, at=now
    )
    return _detail(request, project)


class EvaluationIn(BaseModel):
    evaluation: Literal["self", "post", "first_year"] = Field(
        description="self 绩效自评 (zhonglou §20), post 后评价 (shexian §43, lhasa §22), "
        "first_year 验收一年后的项目评价 (bayingolin §31)"
    )
    period: str | None = Field(default=None, max_length=16, description="评价年度等")
    serious_problems: list[str] = Field(default_factory=list, max_length=200, description="发现的严重问题")
    rectified: bool = Field(default=False, description="严重问题已整改到位")
    rectification_due: dt.date | None = Field(default=None, description="整改期限")
    summary: str = Field(min_length=2, max_length=20000)


@projects.post(
    "/{project_id}/evaluations",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="登记绩效自评或后评价",
)
async def record_evaluation(
    project_id: str,
    body: EvaluationIn,
    request: Request,
    uow: UowDep,
    policy: PolicyDep,
    calendar: CalendarDep,
    who: ActorDep,
    now: NowDep,
) -> Any:
    project, _ = await handlers.record_evaluation(
        uow, policy, calendar, project_id, who.scope, **body.model_dump(), by=who.sub, at=now
    )
    return _detail(request, project)


@projects.post(
    "/{project_id}/evaluations/{evaluation_id}/rectification",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="确认评价发现的问题已整改到位 (authority; zhonglou §21)",
)
async def rectify_evaluation(
    project_id: str,
    evaluation_id: str,
    request: Request,
    uow: UowDep,
    policy: PolicyDep,
    who: AuthorityDep,
    now: NowDep,
) -> Any:
    project = await handlers.rectify_evaluation(
        uow, policy, project_id, who.scope, evaluation_id, by=who.sub, at=now
    )
    return _detail(request, project)


@projects.post(
    "/evaluation-scan",
    summary="立即检查后评价是否到期，到期的发出事件（服务也每小时自行检查）(authority)",
)
async def scan(
    request: Request, policy: PolicyDep, calendar: CalendarDep, who: AuthorityDep, now: NowDep
) -> dict[str, int]:
    fired = await handlers.scan(
        request.app.state.runtime.new_uow, policy, calendar, today=today_in_shanghai(now), scope=who.scope
    )
    return {"due": fired}
