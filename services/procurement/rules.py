"""Procurement rules asked of the pack: change paths, supervision, filing limits and deadlines.

- Changes (`procurement.change_within_budget`, `procurement.change_reapproval`), counting every
  change in effect or still awaiting its decision:
  shexian §38 / lhasa §16 let the unit adjust and file when the total is not exceeded, the goal
  is unchanged, one of the listed grounds applies and the money moved is within 15% of the
  approved total (lhasa adds up the absolute adjustments of every change); anything else needs
  approval. zhonglou §14: every major change or overrun goes through the change procedure, an
  overrun of 10% or more needs re-approval (重新立项); a change neither major nor over is recorded.
  bayingolin §22: every change needs both the authority and finance. A pack without a change rule
  records changes without a procedure.
- Supervision (`procurement.supervision_required`): from the pack's amount (inclusive or not);
  zhonglou §15 also wants a security test of application software.
- Deadlines that run by themselves, each from the date the pack names: implementation plan
  (bayingolin §16), contract (bayingolin §21; missed only once a contract signed on its last day
  could no longer be filed in time, bayingolin §18), substantive start (zhonglou §17 from the
  review's pass, bayingolin §16 from the plan), progress reports (bayingolin §20 quarterly,
  shexian §35 and xunyang §17 yearly) and delay beyond a share of the contract period (lhasa §18:
  50%). Month limits are calendar months; a limit falling on a rest day ends on the next working
  day.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum

from dateutil.relativedelta import relativedelta

from shared.policy import PolicyRegistry, Reason
from shared.workdays import WorkingCalendar, months_after


class Path(StrEnum):
    FILE = "file"  # 建设单位调整，报审批部门备案
    APPROVAL = "approval"  # 履行变更审批手续
    REAPPROVAL = "reapproval"  # 重新立项


class Ground(StrEnum):
    """The grounds shexian §38 and lhasa §16 list for a unit's own adjustment."""

    POLICY = "policy"  # （一）根据上级部署或政府要求确需改变建设内容
    OPTIMISATION = "optimisation"  # （二）确需对原技术方案进行完善优化
    BUSINESS = "business"  # （三）业务发展需要，在已批复规划框架下调整内容及进度


@dataclass(frozen=True)
class ChangeRoute:
    path: Path
    approvers: tuple[str, ...]
    reasons: tuple[Reason, ...]
    articles: tuple[str, ...]


def _within(part: int, whole: int, percent: Decimal | int) -> bool:
    """part ≤ percent% of whole, exactly (integers and Decimal, no float)."""
    return Decimal(part) * 100 <= Decimal(whole) * Decimal(percent)


def route_change(
    policy: PolicyRegistry,
    jurisdiction: str,
    *,
    approved_fen: int,
    prior_overrun_fen: int,
    prior_adjusted_fen: int,
    total_delta_fen: int,
    adjustment_fen: int,
    goal_changed: bool,
    ground: Ground | None,
    major: bool = False,
) -> ChangeRoute:
    """Which path a change takes, and why, from the pack's change rules."""
    within = policy.rule(jurisdiction, "procurement.change_within_budget")
    reapproval = policy.rule(jurisdiction, "procurement.change_reapproval")
    overrun = prior_overrun_fen + total_delta_fen
    approvers = tuple(reapproval.params.get("approvers", ["authority"]))
    if within.applies:
        percent = Decimal(str(within.param("percent")))
        counted = adjustment_fen + (prior_adjusted_fen if within.params.get("cumulative_absolute") else 0)
        why: list[str] = []
        if overrun > 0:
            why.append("投资超出批复概算")
        if goal_changed:
            why.append("建设目标改变")
        if ground is None:
            why.append("不属于所列可自行调整的情形")
        if not _within(counted, approved_fen, percent):
            what = "资金调整数额绝对值累加" if within.params.get("cumulative_absolute") else "资金调整数额"
            why.append(f"{what}超过概算总投资的{percent}%")
        if not why:
            return ChangeRoute(Path.FILE, (), (), within.articles)
        reason = policy.refusal(
            jurisdiction,
            "procurement.change_reapproval",
            "change_needs_approval",
            "；".join(why) + "，须履行审批手续",
        )
        return ChangeRoute(Path.APPROVAL, approvers, (reason,), reapproval.articles)
    if reapproval.applies:
        when = set(reapproval.params.get("procedure_when", []))
        over = overrun > 0 and total_delta_fen > 0  # this change takes the total (further) over
        if when and not (("major" in when and major) or ("overrun" in when and over)):
            return ChangeRoute(Path.FILE, (), (), reapproval.articles)  # neither major nor over: recorded
        percent = Decimal(str(reapproval.params.get("percent", 0)))
        if percent > 0 and overrun > 0 and total_delta_fen > 0:
            exceeds = Decimal(overrun) * 100 >= Decimal(approved_fen) * percent
            if not reapproval.params.get("inclusive", True):
                exceeds = Decimal(overrun) * 100 > Decimal(approved_fen) * percent
            if exceeds:
                inclusive = "（含）" if reapproval.params.get("inclusive", True) else ""
                reason = policy.refusal(
                    jurisdiction,
                    "procurement.change_reapproval",
                    "change_needs_reapproval",
                    f"投资超出批复总投资{percent}%{inclusive}以上，须重新立项",
                )
                return ChangeRoute(Path.REAPPROVAL, approvers, (reason,), reapproval.articles)
        reason = policy.refusal(
            jurisdiction, "procurement.change_reapproval", "change_needs_approval", reapproval.summary
        )
        return ChangeRoute(Path.APPROVAL, approvers, (reason,), reapproval.articles)
    return ChangeRoute(Path.FILE, (), (), ())


