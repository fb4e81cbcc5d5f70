"""A project as funding knows it: recorded from intake's events, its budget from the approval."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from services.funding.domain.errors import WrongJurisdiction
from services.funding.domain.stored import Stored
from shared.contracts import Event
from shared.contracts.funding import BudgetOpened


@dataclass(frozen=True)
class Settlement(Stored):
    """结算 as recorded: the final cost, the money released, the surplus and what is to be
    returned, and who reviews it (财评 or audit) by when."""

    final_cost_fen: int
    settled_on: dt.date
    released_fen: int
    surplus_fen: int
    to_return_fen: int
    route: str | None
    review_due_on: dt.date | None
    by: str

    def stored(self) -> dict[str, Any]:
        return {
            "final_cost_fen": self.final_cost_fen,
            "settled_on": self.settled_on.isoformat(),
            "released_fen": self.released_fen,
            "surplus_fen": self.surplus_fen,
            "to_return_fen": self.to_return_fen,
            "route": self.route,
            "review_due_on": self.review_due_on.isoformat() if self.review_due_on else None,
            "by": self.by,
        }

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> Settlement:
        due = stored.get("review_due_on")
        return cls(
            final_cost_fen=int(stored["final_cost_fen"]),
            settled_on=dt.date.fromisoformat(stored["settled_on"]),
            released_fen=int(stored["released_fen"]),
            surplus_fen=int(stored["surplus_fen"]),
            to_return_fen=int(stored["to_return_fen"]),
            route=stored.get("route"),
            review_due_on=dt.date.fromisoformat(due) if due else None,
            by=str(stored.get("by", "")),
        )


@dataclass(eq=False)
class FundedProject:
    """A project as funding knows it, recorded from intake's events."""

    id: str
    jurisdiction: str
    agency: str
    title: str
    declared_amount_fen: int
    approved: bool = False
    approved_amount_fen: int | None = None
    kind: str = "construction"
    classified: bool = False  # 涉密项目, as declared
    accepted_on: dt.date | None = None
    terminated: bool = False
    settlement: Settlement | None = None
    events: list[Event] = field(default_factory=list)

    def hears(self, event: Event) -> None:
        """An event speaks about this project only for the project's own jurisdiction: one that
        names another (a system trusted there, or a wrong record) never applies, however often
        it is delivered."""
        if event.jurisdiction != self.jurisdiction:
            raise WrongJurisdiction(
                f"事件 {event.type} 所属辖区 {event.jurisdiction} 与项目 {self.id} 的辖区 "
                f"{self.jurisdiction} 不符"
            )

    def mark_approved(self, approved_amount_fen: int, articles: Sequence[str]) -> None:
        first = not self.approved
        self.approved = True
        self.approved_amount_fen = approved_amount_fen
        if first:
            self._budget(articles)

    def revise_total(self, total_fen: int, articles: Sequence[str]) -> None:
        """A change took effect (procurement.change_recorded): the total payments may reach."""
        if self.approved and total_fen != self.approved_amount_fen:
            self.approved_amount_fen = total_fen
            self._budget(articles)

    def _budget(self, articles: Sequence[str]) -> None:
        assert self.approved_amount_fen is not None
        self.events.append(
            BudgetOpened(
                project_id=self.id,
                jurisdiction=self.jurisdiction,
                agency=self.agency,
                approved_total_fen=self.approved_amount_fen,
                articles=tuple(articles),
            )
        )

    @property
    def cap_fen(self) -> int:
        """What construction-side payments together may not exceed: the approved total, or the
        estimate while only preparatory costs can be paid."""
        return self.approved_amount_fen if self.approved_amount_fen is not None else self.declared_amount_fen
