"""期限一览: the acceptance time limits of every project past construction the caller may see,
overdue ones by default (shared.deadline_list)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from services.acceptance import views
from services.acceptance.api import ReaderDep, UowDep
from services.acceptance.db import projects
from services.acceptance.domain import Pack, Project, Status
from services.acceptance.domain.deadlines import deadlines
from shared.deadline_list import DeadlineQuery, deadline_page
from shared.deps import ContextDep
from shared.pagination import Page, PageDep
from shared.views import visible_to

router = APIRouter(prefix="/deadlines", tags=["deadlines"])


class ProjectDeadlineOut(views.DeadlineOut):
    project_id: str
    jurisdiction: str
    agency: str
    title: str


@router.get(
    "",
    response_model=Page[ProjectDeadlineOut],
    summary="期限一览：竣工后各项验收与评价期限（含条款），默认只列已逾期的，按到期日排列",
)
async def list_deadlines(
    uow: UowDep, who: ReaderDep, ctx: ContextDep, page: PageDep, query: Annotated[DeadlineQuery, Query()]
) -> Page[ProjectDeadlineOut]:
    where = [
        *visible_to(query.scope(who), projects),
        projects.c.status.notin_([Status.CLOSED, Status.BUILDING]),
    ]
    if query.agency is not None:
        where.append(projects.c.agency == query.agency)
    async with uow:
        found = list(await uow.session.scalars(select(Project).where(*where)))
    pack = Pack(ctx.policy, ctx.calendar, ctx.now())
    return deadline_page(
        (
            ProjectDeadlineOut(
                project_id=p.id, jurisdiction=p.jurisdiction, agency=p.agency, title=p.title, **asdict(d)
            )
            for p in found
            for d in deadlines(p, pack)
            if query.state is None or d.state == query.state
        ),
        page,
    )
