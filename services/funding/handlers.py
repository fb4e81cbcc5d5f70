"""Funding's commands and event handlers: load, ask the pack, call the domain, commit."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.funding.db import FundingUnitOfWork
from services.funding.domain import (
    NAMES,
    Contract,
    Disbursement,
    DisbursementNotFound,
    DisbursementStatus,
    FactOrder,
    FundedProject,
    FundingError,
    Gate,
    GateFact,
    GateState,
    InvalidState,
    PaymentKind,
    ProjectNotFound,
    Reclaim,
    Refused,
    closed_reasons,
    is_open,
    needs,
    om_needs,
)
from shared.auth import Scope
from shared.consume import HandlerContext
from shared.contracts.acceptance import (
    AuditReportFiled,
    DataSharingDecided,
    EvaluationRecorded,
    FinalAcceptanceConcluded,
    InitialAcceptanceRecorded,
    SecurityAttested,
)
from shared.contracts.funding import SettlementRecorded
from shared.contracts.intake import (
    Closing,
    ProjectApproved,
    ProjectDeclared,
    ProjectIncludedInPlan,
    ProjectRecorded,
)
from shared.contracts.procurement import ChangeRecorded, ConstructionCompleted, ContractFiled
from shared.idempotency import create_once
from shared.policy import PolicyRegistry, Reason
from shared.workdays import WorkingCalendar, months_after, today_in_shanghai

BUDGET_KINDS = (PaymentKind.PREPARATORY, PaymentKind.CONSTRUCTION, PaymentKind.MILESTONE, PaymentKind.FINAL)


# -- disbursements ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class RequestDisbursement:
    project_id: str
    kind: PaymentKind
    amount_fen: int
    purpose: str
    by: str
    scope: Scope  # whose projects the requester acts for
    idempotency_key: str | None = None
    contract_id: str | None = None
    milestone: str | None = None


async def _project(uow: FundingUnitOfWork, project_id: str, scope: Scope) -> FundedProject:
    """The project, locked; one outside the caller's scope (another jurisdiction's, another agency's)
    is not found, as a missing one."""
    project = await uow.projects.get(project_id, for_update=True)
    if project is None or not scope.covers(project.jurisdiction, project.agency):
        raise ProjectNotFound(f"资金系统中没有项目 {project_id}（尚未申报或无权查看）")
    return project


async def _limits(
    uow: FundingUnitOfWork, policy: PolicyRegistry, project: FundedProject, cmd: RequestDisbursement
) -> str | None:
    """Money never exceeds the approved total or the contract; returns the milestone's stage."""
    if project.settlement is not None:
        raise Refused(f"项目已于 {project.settlement['settled_on']} 结算，不再受理建设资金拨付")
    stage: str | None = None
    if cmd.kind is not PaymentKind.MILESTONE and (cmd.contract_id or cmd.milestone):
        raise FundingError("只有合同付款节点（milestone）申请可以指明合同和付款节点")
    if cmd.kind is PaymentKind.MILESTONE:
        if not (cmd.contract_id and cmd.milestone):
            raise FundingError("合同付款须指明备案合同（contract_id）和付款节点（milestone）")
        contract = await uow.contract(cmd.contract_id)
        if contract is None or contract.project_id != project.id:
            raise Refused(f"合同 {cmd.contract_id} 尚未备案（采购与建设服务备案后方可按付款节点申请）")
        milestone = contract.milestone(cmd.milestone)
        taken = await uow.disbursements.committed_on_milestone(f"{contract.id}:{cmd.milestone}")
        if taken + cmd.amount_fen > int(milestone["amount_fen"]):
            raise Refused(
                f"付款节点「{cmd.milestone}」合同金额 {milestone['amount_fen']} 分，已申请 {taken} 分，"
                f"本次 {cmd.amount_fen} 分将超过合同约定"
            )
        if contract.role == "construction" and cmd.amount_fen > await _contract_room(uow, project):
            raise Refused("本次付款将超过备案施工合同的总金额（含已申请的尾款）")
        stage = str(milestone["stage"])
    elif cmd.kind is PaymentKind.FINAL:
        if not [c for c in await uow.contracts_of(project.id) if c.role == "construction"]:
            raise Refused("尚无备案的施工合同，不能申请尾款")
        room = await _contract_room(uow, project)
        if cmd.amount_fen > room:
            raise Refused(f"申请金额超过备案施工合同尚未支付的金额（余额 {max(room, 0)} 分）")
    committed = await uow.disbursements.committed_fen(project.id, BUDGET_KINDS)
    if committed + cmd.amount_fen > project.cap_fen:
        raise Refused(
            f"已拨付及待拨付 {committed} 分，加上本次 {cmd.amount_fen} 分，将超过{_cap_name(project)} "
            f"{project.cap_fen} 分",
            [_over_cap(policy, project)],
        )
    return stage


