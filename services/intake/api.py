"""Intake's HTTP API: agencies, declarations and their materials, screening, plans and approval."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated, Any, cast

from fastapi import APIRouter, Depends, File, Form, Path, Query, Request, Response, UploadFile, status
from fastapi.exceptions import RequestValidationError
from fastapi.responses import FileResponse
from pydantic import BaseModel, ConfigDict, Field, ValidationError, create_model

from services.intake import handlers, views
from services.intake.db import IntakeUnitOfWork
from services.intake.domain import (
    AgencyNotFound,
    AgencyNotRegistered,
    ApprovalRefused,
    DeclarationRefused,
    FundingSource,
    IntakeError,
    InvalidDeclaration,
    InvalidTransition,
    MaterialNotAccepted,
    PlanError,
    ProjectKind,
    ProjectNature,
    ProjectNotFound,
    ProjectStatus,
)
from services.intake.domain import Declaration as DeclarationData
from services.intake.screening import AgencyLevel, Deployment
from services.intake.storage import MaterialContentRefused, MaterialStore, MaterialTooLarge
from shared.auth import Principal, Role, require
from shared.deps import IdempotencyKey, NowDep, PolicyDep, unit_of_work
from shared.money import Fen, PositiveFen
from shared.pagination import Page, PageDep
from shared.policy import PolicyRegistry
from shared.problems import COMMAND, NOT_FOUND, Problem, problem_responses

ERRORS: dict[type[Exception], int] = {
    ProjectNotFound: 404,
    AgencyNotFound: 404,
    InvalidTransition: 409,
    DeclarationRefused: 422,
    ApprovalRefused: 422,
    AgencyNotRegistered: 422,
    MaterialNotAccepted: 422,
    MaterialTooLarge: 413,
    MaterialContentRefused: 415,
    PlanError: 422,
    InvalidDeclaration: 422,
    IntakeError: 422,
}

UowDep = Annotated[IntakeUnitOfWork, Depends(unit_of_work(IntakeUnitOfWork))]
YearPath = Annotated[int, Path(ge=2000, le=2100, description="计划年度")]
JurisdictionPath = Annotated[str, Path(description="辖区代码", examples=["zhonglou"])]

# Who may read: the agency (its own), the authority, finance and audit; experts see only
# the cases assigned to them, in the review service.
ReaderDep = Annotated[Principal, require(Role.APPLICANT, Role.AUTHORITY, Role.FINANCE, Role.AUDITOR)]
ApplicantDep = Annotated[Principal, require(Role.APPLICANT)]
AuthorityDep = Annotated[Principal, require(Role.AUTHORITY)]


def _store(request: Request) -> MaterialStore:
    store: MaterialStore = request.app.state.materials
    return store


StoreDep = Annotated[MaterialStore, Depends(_store)]


def _known(policy: PolicyRegistry, jurisdiction: str) -> str:
    if jurisdiction not in policy:
        raise Problem(
            422, "unknown_jurisdiction", "辖区代码无效", f"未知辖区 {jurisdiction}", known=list(policy.codes)
        )
    return jurisdiction


# -- agencies -------------------------------------------------------------------------------------

agencies = APIRouter(prefix="/agencies", tags=["agencies"])


class RegisterAgencyIn(BaseModel):
    jurisdiction: str = Field(description="辖区代码", examples=["zhonglou"])
    name: str = Field(min_length=2, max_length=128, description="单位名称，与申报令牌的 agency 一致")
    level: AgencyLevel = Field(description="单位层级: prefecture/city/district/county/township")
    parent: str | None = Field(default=None, max_length=128, description="上级主管部门")


class AgencyDutiesIn(BaseModel):
    duties_unmet: bool = Field(
        description="未按时按要求完成迁移整合或违反政务信息资源共享管理办法 (zhonglou §8)"
    )
    duties_note: str = Field(default="", max_length=2000)


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
    body: RegisterAgencyIn, uow: UowDep, policy: PolicyDep, response: Response, who: AuthorityDep, now: NowDep
) -> Any:
    agency, created = await handlers.register_agency(
        uow,
        jurisdiction=who.check_jurisdiction(_known(policy, body.jurisdiction)),
        name=body.name,
        level=body.level,
        parent=body.parent,
        at=now,
    )
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
async def set_agency_duties(agency_id: str, body: AgencyDutiesIn, uow: UowDep, who: AuthorityDep) -> Any:
    return await handlers.set_agency_duties(
        uow, agency_id, who.scope, unmet=body.duties_unmet, note=body.duties_note
    )


# -- declarations -------------------------------------------------------------------------------

router = APIRouter(prefix="/projects", tags=["projects"])


class DeclarationFields(BaseModel):
    title: str = Field(min_length=2, max_length=200)
    kind: ProjectKind = Field(description="construction 建设类, operation 运维类, service 服务类")
    amount_fen: Fen = Field(description="投资估算（分）")
    classified: bool = Field(default=False, description="涉密项目")
    nature: ProjectNature = Field(default=ProjectNature.NEW, description="建设性质: 新建/续建/改建/扩建/升级")
    software_fen: Fen = Field(default=0, description="软件开发部分估算（分）")
    packaged_software: bool = Field(default=False, description="采购成品软件")
    simple: bool = Field(default=False, description="建设内容单一、技术方案简单 (lhasa §10)")
    summary: str = Field(default="", max_length=20000, description="主要建设内容")
    deployment: Deployment = Field(
        default=Deployment.GOV_CLOUD, description="部署: 政务云/政务外网/其他/自建机房"
    )
    deployment_explanation: str = Field(
        default="", max_length=5000, description="未部署在政务云或政务外网的情况说明"
    )
    xinchuang_compatible: bool = Field(default=True, description="支持信创适配")
    shares_data_with_platform: bool = Field(default=True, description="向政务数据共享交换平台提供数据")
    assigned_from_above: bool = Field(default=False, description="上级条线配发项目")
    data_sharing_items: list[str] = Field(default_factory=list, max_length=500, description="共享数据清单")
    security_plan: str = Field(default="", max_length=20000, description="网络安全解决方案概要")
    off_plan: bool = Field(default=False, description="计划外紧急项目")
    off_plan_reason: str = Field(default="", max_length=5000)
    funding_source: FundingSource = Field(
        default=FundingSource.LOCAL, description="local 本级, upper_level 上级统筹拨付"
    )
    upper_approval_ref: str = Field(default="", max_length=128, description="上级批复或资金下达文号")
    predecessor_id: str | None = Field(
        default=None, max_length=64, description="升级、扩建或运维所针对的原项目"
    )
    predecessor_acceptance_ref: str = Field(
        default="", max_length=128, description="原系统不在本系统中时，其竣工验收文号（由主管部门核实）"
    )
    requested_plan_year: int | None = Field(
        default=None, ge=2000, le=2100, description="申报的计划年度，默认下一年"
    )


class DeclareProjectIn(DeclarationFields):
    jurisdiction: str = Field(
        description="辖区代码: zhonglou, shexian, bayingolin, xunyang, lhasa", examples=["zhonglou"]
    )


# PATCH body: any subset of the declaration's fields (OpenAPI shows them all as optional).
_OPTIONAL: dict[str, Any] = {
    name: (cast(Any, f.annotation) | None, Field(default=None, description=f.description))
    for name, f in DeclarationFields.model_fields.items()
}
UpdateProjectIn: type[BaseModel] = create_model(
    "UpdateProjectIn",
    __doc__="修改草稿：只提交要改的字段",
    __config__=ConfigDict(extra="forbid"),
    **_OPTIONAL,
)
# What DeclarationFields needs to validate a partial update; these values themselves are never kept.
_REQUIRED_PLACEHOLDERS = {"title": "--", "kind": ProjectKind.SERVICE, "amount_fen": 0}


class ReasonIn(BaseModel):
    reason: str = Field(min_length=2, max_length=2000)


class SignoffIn(BaseModel):
    signoff: str = Field(pattern=r"^[a-z_]+$", description="见项目的 required_signoffs")
    document_ref: str = Field(min_length=2, max_length=128, description="审核意见或批文文号")


class ApproveProjectIn(BaseModel):
    approval_number: str = Field(min_length=2, max_length=128, description="批复文号")
    approved_amount_fen: PositiveFen = Field(description="批复金额（分）")
    approved_scope: str = Field(
        default="", max_length=20000, description="批复建设内容，默认为申报的建设内容"
    )


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
    body: DeclareProjectIn,
    uow: UowDep,
    policy: PolicyDep,
    response: Response,
    who: ApplicantDep,
    now: NowDep,
    idempotency_key: IdempotencyKey = None,
) -> Any:
    if who.agency is None:
        raise Problem(403, "agency_required", "申报须以建设单位身份进行", "令牌缺少 agency 声明")
    fields = body.model_dump(exclude={"jurisdiction"})
    project, created = await handlers.create_draft(
        uow,
        handlers.DraftProject(
            jurisdiction=who.check_jurisdiction(_known(policy, body.jurisdiction)),
            agency=who.agency,
            by=who.sub,
            declaration=DeclarationData(**fields),
            idempotency_key=idempotency_key,
        ),
        at=now,
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return project


@router.patch(
    "/{project_id}", response_model=views.ProjectOut, responses=COMMAND, summary="修改申报草稿 (applicant)"
)
async def update_project(
    project_id: str,
    body: UpdateProjectIn,
    uow: UowDep,
    who: ApplicantDep,
    now: NowDep,
) -> Any:
    given = body.model_dump(exclude_unset=True)
    nullable = {"predecessor_id", "requested_plan_year"}
    errors = [
        {"loc": ("body", k), "msg": "不能为空", "type": "missing"}
        for k, v in given.items()
        if v is None and k not in nullable
    ]
    if errors:
        raise RequestValidationError(errors)
    try:
        checked = DeclarationFields.model_validate({**_REQUIRED_PLACEHOLDERS, **given})
    except ValidationError as exc:
        raise RequestValidationError([{**e, "loc": ("body", *e["loc"])} for e in exc.errors()]) from exc
    changes = checked.model_dump(include=set(given))
    return await handlers.update_draft(uow, project_id, who.scope, changes, by=who.sub, at=now)


@router.post(
    "/{project_id}/submission",
    response_model=views.ProjectOut,
    responses=COMMAND,
    summary="提交申报 (applicant)",
)
async def submit_project(
    project_id: str, uow: UowDep, policy: PolicyDep, who: ApplicantDep, now: NowDep
) -> Any:
    return await handlers.submit(uow, project_id, who.scope, policy, by=who.sub, at=now)


@router.post(
    "/{project_id}/materials",
    status_code=201,
    response_model=views.MaterialOut,
    responses={**COMMAND, **problem_responses(413, 415)},
    summary="上传申报材料 (applicant)",
)
async def upload_material(
    project_id: str,
    material: Annotated[str, Form(pattern=r"^[a-z_]+$", description="材料类型，见项目的 required_materials")],
    file: Annotated[UploadFile, File(description="材料文件：PDF、OFD、Word、WPS、Excel、图片或 ZIP")],
    uow: UowDep,
    policy: PolicyDep,
    store: StoreDep,
    who: ApplicantDep,
    now: NowDep,
) -> Any:
    async def chunks() -> AsyncIterator[bytes]:
        while chunk := await file.read(1024 * 1024):
            yield chunk

    return await handlers.upload_material(
        uow,
        store,
        policy,
        project_id=project_id,
        scope=who.scope,
        material=material,
        filename=file.filename or "",
        chunks=chunks(),
        by=who.sub,
        at=now,
    )


@router.get(
    "/{project_id}/materials/{material_id}",
    summary="下载申报材料",
    response_class=FileResponse,
    responses={
        200: {
            "description": "材料文件，内容类型按上传时文件内容识别",
            "content": {"*/*": {"schema": {"type": "string", "format": "binary"}}},
        },
        **NOT_FOUND,
    },
)
async def download_material(
    project_id: str, material_id: str, uow: UowDep, principal: ReaderDep, store: StoreDep
) -> FileResponse:
    async with uow:
        item = await views.material_of(uow.session, principal, project_id, material_id)
    if item is None:
        raise ProjectNotFound(f"项目 {project_id} 没有材料 {material_id}")
    return FileResponse(store.path_of(item.sha256), media_type=item.content_type, filename=item.filename)


@router.post(
    "/{project_id}/withdrawal",
    response_model=views.ProjectOut,
    responses=COMMAND,
    summary="撤回申报 (applicant)",
)
async def withdraw_project(
    project_id: str, body: ReasonIn, uow: UowDep, who: ApplicantDep, now: NowDep
) -> Any:
    return await handlers.withdraw(uow, project_id, who.scope, reason=body.reason, by=who.sub, at=now)


@router.get("", response_model=Page[views.ProjectOut], summary="项目列表（申报单位只见本单位项目）")
async def list_projects(
    uow: UowDep,
    principal: ReaderDep,
    page: PageDep,
    status: ProjectStatus | None = None,
    jurisdiction: str | None = None,
    agency: str | None = None,
    kind: ProjectKind | None = None,
    plan_year: Annotated[int | None, Query(ge=2000, le=2100)] = None,
) -> Page[views.ProjectOut]:
    if jurisdiction is not None:
        principal.check_jurisdiction(jurisdiction)
    async with uow:
        return await views.list_projects(
            uow.session,
            principal,
            page,
            status=status,
            jurisdiction=jurisdiction,
            agency=agency,
            kind=kind,
            plan_year=plan_year,
        )


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
    project_id: str, uow: UowDep, policy: PolicyDep, who: AuthorityDep, now: NowDep
) -> Any:
    return await handlers.screen(uow, project_id, who.scope, policy, by=who.sub, at=now)


@router.post(
    "/{project_id}/signoffs",
    status_code=201,
    response_model=views.SignoffOut,
    responses=COMMAND,
    summary="记录上级审核或政府审定 (authority)",
)
async def record_signoff(
    project_id: str, body: SignoffIn, uow: UowDep, policy: PolicyDep, who: AuthorityDep, now: NowDep
) -> Any:
    return await handlers.record_signoff(
        uow,
        project_id,
        who.scope,
        policy,
        signoff=body.signoff,
        document_ref=body.document_ref,
        by=who.sub,
        at=now,
    )


@router.post(
    "/{project_id}/approval",
    response_model=views.ProjectOut,
    responses=COMMAND,
    summary="批复项目 (authority)",
)
async def approve_project(
    project_id: str, body: ApproveProjectIn, uow: UowDep, policy: PolicyDep, who: AuthorityDep, now: NowDep
) -> Any:
    return await handlers.approve(
        uow,
        project_id,
        who.scope,
        policy,
        approval_number=body.approval_number,
        approved_amount_fen=body.approved_amount_fen,
        approved_scope=body.approved_scope,
        by=who.sub,
        at=now,
    )


@router.post(
    "/{project_id}/rejection",
    response_model=views.ProjectOut,
    responses=COMMAND,
    summary="不予批复 (authority)",
)
async def reject_project(project_id: str, body: ReasonIn, uow: UowDep, who: AuthorityDep, now: NowDep) -> Any:
    return await handlers.reject(uow, project_id, who.scope, reason=body.reason, by=who.sub, at=now)


# -- annual plans ---------------------------------------------------------------------------------

plans = APIRouter(prefix="/plans", tags=["plans"])


class RankingIn(BaseModel):
    ranking: list[str] = Field(max_length=2000, description="按优先顺序排列的项目 id")


class PublishPlanIn(BaseModel):
    document: str = Field(min_length=2, max_length=128, description="年度计划下达文号")


@plans.put(
    "/{jurisdiction}/{year}",
    response_model=views.PlanOut,
    responses=problem_responses(409),
    summary="年度计划排序 (authority)",
)
async def rank_plan(
    jurisdiction: JurisdictionPath,
    year: YearPath,
    body: RankingIn,
    uow: UowDep,
    policy: PolicyDep,
    who: AuthorityDep,
    now: NowDep,
) -> views.PlanOut:
    who.check_jurisdiction(_known(policy, jurisdiction))
    await handlers.set_plan(uow, jurisdiction, year, body.ranking, policy, at=now)
    return await _plan(uow, who, jurisdiction, year)


@plans.post(
    "/{jurisdiction}/{year}/publication",
    response_model=views.PlanOut,
    responses=problem_responses(409),
    summary="下达年度计划 (authority)",
)
async def publish_plan(
    jurisdiction: JurisdictionPath,
    year: YearPath,
    body: PublishPlanIn,
    uow: UowDep,
    policy: PolicyDep,
    who: AuthorityDep,
    now: NowDep,
) -> views.PlanOut:
    who.check_jurisdiction(_known(policy, jurisdiction))
    await handlers.publish_plan(uow, jurisdiction, year, body.document, policy, by=who.sub, at=now)
    return await _plan(uow, who, jurisdiction, year)


@plans.get("/{jurisdiction}/{year}", response_model=views.PlanOut, responses=NOT_FOUND, summary="年度计划")
async def get_plan(
    jurisdiction: JurisdictionPath, year: YearPath, uow: UowDep, principal: ReaderDep
) -> views.PlanOut:
    principal.check_jurisdiction(jurisdiction)
    return await _plan(uow, principal, jurisdiction, year)


async def _plan(uow: IntakeUnitOfWork, principal: Principal, jurisdiction: str, year: int) -> views.PlanOut:
    async with uow:
        plan = await views.get_plan(uow.session, principal, jurisdiction, year)
    if plan is None:
        raise Problem(404, "plan_not_found", "年度计划不存在", f"{jurisdiction} 尚无 {year} 年度计划")
    return plan
