"""Intake's read side: project lists and details as API schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.db import projects
from services.intake.domain import ProjectKind, ProjectNature, ProjectStatus
from services.intake.requirements import ProjectFacts, RequiredMaterial, required_materials
from shared.auth import Principal
from shared.pagination import Page, PageParams
from shared.policy import PolicyRegistry
from shared.views import filters, one, page_of, visible_to


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    jurisdiction: str
    agency: str
    title: str
    kind: ProjectKind
    amount_fen: int
    classified: bool
    nature: ProjectNature
    software_fen: int
    packaged_software: bool
    simple: bool
    status: ProjectStatus
    declared_at: datetime
    plan_year: int | None
    approved_amount_fen: int | None
    approved_at: datetime | None


class ProjectDetail(ProjectOut):
    required_materials: list[RequiredMaterial] = Field(
        description="该项目须提交的材料（按辖区办法与金额计算），每项注明依据条款与提交阶段"
    )


async def get_project(
    session: AsyncSession, principal: Principal, project_id: str, policy: PolicyRegistry
) -> ProjectDetail | None:
    found = await one(
        session, projects, ProjectOut, projects.c.id == project_id, *visible_to(principal, projects)
    )
    if found is None:
        return None
    checklist = required_materials(policy, found.jurisdiction, ProjectFacts.of(found))
    return ProjectDetail(**found.model_dump(), required_materials=checklist)


async def list_projects(
    session: AsyncSession,
    principal: Principal,
    page: PageParams,
    *,
    status: ProjectStatus | None,
    jurisdiction: str | None,
    agency: str | None,
    kind: ProjectKind | None,
) -> Page[ProjectOut]:
    where = visible_to(principal, projects) + filters(
        [
            (projects.c.status, status),
            (projects.c.jurisdiction, jurisdiction),
            (projects.c.agency, agency),
            (projects.c.kind, kind),
        ]
    )
    return await page_of(
        session, projects, ProjectOut, page, where, [projects.c.declared_at.desc(), projects.c.id]
    )
