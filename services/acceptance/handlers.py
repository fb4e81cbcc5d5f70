"""Acceptance's commands and event handlers: load, ask the pack, call the domain, commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from typing import Any

from services.acceptance import rules
from services.acceptance.db import AcceptanceUnitOfWork
from services.acceptance.domain import AcceptanceError, InvalidState, Project, ProjectNotFound, Status
from shared.auth import EVERYWHERE, Scope
from shared.consume import HandlerContext
from shared.contracts.acceptance import PostEvaluationDue
from shared.contracts.intake import Closing, ProjectDeclared, ProjectRecorded
from shared.contracts.procurement import ConstructionCompleted
from shared.contracts.review import ReviewConcluded
from shared.policy import PolicyRegistry, Reason
from shared.workdays import WorkingCalendar, months_after, today_in_shanghai

ATTESTATION_RULES = {"mlps": "security.mlps_assessment", "crypto": "security.crypto_assessment"}


async def _project(uow: AcceptanceUnitOfWork, project_id: str, scope: Scope) -> Project:
    """The project, locked; one outside the caller's scope (another jurisdiction's, another agency's)
    is not found, as a missing one."""
    project = await uow.projects.get(project_id)
    if project is None or not scope.covers(project.jurisdiction, project.agency):
        raise ProjectNotFound(f"项目 {project_id} 不存在或尚未申报")
    return project


def _not_after(day: dt.date, today: dt.date, what: str) -> None:
    """Dates people report must have happened: a date to come would shorten the minimum periods."""
    if day > today:
        raise AcceptanceError(f"{what} {day.isoformat()} 晚于今日 {today.isoformat()}")


def _articles(policy: PolicyRegistry, project: Project, rule_id: str) -> tuple[str, ...]:
    return policy.rule(project.jurisdiction, rule_id).articles


# -- 初验 and trial run ------------------------------------------------------------------------------


async def record_initial(
    uow: AcceptanceUnitOfWork,
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    project_id: str,
    scope: Scope,
    *,
    held_on: dt.date,
    passed: bool,
    findings: str,
    by: str,
    today: dt.date,
) -> Project:
    """初验 by the unit; one held after shexian §39's three months is kept, marked late and cited;
    xunyang §19 holds it after the trial run."""
    _not_after(held_on, today, "初验日期")
    async with uow:
        project = await _project(uow, project_id, scope)
        trial = policy.rule(project.jurisdiction, "acceptance.trial_run_min")
        order: list[Reason] = []
        if (
            trial.applies
            and trial.params.get("before_initial_acceptance")
            and (project.trial_ended_on is None or project.trial_ended_on > held_on)
        ):
            order.append(
                policy.refusal(
                    project.jurisdiction,
                    "acceptance.trial_run_min",
                    "trial_run_before_initial",
                    "项目竣工后须经系统测试和试运行结束后方进行初步验收",
                )
            )
        late: list[Reason] = []
        if project.completed_on is not None:
            due = rules.initial_due(policy, calendar, project.jurisdiction, project.completed_on)
            if due is not None and held_on > due:
                late.append(
                    policy.refusal(
                        project.jurisdiction,
                        "acceptance.initial_deadline",
                        "initial_acceptance_late",
                        f"项目于 {project.completed_on.isoformat()} 竣工，应在 {due.isoformat()} 前初验，"
                        f"实际 {held_on.isoformat()} 初验，已逾期",
                    )
                )
        project.record_initial(
            held_on=held_on,
            passed=passed,
            findings=findings,
            by=by,
            late=late,
            order=order,
            articles=_articles(policy, project, "acceptance.initial_by_unit"),
        )
        await uow.commit()
        return project


async def trial_run(
    uow: AcceptanceUnitOfWork,
    policy: PolicyRegistry,
    project_id: str,
    scope: Scope,
    *,
    started_on: dt.date | None,
    ended_on: dt.date | None,
    today: dt.date,
) -> Project:
    """试运行: record its start, then its end; shexian §39 runs it after 初验."""
    for day, what in ((started_on, "试运行开始日期"), (ended_on, "试运行结束日期")):
        if day is not None:
            _not_after(day, today, what)
    async with uow:
        project = await _project(uow, project_id, scope)
        rule = policy.rule(project.jurisdiction, "acceptance.trial_run_min")
        articles = rule.articles
        if started_on is not None:
            order: list[Reason] = []
            initial_on = project.initial_on
            if (
                rule.applies
                and rule.params.get("after_initial_acceptance")
                and (initial_on is None or started_on < initial_on)
            ):
                order.append(
                    policy.refusal(
                        project.jurisdiction,
                        "acceptance.trial_run_min",
                        "trial_run_after_initial",
                        "试运行在初验通过后开展"
                        + (f"（初验于 {initial_on.isoformat()}）" if initial_on else "，尚未初验"),
                    )
                )
            project.start_trial(started_on, order, articles)
        if ended_on is not None:
            project.end_trial(ended_on, articles)
        await uow.commit()
        return project


# -- data sharing, security, audit -------------------------------------------------------------------


async def submit_data_sharing(
    uow: AcceptanceUnitOfWork,
    project_id: str,
    scope: Scope,
    *,
    catalogue: Sequence[str],
    items: Sequence[str],
    by: str,
    at: dt.datetime,
) -> Project:
    async with uow:
        project = await _project(uow, project_id, scope)
        project.submit_data_sharing(catalogue, items, by, at)
        await uow.commit()
        return project


async def decide_data_sharing(
    uow: AcceptanceUnitOfWork,
    policy: PolicyRegistry,
    project_id: str,
    scope: Scope,
    *,
    decision: str,
    duplicate_collection: bool,
    reason: str,
    by: str,
    at: dt.datetime,
) -> Project:
    """数据共享确认, refusal or revocation by the authority (shexian §39, §44(一))."""
    async with uow:
        project = await _project(uow, project_id, scope)
        project.decide_data_sharing(
            decision,
            duplicate_collection=duplicate_collection,
            reason=reason,
            by=by,
            at=at,
            articles=_articles(policy, project, "acceptance.data_sharing_confirmed_required"),
        )
        await uow.commit()
        return project


async def attest(
    uow: AcceptanceUnitOfWork,
    policy: PolicyRegistry,
    project_id: str,
    scope: Scope,
    *,
    attestation: str,
    compliant: bool,
    reference: str,
    issued_on: dt.date,
    valid_until: dt.date | None,
    by: str,
) -> Project:
    """等保测评 or 密评 with its validity (shexian §33, §44(二); bayingolin §7; zhonglou §24)."""
    async with uow:
        project = await _project(uow, project_id, scope)
        project.attest(
            attestation,
            compliant=compliant,
            reference=reference,
            issued_on=issued_on,
            valid_until=valid_until,
            by=by,
            articles=_articles(policy, project, ATTESTATION_RULES[attestation]),
        )
        await uow.commit()
        return project


async def file_audit_report(
    uow: AcceptanceUnitOfWork,
    project_id: str,
    scope: Scope,
    *,
    reference: str,
    issued_on: dt.date,
    auditor: str,
    by: str,
) -> Project:
    async with uow:
        project = await _project(uow, project_id, scope)
        project.file_audit_report(reference, issued_on, auditor, by)
        await uow.commit()
        return project


# -- the final acceptance ----------------------------------------------------------------------------


async def request_delay(
    uow: AcceptanceUnitOfWork,
    policy: PolicyRegistry,
    project_id: str,
    scope: Scope,
    *,
    until: dt.date,
    reason: str,
    by: str,
) -> Project:
    """延期验收申请, where the pack allows one (shexian §39)."""
    async with uow:
        project = await _project(uow, project_id, scope)
        rule = policy.rule(project.jurisdiction, "acceptance.apply_deadline")
        if not (rule.applies and rule.params.get("extension_allowed")):
            raise AcceptanceError(f"本辖区办法未规定延期验收申请（{rule.summary}）")
        project.request_delay(until, reason, by)
        await uow.commit()
        return project


async def decide_delay(
    uow: AcceptanceUnitOfWork, project_id: str, scope: Scope, *, approve: bool, comment: str, by: str
) -> Project:
    async with uow:
        project = await _project(uow, project_id, scope)
        project.decide_delay(approve, comment, by)
        await uow.commit()
        return project


def application_checks(
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    project: Project,
    *,
    materials: dict[str, str],
    today: dt.date,
) -> tuple[list[Reason], list[Reason]]:
    """(refusals, notes) for a final-acceptance application, every precondition at once."""
    j = project.jurisdiction
    refusals: list[Reason] = []
    notes: list[Reason] = []

    def refuse(rule_id: str, code: str, detail: str | None = None) -> None:
        refusals.append(policy.refusal(j, rule_id, code, detail))

    initial_on = project.initial_on
    if policy.rule(j, "acceptance.initial_by_unit").applies and initial_on is None:
        refuse(
            "acceptance.initial_by_unit",
            "initial_acceptance_missing",
            "尚未通过初验，" + policy.rule(j, "acceptance.initial_by_unit").summary,
        )
    months = rules.trial_months(policy, j, project.software_fen)
    if months is not None:
        if project.trial_started_on is None:
            refuse(
                "acceptance.trial_run_min",
                "trial_run_missing",
                "尚未开展试运行，" + policy.rule(j, "acceptance.trial_run_min").summary,
            )
        elif months > 0:
            enough = months_after(project.trial_started_on, months)
            ran_until = project.trial_ended_on or today
            if ran_until < enough:
                what = "软件开发项目" if project.software_fen > 0 and months > 1 else "项目"
                refuse(
                    "acceptance.trial_run_min",
                    "trial_run_too_short",
                    f"{what}试运行须不少于{months}个月：自 {project.trial_started_on.isoformat()} 起，"
                    f"至 {enough.isoformat()} 方满",
                )
    if project.trial_started_on is not None:
        limit = rules.trial_limit(policy, j, project.trial_started_on)
        if limit is not None and today > limit:
            notes.append(
                policy.refusal(
                    j,
                    "acceptance.trial_run_max",
                    "trial_run_over_a_year",
                    f"试运行自 {project.trial_started_on.isoformat()} 起已超过一年仍未完成验收",
                )
            )
    if initial_on is not None:
        earliest = rules.earliest_application(policy, calendar, j, initial_on)
        if earliest is not None and today < earliest:
            refuse(
                "acceptance.apply_after_initial",
                "application_too_early",
                f"初验于 {initial_on.isoformat()} 结束，{earliest.isoformat()} 起方可申请终验",
            )
    due = rules.application_due(policy, calendar, j, project.completed_on, initial_on)
    if due is not None and today > due.due_on:
        delayed = project.delay_until
        if due.extension_allowed:
            if delayed is None or today > delayed:
                refuse(
                    "acceptance.apply_deadline",
                    "application_late",
                    f"应在 {due.due_on.isoformat()} 前申请验收，已逾期且没有获准的延期验收申请"
                    + (f"（延期至 {delayed.isoformat()}）" if delayed else ""),
                )
        else:
            notes.append(
                policy.refusal(
                    j,
                    "acceptance.apply_deadline",
                    "application_late",
                    f"应在 {due.due_on.isoformat()} 前申请竣工验收，已逾期",
                )
            )
    if rules.data_sharing_required(policy, j) and not project.data_sharing_confirmed:
        state = project.data_sharing["status"] if project.data_sharing else "未提交"
        refuse(
            "acceptance.data_sharing_confirmed_required",
            "data_sharing_unconfirmed",
            f"数据共享情况未经主管部门确认（当前：{state}），不组织验收",
        )
    if rules.archives_required(policy, j) and not materials.get(rules.ARCHIVES, "").strip():
        refuse(
            "acceptance.archives_required",
            "archives_not_accepted",
            f"未附档案验收意见（材料 {rules.ARCHIVES}：文号）。"
            + policy.rule(j, "acceptance.archives_required").summary,
        )
    wanted = rules.materials(policy, j, project.kind)
    missing = [label for material, label in wanted.items() if not materials.get(material, "").strip()]
    if missing:
        refuse("acceptance.materials", "materials_missing", "缺少验收材料：" + "、".join(missing))
    return refusals, notes


async def apply(
    uow: AcceptanceUnitOfWork,
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    project_id: str,
    scope: Scope,
    *,
    materials: dict[str, str],
    by: str,
    at: dt.datetime,
) -> Project:
    """终验申请: refused with every unmet precondition, each citing its article."""
    async with uow:
        project = await _project(uow, project_id, scope)
        today = today_in_shanghai(at)
        refusals, notes = application_checks(policy, calendar, project, materials=materials, today=today)
        project.apply(
            materials=materials,
            archives_accepted=bool(materials.get(rules.ARCHIVES, "").strip()),
            on=today,
            by=by,
            refusals=refusals,
            notes=notes,
        )
        await uow.commit()
        return project


async def admit(
    uow: AcceptanceUnitOfWork,
    policy: PolicyRegistry,
    project_id: str,
    scope: Scope,
    *,
    admit: bool,
    reason: str,
    by: str,
) -> Project:
    """The authority admits (bayingolin §26) or returns the application; an admitted one goes to experts."""
    async with uow:
        project = await _project(uow, project_id, scope)
        refusals: list[Reason] = []
        if rules.data_sharing_required(policy, project.jurisdiction) and not project.data_sharing_confirmed:
            refusals.append(
                policy.refusal(
                    project.jurisdiction,
                    "acceptance.data_sharing_confirmed_required",
                    "data_sharing_unconfirmed",
                    "数据共享确认已被撤销或尚未确认，不组织验收",
                )
            )
        project.admit(
            admit,
            reason,
            by,
            experts=rules.experts_conclude(policy, project.jurisdiction),
            refusals=refusals,
            articles=_articles(policy, project, "acceptance.final_acceptance"),
        )
        await uow.commit()
        return project


def _conclude(
    project: Project,
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    passed: bool,
    *,
    on: dt.date,
    items: Sequence[str],
    rectification_due: dt.date | None,
    by: str,
) -> None:
    j = project.jurisdiction
    articles = [
        *policy.rule(j, "acceptance.final_acceptance").articles,
        *([] if passed else policy.rule(j, "acceptance.failed_not_in_use").articles),
    ]
    project.conclude(
        passed,
        on=on,
        items=items,
        rectification_due=rectification_due,
        report_due_on=rules.report_due(policy, calendar, j, on) if passed else None,
        by=by,
        articles=list(dict.fromkeys(articles)),
    )


async def conclude(
    uow: AcceptanceUnitOfWork,
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    project_id: str,
    scope: Scope,
    *,
    passed: bool,
    items: Sequence[str],
    rectification_due: dt.date | None,
    by: str,
    at: dt.datetime,
) -> Project:
    """The authority's conclusion where no expert panel concludes (xunyang §20)."""
    async with uow:
        project = await _project(uow, project_id, scope)
        if rules.experts_conclude(policy, project.jurisdiction):
            raise InvalidState(
                "本辖区终验由专家组评审得出结论（评审服务），结论随评审结果自动登记"
                f"（{'、'.join(_articles(policy, project, 'acceptance.final_acceptance'))}）"
            )
        if not passed and not items:
            raise AcceptanceError("验收不通过须列明整改事项")
        _conclude(
            project,
            policy,
            calendar,
            passed,
            on=today_in_shanghai(at),
            items=items,
            rectification_due=rectification_due,
            by=by,
        )
        await uow.commit()
        return project


