"""Construction: its start (approval and 监理 first), reports, and completion.

- Supervision (`procurement.supervision_required`): from the pack's amount (inclusive or not);
  zhonglou §15 also wants a security test of application software. Where the article says
  原则上 (shexian §30 原则上实行监理制) the authority may record an exception with its reason and
  document; the start and the completion then go ahead without a 监理, the exception cited.
- 实施方案和进度计划 (bayingolin §16), 进度或绩效报告 (bayingolin §20, shexian §35, xunyang §17),
  逾期情况说明 (lhasa §18).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from services.procurement.domain.errors import ExceptionNotAllowed, InvalidState, ProcurementError
from services.procurement.domain.periods import period_label, period_starts, valid_period
from services.procurement.domain.prerequisites import dated_before_approval, not_after, unapproved
from services.procurement.domain.project import Project
from services.procurement.domain.records import Report
from services.procurement.domain.suspension import not_suspended
from shared.policy import PolicyRegistry, Reason
from shared.policy.principle import ExceptionRefused, PrincipleException, except_in_principle
from shared.workdays import today_in_shanghai

NO_CONSTRUCTION = "procurement.no_construction_before_approval"
SUPERVISION = "procurement.supervision_required"
REPORT_RULES = {
    "implementation_plan": "procurement.implementation_plan_deadline",
    "progress": "procurement.progress_reporting",
    "delay": "procurement.delay_report",
}


def supervision_required(policy: PolicyRegistry, jurisdiction: str, amount_fen: int) -> bool:
    rule = policy.rule(jurisdiction, SUPERVISION)
    if not rule.applies:
        return False
    threshold = int(rule.param("amount_fen"))
    return amount_fen >= threshold if rule.params.get("inclusive", True) else amount_fen > threshold


def security_test_required(policy: PolicyRegistry, jurisdiction: str, software_fen: int) -> bool:
    """zhonglou §15: application software development needs a security test."""
    rule = policy.rule(jurisdiction, SUPERVISION)
    return rule.applies and bool(rule.params.get("software_security_test")) and software_fen > 0


def start(policy: PolicyRegistry, project: Project, on: dt.date, today: dt.date) -> None:
    """开工: not before approval (zhonglou §13, shexian §15, bayingolin §15), not without 监理 (lhasa §13)."""
    j = project.jurisdiction
    not_after(on, today, "开工日期")
    not_suspended(project, "登记开工")
    refusals = unapproved(policy, project, NO_CONSTRUCTION)
    refusals += dated_before_approval(
        policy, project, (on, "开工日期"), NO_CONSTRUCTION, "started_before_approval"
    )
    if project.supervisor is None:
        refusals += _unsupervised(policy, project)
    articles = [
        *policy.rule(j, NO_CONSTRUCTION).articles,
        *policy.rule(j, "procurement.no_construction_before_supervision").articles,
    ]
    standing, made = _excepted(project, refusals)
    project.start(on, standing, articles, made)


def _unsupervised(policy: PolicyRegistry, project: Project) -> list[Reason]:
    j = project.jurisdiction
    found: list[Reason] = []
    if policy.rule(j, "procurement.no_construction_before_supervision").applies:
        found.append(policy.refusal(j, "procurement.no_construction_before_supervision", "no_supervisor"))
    if supervision_required(policy, j, project.total_fen):
        found.append(
            policy.refusal(
                j,
                SUPERVISION,
                "no_supervisor",
                "本项目须实行监理，尚未备案监理合同：" + policy.rule(j, SUPERVISION).summary,
            )
        )
    return found


@dataclass(frozen=True)
class Reporting:
    """A report as submitted: its kind, the period it is for (progress only), and by whom when."""

    kind: str
    period: str | None
    summary: str
    by: str
    at: dt.datetime


def report(policy: PolicyRegistry, project: Project, reporting: Reporting) -> None:
    """A report, its period checked against the pack's reporting cycle (progress reports only)."""
    on = today_in_shanghai(reporting.at)
    period = (
        _progress_period(policy, project.jurisdiction, reporting.period, on)
        if reporting.kind == "progress"
        else None
    )
    articles = policy.rule(project.jurisdiction, REPORT_RULES[reporting.kind]).articles
    project.report(Report(reporting.kind, period, reporting.summary, on, reporting.by), articles)