async def _contract_room(uow: FundingUnitOfWork, project: FundedProject) -> int:
    """What the filed construction contracts still owe: their total less milestones and finals asked for."""
    construction = [c for c in await uow.contracts_of(project.id) if c.role == "construction"]
    taken = sum([await uow.disbursements.committed_on_contract(c.id) for c in construction])
    finals = await uow.disbursements.committed_fen(project.id, (PaymentKind.FINAL,))
    return sum(c.amount_fen for c in construction) - taken - finals


def _cap_name(project: FundedProject) -> str:
    return "批复总投资" if project.approved_amount_fen is not None else "申报投资估算"


def _over_cap(policy: PolicyRegistry, project: FundedProject) -> Reason:
    rule = policy.rule(project.jurisdiction, "funding.approval_required")
    return Reason(
        code="exceeds_approved_total",
        rule=rule.article,
        articles=rule.articles,
        message=f"拨付不得超过{_cap_name(project)} {project.cap_fen} 分（{'、'.join(rule.articles)}）",
    )


async def request_disbursement(
    uow: FundingUnitOfWork, cmd: RequestDisbursement, policy: PolicyRegistry, *, at: dt.datetime
) -> tuple[Disbursement, bool]:
    """Record a request; released at once when its gates are open, else held until they open."""
    if cmd.kind is PaymentKind.OM:
        raise FundingError("运维经费请通过运维经费申请办理（POST /projects/{id}/om-applications）")
    async with uow:
        project = await _project(uow, cmd.project_id, cmd.scope)
        today = today_in_shanghai(at)

        async def create() -> Disbursement:
            gates = await uow.gates.of(project.id)
            if project.terminated:
                standing = closed_reasons(
                    policy,
                    project.jurisdiction,
                    needs(policy, project.jurisdiction, cmd.kind)[:1],
                    gates,
                    today,
                )
                raise Refused("项目已终止，不再拨付资金", standing)
            stage = await _limits(uow, policy, project, cmd)
            item = Disbursement.request(
                project=project,
                kind=cmd.kind,
                amount_fen=cmd.amount_fen,
                purpose=cmd.purpose,
                by=cmd.by,
                at=at,
                idempotency_key=cmd.idempotency_key,
                contract_id=cmd.contract_id,
                milestone=cmd.milestone,
                stage=stage,
            )
            wanted = needs(policy, project.jurisdiction, cmd.kind, stage)
            item.reconsider(
                closed_reasons(policy, project.jurisdiction, wanted, gates, today), at, announce_hold=True
            )
            uow.disbursements.add(item)
            await uow.commit()
            return item

        def same(d: Disbursement) -> bool:
            return (d.project_id, d.kind, d.amount_fen, d.purpose, d.contract_id, d.milestone) == (
                cmd.project_id,
                cmd.kind,
                cmd.amount_fen,
                cmd.purpose,
                cmd.contract_id,
                cmd.milestone,
            )

        agency, key = project.agency, cmd.idempotency_key
        return await create_once(
            uow,
            key,
            earlier=lambda: uow.disbursements.by_idempotency_key(agency, key or ""),
            same=same,
            create=create,
        )


async def withdraw(
    uow: FundingUnitOfWork, disbursement_id: str, scope: Scope, *, by: str, at: dt.datetime
) -> Disbursement:
    """The requester takes back a request still held (e.g. after the total was cut)."""
    async with uow:
        project_id = await uow.disbursements.project_of(disbursement_id)
        try:
            project = await _project(uow, project_id or "", scope)
        except ProjectNotFound:
            raise DisbursementNotFound(f"拨付申请 {disbursement_id} 不存在") from None
        item = await uow.disbursements.get(disbursement_id)
        assert item is not None and item.project_id == project.id
        if item.status is not DisbursementStatus.HELD:
            raise InvalidState(f"拨付申请 {disbursement_id} 已{item.status.value}，不能撤回")
        item.reject(f"申请人撤回（{by}）", (), at)
        await uow.commit()
        return item