async def order_rectification(
    uow: AcceptanceUnitOfWork, project_id: str, scope: Scope, *, items: Sequence[str], due_on: dt.date
) -> Project:
    async with uow:
        project = await _project(uow, project_id, scope)
        project.order_rectification(items, due_on)
        await uow.commit()
        return project


async def file_report(
    uow: AcceptanceUnitOfWork,
    policy: PolicyRegistry,
    project_id: str,
    scope: Scope,
    *,
    reference: str,
    by: str,
    at: dt.datetime,
) -> Project:
    """验收报告备案; bayingolin §29's seven working days: a late one is kept, marked and cited."""
    async with uow:
        project = await _project(uow, project_id, scope)
        today = today_in_shanghai(at)
        late: list[Reason] = []
        if project.report_due_on is not None and today > project.report_due_on:
            late.append(
                policy.refusal(
                    project.jurisdiction,
                    "acceptance.report_deadline",
                    "acceptance_report_late",
                    f"应在 {project.report_due_on.isoformat()} 前报送验收报告，"
                    f"实际 {today.isoformat()} 报送，已逾期",
                )
            )
        project.file_report(
            reference, today, late, by, _articles(policy, project, "acceptance.report_deadline")
        )
        await uow.commit()
        return project


# -- evaluations -------------------------------------------------------------------------------------

