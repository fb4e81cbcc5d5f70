"""期限一览: procurement's and construction's deadlines of every project in progress the caller may
see, overdue ones by default (shared.deadline_list)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Annotated

from fastapi import APIRouter, Query
from sqlalchemy import select

from services.procurement import views
from services.procurement.api import ReaderDep, UowDep
from services.procurement.db import projects
from services.procurement.domain import Project, Status, deadline_states
from shared.deadline_list import DeadlineQuery, deadline_page
from shared.deps import ContextDep
from shared.pagination import Page, PageDep
from shared.views import visible_to
from shared.workdays import today_in_shanghai

router = APIRouter(prefix="/deadlines", tags=["deadlines"])


class ProjectDeadlineOut(views.DeadlineOut):
    project_id: str
    jurisdiction: str
    agency: str
    title: str


@router.get(
    "",
    response_model=Page[ProjectDeadlineOut],
    summary="期限一览：在办项目的采购与建设期限（含条款），默认只列已逾期的，按到期日排列",
)
async def list_deadlines(
    uow: UowDep, who: ReaderDep, ctx: ContextDep, page: PageDep, query: Annotated[DeadlineQuery, Query()]
) -> Page[ProjectDeadlineOut]:
    scope = query.scope(who)
    where = [*visible_to(scope, projects), projects.c.status.notin_([Status.CLOSED, Status.COMPLETED])]
    if query.agency is not None:
        where.append(projects.c.agency == query.agency)
    async with uow:
        found = list(await uow.session.scalars(select(Project).where(*where)))
    today = today_in_shanghai(ctx.now())
    return deadline_page(
        (
            ProjectDeadlineOut(
                project_id=p.id,
                jurisdiction=p.jurisdiction,
                agency=p.agency,
                title=p.title,
                **asdict(d),
            )
            for p in found
            for d in deadline_states(ctx.policy, ctx.calendar, p, today)
            if query.state is None or d.state == query.state
        ),
        page,
    )
