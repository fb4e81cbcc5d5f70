"""年度计划申报周期 — which plan year a declaration goes to, and when it may be made.

zhonglou §6 and xunyang §7: by Sep 30 for the next year; lhasa §7: by Aug 31, later ones roll
into the year after next, pre-reviewed on the 4th Thursday of each month; bayingolin §9:
build and service projects any time, reviewed monthly; §10: O&M projects only in Q3. Emergency
projects outside the plan are for the current year (zhonglou §9, shexian §14, bayingolin §15,
xunyang §9, lhasa §6).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field

from shared.policy import PolicyRegistry, Reason


@dataclass(frozen=True)
class Cycle:
    """The outcome: the plan year, the review batch, notes for the agency, or refusals."""

    plan_year: int
    review_batch: str | None = None
    notes: tuple[Reason, ...] = ()
    refusals: tuple[Reason, ...] = field(default=())


def _nth_weekday(year: int, month: int, week: int, iso_weekday: int) -> dt.date:
    first = dt.date(year, month, 1)
    offset = (iso_weekday - first.isoweekday()) % 7
    return first + dt.timedelta(days=offset + 7 * (week - 1))


def review_batch(policy: PolicyRegistry, jurisdiction: str, today: dt.date) -> str | None:
    """The monthly pre-review a declaration made today goes to (lhasa §7 date, bayingolin §9 month)."""
    rule = policy.rule(jurisdiction, "intake.monthly_prereview")
    if not rule.applies:
        return None
    week, weekday = rule.params.get("week_of_month"), rule.params.get("iso_weekday")
    if week is None or weekday is None:
        return f"{today:%Y-%m}"
    meeting = _nth_weekday(today.year, today.month, int(week), int(weekday))
    if meeting < today:
        year, month = (today.year + 1, 1) if today.month == 12 else (today.year, today.month + 1)
        meeting = _nth_weekday(year, month, int(week), int(weekday))
    return meeting.isoformat()


def plan_cycle(
    policy: PolicyRegistry,
    jurisdiction: str,
    *,
    kind: str,
    off_plan: bool,
    requested: int | None,
    today: dt.date,
) -> Cycle:
    """The plan year for a declaration submitted on `today` (Asia/Shanghai)."""
    batch = review_batch(policy, jurisdiction, today)
    if off_plan:
        # An emergency addition is implemented in the year it is approved.
        return Cycle(plan_year=today.year, review_batch=batch)
    window = policy.rule(jurisdiction, "intake.om_declaration_window")
    prereview = policy.rule(jurisdiction, "intake.monthly_prereview")
    # bayingolin §9: build and service projects are declared for the current year.
    default = today.year + int(
        prereview.params.get("default_plan_year_offset", 1) if prereview.applies else 1
    )
    if kind == "operation" and window.applies:
        quarter = int(window.param("quarter"))
        if (today.month - 1) // 3 + 1 != quarter:
            detail = f"运维类项目应于每年第{quarter}季度申报下一年度项目，今日（{today}）不在申报期内"
            refusal = policy.refusal(
                jurisdiction, "intake.om_declaration_window", "outside_om_window", detail
            )
            return Cycle(plan_year=today.year + 1, refusals=(refusal,))
        return _requested_or(policy, jurisdiction, requested, today.year + 1, today, batch)
    deadline_rule = policy.rule(jurisdiction, "intake.annual_deadline")
    if not deadline_rule.applies:
        return _requested_or(policy, jurisdiction, requested, default, today, batch)
    target = requested or today.year + 1
    month, day = int(deadline_rule.param("month")), int(deadline_rule.param("day"))
    day = min(day, calendar.monthrange(target - 1, month)[1])
    deadline = dt.date(target - 1, month, day)
    if target <= today.year:
        return _past_year(policy, jurisdiction, target, today, "intake.annual_deadline")
    if today <= deadline:
        return Cycle(plan_year=target, review_batch=batch)
    offset = deadline_rule.params.get("late_plan_year_offset")
    if offset:
        later = today.year + int(offset)
        note = policy.refusal(
            jurisdiction,
            "intake.annual_deadline",
            "rolled_to_later_plan",
            f"{target} 年度计划已于 {deadline} 截止编报，本申报预审通过后列入 {later} 年度计划",
        )
        return Cycle(plan_year=max(later, target), review_batch=batch, notes=(note,))
    refusal = policy.refusal(
        jurisdiction,
        "intake.annual_deadline",
        "declaration_deadline_passed",
        f"{target} 年度项目的申报已于 {deadline} 截止；确需当年实施的，请按计划外紧急项目程序申报",
    )
    return Cycle(plan_year=target, refusals=(refusal,))


def _requested_or(
    policy: PolicyRegistry,
    jurisdiction: str,
    requested: int | None,
    default: int,
    today: dt.date,
    batch: str | None,
) -> Cycle:
    target = requested or default
    if target < today.year:
        return _past_year(policy, jurisdiction, target, today, "funding.plan_required")
    return Cycle(plan_year=target, review_batch=batch)


def _past_year(policy: PolicyRegistry, jurisdiction: str, target: int, today: dt.date, rule: str) -> Cycle:
    refusal = policy.refusal(
        jurisdiction,
        rule,
        "plan_year_closed",
        f"不能申报 {target} 年度计划（今日 {today}）；确需当年实施的，请按计划外紧急项目程序申报",
    )
    return Cycle(plan_year=target, refusals=(refusal,))
