"""Events produced by the funding service (资金拨付、运维经费、结算)."""

from __future__ import annotations

from datetime import date
from typing import ClassVar, Literal

from pydantic import Field

from shared.contracts.deadlines import PROVISIONAL_NOTE, DeadlineMoved
from shared.contracts.envelope import Agency, Citation, Event
from shared.money import Fen, PositiveFen

PaymentKind = Literal["preparatory", "construction", "milestone", "final", "om"]


class BudgetOpened(Event):
    """预算开立 — the approval (or a re-approval) set the total that payments may not exceed."""

    type: Literal["govit.funding.budget_opened.v1"] = "govit.funding.budget_opened.v1"
    agency: Agency
    approved_total_fen: Fen
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "预算已开立"


class DisbursementRequested(Event):
    """拨付申请 — a payment was asked for; `status` says what happened to it at once."""

    type: Literal["govit.funding.disbursement_requested.v1"] = "govit.funding.disbursement_requested.v1"
    agency: Agency
    disbursement_id: str
    kind: PaymentKind
    amount_fen: PositiveFen
    contract_id: str | None = None
    milestone: str | None = None

    summary: ClassVar[str] = "已申请拨付"


class DisbursementHeld(Event):
    """挂起 — a gate the payment needs is closed; each closed gate with its article."""

    type: Literal["govit.funding.disbursement_held.v1"] = "govit.funding.disbursement_held.v1"
    agency: Agency
    disbursement_id: str
    amount_fen: PositiveFen
    closed_gates: tuple[Citation, ...] = ()

    summary: ClassVar[str] = "拨付已挂起"


class DisbursementReleased(Event):
    """资金拨付 — a disbursement request's gates were all open and the money was released."""

    type: Literal["govit.funding.disbursement_released.v1"] = "govit.funding.disbursement_released.v1"
    disbursement_id: str
    amount_fen: PositiveFen = Field(description="integer fen")
    agency: Agency | None = None
    kind: PaymentKind | None = None
    contract_id: str | None = None
    milestone: str | None = None

    summary: ClassVar[str] = "资金已拨付"


class DisbursementRejected(Event):
    """不予拨付 — a held request can never be paid (the project was terminated)."""

    type: Literal["govit.funding.disbursement_rejected.v1"] = "govit.funding.disbursement_rejected.v1"
    agency: Agency
    disbursement_id: str
    amount_fen: PositiveFen
    reason: str
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "拨付申请已驳回"


class ReclaimRecorded(Event):
    """收回资金 — reclaiming released funds started (termination) or finished (returned)."""

    type: Literal["govit.funding.reclaim_recorded.v1"] = "govit.funding.reclaim_recorded.v1"
    agency: Agency
    reclaim_id: str
    status: Literal["started", "completed"]
    amount_fen: Fen = Field(description="应收回（started）或已收回（completed）的金额，分")
    reason: str = ""
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "资金收回"


class OmDecided(Event):
    """运维经费 — an O&M funds application approved, or denied with every reason and its article."""

    type: Literal["govit.funding.om_decided.v1"] = "govit.funding.om_decided.v1"
    agency: Agency
    disbursement_id: str
    approved: bool
    amount_fen: PositiveFen
    budget_year: int
    reasons: tuple[Citation, ...] = ()
    bases: tuple[Citation, ...] = Field(
        default=(),
        description="重要依据：提供给决策者参考、不作为拒绝理由的情况（如 bayingolin §13 数据共享）",
    )

    summary: ClassVar[str] = "运维经费已决定"


class SettlementRecorded(Event):
    """结算 — the final cost, the surplus to return (bayingolin §28) and the review route (lhasa §21)."""

    type: Literal["govit.funding.settlement_recorded.v1"] = "govit.funding.settlement_recorded.v1"
    agency: Agency
    final_cost_fen: Fen
    released_fen: Fen
    surplus_fen: Fen = Field(description="批复总投资 − 结算金额（分）")
    to_return_fen: Fen = Field(description="已拨付超过结算金额、应退回的资金（分）")
    route: str | None = Field(
        default=None, description="financial_review 财评 / audit 审计 / self_or_third_party"
    )
    review_due_on: date | None = None
    review_due_on_provisional: bool = Field(default=False, description=PROVISIONAL_NOTE)
    articles: tuple[str, ...] = ()

    summary: ClassVar[str] = "项目已结算"


class FundingDeadlineMoved(DeadlineMoved):
    """结算审查期限变动 — a newly loaded holiday notice moved the settlement's 财评 or audit due date
    (lhasa §21); `deadline` is settlement_review."""

    type: Literal["govit.funding.deadline_moved.v1"] = "govit.funding.deadline_moved.v1"

    summary: ClassVar[str] = "结算审查期限已变动"
