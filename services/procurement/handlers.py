"""Procurement's commands and event handlers: load, ask the pack, call the domain, commit."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from services.procurement import rules
from services.procurement.db import ProcurementUnitOfWork
from services.procurement.domain import (
    Change,
    ChangeNotFound,
    ChangeState,
    Contract,
    Firm,
    InvalidState,
    ProcurementError,
    Project,
    ProjectNotFound,
    Role,
    new_id,
    split_milestones,
)
from shared.auth import EVERYWHERE, Scope
from shared.consume import HandlerContext
from shared.contracts.intake import (
    Closing,
    ProjectApproved,
    ProjectDeclared,
    ProjectIncludedInPlan,
    ProjectRecorded,
)
from shared.contracts.procurement import DeadlineMissed, TerminationRecommended
from shared.contracts.review import ReviewConcluded
from shared.idempotency import create_once
from shared.policy import PolicyRegistry, Reason, citations
from shared.workdays import WorkingCalendar, today_in_shanghai

# -- what the pack says before anything starts ------------------------------------------------------


def _unapproved(policy: PolicyRegistry, project: Project, rule_id: str) -> list[Reason]:
    """The pack forbids this before approval (zhonglou §13; shexian §15, bayingolin §15 for construction)."""
    rule = policy.rule(project.jurisdiction, rule_id)
    if rule.applies and not project.approved:
        return [
            policy.refusal(project.jurisdiction, rule_id, "not_approved", f"项目尚未批复，{rule.summary}")
        ]
    return []


def _requirements_unreviewed(policy: PolicyRegistry, project: Project) -> list[Reason]:
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


async def _blacklisted(
    uow: ProcurementUnitOfWork, policy: PolicyRegistry, jurisdiction: str, credit_code: str, name: str
) -> list[Reason]:
    """A firm on the 失信 list may not be contracted (xunyang §25, lhasa §22)."""
    rule = policy.rule(jurisdiction, "review.blacklist")
    firm = await uow.firms.get(jurisdiction, credit_code)
    if rule.applies and firm is not None and firm.blacklisted:
        detail = f"{name}（{credit_code}）已列入失信名单：{firm.reason}"
        return [policy.refusal(jurisdiction, "review.blacklist", "firm_blacklisted", detail)]
    return []


def _procured_early(
    policy: PolicyRegistry, project: Project, on: dt.date, what: str, *, tendering: bool
) -> list[Reason]:
    """Procurement dated before the approval (zhonglou §13), or a tender dated before the requirements
    review (shexian §29): being approved or reviewed when it is recorded is not enough."""
    j = project.jurisdiction
    found = _dated_before_approval(
        policy, project, on, what, "procurement.no_procurement_before_approval", "procured_before_approval"
    )
    review = policy.rule(j, "procurement.requirements_review")
    reviewed_on = _requirements_reviewed_on(project)
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


def _dated_before_approval(
    policy: PolicyRegistry, project: Project, on: dt.date, what: str, rule_id: str, code: str
) -> list[Reason]:
    """A date reported for the project that falls before its approval, where the rule forbids it."""
    rule = policy.rule(project.jurisdiction, rule_id)
    if not (rule.applies and project.approved_on is not None and on < project.approved_on):
        return []
    detail = f"{what} {on.isoformat()} 早于批复日期 {project.approved_on.isoformat()}，{rule.summary}"
    return [policy.refusal(project.jurisdiction, rule_id, code, detail)]


def _requirements_reviewed_on(project: Project) -> dt.date | None:
    """The day the authority approved the procurement requirements, if it has."""
    if not project.requirements_approved or project.requirements is None:
        return None
    return today_in_shanghai(dt.datetime.fromisoformat(project.requirements["reviewed_at"]))


def _not_after(day: dt.date, today: dt.date, what: str) -> None:
    """Dates people report must have happened: a date to come would move the time limits."""
    if day > today:
        raise ProcurementError(f"{what} {day.isoformat()} 晚于今日 {today.isoformat()}")


async def _project(uow: ProcurementUnitOfWork, project_id: str, scope: Scope) -> Project:
    """The project, locked; one outside the caller's scope (another jurisdiction's, another agency's)
    is not found, as a missing one."""
    project = await uow.projects.get(project_id)
    if project is None or not scope.covers(project.jurisdiction, project.agency):
        raise ProjectNotFound(f"项目 {project_id} 不存在或尚未申报")
    return project


# -- procurement ------------------------------------------------------------------------------------


async def submit_requirements(
    uow: ProcurementUnitOfWork,
    policy: PolicyRegistry,
    project_id: str,
    scope: Scope,
    *,
    summary: str,
    by: str,
    at: dt.datetime,
) -> Project:
    async with uow:
        project = await _project(uow, project_id, scope)
        project.submit_requirements(
            summary, by, at, _unapproved(policy, project, "procurement.no_procurement_before_approval")
        )
        await uow.commit()
        return project


async def review_requirements(
    uow: ProcurementUnitOfWork,
    policy: PolicyRegistry,
    project_id: str,
    scope: Scope,
    *,
    approved: bool,
    comment: str,
    by: str,
    at: dt.datetime,
) -> Project:
    async with uow:
        project = await _project(uow, project_id, scope)
        articles = policy.rule(project.jurisdiction, "procurement.requirements_review").articles
        project.review_requirements(approved, comment, by, at, articles)
        await uow.commit()
        return project


@dataclass(frozen=True)
class Tender:
    method: str
    announced_on: dt.date | None
    awarded_on: dt.date
    bidders: Sequence[str]
    winner: str
    winner_credit_code: str
    amount_fen: int


async def record_tender(
    uow: ProcurementUnitOfWork,
    policy: PolicyRegistry,
    project_id: str,
    scope: Scope,
    tender: Tender,
    *,
    by: str,
    today: dt.date,
) -> Project:
    _not_after(tender.awarded_on, today, "中标（成交）日期")
    if tender.announced_on is not None and tender.announced_on > tender.awarded_on:
        raise ProcurementError("公告日期不能晚于中标（成交）日期")
    async with uow:
        project = await _project(uow, project_id, scope)
        j = project.jurisdiction
        started = tender.announced_on or tender.awarded_on
        what = "采购公告日期" if tender.announced_on is not None else "中标（成交）日期"
        refusals = [
            *_unapproved(policy, project, "procurement.no_procurement_before_approval"),
            *_requirements_unreviewed(policy, project),
            *_procured_early(policy, project, started, what, tendering=True),
            *await _blacklisted(uow, policy, j, tender.winner_credit_code, tender.winner),
        ]
        record = {
            "id": new_id(),
            **{k: v.isoformat() if isinstance(v, dt.date) else v for k, v in asdict(tender).items()},
            "bidders": list(tender.bidders),
            "recorded_by": by,
        }
        project.record_tender(record, refusals)
        await uow.commit()
        return project


@dataclass(frozen=True)
class ContractTerms:
    role: Role
    counterparty: str
    credit_code: str
    amount_fen: int
    signed_on: dt.date
    starts_on: dt.date | None
    ends_on: dt.date | None
    milestones: Sequence[tuple[str, str, Decimal]]  # name, stage, share in percent
    ip_to_government: bool


async def file_contract(
    uow: ProcurementUnitOfWork,
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    project_id: str,
    scope: Scope,
    terms: ContractTerms,
    *,
    by: str,
    at: dt.datetime,
    idempotency_key: str | None = None,
) -> tuple[Contract, bool]:
    """合同备案: refused with every reason at once; a late filing is kept and marked with its article."""
    async with uow:
        project = await _project(uow, project_id, scope)
        j = project.jurisdiction
        filed_on = today_in_shanghai(at)
        if terms.signed_on > filed_on:
            raise ProcurementError("签订日期不能晚于备案当日")
        milestones = split_milestones(terms.amount_fen, terms.milestones)

        async def create() -> Contract:
            refusals = [
                *_unapproved(policy, project, "procurement.no_procurement_before_approval"),
                *_procured_early(
                    policy,
                    project,
                    terms.signed_on,
                    "合同签订日期",
                    tendering=terms.role is Role.CONSTRUCTION,
                ),
                *await _blacklisted(uow, policy, j, terms.credit_code, terms.counterparty),
            ]
            if terms.role is Role.CONSTRUCTION:
                refusals += _requirements_unreviewed(policy, project)
                ip = policy.rule(j, "procurement.ip_to_government")
                if ip.applies and not terms.ip_to_government:
                    refusals.append(
                        policy.refusal(
                            j,
                            "procurement.ip_to_government",
                            "ip_clause_missing",
                            "合同未明确项目成果（设计文件、源代码、测试文档、数据资源、数据接口等）"
                            "及相关知识产权归政府所有",
                        )
                    )
            due = rules.filing_due(policy, calendar, j, terms.signed_on)
            late = due is not None and filed_on > due
            notes = (
                [
                    policy.refusal(
                        j,
                        "procurement.contract_filing",
                        "contract_filed_late",
                        f"合同于 {terms.signed_on.isoformat()} 签订，应在 {due.isoformat()} 前报送备案，"
                        f"实际 {filed_on.isoformat()} 报送，已逾期",
                    )
                ]
                if late and due is not None
                else []
            )
            contract = Contract(
                id=new_id(),
                project_id=project.id,
                jurisdiction=j,
                agency=project.agency,
                role=terms.role,
                counterparty=terms.counterparty,
                credit_code=terms.credit_code,
                amount_fen=terms.amount_fen,
                signed_on=terms.signed_on,
                starts_on=terms.starts_on,
                ends_on=terms.ends_on,
                milestones=milestones,
                ip_to_government=terms.ip_to_government,
                filed_on=filed_on,
                filing_due_on=due,
                late=late,
                filed_by=by,
                filed_at=at,
                notes=[c.model_dump(mode="json") for c in citations(notes)],
                idempotency_key=idempotency_key,
            )
            project.file_contract(contract, refusals, policy.rule(j, "procurement.contract_filing").articles)
            uow.contracts.add(contract)
            await uow.commit()
            return contract

        async def earlier() -> Contract | None:
            return await uow.contracts.by_key(project_id, idempotency_key) if idempotency_key else None

        def same(c: Contract) -> bool:
            return (
                c.role is terms.role
                and c.credit_code == terms.credit_code
                and c.amount_fen == terms.amount_fen
                and c.signed_on == terms.signed_on
            )

        return await create_once(uow, idempotency_key, earlier=earlier, same=same, create=create)


# -- construction -----------------------------------------------------------------------------------


async def start_construction(
    uow: ProcurementUnitOfWork,
    policy: PolicyRegistry,
    project_id: str,
    scope: Scope,
    *,
    on: dt.date,
    today: dt.date,
) -> Project:
    """开工: not before approval (zhonglou §13, shexian §15, bayingolin §15), not without 监理 (lhasa §13)."""
    async with uow:
        project = await _project(uow, project_id, scope)
        j = project.jurisdiction
        _not_after(on, today, "开工日期")
        refusals = _unapproved(policy, project, "procurement.no_construction_before_approval")
        refusals += _dated_before_approval(
            policy,
            project,
            on,
            "开工日期",
            "procurement.no_construction_before_approval",
            "started_before_approval",
        )
        if project.supervisor is None:
            if policy.rule(j, "procurement.no_construction_before_supervision").applies:
                refusals.append(
                    policy.refusal(j, "procurement.no_construction_before_supervision", "no_supervisor")
                )
            if rules.supervision_required(policy, j, project.total_fen):
                refusals.append(
                    policy.refusal(
                        j,
                        "procurement.supervision_required",
                        "no_supervisor",
                        "本项目须实行监理，尚未备案监理合同："
                        + policy.rule(j, "procurement.supervision_required").summary,
                    )
                )
        articles = [
            *policy.rule(j, "procurement.no_construction_before_approval").articles,
            *policy.rule(j, "procurement.no_construction_before_supervision").articles,
        ]
        project.start(on, refusals, articles)
        await uow.commit()
        return project


def _report_rule(kind: str) -> str:
    return {
        "implementation_plan": "procurement.implementation_plan_deadline",
        "progress": "procurement.progress_reporting",
        "delay": "procurement.delay_report",
    }[kind]


async def report(
    uow: ProcurementUnitOfWork,
    policy: PolicyRegistry,
    project_id: str,
    scope: Scope,
    *,
    kind: str,
    period: str | None,
    summary: str,
    by: str,
    at: dt.datetime,
) -> Project:
    """实施方案和进度计划 (bayingolin §16), 进度或绩效报告 (bayingolin §20, shexian §35,
    xunyang §17), 逾期情况说明 (lhasa §18)."""
    async with uow:
        project = await _project(uow, project_id, scope)
        j = project.jurisdiction
        if kind == "progress":
            rule = policy.rule(j, "procurement.progress_reporting")
            frequency = str(rule.params.get("frequency", "quarterly")) if rule.applies else None
            period = period or (rules.period_label(frequency, today_in_shanghai(at)) if frequency else None)
            if period and rules.period_starts(period) > today_in_shanghai(at):
                raise ProcurementError(f"报告期 {period} 尚未开始，不能预先报送")
            if frequency and period and not rules.valid_period(frequency, period):
                raise ProcurementError(
                    f"报告期 {period} 不符合本辖区的报送周期"
                    f"（{'按季度，如 2026Q3' if frequency == 'quarterly' else '按年度，如 2026'}，"
                    f"{'、'.join(rule.articles)}）"
                )
        else:
            period = None
        project.report(
            kind, period, summary, today_in_shanghai(at), by, policy.rule(j, _report_rule(kind)).articles
        )
        await uow.commit()
        return project


async def complete_construction(
    uow: ProcurementUnitOfWork,
    policy: PolicyRegistry,
    project_id: str,
    scope: Scope,
    *,
    on: dt.date,
    security_test_report: str | None,
    today: dt.date,
) -> Project:
    """竣工: with the 监理 the pack requires and, in zhonglou, the software's security test (§15)."""
    _not_after(on, today, "竣工日期")
    async with uow:
        project = await _project(uow, project_id, scope)
        j = project.jurisdiction
        refusals: list[Reason] = []
        if project.supervisor is None and rules.supervision_required(policy, j, project.total_fen):
            refusals.append(
                policy.refusal(
                    j,
                    "procurement.supervision_required",
                    "no_supervisor",
                    "本项目须实行监理，尚未备案监理合同",
                )
            )
        if rules.security_test_required(policy, j, project.software_fen) and not security_test_report:
            refusals.append(
                policy.refusal(
                    j,
                    "procurement.supervision_required",
                    "security_test_missing",
                    "应用软件开发须进行安全评测，请提供评测报告",
                )
            )
        project.complete(
            on, security_test_report, refusals, policy.rule(j, "procurement.supervision_required").articles
        )
        await uow.commit()
        return project


