"""Contracts filed by procurement, with the milestones payments go against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.funding.domain.errors import Refused


@dataclass(eq=False)
class Contract:
    """A filed contract (procurement.contract_filed) with the milestones payments go against."""

    id: str
    project_id: str
    role: str
    counterparty: str
    amount_fen: int
    milestones: list[dict[str, Any]]

    def milestone(self, name: str) -> dict[str, Any]:
        for m in self.milestones:
            if m["name"] == name:
                return m
        names = "、".join(m["name"] for m in self.milestones)
        raise Refused(f"合同 {self.id} 没有付款节点「{name}」（合同的付款节点：{names}）")