EVALUATION_RULES = {
    "self": "acceptance.self_evaluation_deadline",
    "post": "acceptance.post_evaluation_window",
    "first_year": "acceptance.post_evaluation_window",
}


async def record_evaluation(
    uow: AcceptanceUnitOfWork,
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    project_id: str,
    scope: Scope,
    *,
    evaluation: str,
    period: str | None,
    serious_problems: Sequence[str],
    rectified: bool,
    rectification_due: dt.date | None,
    summary: str,
    by: str,
    at: dt.datetime,
) -> tuple[Project, dict[str, Any]]:
    """绩效自评、后评价 or first-year evaluation: post-evaluations only in the pack's window."""
    if scope.agency is not None and serious_problems and rectified:
        raise AcceptanceError(
            "严重问题是否整改到位由主管部门确认（zhonglou §21），建设单位登记时不能自行标注"
        )
    async with uow:
        project = await _project(uow, project_id, scope)
        j = project.jurisdiction
        today = today_in_shanghai(at)
        refusals: list[Reason] = []
        notes: list[Reason] = []
        if evaluation in ("post", "first_year"):
            rule_id = "acceptance.post_evaluation_window"
            if project.accepted_on is None:
                raise InvalidState("项目尚未通过终验，不能登记后评价")
            window = rules.evaluation_window(policy, calendar, j, project.accepted_on)
            if window is not None and today < window.opens:
                refusals.append(
                    policy.refusal(
                        j,
                        rule_id,
                        "evaluation_too_early",
                        f"项目于 {project.accepted_on.isoformat()} 通过验收，"
                        f"{window.opens.isoformat()} 起方可开展评价",
                    )
                )
            if window is not None and window.closes is not None and today > window.closes:
                notes.append(
                    policy.refusal(
                        j, rule_id, "evaluation_late", f"评价应在 {window.closes.isoformat()} 前完成，已逾期"
                    )
                )
        articles = policy.rule(j, EVALUATION_RULES[evaluation]).articles
        record = project.record_evaluation(
            evaluation,
            period=period,
            serious_problems=serious_problems,
            rectified=rectified,
            rectification_due=rectification_due,
            summary=summary,
            on=today,
            by=by,
            refusals=refusals,
            notes=notes,
            articles=[*articles, *policy.rule(j, "oversight.rectification").articles]
            if serious_problems
            else articles,
        )
        await uow.commit()
        return project, record


