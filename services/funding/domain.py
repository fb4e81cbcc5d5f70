"""Funding's domain: a ledger of gates per project, and gated disbursements (资金拨付).

Gates are opened and closed only by other services' events (approval, plan, termination,
completion, acceptance, audit report, data sharing, security, evaluations). A payment is
released only when every gate its kind needs is open; which gates a kind needs in a
jurisdiction, and the article behind each, come from its policy pack.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from shared.contracts import Event
from shared.contracts.funding import (
    BudgetOpened,
    DisbursementHeld,
    DisbursementRejected,
    DisbursementReleased,
    DisbursementRequested,
    OmDecided,
    ReclaimRecorded,
)
from shared.errors import DomainError
from shared.policy import PolicyRegistry, Reason, citations


class PaymentKind(StrEnum):
    PREPARATORY = "preparatory"  # 项目论证等前期工作费用 (zhonglou §13)
    CONSTRUCTION = "construction"  # 建设资金（按批复下达）
    MILESTONE = "milestone"  # 合同付款节点
    FINAL = "final"  # 尾款（验收后）
    OM = "om"  # 运维经费


class DisbursementStatus(StrEnum):
    HELD = "held"  # 待拨付：有未开启的前置条件
    RELEASED = "released"  # 已拨付（运维经费：已核准）
    REJECTED = "rejected"  # 不予拨付（项目终止；运维经费：不予核准）


class Gate(StrEnum):
    """A precondition of payment, opened and closed by another service's event."""

    APPROVAL = "approval"  # 项目已批复 — intake.project_approved / project_recorded
    PLAN = "plan"  # 已列入年度计划 — intake.project_included_in_plan, off-plan approval
    STANDING = "standing"  # 项目未终止 — closed for good by intake.project_terminated
    COMPLETION = "completion"  # 已竣工 — procurement.construction_completed
    INITIAL_ACCEPTANCE = "initial_acceptance"  # 初验通过 — acceptance.initial_acceptance_recorded
    ACCEPTANCE = "acceptance"  # 终验通过 — acceptance.final_acceptance_concluded
    AUDIT_REPORT = "audit_report"  # 审计报告 — acceptance.audit_report_filed
    DATA_SHARING = "data_sharing"  # 数据共享确认 — acceptance.data_sharing_decided
    NO_DUPLICATE = "no_duplicate_collection"  # 无重复采集 — acceptance.data_sharing_decided
    SECURITY = "security"  # 等保合规 — acceptance.security_attested
    CRYPTO = "crypto"  # 密评合规 — acceptance.security_attested
    EVALUATION = "evaluation"  # 评价问题已整改 — acceptance.evaluation_recorded


# A gate nobody has spoken about yet: open where it only closes on bad news.
OPEN_BY_DEFAULT = {Gate.STANDING, Gate.NO_DUPLICATE, Gate.SECURITY, Gate.CRYPTO, Gate.EVALUATION}

NAMES = {
    Gate.APPROVAL: "项目批复",
    Gate.PLAN: "列入年度计划",
    Gate.STANDING: "项目未终止",
    Gate.COMPLETION: "竣工",
    Gate.INITIAL_ACCEPTANCE: "初验",
    Gate.ACCEPTANCE: "终验",
    Gate.AUDIT_REPORT: "审计报告",
    Gate.DATA_SHARING: "数据共享确认",
    Gate.NO_DUPLICATE: "无重复采集",
    Gate.SECURITY: "等保合规",
    Gate.CRYPTO: "密评合规",
    Gate.EVALUATION: "评价问题整改",
}

