"""Deadlines that run by themselves, each from the date the pack names.

Implementation plan (bayingolin §16), contract (bayingolin §21; missed only once a contract signed
on its last day could no longer be filed in time, bayingolin §18), substantive start (zhonglou §17
from the review's pass, bayingolin §16 from the plan), progress reports (bayingolin §20 quarterly,
shexian §35 and xunyang §17 yearly) and delay beyond a share of the contract period (lhasa §18:
50%). Month limits are calendar months; a limit falling on a rest day ends on the next working day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field, replace

from services.procurement.domain.contracts import filing_due
from services.procurement.domain.periods import periods
from shared.policy import PolicyRegistry
from shared.workdays import WorkingCalendar, dated, months_after


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
    extensions: dict[str, dt.date] = field(
        default_factory=dict
    )  # kind → the day the authority extended it to


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
    done_on: dt.date | None = None  # when what it asks for was done, if it was

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
                done_on=facts.implementation_plan_on,
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
                done_on=facts.contract_signed_on,
            )
        )
    start = policy.rule(j, "procurement.start_deadline")
    if start.applies:
        # What counts as started: a substantive start (zhonglou §17: a construction contract or
        # construction) unless the pack names more (bayingolin §16 启动实施, with four months
        # for the contract under §21: the implementation plan or procurement begun).
        kinds = start.params.get("started_by", ["contract", "construction"])
        started = min((d for k in kinds if (d := evidence[str(k)]) is not None), default=None)
        origin = _start_origin(start.params, facts)
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
                    done_on=started,
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
    return sorted((_extended(d, facts) for d in found), key=lambda d: (d.due_on, d.key))


def _start_origin(params: dict[str, object], facts: Facts) -> dt.date | None:
    """The day the start clock runs from: the plan's issue (bayingolin §16) or the review's pass
    (zhonglou §17); with `not_before_approval` no earlier than the approval, since nothing may
    start before it (zhonglou §13) — and not at all while there is none."""
    if params.get("start_from") == "plan_issued":
        return facts.plan_issued_on
    if params.get("not_before_approval"):
        if facts.approved_on is None:
            return None
        return max(facts.review_passed_on or facts.approved_on, facts.approved_on)
    return facts.review_passed_on or facts.approved_on


def _extended(due: Due, facts: Facts) -> Due:
    """A deadline the authority extended (延期) runs to the new day; missed again, it is evented again."""
    until = facts.extensions.get(due.kind)
    if until is None or until <= due.due_on:
        return due
    return replace(
        due,
        key=f"{due.key}@{until.isoformat()}",
        due_on=until,
        met=_by(due.done_on, until),
        filing_until=None,
    )


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
        "delay": f"超过合同工期未竣工：{rule.summary}",
    }[due.kind]
    ending = "，原则上终止实施、收回资金" if due.terminate else ""
    filing = ""
    if due.filing_until is not None:
        cited = "、".join(policy.rule(jurisdiction, "procurement.contract_filing").articles)
        filing = f"，合同备案期至 {dated(due.filing_until)}，{cited}"
    return f"{what}（期限 {dated(due.due_on)}{filing}）{ending}（{'、'.join(rule.articles)}）"