def _progress_period(
    policy: PolicyRegistry, jurisdiction: str, period: str | None, on: dt.date
) -> str | None:
    rule = policy.rule(jurisdiction, "procurement.progress_reporting")
    frequency = str(rule.params.get("frequency", "quarterly")) if rule.applies else None
    period = period or (period_label(frequency, on) if frequency else None)
    if period and period_starts(period) > on:
        raise ProcurementError(f"报告期 {period} 尚未开始，不能预先报送")
    if frequency and period and not valid_period(frequency, period):
        raise ProcurementError(
            f"报告期 {period} 不符合本辖区的报送周期"
            f"（{'按季度，如 2026Q3' if frequency == 'quarterly' else '按年度，如 2026'}，"
            f"{'、'.join(rule.articles)}）"
        )
    return period


def complete(
    policy: PolicyRegistry, project: Project, completion: tuple[dt.date, str | None], today: dt.date
) -> None:
    """竣工 (the day, and the security test report): with the 监理 the pack requires and, in
    zhonglou, the software's security test (§15)."""
    on, security_test_report = completion
    not_after(on, today, "竣工日期")
    not_suspended(project, "登记竣工")
    j = project.jurisdiction
    refusals: list[Reason] = []
    if project.supervisor is None and supervision_required(policy, j, project.total_fen):
        refusals.append(policy.refusal(j, SUPERVISION, "no_supervisor", "本项目须实行监理，尚未备案监理合同"))
    refusals, made = _excepted(project, refusals)
    if security_test_required(policy, j, project.software_fen) and not security_test_report:
        refusals.append(
            policy.refusal(
                j, SUPERVISION, "security_test_missing", "应用软件开发须进行安全评测，请提供评测报告"
            )
        )
    project.complete(on, security_test_report, refusals, policy.rule(j, SUPERVISION).articles, made)


# -- 原则上: the authority's exceptions -----------------------------------------------------------


def record_exception(policy: PolicyRegistry, project: Project, exception: PrincipleException) -> None:
    """例外: the authority departs, with its reason and document, from a refusal the project's
    construction would meet where the article says 原则上 (shexian §30 原则上实行监理制); one the
    article does not qualify (lhasa §13 不得施工, zhonglou §15 须) cannot be departed from."""
    if not project.in_progress:
        raise InvalidState(f"项目 {project.id} 已{project.closed_reason or '竣工'}，不再作出例外")
    if project.supervisor is not None:
        raise InvalidState(f"项目已备案监理合同（{project.supervisor}），无须作出例外")
    if any(e["code"] == exception.code for e in project.exceptions or ()):
        raise InvalidState(f"已对 {exception.code} 作出例外")
    try:
        _, (made,) = except_in_principle(_unsupervised(policy, project), [exception])
    except ExceptionRefused as exc:
        raise ExceptionNotAllowed(str(exc)) from exc
    project.exceptions = [
        *(project.exceptions or ()),
        {
            "code": exception.code,
            "reason": exception.reason,
            "document_ref": exception.document_ref,
            "by": exception.by,
            "articles": list(made.articles),
            "message": made.message,
        },
    ]


def _excepted(project: Project, refusals: list[Reason]) -> tuple[list[Reason], list[Reason]]:
    """The refusals that stand beside the authority's recorded exceptions, and those exceptions as
    made (citing the article); one recorded under a rule no longer 原则上 does not set it aside."""
    codes = {r.code for r in refusals}
    recorded = [
        PrincipleException(e["code"], e["reason"], e["document_ref"], e["by"])
        for e in project.exceptions or ()
        if e["code"] in codes and all(r.in_principle for r in refusals if r.code == e["code"])
    ]
    return except_in_principle(refusals, recorded)
