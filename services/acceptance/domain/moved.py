"""A newly loaded holiday notice moves a project's open acceptance time limits.

The acceptance report's due date (bayingolin §29: working days after the acceptance) is kept with
the project: where it is the old calendar's day and the new calendar gives another, the project
takes the new one. The other limits are worked out whenever they are shown (a month limit ends on
the next working day): each one not yet met is worked out by both calendars. Every move is
announced once (its key and new day kept in the project's notices, so a retry or another replica
does not announce it again).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from services.acceptance.domain.deadlines import Deadline, deadlines
from services.acceptance.domain.final import report_due
from services.acceptance.domain.project import Pack, Project
from shared.contracts.acceptance import AcceptanceDeadlineMoved
from shared.contracts.deadlines import moved_message

#: The time limits as people name them.
NAMES = {
    "initial_acceptance": "初验",
    "application_opens": "可申请终验之日",
    "application": "申请竣工验收",
    "trial_run_limit": "试运行",
    "acceptance_report": "报送验收报告",
    "self_evaluation": "绩效自评",
    "post_evaluation_opens": "可开展后评价之日",
    "post_evaluation": "完成后评价",
}
REPORT = "acceptance_report"


def move_deadlines(project: Project, packs: tuple[Pack, Pack], years: Sequence[int]) -> int:
    """Move and announce each open time limit of the project the new calendar (`packs[1]`) moves;
    returns how many moved."""
    old, new = packs
    moved = _move_report(project, old, new)
    before = {d.deadline: d for d in deadlines(project, old)}
    moved += [
        (before[d.deadline], d)
        for d in deadlines(project, new)
        if d.deadline in before
        and d.deadline != REPORT
        and d.state != "met"
        and before[d.deadline].due_on != d.due_on
    ]
    fresh = [(was, now) for was, now in moved if _notice(now) not in project.notices]
    for was, now in fresh:
        project.events.append(_announced(project, new, (was, now), years))
    project.notices = [*project.notices, *(_notice(now) for _, now in fresh)]
    return len(fresh)


def _move_report(project: Project, old: Pack, new: Pack) -> list[tuple[Deadline, Deadline]]:
    """The stored report due date, moved where the old calendar explains it and the new one differs."""
    stored, accepted_on, j = project.report_due_on, project.accepted_on, project.jurisdiction
    if stored is None or accepted_on is None or project.report is not None:
        return []
    before = report_due(old.policy, old.calendar, j, accepted_on)
    after = report_due(new.policy, new.calendar, j, accepted_on)
    if before != stored or after is None or after == before:
        return []
    project.report_due_on = after
    was = Deadline(REPORT, stored, "running", new.articles(j, "acceptance.report_deadline"))
    return [(was, dataclasses.replace(was, due_on=after))]


def _notice(deadline: Deadline) -> str:
    return f"moved:{deadline.deadline}:{deadline.due_on.isoformat()}"


def _announced(
    project: Project, pack: Pack, dues: tuple[Deadline, Deadline], years: Sequence[int]
) -> AcceptanceDeadlineMoved:
    was, now = dues
    day: dt.date = now.due_on
    return AcceptanceDeadlineMoved(
        project_id=project.id,
        jurisdiction=project.jurisdiction,
        agency=project.agency,
        deadline=now.deadline,
        previous_due_on=was.due_on,
        due_on=day,
        due_on_provisional=not pack.calendar.known(day.year),
        years=tuple(years),
        message=moved_message(
            f"项目{NAMES.get(now.deadline, now.deadline)}",
            was.due_on.isoformat(),
            pack.calendar.dated(day),
            tuple(years),
        ),
        articles=now.articles,
    )
