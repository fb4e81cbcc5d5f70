"""Money never exceeds the approved total or the contract (the caps on a new request)."""

from __future__ import annotations

from dataclasses import dataclass

from services.funding.domain.contracts import Contract
from services.funding.domain.disbursements import Ask
from services.funding.domain.errors import FundingError, Refused
from services.funding.domain.kinds import PaymentKind
from services.funding.domain.projects import FundedProject
from shared.policy import PolicyRegistry, Reason


@dataclass(frozen=True)
class Ledger:
    """What a new request must fit beside: the money already asked for, released or held.

    `committed_fen`: the project's construction-side payments (BUDGET_KINDS);
    `contract`: the contract the request names, if it is filed; `on_milestone_fen`: what its
    milestone has taken; `construction`: the project's filed construction contracts,
    `on_construction_fen` what their milestones have taken and `finals_fen` the final payments.
    """

    committed_fen: int
    construction: tuple[Contract, ...] = ()
    on_construction_fen: int = 0
    finals_fen: int = 0
    contract: Contract | None = None
    on_milestone_fen: int = 0

    @property
    def contract_room(self) -> int:
        """What the filed construction contracts still owe: their total less milestones and
        finals asked for."""
        return sum(c.amount_fen for c in self.construction) - self.on_construction_fen - self.finals_fen


def cap_name(project: FundedProject) -> str:
    return "批复总投资" if project.approved_amount_fen is not None else "申报投资估算"


def over_cap(policy: PolicyRegistry, project: FundedProject) -> Reason:
    """Why a payment beyond the approved total (or the estimate) is refused: by the article that
    funds a project on its approval, or where the pack has none, by the suite's own default."""
    rule = policy.rule(project.jurisdiction, "funding.approval_required")
    return Reason(
        code="exceeds_approved_total",
        rule=rule.article if rule.applies else "",
        articles=rule.articles if rule.applies else (),
        message=f"拨付不得超过{cap_name(project)} {project.cap_fen} 分（{rule.cited}）",
    )


def within_limits(policy: PolicyRegistry, project: FundedProject, ask: Ask, ledger: Ledger) -> str | None:
    """Refuse a request beyond the approved total or the contract; returns the milestone's stage."""
    if project.settlement is not None:
        raise Refused(f"项目已于 {project.settlement.settled_on.isoformat()} 结算，不再受理建设资金拨付")
    if ask.kind is not PaymentKind.MILESTONE and (ask.contract_id or ask.milestone):
        raise FundingError("只有合同付款节点（milestone）申请可以指明合同和付款节点")
    stage: str | None = None
    if ask.kind is PaymentKind.MILESTONE:
        stage = _within_milestone(project, ask, ledger)
    elif ask.kind is PaymentKind.FINAL:
        _within_contracts(ask, ledger)
    if ledger.committed_fen + ask.amount_fen > project.cap_fen:
        raise Refused(
            f"已拨付及待拨付 {ledger.committed_fen} 分，加上本次 {ask.amount_fen} 分，"
            f"将超过{cap_name(project)} {project.cap_fen} 分",
            [over_cap(policy, project)],
        )
    return stage


def _within_milestone(project: FundedProject, ask: Ask, ledger: Ledger) -> str:
    if not (ask.contract_id and ask.milestone):
        raise FundingError("合同付款须指明备案合同（contract_id）和付款节点（milestone）")
    contract = ledger.contract
    if contract is None or contract.project_id != project.id:
        raise Refused(f"合同 {ask.contract_id} 尚未备案（采购与建设服务备案后方可按付款节点申请）")
    milestone = contract.milestone(ask.milestone)
    taken = ledger.on_milestone_fen
    if taken + ask.amount_fen > milestone.amount_fen:
        raise Refused(
            f"付款节点「{ask.milestone}」合同金额 {milestone.amount_fen} 分，已申请 {taken} 分，"
            f"本次 {ask.amount_fen} 分将超过合同约定"
        )
    if contract.role == "construction" and ask.amount_fen > ledger.contract_room:
        raise Refused("本次付款将超过备案施工合同的总金额（含已申请的尾款）")
    return milestone.stage


def _within_contracts(ask: Ask, ledger: Ledger) -> None:
    if not ledger.construction:
        raise Refused("尚无备案的施工合同，不能申请尾款")
    room = ledger.contract_room
    if ask.amount_fen > room:
        raise Refused(f"申请金额超过备案施工合同尚未支付的金额（余额 {max(room, 0)} 分）")
