"""收回资金: money released before a termination, reclaimed."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from services.funding.domain.disbursements import Disbursement
from services.funding.domain.errors import InvalidState
from services.funding.domain.projects import FundedProject
from shared.contracts import Event
from shared.contracts.funding import ReclaimRecorded
from shared.contracts.intake import Closing


@dataclass(eq=False)
class Reclaim:
    """收回资金 after a termination (zhonglou §17, bayingolin §21)."""

    id: str
    project_id: str
    jurisdiction: str
    agency: str
    amount_fen: int
    reason: str
    articles: list[str]
    status: str  # started | completed
    started_at: dt.datetime
    returned_fen: int = 0
    completed_at: dt.datetime | None = None
    events: list[Event] = field(default_factory=list)

    @classmethod
    def start(
        cls, project: FundedProject, amount_fen: int, reason: str, articles: Sequence[str], at: dt.datetime
    ) -> Reclaim:
        reclaim = cls(
            id=uuid.uuid4().hex,
            project_id=project.id,
            jurisdiction=project.jurisdiction,
            agency=project.agency,
            amount_fen=amount_fen,
            reason=reason,
            articles=list(articles),
            status="started",
            started_at=at,
        )
        reclaim._announce(amount_fen)
        return reclaim

    def complete(self, returned_fen: int, at: dt.datetime) -> None:
        if self.status != "started":
            raise InvalidState("资金收回已办结")
        self.status, self.returned_fen, self.completed_at = "completed", returned_fen, at
        self._announce(returned_fen)

    def _announce(self, amount_fen: int) -> None:
        self.events.append(
            ReclaimRecorded(
                project_id=self.project_id,
                jurisdiction=self.jurisdiction,
                agency=self.agency,
                reclaim_id=self.id,
                status=self.status,
                amount_fen=amount_fen,
                reason=self.reason,
                articles=tuple(self.articles),
            )
        )


@dataclass(frozen=True)
class Closure:
    """A project rejected, withdrawn or terminated, as intake said it."""

    reason: str
    articles: tuple[str, ...]
    terminated: bool  # after a termination the money already released is reclaimed

    @classmethod
    def of(cls, event: Closing) -> Closure:
        return cls(
            reason=f"项目{event.outcome}：{event.reason}",
            articles=tuple(getattr(event, "articles", ())),
            terminated=event.type == "govit.intake.project_terminated.v1",
        )


def close_for_good(
    project: FundedProject,
    closure: Closure,
    held: Sequence[Disbursement],
    released_fen: int,
    now: dt.datetime,
) -> Reclaim | None:
    """Held requests are rejected; after a termination the money already released is to be
    reclaimed (zhonglou §17, bayingolin §21). Once: a project closes for good only once."""
    if project.terminated:
        return None
    project.terminated = True
    for item in held:
        item.reject(closure.reason, closure.articles, now)
    if closure.terminated and released_fen > 0:
        return Reclaim.start(project, released_fen, closure.reason, closure.articles, now)
    return None
