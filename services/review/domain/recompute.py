"""A newly loaded holiday notice moves a case's running time limit (lhasa §11: working days).

The limit is counted again from the day it started, by the old calendar and by the new one; when
the stored due date is the old calendar's and the new one gives another day, the case takes the
new day and announces the move. A due date the old calendar does not explain (set under other
pack parameters) is left as it is, and so is one already moved (another replica, a retry).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from services.review.domain.cases import ReviewCase
from services.review.domain.rules import Clock, clock_articles, due
from shared.contracts.deadlines import moved_message
from shared.contracts.review import ReviewDeadlineMoved
from shared.policy import PolicyRegistry
from shared.workdays import WorkingCalendar, today_in_shanghai

#: The time limits as people name them.
CLOCK_NAMES = {
    Clock.FIRST_REVIEW: "初步评审",
    Clock.PASS_REPORT: "出具评审报告",
    Clock.FAIL_OPINION: "书面反馈评审意见",
    Clock.REVISION: "修改评审材料",
    Clock.SECOND_REVIEW: "再次评审",
}


def started_on(case: ReviewCase) -> dt.date | None:
    """The day the case's running time limit counts from: the materials' arrival for a review, the
    conclusion for the report or written opinion, the written opinion (or the conclusion, where
    the pack sets no opinion limit) for the revision."""
    if case.clock is None:
        return None
    clock = Clock(case.clock)
    if clock in (Clock.FIRST_REVIEW, Clock.SECOND_REVIEW):
        return case.received_on
    if case.concluded_at is None:
        return None
    concluded = today_in_shanghai(case.concluded_at)
    if clock is Clock.REVISION:
        written = [r.issued_on for r in case.reports if r.round == case.round]
        return written[-1] if written else concluded
    return concluded


def move_time_limit(
    case: ReviewCase,
    policy: PolicyRegistry,
    calendars: tuple[WorkingCalendar, WorkingCalendar],
    years: Sequence[int],
) -> bool:
    """Move the case's running time limit from the old calendar's day to the new one's, with an
    event; False when it does not move."""
    start = started_on(case)
    if start is None or case.clock is None or case.due_on is None:
        return False
    clock, (old, new) = Clock(case.clock), calendars
    before = due(policy, old, case.jurisdiction, clock, start)
    after = due(policy, new, case.jurisdiction, clock, start)
    if before is None or after is None or before.date != case.due_on or after.date == before.date:
        return False
    previous = case.due_on
    case.due_on = after.date
    if after.date > previous:  # moved later: its passing is announced again
        case.overdue_notified = False
    case.events.append(
        ReviewDeadlineMoved(
            project_id=case.project_id,
            jurisdiction=case.jurisdiction,
            agency=case.agency,
            deadline=clock.name.lower(),
            reference=case.id,
            previous_due_on=previous,
            due_on=after.date,
            due_on_provisional=not new.known(after.date.year),
            years=tuple(years),
            message=moved_message(
                f"评审案件 {case.id} 的{CLOCK_NAMES[clock]}",
                previous.isoformat(),
                new.dated(after.date),
                tuple(years),
            ),
            articles=clock_articles(policy, case.jurisdiction, clock),
        )
    )
    return True
