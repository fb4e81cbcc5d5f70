"""Funding's handlers of the other stages' events: each sets a gate (or records a fact) and
reconsiders the project's held requests; an event speaking for another jurisdiction than its
project's is refused at once (WrongJurisdiction → dead letter)."""

from __future__ import annotations

from typing import Any

from services.funding.db import FundingUnitOfWork
from services.funding.domain import (
    BUDGET_KINDS,
    MEASURE_GATES,
    Closure,
    Contract,
    FactOrder,
    FundedProject,
    Gate,
    GateFact,
    GateState,
    ProjectNotFound,
    WrongJurisdiction,
    after_evaluation,
    measures_in_force,
    payments,
    reclaims,
)
from services.funding.domain.sharing import first_shared_on
from shared.consume import HandlerContext, unprocessable_on
from shared.contracts import Event
from shared.contracts.acceptance import (
    AuditReportFiled,
    DataSharingDecided,
    EvaluationRecorded,
    FinalAcceptanceConcluded,
    InitialAcceptanceRecorded,
    SecurityAttested,
)
from shared.contracts.intake import (
    Closing,
    DesignApproved,
    OversightMeasureLifted,
    OversightMeasureTaken,
    ProjectApproved,
    ProjectDeclared,
    ProjectIncludedInPlan,
    ProjectRecorded,
)
from shared.contracts.procurement import ChangeRecorded, ConstructionCompleted, ContractFiled
from shared.workdays import today_in_shanghai


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
    held = await uow.disbursements.held_for(project.id)
    if not held:
        return  # nothing waits (most gate events): no more to read
    gates = await uow.gates.of(project.id)
    released = await uow.disbursements.released_fen(project.id, BUDGET_KINDS)
    payments.reconsider_held(ctx.policy, project, held, gates, released, ctx.now())


async def _known(uow: FundingUnitOfWork, event: Event) -> FundedProject:
    project = await uow.projects.get(event.project_id, for_update=True)
    if project is None:
        # The declaration has not been recorded yet: fail, and JetStream redelivers later.
        raise ProjectNotFound(f"项目 {event.project_id} 的申报事件尚未到达")
    project.hears(event)
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
                classified=event.classified,
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
            kind=event.kind,
            classified=event.classified,
        )
        uow.projects.add(project)
        await uow.session.flush()
    project.mark_approved(event.amount_fen, event.articles)
    await _set_gate(uow, ctx, project.id, Gate.APPROVAL, True, reference=event.upper_approval_ref)
    await _set_gate(uow, ctx, project.id, Gate.PLAN, True, reference=event.upper_approval_ref)
    await _reconsider(uow, ctx, project)


@unprocessable_on(WrongJurisdiction)
async def open_plan_gate(uow: FundingUnitOfWork, event: ProjectIncludedInPlan, ctx: HandlerContext) -> None:
    project = await _known(uow, event)
    await _set_gate(
        uow, ctx, project.id, Gate.PLAN, True, plan_year=event.plan_year, document=event.plan_document
    )
    await _reconsider(uow, ctx, project)


@unprocessable_on(WrongJurisdiction)
async def open_approval_gate(uow: FundingUnitOfWork, event: ProjectApproved, ctx: HandlerContext) -> None:
    """The approval gate opens, and the plan gate with it (approval is within a plan or off-plan)."""
    project = await _known(uow, event)
    project.mark_approved(event.approved_amount_fen, event.articles)
    await _set_gate(uow, ctx, project.id, Gate.APPROVAL, True, approval_number=event.approval_number)
    if event.design_approval_required:  # shexian §20(一): the construction money waits for it
        await _set_gate(uow, ctx, project.id, Gate.DESIGN_APPROVAL, False, feasibility=event.approval_number)
    # An approval is given within a plan year's plan, or by the emergency path outside it.
    plan = await uow.gates.get(project.id, Gate.PLAN.value)
    if plan is None or not plan.open:
        await _set_gate(
            uow, ctx, project.id, Gate.PLAN, True, plan_year=event.plan_year, off_plan=event.off_plan
        )
    await _reconsider(uow, ctx, project)


@unprocessable_on(WrongJurisdiction)
async def close_for_good(uow: FundingUnitOfWork, event: Closing, ctx: HandlerContext) -> None:
    """Rejected, withdrawn or terminated: held requests are rejected; after a termination the
    money already released is to be reclaimed (zhonglou §17, bayingolin §21)."""
    project = await _known(uow, event)
    closure = Closure.of(event)
    await _set_gate(
        uow, ctx, project.id, Gate.STANDING, False, reason=closure.reason, articles=list(closure.articles)
    )
    if project.terminated:
        return
    held = await uow.disbursements.held_for(project.id)
    released = await uow.disbursements.released_fen(project.id, BUDGET_KINDS)
    reclaim = reclaims.close_for_good(project, closure, held, released, ctx.now())
    if reclaim is not None:
        uow.add_reclaim(reclaim)


@unprocessable_on(WrongJurisdiction)
async def revise_total(uow: FundingUnitOfWork, event: ChangeRecorded, ctx: HandlerContext) -> None:
    """A change took effect: the approved total payments may reach follows it."""
    if event.status not in ("filed", "approved"):
        return
    project = await _known(uow, event)
    project.revise_total(event.approved_total_fen, event.articles)
    await _reconsider(uow, ctx, project)


