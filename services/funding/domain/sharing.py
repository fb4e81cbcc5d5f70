"""Data sharing and O&M funds, project by project: the classified projects an article leaves
out, and the day by which a system in use had to share its data.

zhonglou §28: 尚在使用的区政务信息系统…未于2023年9月底前向区政务数据资源共享交换平台共享数据信息的
系统(非涉密)，原则上下一年的维护经费一律不予核准. The pack names the day (`shared_by`): a system
already in use on it (accepted on or before it) whose sharing was not confirmed by then — later,
or never — is refused O&M funds, in principle, for the years after it. The article speaks of
非涉密 systems (`secret_exempt`): a classified project meets neither this nor the sharing gate.
"""

from __future__ import annotations

import datetime as dt

from services.funding.domain.gates import Gate, GateState
from services.funding.domain.projects import FundedProject
from shared.policy import PolicyRegistry, Reason

RULE = "funding.om_data_sharing_required"


def exempt(policy: PolicyRegistry, project: FundedProject) -> bool:
    """The article binds only 非涉密 systems, and this one is classified."""
    return project.classified and bool(policy.rule(project.jurisdiction, RULE).params.get("secret_exempt"))


def shared_on(state: GateState | None) -> dt.date | None:
    """The day the project's data sharing was first confirmed, as the gate remembers it."""
    value = state.detail.get("shared_on") if state is not None else None
    return dt.date.fromisoformat(str(value)) if value else None


def first_shared_on(state: GateState | None, decision: str, day: dt.date) -> str | None:
    """What the gate remembers after a decision on `day`: the first confirmation stays the day
    the data was shared, whatever is decided later."""
    earlier = shared_on(state)
    if decision == "confirmed" and (earlier is None or day < earlier):
        earlier = day
    return earlier.isoformat() if earlier else None


def _deadline(policy: PolicyRegistry, jurisdiction: str) -> dt.date | None:
    rule = policy.rule(jurisdiction, RULE)
    value = rule.params.get("shared_by") if rule.is_gate else None
    return None if value is None else dt.date.fromisoformat(str(value))


def not_shared_by_deadline(
    policy: PolicyRegistry, project: FundedProject, gates: dict[str, GateState], budget_year: int
) -> list[Reason]:
    """A system in use on the pack's day that had not shared its data by it: O&M funds for a
    later year are refused (in principle, where the pack says so)."""
    deadline = _deadline(policy, project.jurisdiction)
    if deadline is None or exempt(policy, project) or budget_year <= deadline.year:
        return []
    if project.accepted_on is None or project.accepted_on > deadline:
        return []  # not yet in use on that day: the day does not bind it
    on = shared_on(gates.get(Gate.DATA_SHARING.value))
    if on is not None and on <= deadline:
        return []
    facts = f"至 {on.isoformat()} 方经确认共享" if on else "尚无共享确认记录"
    rule = policy.rule(project.jurisdiction, RULE)
    detail = (
        f"系统于 {project.accepted_on.isoformat()} 通过验收投入使用，"
        f"未于 {deadline.isoformat()} 前共享数据（{facts}）：{rule.summary}"
    )
    return [policy.refusal(project.jurisdiction, RULE, "om_not_shared_by_deadline", detail)]