# -- O&M funds ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class OmApplication:
    project_id: str
    amount_fen: int
    budget_year: int
    purpose: str
    free_maintenance_ends_on: dt.date | None
    by: str
    scope: Scope  # whose projects the applicant acts for
    idempotency_key: str | None = None


def om_refusals(
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    project: FundedProject,
    gates: dict[str, GateState],
    app: OmApplication,
    today: dt.date,
) -> list[Reason]:
    """Every reason O&M funds are denied, each with its article."""
    j = project.jurisdiction
    refusals = closed_reasons(policy, j, om_needs(policy, j), gates, today)
    grace = policy.rule(j, "funding.om_grace_years")
    if grace.applies and project.accepted_on is not None:
        ends = months_after(project.accepted_on, 12 * int(grace.param("years")))
        if today < ends:
            refusals.append(
                policy.refusal(
                    j,
                    "funding.om_grace_years",
                    "om_within_grace_years",
                    f"项目于 {project.accepted_on.isoformat()} 通过竣工验收，"
                    f"{ends.isoformat()} 前不得申请专项运维费用",
                )
            )
    window = policy.rule(j, "funding.om_application_deadline")
    if window.applies and "quarter" in window.params:
        quarter = int(window.params["quarter"])
        if (today.month - 1) // 3 + 1 != quarter:
            refusals.append(
                policy.refusal(
                    j,
                    "funding.om_application_deadline",
                    "om_outside_window",
                    f"运维经费于每年第{quarter}季度申报下一年度，今日 {today.isoformat()} 不在申报期内",
                )
            )
        elif app.budget_year != today.year + 1:
            refusals.append(
                policy.refusal(
                    j,
                    "funding.om_application_deadline",
                    "om_wrong_year",
                    f"第{quarter}季度申报的是下一年度（{today.year + 1}年）的运维经费",
                )
            )
    if window.applies and "month" in window.params:
        if app.free_maintenance_ends_on is None:
            refusals.append(
                policy.refusal(
                    j,
                    "funding.om_application_deadline",
                    "om_free_period_missing",
                    "请注明免运维服务期截止日期",
                )
            )
        else:
            years = int(window.params.get("years_before_free_period_end", 1))
            due = dt.date(
                app.free_maintenance_ends_on.year - years,
                int(window.params["month"]),
                int(window.params["day"]),
            )
            if today > due:
                refusals.append(
                    policy.refusal(
                        j,
                        "funding.om_application_deadline",
                        "om_application_late",
                        f"免运维服务期于 {app.free_maintenance_ends_on.isoformat()} 截止，"
                        f"应在 {due.isoformat()} 前申请",
                    )
                )
        evaluated = gates.get(Gate.EVALUATION.value)
        if window.params.get("evaluation_report_required") and not (
            evaluated and evaluated.detail.get("evaluated")
        ):
            refusals.append(
                policy.refusal(
                    j,
                    "funding.om_application_deadline",
                    "om_evaluation_report_missing",
                    "申请运维经费须附绩效评价报告（尚无评价记录）",
                )
            )
    return refusals


