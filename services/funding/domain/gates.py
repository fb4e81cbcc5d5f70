"""The gates of payment: each opened and closed only by another service's event.

Gates are opened and closed by other services' events (approval, plan, termination, completion,
acceptance, audit report, data sharing, security, evaluations). The gate is the object that
knows how it moves: `GateState.record(open, fact)` decides whether the fact is newer than the
one that set it, and keeps what the fact said.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from services.funding.domain.stored import Stored
from shared.contracts.acceptance import EvaluationRecorded
from shared.contracts.intake import OversightMeasureLifted, OversightMeasureTaken
from shared.contracts.intake import measures_in_force as in_force
from shared.policy import PolicyRegistry


class Gate(StrEnum):
    """A precondition of payment, opened and closed by another service's event."""

    APPROVAL = "approval"  # 项目已批复 — intake.project_approved / project_recorded
    DESIGN_APPROVAL = "design_approval"  # 初步设计已批复 — intake.project_approved (awaited), design_approved
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
    FUNDS_DEFERRED = "funds_deferred"  # 未被暂缓安排资金 — intake.oversight_measure_taken / _lifted
    OM_STOPPED = "om_stopped"  # 未被停止发放运维经费 — intake.oversight_measure_taken / _lifted


# A gate nobody has spoken about yet: open where it only closes on bad news.
OPEN_BY_DEFAULT = {
    Gate.STANDING,
    Gate.NO_DUPLICATE,
    Gate.SECURITY,
    Gate.CRYPTO,
    Gate.EVALUATION,
    Gate.FUNDS_DEFERRED,
    Gate.OM_STOPPED,
    Gate.DESIGN_APPROVAL,  # closed only for a project whose approval says a design approval follows
}
# The authority's measures that hold money (zhonglou §21, shexian §49, lhasa §18), by the gate they close.
MEASURE_GATES = {"defer_funds": Gate.FUNDS_DEFERRED, "stop_om_funds": Gate.OM_STOPPED}

NAMES = {
    Gate.APPROVAL: "项目批复",
    Gate.DESIGN_APPROVAL: "初步设计批复",
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
    Gate.FUNDS_DEFERRED: "未暂缓安排资金",
    Gate.OM_STOPPED: "未停止发放运维经费",
}

LABELS = {
    Gate.APPROVAL: "项目尚未批复",
    Gate.DESIGN_APPROVAL: "可研已批复，初步设计尚未批复",
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
    Gate.FUNDS_DEFERRED: "主管部门已决定暂缓安排该项目资金",
    Gate.OM_STOPPED: "主管部门已决定停止发放该项目运维经费",
}

# The contract's own payment conditions (付款节点), opened by the matching event.
MILESTONE_GATES = {
    "completion": Gate.COMPLETION,
    "initial_acceptance": Gate.INITIAL_ACCEPTANCE,
    "final_acceptance": Gate.ACCEPTANCE,
    "warranty": Gate.ACCEPTANCE,
}


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


@dataclass(frozen=True)
class GateOrdering(Stored):
    """What a gate remembers of the facts that moved it: the last number seen from each source,
    and the place in the stream (FactOrder.place) of the fact that set it."""

    sources: dict[str, int] = field(default_factory=dict)
    place: list[int] | None = None

    def after(self, order: FactOrder) -> GateOrdering:
        """This ordering once the fact in `order` has set the gate."""
        sources = dict(self.sources)
        if order.sequence is not None:
            sources[order.source] = max(order.sequence, sources.get(order.source, 0))
        return GateOrdering(sources, order.place)

    def stored(self) -> dict[str, Any]:
        return {"sources": dict(self.sources), "place": self.place}

    @classmethod
    def from_stored(cls, stored: dict[str, Any]) -> GateOrdering:
        place = stored.get("place")
        return cls(
            sources={k: int(v) for k, v in stored.get("sources", {}).items()},
            place=None if place is None else [int(p) for p in place],
        )


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
    ordering: GateOrdering | None = None  # None until a fact with an order has set it

    def admits(self, order: FactOrder) -> bool:
        """Whether a fact in this order is newer than the one that set the gate (see the class)."""
        known = self.ordering or GateOrdering()
        if order.sequence is not None and order.source in known.sources:
            if order.sequence <= known.sources[order.source]:
                return False
            if order.source == self.event_source:
                return True  # the producer's own numbering decides between its own facts
        setter = known.place
        if order.place is None or setter is None:
            return True
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
        self.ordering = (self.ordering or GateOrdering()).after(order)


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
    if gate in (Gate.FUNDS_DEFERRED, Gate.OM_STOPPED):
        return not state.detail.get("measures")
    if gate is Gate.EVALUATION:
        # zhonglou §21: unfixed serious problems count once their rectification deadline passed.
        return not any(
            due is None or dt.date.fromisoformat(due) < today
            for due in state.detail.get("unfixed", {}).values()
        )
    return state.open


def after_evaluation(
    policy: PolicyRegistry,
    jurisdiction: str,
    state: GateState | None,
    evaluation: EvaluationRecorded,
    today: dt.date,
) -> tuple[bool, dict[str, str | None]]:
    """The evaluation gate after an evaluation: its serious problems left unfixed (by the
    evaluation's id) and whether the gate is open today (zhonglou §21)."""
    unfixed: dict[str, str | None] = dict(state.detail.get("unfixed", {})) if state else {}
    key = evaluation.evaluation_id or evaluation.evaluation
    if evaluation.serious_problems and not evaluation.rectified:
        due = evaluation.rectification_due
        unfixed[key] = due.isoformat() if due else None
    else:
        unfixed.pop(key, None)
    opened = GateState(
        state.project_id if state else "", Gate.EVALUATION.value, True, detail={"unfixed": unfixed}
    )
    return is_open(policy, jurisdiction, opened, Gate.EVALUATION, today), unfixed


def measures_in_force(
    state: GateState | None, event: OversightMeasureTaken | OversightMeasureLifted
) -> dict[str, dict[str, Any]]:
    """The authority's measures holding the gate once `event` is heard (zhonglou §21, shexian §49,
    lhasa §18)."""
    return in_force(state.detail.get("measures", {}) if state else {}, event)
