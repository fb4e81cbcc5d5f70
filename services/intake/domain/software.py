"""软件费用 — how a declaration budgets its business software, and what the pack says of it:
lhasa §11 原则上不再支持业务系统软件的原始开发，其二次开发和实施费用不再单列，均列入软件采购费.
Where the pack marks the rule `in_principle`, its refusals are the suite's recommendation: the
authority screening the declaration may depart from them with a reason and a document."""

from __future__ import annotations

from shared.policy import PolicyRegistry, Reason

RULE = "intake.no_original_development"


def software_cost_refusals(
    policy: PolicyRegistry, jurisdiction: str, original_development: bool, fees_separate: bool
) -> list[Reason]:
    rule = policy.rule(jurisdiction, RULE)
    if not rule.applies:
        return []
    found = []
    if original_development:
        detail = f"申报包含业务系统软件的原始开发（original_development）；{rule.summary}"
        found.append(policy.refusal(jurisdiction, RULE, "original_development", detail))
    if fees_separate:
        detail = f"申报将二次开发和实施费用单列（development_fees_separate）；{rule.summary}"
        found.append(policy.refusal(jurisdiction, RULE, "development_fees_separate", detail))
    return found
