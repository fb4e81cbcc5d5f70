"""Events produced by the procurement service (采购、合同、建设)."""

from __future__ import annotations

from typing import ClassVar, Literal

from shared.contracts.envelope import Event


class TerminationRecommended(Event):
    """建议终止 — a start or contract deadline passed (zhonglou §17, bayingolin §21)."""

    type: Literal["govit.procurement.termination_recommended.v1"] = (
        "govit.procurement.termination_recommended.v1"
    )
    reason: str
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "项目建议终止"
