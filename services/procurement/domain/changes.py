"""Changes (变更): which path a change takes under the pack, and the decisions on it.

- `procurement.change_within_budget`, `procurement.change_reapproval`, counting every change in
  effect or still awaiting its decision: shexian §38 / lhasa §16 let the unit adjust and file when
  the total is not exceeded, the goal is unchanged, one of the listed grounds applies and the money
  moved is within 15% of the approved total (lhasa adds up the absolute adjustments of every
  change); anything else needs approval. zhonglou §14: every major change or overrun goes through
  the change procedure, an overrun of 10% or more needs re-approval (重新立项); a change neither
  major nor over is recorded. bayingolin §22: every change needs both the authority and finance.
  A pack without a change rule records changes without a procedure.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import asdict, dataclass
from decimal import Decimal
from enum import StrEnum
from typing import Any

from services.procurement.domain.errors import InvalidState, ProcurementError
from shared.contracts.envelope import Citation
from shared.policy import SUITE_DEFAULT, PolicyRegistry, Reason, Rule


class Path(StrEnum):
    FILE = "file"  # 建设单位调整，报审批部门备案
    APPROVAL = "approval"  # 履行变更审批手续
    REAPPROVAL = "reapproval"  # 重新立项


class Ground(StrEnum):
    """The grounds shexian §38 and lhasa §16 list for a unit's own adjustment."""

    POLICY = "policy"  # （一）根据上级部署或政府要求确需改变建设内容
    OPTIMISATION = "optimisation"  # （二）确需对原技术方案进行完善优化
    BUSINESS = "business"  # （三）业务发展需要，在已批复规划框架下调整内容及进度


class ChangeState(StrEnum):
    FILED = "filed"  # 已备案（建设单位自行调整）
    PENDING = "pending"  # 待审批
    APPROVED = "approved"
    REJECTED = "rejected"


@dataclass(frozen=True)
class ChangeFigures:
    """What routing a change looks at: the approved total, what earlier changes did, and this one."""

    approved_fen: int
    prior_overrun_fen: int
    prior_adjusted_fen: int
    total_delta_fen: int
    adjustment_fen: int
    goal_changed: bool
    ground: Ground | None
    major: bool = False  # 重大调整 (zhonglou §14)


@dataclass(frozen=True)
class ChangeRoute:
    path: Path
    approvers: tuple[str, ...]
    reasons: tuple[Reason, ...]
    articles: tuple[str, ...]


def _within(part: int, whole: int, percent: Decimal | int) -> bool:
    """part ≤ percent% of whole, exactly (integers and Decimal, no float)."""
    return Decimal(part) * 100 <= Decimal(whole) * Decimal(percent)


def route_change(policy: PolicyRegistry, jurisdiction: str, figures: ChangeFigures) -> ChangeRoute:
    """Which path a change takes, and why, from the pack's change rules."""
    within = policy.rule(jurisdiction, "procurement.change_within_budget")
    reapproval = policy.rule(jurisdiction, "procurement.change_reapproval")
    if within.applies:
        return _route_within(policy, jurisdiction, within, reapproval, figures)
    if reapproval.applies:
        return _route_reapproval(policy, jurisdiction, reapproval, figures)
    return ChangeRoute(Path.FILE, (), (), ())


def _route_within(
    policy: PolicyRegistry, jurisdiction: str, within: Rule, reapproval: Rule, f: ChangeFigures
) -> ChangeRoute:
    """shexian §38, lhasa §16: the unit adjusts and files, unless one of the limits is crossed."""
    percent = Decimal(str(within.param("percent")))
    cumulative = bool(within.params.get("cumulative_absolute"))
    counted = f.adjustment_fen + (f.prior_adjusted_fen if cumulative else 0)
    why: list[str] = []
    if f.prior_overrun_fen + f.total_delta_fen > 0:
        why.append("投资超出批复概算")
    if f.goal_changed:
        why.append("建设目标改变")
    if f.ground is None:
        why.append("不属于所列可自行调整的情形")
    if not _within(counted, f.approved_fen, percent):
        what = "资金调整数额绝对值累加" if cumulative else "资金调整数额"
        why.append(f"{what}超过概算总投资的{percent}%")
    if not why:
        return ChangeRoute(Path.FILE, (), (), within.articles)
    reason = policy.refusal(
        jurisdiction,
        "procurement.change_reapproval",
        "change_needs_approval",
        "；".join(why) + "，须履行审批手续",
    )
    return ChangeRoute(Path.APPROVAL, _approvers(reapproval), (reason,), reapproval.articles)


