"""Intake's HTTP API: agencies, declarations and their materials, screening, plans and approval."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Response, status
from fastapi.responses import FileResponse

from services.intake import commands as c
from services.intake import handlers, views
from services.intake import schemas as s
from services.intake.case_file import FILE, material_file
from services.intake.db import IntakeUnitOfWork
from services.intake.domain import (
    AgencyNotFound,
    ApprovalTerms,
    IntakeError,
    InvalidTransition,
    ProjectNotFound,
)
from services.intake.domain import Declaration as DeclarationData
from services.intake.domain.errors import MeasurePremature
from services.intake.domain.screening import AgencyLevel
from services.intake.schemas import (
    ApplicantDep,
    AuthorityActs,
    AuthorityDep,
    ReaderDep,
    StoreDep,
    UowDep,
    UploadDep,
)
from services.intake.schemas import known as _known
from services.intake.storage import MaterialContentRefused, MaterialTooLarge
from shared.auth import Principal
from shared.deps import ContextDep, IdempotencyKey, PolicyDep
from shared.pagination import Page, PageDep
from shared.policy import PolicyRegistry
from shared.problems import COMMAND, NOT_FOUND, Problem, problem_responses

ERRORS: dict[type[Exception], int] = {
    ProjectNotFound: 404,
    AgencyNotFound: 404,
    InvalidTransition: 409,
    MeasurePremature: 409,
    MaterialTooLarge: 413,
    MaterialContentRefused: 415,
    IntakeError: 422,  # every other refusal of the domain (declaration, approval, plan, materials…)
}

YearPath = Annotated[int, Path(ge=2000, le=2100, description="计划年度")]
JurisdictionPath = Annotated[str, Path(description="辖区代码", examples=["zhonglou"])]


# -- agencies -------------------------------------------------------------------------------------

agencies = APIRouter(prefix="/agencies", tags=["agencies"])


@agencies.post(
    "",
    status_code=201,
    response_model=views.AgencyOut,
    responses={
        200: {"model": views.AgencyOut, "description": "已登记过：返回已有的记录"},
        **problem_responses(409),
    },
    summary="登记建设单位 (authority)",
)
async def register_agency(
    body: s.RegisterAgencyIn, uow: UowDep, ctx: ContextDep, response: Response, who: AuthorityDep
) -> Any:
    jurisdiction = who.check_jurisdiction(_known(ctx.policy, body.jurisdiction))
    cmd = c.RegisterAgency(jurisdiction, body.name, body.level, body.parent)
    agency, created = await handlers.register_agency(uow, cmd, ctx)
    if not created:
        response.status_code = status.HTTP_200_OK
    return agency


@agencies.get("", response_model=Page[views.AgencyOut], summary="建设单位列表")
async def list_agencies(
    uow: UowDep,
    principal: ReaderDep,
    page: PageDep,
    jurisdiction: str | None = None,
    level: AgencyLevel | None = None,
) -> Page[views.AgencyOut]:
    if jurisdiction is not None:
        principal.check_jurisdiction(jurisdiction)
    async with uow:
        return await views.list_agencies(
            uow.session, principal, page, jurisdiction=jurisdiction, level=level.value if level else None
        )


@agencies.get(
    "/{agency_id}",
    response_model=views.AgencyDetail,
    responses=NOT_FOUND,
    summary="建设单位详情，含仍有效的申报限制",
)
async def get_agency(agency_id: str, uow: UowDep, principal: ReaderDep) -> views.AgencyDetail:
    async with uow:
        agency = await views.get_agency(uow.session, principal, agency_id)
    if agency is None:
        raise AgencyNotFound(f"建设单位 {agency_id} 不存在")
    return agency


@agencies.patch(
    "/{agency_id}",
    response_model=views.AgencyOut,
    responses=NOT_FOUND,
    summary="记录单位履行迁移整合、数据共享义务情况 (authority)",
)
async def set_agency_duties(
    agency_id: str, body: s.AgencyDutiesIn, uow: UowDep, ctx: ContextDep, who: AuthorityDep
) -> Any:
    cmd = c.SetAgencyDuties(agency_id, who.scope, unmet=body.duties_unmet, note=body.duties_note)
    return await handlers.set_agency_duties(uow, cmd, ctx)


# -- declarations -------------------------------------------------------------------------------

router = APIRouter(prefix="/projects", tags=["projects"])


@router.post(
    "",
    status_code=201,
    response_model=views.ProjectOut,
    responses={
        200: {"model": views.ProjectOut, "description": "同一 Idempotency-Key 的重试：返回已建的草稿"}
    },
    summary="新建申报草稿 (applicant)",
)
async def create_project(
    body: s.DeclareProjectIn,
    uow: UowDep,
    ctx: ContextDep,
    response: Response,
    who: ApplicantDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    if who.agency is None:
        raise Problem(403, "agency_required", "申报须以建设单位身份进行", "令牌缺少 agency 声明")
    fields = body.model_dump(exclude={"jurisdiction"})
    project, created = await handlers.create_draft(
        uow,
        c.DraftProject(
            jurisdiction=who.check_jurisdiction(_known(ctx.policy, body.jurisdiction)),
            agency=who.agency,
            by=who.sub,
            declaration=DeclarationData(**fields),
            idempotency_key=idempotency_key,
        ),
        ctx,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return project


@router.patch(
    "/{project_id}", response_model=views.ProjectOut, responses=COMMAND, summary="修改申报草稿 (applicant)"
)
async def update_project(
    project_id: str, body: s.UpdateProjectIn, uow: UowDep, ctx: ContextDep, who: ApplicantDep
) -> Any:
    cmd = c.UpdateDraft(project_id, who.scope, who.sub, changes=s.changes_of(body))
    return await handlers.update_draft(uow, cmd, ctx)


@router.post(
    "/{project_id}/submission",
    response_model=views.ProjectOut,
    responses=COMMAND,
    summary="提交申报 (applicant)",
)
async def submit_project(project_id: str, uow: UowDep, ctx: ContextDep, who: ApplicantDep) -> Any:
    return await handlers.submit(uow, c.Submit(project_id, who.scope, who.sub), ctx)


@router.post(
    "/{project_id}/materials",
    status_code=201,
    response_model=views.MaterialOut,
    responses={**COMMAND, **problem_responses(413, 415)},
    summary="上传申报材料 (applicant)",
)
async def upload_material(
    project_id: str,
    material: s.MaterialKind,
    file: s.MaterialFile,
    upload: UploadDep,
) -> Any:
    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await file.read(1024 * 1024):
            yield chunk

    who = upload.who
    cmd = c.UploadMaterial(project_id, who.scope, who.sub, material, file.filename or "", chunks())
    return await handlers.upload_material(upload.uow, cmd, upload.ctx, upload.store)


@router.get(
    "/{project_id}/materials/{material_id}",
    summary="下载申报材料",
    response_class=FileResponse,
    responses={**FILE, **NOT_FOUND},
)
async def download_material(
    project_id: str, material_id: str, uow: UowDep, principal: ReaderDep, store: StoreDep
) -> FileResponse:
    return await material_file(uow, principal, store, project_id, material_id)


@router.post(
    "/{project_id}/withdrawal",
    response_model=views.ProjectOut,
    responses=COMMAND,
    summary="撤回申报 (applicant)",
)
async def withdraw_project(
    project_id: str, body: s.ReasonIn, uow: UowDep, ctx: ContextDep, who: ApplicantDep
) -> Any:
    return await handlers.withdraw(uow, c.Withdraw(project_id, who.scope, who.sub, body.reason), ctx)


@router.get("", response_model=Page[views.ProjectOut], summary="项目列表（申报单位只见本单位项目）")
async def list_projects(
    uow: UowDep,
    principal: ReaderDep,
    page: PageDep,
    filters: Annotated[s.ProjectFilter, Query()],
) -> Page[views.ProjectOut]:
    if filters.jurisdiction is not None:
        principal.check_jurisdiction(filters.jurisdiction)
    async with uow:
        return await views.list_projects(uow.session, principal, page, filters)


@router.get(
    "/{project_id}",
    response_model=views.ProjectDetail,
    responses=NOT_FOUND,
    summary="项目详情：材料清单、审核意见与全部决定",
)
async def get_project(
    project_id: str, uow: UowDep, principal: ReaderDep, policy: PolicyDep
) -> views.ProjectDetail:
    async with uow:
        project = await views.get_project(uow.session, principal, project_id, policy)
    if project is None:
        raise ProjectNotFound(f"项目 {project_id} 不存在")
    return project


# -- the authority ----------------------------------------------------------------------------------


@router.post(
    "/{project_id}/screening",
    response_model=views.ProjectOut,
    responses=COMMAND,
    summary="形式审查 (authority)",
)
async def screen_project(
    project_id: str, uow: UowDep, ctx: ContextDep, who: AuthorityDep, body: s.ScreeningIn | None = None
) -> Any:
    made = body.exceptions_by(who.sub) if body else ()
    return await handlers.screen(uow, c.Screen(project_id, who.scope, who.sub, made), ctx)


@router.post(
    "/{project_id}/signoffs",
    status_code=201,
    response_model=views.SignoffOut,
    responses=COMMAND,
    summary="记录上级审核或政府审定 (authority)",
)
async def record_signoff(
    project_id: str, body: s.SignoffIn, uow: UowDep, ctx: ContextDep, who: AuthorityDep
) -> Any:
    cmd = c.RecordSignoff(project_id, who.scope, who.sub, body.signoff, body.document_ref)
    return await handlers.record_signoff(uow, cmd, ctx)


@router.post(
    "/{project_id}/approval",
    response_model=views.ProjectOut,
    responses=COMMAND,
    summary="批复项目 (authority)",
)
async def approve_project(
    project_id: str, body: s.ApproveProjectIn, uow: UowDep, ctx: ContextDep, who: AuthorityDep
) -> Any:
    made = body.exceptions_by(who.sub)
    terms = ApprovalTerms(
        body.approval_number, body.approved_amount_fen, body.approved_scope, exceptions=made
    )
    return await handlers.approve(uow, c.Approve(project_id, who.scope, who.sub, terms), ctx)


@router.post(
    "/{project_id}/rejection",
    response_model=views.ProjectOut,
    responses=COMMAND,
    summary="不予批复 (authority)",
)
async def reject_project(
    project_id: str, body: s.ReasonIn, uow: UowDep, ctx: ContextDep, who: AuthorityDep
) -> Any:
    return await handlers.reject(uow, c.Reject(project_id, who.scope, who.sub, body.reason), ctx)


@router.post(
    "/{project_id}/termination-decision",
    response_model=views.ProjectOut,
    responses=COMMAND,
    summary="对终止建议作出决定：终止、延期或继续实施 (authority; 原则上终止 zhonglou §17、bayingolin §21)",
)
async def decide_termination(
    project_id: str, body: s.TerminationDecisionIn, uow: UowDep, ctx: ContextDep, who: AuthorityDep
) -> Any:
    return await handlers.decide_termination(
        uow, c.DecideTermination(project_id, who.scope, who.sub, **body.model_dump()), ctx
    )


# -- annual plans ---------------------------------------------------------------------------------

plans = APIRouter(prefix="/plans", tags=["plans"])


@plans.put(
    "/{jurisdiction}/{year}",
    response_model=views.PlanOut,
    responses=problem_responses(409),
    summary="年度计划排序 (authority)",
)
async def rank_plan(
    jurisdiction: JurisdictionPath,
    year: YearPath,
    body: s.RankingIn,
    act: AuthorityActs,
) -> views.PlanOut:
    uow, ctx, who = act.uow, act.ctx, act.who
    who.check_jurisdiction(_known(ctx.policy, jurisdiction))
    await handlers.set_plan(uow, c.RankPlan(jurisdiction, year, tuple(body.ranking)), ctx)
    return await _plan(uow, who, jurisdiction, year, ctx.policy)


@plans.post(
    "/{jurisdiction}/{year}/publication",
    response_model=views.PlanOut,
    responses=problem_responses(409),
    summary="下达年度计划 (authority)",
)
async def publish_plan(
    jurisdiction: JurisdictionPath,
    year: YearPath,
    body: s.PublishPlanIn,
    act: AuthorityActs,
) -> views.PlanOut:
    uow, ctx, who = act.uow, act.ctx, act.who
    who.check_jurisdiction(_known(ctx.policy, jurisdiction))
    publication = c.PublishPlan(jurisdiction, year, body.document, who.sub, body.exceptions_by(who.sub))
    await handlers.publish_plan(uow, publication, ctx)
    return await _plan(uow, who, jurisdiction, year, ctx.policy)


@plans.get("/{jurisdiction}/{year}", response_model=views.PlanOut, responses=NOT_FOUND, summary="年度计划")
async def get_plan(
    jurisdiction: JurisdictionPath, year: YearPath, uow: UowDep, principal: ReaderDep, policy: PolicyDep
) -> views.PlanOut:
    principal.check_jurisdiction(jurisdiction)
    return await _plan(uow, principal, jurisdiction, year, policy)


async def _plan(
    uow: IntakeUnitOfWork, principal: Principal, jurisdiction: str, year: int, policy: PolicyRegistry
) -> views.PlanOut:
    async with uow:
        plan = await views.get_plan(uow.session, principal, (jurisdiction, year), policy)
    if plan is None:
        raise Problem(404, "plan_not_found", "年度计划不存在", f"{jurisdiction} 尚无 {year} 年度计划")
    return plan
