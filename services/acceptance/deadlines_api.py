"""期限一览: the acceptance time limits of every project past construction the caller may see,
overdue ones by default (shared.deadline_list)."""

from __future__ import annotations

from typing import Any, get_args

from services.acceptance import views
from services.acceptance.api import ReaderDep, UowDep
from services.acceptance.db import projects
from services.acceptance.domain import Pack, Project, Status
from services.acceptance.domain.deadlines import deadlines
from shared.consume import HandlerContext
from shared.deadline_list import DeadlineSource, OfProject, deadline_router


class ProjectDeadlineOut(views.DeadlineOut, OfProject):
    pass


def _due(project: Project, ctx: HandlerContext) -> Any:
    return deadlines(project, Pack(ctx.policy, ctx.calendar, ctx.now()))


router = deadline_router(
    DeadlineSource(projects, Project, (Status.CLOSED, Status.BUILDING), _due),
    ProjectDeadlineOut,
    get_args(UowDep)[1].dependency,
    get_args(ReaderDep)[1],
    "期限一览：竣工后各项验收与评价期限（含条款），默认只列已逾期的，按到期日排列",
)
