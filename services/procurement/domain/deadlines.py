"""Deadlines that run by themselves, each from the date the pack names.

Implementation plan (bayingolin §16), contract (bayingolin §21; missed only once a contract signed
on its last day could no longer be filed in time, bayingolin §18), substantive start (zhonglou §17
from the review's pass, bayingolin §16 from the plan), progress reports (bayingolin §20 quarterly,
shexian §35 and xunyang §17 yearly) and delay beyond a share of the contract period (lhasa §18:
50%). Month limits are calendar months; a limit falling on a rest day ends on the next working day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from services.procurement.domain.contracts import filing_due
from services.procurement.domain.periods import periods
from services.procurement.domain.project import Project
from services.procurement.domain.status import Status
from shared.contracts import Event
from shared.contracts.procurement import DeadlineMissed, TerminationRecommended
from shared.policy import PolicyRegistry
from shared.workdays import WorkingCalendar, months_after, today_in_shanghai


@dataclass(frozen=True)
class Facts:
    """What the deadlines look at, read off a project."""

    jurisdiction: str
    plan_issued_on: dt.date | None = None
    review_passed_on: dt.date | None = None
    approved_on: dt.date | None = None
    implementation_plan_on: dt.date | None = None
    procurement_started_on: dt.date | None = None  # requirements submitted or a tender announced
    contract_signed_on: dt.date | None = None  # the first construction contract
    started_on: dt.date | None = None
    completed_on: dt.date | None = None
    contract_period: tuple[dt.date, dt.date] | None = None  # 合同工期 of the construction contract
    reports: dict[tuple[str, str | None], dt.date] = field(default_factory=dict)  # (kind, period) → submitted


@dataclass(frozen=True)
class Due:
    """One deadline: its key (fires once), rule, last day, and whether it is met."""

    key: str
    kind: str
    rule: str
    due_on: dt.date
    met: bool
    terminate: bool = False
    period: str | None = None
    filing_until: dt.date | None = None  # what was done by due_on may be reported up to this day

    def missed(self, today: dt.date) -> bool:
        return not self.met and today > (self.filing_until or self.due_on)


def _by(day: dt.date | None, due: dt.date) -> bool:
    """Met: done on or before the last day (a late one stays missed, and is evented once)."""
    return day is not None and day <= due


def deadlines(policy: PolicyRegistry, calendar: WorkingCalendar, facts: Facts, today: dt.date) -> list[Due]:
    """Every deadline the pack sets for the project so far, met or not, in date order."""
    j = facts.jurisdiction
    found: list[Due] = []
    substantive = min((d for d in (facts.contract_signed_on, facts.started_on) if d), default=None)
    evidence = {
        "implementation_plan": facts.implementation_plan_on,
        "procurement": facts.procurement_started_on,
        "contract": facts.contract_signed_on,
        "construction": facts.started_on,
    }
    plan = policy.rule(j, "procurement.implementation_plan_deadline")
    if plan.applies and facts.plan_issued_on:
        due = calendar.last_day(months_after(facts.plan_issued_on, int(plan.param("months"))))
        found.append(
            Due(
                "implementation_plan",
                "implementation_plan",
                "procurement.implementation_plan_deadline",
                due,
                _by(facts.implementation_plan_on, due),
            )
        )
    contract = policy.rule(j, "procurement.contract_deadline")
    if contract.applies and facts.plan_issued_on:
        due = calendar.last_day(months_after(facts.plan_issued_on, int(contract.param("months"))))
        # A contract signed by the last day is known only once filed, within its limit (bayingolin §18).
        filing = filing_due(policy, calendar, j, due) if contract.params.get("await_filing") else None
        found.append(
            Due(
                "contract",
                "contract",
                "procurement.contract_deadline",
                due,
                _by(facts.contract_signed_on, due),
                bool(contract.params.get("terminate_on_breach")),
                filing_until=filing,
            )
        )
    start = policy.rule(j, "procurement.start_deadline")
    if start.applies:
        # What counts as started: a substantive start (zhonglou §17: a construction contract or
        # construction) unless the pack names more (bayingolin §16 启动实施, with four months
        # for the contract under §21: the implementation plan or procurement begun).
        kinds = start.params.get("started_by", ["contract", "construction"])
        started = min((d for k in kinds if (d := evidence[str(k)]) is not None), default=None)
        origin = (
            facts.plan_issued_on
            if start.params.get("start_from") == "plan_issued"
            else (facts.review_passed_on or facts.approved_on)
        )
        if origin is not None:
            due = calendar.last_day(months_after(origin, int(start.param("months"))))
            found.append(
                Due(
                    "start",
                    "start",
                    "procurement.start_deadline",
                    due,
                    _by(started, due),
                    bool(start.params.get("terminate_on_breach")),
                )
            )
    progress = policy.rule(j, "procurement.progress_reporting")
    if progress.applies and substantive is not None:
        frequency = str(progress.param("frequency"))
        until = min(today, facts.completed_on) if facts.completed_on else today
        for label, ends in periods(
            frequency,
            substantive,
            until,
            int(progress.params.get("month", 12)),
            int(progress.params.get("day", 31)),
        ):
            found.append(
                Due(
                    f"progress:{label}",
                    "progress",
                    "procurement.progress_reporting",
                    calendar.last_day(ends),
                    _by(facts.reports.get(("progress", label)), calendar.last_day(ends)),
                    period=label,
                )
            )
    delay = policy.rule(j, "procurement.delay_report")
    if delay.applies and facts.contract_period and facts.completed_on is None:
        begins, ends = facts.contract_period
        slack = (ends - begins) * int(delay.param("percent")) / 100
        due = ends + dt.timedelta(days=slack.days)
        found.append(Due("delay", "delay", "procurement.delay_report", due, ("delay", None) in facts.reports))
    return sorted(found, key=lambda d: (d.due_on, d.key))


STARTED_BY = {
    "implementation_plan": "报送实施方案",
    "procurement": "启动采购",
    "contract": "签订施工合同",
    "construction": "开工",
}


def deadline_message(policy: PolicyRegistry, jurisdiction: str, due: Due) -> str:
    rule = policy.rule(jurisdiction, due.rule)
    kinds = rule.params.get("started_by", ["contract", "construction"]) if due.kind == "start" else []
    started = "、".join(STARTED_BY[str(k)] for k in kinds[:-1]) + ("或" if len(kinds) > 1 else "")
    started += STARTED_BY[str(kinds[-1])] if kinds else ""
    what = {
        "implementation_plan": "实施计划下达后未按期报送实施方案和进度计划",
        "contract": "实施计划下达后未按期签订合同",
        "start": f"未按期{'实质性启动' if 'implementation_plan' not in kinds else '启动实施'}（{started}）",
        "progress": f"未按期报送{due.period or ''}实施进度（绩效评价）报告",
        "delay": "超过合同工期未竣工，须报告情况说明并整改",
    }[due.kind]
    ending = "，原则上终止实施、收回资金" if due.terminate else ""
    filing = ""
    if due.filing_until is not None:
        cited = "、".join(policy.rule(jurisdiction, "procurement.contract_filing").articles)
        filing = f"，合同备案期至 {due.filing_until.isoformat()}，{cited}"
    return f"{what}（期限 {due.due_on.isoformat()}{filing}）{ending}（{'、'.join(rule.articles)}）"


# -- a project's deadlines --------------------------------------------------------------------------


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
            TerminationRecommended(project_id=project.id, jurisdiction=j, reason=message, articles=articles)
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
