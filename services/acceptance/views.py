"""Acceptance's read side: projects with their acceptance records as API schemas."""

from __future__ import annotations

import datetime as dt
from typing import Any

from pydantic import BaseModel, ConfigDict
from sqlalchemy.ext.asyncio import AsyncSession

from services.acceptance.db import projects
from services.acceptance.domain import Status
from shared.auth import Principal
from shared.pagination import Page, PageParams
from shared.views import filters, page_of, visible_to


class ProjectOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    jurisdiction: str
    agency: str
    title: str
    kind: str
    status: Status
    completed_on: dt.date | None
    accepted_on: dt.date | None
    closed_reason: str | None


class DeadlineOut(BaseModel):
    deadline: str
    due_on: dt.date
    state: str  # running | open | met | missed
    articles: list[str]


class ProjectDetail(ProjectOut):
    software_fen: int
    contractors: list[str]
    supervisor: str | None
    initial: dict[str, Any] | None
    trial_started_on: dt.date | None
    trial_ended_on: dt.date | None
    data_sharing: dict[str, Any] | None
    attestations: list[dict[str, Any]]
    audit_report: dict[str, Any] | None
    delay: dict[str, Any] | None
    applications: list[dict[str, Any]]
    report: dict[str, Any] | None
    report_due_on: dt.date | None
    rectification: dict[str, Any] | None
    evaluations: list[dict[str, Any]]
    required_materials: dict[str, str]
    deadlines: list[DeadlineOut]


async def list_projects(
    session: AsyncSession,
    who: Principal,
    page: PageParams,
    *,
    jurisdiction: str | None,
    status: Status | None,
    agency: str | None,
) -> Page[ProjectOut]:
    where = [
        *visible_to(who, projects),
        *filters(
            [
                (projects.c.jurisdiction, jurisdiction),
                (projects.c.status, status),
                (projects.c.agency, agency),
            ]
        ),
    ]
    return await page_of(
        session, projects, ProjectOut, page, where, [projects.c.created_at.desc(), projects.c.id]
    )
