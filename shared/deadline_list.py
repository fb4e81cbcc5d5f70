"""期限一览: the time limits of every project in progress, across projects, for the queues of the
authority (what is overdue in its jurisdiction) and of an agency (what is due of its own).

A service's deadlines are not stored: each is worked out from the project's facts, the pack and
the calendar when asked (procurement's and acceptance's detail pages do the same). The list works
them out for the projects the caller may see that can still have one, keeps those in the asked
state (overdue by default), and pages them by due day.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Protocol, TypeVar

from pydantic import BaseModel, Field

from shared.auth import Principal, Scope
from shared.labels import DeadlineState
from shared.pagination import Page, PageParams


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


class _Due(Protocol):
    @property
    def due_on(self) -> dt.date: ...
    @property
    def project_id(self) -> str: ...
    @property
    def deadline(self) -> str: ...


D = TypeVar("D", bound=_Due)


def deadline_page(found: Iterable[D], page: PageParams) -> Page[D]:
    """The deadlines by due day (then project, then kind), one page of them."""
    ordered = sorted(found, key=lambda d: (d.due_on, d.project_id, d.deadline))
    return Page(
        items=ordered[page.offset : page.offset + page.limit],
        total=len(ordered),
        limit=page.limit,
        offset=page.offset,
    )
