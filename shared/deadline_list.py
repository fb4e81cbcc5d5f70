"""期限一览: the time limits of every project in progress, across projects, for the queues of the
authority (what is overdue in its jurisdiction) and of an agency (what is due of its own).

A service's deadlines are not stored: each is worked out from the project's facts, the pack and
the calendar when asked (procurement's and acceptance's detail pages do the same). The list works
them out for the projects the caller may see that can still have one, keeps those in the asked
state (overdue by default), and pages them by due day. A service gives its `DeadlineSource`.
"""

# No postponed annotations here: FastAPI reads the route's annotations, which name the factory's
# arguments, at the time the route is made.

from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field
from sqlalchemy import Table, select

from shared.auth import Principal, Scope
from shared.consume import HandlerContext
from shared.db import UnitOfWork
from shared.deps import ContextDep
from shared.labels import DeadlineState
from shared.pagination import Page, PageDep
from shared.views import visible_to


class DeadlineQuery(BaseModel):
    """Which deadlines to list (query parameters)."""

    jurisdiction: str | None = Field(
        default=None, max_length=32, description="辖区代码；不填为令牌的全部辖区"
    )
    state: DeadlineState | None = Field(
        default=DeadlineState.MISSED,
        description="期限状态：missed 已逾期（默认）、running 期限未到、open、met",
    )
    agency: str | None = Field(default=None, max_length=128, description="建设单位")

    def scope(self, who: Principal) -> Scope:
        """The caller's scope narrowed to the asked jurisdiction (checked: 403 for another's)."""
        if self.jurisdiction is None:
            return who.scope
        who.check_jurisdiction(self.jurisdiction)
        return Scope(frozenset({self.jurisdiction}), who.scope.agency)


class OfProject(BaseModel):
    """Whose deadline it is: the project, beside the service's own deadline fields."""

    project_id: str
    jurisdiction: str
    agency: str
    title: str


@dataclass(frozen=True)
class DeadlineSource:
    """Where a service's deadlines come from: its projects' table and mapped aggregate, the
    statuses in which a project has none running, and its deadlines (dataclasses) as of now."""

    table: Table
    aggregate: type[Any]
    settled: tuple[str, ...]
    due: Callable[[Any, HandlerContext], Iterable[Any]]


def deadline_router(
    source: DeadlineSource, out: type[OfProject], uow: Callable[..., Any], reader: Any, summary: str
) -> APIRouter:
    """GET /deadlines of one service. `out` is its deadline schema with OfProject's fields; `uow`
    its unit-of-work dependency, `reader` the require(...) of the roles that may read."""
    router = APIRouter(prefix="/deadlines", tags=["deadlines"])
    projects = source.table

    @router.get("", response_model=Page[out], summary=summary)  # type: ignore[valid-type]
    async def list_deadlines(
        unit: Annotated[UnitOfWork, Depends(uow)],
        who: Annotated[Principal, reader],
        ctx: ContextDep,
        page: PageDep,
        query: Annotated[DeadlineQuery, Query()],
    ) -> Page[Any]:
        where = [*visible_to(query.scope(who), projects), projects.c.status.notin_(source.settled)]
        if query.agency is not None:
            where.append(projects.c.agency == query.agency)
        async with unit:
            found = list(await unit.session.scalars(select(source.aggregate).where(*where)))
        rows = [
            out(project_id=p.id, jurisdiction=p.jurisdiction, agency=p.agency, title=p.title, **asdict(d))
            for p in found
            for d in source.due(p, ctx)
            if query.state is None or d.state == query.state
        ]
        rows.sort(key=lambda d: (d.due_on, d.project_id, d.deadline))  # type: ignore[attr-defined]
        return Page(items=rows[page.offset : page.offset + page.limit], total=len(rows), **page.model_dump())

    return router