LABELS = {
    Gate.APPROVAL: "项目尚未批复",
    Gate.PLAN: "项目尚未列入年度计划",
    Gate.STANDING: "项目已终止",
    Gate.COMPLETION: "项目尚未竣工",
    Gate.INITIAL_ACCEPTANCE: "项目尚未通过初验",
    Gate.ACCEPTANCE: "项目尚未通过终验",
    Gate.AUDIT_REPORT: "尚无审计报告",
    Gate.DATA_SHARING: "数据共享情况未经确认或已被撤销确认",
    Gate.NO_DUPLICATE: "存在重复采集数据",
    Gate.SECURITY: "网络安全等级保护测评不合规或已过有效期",
    Gate.CRYPTO: "密码应用安全性评估不合规或已过有效期",
    Gate.EVALUATION: "评价发现的严重问题逾期未整改",
}

# The contract's own payment conditions (付款节点), opened by the matching event.
MILESTONE_GATES = {
    "completion": Gate.COMPLETION,
    "initial_acceptance": Gate.INITIAL_ACCEPTANCE,
    "final_acceptance": Gate.ACCEPTANCE,
    "warranty": Gate.ACCEPTANCE,
}


class FundingError(DomainError):
    code = "funding_error"
    title = "资金操作被拒绝"


class ProjectNotFound(FundingError):
    code = "project_not_found"
    title = "资金系统中无此项目"


class DisbursementNotFound(FundingError):
    code = "disbursement_not_found"
    title = "拨付申请不存在"


class Refused(FundingError):
    code = "funding_refused"
    title = "不符合拨付条件"


class InvalidState(FundingError):
    code = "invalid_state"
    title = "当前状态不允许此操作"


@dataclass(frozen=True)
class Need:
    """A gate a payment needs, and the pack rule (or contract clause) that makes it needed.

    `unknown` says what a gate no event has set yet counts as: None for the gate's own default,
    True where only bad news closes it (zhonglou §19 defers funds after a failed acceptance),
    False where it must be proven (shexian §44(二): an assessment on file).
    """

    gate: Gate
    rule: str | None  # pack rule id; None for a contract's own payment condition
    note: str = ""
    unknown: bool | None = None


@dataclass(frozen=True)
class FactOrder:
    """Where a fact about a project stands, by what the suite controls — never by its claimed time.

    `source` is who stated it (a producer's CloudEvents source, or the manual-record source),
    `sequence` the producer's own number for it among its events about the project (the
    CloudEvents `sequence` extension; None when the producer does not number its events), and
    `position` its place in the stream: the JetStream stream sequence the broker gave it when it
    was stored, or, for a fact recorded by hand, the stream's last sequence at that moment.
    """

    source: str
    sequence: int | None
    position: int | None
    by_hand: bool = False

    @property
    def place(self) -> list[int] | None:
        """Its place among the stream's facts: a record by hand comes after the message at its
        position and before the next one stored."""
        return None if self.position is None else [self.position, int(self.by_hand)]


MANUAL_KEYS = ("recorded_by", "document_ref")  # set on a gate recorded by hand (POST /manual-events)


@dataclass(frozen=True)
class GateFact:
    """The fact that would move a gate: the event that states it, where it stands in the suite's
    order, and who recorded it and on what document when it was recorded by hand."""

    event_id: str
    event_type: str
    time: dt.datetime
    order: FactOrder
    recorded_by: str | None = None
    document_ref: str | None = None