async def apply_for_om(
    uow: FundingUnitOfWork,
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    app: OmApplication,
    *,
    jurisdiction: str | None,
    at: dt.datetime,
) -> tuple[Disbursement, bool]:
    """运维经费申请, decided at once: approved, or denied with every reason."""
    async with uow:
        project = await uow.projects.get(app.project_id, for_update=True)
        if project is None or not app.scope.covers(project.jurisdiction, project.agency):
            rule = policy.rule(jurisdiction, "funding.om_lifecycle_system_required") if jurisdiction else None
            if rule is not None and rule.applies and jurisdiction is not None:
                raise Refused(
                    f"项目 {app.project_id} 未纳入全生命周期管理系统",
                    [
                        policy.refusal(
                            jurisdiction, "funding.om_lifecycle_system_required", "not_in_lifecycle_system"
                        )
                    ],
                )
            raise ProjectNotFound(f"资金系统中没有项目 {app.project_id}（尚未申报或无权查看）")
        today = today_in_shanghai(at)

        async def create() -> Disbursement:
            granted = await uow.disbursements.om_granted(project.id, app.budget_year)
            if granted is not None:
                raise Refused(f"{app.budget_year} 年度运维经费已核准（{granted.id}）")
            gates = await uow.gates.of(project.id)
            item = Disbursement.request(
                project=project,
                kind=PaymentKind.OM,
                amount_fen=app.amount_fen,
                purpose=app.purpose,
                by=app.by,
                at=at,
                idempotency_key=app.idempotency_key,
                budget_year=app.budget_year,
            )
            item.decide_om(om_refusals(policy, calendar, project, gates, app, today), at)
            uow.disbursements.add(item)
            try:
                await uow.commit()
            except IntegrityError as exc:  # the same year granted concurrently under another key
                if app.idempotency_key and await _same_key(uow, project.agency, app.idempotency_key):
                    raise
                raise Refused(f"{app.budget_year} 年度运维经费已核准") from exc
            return item

        def same(d: Disbursement) -> bool:
            return (d.project_id, d.kind, d.amount_fen, d.budget_year) == (
                app.project_id,
                PaymentKind.OM,
                app.amount_fen,
                app.budget_year,
            )

        agency, key = project.agency, app.idempotency_key
        return await create_once(
            uow,
            key,
            earlier=lambda: uow.disbursements.by_idempotency_key(agency, key or ""),
            same=same,
            create=create,
        )


async def _same_key(uow: FundingUnitOfWork, agency: str, key: str) -> bool:
    """Whether an Idempotency-Key twin committed first (then create_once returns it)."""
    await uow.rollback()
    return await uow.disbursements.by_idempotency_key(agency, key) is not None


# -- settlement and reclaims ------------------------------------------------------------------------


async def settle(
    uow: FundingUnitOfWork,
    policy: PolicyRegistry,
    calendar: WorkingCalendar,
    project_id: str,
    scope: Scope,
    *,
    final_cost_fen: int,
    settled_on: dt.date,
    by: str,
    at: dt.datetime,
) -> FundedProject:
    """结算: surplus returned (bayingolin §28), 财评 or audit within two months (lhasa §21), xunyang §20."""
    async with uow:
        project = await _project(uow, project_id, scope)
        if project.approved_amount_fen is None:
            raise InvalidState("项目尚未批复，不能结算")
        if project.settlement is not None:
            raise InvalidState(f"项目已于 {project.settlement['settled_on']} 结算")
        if project.terminated:
            raise InvalidState("项目已终止，按资金收回办理")
        j = project.jurisdiction
        review_rule = policy.rule(j, "funding.settlement_audit")
        gates = await uow.gates.of(project.id)
        accepted = gates.get(Gate.ACCEPTANCE.value)
        if (
            review_rule.applies
            and review_rule.params.get("after_acceptance")
            and not (accepted and accepted.open)
        ):
            raise Refused(
                "项目尚未通过验收，不能结算",
                [policy.refusal(j, "funding.settlement_audit", "not_accepted", "验收合格后方可结算")],
            )
        released = await uow.disbursements.released_fen(project.id, BUDGET_KINDS)
        surplus = max(project.approved_amount_fen - final_cost_fen, 0)
        to_return = max(released - final_cost_fen, 0)
        articles: list[str] = []
        route, due = None, None
        review = policy.rule(j, "funding.settlement_audit")
        if review.applies:
            articles += review.articles
            if "amount_fen" in review.params:
                small = project.approved_amount_fen <= int(review.params["amount_fen"])
                route = str(review.params["at_or_below"] if small else review.params["above"])
                due = calendar.last_day(months_after(settled_on, int(review.param("months"))))
            else:
                route = str(review.params.get("reviewer", "review"))
        returning = policy.rule(j, "funding.surplus_return")
        if returning.applies and (surplus or to_return):
            articles += returning.articles
        # The budget closes: what is still held will not be paid.
        for item in await uow.disbursements.held_for(project.id):
            if item.kind in BUDGET_KINDS:
                item.reject(f"项目已于 {settled_on.isoformat()} 结算", articles, at)
        project.settlement = {
            "final_cost_fen": final_cost_fen,
            "settled_on": settled_on.isoformat(),
            "released_fen": released,
            "surplus_fen": surplus,
            "to_return_fen": to_return,
            "route": route,
            "review_due_on": due.isoformat() if due else None,
            "by": by,
        }
        project.events.append(
            SettlementRecorded(
                project_id=project.id,
                jurisdiction=j,
                agency=project.agency,
                final_cost_fen=final_cost_fen,
                released_fen=released,
                surplus_fen=surplus,
                to_return_fen=to_return,
                route=route,
                review_due_on=due,
                articles=tuple(articles),
            )
        )
        await uow.commit()
        return project


