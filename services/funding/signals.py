"""What funding adds to /metrics: the payments held, by jurisdiction, read at scrape time."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from prometheus_client import CollectorRegistry, Gauge
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from services.funding.db import disbursements
from services.funding.domain.kinds import DisbursementStatus


def held_payments(registry: CollectorRegistry) -> Callable[[AsyncSession], Awaitable[None]]:
    """Gauges of the disbursement requests held (a gate they need is closed): how many, and their
    amount in fen. One grouped count over the status index per scrape."""
    count = Gauge(
        "govit_payments_held",
        "disbursement requests held: a gate they need is closed",
        ["jurisdiction"],
        registry=registry,
    )
    amount = Gauge(
        "govit_payments_held_fen",
        "amount of the held disbursement requests, in fen",
        ["jurisdiction"],
        registry=registry,
    )
    table = disbursements

    async def read(session: AsyncSession) -> None:
        rows = (
            await session.execute(
                select(table.c.jurisdiction, func.count(), func.coalesce(func.sum(table.c.amount_fen), 0))
                .where(table.c.status == DisbursementStatus.HELD)
                .group_by(table.c.jurisdiction)
            )
        ).all()
        count.clear()
        amount.clear()
        for jurisdiction, held, fen in rows:
            count.labels(jurisdiction).set(held)
            amount.labels(jurisdiction).set(int(fen))

    return read