@dataclass(eq=False)
class GateState:
    """One gate of one project, with the event that last opened or closed it.

    Which fact may set the gate (`admits`):
    - one source's facts follow that source's own numbering: a fact numbered at or below the
      last one seen from its source is older, however it arrives (a redelivery, a replay from
      the dead letters, a reordering) and whatever time it claims, and changes nothing;
    - between different sources (two systems, or a system and a person recording by hand), and
      for a source that does not number its events, the fact that entered the stream later
      wins: a fact stored before the one that set the gate does not undo it.
    So a revocation is never lost behind a late confirmation, and a wrong or forged date
    cannot freeze a gate.
    """

    project_id: str
    gate: str
    open: bool
    event_id: str | None = None
    event_type: str | None = None
    event_time: dt.datetime | None = None
    detail: dict[str, Any] = field(default_factory=dict)
    event_source: str | None = None  # the system that published the event (CloudEvents source)
    # {"sources": {source: last number seen}, "place": FactOrder.place of the fact that set it}
    ordering: dict[str, Any] | None = None

    def admits(self, order: FactOrder) -> bool:
        """Whether a fact in this order is newer than the one that set the gate (see the class)."""
        seen = dict((self.ordering or {}).get("sources", {}))
        if order.sequence is not None and order.source in seen:
            if order.sequence <= int(seen[order.source]):
                return False
            if order.source == self.event_source:
                return True  # the producer's own numbering decides between its own facts
        place = (self.ordering or {}).get("place")
        if order.place is None or place is None:
            return True
        setter = [int(p) for p in place]
        # A record by hand is made now: it follows an earlier record at the same place.
        return order.place >= setter if order.by_hand else order.place > setter

    def record(self, open_: bool, fact: GateFact | None, **detail: Any) -> bool:
        """Move the gate by a fact unless an older one (see the class); False when it is older.

        The fact that sets the gate speaks for it: the detail of a record by hand (who, on what
        document) does not outlive the next event, and an event's own detail is kept beside
        what earlier facts said.
        """
        if fact is not None:
            if not self.admits(fact.order):
                return False
            self.note(fact.order)
        self.open = open_
        self.event_id = fact.event_id if fact else None
        self.event_type = fact.event_type if fact else None
        self.event_time = fact.time if fact else None
        self.event_source = fact.order.source if fact else None
        earlier = {k: v for k, v in self.detail.items() if k not in MANUAL_KEYS}
        if fact is not None and fact.recorded_by is not None:
            detail = {**detail, "recorded_by": fact.recorded_by, "document_ref": fact.document_ref}
        self.detail = {**earlier, **detail}
        return True

    def note(self, order: FactOrder) -> None:
        """Remember the fact that set the gate, and the last number seen from its source."""
        sources = dict((self.ordering or {}).get("sources", {}))
        if order.sequence is not None:
            sources[order.source] = max(order.sequence, int(sources.get(order.source, 0)))
        self.ordering = {"sources": sources, "place": order.place}


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
    kind: str = "construction"
    accepted_on: dt.date | None = None
    terminated: bool = False
    settlement: dict[str, Any] | None = None
    events: list[Event] = field(default_factory=list)

    def mark_approved(self, approved_amount_fen: int, articles: Sequence[str]) -> None:
        first = not self.approved
        self.approved = True
        self.approved_amount_fen = approved_amount_fen
        if first:
            self._budget(articles)

    def revise_total(self, total_fen: int, articles: Sequence[str]) -> None:
        """A change took effect (procurement.change_recorded): the total payments may reach."""
        if self.approved and total_fen != self.approved_amount_fen:
            self.approved_amount_fen = total_fen
            self._budget(articles)

    def _budget(self, articles: Sequence[str]) -> None:
        assert self.approved_amount_fen is not None
        self.events.append(
            BudgetOpened(
                project_id=self.id,
                jurisdiction=self.jurisdiction,
                agency=self.agency,
                approved_total_fen=self.approved_amount_fen,
                articles=tuple(articles),
            )
        )

    @property
    def cap_fen(self) -> int:
        """What construction-side payments together may not exceed: the approved total, or the
        estimate while only preparatory costs can be paid."""
        return self.approved_amount_fen if self.approved_amount_fen is not None else self.declared_amount_fen


