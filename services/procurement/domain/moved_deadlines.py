"""A newly loaded holiday notice moves a project's open deadlines.

A month limit ending on a rest day ends on the next working day, and a working-day limit counts
working days: both may move when a year's holiday arrangement is loaded. Each deadline still open
(not met, its passing not yet announced) is worked out by the old calendar and by the new one;
one that moved is announced once (its key and new day kept in the project's notices, so a retry
or another replica does not announce it again).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from services.procurement.domain.deadlines import Due, deadlines
from services.procurement.domain.project import Project
from services.procurement.domain.project_deadlines import facts_of
from shared.contracts.deadlines import moved_message
from shared.contracts.procurement import ProcurementDeadlineMoved
from shared.policy import PolicyRegistry
from shared.workdays import WorkingCalendar

#: The deadlines as people name them.
NAMES = {
    "implementation_plan": "报送实施方案和进度计划",
    "contract": "签订合同",
    "start": "启动实施",
    "progress": "报送实施进度报告",
    "delay": "报送逾期情况说明",
}


def move_deadlines(
    policy: PolicyRegistry,
    calendars: tuple[WorkingCalendar, WorkingCalendar],
    project: Project,
    today: dt.date,
    years: Sequence[int],
) -> int:
    """Announce each open deadline of the project the new calendar moves; returns how many."""
    if not project.in_progress:
        return 0
    old, new = calendars
    facts = facts_of(project)
    before = {d.key: d for d in deadlines(policy, old, facts, today)}
    moved = [
        (before[d.key], d)
        for d in deadlines(policy, new, facts, today)
        if d.key in before
        and before[d.key].due_on != d.due_on
        and not d.met
        and d.key not in project.notices
        and _notice(d) not in project.notices
    ]
    for was, now in moved:
        project.events.append(_moved(policy, new, project, (was, now), years))
    project.notices = [*project.notices, *(_notice(now) for _, now in moved)]
    return len(moved)


def _notice(due: Due) -> str:
    return f"moved:{due.key}:{due.due_on.isoformat()}"


def _moved(
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    project: Project,
    dues: tuple[Due, Due],
    years: Sequence[int],
) -> ProcurementDeadlineMoved:
    was, now = dues
    what = NAMES.get(now.kind, now.kind)
    if now.period:
        what = f"{now.period}{what}"
    return ProcurementDeadlineMoved(
        project_id=project.id,
        jurisdiction=project.jurisdiction,
        agency=project.agency,
        deadline=now.kind,
        reference=now.period,
        previous_due_on=was.due_on,
        due_on=now.due_on,
        due_on_provisional=not calendar.known(now.due_on.year),
        years=tuple(years),
        message=moved_message(
            f"项目{what}", was.due_on.isoformat(), calendar.dated(now.due_on), tuple(years)
        ),
        articles=policy.rule(project.jurisdiction, now.rule).articles,
    )
