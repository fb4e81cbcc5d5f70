"""Intake's HTTP API: projects, declaration and approval."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Response, status
from pydantic import BaseModel, Field

from services.intake import handlers, views
from services.intake.db import IntakeUnitOfWork
from services.intake.domain import (
    IntakeError,
    InvalidDeclaration,
    InvalidTransition,
    ProjectKind,
    ProjectNature,
    ProjectNotFound,
    ProjectStatus,
)
from shared.auth import Principal, Role, require
from shared.deps import IdempotencyKey, PolicyDep, unit_of_work
from shared.money import Fen
from shared.pagination import Page, PageDep
from shared.problems import Problem

ERRORS: dict[type[Exception], int] = {
    ProjectNotFound: 404,
    InvalidTransition: 409,
    InvalidDeclaration: 422,
    IntakeError: 422,
}


UowDep = Annotated[IntakeUnitOfWork, Depends(unit_of_work(IntakeUnitOfWork))]

# Who may read: the agency (its own), the authority, finance and audit; experts see only
# the cases assigned to them, in the review service.
ReaderDep = Annotated[Principal, require(Role.APPLICANT, Role.AUTHORITY, Role.FINANCE, Role.AUDITOR)]

router = APIRouter(prefix="/projects", tags=["projects"])


class DeclareProjectIn(BaseModel):
    jurisdiction: str = Field(description="辖区代码: zhonglou, shexian, bayingolin, xunyang, lhasa")
    title: str = Field(min_length=2, max_length=200)
    kind: ProjectKind
    amount_fen: Fen = Field(description="投资估算（分）")
    classified: bool = Field(default=False, description="涉密项目")
    nature: ProjectNature = Field(default=ProjectNature.NEW, description="建设性质")
    software_fen: Fen = Field(default=0, description="软件开发部分估算（分）")
    packaged_software: bool = Field(default=False, description="采购成品软件")
    simple: bool = Field(default=False, description="建设内容单一、技术方案简单")


class ApproveProjectIn(BaseModel):
    approved_amount_fen: Fen = Field(description="批复金额（分）")
    plan_year: int = Field(ge=2000, le=2100, description="计划年度")


@router.post(
    "", status_code=status.HTTP_201_CREATED, response_model=views.ProjectOut, summary="申报项目 (applicant)"
)
async def declare_project(
    body: DeclareProjectIn,
    uow: UowDep,
    policy: PolicyDep,
    response: Response,
    who: Annotated[Principal, require(Role.APPLICANT)],
    idempotency_key: IdempotencyKey = None,
) -> views.ProjectOut:
    if body.jurisdiction not in policy:
        raise Problem(
            422,
            "unknown_jurisdiction",
            "辖区代码无效",
            f"未知辖区 {body.jurisdiction}",
            known=list(policy.codes),
        )
    if who.agency is None:
        raise Problem(403, "agency_required", "申报须以建设单位身份进行", "令牌缺少 agency 声明")
    project, created = await handlers.declare_project(
        uow,
        handlers.DeclareProject(
            agency=who.agency, by=who.sub, idempotency_key=idempotency_key, **body.model_dump()
        ),
    )
    if not created:
        response.status_code = status.HTTP_200_OK
    return views.ProjectOut.model_validate(project)


@router.get("", response_model=Page[views.ProjectOut], summary="项目列表（申报单位只见本单位项目）")
async def list_projects(
    uow: UowDep,
    principal: ReaderDep,
    page: PageDep,
    status: ProjectStatus | None = None,
    jurisdiction: str | None = None,
    agency: str | None = None,
    kind: ProjectKind | None = None,
) -> Page[views.ProjectOut]:
    async with uow:
        return await views.list_projects(
            uow.session, principal, page, status=status, jurisdiction=jurisdiction, agency=agency, kind=kind
        )


@router.get("/{project_id}", response_model=views.ProjectDetail, summary="项目详情，含应提交材料清单")
async def get_project(
    project_id: str, uow: UowDep, principal: ReaderDep, policy: PolicyDep
) -> views.ProjectDetail:
    async with uow:
        project = await views.get_project(uow.session, principal, project_id, policy)
    if project is None:
        raise ProjectNotFound(f"项目 {project_id} 不存在")
    return project


@router.post("/{project_id}/approval", response_model=views.ProjectOut, summary="批复项目 (authority)")
async def approve_project(
    project_id: str, body: ApproveProjectIn, uow: UowDep, _: Annotated[Principal, require(Role.AUTHORITY)]
) -> views.ProjectOut:
    project = await handlers.approve_project(
        uow, project_id, approved_amount_fen=body.approved_amount_fen, plan_year=body.plan_year
    )
    return views.ProjectOut.model_validate(project)