def needs(
    policy: PolicyRegistry, jurisdiction: str, kind: PaymentKind, stage: str | None = None
) -> list[Need]:
    """The gates a payment of `kind` needs in the jurisdiction (stage: the milestone's, if any)."""
    found: list[Need] = [Need(Gate.STANDING, None)]
    approval = policy.rule(jurisdiction, "funding.approval_required")
    if approval.applies and not (
        kind is PaymentKind.PREPARATORY and approval.params.get("exempt_preparatory")
    ):
        found.append(Need(Gate.APPROVAL, "funding.approval_required"))
    if kind is PaymentKind.PREPARATORY or kind is PaymentKind.OM:
        return found
    if policy.rule(jurisdiction, "funding.plan_required").applies:
        found.append(Need(Gate.PLAN, "funding.plan_required"))
    if kind is PaymentKind.MILESTONE and stage in ("completion", "initial_acceptance"):
        found.append(Need(MILESTONE_GATES[stage], None, f"合同约定该付款节点于{_stage_label(stage)}后支付"))
    final = kind is PaymentKind.FINAL or (
        kind is PaymentKind.MILESTONE and stage in ("final_acceptance", "warranty")
    )
    acceptance = policy.rule(jurisdiction, "funding.acceptance_required")
    if acceptance.applies and (final or kind.value in acceptance.params.get("kinds", ["final"])):
        found.append(Need(Gate.ACCEPTANCE, "funding.acceptance_required"))
    elif acceptance.applies and acceptance.params.get("defer_after_failure"):
        found.append(
            Need(Gate.ACCEPTANCE, "funding.acceptance_required", "验收不合格，暂缓拨付后续经费", True)
        )
    elif final:
        note = (
            f"合同约定该付款节点于{_stage_label(stage or 'final_acceptance')}后支付"
            if stage
            else "尾款于验收后支付"
        )
        found.append(Need(Gate.ACCEPTANCE, None, note))
    audit = policy.rule(jurisdiction, "funding.audit_report_required")
    if audit.applies and (final or kind.value in audit.params.get("kinds", ["final"])):
        found.append(Need(Gate.AUDIT_REPORT, "funding.audit_report_required"))
    return found


def om_needs(policy: PolicyRegistry, jurisdiction: str) -> list[Need]:
    """The gates O&M funds need (shexian §39, §44; zhonglou §19, §21, §28; bayingolin §25)."""
    found = needs(policy, jurisdiction, PaymentKind.OM)
    sharing = policy.rule(jurisdiction, "funding.om_data_sharing_required")
    if sharing.applies:
        found.append(Need(Gate.DATA_SHARING, "funding.om_data_sharing_required"))
        if sharing.params.get("duplicate_collection_blocks"):
            found.append(Need(Gate.NO_DUPLICATE, "funding.om_data_sharing_required"))
    security = policy.rule(jurisdiction, "funding.om_crypto_security_required")
    if security.applies:
        proven = False if security.params.get("attestation_required") else None
        found += [
            Need(Gate.SECURITY, "funding.om_crypto_security_required", unknown=proven),
            Need(Gate.CRYPTO, "funding.om_crypto_security_required", unknown=proven),
        ]
    if policy.rule(jurisdiction, "funding.om_evaluation_issues_block").applies:
        found.append(Need(Gate.EVALUATION, "funding.om_evaluation_issues_block"))
    if policy.rule(jurisdiction, "funding.om_not_accepted_block").applies:
        found.append(Need(Gate.ACCEPTANCE, "funding.om_not_accepted_block"))
    # Where the pack's acceptance or audit-report condition names every payment, O&M included
    # (xunyang §20: 未经验收、验收不合格或没有审计报告的项目…不予资金拨付).
    for key, gate in (
        ("funding.acceptance_required", Gate.ACCEPTANCE),
        ("funding.audit_report_required", Gate.AUDIT_REPORT),
    ):
        rule = policy.rule(jurisdiction, key)
        named = rule.applies and PaymentKind.OM.value in rule.params.get("kinds", [])
        if named and all(n.gate is not gate for n in found):
            found.append(Need(gate, key))
    return found


def _stage_label(stage: str) -> str:
    return {
        "completion": "竣工",
        "initial_acceptance": "初验",
        "final_acceptance": "终验",
        "warranty": "终验（质保期满）",
    }.get(stage, stage)


