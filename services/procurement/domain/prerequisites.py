"""What the pack says before anything starts: approval first (zhonglou §13; shexian §15,
bayingolin §15 for construction), the requirements reviewed before the tender (shexian §29),
and no date reported ahead of today or before the approval."""

from __future__ import annotations

import datetime as dt

from services.procurement.domain.errors import ProcurementError
from services.procurement.domain.project import Project
from shared.policy import PolicyRegistry, Reason
from shared.workdays import today_in_shanghai


def not_after(day: dt.date, today: dt.date, what: str) -> None:
    """Dates people report must have happened: a date to come would move the time limits."""
    if day > today:
        raise ProcurementError(f"{what} {day.isoformat()} 晚于今日 {today.isoformat()}")


def unapproved(policy: PolicyRegistry, project: Project, rule_id: str) -> list[Reason]:
    """The pack forbids this before approval (zhonglou §13; shexian §15, bayingolin §15 for construction)."""
    rule = policy.rule(project.jurisdiction, rule_id)
    if rule.applies and not project.approved:
        return [
            policy.refusal(project.jurisdiction, rule_id, "not_approved", f"项目尚未批复，{rule.summary}")
        ]
    return []


def requirements_unreviewed(policy: PolicyRegistry, project: Project) -> list[Reason]:
    """shexian §29: the requirements go to the authority before the tender."""
    rule = policy.rule(project.jurisdiction, "procurement.requirements_review")
    if rule.applies and not project.requirements_approved:
        return [
            policy.refusal(
                project.jurisdiction,
                "procurement.requirements_review",
                "requirements_not_reviewed",
                "采购需求尚未经主管部门审核通过，" + rule.summary,
            )
        ]
    return []


def procured_early(
    policy: PolicyRegistry, project: Project, on: dt.date, what: str, *, tendering: bool
) -> list[Reason]:
    """Procurement dated before the approval (zhonglou §13), or a tender dated before the requirements
    review (shexian §29): being approved or reviewed when it is recorded is not enough."""
    j = project.jurisdiction
    found = dated_before_approval(
        policy, project, (on, what), "procurement.no_procurement_before_approval", "procured_before_approval"
    )
    review = policy.rule(j, "procurement.requirements_review")
    reviewed_on = requirements_reviewed_on(project)
    if tendering and review.applies and reviewed_on is not None and on < reviewed_on:
        found.append(
            policy.refusal(
                j,
                "procurement.requirements_review",
                "procured_before_requirements_review",
                f"{what} {on.isoformat()} 早于采购需求审核通过日期 {reviewed_on.isoformat()}，"
                + review.summary,
            )
        )
    return found


def dated_before_approval(
    policy: PolicyRegistry, project: Project, dated: tuple[dt.date, str], rule_id: str, code: str
) -> list[Reason]:
    """A date reported for the project (the day, and what it is) that falls before its approval,
    where the rule forbids it."""
    on, what = dated
    rule = policy.rule(project.jurisdiction, rule_id)
    if not (rule.applies and project.approved_on is not None and on < project.approved_on):
        return []
    detail = f"{what} {on.isoformat()} 早于批复日期 {project.approved_on.isoformat()}，{rule.summary}"
    return [policy.refusal(project.jurisdiction, rule_id, code, detail)]


def requirements_reviewed_on(project: Project) -> dt.date | None:
    """The day the authority approved the procurement requirements, if it has."""
    req = project.requirements
    if req is None or not req.approved or req.reviewed_at is None:
        return None
    return today_in_shanghai(req.reviewed_at)