async def complete_reclaim(
    uow: FundingUnitOfWork,
    project_id: str,
    reclaim_id: str,
    scope: Scope,
    *,
    returned_fen: int,
    at: dt.datetime,
) -> Reclaim:
    async with uow:
        reclaim = await uow.reclaim(reclaim_id)
        if reclaim is None or reclaim.project_id != project_id or not scope.includes(reclaim.jurisdiction):
            raise DisbursementNotFound(f"资金收回 {reclaim_id} 不存在")
        reclaim.complete(returned_fen, at)
        await uow.commit()
        return reclaim


# -- the gate ledger, from other services' events -----------------------------------------------------


async def _set_gate(
    uow: FundingUnitOfWork, ctx: HandlerContext, project_id: str, gate: Gate, open_: bool, **detail: Any
) -> GateState:
    """Load the gate (or start it) and let it move by the event being handled (GateState.record)."""
    state = await uow.gates.get(project_id, gate.value)
    if state is None:
        state = GateState(project_id=project_id, gate=gate.value, open=open_)
        uow.gates.add(state)
    state.record(open_, _fact(ctx), **detail)
    return state


def _fact(ctx: HandlerContext) -> GateFact | None:
    envelope, manual = ctx.envelope, ctx.manual
    if envelope is None:
        return None
    return GateFact(
        event_id=envelope.id,
        event_type=envelope.type,
        time=envelope.time,
        order=FactOrder(envelope.source, envelope.sequence, ctx.position, by_hand=manual is not None),
        recorded_by=manual.recorded_by if manual else None,
        document_ref=manual.document_ref if manual else None,
    )


async def _reconsider(uow: FundingUnitOfWork, ctx: HandlerContext, project: FundedProject) -> None:
    """Held requests whose gates are now all open are released, each once."""
    now = ctx.now()
    today = today_in_shanghai(now)
    gates = await uow.gates.of(project.id)
    released = await uow.disbursements.released_fen(project.id, BUDGET_KINDS)
    for item in await uow.disbursements.held_for(project.id):
        wanted = needs(ctx.policy, project.jurisdiction, item.kind, item.stage)
        closed = closed_reasons(ctx.policy, project.jurisdiction, wanted, gates, today)
        if not closed and item.kind in BUDGET_KINDS and released + item.amount_fen > project.cap_fen:
            closed = [_over_cap(ctx.policy, project)]  # the total was cut while it waited
        if item.reconsider(closed, now) and item.kind in BUDGET_KINDS:
            released += item.amount_fen


async def _known(uow: FundingUnitOfWork, project_id: str) -> FundedProject:
    project = await uow.projects.get(project_id, for_update=True)
    if project is None:
        # The declaration has not been recorded yet: fail, and JetStream redelivers later.
        raise ProjectNotFound(f"项目 {project_id} 的申报事件尚未到达")
    return project


async def record_declared_project(
    uow: FundingUnitOfWork, event: ProjectDeclared, ctx: HandlerContext
) -> None:
    if await uow.projects.get(event.project_id) is None:
        uow.projects.add(
            FundedProject(
                id=event.project_id,
                jurisdiction=event.jurisdiction,
                agency=event.agency,
                title=event.title,
                declared_amount_fen=event.amount_fen,
                kind=event.kind,
            )
        )


async def record_upper_level(uow: FundingUnitOfWork, event: ProjectRecorded, ctx: HandlerContext) -> None:
    """上级资金项目报备 (zhonglou §10): approved and planned above."""
    project = await uow.projects.get(event.project_id, for_update=True)
    if project is None:
        project = FundedProject(
            id=event.project_id,
            jurisdiction=event.jurisdiction,
            agency=event.agency,
            title=event.title,
            declared_amount_fen=event.amount_fen,
        )
        uow.projects.add(project)
        await uow.session.flush()
    project.mark_approved(event.amount_fen, event.articles)
    await _set_gate(uow, ctx, project.id, Gate.APPROVAL, True, reference=event.upper_approval_ref)
    await _set_gate(uow, ctx, project.id, Gate.PLAN, True, reference=event.upper_approval_ref)
    await _reconsider(uow, ctx, project)