def is_open(
    policy: PolicyRegistry, jurisdiction: str, state: GateState | None, gate: Gate, today: dt.date
) -> bool:
    """Whether a gate is open today: most follow their last event; some also look at time."""
    if state is None:
        if gate is Gate.DATA_SHARING:
            # zhonglou §28 blocks only data found unshared; shexian §39 wants the authority's confirmation.
            rule = policy.rule(jurisdiction, "funding.om_data_sharing_required")
            return not rule.params.get("authority_confirmation", True)
        return gate in OPEN_BY_DEFAULT
    if gate in (Gate.SECURITY, Gate.CRYPTO) and state.open:
        until = state.detail.get("valid_until")
        return until is None or dt.date.fromisoformat(until) >= today
    if gate is Gate.EVALUATION:
        # zhonglou §21: unfixed serious problems count once their rectification deadline passed.
        return not any(
            due is None or dt.date.fromisoformat(due) < today
            for due in state.detail.get("unfixed", {}).values()
        )
    return state.open


def closed_reasons(
    policy: PolicyRegistry,
    jurisdiction: str,
    wanted: Iterable[Need],
    gates: dict[str, GateState],
    today: dt.date,
) -> list[Reason]:
    """Each closed gate the payment needs, explained by its article (or the contract's clause)."""
    reasons: list[Reason] = []
    for need in wanted:
        state = gates.get(need.gate.value)
        if state is None and need.unknown is not None:
            if need.unknown:
                continue
        elif is_open(policy, jurisdiction, state, need.gate, today):
            continue
        code = f"gate_closed:{need.gate.value}"
        if need.gate is Gate.STANDING and state is not None:
            articles = tuple(state.detail.get("articles", ()))
            message = f"项目已终止：{state.detail.get('reason', '')}（{'、'.join(articles)}）"
            reasons.append(
                Reason(code=code, rule=articles[0] if articles else "", articles=articles, message=message)
            )
        elif need.rule is None:
            reasons.append(
                Reason(code=code, rule="", articles=(), message=f"{LABELS[need.gate]}（{need.note}）")
            )
        else:
            rule = policy.rule(jurisdiction, need.rule)
            what = need.note or LABELS[need.gate]
            if state is None and need.unknown is False:
                what = f"{what}（尚无测评结果）"
            reasons.append(policy.refusal(jurisdiction, need.rule, code, f"{what}：{rule.summary}"))
    return reasons


