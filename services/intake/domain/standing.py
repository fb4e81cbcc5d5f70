"""Whether an agency may declare: bars from later stages, unaccepted predecessors, split declarations.

- zhonglou §21, shexian §44(一)(二), lhasa §24: an agency whose systems left serious problems
  unfixed, did not share data, collected it twice or failed security or crypto review may not
  declare new, rebuilt, extended or upgraded (升级改造) projects while that lasts (the pack names
  the grounds and the natures barred).
- bayingolin §25: an upgrade, expansion or O&M declaration naming an earlier project that was
  not accepted (or failed acceptance) is refused.
- shexian §12: similar declarations of one agency and year, each under a threshold that
  together they cross, are flagged for the authority.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from difflib import SequenceMatcher
from typing import Any, Protocol

from shared.policy import PolicyRegistry, Reason

BARS = "oversight.breach_bars_new_projects"

GROUND_LABELS = {
    "evaluation_problems_unfixed": "评价发现的严重问题逾期未整改或整改后仍不符合要求",
    "data_not_shared": "未按要求共享数据资源",
    "duplicate_collection": "重复采集数据",
    "security_noncompliant": "不符合网络安全（等级保护）要求",
    "crypto_noncompliant": "不符合密码应用要求",
}


class BarLike(Protocol):
    ground: str
    source_project_id: str
    detail: str
    effective_on: date | None


class Sibling(Protocol):
    id: str
    title: str
    summary: str
    amount_fen: int


def barred(
    policy: PolicyRegistry, jurisdiction: str, nature: str, bars: Sequence[BarLike], today: date
) -> list[Reason]:
    """Refusals for the agency's bars in force today that the jurisdiction counts against this nature."""
    rule = policy.rule(jurisdiction, BARS)
    grounds = set(rule.params.get("grounds", [])) if rule.applies else set()
    if nature not in rule.params.get("natures", []):
        return []
    reasons = []
    for bar in bars:
        if bar.ground in grounds and (bar.effective_on is None or bar.effective_on <= today):
            detail = (
                f"本单位项目 {bar.source_project_id} {GROUND_LABELS.get(bar.ground, bar.ground)}"
                f"{'（' + bar.detail + '）' if bar.detail else ''}，{rule.summary}"
            )
            reasons.append(policy.refusal(jurisdiction, BARS, f"agency_barred:{bar.ground}", detail))
    return reasons


def needs_accepted_predecessor(policy: PolicyRegistry, jurisdiction: str, kind: str, nature: str) -> bool:
    rule = policy.rule(jurisdiction, BARS)
    if not rule.applies:
        return False
    return nature in rule.params.get("predecessor_natures", []) or kind in rule.params.get(
        "predecessor_kinds", []
    )


def predecessor_refusal(
    policy: PolicyRegistry, jurisdiction: str, predecessor: Any, acceptance: str | None
) -> list[Reason]:
    """bayingolin §25: the named earlier project must have passed final acceptance."""
    if acceptance == "passed":
        return []
    state = "验收不合格" if acceptance == "failed" else "尚未通过竣工验收"
    detail = (
        f"所针对的原项目「{predecessor.title}」（{predecessor.id}）{state}，不得申报相关升级、扩容和运维项目"
    )
    return [policy.refusal(jurisdiction, BARS, "predecessor_not_accepted", detail)]


def predecessor_unnamed(policy: PolicyRegistry, jurisdiction: str, acceptance_ref: str) -> list[Reason]:
    """bayingolin §25 cannot be checked unless the declaration says which system it builds on."""
    if acceptance_ref.strip():
        return []
    detail = (
        "升级、扩容和运维项目须注明所针对的原项目（predecessor_id），原系统不在本系统中的须填写其竣工验收文号"
    )
    return [policy.refusal(jurisdiction, BARS, "predecessor_required", detail)]


def predecessor_outside(policy: PolicyRegistry, jurisdiction: str, acceptance_ref: str) -> list[Reason]:
    """A system older than this record: its acceptance document is for the authority to verify."""
    if not acceptance_ref.strip():
        return []
    detail = f"原系统不在本系统中，申报称其已通过竣工验收（{acceptance_ref}），请主管部门核实"
    return [policy.refusal(jurisdiction, BARS, "predecessor_outside_system", detail)]


def _similar(a: str, b: str) -> float:
    return SequenceMatcher(None, a, b).ratio() if a and b else 0.0


def likely_splits(
    policy: PolicyRegistry, jurisdiction: str, project: Sibling, siblings: Sequence[Sibling]
) -> list[Reason]:
    """Flags (not refusals) for declarations that look like one project split under a threshold."""
    rule = policy.rule(jurisdiction, "intake.no_splitting")
    if not rule.applies:
        return []
    title_min = float(rule.param("title_similarity"))
    content_min = float(rule.param("content_similarity"))
    alike = [
        s
        for s in siblings
        if s.id != project.id
        and _similar(project.title, s.title) >= title_min
        and (not (project.summary and s.summary) or _similar(project.summary, s.summary) >= content_min)
    ]
    if not alike:
        return []
    group = [project, *alike]
    total = sum(p.amount_fen for p in group)
    flags = []
    for threshold in sorted(int(t) for t in rule.param("thresholds_fen")):
        if all(p.amount_fen < threshold for p in group) and total >= threshold:
            names = "、".join(f"「{p.title}」({p.id})" for p in group)
            detail = (
                f"疑似拆分申报：{names} 名称与内容相近，各自低于 {threshold / 1_000_000:g} 万元，"
                f"合计 {total / 1_000_000:g} 万元达到该限额，请主管部门核实"
            )
            flags.append(policy.refusal(jurisdiction, "intake.no_splitting", "possible_split", detail))
    return flags
