"""A newly loaded holiday notice moves a settlement's 财评 or audit due date (lhasa §21).

The due date is kept with the settlement; where it is the old calendar's day (two months after
settling, on the next working day) and the new calendar gives another, the settlement takes the
new day and the move is announced. One already moved (a retry, another replica) stays.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from services.funding.domain.projects import FundedProject
from services.funding.domain.settlement import review_due
from shared.contracts.deadlines import moved_message
from shared.contracts.funding import FundingDeadlineMoved
from shared.policy import PolicyRegistry
from shared.workdays import WorkingCalendar

RULE = "funding.settlement_audit"


def move_review_due(
    policy: PolicyRegistry,
    calendars: tuple[WorkingCalendar, WorkingCalendar],
    project: FundedProject,
    years: Sequence[int],
) -> bool:
    """Move the settlement review's due date to the new calendar's day, with an event; False when
    it does not move."""
    settled, (old, new), j = project.settlement, calendars, project.jurisdiction
    if settled is None or settled.review_due_on is None:
        return False
    before = review_due(policy, old, j, settled.settled_on)
    after = review_due(policy, new, j, settled.settled_on)
    if before != settled.review_due_on or after is None or after == before:
        return False
    project.settlement = dataclasses.replace(settled, review_due_on=after)
    project.events.append(
        FundingDeadlineMoved(
            project_id=project.id,
            jurisdiction=j,
            agency=project.agency,
            deadline="settlement_review",
            reference=settled.route,
            previous_due_on=before,
            due_on=after,
            due_on_provisional=not new.known(after.year),
            years=tuple(years),
            message=moved_message("项目结算财评或审计", before.isoformat(), new.dated(after), tuple(years)),
            articles=policy.rule(j, RULE).articles,
        )
    )
    return True