@dataclass(eq=False)
class Disbursement:
    """资金拨付申请: held while a gate is closed, released when all are open, exactly once."""

    id: str
    project_id: str
    jurisdiction: str
    agency: str
    kind: PaymentKind
    amount_fen: int
    purpose: str
    requested_by: str
    requested_at: dt.datetime
    status: DisbursementStatus
    closed_gates: list[dict[str, Any]]
    idempotency_key: str | None = None
    released_at: dt.datetime | None = None
    contract_id: str | None = None
    milestone: str | None = None
    milestone_key: str | None = None  # contract:milestone, to add up what a milestone has taken
    om_key: str | None = None  # unique: one approved O&M grant per project and budget year
    stage: str | None = None
    budget_year: int | None = None
    decided_reason: str | None = None
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
        at: dt.datetime,
        idempotency_key: str | None = None,
        contract_id: str | None = None,
        milestone: str | None = None,
        stage: str | None = None,
        budget_year: int | None = None,
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
            contract_id=contract_id,
            milestone=milestone,
            milestone_key=f"{contract_id}:{milestone}" if kind is PaymentKind.MILESTONE else None,
            stage=stage,
            budget_year=budget_year,
        )
        item.events.append(
            DisbursementRequested(
                project_id=project.id,
                jurisdiction=project.jurisdiction,
                agency=project.agency,
                disbursement_id=item.id,
                kind=kind.value,
                amount_fen=amount_fen,
                contract_id=contract_id,
                milestone=milestone,
            )
        )
        return item

    def reconsider(self, closed: Sequence[Reason], at: dt.datetime, *, announce_hold: bool = False) -> bool:
        """Release when no gate is closed; True when this call released it."""
        if self.status is not DisbursementStatus.HELD:
            return False
        self.closed_gates = [r.model_dump(mode="json") for r in closed]
        if closed:
            if announce_hold:
                self.events.append(
                    DisbursementHeld(
                        project_id=self.project_id,
                        jurisdiction=self.jurisdiction,
                        agency=self.agency,
                        disbursement_id=self.id,
                        amount_fen=self.amount_fen,
                        closed_gates=citations(closed),
                    )
                )
            return False
        self.status = DisbursementStatus.RELEASED
        self.released_at = at
        self.events.append(
            DisbursementReleased(
                project_id=self.project_id,
                jurisdiction=self.jurisdiction,
                disbursement_id=self.id,
                amount_fen=self.amount_fen,
                agency=self.agency,
                kind=self.kind.value,
                contract_id=self.contract_id,
                milestone=self.milestone,
            )
        )
        return True

    def reject(self, reason: str, articles: Sequence[str], at: dt.datetime) -> None:
        if self.status is not DisbursementStatus.HELD:
            return
        self.status, self.decided_reason, self.released_at = DisbursementStatus.REJECTED, reason, None
        self.events.append(
            DisbursementRejected(
                project_id=self.project_id,
                jurisdiction=self.jurisdiction,
                agency=self.agency,
                disbursement_id=self.id,
                amount_fen=self.amount_fen,
                reason=reason,
                articles=tuple(articles),
            )
        )

    def decide_om(self, refusals: Sequence[Reason], at: dt.datetime) -> None:
        """O&M funds are decided at once: approved, or denied with every reason."""
        assert self.budget_year is not None
        self.closed_gates = [r.model_dump(mode="json") for r in refusals]
        if refusals:
            self.status, self.decided_reason = (
                DisbursementStatus.REJECTED,
                "；".join(r.message for r in refusals),
            )
        else:
            self.status, self.released_at = DisbursementStatus.RELEASED, at
            self.om_key = f"{self.project_id}:{self.budget_year}"
        self.events.append(
            OmDecided(
                project_id=self.project_id,
                jurisdiction=self.jurisdiction,
                agency=self.agency,
                disbursement_id=self.id,
                approved=not refusals,
                amount_fen=self.amount_fen,
                budget_year=self.budget_year,
                reasons=citations(refusals),
            )
        )


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


@dataclass(eq=False)
class Reclaim:
    """收回资金 after a termination (zhonglou §17, bayingolin §21)."""

    id: str
    project_id: str
    jurisdiction: str
    agency: str
    amount_fen: int
    reason: str
    articles: list[str]
    status: str  # started | completed
    started_at: dt.datetime
    returned_fen: int = 0
    completed_at: dt.datetime | None = None
    events: list[Event] = field(default_factory=list)

    @classmethod
    def start(
        cls, project: FundedProject, amount_fen: int, reason: str, articles: Sequence[str], at: dt.datetime
    ) -> Reclaim:
        reclaim = cls(
            id=uuid.uuid4().hex,
            project_id=project.id,
            jurisdiction=project.jurisdiction,
            agency=project.agency,
            amount_fen=amount_fen,
            reason=reason,
            articles=list(articles),
            status="started",
            started_at=at,
        )
        reclaim._announce(amount_fen)
        return reclaim

    def complete(self, returned_fen: int, at: dt.datetime) -> None:
        if self.status != "started":
            raise InvalidState("资金收回已办结")
        self.status, self.returned_fen, self.completed_at = "completed", returned_fen, at
        self._announce(returned_fen)

    def _announce(self, amount_fen: int) -> None:
        self.events.append(
            ReclaimRecorded(
                project_id=self.project_id,
                jurisdiction=self.jurisdiction,
                agency=self.agency,
                reclaim_id=self.id,
                status=self.status,
                amount_fen=amount_fen,
                reason=self.reason,
                articles=tuple(self.articles),
            )
        )
