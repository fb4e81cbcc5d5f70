"""Acceptance rules asked of the pack: windows, trial runs, preconditions, materials and evaluations.

- 初验 by the unit (zhonglou §18, shexian §39, xunyang §19, lhasa §17); shexian §39 within three
  months of completion.
- Trial run: shexian §39 at least a month; bayingolin §27 a month for packaged products and three
  for software development, and at most a year from its start to acceptance (bayingolin §25, §27);
  xunyang §19 wants one before 初验 without a length.
- Application windows: zhonglou §18 not before three months after 初验; shexian §39 within six
  months of completion unless a delay was approved; lhasa §17 within six months of 初验.
- Preconditions: data sharing confirmed (shexian §39, §44(一)); archives accepted (shexian §41,
  bayingolin §25); the pack's materials (shexian §39, xunyang §19, zhonglou §18, bayingolin §26).
- The acceptance report: bayingolin §29 within seven working days of the acceptance.
- Evaluations: post-evaluation 12–24 months after acceptance (shexian §43, lhasa §22), the
  first-year evaluation in the month after the first year (bayingolin §31), zhonglou §20's yearly
  expert post-evaluation and self-evaluation by Nov 30.
Month limits are calendar months; one ending on a rest day ends on the next working day.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from shared.policy import PolicyRegistry
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


def earliest_application(
    policy: PolicyRegistry, calendar: WorkingCalendar, jurisdiction: str, initial_on: dt.date
) -> dt.date | None:
    """zhonglou §18: the application comes three months after 初验 at the earliest."""
    rule = policy.rule(jurisdiction, "acceptance.apply_after_initial")
    if not rule.applies:
        return None
    return months_after(initial_on, int(rule.param("months")))


@dataclass(frozen=True)
class ApplicationDue:
    due_on: dt.date
    extension_allowed: bool


def application_due(
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    jurisdiction: str,
    completed_on: dt.date | None,
    initial_on: dt.date | None,
) -> ApplicationDue | None:
    """shexian §39 (from completion, a delay may be approved), lhasa §17 (from 初验)."""
    rule = policy.rule(jurisdiction, "acceptance.apply_deadline")
    if not rule.applies:
        return None
    start = initial_on if rule.params.get("start_from") == "initial_acceptance" else completed_on
    if start is None:
        return None
    due = calendar.last_day(months_after(start, int(rule.param("months"))))
    return ApplicationDue(due, bool(rule.params.get("extension_allowed")))


def materials(policy: PolicyRegistry, jurisdiction: str, kind: str) -> dict[str, str]:
    """The documents an application carries (material → label); O&M projects may omit them where
    the pack says so (shexian §39 运维类项目可据实提供)."""
    rule = policy.rule(jurisdiction, "acceptance.materials")
    if not rule.applies or (kind == "operation" and rule.params.get("om_flexible")):
        return {}
    labels = rule.params.get("labels", {})
    return {m: str(labels.get(m, m)) for m in rule.params.get("materials", [])}


ARCHIVES = "archives_acceptance"  # the material proving the archives were accepted (档案验收意见)


def archives_required(policy: PolicyRegistry, jurisdiction: str) -> bool:
    rule = policy.rule(jurisdiction, "acceptance.archives_required")
    return rule.applies and bool(rule.params.get("archive_acceptance_required"))


def required_materials(policy: PolicyRegistry, jurisdiction: str, kind: str) -> dict[str, str]:
    """What an application must carry: the pack's materials, and the archives' acceptance where
    the project cannot pass without it (shexian §41, bayingolin §25)."""
    wanted = materials(policy, jurisdiction, kind)
    if archives_required(policy, jurisdiction):
        wanted[ARCHIVES] = "档案验收意见（文号）"
    return wanted


def data_sharing_required(policy: PolicyRegistry, jurisdiction: str) -> bool:
    return policy.rule(jurisdiction, "acceptance.data_sharing_confirmed_required").applies


def experts_conclude(policy: PolicyRegistry, jurisdiction: str) -> bool:
    """The final acceptance is an expert panel's (a review case) where the pack says so and has panels."""
    rule = policy.rule(jurisdiction, "acceptance.final_acceptance")
    return (
        rule.applies
        and bool(rule.params.get("experts"))
        and policy.rule(jurisdiction, "review.panel").applies
    )


def report_due(
    policy: PolicyRegistry, calendar: WorkingCalendar, jurisdiction: str, concluded_on: dt.date
) -> dt.date | None:
    rule = policy.rule(jurisdiction, "acceptance.report_deadline")
    if not rule.applies or "working_days" not in rule.params:
        return None
    return calendar.add_working_days(concluded_on, int(rule.params["working_days"])).date


@dataclass(frozen=True)
class Window:
    opens: dt.date
    closes: dt.date | None


def evaluation_window(
    policy: PolicyRegistry, calendar: WorkingCalendar, jurisdiction: str, accepted_on: dt.date
) -> Window | None:
    """When the post-evaluation (or bayingolin §31's first-year evaluation) is due."""
    rule = policy.rule(jurisdiction, "acceptance.post_evaluation_window")
    if not rule.applies:
        return None
    if rule.params.get("frequency") == "yearly":  # zhonglou §20: every year, the first a year on
        return Window(months_after(accepted_on, 12), None)
    opens = months_after(accepted_on, int(rule.param("min_months")))
    closes = calendar.last_day(months_after(accepted_on, int(rule.param("max_months"))))
    return Window(opens, closes)


def self_evaluation_due(policy: PolicyRegistry, jurisdiction: str, year: int) -> dt.date | None:
    """zhonglou §20: the yearly self-evaluation by Nov 30."""
    rule = policy.rule(jurisdiction, "acceptance.self_evaluation_deadline")
    if not rule.applies or "month" not in rule.params:
        return None
    return dt.date(year, int(rule.params["month"]), int(rule.params["day"]))