async def open_plan_gate(uow: FundingUnitOfWork, event: ProjectIncludedInPlan, ctx: HandlerContext) -> None:
    project = await _known(uow, event.project_id)
    await _set_gate(
        uow, ctx, project.id, Gate.PLAN, True, plan_year=event.plan_year, document=event.plan_document
    )
    await _reconsider(uow, ctx, project)


async def open_approval_gate(uow: FundingUnitOfWork, event: ProjectApproved, ctx: HandlerContext) -> None:
    """The approval gate opens, and the plan gate with it (approval is within a plan or off-plan)."""
    project = await _known(uow, event.project_id)
    project.mark_approved(event.approved_amount_fen, event.articles)
    await _set_gate(uow, ctx, project.id, Gate.APPROVAL, True, approval_number=event.approval_number)
    # An approval is given within a plan year's plan, or by the emergency path outside it.
    plan = await uow.gates.get(project.id, Gate.PLAN.value)
    if plan is None or not plan.open:
        await _set_gate(
            uow, ctx, project.id, Gate.PLAN, True, plan_year=event.plan_year, off_plan=event.off_plan
        )
    await _reconsider(uow, ctx, project)


async def close_for_good(uow: FundingUnitOfWork, event: Closing, ctx: HandlerContext) -> None:
    """Rejected, withdrawn or terminated: held requests are rejected; after a termination the
    money already released is to be reclaimed (zhonglou §17, bayingolin §21)."""
    project = await _known(uow, event.project_id)
    articles = tuple(getattr(event, "articles", ()))
    reason = f"项目{event.outcome}：{event.reason}"
    await _set_gate(uow, ctx, project.id, Gate.STANDING, False, reason=reason, articles=list(articles))
    if project.terminated:
        return
    project.terminated = True
    now = ctx.now()
    for item in await uow.disbursements.held_for(project.id):
        item.reject(reason, articles, now)
    if event.type == "govit.intake.project_terminated.v1":
        released = await uow.disbursements.released_fen(project.id, BUDGET_KINDS)
        if released > 0:
            uow.add_reclaim(Reclaim.start(project, released, reason, articles, now))


async def revise_total(uow: FundingUnitOfWork, event: ChangeRecorded, ctx: HandlerContext) -> None:
    """A change took effect: the approved total payments may reach follows it."""
    if event.status not in ("filed", "approved"):
        return
    project = await _known(uow, event.project_id)
    project.revise_total(event.approved_total_fen, event.articles)
    await _reconsider(uow, ctx, project)


async def record_contract(uow: FundingUnitOfWork, event: ContractFiled, ctx: HandlerContext) -> None:
    project = await _known(uow, event.project_id)
    if await uow.contract(event.contract_id) is None:
        uow.add_contract(
            Contract(
                id=event.contract_id,
                project_id=project.id,
                role=event.role,
                counterparty=event.counterparty,
                amount_fen=event.amount_fen,
                milestones=[m.model_dump(mode="json") for m in event.milestones],
            )
        )


async def open_completion_gate(
    uow: FundingUnitOfWork, event: ConstructionCompleted, ctx: HandlerContext
) -> None:
    project = await _known(uow, event.project_id)
    await _set_gate(uow, ctx, project.id, Gate.COMPLETION, True, completed_on=event.completed_on.isoformat())
    await _reconsider(uow, ctx, project)


async def record_initial_acceptance(
    uow: FundingUnitOfWork, event: InitialAcceptanceRecorded, ctx: HandlerContext
) -> None:
    project = await _known(uow, event.project_id)
    await _set_gate(
        uow, ctx, project.id, Gate.INITIAL_ACCEPTANCE, event.passed, held_on=event.held_on.isoformat()
    )
    await _reconsider(uow, ctx, project)


async def record_final_acceptance(
    uow: FundingUnitOfWork, event: FinalAcceptanceConcluded, ctx: HandlerContext
) -> None:
    project = await _known(uow, event.project_id)
    if event.passed:
        project.accepted_on = event.concluded_on
    await _set_gate(
        uow, ctx, project.id, Gate.ACCEPTANCE, event.passed, concluded_on=event.concluded_on.isoformat()
    )
    await _reconsider(uow, ctx, project)


