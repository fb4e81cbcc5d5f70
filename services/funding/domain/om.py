"""运维经费: the O&M application rules, decided at once — approved, or denied with every reason."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from services.funding.domain.disbursements import Ask, Disbursement
from services.funding.domain.errors import FundingError, ProjectNotFound, Refused
from services.funding.domain.gates import Gate, GateState
from services.funding.domain.kinds import PaymentKind
from services.funding.domain.needs import SHARING, closed_reasons, om_bases, om_needs
from services.funding.domain.projects import FundedProject
from services.funding.domain.sharing import exempt, not_shared_by_deadline
from shared.policy import PolicyRegistry, Reason, Rule
from shared.policy.principle import ExceptionRefused, PrincipleException, except_in_principle
from shared.workdays import months_after, today_in_shanghai

DEADLINE = "funding.om_application_deadline"


@dataclass(frozen=True)
class OmAsk:
    """An O&M application: the amount for a budget year, and when free maintenance ends."""

    amount_fen: int
    budget_year: int
    purpose: str
    by: str
    free_maintenance_ends_on: dt.date | None = None
    idempotency_key: str | None = None

    def ask(self) -> Ask:
        return Ask(
            kind=PaymentKind.OM,
            amount_fen=self.amount_fen,
            purpose=self.purpose,
            by=self.by,
            idempotency_key=self.idempotency_key,
            budget_year=self.budget_year,
        )


def unknown_project(
    policy: PolicyRegistry, jurisdiction: str | None, project_id: str, classified: bool = False
) -> FundingError:
    """The error for an application about a project funding does not know (or may not show):
    where the pack wants every O&M project in the lifecycle system, a refusal with its article —
    unless the applicant says the project is classified and the article binds 非涉密 projects only
    (shexian §44(三)): a classified project is managed under the secrecy rules, outside the system."""
    if jurisdiction:
        key = "funding.om_lifecycle_system_required"
        rule = policy.rule(jurisdiction, key)
        if rule.applies and classified and rule.params.get("secret_exempt"):
            return ProjectNotFound(
                f"资金系统中没有项目 {project_id}：涉密项目按国家有关保密规定管理，"
                f"“{rule.summary}”不适用于它（{'、'.join(rule.articles)}）"
            )
        if rule.applies:
            return Refused(
                f"项目 {project_id} 未纳入全生命周期管理系统",
                [policy.refusal(jurisdiction, key, "not_in_lifecycle_system")],
            )
    return ProjectNotFound(f"资金系统中没有项目 {project_id}（尚未申报或无权查看）")


def decide(
    policy: PolicyRegistry,
    project: FundedProject,
    gates: dict[str, GateState],
    app: OmAsk,
    at: dt.datetime,
) -> Disbursement:
    """The application recorded and decided at once."""
    item = Disbursement.request(project, app.ask(), at)
    refusals = om_refusals(policy, project, gates, app, today_in_shanghai(at))
    item.decide_om(refusals, at, om_bases(policy, project.jurisdiction, gates))
    return item


def not_granted_yet(granted: Disbursement | None, budget_year: int) -> None:
    """One approved O&M grant per project and budget year."""
    if granted is not None:
        raise Refused(f"{budget_year} 年度运维经费已核准（{granted.id}）")


def om_refusals(
    policy: PolicyRegistry,
    project: FundedProject,
    gates: dict[str, GateState],
    app: OmAsk,
    today: dt.date,
) -> list[Reason]:
    """Every reason O&M funds are denied, each with its article."""
    j = project.jurisdiction
    wanted = [n for n in om_needs(policy, j) if not (n.rule == SHARING and exempt(policy, project))]
    refusals = closed_reasons(policy, j, wanted, gates, today)
    refusals += not_shared_by_deadline(policy, project, gates, app.budget_year)
    refusals += _grace(policy, project, today)
    window = policy.rule(j, DEADLINE)
    if window.applies and "quarter" in window.params:
        refusals += _quarter(policy, j, window, app, today)
    if window.applies and "month" in window.params:
        refusals += _before_free_period_ends(policy, j, window, app, today)
        evaluated = gates.get(Gate.EVALUATION.value)
        if window.params.get("evaluation_report_required") and not (
            evaluated and evaluated.detail.get("evaluated")
        ):
            refusals.append(
                policy.refusal(
                    j,
                    DEADLINE,
                    "om_evaluation_report_missing",
                    "申请运维经费须附绩效评价报告（尚无评价记录）",
                )
            )
    return refusals


def _grace(policy: PolicyRegistry, project: FundedProject, today: dt.date) -> list[Reason]:
    """No O&M funds within the years after acceptance the pack names."""
    grace = policy.rule(project.jurisdiction, "funding.om_grace_years")
    if not grace.applies or project.accepted_on is None:
        return []
    ends = months_after(project.accepted_on, 12 * int(grace.param("years")))
    if today >= ends:
        return []
    return [
        policy.refusal(
            project.jurisdiction,
            "funding.om_grace_years",
            "om_within_grace_years",
            f"项目于 {project.accepted_on.isoformat()} 通过竣工验收，"
            f"{ends.isoformat()} 前不得申请专项运维费用",
        )
    ]


def _quarter(policy: PolicyRegistry, j: str, window: Rule, app: OmAsk, today: dt.date) -> list[Reason]:
    """Applied for in the pack's quarter, for the next year."""
    quarter = int(window.params["quarter"])
    if (today.month - 1) // 3 + 1 != quarter:
        message = f"运维经费于每年第{quarter}季度申报下一年度，今日 {today.isoformat()} 不在申报期内"
        return [policy.refusal(j, DEADLINE, "om_outside_window", message)]
    if app.budget_year != today.year + 1:
        message = f"第{quarter}季度申报的是下一年度（{today.year + 1}年）的运维经费"
        return [policy.refusal(j, DEADLINE, "om_wrong_year", message)]
    return []


def _before_free_period_ends(
    policy: PolicyRegistry, j: str, window: Rule, app: OmAsk, today: dt.date
) -> list[Reason]:
    """Applied for by the pack's day, the years before free maintenance ends."""
    ends = app.free_maintenance_ends_on
    if ends is None:
        return [policy.refusal(j, DEADLINE, "om_free_period_missing", "请注明免运维服务期截止日期")]
    years = int(window.params.get("years_before_free_period_end", 1))
    due = dt.date(ends.year - years, int(window.params["month"]), int(window.params["day"]))
    if today <= due:
        return []
    message = f"免运维服务期于 {ends.isoformat()} 截止，应在 {due.isoformat()} 前申请"
    return [policy.refusal(j, DEADLINE, "om_application_late", message)]


def grant_by_exception(item: Disbursement, exceptions: Sequence[PrincipleException], at: dt.datetime) -> None:
    """Finance departs from the 原则上 refusals of a denied O&M application (zhonglou §28, lhasa
    §20), each with its reason and document; the other reasons it was denied for still stand."""
    item.ensure_denied_om()
    try:
        standing, made = except_in_principle(item.reasons, exceptions)
    except ExceptionRefused as exc:
        raise FundingError(str(exc)) from exc
    item.grant_by_exception(standing, made, at)