async def rectify_evaluation(
    uow: AcceptanceUnitOfWork,
    policy: PolicyRegistry,
    project_id: str,
    scope: Scope,
    evaluation_id: str,
    *,
    by: str,
    at: dt.datetime,
) -> Project:
    """The authority confirms the problems an evaluation found are fixed (zhonglou §21)."""
    async with uow:
        project = await _project(uow, project_id, scope)
        project.rectify_evaluation(
            evaluation_id, by, today_in_shanghai(at), _articles(policy, project, "oversight.rectification")
        )
        await uow.commit()
        return project


# -- time limits -------------------------------------------------------------------------------------


def deadlines(
    policy: PolicyRegistry, calendar: WorkingCalendar, project: Project, today: dt.date
) -> list[dict[str, Any]]:
    """Every acceptance time limit of the project for people to read: running, met or missed."""
    j = project.jurisdiction
    out: list[dict[str, Any]] = []

    def add(kind: str, rule_id: str, due: dt.date, met: bool, *, opens: bool = False) -> None:
        state = (
            "met" if met else ("open" if opens and today >= due else "missed" if today > due else "running")
        )
        out.append(
            {
                "deadline": kind,
                "due_on": due,
                "state": state,
                "articles": list(policy.rule(j, rule_id).articles),
            }
        )

    if project.status is Status.CLOSED or project.completed_on is None:
        return out
    done = project.status is Status.ACCEPTED
    initial_due = rules.initial_due(policy, calendar, j, project.completed_on)
    if initial_due is not None:
        add("initial_acceptance", "acceptance.initial_deadline", initial_due, project.initial_on is not None)
    if project.initial_on is not None:
        earliest = rules.earliest_application(policy, calendar, j, project.initial_on)
        if earliest is not None:
            add(
                "application_opens",
                "acceptance.apply_after_initial",
                earliest,
                bool(project.applications),
                opens=True,
            )
    due = rules.application_due(policy, calendar, j, project.completed_on, project.initial_on)
    if due is not None:
        add(
            "application",
            "acceptance.apply_deadline",
            project.delay_until or due.due_on,
            bool(project.applications),
        )
    if project.trial_started_on is not None:
        limit = rules.trial_limit(policy, j, project.trial_started_on)
        if limit is not None:
            add("trial_run_limit", "acceptance.trial_run_max", limit, done)
    if project.report_due_on is not None:
        add(
            "acceptance_report",
            "acceptance.report_deadline",
            project.report_due_on,
            project.report is not None,
        )
    self_due = rules.self_evaluation_due(policy, j, today.year)
    if self_due is not None:
        done = any(e["evaluation"] == "self" and e["period"] == str(today.year) for e in project.evaluations)
        add("self_evaluation", "acceptance.self_evaluation_deadline", self_due, done)
    if project.accepted_on is not None:
        window = rules.evaluation_window(policy, calendar, j, project.accepted_on)
        if window is not None:
            evaluated = any(e["evaluation"] in ("post", "first_year") for e in project.evaluations)
            add(
                "post_evaluation_opens",
                "acceptance.post_evaluation_window",
                window.opens,
                evaluated,
                opens=True,
            )
            if window.closes is not None:
                add("post_evaluation", "acceptance.post_evaluation_window", window.closes, evaluated)
    return sorted(out, key=lambda d: d["due_on"])


