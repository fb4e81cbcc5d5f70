"""Handlers of 计划外采购备案 (purchases outside the annual plan): record, file, and event the
filings whose limit passed. The decisions are in services.procurement.domain.purchases."""

from __future__ import annotations

from collections.abc import Callable

from services.procurement import domain
from services.procurement.commands import FilePurchase, RecordPurchase
from services.procurement.db import ProcurementUnitOfWork
from services.procurement.domain import Filing, Purchase
from services.procurement.domain.errors import PurchaseNotFound
from shared.auth import Scope
from shared.consume import HandlerContext
from shared.idempotency import create_once
from shared.workdays import today_in_shanghai


async def _purchase(uow: ProcurementUnitOfWork, purchase_id: str, scope: Scope) -> Purchase:
    """The purchase, locked; one outside the caller's scope is not found, as a missing one."""
    purchase = await uow.purchases.get(purchase_id)
    if purchase is None or not scope.covers(purchase.jurisdiction, purchase.agency):
        raise PurchaseNotFound(f"采购备案 {purchase_id} 不存在")
    return purchase


async def record_purchase(
    uow: ProcurementUnitOfWork, cmd: RecordPurchase, ctx: HandlerContext
) -> tuple[Purchase, bool]:
    """A purchase outside the plan (once per idempotency key), filed at once with its materials."""
    filing = Filing(cmd.by, ctx.now(), cmd.idempotency_key)
    async with uow:

        async def create() -> Purchase:
            purchase = domain.record_purchase(ctx.policy, ctx.calendar, cmd.terms, cmd.materials, filing)
            uow.purchases.add(purchase)
            await uow.commit()
            return purchase

        async def earlier() -> Purchase | None:
            key = cmd.idempotency_key
            return await uow.purchases.by_key(cmd.terms.agency, key) if key else None

        return await create_once(
            uow, cmd.idempotency_key, earlier=earlier, same=lambda p: p.same_terms(cmd.terms), create=create
        )


async def file_purchase(uow: ProcurementUnitOfWork, cmd: FilePurchase, ctx: HandlerContext) -> Purchase:
    async with uow:
        purchase = await _purchase(uow, cmd.purchase_id, cmd.scope)
        domain.file_purchase(ctx.policy, purchase, cmd.materials, Filing(cmd.by, ctx.now()))
        await uow.commit()
        return purchase


async def scan_filings(
    new_uow: Callable[[], ProcurementUnitOfWork], scope: Scope, ctx: HandlerContext
) -> int:
    """Event each purchase whose filing limit passed unfiled, once, one per transaction."""
    today = today_in_shanghai(ctx.now())
    async with new_uow() as uow:
        ids = await uow.purchases.ids_unfiled_past(today, scope.jurisdictions)
    fired = 0
    for purchase_id in ids:
        async with new_uow() as uow:
            purchase = await uow.purchases.get(purchase_id)
            if purchase is not None:
                fired += domain.note_missed_filing(ctx.policy, purchase, today)
                await uow.commit()
    return fired
