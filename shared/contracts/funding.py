"""Events produced by the funding service (资金拨付、运维经费)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from shared.contracts.envelope import Event
from shared.money import PositiveFen


class DisbursementReleased(Event):
    """资金拨付 — a disbursement request's gates were all open and the money was released."""

    type: Literal["govit.funding.disbursement_released.v1"] = "govit.funding.disbursement_released.v1"
    disbursement_id: str
    amount_fen: PositiveFen = Field(description="integer fen")

    summary: ClassVar[str] = "资金已拨付"
