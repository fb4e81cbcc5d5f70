"""Every acceptance time limit of a project for people to read: running, open, met or missed."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from services.acceptance.domain.application import application_due, earliest_application
from services.acceptance.domain.evaluation import evaluation_window, self_evaluation_due
from services.acceptance.domain.project import Pack, Project, Status
from services.acceptance.domain.trial import initial_due, trial_limit


class DeadlineKind(StrEnum):
    """The acceptance time limits a project can have (labelled in services.acceptance.labels)."""

    INITIAL_ACCEPTANCE = "initial_acceptance"
    APPLICATION_OPENS = "application_opens"
    APPLICATION = "application"
    TRIAL_RUN_LIMIT = "trial_run_limit"
    ACCEPTANCE_REPORT = "acceptance_report"
    SELF_EVALUATION = "self_evaluation"
    POST_EVALUATION_OPENS = "post_evaluation_opens"
    POST_EVALUATION = "post_evaluation"


@dataclass(frozen=True)
class Deadline:
    deadline: str
    due_on: dt.date
    state: str  # running | open | met | missed
    articles: tuple[str, ...]


@dataclass
class _Limits:
    project: Project
    pack: Pack
    out: list[Deadline]

    def add(self, kind: DeadlineKind, rule_id: str, due: dt.date, met: bool, *, opens: bool = False) -> None:
        today = self.pack.today
        state = (
            "met" if met else ("open" if opens and today >= due else "missed" if today > due else "running")
        )
        self.out.append(Deadline(kind, due, state, self.pack.articles(self.project.jurisdiction, rule_id)))


def _before_application(limits: _Limits, completed_on: dt.date) -> None:
    project, pack, j = limits.project, limits.pack, limits.project.jurisdiction
    initial = initial_due(pack.policy, pack.calendar, j, completed_on)
    if initial is not None:
        limits.add(
            DeadlineKind.INITIAL_ACCEPTANCE,
            "acceptance.initial_deadline",
            initial,
            project.initial_on is not None,
        )
    earliest = (
        earliest_application(pack.policy, pack.calendar, j, project.initial_on)
        if project.initial_on
        else None
    )
    if earliest is not None:
        limits.add(
            DeadlineKind.APPLICATION_OPENS,
            "acceptance.apply_after_initial",
            earliest,
            bool(project.applications),
            opens=True,
        )
    due = application_due(pack.policy, pack.calendar, j, completed_on, project.initial_on)
    if due is not None:
        limits.add(
            DeadlineKind.APPLICATION,
            "acceptance.apply_deadline",
            project.delay_until or due.due_on,
            bool(project.applications),
        )
    limit = trial_limit(pack.policy, j, project.trial_started_on) if project.trial_started_on else None
    if limit is not None:
        limits.add(
            DeadlineKind.TRIAL_RUN_LIMIT, "acceptance.trial_run_max", limit, project.status is Status.ACCEPTED
        )


def _after_acceptance(limits: _Limits) -> None:
    project, pack, j, today = limits.project, limits.pack, limits.project.jurisdiction, limits.pack.today
    if project.report_due_on is not None:
        limits.add(
            DeadlineKind.ACCEPTANCE_REPORT,
            "acceptance.report_deadline",
            project.report_due_on,
            project.report is not None,
        )
    self_due = self_evaluation_due(pack.policy, j, today.year)
    if self_due is not None:
        done = any(e.evaluation == "self" and e.period == str(today.year) for e in project.evaluations)
        limits.add(DeadlineKind.SELF_EVALUATION, "acceptance.self_evaluation_deadline", self_due, done)
    window = (
        evaluation_window(pack.policy, pack.calendar, j, project.accepted_on) if project.accepted_on else None
    )
    if window is None:
        return
    evaluated = any(e.evaluation in ("post", "first_year") for e in project.evaluations)
    limits.add(
        DeadlineKind.POST_EVALUATION_OPENS,
        "acceptance.post_evaluation_window",
        window.opens,
        evaluated,
        opens=True,
    )
    if window.closes is not None:
        limits.add(
            DeadlineKind.POST_EVALUATION, "acceptance.post_evaluation_window", window.closes, evaluated
        )


def deadlines(project: Project, pack: Pack) -> list[Deadline]:
    """The project's time limits by due day; none before completion or once closed."""
    if project.status is Status.CLOSED or project.completed_on is None:
        return []
    limits = _Limits(project, pack, [])
    _before_application(limits, project.completed_on)
    _after_acceptance(limits)
    return sorted(limits.out, key=lambda d: d.due_on)
