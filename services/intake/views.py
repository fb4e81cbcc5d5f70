"""Intake's read side: project lists and details as API schemas."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.intake.db import projects
from services.intake.domain import ProjectKind, ProjectStatus
from shared.auth import Principal, Role
from shared.pagination import Page, PageParams


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    jurisdiction: str
    agency: str
    title: str
    kind: ProjectKind
    amount_fen: int
    classified: bool
    status: ProjectStatus
    declared_at: datetime
    plan_year: int | None
    approved_amount_fen: int | None
    approved_at: datetime | None


def _visible(principal: Principal):  # type: ignore[no-untyped-def]
    clauses = []
    if principal.role is Role.APPLICANT:
        clauses.append(projects.c.agency == principal.agency)
    return clauses


async def get_project(session: AsyncSession, principal: Principal, project_id: str) -> ProjectOut | None:
    row = (
        await session.execute(select(projects).where(projects.c.id == project_id, *_visible(principal)))
    ).first()
    return ProjectOut.model_validate(row._mapping) if row else None


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
    clauses = _visible(principal)
    for column, value in (
        (projects.c.status, status),
        (projects.c.jurisdiction, jurisdiction),
        (projects.c.agency, agency),
        (projects.c.kind, kind),
    ):
        if value is not None:
            clauses.append(column == value)
    total = await session.scalar(select(func.count()).select_from(projects).where(*clauses)) or 0
    rows = await session.execute(
        select(projects)
        .where(*clauses)
        .order_by(projects.c.declared_at.desc(), projects.c.id)
        .limit(page.limit)
        .offset(page.offset)
    )
    return Page[ProjectOut](
        items=[ProjectOut.model_validate(r._mapping) for r in rows],
        total=total,
        limit=page.limit,
        offset=page.offset,
    )
