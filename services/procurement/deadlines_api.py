"""期限一览: procurement's and construction's deadlines of every project in progress the caller may
see, overdue ones by default (shared.deadline_list)."""

from __future__ import annotations

from typing import Any, get_args

from services.procurement import views
from services.procurement.api import ReaderDep, UowDep
from services.procurement.db import projects
from services.procurement.domain import Project, Status, deadline_states
from shared.consume import HandlerContext
from shared.deadline_list import DeadlineSource, OfProject, deadline_router
from shared.workdays import today_in_shanghai


class ProjectDeadlineOut(views.DeadlineOut, OfProject):
    pass


def _due(project: Project, ctx: HandlerContext) -> Any:
    return deadline_states(ctx.policy, ctx.calendar, project, today_in_shanghai(ctx.now()))


router = deadline_router(
    DeadlineSource(projects, Project, (Status.CLOSED, Status.COMPLETED), _due),
    ProjectDeadlineOut,
    get_args(UowDep)[1].dependency,
    get_args(ReaderDep)[1],
    "期限一览：在办项目的采购与建设期限（含条款），默认只列已逾期的，按到期日排列",
)
