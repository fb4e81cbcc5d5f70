"""Acceptance's HTTP API: the agency records 初验, trial run, reports and applies; the authority
confirms data sharing, admits and (where no panel does) concludes the final acceptance."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request

from services.acceptance import commands as c
from services.acceptance import handlers, views
from services.acceptance.db import AcceptanceUnitOfWork
from services.acceptance.domain import (
    AcceptanceError,
    EvaluationNotFound,
    InvalidState,
    ProjectNotFound,
    RuleViolation,
    Status,
)
from services.acceptance.schemas import (
    AdmissionIn,
    ApplicationIn,
    AttestationIn,
    AuditReportIn,
    ConclusionIn,
    DataSharingDecisionIn,
    DataSharingIn,
    DelayDecisionIn,
    DelayIn,
    EvaluationIn,
    InitialIn,
    RectificationIn,
    ReportIn,
    TrialIn,
)
from shared.auth import Principal, Role, require
from shared.deps import ContextDep, unit_of_work
from shared.pagination import Page, PageDep
from shared.problems import COMMAND, NOT_FOUND

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
async def get_project(project_id: str, uow: UowDep, who: ReaderDep, ctx: ContextDep) -> Any:
    return await views.project_detail(uow, who, project_id, ctx)


@projects.post(
    "/{project_id}/initial-acceptance",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="登记初验 (applicant)",
)
async def record_initial(
    project_id: str, body: InitialIn, uow: UowDep, ctx: ContextDep, who: ApplicantDep
) -> Any:
    cmd = c.RecordInitial(project_id, who.sub, who.scope, body.held_on, body.passed, body.findings)
    return views.detail(await handlers.record_initial(uow, cmd, ctx), ctx)


@projects.post(
    "/{project_id}/trial-run",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="登记试运行开始或结束 (applicant)",
)
async def trial_run(project_id: str, body: TrialIn, uow: UowDep, ctx: ContextDep, who: ApplicantDep) -> Any:
    if body.started_on is None and body.ended_on is None:
        raise AcceptanceError("请给出试运行开始或结束日期")
    cmd = c.RecordTrialRun(project_id, who.sub, who.scope, body.started_on, body.ended_on)
    return views.detail(await handlers.trial_run(uow, cmd, ctx), ctx)


@projects.post(
    "/{project_id}/data-sharing",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="提交数据资源目录和共享清单，待主管部门确认 (applicant)",
)
async def submit_data_sharing(
    project_id: str, body: DataSharingIn, uow: UowDep, ctx: ContextDep, who: ApplicantDep
) -> Any:
    cmd = c.SubmitDataSharing(project_id, who.sub, who.scope, tuple(body.catalogue), tuple(body.items))
    return views.detail(await handlers.submit_data_sharing(uow, cmd, ctx), ctx)


@projects.post(
    "/{project_id}/data-sharing/decision",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="数据共享确认、不予确认或撤销确认 (authority; shexian §39, §44(一))",
)
async def decide_data_sharing(
    project_id: str, body: DataSharingDecisionIn, uow: UowDep, ctx: ContextDep, who: AuthorityDep
) -> Any:
    cmd = c.DecideDataSharing(
        project_id, who.sub, who.scope, body.decision, body.duplicate_collection, body.reason
    )
    return views.detail(await handlers.decide_data_sharing(uow, cmd, ctx), ctx)


@projects.post(
    "/{project_id}/attestations",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="登记等保测评、密评结果，或涉密信息系统的保密测评、保密审查结果 (shexian §42)",
)
async def attest(project_id: str, body: AttestationIn, uow: UowDep, ctx: ContextDep, who: ActorDep) -> Any:
    cmd = c.Attest(project_id, who.sub, who.scope, **body.model_dump())
    return views.detail(await handlers.attest(uow, cmd, ctx), ctx)


@projects.post(
    "/{project_id}/audit-report",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="报送审计报告 (xunyang §20)",
)
async def file_audit_report(
    project_id: str, body: AuditReportIn, uow: UowDep, ctx: ContextDep, who: ActorDep
) -> Any:
    cmd = c.FileAuditReport(project_id, who.sub, who.scope, **body.model_dump())
    return views.detail(await handlers.file_audit_report(uow, cmd, ctx), ctx)


@projects.post(
    "/{project_id}/acceptance-delay",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="延期验收申请 (applicant; shexian §39)",
)
async def request_delay(
    project_id: str, body: DelayIn, uow: UowDep, ctx: ContextDep, who: ApplicantDep
) -> Any:
    cmd = c.RequestDelay(project_id, who.sub, who.scope, body.until, body.reason)
    return views.detail(await handlers.request_delay(uow, cmd, ctx), ctx)


@projects.post(
    "/{project_id}/acceptance-delay/decision",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="审批延期验收申请 (authority)",
)
async def decide_delay(
    project_id: str, body: DelayDecisionIn, uow: UowDep, ctx: ContextDep, who: AuthorityDep
) -> Any:
    cmd = c.DecideDelay(project_id, who.sub, who.scope, body.approve, body.comment)
    return views.detail(await handlers.decide_delay(uow, cmd, ctx), ctx)


@projects.post(
    "/{project_id}/final-acceptance/application",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="申请终验 (applicant)；不符合条件的一次列明全部理由",
)
async def apply(project_id: str, body: ApplicationIn, uow: UowDep, ctx: ContextDep, who: ApplicantDep) -> Any:
    cmd = c.Apply(project_id, who.sub, who.scope, dict(body.materials))
    return views.detail(await handlers.apply(uow, cmd, ctx), ctx)


@projects.post(
    "/{project_id}/final-acceptance/admission",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="受理或退回终验申请 (authority; bayingolin §26)；受理后由评审服务抽选专家",
)
async def admit(project_id: str, body: AdmissionIn, uow: UowDep, ctx: ContextDep, who: AuthorityDep) -> Any:
    cmd = c.Admit(project_id, who.sub, who.scope, body.admit, body.reason)
    return views.detail(await handlers.admit(uow, cmd, ctx), ctx)


@projects.post(
    "/{project_id}/final-acceptance/conclusion",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="登记终验结论 (authority；由专家组评审的辖区随评审结论自动登记)",
)
async def conclude(
    project_id: str, body: ConclusionIn, uow: UowDep, ctx: ContextDep, who: AuthorityDep
) -> Any:
    cmd = c.Conclude(
        project_id, who.sub, who.scope, body.passed, tuple(body.rectification_items), body.rectification_due
    )
    return views.detail(await handlers.conclude(uow, cmd, ctx), ctx)


@projects.put(
    "/{project_id}/final-acceptance/rectification",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="验收未通过的整改事项和期限 (authority; zhonglou §19, bayingolin §25)",
)
async def order_rectification(
    project_id: str, body: RectificationIn, uow: UowDep, ctx: ContextDep, who: AuthorityDep
) -> Any:
    cmd = c.OrderRectification(project_id, who.sub, who.scope, tuple(body.items), body.due_on)
    return views.detail(await handlers.order_rectification(uow, cmd, ctx), ctx)


@projects.post(
    "/{project_id}/acceptance-report",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="验收报告备案 (applicant; bayingolin §29 七个工作日内)",
)
async def file_report(
    project_id: str, body: ReportIn, uow: UowDep, ctx: ContextDep, who: ApplicantDep
) -> Any:
    cmd = c.FileReport(project_id, who.sub, who.scope, body.reference)
    return views.detail(await handlers.file_report(uow, cmd, ctx), ctx)


@projects.post(
    "/{project_id}/evaluations",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="登记绩效自评或后评价",
)
async def record_evaluation(
    project_id: str, body: EvaluationIn, uow: UowDep, ctx: ContextDep, who: ActorDep
) -> Any:
    cmd = c.RecordEvaluation(
        project_id,
        who.sub,
        who.scope,
        body.evaluation,
        body.period,
        tuple(body.serious_problems),
        body.rectified,
        body.rectification_due,
        body.summary,
    )
    project, _ = await handlers.record_evaluation(uow, cmd, ctx)
    return views.detail(project, ctx)


@projects.post(
    "/{project_id}/evaluations/{evaluation_id}/rectification",
    response_model=views.ProjectDetail,
    responses=COMMAND,
    summary="确认评价发现的问题已整改到位 (authority; zhonglou §21)",
)
async def rectify_evaluation(
    project_id: str, evaluation_id: str, uow: UowDep, ctx: ContextDep, who: AuthorityDep
) -> Any:
    cmd = c.RectifyEvaluation(project_id, who.sub, who.scope, evaluation_id)
    return views.detail(await handlers.rectify_evaluation(uow, cmd, ctx), ctx)


@projects.post(
    "/evaluation-scan",
    summary="立即检查后评价是否到期，到期的发出事件（服务也每小时自行检查）(authority)",
)
async def scan(request: Request, ctx: ContextDep, who: AuthorityDep) -> dict[str, int]:
    fired = await handlers.scan(request.app.state.runtime.new_uow, c.ScanEvaluations(who.scope), ctx)
    return {"due": fired}