def supervision_required(policy: PolicyRegistry, jurisdiction: str, amount_fen: int) -> bool:
    rule = policy.rule(jurisdiction, "procurement.supervision_required")
    if not rule.applies:
        return False
    threshold = int(rule.param("amount_fen"))
    return amount_fen >= threshold if rule.params.get("inclusive", True) else amount_fen > threshold


def security_test_required(policy: PolicyRegistry, jurisdiction: str, software_fen: int) -> bool:
    """zhonglou §15: application software development needs a security test."""
    rule = policy.rule(jurisdiction, "procurement.supervision_required")
    return rule.applies and bool(rule.params.get("software_security_test")) and software_fen > 0


def filing_due(
    policy: PolicyRegistry, calendar: WorkingCalendar, jurisdiction: str, signed_on: dt.date
) -> dt.date | None:
    """The last day to file a contract, counted in working days from signing; None where no limit."""
    rule = policy.rule(jurisdiction, "procurement.contract_filing")
    if not rule.applies or "working_days" not in rule.params:
        return None
    return calendar.add_working_days(signed_on, int(rule.params["working_days"])).date


# -- deadlines that run by themselves ---------------------------------------------------------------


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


def _periods(frequency: str, start: dt.date, end: dt.date, month: int, day: int) -> list[tuple[str, dt.date]]:
    """Reporting periods whose last day falls within [start, end]: (label, last day)."""
    found: list[tuple[str, dt.date]] = []
    if frequency == "quarterly":
        year, quarter = start.year, (start.month - 1) // 3 + 1
        while True:
            ends = dt.date(year, quarter * 3, 1) + relativedelta(months=1, days=-1)
            if ends > end:
                break
            if ends >= start:
                found.append((f"{year}Q{quarter}", ends))
            year, quarter = (year + 1, 1) if quarter == 4 else (year, quarter + 1)
    elif frequency == "yearly":
        for year in range(start.year, end.year + 1):
            ends = dt.date(year, month, day)
            if start <= ends <= end:
                found.append((str(year), ends))
    return found


def valid_period(frequency: str, period: str) -> bool:
    pattern = r"\d{4}Q[1-4]" if frequency == "quarterly" else r"\d{4}"
    return re.fullmatch(pattern, period) is not None


def period_starts(period: str) -> dt.date:
    """The first day of a period written 2026Q3 or 2026 (a malformed one counts as started)."""
    if re.fullmatch(r"\d{4}Q[1-4]", period):
        return dt.date(int(period[:4]), (int(period[5]) - 1) * 3 + 1, 1)
    if re.fullmatch(r"\d{4}", period):
        return dt.date(int(period), 1, 1)
    return dt.date.min


def period_label(frequency: str, day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}" if frequency == "quarterly" else str(day.year)


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
        for label, ends in _periods(
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
