"""A construction-side payment asked for, and held requests looked at again when a gate moves."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from services.funding.domain.disbursements import Ask, Disbursement
from services.funding.domain.errors import FundingError, Refused
from services.funding.domain.gates import GateState
from services.funding.domain.kinds import BUDGET_KINDS, PaymentKind
from services.funding.domain.limits import Ledger, over_cap, within_limits
from services.funding.domain.needs import closed_reasons, needs
from services.funding.domain.projects import FundedProject
from shared.policy import PolicyRegistry
from shared.workdays import today_in_shanghai


@dataclass(frozen=True)
class Standing:
    """Where a project's money stands when a request is judged: its gates and its ledger."""

    gates: dict[str, GateState]
    ledger: Ledger


def not_om(kind: PaymentKind) -> None:
    """O&M funds have their own application, decided at once."""
    if kind is PaymentKind.OM:
        raise FundingError("运维经费请通过运维经费申请办理（POST /projects/{id}/om-applications）")


def request(
    policy: PolicyRegistry, project: FundedProject, ask: Ask, standing: Standing, at: dt.datetime
) -> Disbursement:
    """Record a request; released at once when its gates are open, else held until they open."""
    today = today_in_shanghai(at)
    j = project.jurisdiction
    if project.terminated:
        standing_gate = needs(policy, j, ask.kind)[:1]
        raise Refused(
            "项目已终止，不再拨付资金", closed_reasons(policy, j, standing_gate, standing.gates, today)
        )
    stage = within_limits(policy, project, ask, standing.ledger)
    item = Disbursement.request(project, ask, at, stage)
    wanted = needs(policy, j, ask.kind, stage)
    item.reconsider(closed_reasons(policy, j, wanted, standing.gates, today), at, announce_hold=True)
    return item


def reconsider_held(
    policy: PolicyRegistry,
    project: FundedProject,
    held: Sequence[Disbursement],
    gates: dict[str, GateState],
    released_fen: int,
    now: dt.datetime,
) -> None:
    """Held requests whose gates are now all open are released, each once; the total (beside
    the `released_fen` paid before) is checked again at release: it may have been cut while
    they waited."""
    today = today_in_shanghai(now)
    released = released_fen
    for item in held:
        wanted = needs(policy, project.jurisdiction, item.kind, item.stage)
        closed = closed_reasons(policy, project.jurisdiction, wanted, gates, today)
        if not closed and item.kind in BUDGET_KINDS and released + item.amount_fen > project.cap_fen:
            closed = [over_cap(policy, project)]  # the total was cut while it waited
        if item.reconsider(closed, now) and item.kind in BUDGET_KINDS:
            released += item.amount_fen