# -- changes ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChangeRequest:
    description: str
    scope_effect: str
    total_delta_fen: int
    adjustment_fen: int
    goal_changed: bool
    ground: rules.Ground | None
    major: bool = False  # 重大调整 (zhonglou §14)


async def request_change(
    uow: ProcurementUnitOfWork,
    policy: PolicyRegistry,
    project_id: str,
    scope: Scope,
    request: ChangeRequest,
    *,
    by: str,
    at: dt.datetime,
    idempotency_key: str | None = None,
) -> tuple[Change, bool]:
    """A change request: its path from the pack; a change over tolerance goes to an expert review."""
    async with uow:
        project = await _project(uow, project_id, scope)
        j = project.jurisdiction

        async def create() -> Change:
            if project.approved_fen is None:
                raise InvalidState("项目尚未批复，没有可变更的批复内容")
            # Changes still awaiting their decision count as if they took effect.
            pending = [c for c in await uow.changes.of(project.id) if c.status is ChangeState.PENDING]
            pending_delta = sum(c.total_delta_fen for c in pending)
            if project.total_fen + pending_delta + request.total_delta_fen < 0:
                raise ProcurementError("核减数额超过批复总投资")
            route = rules.route_change(
                policy,
                j,
                approved_fen=project.approved_fen,
                prior_overrun_fen=project.overrun_fen + pending_delta,
                prior_adjusted_fen=project.adjusted_fen + sum(c.adjustment_fen for c in pending),
                total_delta_fen=request.total_delta_fen,
                adjustment_fen=request.adjustment_fen,
                goal_changed=request.goal_changed,
                ground=request.ground,
                major=request.major,
            )
            filed = route.path is rules.Path.FILE
            # An expert review of the change where the pack asks for one (shexian §7, zhonglou §14);
            # elsewhere the approvers decide alone (bayingolin §22, lhasa §16).
            reviewed = (
                not filed
                and policy.rule(j, "review.panel").applies
                and bool(policy.rule(j, "procurement.change_reapproval").params.get("expert_review"))
            )
            change = Change(
                id=new_id(),
                project_id=project.id,
                jurisdiction=j,
                agency=project.agency,
                description=request.description,
                scope_effect=request.scope_effect,
                total_delta_fen=request.total_delta_fen,
                adjustment_fen=request.adjustment_fen,
                goal_changed=request.goal_changed,
                ground=request.ground.value if request.ground else None,
                path=route.path.value,
                approvers=list(route.approvers),
                decisions={},
                review="requested" if reviewed else None,
                status=ChangeState.FILED if filed else ChangeState.PENDING,
                reasons=[c.model_dump(mode="json") for c in citations(route.reasons)],
                articles=list(route.articles),
                requested_by=by,
                requested_at=at,
                decided_at=at if filed else None,
                idempotency_key=idempotency_key,
            )
            parties = [*project.contractors, *([project.supervisor] if project.supervisor else [])]
            project.request_change(change, parties)
            uow.changes.add(change)
            await uow.commit()
            return change

        async def earlier() -> Change | None:
            return await uow.changes.by_key(project_id, idempotency_key) if idempotency_key else None

        def same(c: Change) -> bool:
            return (
                c.description == request.description
                and c.total_delta_fen == request.total_delta_fen
                and c.adjustment_fen == request.adjustment_fen
            )

        return await create_once(uow, idempotency_key, earlier=earlier, same=same, create=create)


