"""A project's deadlines: its facts read off the project, each missed deadline evented once
(with a termination recommendation where the pack says 原则上终止), and the deadlines as people
read them (running, met, missed)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from services.procurement.domain.deadlines import Due, Facts, deadline_message, deadlines
from services.procurement.domain.project import Project
from services.procurement.domain.status import Status
from shared.contracts import Event
from shared.contracts.procurement import DeadlineMissed, TerminationRecommended
from shared.policy import PolicyRegistry
from shared.workdays import WorkingCalendar, today_in_shanghai


def procurement_started_on(project: Project) -> dt.date | None:
    """The first sign of procurement under way: requirements submitted, or a tender's announcement
    (its award where no announcement was recorded)."""
    days = [t.started_on for t in project.tenders]
    if project.requirements:
        days.append(today_in_shanghai(project.requirements.submitted_at))
    return min(days, default=None)


def facts_of(project: Project) -> Facts:
    period = (
        (project.contract_starts_on, project.contract_ends_on)
        if project.contract_starts_on and project.contract_ends_on
        else None
    )
    return Facts(
        jurisdiction=project.jurisdiction,
        plan_issued_on=project.plan_issued_on,
        review_passed_on=project.review_passed_on,
        approved_on=project.approved_on,
        implementation_plan_on=project.implementation_plan_on,
        procurement_started_on=procurement_started_on(project),
        contract_signed_on=project.contract_signed_on,
        started_on=project.started_on,
        completed_on=project.completed_on,
        contract_period=period,
        reports={(r.kind, r.period): r.submitted_on for r in project.reports},
        extensions={k: dt.date.fromisoformat(v) for k, v in (project.extensions or {}).items()},
    )


def note_missed(policy: PolicyRegistry, calendar: WorkingCalendar, project: Project, today: dt.date) -> int:
    """Event each deadline the project missed, once (its key kept in the project's notices);
    returns how many fired."""
    if not project.in_progress:
        return 0
    missed = [
        d
        for d in deadlines(policy, calendar, facts_of(project), today)
        if d.missed(today) and d.key not in project.notices
    ]
    for due in missed:
        project.events.extend(_missed_events(policy, project, due))
    if missed:
        project.notices = [*project.notices, *(d.key for d in missed)]
    return len(missed)


def _missed_events(policy: PolicyRegistry, project: Project, due: Due) -> list[Event]:
    j = project.jurisdiction
    message = deadline_message(policy, j, due)
    articles = policy.rule(j, due.rule).articles
    found: list[Event] = [
        DeadlineMissed(
            project_id=project.id,
            jurisdiction=j,
            agency=project.agency,
            deadline=due.kind,
            period=due.period,
            due_on=due.due_on,
            terminate=due.terminate,
            message=message,
            articles=articles,
        )
    ]
    if due.terminate:
        found.append(
            TerminationRecommended(
                project_id=project.id, jurisdiction=j, reason=message, articles=articles, deadline=due.kind
            )
        )
    return found


@dataclass(frozen=True)
class DeadlineState:
    """A deadline of the project as people read it: running, met or missed, with its articles."""

    deadline: str
    period: str | None
    due_on: dt.date
    state: str  # running | met | missed
    terminate_on_breach: bool
    articles: tuple[str, ...]
    message: str


def deadline_states(
    policy: PolicyRegistry, calendar: WorkingCalendar, project: Project, today: dt.date
) -> list[DeadlineState]:
    """Every deadline of the project with its state, for people to read."""
    if project.status is Status.CLOSED:
        return []
    return [
        DeadlineState(
            deadline=due.kind,
            period=due.period,
            due_on=due.due_on,
            state="met" if due.met else ("missed" if due.missed(today) else "running"),
            terminate_on_breach=due.terminate,
            articles=tuple(policy.rule(project.jurisdiction, due.rule).articles),
            message=deadline_message(policy, project.jurisdiction, due),
        )
        for due in deadlines(policy, calendar, facts_of(project), today)
    ]
