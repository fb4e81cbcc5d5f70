"""A project's events over HTTP: what this service has announced about it, oldest first.

Every service keeps the events it raised in its outbox, beside the state they describe; this
reads them back for one project, so that a page can draw the project's lifecycle from every
service's own record. The caller sees them when they may see the project here: the project's
jurisdiction and agency are this service's (`ServiceSpec.owners`), never the events' say.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Request
from pydantic import BaseModel, Field
from sqlalchemy import Column, bindparam, func, select

from shared.auth import Principal, Role, require
from shared.contracts.catalog import CATALOG
from shared.contracts.envelope import SEQUENCE, parse_sequence
from shared.db import READ_ONLY, outbox
from shared.pagination import Page, PageDep
from shared.problems import Problem, problem_responses


class ProjectEventOut(BaseModel):
    id: str
    type: str
    summary: str = Field(description="事件的中文说明，如“项目已批复”")
    time: datetime
    sequence: int | None = Field(description="本服务就该项目发布的事件序号（CloudEvents sequence 扩展）")
    source: str
    data: dict[str, Any]


def _event(body: bytes) -> ProjectEventOut:
    document = json.loads(body)
    known = CATALOG.get(document["type"])
    return ProjectEventOut(
        id=document["id"],
        type=document["type"],
        summary=known.summary if known is not None else document["type"],
        time=document["time"],
        sequence=parse_sequence(document.get(SEQUENCE)),
        source=document["source"],
        data=document.get("data") or {},
    )


def events_router(title: str, owners: Column[str]) -> APIRouter:
    """GET /projects/{project_id}/events. `owners` is the column naming the project in a table that
    carries its `jurisdiction` and `agency` (the projects' id, or review's cases' project_id)."""
    table = owners.table
    owner = select(table.c.jurisdiction, table.c.agency).where(owners == bindparam("project")).limit(1)
    router = APIRouter(tags=["events"])

    @router.get(
        "/projects/{project_id}/events",
        response_model=Page[ProjectEventOut],
        responses=problem_responses(404),
        summary="本服务就该项目发布的事件，按发布顺序：项目生命周期的一段",
    )
    async def project_events(
        request: Request,
        project_id: str,
        who: Annotated[
            Principal, require(Role.APPLICANT, Role.AUTHORITY, Role.FINANCE, Role.AUDITOR, Role.EXPERT)
        ],
        page: PageDep,
    ) -> Page[ProjectEventOut]:
        engine = request.app.state.runtime.engine
        async with engine.connect() as conn:
            await conn.execution_options(**READ_ONLY)
            found = (await conn.execute(owner, {"project": project_id})).first()
            if found is None or not who.may_see(found.jurisdiction, found.agency):
                raise Problem(404, "project_not_found", "项目不存在", f"{title}中没有项目 {project_id}")
            mine = outbox.c.project_id == project_id
            total = await conn.scalar(select(func.count()).select_from(outbox).where(mine))
            bodies = await conn.scalars(
                select(outbox.c.body).where(mine).order_by(outbox.c.seq).limit(page.limit).offset(page.offset)
            )
            items = [_event(body) for body in bodies]
        return Page(items=items, total=total or 0, limit=page.limit, offset=page.offset)

    return router