async def scan(
    new_uow: Callable[[], AcceptanceUnitOfWork],
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    *,
    today: dt.date,
    scope: Scope = EVERYWHERE,
) -> int:
    """Announce each post-evaluation whose window opened (review opens its case), of the scope's
    jurisdictions when the authority asks; returns how many."""
    async with new_uow() as uow:
        ids = await uow.projects.ids_to_watch(scope.jurisdictions)
    fired = 0
    for project_id in ids:
        async with new_uow() as uow:
            project = await uow.projects.get(project_id)
            if project is None or project.accepted_on is None:
                continue
            window = rules.evaluation_window(policy, calendar, project.jurisdiction, project.accepted_on)
            if window is None:
                continue
            yearly = window.closes is None
            opens = [window.opens]
            while yearly and months_after(opens[-1], 12) <= today:
                opens.append(months_after(opens[-1], 12))
            for due in opens:
                key = f"post_evaluation:{due.year}" if yearly else "post_evaluation"
                if today < due or key in project.notices:
                    continue
                uow.emit(
                    PostEvaluationDue(
                        project_id=project.id,
                        jurisdiction=project.jurisdiction,
                        agency=project.agency,
                        due_on=due,
                        parties=(*project.contractors, *([project.supervisor] if project.supervisor else [])),
                        articles=_articles(policy, project, "acceptance.post_evaluation_window"),
                    )
                )
                project.notices = [*project.notices, key]
                fired += 1
            await uow.commit()
    return fired


