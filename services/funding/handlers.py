"""Funding's command and event handlers: load, one domain call, commit.

Every handler, command or event alike, is `(uow, command_or_event, ctx: HandlerContext)`; the
decisions (which gates a payment needs, the caps, the O&M rules, settlement) are in domain/.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from sqlalchemy.exc import IntegrityError

from services.funding.commands import (
    CompleteReclaim,
    GrantByException,
    OmApplication,
    RecomputeDeadlines,
    RequestDisbursement,
    Settle,
    Withdraw,
)
from services.funding.db import FundingUnitOfWork
from services.funding.domain import (
    BUDGET_KINDS,
    Disbursement,
    DisbursementNotFound,
    FundedProject,
    ProjectNotFound,
    Reclaim,
    Refused,
    moved,
    payments,
    settlement,
)
from services.funding.domain import om as om_rules
from shared.auth import Scope
from shared.consume import HandlerContext
from shared.idempotency import create_once

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


async def grant_by_exception(
    uow: FundingUnitOfWork, cmd: GrantByException, ctx: HandlerContext
) -> Disbursement:
    """例外: finance grants a denied O&M application, each 原则上 refusal departed from on the record."""
    async with uow:
        item = await _disbursement(uow, cmd.disbursement_id, cmd.scope)
        year = item.budget_year or 0
        om_rules.not_granted_yet(await uow.disbursements.om_granted(item.project_id, year), year)
        om_rules.grant_by_exception(item, cmd.exceptions, ctx.now())
        try:
            await uow.commit()
        except IntegrityError as exc:  # the same year granted concurrently
            raise Refused(f"{year} 年度运维经费已核准") from exc
        return item


async def _disbursement(uow: FundingUnitOfWork, disbursement_id: str, scope: Scope) -> Disbursement:
    item = await uow.disbursements.get(disbursement_id)
    if item is None or not scope.covers(item.jurisdiction, item.agency):
        raise DisbursementNotFound(f"拨付申请 {disbursement_id} 不存在")
    return item


async def apply_for_om(
    uow: FundingUnitOfWork, cmd: OmApplication, ctx: HandlerContext
) -> tuple[Disbursement, bool]:
    """运维经费申请, decided at once: approved, or denied with every reason."""
    async with uow:
        project = await uow.projects.get(cmd.project_id, for_update=True)
        if project is None or not cmd.scope.covers(project.jurisdiction, project.agency):
            raise om_rules.unknown_project(ctx.policy, cmd.jurisdiction, cmd.project_id, cmd.classified)

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


async def recompute_deadlines(
    new_uow: Callable[[], FundingUnitOfWork], cmd: RecomputeDeadlines, ctx: HandlerContext
) -> int:
    """A holiday notice was loaded: each settlement review's due date it moves is moved and
    announced, one project per unit of work; returns how many moved."""
    async with new_uow() as uow:
        ids = await uow.projects.settled()
    count = 0
    for project_id in ids:
        async with new_uow() as uow:
            project = await uow.projects.get(project_id, for_update=True)
            calendars = (cmd.previous, ctx.calendar)
            if project is not None and moved.move_review_due(ctx.policy, calendars, project, cmd.years):
                await uow.commit()
                count += 1
    return count


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
