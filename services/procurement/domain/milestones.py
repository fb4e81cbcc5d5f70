"""A contract's payment milestones: each share of the amount, in whole fen."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from services.procurement.domain.errors import ProcurementError


@dataclass(frozen=True)
class PaymentMilestone:
    name: str
    stage: str
    share_percent: str  # a decimal string, as stored and evented: '30' or '12.5'
    amount_fen: int

    def stored(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> PaymentMilestone:
        return cls(data["name"], data["stage"], data["share_percent"], data["amount_fen"])


def split_milestones(amount_fen: int, shares: Sequence[tuple[str, str, Decimal]]) -> list[PaymentMilestone]:
    """Each milestone's amount in whole fen; the last takes what rounding leaves, so they sum exactly."""
    if sum((s for _, _, s in shares), Decimal(0)) != 100:
        raise ProcurementError("付款节点比例合计须为100%")
    out: list[PaymentMilestone] = []
    left = amount_fen
    for i, (name, stage, share) in enumerate(shares):
        amount = left if i == len(shares) - 1 else int(Decimal(amount_fen) * share / 100)
        left -= amount
        out.append(PaymentMilestone(name, stage, str(share), amount))
    return out
