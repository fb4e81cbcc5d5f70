"""初验 and the trial run: their windows and order, asked of the pack.

- 初验 by the unit (zhonglou §18, shexian §39, xunyang §19, lhasa §17); shexian §39 within three
  months of completion.
- Trial run: shexian §39 at least a month; bayingolin §27 a month for packaged products and three
  for software development, and at most a year from its start to acceptance (bayingolin §25, §27);
  xunyang §19 wants one before 初验 without a length; shexian §39 runs it after 初验.
Month limits are calendar months; one ending on a rest day ends on the next working day.
"""

from __future__ import annotations

import datetime as dt

from services.acceptance.domain.errors import AcceptanceError, InvalidState, RuleViolation
from services.acceptance.domain.project import Pack, Project
from services.acceptance.domain.records import InitialAcceptance, notes_of
from shared.contracts.acceptance import InitialAcceptanceRecorded, TrialRunRecorded
from shared.policy import PolicyRegistry, Reason, citations
from shared.workdays import WorkingCalendar, months_after


def initial_due(
    policy: PolicyRegistry, calendar: WorkingCalendar, jurisdiction: str, completed_on: dt.date
) -> dt.date | None:
    rule = policy.rule(jurisdiction, "acceptance.initial_deadline")
    if not rule.applies:
        return None
    return calendar.last_day(months_after(completed_on, int(rule.param("months"))))


def trial_months(policy: PolicyRegistry, jurisdiction: str, software_fen: int) -> int | None:
    """The shortest trial run in months (0: one is needed, its length is not set); None: not required."""
    rule = policy.rule(jurisdiction, "acceptance.trial_run_min")
    if not rule.applies:
        return None
    if software_fen > 0 and "software_dev_months" in rule.params:
        return int(rule.params["software_dev_months"])
    return int(rule.params.get("months", 0))


def trial_limit(policy: PolicyRegistry, jurisdiction: str, started_on: dt.date) -> dt.date | None:
    """The last day acceptance may be completed after the trial started (bayingolin §27)."""
    rule = policy.rule(jurisdiction, "acceptance.trial_run_max")
    if not rule.applies:
        return None
    return months_after(started_on, 12 * int(rule.param("years")))


def not_after(day: dt.date | None, today: dt.date, what: str) -> None:
    """Dates people report must have happened: a date to come would shorten the minimum periods."""
    if day is not None and day > today:
        raise AcceptanceError(f"{what} {day.isoformat()} 晚于今日 {today.isoformat()}")


def _initial_order(project: Project, policy: PolicyRegistry, held_on: dt.date) -> list[Reason]:
    """xunyang §19: 初验 after the trial run has ended."""
    trial = policy.rule(project.jurisdiction, "acceptance.trial_run_min")
    if (
        trial.applies
        and trial.params.get("before_initial_acceptance")
        and (project.trial_ended_on is None or project.trial_ended_on > held_on)
    ):
        return [
            policy.refusal(
                project.jurisdiction,
                "acceptance.trial_run_min",
                "trial_run_before_initial",
                "项目竣工后须经系统测试和试运行结束后方进行初步验收",
            )
        ]
    return []


def _initial_late(project: Project, pack: Pack, held_on: dt.date) -> list[Reason]:
    """shexian §39: 初验 within three months of completion; a late one is kept, marked and cited."""
    if project.completed_on is None:
        return []
    due = initial_due(pack.policy, pack.calendar, project.jurisdiction, project.completed_on)
    if due is None or held_on <= due:
        return []
    return [
        pack.policy.refusal(
            project.jurisdiction,
            "acceptance.initial_deadline",
            "initial_acceptance_late",
            f"项目于 {project.completed_on.isoformat()} 竣工，应在 {pack.calendar.dated(due)} 前初验，"
            f"实际 {held_on.isoformat()} 初验，已逾期",
        )
    ]


def record_initial(
    project: Project, pack: Pack, *, held_on: dt.date, passed: bool, findings: str, by: str
) -> None:
    """初验 by the unit, never before completion nor (xunyang §19) before the trial run ended."""
    order = _initial_order(project, pack.policy, held_on)
    late = _initial_late(project, pack, held_on)
    completed_on = project.ensure_built()
    if project.initial and project.initial.passed:
        raise InvalidState(f"初验已于 {project.initial.held_on.isoformat()} 通过")
    if held_on < completed_on:
        raise AcceptanceError("初验日期不能早于竣工日期")
    RuleViolation.refuse_if(order, "不能登记初验")
    project.initial = InitialAcceptance(held_on, passed, findings, by, bool(late), notes_of(late))
    project.emit(
        InitialAcceptanceRecorded,
        held_on=held_on,
        passed=passed,
        late=bool(late),
        notes=citations(late),
        articles=pack.articles(project.jurisdiction, "acceptance.initial_by_unit"),
    )


def _trial_order(project: Project, policy: PolicyRegistry, started_on: dt.date) -> list[Reason]:
    """shexian §39: the trial run starts after 初验 passed."""
    rule = policy.rule(project.jurisdiction, "acceptance.trial_run_min")
    initial_on = project.initial_on
    if not (rule.applies and rule.params.get("after_initial_acceptance")):
        return []
    if initial_on is not None and started_on >= initial_on:
        return []
    return [
        policy.refusal(
            project.jurisdiction,
            "acceptance.trial_run_min",
            "trial_run_after_initial",
            "试运行在初验通过后开展"
            + (f"（初验于 {initial_on.isoformat()}）" if initial_on else "，尚未初验"),
        )
    ]


def _start(project: Project, on: dt.date, order: list[Reason], articles: tuple[str, ...]) -> None:
    completed_on = project.ensure_built()
    if project.trial_started_on is not None:
        raise InvalidState(f"试运行已于 {project.trial_started_on.isoformat()} 开始")
    if on < completed_on:
        raise AcceptanceError("试运行不能早于竣工")
    RuleViolation.refuse_if(order, "不能开始试运行")
    project.trial_started_on = on
    project.emit(TrialRunRecorded, started_on=on, articles=articles)


def _end(project: Project, on: dt.date, articles: tuple[str, ...]) -> None:
    project.ensure_built()
    if project.trial_started_on is None:
        raise InvalidState("试运行尚未开始")
    if project.trial_ended_on is not None:
        raise InvalidState(f"试运行已于 {project.trial_ended_on.isoformat()} 结束")
    if on <= project.trial_started_on:
        raise AcceptanceError("试运行结束日期须晚于开始日期")
    project.trial_ended_on = on
    project.emit(TrialRunRecorded, started_on=project.trial_started_on, ended_on=on, articles=articles)


def record_trial(
    project: Project, pack: Pack, *, started_on: dt.date | None, ended_on: dt.date | None
) -> None:
    """试运行: record its start, then its end (both at once where both are given)."""
    articles = pack.articles(project.jurisdiction, "acceptance.trial_run_min")
    if started_on is not None:
        _start(project, started_on, _trial_order(project, pack.policy, started_on), articles)
    if ended_on is not None:
        _end(project, ended_on, articles)
