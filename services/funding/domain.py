"""Funding's domain: projects as funding knows them, and gated disbursements (资金拨付).

A disbursement is released only when every gate its kind of payment needs is open. Which
gates exist in a jurisdiction, and the article behind each, come from its policy pack.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum

from shared.contracts import Event
from shared.contracts.funding import DisbursementReleased
from shared.policy import Decision, PolicyRegistry, Reason


class PaymentKind(StrEnum):
    PREPARATORY = "preparatory"  # 项目论证等前期工作费用
    CONSTRUCTION = "construction"  # 建设资金


class DisbursementStatus(StrEnum):
    HELD = "held"  # 待拨付：有未开启的前置条件
    RELEASED = "released"  # 已拨付


class Gate(StrEnum):
    """A precondition of payment, opened by an event from another service."""

    APPROVAL = "approval"  # 项目已批复


# Which rule of the jurisdiction's pack closes which gate.
GATE_RULES: dict[Gate, str] = {Gate.APPROVAL: "funding.approval_required"}
# Which gates each kind of payment needs.
PAYMENT_GATES: dict[PaymentKind, tuple[Gate, ...]] = {
    PaymentKind.PREPARATORY: (Gate.APPROVAL,),
    PaymentKind.CONSTRUCTION: (Gate.APPROVAL,),
}


class FundingError(Exception):
    code = "funding_error"
    title = "资金操作被拒绝"


class ProjectNotFound(FundingError):
    code = "project_not_found"
    title = "资金系统中无此项目"


class DisbursementNotFound(FundingError):
    code = "disbursement_not_found"
    title = "拨付申请不存在"


@dataclass(eq=False)
class FundedProject:
    """A project as funding knows it, recorded from intake's events."""

    id: str
    jurisdiction: str
    agency: str
    title: str
    declared_amount_fen: int
    approved: bool = False
    approved_amount_fen: int | None = None
    events: list[Event] = field(default_factory=list)

    def open_gates(self) -> set[Gate]:
        return {Gate.APPROVAL} if self.approved else set()

    def mark_approved(self, approved_amount_fen: int) -> None:
        self.approved = True
        self.approved_amount_fen = approved_amount_fen


def check_gates(project: FundedProject, kind: PaymentKind, policy: PolicyRegistry) -> Decision:
    """Open or closed, each gate the payment needs; a closed one is explained by its article."""
    reasons: list[Reason] = []
    opened = project.open_gates()
    for gate in PAYMENT_GATES[kind]:
        rule = policy.rule(project.jurisdiction, GATE_RULES[gate])
        if not rule.applies or gate in opened:
            continue
        # zhonglou §13: 项目论证等前期工作费用除外.
        if kind is PaymentKind.PREPARATORY and rule.params.get("exempt_preparatory"):
            continue
        reasons.append(policy.refusal(project.jurisdiction, GATE_RULES[gate], f"gate_closed:{gate.value}"))
    return Decision(allowed=not reasons, reasons=tuple(reasons))


@dataclass(eq=False)
class Disbursement:
    """资金拨付申请: held while a gate is closed, released when all are open."""

    id: str
    project_id: str
    jurisdiction: str
    agency: str
    kind: PaymentKind
    amount_fen: int
    purpose: str
    requested_by: str
    requested_at: datetime
    status: DisbursementStatus
    closed_gates: list[dict[str, object]]
    idempotency_key: str | None = None
    released_at: datetime | None = None
    events: list[Event] = field(default_factory=list)

    @classmethod
    def request(
        cls,
        *,
        project: FundedProject,
        kind: PaymentKind,
        amount_fen: int,
        purpose: str,
        by: str,
        at: datetime,
        policy: PolicyRegistry,
        idempotency_key: str | None = None,
    ) -> Disbursement:
        if amount_fen <= 0:
            raise ValueError("amount_fen must be positive")
        item = cls(
            id=uuid.uuid4().hex,
            project_id=project.id,
            jurisdiction=project.jurisdiction,
            agency=project.agency,
            kind=kind,
            amount_fen=amount_fen,
            purpose=purpose,
            requested_by=by,
            requested_at=at,
            status=DisbursementStatus.HELD,
            closed_gates=[],
            idempotency_key=idempotency_key,
        )
        item.reconsider(project, policy, at)
        return item

    def reconsider(self, project: FundedProject, policy: PolicyRegistry, at: datetime) -> bool:
        """Release when every gate is open; True when this call released it."""
        if self.status is DisbursementStatus.RELEASED:
            return False
        decision = check_gates(project, self.kind, policy)
        self.closed_gates = [r.model_dump(mode="json") for r in decision.reasons]
        if not decision.allowed:
            return False
        self.status = DisbursementStatus.RELEASED
        self.released_at = at
        self.events.append(
            DisbursementReleased(
                project_id=self.project_id,
                jurisdiction=self.jurisdiction,
                disbursement_id=self.id,
                amount_fen=self.amount_fen,
            )
        )
        return True
