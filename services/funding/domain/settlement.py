"""结算: surplus returned (bayingolin §28), 财评 or audit within two months (lhasa §21), xunyang §20."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from services.funding.domain.disbursements import Disbursement
from services.funding.domain.errors import InvalidState, Refused
from services.funding.domain.gates import Gate, GateState
from services.funding.domain.kinds import BUDGET_KINDS
from services.funding.domain.projects import FundedProject, Settlement
from shared.contracts.funding import SettlementRecorded
from shared.policy import PolicyRegistry
from shared.workdays import WorkingCalendar, months_after


@dataclass(frozen=True)
class Terms:
    """What the requester settles the project at."""

    final_cost_fen: int
    settled_on: dt.date
    by: str


@dataclass(frozen=True)
class Books:
    """The project's money when it is settled: its gates, what was released, what is held."""

    gates: dict[str, GateState]
    released_fen: int
    held: Sequence[Disbursement]


@dataclass(frozen=True)
class Route:
    """Who reviews the settlement (财评 or audit) and by when, and the articles behind it."""

    route: str | None
    due: dt.date | None
    articles: tuple[str, ...]


def settle(
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    project: FundedProject,
    books: Books,
    terms: Terms,
    at: dt.datetime,
) -> None:
    """Settle the project: the budget closes (what is still held will not be paid), the surplus
    and what is to be returned are recorded, and the review's route and deadline."""
    _settleable(policy, project, books.gates)
    assert project.approved_amount_fen is not None
    surplus = max(project.approved_amount_fen - terms.final_cost_fen, 0)
    to_return = max(books.released_fen - terms.final_cost_fen, 0)
    route = _route(policy, calendar, project, terms.settled_on, bool(surplus or to_return))
    for item in books.held:
        if item.kind in BUDGET_KINDS:
            item.reject(f"项目已于 {terms.settled_on.isoformat()} 结算", route.articles, at)
    project.settlement = Settlement(
        final_cost_fen=terms.final_cost_fen,
        settled_on=terms.settled_on,
        released_fen=books.released_fen,
        surplus_fen=surplus,
        to_return_fen=to_return,
        route=route.route,
        review_due_on=route.due,
        by=terms.by,
    )
    project.events.append(_recorded(project, project.settlement, route))


def _settleable(policy: PolicyRegistry, project: FundedProject, gates: dict[str, GateState]) -> None:
    if project.approved_amount_fen is None:
        raise InvalidState("项目尚未批复，不能结算")
    if project.settlement is not None:
        raise InvalidState(f"项目已于 {project.settlement.settled_on.isoformat()} 结算")
    if project.terminated:
        raise InvalidState("项目已终止，按资金收回办理")
    j = project.jurisdiction
    review = policy.rule(j, "funding.settlement_audit")
    accepted = gates.get(Gate.ACCEPTANCE.value)
    if review.applies and review.params.get("after_acceptance") and not (accepted and accepted.open):
        raise Refused(
            "项目尚未通过验收，不能结算",
            [policy.refusal(j, "funding.settlement_audit", "not_accepted", "验收合格后方可结算")],
        )


def _route(
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    project: FundedProject,
    settled_on: dt.date,
    returns_money: bool,
) -> Route:
    j = project.jurisdiction
    articles: list[str] = []
    route, due = None, None
    review = policy.rule(j, "funding.settlement_audit")
    if review.applies:
        articles += review.articles
        if "amount_fen" in review.params:
            assert project.approved_amount_fen is not None
            small = project.approved_amount_fen <= int(review.params["amount_fen"])
            route = str(review.params["at_or_below"] if small else review.params["above"])
            due = review_due(policy, calendar, j, settled_on)
        else:
            route = str(review.params.get("reviewer", "review"))
    returning = policy.rule(j, "funding.surplus_return")
    if returning.applies and returns_money:
        articles += returning.articles
    return Route(route, due, tuple(articles))


def review_due(
    policy: PolicyRegistry, calendar: WorkingCalendar, jurisdiction: str, settled_on: dt.date
) -> dt.date | None:
    """The last day of the settlement's 财评 or audit (lhasa §21: two months, ending on a working
    day); None where the pack sets no such limit."""
    review = policy.rule(jurisdiction, "funding.settlement_audit")
    if not review.applies or "amount_fen" not in review.params:
        return None
    return calendar.last_day(months_after(settled_on, int(review.param("months"))))


def _recorded(project: FundedProject, settled: Settlement, route: Route) -> SettlementRecorded:
    return SettlementRecorded(
        project_id=project.id,
        jurisdiction=project.jurisdiction,
        agency=project.agency,
        final_cost_fen=settled.final_cost_fen,
        released_fen=settled.released_fen,
        surplus_fen=settled.surplus_fen,
        to_return_fen=settled.to_return_fen,
        route=route.route,
        review_due_on=route.due,
        articles=route.articles,
    )