async def decide_change(
    uow: ProcurementUnitOfWork,
    change_id: str,
    scope: Scope,
    *,
    role: str,
    approve: bool,
    comment: str,
    approval_number: str | None,
    by: str,
    at: dt.datetime,
) -> Change:
    """The authority's (and in bayingolin §22 finance's) decision on a change awaiting approval."""
    async with uow:
        # Lock the project before the change, in the order the review's event handler locks them.
        project_id = await uow.changes.project_of(change_id)
        if project_id is None:
            raise ChangeNotFound(f"变更 {change_id} 不存在")
        try:
            project = await _project(uow, project_id, scope)
        except ProjectNotFound:
            raise ChangeNotFound(f"变更 {change_id} 不存在") from None
        change = await uow.changes.get(change_id)
        assert change is not None
        project.decide_change(change, role, approve, comment, by, at, approval_number)
        await uow.commit()
        return change


# -- firms ------------------------------------------------------------------------------------------


async def set_firm(
    uow: ProcurementUnitOfWork,
    policy: PolicyRegistry,
    jurisdiction: str,
    credit_code: str,
    *,
    name: str,
    blacklisted: bool,
    reason: str,
    at: dt.datetime,
) -> Firm:
    """列入或移出失信名单, where the pack keeps one for firms (xunyang §25, lhasa §22)."""
    rule = policy.rule(jurisdiction, "review.blacklist")
    covers = set(rule.params.get("covers", []))
    if blacklisted and not (rule.applies and covers & {"enterprises", "third_parties"}):
        raise ProcurementError(f"{jurisdiction} 的管理办法未规定企业失信名单（{rule.summary}）")
    if blacklisted and not reason.strip():
        raise ProcurementError(f"列入失信名单须写明原因（{'、'.join(rule.articles)}）")
    async with uow:
        firm = await uow.firms.get(jurisdiction, credit_code)
        if firm is None:
            firm = Firm(new_id(), jurisdiction, credit_code, name, blacklisted, reason, at)
            uow.firms.add(firm)
        else:
            firm.name, firm.blacklisted, firm.reason, firm.updated_at = name, blacklisted, reason, at
        await uow.commit()
        return firm


