"""Acceptance's read side: projects with their acceptance records (as stored) and their time
limits, as API schemas."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from enum import StrEnum
from typing import Any, ClassVar

from pydantic import ConfigDict, computed_field
from sqlalchemy.ext.asyncio import AsyncSession

from services.acceptance import labels as _labels  # noqa: F401  (registers the tables)
from services.acceptance.db import AcceptanceUnitOfWork, projects
from services.acceptance.domain import Pack, Project, ProjectNotFound, Status, deadlines, required_materials
from services.acceptance.domain.deadlines import DeadlineKind
from shared.auth import Principal
from shared.consume import HandlerContext
from shared.labels import DeadlineState, Readable
from shared.pagination import Page, PageParams
from shared.views import filters, page_of, visible_to
from shared.workdays import is_provisional


class ProjectOut(Readable):
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


class DeadlineOut(Readable):
    labelled: ClassVar[Mapping[str, type[StrEnum]]] = {"state": DeadlineState, "deadline": DeadlineKind}

    deadline: str
    due_on: dt.date
    state: str  # running | open | met | missed
    articles: list[str]

    @computed_field(description="期限所在年度尚未加载节假日安排通知：暂定，加载后可能变动")  # type: ignore[prop-decorator]
    @property
    def provisional(self) -> bool:
        return is_provisional(self.due_on)


class ProjectDetail(ProjectOut):
    software_fen: int
    classified: bool
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

    @computed_field(description="验收报告期限为暂定（所在年度尚未加载节假日安排通知）")  # type: ignore[prop-decorator]
    @property
    def report_due_on_provisional(self) -> bool:
        return is_provisional(self.report_due_on)

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


RECORDS = ("initial", "data_sharing", "audit_report", "delay", "report", "rectification")
RECORD_LISTS = ("attestations", "applications", "evaluations")


def detail(project: Project, ctx: HandlerContext) -> ProjectDetail:
    """The project with its records as stored, the materials an application carries and every
    time limit with its state today."""
    pack = Pack(ctx.policy, ctx.calendar, ctx.now())
    fields: dict[str, Any] = {
        name: getattr(project, name)
        for name in ProjectDetail.model_fields
        if hasattr(project, name) and name not in RECORDS + RECORD_LISTS
    }
    for name in RECORDS:
        record = getattr(project, name)
        fields[name] = record.stored() if record is not None else None
    for name in RECORD_LISTS:
        fields[name] = [r.stored() for r in getattr(project, name)]
    return ProjectDetail(
        **fields,
        required_materials=required_materials(ctx.policy, project.jurisdiction, project.kind),
        deadlines=[DeadlineOut.model_validate(d, from_attributes=True) for d in deadlines(project, pack)],
    )


async def project_detail(
    uow: AcceptanceUnitOfWork, who: Principal, project_id: str, ctx: HandlerContext
) -> ProjectDetail:
    """One project as its reader may see it (another's is not found, as a missing one)."""
    async with uow:
        project = await uow.projects.get(project_id)
    if project is None or not who.may_see(project.jurisdiction, project.agency):
        raise ProjectNotFound(f"项目 {project_id} 不存在")
    return detail(project, ctx)