async def record_audit_report(uow: FundingUnitOfWork, event: AuditReportFiled, ctx: HandlerContext) -> None:
    project = await _known(uow, event.project_id)
    await _set_gate(uow, ctx, project.id, Gate.AUDIT_REPORT, True, reference=event.reference)
    await _reconsider(uow, ctx, project)


async def record_data_sharing(uow: FundingUnitOfWork, event: DataSharingDecided, ctx: HandlerContext) -> None:
    project = await _known(uow, event.project_id)
    await _set_gate(
        uow,
        ctx,
        project.id,
        Gate.DATA_SHARING,
        event.decision == "confirmed",
        decision=event.decision,
        reason=event.reason,
    )
    await _set_gate(uow, ctx, project.id, Gate.NO_DUPLICATE, not event.duplicate_collection)


async def record_security(uow: FundingUnitOfWork, event: SecurityAttested, ctx: HandlerContext) -> None:
    project = await _known(uow, event.project_id)
    gate = Gate.SECURITY if event.attestation == "mlps" else Gate.CRYPTO
    await _set_gate(
        uow,
        ctx,
        project.id,
        gate,
        event.compliant,
        valid_until=event.valid_until.isoformat() if event.valid_until else None,
    )


async def record_evaluation(uow: FundingUnitOfWork, event: EvaluationRecorded, ctx: HandlerContext) -> None:
    """Serious problems left unfixed after their deadline withhold O&M funds (zhonglou §21)."""
    project = await _known(uow, event.project_id)
    state = await uow.gates.get(project.id, Gate.EVALUATION.value)
    unfixed = dict(state.detail.get("unfixed", {})) if state else {}
    key = event.evaluation_id or event.evaluation
    if event.serious_problems and not event.rectified:
        unfixed[key] = event.rectification_due.isoformat() if event.rectification_due else None
    else:
        unfixed.pop(key, None)
    today = today_in_shanghai(ctx.now())
    opened = GateState(project.id, Gate.EVALUATION.value, True, detail={"unfixed": unfixed})
    await _set_gate(
        uow,
        ctx,
        project.id,
        Gate.EVALUATION,
        is_open(ctx.policy, project.jurisdiction, opened, Gate.EVALUATION, today),
        unfixed=unfixed,
        evaluated=True,
    )


def gate_report(
    policy: PolicyRegistry, project: FundedProject, gates: dict[str, GateState], today: dt.date
) -> list[dict[str, Any]]:
    """Every gate of the project: open or closed, the rules behind it, and the event that set it."""
    j = project.jurisdiction
    users: dict[Gate, dict[str, list[str]]] = {g: {} for g in Gate}
    for kind in PaymentKind:
        wanted = om_needs(policy, j) if kind is PaymentKind.OM else needs(policy, j, kind, "final_acceptance")
        for need in wanted:
            if kind is PaymentKind.MILESTONE and need.rule is None:
                continue
            articles = list(policy.rule(j, need.rule).articles) if need.rule else []
            users[need.gate].setdefault(kind.value, articles)
    out = []
    must_prove = {n.gate for n in om_needs(policy, j) if n.unknown is False}
    for gate in Gate:
        state = gates.get(gate.value)
        opened = is_open(policy, j, state, gate, today) and not (state is None and gate in must_prove)
        event = None
        if state is not None and state.event_id:
            event = {
                "id": state.event_id,
                "type": state.event_type,
                "time": state.event_time,
                "source": state.event_source,
            }
        out.append(
            {
                "gate": gate.value,
                "open": opened,
                "required_for": users[gate],
                "event": event,
                "detail": state.detail if state is not None else {},
                "explanation": _explain(gate, opened, state),
            }
        )
    return out


def _explain(gate: Gate, opened: bool, state: GateState | None) -> str:
    """合同备案 — 已满足；由 … 设定 (the system, or the person and document when recorded by hand)."""
    said = f"{NAMES[gate]} — {'已满足' if opened else '未满足'}"
    if state is None or not state.event_id:
        return f"{said}；尚无事件"
    if "recorded_by" in state.detail:
        return f"{said}；由 {state.detail['recorded_by']} 手工登记，依据 {state.detail.get('document_ref')}"
    return f"{said}；由 {state.event_type} 设定，来源 {state.event_source or '未知'}"