@unprocessable_on(WrongJurisdiction)
async def record_contract(uow: FundingUnitOfWork, event: ContractFiled, ctx: HandlerContext) -> None:
    await _known(uow, event)
    if await uow.contract(event.contract_id) is None:
        uow.add_contract(Contract.filed(event))


@unprocessable_on(WrongJurisdiction)
async def open_completion_gate(
    uow: FundingUnitOfWork, event: ConstructionCompleted, ctx: HandlerContext
) -> None:
    project = await _known(uow, event)
    await _set_gate(uow, ctx, project.id, Gate.COMPLETION, True, completed_on=event.completed_on.isoformat())
    await _reconsider(uow, ctx, project)


@unprocessable_on(WrongJurisdiction)
async def record_initial_acceptance(
    uow: FundingUnitOfWork, event: InitialAcceptanceRecorded, ctx: HandlerContext
) -> None:
    project = await _known(uow, event)
    await _set_gate(
        uow, ctx, project.id, Gate.INITIAL_ACCEPTANCE, event.passed, held_on=event.held_on.isoformat()
    )
    await _reconsider(uow, ctx, project)


@unprocessable_on(WrongJurisdiction)
async def record_final_acceptance(
    uow: FundingUnitOfWork, event: FinalAcceptanceConcluded, ctx: HandlerContext
) -> None:
    project = await _known(uow, event)
    if event.passed:
        project.accepted_on = event.concluded_on
    await _set_gate(
        uow, ctx, project.id, Gate.ACCEPTANCE, event.passed, concluded_on=event.concluded_on.isoformat()
    )
    await _reconsider(uow, ctx, project)


@unprocessable_on(WrongJurisdiction)
async def record_audit_report(uow: FundingUnitOfWork, event: AuditReportFiled, ctx: HandlerContext) -> None:
    project = await _known(uow, event)
    await _set_gate(uow, ctx, project.id, Gate.AUDIT_REPORT, True, reference=event.reference)
    await _reconsider(uow, ctx, project)


@unprocessable_on(WrongJurisdiction)
async def record_data_sharing(uow: FundingUnitOfWork, event: DataSharingDecided, ctx: HandlerContext) -> None:
    project = await _known(uow, event)
    confirmed = event.decision == "confirmed"
    state = await uow.gates.get(project.id, Gate.DATA_SHARING.value)
    day = event.shared_on or today_in_shanghai(ctx.envelope.time if ctx.envelope else ctx.now())
    await _set_gate(
        uow,
        ctx,
        project.id,
        Gate.DATA_SHARING,
        confirmed,
        decision=event.decision,
        reason=event.reason,
        shared_on=first_shared_on(state, event.decision, day),  # zhonglou §28's deadline
    )
    await _set_gate(uow, ctx, project.id, Gate.NO_DUPLICATE, not event.duplicate_collection)


@unprocessable_on(WrongJurisdiction)
async def record_security(uow: FundingUnitOfWork, event: SecurityAttested, ctx: HandlerContext) -> None:
    project = await _known(uow, event)
    gate = Gate.SECURITY if event.attestation == "mlps" else Gate.CRYPTO
    until = event.valid_until.isoformat() if event.valid_until else None
    await _set_gate(uow, ctx, project.id, gate, event.compliant, valid_until=until)


@unprocessable_on(WrongJurisdiction)
async def record_evaluation(uow: FundingUnitOfWork, event: EvaluationRecorded, ctx: HandlerContext) -> None:
    """Serious problems left unfixed after their deadline withhold O&M funds (zhonglou §21)."""
    project = await _known(uow, event)
    state = await uow.gates.get(project.id, Gate.EVALUATION.value)
    today = today_in_shanghai(ctx.now())
    opened, unfixed = after_evaluation(ctx.policy, project.jurisdiction, state, event, today)
    latest = {
        "evaluation": event.evaluation,
        "recorded_on": today.isoformat(),
        "serious_problems": list(event.serious_problems),
        "rectified": event.rectified,
    }
    await _set_gate(
        uow, ctx, project.id, Gate.EVALUATION, opened, unfixed=unfixed, evaluated=True, latest=latest
    )


@unprocessable_on(WrongJurisdiction)
async def record_measure(
    uow: FundingUnitOfWork, event: OversightMeasureTaken | OversightMeasureLifted, ctx: HandlerContext
) -> None:
    """暂缓安排资金 holds every new payment, 停止发放运维经费 the O&M funds, each until the authority
    lifts it (zhonglou §21, shexian §49, lhasa §18); the project's other measures are not funding's."""
    gate = MEASURE_GATES.get(event.measure)
    if gate is None:
        return
    project = await _known(uow, event)
    measures = measures_in_force(await uow.gates.get(project.id, gate.value), event)
    await _set_gate(uow, ctx, project.id, gate, not measures, measures=measures)
    await _reconsider(uow, ctx, project)


@unprocessable_on(WrongJurisdiction)
async def open_design_gate(uow: FundingUnitOfWork, event: DesignApproved, ctx: HandlerContext) -> None:
    """初步设计批复 (shexian §20(一)): construction money may follow; its 概算 is the total."""
    project = await _known(uow, event)
    project.revise_total(event.approved_amount_fen, event.articles)
    await _set_gate(uow, ctx, project.id, Gate.DESIGN_APPROVAL, True, approval_number=event.approval_number)
    await _reconsider(uow, ctx, project)