def _route_reapproval(
    policy: PolicyRegistry, jurisdiction: str, reapproval: Rule, f: ChangeFigures
) -> ChangeRoute:
    """zhonglou §14 (and packs like it): the change procedure, re-approval beyond a share of the total."""
    overrun = f.prior_overrun_fen + f.total_delta_fen
    when = set(reapproval.params.get("procedure_when", []))
    over = overrun > 0 and f.total_delta_fen > 0  # this change takes the total (further) over
    if when and not (("major" in when and f.major) or ("overrun" in when and over)):
        return ChangeRoute(Path.FILE, (), (), reapproval.articles)  # neither major nor over: recorded
    percent = Decimal(str(reapproval.params.get("percent", 0)))
    inclusive = bool(reapproval.params.get("inclusive", True))
    if percent > 0 and over:
        exceeds = Decimal(overrun) * 100 >= Decimal(f.approved_fen) * percent
        if not inclusive:
            exceeds = Decimal(overrun) * 100 > Decimal(f.approved_fen) * percent
        if exceeds:
            reason = policy.refusal(
                jurisdiction,
                "procurement.change_reapproval",
                "change_needs_reapproval",
                f"投资超出批复总投资{percent}%{'（含）' if inclusive else ''}以上，须重新立项",
            )
            return ChangeRoute(Path.REAPPROVAL, _approvers(reapproval), (reason,), reapproval.articles)
    reason = policy.refusal(
        jurisdiction, "procurement.change_reapproval", "change_needs_approval", reapproval.summary
    )
    if reapproval.params.get("approvers_by_default"):
        # The article keeps the approved content but names no approver (xunyang §15).
        said = f"{reason.message}；变更由主管部门审批（{SUITE_DEFAULT}）"
        reason = reason.model_copy(update={"message": said})
    return ChangeRoute(Path.APPROVAL, _approvers(reapproval), (reason,), reapproval.articles)


def _approvers(reapproval: Rule) -> tuple[str, ...]:
    return tuple(reapproval.params.get("approvers", ["authority"]))


def expert_review_wanted(policy: PolicyRegistry, jurisdiction: str, route: ChangeRoute) -> bool:
    """An expert review of a change awaiting approval where the pack asks for one (shexian §7,
    zhonglou §14); elsewhere the approvers decide alone (bayingolin §22, lhasa §16)."""
    return (
        route.path is not Path.FILE
        and policy.rule(jurisdiction, "review.panel").applies
        and bool(policy.rule(jurisdiction, "procurement.change_reapproval").params.get("expert_review"))
    )


@dataclass(frozen=True)
class ChangeRequest:
    description: str
    scope_effect: str
    total_delta_fen: int
    adjustment_fen: int
    goal_changed: bool
    ground: Ground | None
    major: bool = False  # 重大调整 (zhonglou §14)


@dataclass(frozen=True)
class Decision:
    """One approver's decision on a change."""

    approve: bool
    comment: str
    by: str
    at: dt.datetime
    approval_number: str | None

    def stored(self) -> dict[str, Any]:
        return {**asdict(self), "at": self.at.isoformat()}

    @classmethod
    def from_stored(cls, data: dict[str, Any]) -> Decision:
        at = dt.datetime.fromisoformat(data["at"])
        return cls(data["approve"], data["comment"], data["by"], at, data.get("approval_number"))


@dataclass(eq=False)
class Change:
    """一项变更申请 with its effect on scope and budget, its path and the decisions on it."""

    id: str
    project_id: str
    jurisdiction: str
    agency: str
    description: str
    scope_effect: str
    total_delta_fen: int
    adjustment_fen: int
    goal_changed: bool
    ground: str | None
    path: str
    approvers: list[str]
    decisions: dict[str, Decision]
    review: str | None  # requested | pass | revise | fail — the expert review, where the pack has one
    status: ChangeState
    reasons: list[Citation]
    articles: list[str]
    requested_by: str
    requested_at: dt.datetime
    decided_at: dt.datetime | None = None
    idempotency_key: str | None = None

    def same_request(self, request: ChangeRequest) -> bool:
        return (
            self.description == request.description
            and self.total_delta_fen == request.total_delta_fen
            and self.adjustment_fen == request.adjustment_fen
        )

    def decide(self, role: str, decision: Decision) -> bool:
        """Record one approver's decision; True once the change is decided (rejected or approved)."""
        self._may_decide(role, decision)
        self.decisions = {**self.decisions, role: decision}
        if not decision.approve:
            self.status, self.decided_at = ChangeState.REJECTED, decision.at
        elif all((d := self.decisions.get(r)) is not None and d.approve for r in self.approvers):
            self.status, self.decided_at = ChangeState.APPROVED, decision.at
        return self.status is not ChangeState.PENDING

    def _may_decide(self, role: str, decision: Decision) -> None:
        if self.status is not ChangeState.PENDING:
            raise InvalidState(f"变更 {self.id} 不在待审批状态（{self.status.value}）")
        if role not in self.approvers:
            raise InvalidState(f"本变更须由 {'、'.join(self.approvers)} 审批")
        if role in self.decisions:
            raise InvalidState("您已对本变更作出决定")
        if decision.approve and self.review in ("requested", "revise"):
            raise InvalidState("变更须待专家评审结论后方可批准")
        if decision.approve and self.review == "fail":
            raise InvalidState("专家评审未通过，变更不能批准")
        reapproval = self.path == "reapproval" and role == "authority"
        if decision.approve and reapproval and not decision.approval_number:
            raise ProcurementError("重新立项须填写新的批复文号")
