"""Funding's command and event handlers: load, one domain call, commit.

Every handler, command or event alike, is `(uow, command_or_event, ctx: HandlerContext)`; the
decisions (which gates a payment needs, the caps, the O&M rules, settlement) are in domain/.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from sqlalchemy.exc import IntegrityError

from services.funding.commands import CompleteReclaim, OmApplication, RequestDisbursement, Settle, Withdraw
from services.funding.db import FundingUnitOfWork
from services.funding.domain import (
    BUDGET_KINDS,
    Closure,
    Contract,
    Disbursement,
    DisbursementNotFound,
    FactOrder,
    FundedProject,
    Gate,
    GateFact,
    GateState,
    ProjectNotFound,
    Reclaim,
    Refused,
    WrongJurisdiction,
    after_evaluation,
    payments,
    reclaims,
    settlement,
)
from services.funding.domain import om as om_rules
from shared.auth import Scope
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
    ProjectApproved,
    ProjectDeclared,
    ProjectIncludedInPlan,
    ProjectRecorded,
)
from shared.contracts.procurement import ChangeRecorded, ConstructionCompleted, ContractFiled
from shared.idempotency import create_once
from shared.workdays import today_in_shanghai

# -- commands -----------------------------------------------------------------------------------------


async def _project(uow: FundingUnitOfWork, project_id: str, scope: Scope) -> FundedProject:
    """The project, locked; one outside the caller's scope (another jurisdiction's, another agency's)
    is not found, as a missing one."""
    project = await uow.projects.get(project_id, for_update=True)
    if project is None or not scope.covers(project.jurisdiction, project.agency):
        raise ProjectNotFound(f"资金系统中没有项目 {project_id}（尚未申报或无权查看）")
    return project


async def _once(
    uow: FundingUnitOfWork,
    agency: str,
    cmd: RequestDisbursement | OmApplication,
    create: Callable[[], Awaitable[Disbursement]],
) -> tuple[Disbursement, bool]:
    """Created once per Idempotency-Key: a retry returns what the first attempt recorded."""
    key = cmd.idempotency_key
    return await create_once(
        uow,
        key,
        earlier=lambda: uow.disbursements.by_idempotency_key(agency, key or ""),
        same=cmd.repeated_by,
        create=create,
    )


async def request_disbursement(
    uow: FundingUnitOfWork, cmd: RequestDisbursement, ctx: HandlerContext
) -> tuple[Disbursement, bool]:
    """Record a request; released at once when its gates are open, else held until they open."""
    payments.not_om(cmd.kind)
    async with uow:
        project = await _project(uow, cmd.project_id, cmd.scope)

        async def create() -> Disbursement:
            standing = payments.Standing(
                gates=await uow.gates.of(project.id),
                ledger=await uow.ledger(project.id, cmd.contract_id, cmd.milestone),
            )
            item = payments.request(ctx.policy, project, cmd.ask(), standing, ctx.now())
            uow.disbursements.add(item)
            await uow.commit()
            return item

        return await _once(uow, project.agency, cmd, create)


async def withdraw(uow: FundingUnitOfWork, cmd: Withdraw, ctx: HandlerContext) -> Disbursement:
    """The requester takes back a request still held (e.g. after the total was cut)."""
    async with uow:
        project_id = await uow.disbursements.project_of(cmd.disbursement_id)
        try:
            project = await _project(uow, project_id or "", cmd.scope)
        except ProjectNotFound:
            raise DisbursementNotFound(f"拨付申请 {cmd.disbursement_id} 不存在") from None
        item = await uow.disbursements.get(cmd.disbursement_id)
        assert item is not None and item.project_id == project.id
        item.withdraw(cmd.by, ctx.now())
        await uow.commit()
        return item


async def apply_for_om(
    uow: FundingUnitOfWork, cmd: OmApplication, ctx: HandlerContext
) -> tuple[Disbursement, bool]:
    """运维经费申请, decided at once: approved, or denied with every reason."""
    async with uow:
        project = await uow.projects.get(cmd.project_id, for_update=True)
        if project is None or not cmd.scope.covers(project.jurisdiction, project.agency):
            raise om_rules.unknown_project(ctx.policy, cmd.jurisdiction, cmd.project_id)

        async def create() -> Disbursement:
            granted = await uow.disbursements.om_granted(project.id, cmd.budget_year)
            om_rules.not_granted_yet(granted, cmd.budget_year)
            gates = await uow.gates.of(project.id)
            item = om_rules.decide(ctx.policy, project, gates, cmd.application(), ctx.now())
            uow.disbursements.add(item)
            try:
                await uow.commit()
            except IntegrityError as exc:  # the same year granted concurrently under another key
                if cmd.idempotency_key and await _same_key(uow, project.agency, cmd.idempotency_key):
                    raise
                raise Refused(f"{cmd.budget_year} 年度运维经费已核准") from exc
            return item

        return await _once(uow, project.agency, cmd, create)


async def _same_key(uow: FundingUnitOfWork, agency: str, key: str) -> bool:
    """Whether an Idempotency-Key twin committed first (then create_once returns it)."""
    await uow.rollback()
    return await uow.disbursements.by_idempotency_key(agency, key) is not None


async def settle(uow: FundingUnitOfWork, cmd: Settle, ctx: HandlerContext) -> FundedProject:
    """结算: the budget closes, the surplus and what is to be returned, the review's route."""
    async with uow:
        project = await _project(uow, cmd.project_id, cmd.scope)
        books = settlement.Books(
            gates=await uow.gates.of(project.id),
            released_fen=await uow.disbursements.released_fen(project.id, BUDGET_KINDS),
            held=await uow.disbursements.held_for(project.id),
        )
        settlement.settle(ctx.policy, ctx.calendar, project, books, cmd.terms(), ctx.now())
        await uow.commit()
        return project


async def complete_reclaim(uow: FundingUnitOfWork, cmd: CompleteReclaim, ctx: HandlerContext) -> Reclaim:
    async with uow:
        reclaim = await uow.reclaim(cmd.reclaim_id)
        if (
            reclaim is None
            or reclaim.project_id != cmd.project_id
            or not cmd.scope.includes(reclaim.jurisdiction)
        ):
            raise DisbursementNotFound(f"资金收回 {cmd.reclaim_id} 不存在")
        reclaim.complete(cmd.returned_fen, ctx.now())
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
    gates = await uow.gates.of(project.id)
    released = await uow.disbursements.released_fen(project.id, BUDGET_KINDS)
    held = await uow.disbursements.held_for(project.id)
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
    await _set_gate(
        uow, ctx, project.id, Gate.DATA_SHARING, confirmed, decision=event.decision, reason=event.reason
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
    await _set_gate(uow, ctx, project.id, Gate.EVALUATION, opened, unfixed=unfixed, evaluated=True)
