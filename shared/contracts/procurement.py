"""Events produced by the procurement service (采购、合同、建设)."""

from __future__ import annotations

from typing import ClassVar, Literal

from pydantic import Field

from shared.contracts.envelope import Event


class TerminationRecommended(Event):
    """建议终止 — a start or contract deadline passed (zhonglou §17, bayingolin §21)."""

    type: Literal["govit.procurement.termination_recommended.v1"] = (
        "govit.procurement.termination_recommended.v1"
    )
    reason: str
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "项目建议终止"


class ChangeReviewRequested(Event):
    """变更评审 — a change over the pack's tolerance needs an expert review (zhonglou §14, shexian §38)."""

    type: Literal["govit.procurement.change_review_requested.v1"] = (
        "govit.procurement.change_review_requested.v1"
    )
    agency: str
    change_id: str
    parties: tuple[str, ...] = Field(default=(), description="承建、监理单位（评审回避）")
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "变更需专家评审"