# -- deadlines that run by themselves ---------------------------------------------------------------


def _procurement_started_on(project: Project) -> dt.date | None:
    """The first sign of procurement under way: requirements submitted, or a tender's announcement
    (its award where no announcement was recorded)."""
    days = [dt.date.fromisoformat(str(t.get("announced_on") or t["awarded_on"])) for t in project.tenders]
    if project.requirements:
        days.append(today_in_shanghai(dt.datetime.fromisoformat(project.requirements["submitted_at"])))
    return min(days, default=None)


def facts_of(project: Project) -> rules.Facts:
    period = (
        (project.contract_starts_on, project.contract_ends_on)
        if project.contract_starts_on and project.contract_ends_on
        else None
    )
    return rules.Facts(
        jurisdiction=project.jurisdiction,
        plan_issued_on=project.plan_issued_on,
        review_passed_on=project.review_passed_on,
        approved_on=project.approved_on,
        implementation_plan_on=project.implementation_plan_on,
        procurement_started_on=_procurement_started_on(project),
        contract_signed_on=project.contract_signed_on,
        started_on=project.started_on,
        completed_on=project.completed_on,
        contract_period=period,
        reports={(r["kind"], r["period"]): dt.date.fromisoformat(r["submitted_on"]) for r in project.reports},
    )


