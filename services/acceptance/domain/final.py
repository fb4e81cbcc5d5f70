"""The final acceptance after the application: a delay where allowed (shexian §39), admission
(bayingolin §26), the conclusion — an expert panel's where the pack says so, the authority's
otherwise (xunyang §20) — rectification after a failure (zhonglou §19, bayingolin §25) and the
acceptance report, bayingolin §29 within seven working days."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence

from services.acceptance.domain.errors import AcceptanceError, InvalidState, RuleViolation
from services.acceptance.domain.project import Pack, Project, Status
from services.acceptance.domain.records import Delay, Rectification, Report, notes_of
from services.acceptance.domain.secrecy import clearance_refusals
from services.acceptance.domain.sharing import data_sharing_required
from shared.contracts.acceptance import (
    AcceptanceReportFiled,
    FinalAcceptanceApplied,
    FinalAcceptanceConcluded,
)
from shared.contracts.review import ReviewConcluded
from shared.policy import PolicyRegistry, Reason, citations
from shared.workdays import WorkingCalendar


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


# -- 延期验收申请 -------------------------------------------------------------------------------------


def request_delay(project: Project, policy: PolicyRegistry, until: dt.date, reason: str, by: str) -> None:
    """延期验收申请, where the pack allows one (shexian §39)."""
    rule = policy.rule(project.jurisdiction, "acceptance.apply_deadline")
    if not (rule.applies and rule.params.get("extension_allowed")):
        raise AcceptanceError(f"本辖区办法未规定延期验收申请（{rule.summary}）")
    project.ensure_built()
    if project.delay and project.delay.status == "pending":
        raise InvalidState("已有待审批的延期验收申请")
    project.delay = Delay(until, reason, "pending", by)


def decide_delay(project: Project, approve: bool, comment: str, by: str) -> None:
    project.ensure_built()
    if not project.delay or project.delay.status != "pending":
        raise InvalidState("没有待审批的延期验收申请")
    project.delay = dataclasses.replace(
        project.delay, status="approved" if approve else "refused", comment=comment, decided_by=by
    )


# -- admission ---------------------------------------------------------------------------------------


def _unshared(project: Project, policy: PolicyRegistry) -> list[Reason]:
    if not data_sharing_required(policy, project.jurisdiction) or project.data_sharing_confirmed:
        return []
    return [
        policy.refusal(
            project.jurisdiction,
            "acceptance.data_sharing_confirmed_required",
            "data_sharing_unconfirmed",
            "数据共享确认已被撤销或尚未确认，不组织验收",
        )
    ]


def admit(project: Project, pack: Pack, *, admit: bool, reason: str, by: str) -> None:
    """The authority admits (bayingolin §26) or returns the application; an admitted one goes to
    experts where they conclude. A classified system's secrecy records must still stand (shexian §42)."""
    refusals = _unshared(project, pack.policy) + clearance_refusals(pack.policy, project, pack.today)
    experts = experts_conclude(pack.policy, project.jurisdiction)
    project.ensure_built()
    current = project.current
    if project.status is not Status.APPLIED or current is None:
        raise InvalidState("没有待受理的终验申请")
    if admit:
        RuleViolation.refuse_if(refusals, "终验申请不能受理")
    else:
        if not reason.strip():
            raise AcceptanceError("退回终验申请须写明理由")
        project.replace_current(dataclasses.replace(current, status="returned", reason=reason, decided_by=by))
        project.status = Status.RECTIFYING if len(project.applications) > 1 else Status.COMPLETED
        return
    current = project.replace_current(
        dataclasses.replace(current, status="admitted", decided_by=by, experts=experts)
    )
    project.status = Status.UNDER_ACCEPTANCE
    project.emit(
        FinalAcceptanceApplied,
        application_id=current.id,
        round=current.round,
        parties=project.parties,
        experts=experts,
        notes=current.notes,
        articles=pack.articles(project.jurisdiction, "acceptance.final_acceptance"),
    )


# -- the conclusion ----------------------------------------------------------------------------------


