"""Contracts filed by procurement, with the milestones payments go against."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from services.funding.domain.errors import Refused
from services.funding.domain.stored import Stored
from shared.contracts.procurement import ContractFiled


@dataclass(frozen=True)
class PaymentNode(Stored):
    """A milestone of a contract (付款节点): its share and amount, and the stage it falls due at."""

    name: str
    stage: str
    share_percent: str
    amount_fen: int

    def stored(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "stage": self.stage,
            "share_percent": self.share_percent,
            "amount_fen": self.amount_fen,
        }

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> PaymentNode:
        return cls(
            name=str(stored["name"]),
            stage=str(stored["stage"]),
            share_percent=str(stored.get("share_percent", "")),
            amount_fen=int(stored["amount_fen"]),
        )


@dataclass(eq=False)
class Contract:
    """A filed contract (procurement.contract_filed) with the milestones payments go against."""

    id: str
    project_id: str
    role: str
    counterparty: str
    amount_fen: int
    milestones: tuple[PaymentNode, ...]

    @classmethod
    def filed(cls, event: ContractFiled) -> Contract:
        return cls(
            id=event.contract_id,
            project_id=event.project_id,
            role=event.role,
            counterparty=event.counterparty,
            amount_fen=event.amount_fen,
            milestones=tuple(
                PaymentNode(m.name, str(m.stage), m.share_percent, m.amount_fen) for m in event.milestones
            ),
        )

    def milestone(self, name: str) -> PaymentNode:
        for m in self.milestones:
            if m.name == name:
                return m
        names = "、".join(m.name for m in self.milestones)
        raise Refused(f"合同 {self.id} 没有付款节点「{name}」（合同的付款节点：{names}）")