async def scan_deadlines(
    new_uow: Callable[[], ProcurementUnitOfWork],
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    *,
    today: dt.date,
    scope: Scope = EVERYWHERE,
) -> int:
    """Event each missed deadline once, one project per transaction (the scope's jurisdictions'
    only, when the authority asks); returns how many fired."""
    async with new_uow() as uow:
        ids = await uow.projects.ids_in_progress(scope.jurisdictions)
    fired = 0
    for project_id in ids:
        fired += await _scan_one(new_uow(), policy, calendar, project_id, today)
    return fired


async def _scan_one(
    uow: ProcurementUnitOfWork,
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    project_id: str,
    today: dt.date,
) -> int:
    async with uow:
        project = await uow.projects.get(project_id)
        if project is None or project.status.value in ("closed", "completed"):
            return 0
        j = project.jurisdiction
        missed = [
            d
            for d in rules.deadlines(policy, calendar, facts_of(project), today)
            if d.missed(today) and d.key not in project.notices
        ]
        for due in missed:
            message = rules.deadline_message(policy, j, due)
            articles = policy.rule(j, due.rule).articles
            uow.emit(
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
            )
            if due.terminate:
                uow.emit(
                    TerminationRecommended(
                        project_id=project.id, jurisdiction=j, reason=message, articles=articles
                    )
                )
        if missed:
            project.notices = [*project.notices, *(d.key for d in missed)]
        await uow.commit()
        return len(missed)


