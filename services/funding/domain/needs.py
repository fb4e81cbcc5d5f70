"""Which gates a payment needs in a jurisdiction, and why a closed one holds it.

A payment is released only when every gate its kind needs is open; which gates a kind needs in
a jurisdiction, and the article behind each, come from its policy pack.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass

from services.funding.domain.gates import LABELS, MEASURE_GATES, MILESTONE_GATES, Gate, GateState, is_open
from services.funding.domain.kinds import PaymentKind
from shared.contracts.acceptance import evaluation_sentence
from shared.policy import PolicyRegistry, Reason


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


def needs(
    policy: PolicyRegistry, jurisdiction: str, kind: PaymentKind, stage: str | None = None
) -> list[Need]:
    """The gates a payment of `kind` needs in the jurisdiction (stage: the milestone's, if any)."""
    found: list[Need] = [Need(Gate.STANDING, None), *_held(policy, jurisdiction, "defer_funds")]
    approval = policy.rule(jurisdiction, "funding.approval_required")
    if approval.applies and not (
        kind is PaymentKind.PREPARATORY and approval.params.get("exempt_preparatory")
    ):
        found.append(Need(Gate.APPROVAL, "funding.approval_required"))
    if kind is PaymentKind.PREPARATORY or kind is PaymentKind.OM:
        return found
    path = policy.rule(jurisdiction, DESIGN)
    if path.applies and path.params.get("design_approval"):
        found.append(Need(Gate.DESIGN_APPROVAL, DESIGN))  # shexian §20(一): construction money waits
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
    found = [*needs(policy, jurisdiction, PaymentKind.OM), *_held(policy, jurisdiction, "stop_om_funds")]
    sharing = policy.rule(jurisdiction, SHARING)
    if sharing.is_gate:
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


def _held(policy: PolicyRegistry, jurisdiction: str, measure: str) -> list[Need]:
    """The gate a measure of the authority closes, where the jurisdiction's article provides it:
    暂缓安排资金 holds every payment (shexian §49, lhasa §18), 停止发放运维经费 the O&M funds
    (zhonglou §21)."""
    rule = policy.rule(jurisdiction, OVERSIGHT)
    provided = rule.applies and measure in (rule.params.get("measures") or {})
    return [Need(MEASURE_GATES[measure], OVERSIGHT)] if provided else []


OVERSIGHT = "oversight.rectification"
DESIGN = "intake.approval_path_by_amount"
SHARING = "funding.om_data_sharing_required"
DECISIONS = {"confirmed": "已经主管部门确认", "refused": "主管部门不予确认", "revoked": "主管部门已撤销确认"}


def om_bases(policy: PolicyRegistry, jurisdiction: str, gates: dict[str, GateState]) -> list[Reason]:
    """重要依据 shown with an O&M decision, which they do not decide: data sharing (bayingolin §13)
    and the evaluations' results (zhonglou §20, shexian §50, lhasa §22)."""
    found = []
    if policy.rule(jurisdiction, SHARING).is_basis:
        found.append(_sharing_basis(policy, jurisdiction, gates.get(Gate.DATA_SHARING.value)))
    evaluations = policy.rule(jurisdiction, EVALUATIONS)
    if evaluations.is_basis and "om" in (evaluations.params.get("informs") or ("om",)):
        facts = evaluation_facts(gates.get(Gate.EVALUATION.value))
        found.append(policy.basis(jurisdiction, EVALUATIONS, "basis:evaluation", facts))
    return found


EVALUATIONS = "funding.evaluation_drives_funding"


def evaluation_facts(state: GateState | None) -> str:
    """The latest evaluation in one sentence: which, when, and its serious problems."""
    latest = state.detail.get("latest") if state is not None else None
    if not latest:
        return "评价结果：尚无评价记录"
    problems = latest.get("serious_problems") or []
    said = evaluation_sentence(
        latest["evaluation"], latest["recorded_on"], problems, bool(latest.get("rectified"))
    )
    return f"评价结果：{said}"


def _sharing_basis(policy: PolicyRegistry, jurisdiction: str, state: GateState | None) -> Reason:
    if state is None:
        facts = "数据共享情况：尚无主管部门的确认记录"
    else:
        decision = str(state.detail.get("decision", "confirmed" if state.open else "refused"))
        facts = f"数据共享情况：{DECISIONS.get(decision, decision)}"
        if state.detail.get("reason"):
            facts += f"（{state.detail['reason']}）"
    return policy.basis(jurisdiction, SHARING, "basis:data_sharing", facts)


def basis_for(policy: PolicyRegistry, jurisdiction: str) -> dict[Gate, dict[str, list[str]]]:
    """For each gate, the payment kinds it is 重要依据 for (shown, not required), with the articles."""
    shown: dict[Gate, dict[str, list[str]]] = {g: {} for g in Gate}
    for gate, rule_id in ((Gate.DATA_SHARING, SHARING), (Gate.EVALUATION, EVALUATIONS)):
        rule = policy.rule(jurisdiction, rule_id)
        if rule.is_basis:
            shown[gate][PaymentKind.OM.value] = list(rule.articles)
    return shown


def _stage_label(stage: str) -> str:
    return {
        "completion": "竣工",
        "initial_acceptance": "初验",
        "final_acceptance": "终验",
        "warranty": "终验（质保期满）",
    }.get(stage, stage)


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
            elif state is not None and need.gate in MEASURE_GATES.values():
                what = f"{what}（{_measures(state)}）"
            reasons.append(policy.refusal(jurisdiction, need.rule, code, f"{what}：{rule.summary}"))
    return reasons


def _measures(state: GateState) -> str:
    """The measures in force, each by its name in the regulation and its document."""
    return "；".join(f"{m['label']}，{m['document_ref']}" for m in state.detail.get("measures", {}).values())


def required_for(policy: PolicyRegistry, jurisdiction: str) -> dict[Gate, dict[str, list[str]]]:
    """For each gate, the payment kinds that need it and the articles that make it needed."""
    users: dict[Gate, dict[str, list[str]]] = {g: {} for g in Gate}
    for kind in PaymentKind:
        wanted = (
            om_needs(policy, jurisdiction)
            if kind is PaymentKind.OM
            else needs(policy, jurisdiction, kind, "final_acceptance")
        )
        for need in wanted:
            if kind is PaymentKind.MILESTONE and need.rule is None:
                continue
            articles = list(policy.rule(jurisdiction, need.rule).articles) if need.rule else []
            users[need.gate].setdefault(kind.value, articles)
    return users


def shown_open(
    policy: PolicyRegistry, jurisdiction: str, gates: dict[str, GateState], today: dt.date
) -> dict[Gate, bool]:
    """Whether each gate shows as open today: one that must be proven is closed until it is."""
    must_prove = {n.gate for n in om_needs(policy, jurisdiction) if n.unknown is False}
    return {
        gate: is_open(policy, jurisdiction, gates.get(gate.value), gate, today)
        and not (gates.get(gate.value) is None and gate in must_prove)
        for gate in Gate
    }