def _conclude(
    project: Project, pack: Pack, passed: bool, items: Sequence[str], due: dt.date | None, by: str
) -> None:
    j, on = project.jurisdiction, pack.today
    failed = () if passed else pack.articles(j, "acceptance.failed_not_in_use")
    articles = (*pack.articles(j, "acceptance.final_acceptance"), *failed)
    report_due_on = report_due(pack.policy, pack.calendar, j, on) if passed else None
    project.ensure_built()
    current = project.current
    if project.status is not Status.UNDER_ACCEPTANCE or current is None:
        raise InvalidState("没有正在进行的终验")
    if not passed and due is not None and due <= on:
        raise AcceptanceError("整改期限须晚于验收日期")
    current = project.replace_current(
        dataclasses.replace(
            current,
            status="passed" if passed else "failed",
            concluded_on=on,
            concluded_by=by,
            rectification_items=tuple(items),
            rectification_due=due,
        )
    )
    if passed:
        project.status, project.accepted_on, project.report_due_on = Status.ACCEPTED, on, report_due_on
        project.rectification = None
    else:
        project.status, project.rectification = Status.RECTIFYING, Rectification(tuple(items), due)
    project.emit(
        FinalAcceptanceConcluded,
        passed=passed,
        concluded_on=on,
        application_id=current.id,
        round=current.round,
        rectification_items=tuple(items),
        rectification_due=due,
        report_due_on=report_due_on,
        articles=tuple(dict.fromkeys(articles)),
    )


def conclude(
    project: Project, pack: Pack, *, passed: bool, items: Sequence[str], due: dt.date | None, by: str
) -> None:
    """The authority's conclusion where no expert panel concludes (xunyang §20)."""
    if experts_conclude(pack.policy, project.jurisdiction):
        raise InvalidState(
            "本辖区终验由专家组评审得出结论（评审服务），结论随评审结果自动登记"
            f"（{'、'.join(pack.articles(project.jurisdiction, 'acceptance.final_acceptance'))}）"
        )
    if not passed and not items:
        raise AcceptanceError("验收不通过须列明整改事项")
    if passed:  # a classified system passes into use only when its secrecy records stand
        uncleared = clearance_refusals(pack.policy, project, pack.today)
        RuleViolation.refuse_if(uncleared, "不能作出验收通过的结论")
    _conclude(project, pack, passed, items, due, by)


def conclude_by_panel(project: Project, pack: Pack, event: ReviewConcluded) -> None:
    """The expert panel's conclusion on the final acceptance (a revise verdict leaves it running);
    a panel the project no longer awaits (lhasa §17, xunyang §20: the authority concludes) or one
    on an earlier application is ignored."""
    current = project.current
    if project.status is not Status.UNDER_ACCEPTANCE or current is None or not current.experts:
        return
    if event.reference is not None and event.reference != current.id:
        return
    _conclude(project, pack, event.verdict == "pass", (), None, "review")


def order_rectification(project: Project, items: Sequence[str], due_on: dt.date) -> None:
    """The authority's rectification items after a failed acceptance (zhonglou §19, bayingolin §25)."""
    project.ensure_built()
    if project.status is not Status.RECTIFYING:
        raise InvalidState("项目不在整改中")
    project.rectification = Rectification(tuple(items), due_on)


# -- the acceptance report ---------------------------------------------------------------------------


def _report_late(project: Project, pack: Pack) -> list[Reason]:
    due, today = project.report_due_on, pack.today
    if due is None or today <= due:
        return []
    return [
        pack.policy.refusal(
            project.jurisdiction,
            "acceptance.report_deadline",
            "acceptance_report_late",
            f"应在 {pack.calendar.dated(due)} 前报送验收报告，实际 {today.isoformat()} 报送，已逾期",
        )
    ]


def file_report(project: Project, pack: Pack, reference: str, by: str) -> None:
    """验收报告备案; bayingolin §29's seven working days: a late one is kept, marked and cited."""
    late, on = _report_late(project, pack), pack.today
    project.ensure_built()
    if project.status is not Status.ACCEPTED:
        raise InvalidState("项目尚未通过终验，没有可备案的验收报告")
    if project.report is not None:
        raise InvalidState(f"验收报告已于 {project.report.filed_on.isoformat()} 备案")
    project.report = Report(reference, on, bool(late), notes_of(late), by)
    project.emit(
        AcceptanceReportFiled,
        reference=reference,
        filed_on=on,
        due_on=project.report_due_on,
        late=bool(late),
        notes=citations(late),
        articles=pack.articles(project.jurisdiction, "acceptance.report_deadline"),
    )


def is_final_verdict(event: ReviewConcluded) -> bool:
    """A panel's pass or fail on a final acceptance (a revise verdict leaves it running)."""
    return event.stage == "acceptance" and event.verdict != "revise"