def upcoming(
    policy: PolicyRegistry, calendar: WorkingCalendar, project: Project, today: dt.date
) -> list[dict[str, Any]]:
    """Every deadline of the project with its state, for people to read."""
    if project.status.value == "closed":
        return []
    out = []
    for due in rules.deadlines(policy, calendar, facts_of(project), today):
        state = "met" if due.met else ("missed" if due.missed(today) else "running")
        out.append(
            {
                "deadline": due.kind,
                "period": due.period,
                "due_on": due.due_on,
                "state": state,
                "terminate_on_breach": due.terminate,
                "articles": list(policy.rule(project.jurisdiction, due.rule).articles),
                "message": rules.deadline_message(policy, project.jurisdiction, due),
            }
        )
    return out


# -- events from intake and review ------------------------------------------------------------------


async def _known(uow: ProcurementUnitOfWork, project_id: str) -> Project:
    project = await uow.projects.get(project_id)
    if project is None:
        # The declaration has not been recorded yet: fail, and JetStream redelivers later.
        raise ProjectNotFound(f"项目 {project_id} 的申报事件尚未到达")
    return project


def _event_day(ctx: HandlerContext) -> dt.date:
    """The day the event happened in Shanghai (its CloudEvents time), not the day it was handled:
    after an outage or a dead-letter replay the dates zhonglou §13 and §17 count from stay put.
    A time ahead of the service's own clock is not believed: nothing is dated after it arrived."""
    now = ctx.now()
    return today_in_shanghai(min(ctx.envelope.time, now) if ctx.envelope is not None else now)


