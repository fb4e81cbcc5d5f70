"""Funding's commands and event handlers: load, call the domain, commit."""

from __future__ import annotations

from dataclasses import dataclass

from services.funding.db import FundingUnitOfWork
from services.funding.domain import Disbursement, FundedProject, PaymentKind, ProjectNotFound
from shared.consume import HandlerContext
from shared.contracts.intake import ProjectApproved, ProjectDeclared
from shared.db import utcnow
from shared.idempotency import create_once
from shared.policy import PolicyRegistry


@dataclass(frozen=True)
class RequestDisbursement:
    project_id: str
    kind: PaymentKind
    amount_fen: int
    purpose: str
    by: str
    agency: str | None
    idempotency_key: str | None = None


async def request_disbursement(
    uow: FundingUnitOfWork, cmd: RequestDisbursement, policy: PolicyRegistry
) -> tuple[Disbursement, bool]:
    """Record a request; released at once when its gates are open, else held until they open."""
    async with uow:
        project = await uow.projects.get(cmd.project_id, for_update=True)
        if project is None or (cmd.agency is not None and project.agency != cmd.agency):
            raise ProjectNotFound(f"资金系统中没有项目 {cmd.project_id}（尚未申报或无权查看）")

        async def create() -> Disbursement:
            item = Disbursement.request(
                project=project,
                kind=cmd.kind,
                amount_fen=cmd.amount_fen,
                purpose=cmd.purpose,
                by=cmd.by,
                at=utcnow(),
                policy=policy,
                idempotency_key=cmd.idempotency_key,
            )
            uow.disbursements.add(item)
            await uow.commit()
            return item

        def same(d: Disbursement) -> bool:
            return (d.project_id, d.kind, d.amount_fen, d.purpose) == (
                cmd.project_id,
                cmd.kind,
                cmd.amount_fen,
                cmd.purpose,
            )

        agency, key = project.agency, cmd.idempotency_key
        return await create_once(
            uow,
            key,
            earlier=lambda: uow.disbursements.by_idempotency_key(agency, key or ""),
            same=same,
            create=create,
        )


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
            )
        )


async def open_approval_gate(uow: FundingUnitOfWork, event: ProjectApproved, ctx: HandlerContext) -> None:
    """The approval gate opens: held requests whose gates are now all open are released."""
    project = await uow.projects.get(event.project_id, for_update=True)
    if project is None:
        # The declaration has not been recorded yet: fail, and JetStream redelivers later.
        raise ProjectNotFound(f"项目 {event.project_id} 的申报事件尚未到达")
    project.mark_approved(event.approved_amount_fen)
    now = utcnow()
    for item in await uow.disbursements.held_for(project.id):
        item.reconsider(project, ctx.policy, now)