# -- events from intake, procurement and review ------------------------------------------------------


async def record_declared(uow: AcceptanceUnitOfWork, event: ProjectDeclared, ctx: HandlerContext) -> None:
    if await uow.projects.get(event.project_id) is None:
        uow.projects.add(
            Project(
                id=event.project_id,
                jurisdiction=event.jurisdiction,
                agency=event.agency,
                title=event.title,
                kind=event.kind,
                software_fen=event.software_fen,
                status=Status.BUILDING,
                created_at=ctx.now(),
            )
        )


async def record_upper_level(uow: AcceptanceUnitOfWork, event: ProjectRecorded, ctx: HandlerContext) -> None:
    if await uow.projects.get(event.project_id) is None:
        uow.projects.add(
            Project(
                id=event.project_id,
                jurisdiction=event.jurisdiction,
                agency=event.agency,
                title=event.title,
                kind="construction",
                software_fen=0,
                status=Status.BUILDING,
                created_at=ctx.now(),
            )
        )


async def _known(uow: AcceptanceUnitOfWork, project_id: str) -> Project:
    project = await uow.projects.get(project_id)
    if project is None:
        # The declaration has not been recorded yet: fail, and JetStream redelivers later.
        raise ProjectNotFound(f"项目 {project_id} 的申报事件尚未到达")
    return project


async def record_completion(
    uow: AcceptanceUnitOfWork, event: ConstructionCompleted, ctx: HandlerContext
) -> None:
    project = await _known(uow, event.project_id)
    project.record_completion(event.completed_on, event.contractors, event.supervisor)


async def record_review(uow: AcceptanceUnitOfWork, event: ReviewConcluded, ctx: HandlerContext) -> None:
    """The expert panel's conclusion on the final acceptance (a revise verdict leaves it running)."""
    if event.stage != "acceptance" or event.verdict == "revise":
        return
    project = await _known(uow, event.project_id)
    current = project.current
    if project.status is not Status.UNDER_ACCEPTANCE or current is None or not current.get("experts"):
        return  # not awaiting a panel (lhasa §17, xunyang §20: the authority concludes)
    if event.reference is not None and event.reference != current["id"]:
        return  # a panel on an earlier application
    _conclude(
        project,
        ctx.policy,
        ctx.calendar,
        event.verdict == "pass",
        on=today_in_shanghai(ctx.now()),
        items=(),
        rectification_due=None,
        by="review",
    )


async def close(uow: AcceptanceUnitOfWork, event: Closing, ctx: HandlerContext) -> None:
    project = await _known(uow, event.project_id)
    project.close(event.outcome)