async def record_declared(uow: ProcurementUnitOfWork, event: ProjectDeclared, ctx: HandlerContext) -> None:
    if await uow.projects.get(event.project_id) is not None:
        return
    uow.projects.add(
        Project.declared(
            project_id=event.project_id,
            jurisdiction=event.jurisdiction,
            agency=event.agency,
            title=event.title,
            kind=event.kind,
            amount_fen=event.amount_fen,
            software_fen=event.software_fen,
            at=ctx.now(),
        )
    )


async def record_upper_level(uow: ProcurementUnitOfWork, event: ProjectRecorded, ctx: HandlerContext) -> None:
    """上级资金项目报备 (zhonglou §10): approved above, it goes straight to procurement."""
    project = await uow.projects.get(event.project_id)
    if project is None:
        project = Project.declared(
            project_id=event.project_id,
            jurisdiction=event.jurisdiction,
            agency=event.agency,
            title=event.title,
            kind="construction",
            amount_fen=event.amount_fen,
            software_fen=0,
            at=ctx.now(),
        )
        uow.projects.add(project)
    project.approve(event.amount_fen, _event_day(ctx))


async def record_plan(uow: ProcurementUnitOfWork, event: ProjectIncludedInPlan, ctx: HandlerContext) -> None:
    """计划下达: bayingolin §16 and §21 count from here."""
    project = await _known(uow, event.project_id)
    if project.plan_issued_on is None:
        project.plan_issued_on = _event_day(ctx)


async def record_approval(uow: ProcurementUnitOfWork, event: ProjectApproved, ctx: HandlerContext) -> None:
    project = await _known(uow, event.project_id)
    project.approve(event.approved_amount_fen, _event_day(ctx))


async def record_review(uow: ProcurementUnitOfWork, event: ReviewConcluded, ctx: HandlerContext) -> None:
    """A pass of the approval review starts zhonglou §17's clock; a change review decides its change."""
    project = await _known(uow, event.project_id)
    if event.stage == "change":
        waiting = await uow.changes.awaiting_review(project.id)
        # The case names the change it reviewed; an older producer without it: the oldest waiting.
        matched = [c for c in waiting if c.id == event.reference] if event.reference else waiting[:1]
        for change in matched:
            change.review = event.verdict
        return
    rule = ctx.policy.rule(event.jurisdiction, "funding.expert_review_required")
    stages = rule.params.get("stages", []) if rule.applies else []
    if event.verdict == "pass" and event.stage in stages and project.review_passed_on is None:
        project.review_passed_on = _event_day(ctx)


async def close(uow: ProcurementUnitOfWork, event: Closing, ctx: HandlerContext) -> None:
    project = await _known(uow, event.project_id)
    project.close(event.outcome)
